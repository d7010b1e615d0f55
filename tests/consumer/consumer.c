/* SPDX-License-Identifier: MIT */
/*
 * consumer.c -- a C99 program built against an installed libpcmup through
 * pkg-config (tests/consumer/run.sh). It checks that the installed header
 * and library agree and that a network can be created and run.
 */
#include <pcmup.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

static int failures = 0;

static void expect_ok(pcmup_status s, const char *what)
{
    if (s != PCMUP_OK) {
        fprintf(stderr, "FAIL: %s: %s (%s)\n", what, pcmup_status_name(s), pcmup_last_error());
        failures++;
    }
}

static void expect(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "FAIL: %s\n", what);
        failures++;
    }
}

int main(void)
{
    enum { BATCH = 2, N_LAYERS = 2 };
    const size_t widths[N_LAYERS + 1] = {4, 8, 3};
    const float x[BATCH * 4] = {0.5f, -1.0f, 0.25f, 2.0f, -0.75f, 0.0f, 1.5f, -0.5f};
    float out[BATCH * 3];
    pcmup_param *param = NULL;
    pcmup_net *net = NULL;
    size_t i;

    printf("libpcmup %s (header %d.%d.%d)\n", pcmup_version_string(), PCMUP_VERSION_MAJOR,
           PCMUP_VERSION_MINOR, PCMUP_VERSION_PATCH);
    expect(pcmup_version_number() == PCMUP_VERSION_NUMBER,
           "pcmup_version_number() == PCMUP_VERSION_NUMBER");
    expect(strcmp(pcmup_status_name(PCMUP_ERR_SHAPE), "PCMUP_ERR_SHAPE") == 0,
           "pcmup_status_name(PCMUP_ERR_SHAPE)");

    expect_ok(pcmup_param_create(&param, N_LAYERS, PCMUP_PRESET_MUP_SGD, NULL),
              "pcmup_param_create");
    if (param != NULL)
        expect_ok(pcmup_net_create(&net, widths, N_LAYERS + 1, PCMUP_ACT_TANH, 0, param, 42,
                                   NULL),
                  "pcmup_net_create");
    if (net != NULL) {
        for (i = 0; i < BATCH * 3; i++)
            out[i] = NAN;
        expect_ok(pcmup_net_forward(net, x, BATCH * 4, BATCH, out, BATCH * 3),
                  "pcmup_net_forward");
        for (i = 0; i < BATCH * 3; i++)
            expect(isfinite(out[i]), "forward output is finite");
        printf("forward: [%g %g %g] [%g %g %g]\n", out[0], out[1], out[2], out[3], out[4],
               out[5]);
    }

    /* A failing call reports a status and a message instead of crashing. */
    expect(pcmup_net_forward(NULL, x, BATCH * 4, BATCH, out, BATCH * 3) != PCMUP_OK,
           "pcmup_net_forward(NULL, ...) fails");
    /* A count that does not match the shape is an error, not a read past x. */
    if (net != NULL)
        expect(pcmup_net_forward(net, x, BATCH * 4 - 1, BATCH, out, BATCH * 3)
                   == PCMUP_ERR_SHAPE,
               "pcmup_net_forward with a short x_count is PCMUP_ERR_SHAPE");
    expect(pcmup_last_error()[0] != '\0', "pcmup_last_error() is set after a failure");

    pcmup_net_free(net);
    pcmup_param_free(param);
    pcmup_net_free(NULL); /* destructors accept NULL */
    pcmup_param_free(NULL);

    if (failures != 0) {
        fprintf(stderr, "consumer.c: %d check(s) failed\n", failures);
        return 1;
    }
    printf("consumer.c: ok\n");
    return 0;
}
