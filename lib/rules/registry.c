/* SPDX-License-Identifier: MIT */
/*
 * registry.c -- the table of learning rules, and the reference directions
 * of the alignment diagnostics. A new rule is one line here (and its file).
 */
#include "rules/rule.h"

/* Each defined in its own file of lib/rules/. */
extern const pcmup_rule_ops pcmup__rule_bp, pcmup__rule_pc, pcmup__rule_gnt, pcmup__rule_tp,
    pcmup__rule_dtp;

/* Indexed by pcmup_rule. */
static const pcmup_rule_ops *const rules[] = {
    [PCMUP_RULE_BP] = &pcmup__rule_bp,
    [PCMUP_RULE_PC] = &pcmup__rule_pc,
    [PCMUP_RULE_GNT] = &pcmup__rule_gnt,
    [PCMUP_RULE_TP] = &pcmup__rule_tp,
    [PCMUP_RULE_DTP] = &pcmup__rule_dtp,
};
#define N_RULES (sizeof rules / sizeof rules[0])

size_t pcmup__rule_count(void)
{
    return N_RULES;
}

const pcmup_rule_ops *pcmup__rule_at(size_t id)
{
    return id < N_RULES ? rules[id] : NULL;
}

pcmup_status pcmup__algo_rule_of(pcmup_rule id, const pcmup_rule_ops **rule,
                                 const char *func)
{
    const pcmup_rule_ops *found = pcmup__rule_at((unsigned)id);
    if (!found)
        return pcmup__fail(PCMUP_ERR_INVALID, func, "unknown rule %d", (int)id);
    assert(found->id == id);
    *rule = found;
    return PCMUP_OK;
}

/* GN is GNT's step with e_B = 1, the batch variant and the output layer
 * preconditioned (pcmup.h, pcmup_reference); its damping is the caller's
 * when the caller is a GNT rule. */
static const pcmup_setting gn_fixed[] = {PCMUP_SET_GNT_POWER, PCMUP_SET_GNT_VARIANT,
                                         PCMUP_SET_GNT_OUTPUT};

static const pcmup_reference_rule references[] = {
    [PCMUP_REFERENCE_BP] = {PCMUP_RULE_BP, NULL, 0},
    [PCMUP_REFERENCE_GN] = {PCMUP_RULE_GNT, gn_fixed, sizeof gn_fixed / sizeof gn_fixed[0]},
};

const pcmup_reference_rule *pcmup__reference_rule(pcmup_reference ref)
{
    if ((unsigned)ref >= sizeof references / sizeof references[0])
        return NULL;
    return &references[ref];
}
