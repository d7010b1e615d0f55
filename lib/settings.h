/* SPDX-License-Identifier: MIT */
/*
 * settings.h -- the row that describes one setting. settings.c holds the
 * rows every rule accepts (lr, loss, ...); each rule's file holds its own
 * and points its pcmup_rule_ops at them (rules/rule.h). settings.c answers
 * every question about settings by scanning those tables.
 */
#ifndef PCMUP_SETTINGS_H
#define PCMUP_SETTINGS_H

#include "internal.h"

/* Which ends of [lo, hi] are excluded (a row's `open`). */
enum { PCMUP_LO_OPEN = 1, PCMUP_HI_OPEN = 2 };

/* A row's `flags`. */
enum {
    PCMUP_WHOLE = 1,     /* whole numbers only */
    PCMUP_PER_LAYER = 2  /* one value per hidden layer */
};

/* An enum-valued setting's values: names[v] names value v, NULL for a
 * value in between that the setting refuses. Its bounds are the first and
 * last named values. */
typedef struct {
    const char *const *names;
    size_t count;
} pcmup_value_names;

#define PCMUP_VALUES(array) {(array), sizeof(array) / sizeof((array)[0])}

/* One setting. Keys are unique across all tables; the key is the
 * setting's slot in algo->settings, so it stays below PCMUP_SETTINGS_CAP
 * (algo.h). */
typedef struct {
    pcmup_setting key;
    const char *name;
    const char *description;
    pcmup_setting_group group;
    double fallback;            /* the default */
    double lo, hi;              /* bounds, unless the setting has value names */
    unsigned open;              /* PCMUP_LO_OPEN, PCMUP_HI_OPEN */
    unsigned flags;             /* PCMUP_WHOLE, PCMUP_PER_LAYER */
    pcmup_value_names values;   /* {NULL, 0} unless enum-valued */
} pcmup_setting_row;

#endif
