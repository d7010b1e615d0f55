/* SPDX-License-Identifier: MIT */
/*
 * sweep_summary.h -- the best learning rate per width, from pcmup-sweep's
 * rows (the table of pcmup-sweep and pcmup-sweep --summary).
 */
#ifndef PCMUP_SWEEP_SUMMARY_H
#define PCMUP_SWEEP_SUMMARY_H

#include <stdio.h>

#include "jsonl.h"

/* For every config among the rows (or only `config` when not NULL), in
 * the order they first appear: per width, the best lr by `metric` (the
 * largest value among the rows that did not diverge when the key's name
 * contains "acc", such as test_acc, else the smallest, such as
 * train_loss; ties go to the smaller lr), that value, and how many of the
 * width's lrs diverged; then
 * how far the best lr moved from the smallest to the largest width, in
 * log2 and in grid steps (the smallest spacing of the config's log2_lr
 * values). Rows without a config key are not pcmup-sweep's and are
 * skipped. */
void sweep_summary_print(FILE *out, const jsonl_row *rows, size_t n_rows,
                         const char *config, const char *metric);

#endif /* PCMUP_SWEEP_SUMMARY_H */
