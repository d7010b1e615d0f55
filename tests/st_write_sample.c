/* SPDX-License-Identifier: MIT */
/*
 * st_write_sample.c -- writes the safetensors file that st_numpy_check.py
 * reads with NumPy alone: a reader that is not libpcmup's must find the
 * tensors, shapes, values and metadata written here.
 *
 *     st_write_sample PATH
 *
 * Tensor k's element i is the float of sample_value(k, i) below, which the
 * Python script computes the same way (exactly representable values).
 */
#include "checkpoint/safetensors.h"

#include <stdio.h>

static float sample_value(size_t k, size_t i)
{
    return (float)((double)(k + 1) * 0.5 + (double)i * 0.25 - 3.0);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: st_write_sample PATH\n");
        return 2;
    }
    static float values[5][2 * 3 * 4 * 5];
    pcmup__st_tensor t[5] = {
        {"scalar", 0, {0}, values[0]},
        {"layer1.weight", 2, {3, 4}, values[1]},
        {"empty", 2, {0, 3}, values[2]},
        {"conv.\xc3\xa9", 4, {2, 3, 4, 5}, values[3]},
        {"bias", 1, {7}, values[4]},
    };
    for (size_t k = 0; k < 5; k++)
        for (size_t i = 0; i < pcmup__st_floats(&t[k]); i++)
            values[k][i] = sample_value(k, i);
    pcmup__st_meta m[] = {{"format", "pt"}, {"note", "\"quoted\" \xe2\x82\xac\n"}};
    if (pcmup__st_write(argv[1], t, 5, m, 2, NULL, "st_write_sample") != PCMUP_OK) {
        fprintf(stderr, "%s\n", pcmup_last_error());
        return 1;
    }
    return 0;
}
