/* SPDX-License-Identifier: MIT */
// examples/quickstart.cpp: quickstart.c in C++. The same calls through the
// C API (pcmup.h is extern "C"); each handle is owned by a std::unique_ptr
// that frees it, and a failed call throws the library's message.
#include <pcmup.h>

#include <cstdio>
#include <iterator>
#include <memory>
#include <stdexcept>

namespace {

template <class T, void (*Free)(T *)> struct Deleter {
    void operator()(T *handle) const noexcept { Free(handle); }
};
using Param = std::unique_ptr<pcmup_param, Deleter<pcmup_param, pcmup_param_free>>;
using Net = std::unique_ptr<pcmup_net, Deleter<pcmup_net, pcmup_net_free>>;
using Algo = std::unique_ptr<pcmup_algo, Deleter<pcmup_algo, pcmup_algo_free>>;
using Dataset = std::unique_ptr<pcmup_dataset, Deleter<pcmup_dataset, pcmup_dataset_free>>;

// Where a C function writes a new handle: out(p) passes a pcmup_x ** and
// hands the result to p at the end of the statement (C++23: std::out_ptr).
template <class Ptr> class Out {
public:
    explicit Out(Ptr &owner) : owner_(owner) {}
    ~Out() { owner_.reset(handle_); }
    operator typename Ptr::pointer *() { return &handle_; }

private:
    Ptr &owner_;
    typename Ptr::pointer handle_ = nullptr;
};

template <class Ptr> Out<Ptr> out(Ptr &owner) { return Out<Ptr>(owner); }

void check(pcmup_status status)
{
    if (status != PCMUP_OK)
        throw std::runtime_error(pcmup_last_error());
}

} // namespace

int main()
{
    try {
        const size_t widths[] = {784, 256, 256, 10}; // 3 weight layers
        Param p;
        Net net;
        Algo bp;
        Dataset train, test;
        double loss, acc;
        check(pcmup_param_create(out(p), 3, PCMUP_PRESET_MUP_SGD, nullptr));
        check(pcmup_net_create(out(net), widths, std::size(widths), PCMUP_ACT_TANH, 0, p.get(),
                               42, nullptr));
        check(pcmup_algo_create(out(bp), PCMUP_RULE_BP, net.get(), 7, nullptr));
        check(pcmup_algo_set(bp.get(), PCMUP_SET_LR, 0.05));
        check(pcmup_dataset_load_fashion_mnist(out(train), nullptr, PCMUP_SPLIT_TRAIN, nullptr));
        check(pcmup_dataset_load_fashion_mnist(out(test), nullptr, PCMUP_SPLIT_TEST, nullptr));
        check(pcmup_algo_train_epoch(bp.get(), train.get(), 64, &loss)); // one epoch
        check(pcmup_algo_evaluate(bp.get(), test.get(), &loss, &acc));
        std::printf("test loss %.4f, accuracy %.4f\n", loss, acc);
        return 0;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
