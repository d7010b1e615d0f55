/* SPDX-License-Identifier: MIT */
// main.cpp -- a C++ program using an installed libpcmup through
// find_package(pcmup CONFIG) and pcmup::pcmup (tests/consumer/run.sh).
// Handles are owned by std::unique_ptr with deleters calling pcmup_*_free.
#include <pcmup.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct ParamDeleter {
    void operator()(pcmup_param *p) const noexcept { pcmup_param_free(p); }
};
struct NetDeleter {
    void operator()(pcmup_net *n) const noexcept { pcmup_net_free(n); }
};
struct AlgoDeleter {
    void operator()(pcmup_algo *a) const noexcept { pcmup_algo_free(a); }
};
using ParamPtr = std::unique_ptr<pcmup_param, ParamDeleter>;
using NetPtr = std::unique_ptr<pcmup_net, NetDeleter>;
using AlgoPtr = std::unique_ptr<pcmup_algo, AlgoDeleter>;

void check(pcmup_status s, const char *what)
{
    if (s != PCMUP_OK)
        throw std::runtime_error(std::string(what) + ": " + pcmup_status_name(s) + " (" +
                                 pcmup_last_error() + ")");
}

void expect(bool cond, const char *what)
{
    if (!cond)
        throw std::runtime_error(what);
}

bool all_finite(const std::vector<float> &v)
{
    for (float f : v)
        if (!std::isfinite(f))
            return false;
    return true;
}

ParamPtr make_param(size_t n_layers, pcmup_preset preset)
{
    pcmup_param *p = nullptr;
    check(pcmup_param_create(&p, n_layers, preset, nullptr), "pcmup_param_create");
    return ParamPtr(p);
}

NetPtr make_net(const std::vector<size_t> &widths, const pcmup_param *param, uint64_t seed)
{
    pcmup_net *n = nullptr;
    check(pcmup_net_create(&n, widths.data(), widths.size(), PCMUP_ACT_TANH, 0, param, seed,
                           nullptr),
          "pcmup_net_create");
    return NetPtr(n);
}

AlgoPtr make_algo(pcmup_rule rule, pcmup_net *net, uint64_t seed)
{
    pcmup_algo *a = nullptr;
    check(pcmup_algo_create(&a, rule, net, seed, nullptr), "pcmup_algo_create");
    return AlgoPtr(a);
}

void run()
{
    std::printf("libpcmup %s\n", pcmup_version_string());
    expect(pcmup_version_number() == PCMUP_VERSION_NUMBER,
           "pcmup_version_number() == PCMUP_VERSION_NUMBER");

    const std::vector<size_t> widths = {4, 8, 3};
    const size_t batch = 2;
    const std::vector<float> x = {0.5f, -1.0f, 0.25f, 2.0f, -0.75f, 0.0f, 1.5f, -0.5f};
    const std::vector<int32_t> labels = {0, 2};

    ParamPtr param = make_param(widths.size() - 1, PCMUP_PRESET_MUP_SGD);
    NetPtr net = make_net(widths, param.get(), 42);

    std::vector<float> before(batch * widths.back(), NAN);
    check(pcmup_net_forward(net.get(), x.data(), x.size(), batch, before.data(), before.size()),
          "pcmup_net_forward");
    expect(all_finite(before), "forward output is finite");

    // Declared after net, so destroyed before it: the algorithm uses the net.
    AlgoPtr bp = make_algo(PCMUP_RULE_BP, net.get(), 7);
    check(pcmup_algo_set(bp.get(), PCMUP_SET_LR, 0.1), "pcmup_algo_set(LR)");
    double lr = 0;
    check(pcmup_algo_get(bp.get(), PCMUP_SET_LR, &lr), "pcmup_algo_get(LR)");
    expect(lr == 0.1, "learning rate reads back as set");

    double loss = NAN;
    check(pcmup_algo_step(bp.get(), x.data(), x.size(), labels.data(), labels.size(), &loss),
          "pcmup_algo_step");
    std::printf("BP step: loss %g\n", loss);
    expect(std::isfinite(loss) && loss >= 0, "step loss is finite and non-negative");

    std::vector<float> after(batch * widths.back(), NAN);
    check(pcmup_net_forward(net.get(), x.data(), x.size(), batch, after.data(), after.size()),
          "pcmup_net_forward");
    expect(all_finite(after), "forward output after the step is finite");
    expect(after != before, "the BP step changed the network's outputs");
}

} // namespace

int main()
{
    try {
        run();
    } catch (const std::exception &e) {
        std::fprintf(stderr, "FAIL: %s\n", e.what());
        return 1;
    }
    std::printf("main.cpp: ok\n");
    return 0;
}
