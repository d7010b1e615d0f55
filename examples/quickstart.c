/* SPDX-License-Identifier: MIT */
/* examples/quickstart.c: a muP network learns FashionMNIST with BP. */
#include <pcmup.h>
#include <stdio.h>

/* Every call returns a pcmup_status; on a failure, stop and say why. */
#define CHECK(call)                                                    \
    do {                                                               \
        if ((status = (call)) != PCMUP_OK)                             \
            goto done;                                                 \
    } while (0)

int main(void)
{
    pcmup_param *p = NULL;   pcmup_net *net = NULL;   pcmup_algo *bp = NULL;
    pcmup_dataset *train = NULL, *test = NULL;
    size_t widths[] = {784, 256, 256, 10};          /* 3 weight layers */
    double loss, acc;
    pcmup_status status;

    CHECK(pcmup_param_create(&p, 3, PCMUP_PRESET_MUP_SGD, NULL));
    CHECK(pcmup_net_create(&net, widths, 4, PCMUP_ACT_TANH, 0, p, 42, NULL));
    CHECK(pcmup_algo_create(&bp, PCMUP_RULE_BP, net, 7, NULL));
    CHECK(pcmup_algo_set(bp, PCMUP_SET_LR, 0.05));
    CHECK(pcmup_dataset_load_fashion_mnist(&train, NULL, PCMUP_SPLIT_TRAIN, NULL));
    CHECK(pcmup_dataset_load_fashion_mnist(&test,  NULL, PCMUP_SPLIT_TEST,  NULL));
    CHECK(pcmup_algo_train_epoch(bp, train, 64, &loss));    /* one epoch */
    CHECK(pcmup_algo_evaluate(bp, test, &loss, &acc));
    printf("test loss %.4f, accuracy %.4f\n", loss, acc);
done:
    if (status != PCMUP_OK)
        fprintf(stderr, "%s\n", pcmup_last_error());
    /* Destructors accept NULL: this frees whatever was created. */
    pcmup_algo_free(bp); pcmup_net_free(net); pcmup_param_free(p);
    pcmup_dataset_free(train); pcmup_dataset_free(test);
    return status == PCMUP_OK ? 0 : 1;
}
