/* SPDX-License-Identifier: MIT */
/*
 * sanitizer_canary.c -- one deliberate bug per mode, for the sanitizer
 * builds (cmake -DPCMUP_SANITIZE=..., docs/testing.md). ctest runs each
 * mode through sanitizer_canary.sh, which requires the sanitizers' exit
 * status (86, cmake/Sanitize.cmake) and their report. A sanitizer build
 * whose flags or options got lost would pass the whole suite without
 * checking anything; these tests fail instead. The bugs sit inside
 * libpcmup where they can, so they also show that the library itself,
 * not only the test programs, is instrumented.
 *
 *   overflow   a labels array one element short: libpcmup's label check
 *              reads past it (AddressSanitizer)
 *   leak       a network never freed (LeakSanitizer)
 *   undefined  a signed overflow in this program; libpcmup has no way to
 *              provoke one on purpose (UndefinedBehaviorSanitizer)
 *   race       two threads run forward passes through one network at once,
 *              which pcmup.h forbids (ThreadSanitizer)
 */
#include <pcmup.h>

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 4
static const size_t widths[] = {5, 8, 3};
static float x[BATCH * 5];

static pcmup_net *make_net(void)
{
    pcmup_param *p;
    pcmup_net *net;
    if (pcmup_param_create(&p, 2, PCMUP_PRESET_SP, NULL) != PCMUP_OK ||
        pcmup_net_create(&net, widths, 3, PCMUP_ACT_TANH, 0, p, 1, NULL) != PCMUP_OK) {
        fprintf(stderr, "sanitizer_canary: %s\n", pcmup_last_error());
        exit(2);
    }
    pcmup_param_free(p);
    return net;
}

static int overflow(void)
{
    pcmup_net *net = make_net();
    pcmup_algo *algo;
    if (pcmup_algo_create(&algo, PCMUP_RULE_BP, net, 1, NULL) != PCMUP_OK)
        return 2;
    int32_t *labels = calloc(BATCH - 1, sizeof *labels);
    pcmup_algo_step(algo, x, BATCH * 5, labels, BATCH, NULL);
    free(labels);
    pcmup_algo_free(algo);
    pcmup_net_free(net);
    return 0;
}

static int leak(void)
{
    pcmup_net *volatile net = make_net();
    net = NULL;
    return net != NULL;
}

static int undefined(void)
{
    volatile int big = INT_MAX;
    volatile int sum = big + 1;
    return sum == 0;
}

static void *forward(void *net)
{
    float out[BATCH * 3];
    pcmup_net_forward(net, x, BATCH * 5, BATCH, out, BATCH * 3);
    return NULL;
}

static int race(void)
{
    pcmup_net *net = make_net();
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, forward, net);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pcmup_net_free(net);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(void);
    } modes[] = {{"overflow", overflow}, {"leak", leak}, {"undefined", undefined},
                 {"race", race}};
    for (size_t i = 0; argc == 2 && i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(argv[1], modes[i].name) == 0) {
            int status = modes[i].run();
            /* Reached only if the sanitizer missed the bug (or, for a
             * leak, reports it at exit). */
            printf("sanitizer_canary %s: the bug ran to the end\n", argv[1]);
            return status;
        }
    fprintf(stderr, "usage: sanitizer_canary overflow|leak|undefined|race\n");
    return 2;
}
