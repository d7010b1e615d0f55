/* SPDX-License-Identifier: MIT */
/*
 * settings_table.c -- the library's settings table as text, for
 * docs/gen_api.sh (the settings table of docs/api.md) and its test. One
 * tab-separated line per setting, in key order:
 *
 *   key number, name, default, accepted values, rules
 *
 * Everything comes from the library (pcmup_setting_*), so the docs state
 * no default or range of their own. Not installed.
 */
#include <stdio.h>

#include "pcmup.h"
#include "train_options.h"

/* "[0, 1)", "(0, 1000000]", "whole numbers in [1, 10000]", or the value
 * names of an enum-valued setting. */
static void print_range(pcmup_setting key)
{
    const pcmup_bounds b = pcmup_setting_bounds(key);
    char names[256];
    train_value_names(key, ", ", names, sizeof names);
    if (names[0] != '\0') {
        fputs(names, stdout);
        return;
    }
    if (b.integral && b.lo == 0.0 && b.hi == 1.0) {
        fputs("0 or 1", stdout);
        return;
    }
    printf("%s%c%.10g, %.10g%c", b.integral ? "whole numbers in " : "", b.lo_open ? '(' : '[',
           b.lo, b.hi, b.hi_open ? ')' : ']');
}

static void print_default(pcmup_setting key)
{
    double v = 0.0;
    const char *name;
    (void)pcmup_setting_default(key, &v);
    if (pcmup_setting_value_name(key, v, &name) == PCMUP_OK)
        fputs(name, stdout);
    else
        printf("%.10g", v);
}

int main(void)
{
    for (size_t i = 0; i < pcmup_setting_count(); i++) {
        pcmup_setting key = PCMUP_SET_LR;
        const char *name = "";
        char rules[128];
        if (pcmup_setting_at(i, &key) != PCMUP_OK || pcmup_setting_name(key, &name) != PCMUP_OK) {
            fprintf(stderr, "settings_table: %s\n", pcmup_last_error());
            return 1;
        }
        train_rules_text(key, rules, sizeof rules);
        printf("%d\t%s\t", (int)key, name);
        print_default(key);
        putchar('\t');
        print_range(key);
        printf("\t%s\n", rules);
    }
    return 0;
}
