// tests/test_optimizers.cpp — the reference Adam and SGD against hand
// computations, and the learning-rate schedules at known steps. (The fast
// optimizers are held to these in tests/test_fast.cpp.)
#include <cmath>

#include "catch.hpp"
#include "helpers.h"
#include "fast/thread_pool.h"
#include "nn/adam.h"
#include "nn/optimizer.h"
#include "nn/schedule.h"
#include "nn/sgd.h"

using namespace reference;

TEST_CASE("one Adam step matches a hand computation, and a second with a zero gradient", "[adam]") {
    AdamConfig c;  // lr 1e-4, betas 0.9 / 0.999, eps 1e-7
    float w[2] = {1.0f, -2.0f}, m[2] = {0, 0}, v[2] = {0, 0};
    const float g[2] = {0.5f, -0.25f};
    adam_update(w, m, v, g, 2, 1, c);
    // Step 1: m = 0.1 g, v = 0.001 g², m̂ = g, v̂ = g², w -= lr * g / (|g| + eps)
    CHECK(m[0] == Approx(0.05));
    CHECK(m[1] == Approx(-0.025));
    CHECK(v[0] == Approx(0.001 * 0.25).epsilon(1e-6));
    CHECK(v[1] == Approx(0.001 * 0.0625).epsilon(1e-6));
    CHECK(w[0] == Approx(1.0 - 1e-4 * 0.5 / (0.5 + 1e-7)).epsilon(1e-7));
    CHECK(w[1] == Approx(-2.0 + 1e-4 * 0.25 / (0.25 + 1e-7)).epsilon(1e-7));
    // Step 2 with gradient 0: m = 0.045, v = 0.000999 * 0.25, bias corrections 0.19 and 0.001999.
    const float zero[2] = {0, 0};
    const float w0 = w[0];
    adam_update(w, m, v, zero, 2, 2, c);
    const double mhat = 0.045 / 0.19, vhat = 0.000999 * 0.25 / (1 - 0.999 * 0.999);
    CHECK(w[0] == Approx(w0 - 1e-4 * mhat / (std::sqrt(vhat) + 1e-7)).epsilon(1e-7));
}

TEST_CASE("Adam's epsilon: added to sqrt(v-hat), outside the root, and it matters for tiny gradients", "[adam]") {
    // With |g| = eps = 1e-7, step 1 moves w by lr * g / (|g| + eps) = lr / 2
    // exactly. With eps inside the root the step would be lr * g / sqrt(g² + eps)
    // ≈ 3e-4 * lr; without eps, lr.
    AdamConfig c;
    float w[2] = {0.0f, 0.0f}, m[2] = {0, 0}, v[2] = {0, 0};
    const float g[2] = {1e-7f, -1e-7f};
    adam_update(w, m, v, g, 2, 1, c);
    CHECK(w[0] == Approx(-c.lr * 1e-7 / (1e-7 + 1e-7)).epsilon(1e-5));
    CHECK(w[1] == Approx(c.lr * 1e-7 / (1e-7 + 1e-7)).epsilon(1e-5));
    // eps = 1 and |g| = 1e-3: lr * g / (|g| + 1) differs from lr * g / sqrt(g² + 1)
    // by 0.1%, far beyond the 1e-5 tolerance.
    c.eps = 1.0;
    c.lr = 1e-2;
    float w2 = 0.0f, m2 = 0.0f, v2 = 0.0f;
    const float g2 = 1e-3f;
    adam_update(&w2, &m2, &v2, &g2, 1, 1, c);
    CHECK(w2 == Approx(-1e-2 * 1e-3 / (1e-3 + 1.0)).epsilon(1e-5));
    // Step 2, gradient 1e-3 again: m = 0.19e-3, v = 1.999e-9, bias corrections
    // 0.19 and 0.001999, so m-hat = 1e-3 and v-hat = 1e-6: the same step again.
    adam_update(&w2, &m2, &v2, &g2, 1, 2, c);
    CHECK(w2 == Approx(-2 * 1e-2 * 1e-3 / (1e-3 + 1.0)).epsilon(1e-5));
}

TEST_CASE("Adam with other betas: the moments decay by beta and the corrections use them", "[adam]") {
    AdamConfig c;
    c.lr = 0.1;
    c.beta1 = 0.5;
    c.beta2 = 0.75;
    c.eps = 0.0;
    float w = 0.0f, m = 0.0f, v = 0.0f;
    const float g1 = 2.0f, g2 = -1.0f;
    adam_update(&w, &m, &v, &g1, 1, 1, c);
    CHECK(m == Approx(1.0));  // 0.5 * 2
    CHECK(v == Approx(1.0));  // 0.25 * 4
    CHECK(w == Approx(-0.1));  // m̂ = 2, v̂ = 4: lr * 2 / 2
    adam_update(&w, &m, &v, &g2, 1, 2, c);
    // m = 0.5 - 0.5 = 0, so the step is 0 whatever v is
    CHECK(m == Approx(0.0).margin(1e-7));
    CHECK(v == Approx(0.75 + 0.25));
    CHECK(w == Approx(-0.1));
}

TEST_CASE("AdamW's decoupled weight decay shrinks w by lr * wd * w besides the Adam step", "[adam]") {
    AdamConfig c;
    c.lr = 1e-2;
    c.weight_decay = 0.1;
    float w[2] = {1.0f, -2.0f}, m[2] = {0, 0}, v[2] = {0, 0};
    const float g[2] = {0.5f, 0.0f};
    adam_update(w, m, v, g, 2, 1, c);
    // Step 1: w * (1 - 1e-3) - lr * g / (|g| + eps); a zero gradient still shrinks.
    CHECK(w[0] == Approx(1.0 * (1 - 1e-3) - 1e-2 * 0.5 / (0.5 + 1e-7)).epsilon(1e-6));
    CHECK(w[1] == Approx(-2.0 * (1 - 1e-3)).epsilon(1e-6));
}

TEST_CASE("SGD with momentum: velocity = momentum * velocity + g, w -= lr * velocity", "[sgd]") {
    SgdConfig c;
    c.lr = 0.1;
    c.momentum = 0.9;
    float w[2] = {1.0f, -1.0f}, velocity[2] = {0, 0};
    const float g1[2] = {0.5f, 0.25f}, g2[2] = {1.0f, 0.0f};
    sgd_update(w, velocity, g1, 2, c);  // velocity = g1
    CHECK(w[0] == Approx(1.0 - 0.1 * 0.5));
    CHECK(w[1] == Approx(-1.0 - 0.1 * 0.25));
    sgd_update(w, velocity, g2, 2, c);  // velocity = 0.9 g1 + g2
    CHECK(velocity[0] == Approx(0.9 * 0.5 + 1.0));
    CHECK(velocity[1] == Approx(0.9 * 0.25));
    CHECK(w[0] == Approx(1.0 - 0.05 - 0.1 * 1.45));
    CHECK(w[1] == Approx(-1.025 - 0.1 * 0.225));  // no gradient, still moving: momentum
    c.weight_decay = 0.5;  // shrink by lr * 0.5 * w = 5% of w
    float w3 = 2.0f, velocity3 = 0.0f;
    const float g3 = 0.0f;
    sgd_update(&w3, &velocity3, &g3, 1, c);
    CHECK(w3 == Approx(2.0 * 0.95));
}

TEST_CASE("learning-rate schedules: warm-up, step, cosine and one-cycle at known steps", "[schedule]") {
    Schedule s{ScheduleKind::Constant, 0.1, 0, 100};
    CHECK(learning_rate(s, 1) == 0.1);
    CHECK(learning_rate(s, 100) == 0.1);
    s.warmup = 10;  // linear from lr/10 to lr over the first 10 steps
    CHECK(learning_rate(s, 1) == Approx(0.01));
    CHECK(learning_rate(s, 5) == Approx(0.05));
    CHECK(learning_rate(s, 10) == Approx(0.1));
    CHECK(learning_rate(s, 11) == 0.1);
    s = {ScheduleKind::Step, 0.1, 0, 100};
    CHECK(learning_rate(s, 50) == Approx(0.1));    // t = 50 of T = 100: not past half
    CHECK(learning_rate(s, 51) == Approx(0.01));
    CHECK(learning_rate(s, 75) == Approx(0.01));
    CHECK(learning_rate(s, 76) == Approx(0.001));
    s.warmup = 20;  // the steps count from the end of the warm-up: T = 80
    CHECK(learning_rate(s, 60) == Approx(0.1));
    CHECK(learning_rate(s, 61) == Approx(0.01));
    s = {ScheduleKind::Cosine, 0.1, 0, 100};
    CHECK(learning_rate(s, 1) == Approx(0.1));
    CHECK(learning_rate(s, 51) == Approx(0.05));   // half-way: half the rate
    CHECK(learning_rate(s, 100) == Approx(0.1 * 0.5 * (1 + std::cos(3.14159265358979 * 0.99))));
    s.warmup = 20;  // cosine over the 80 steps after the warm-up
    CHECK(learning_rate(s, 21) == Approx(0.1));
    CHECK(learning_rate(s, 61) == Approx(0.05));
    s = {ScheduleKind::OneCycle, 0.1, 0, 101};         // f = (step - 1) / 100
    CHECK(learning_rate(s, 1) == Approx(0.1 / 25));
    CHECK(learning_rate(s, 16) == Approx(0.1 / 25 + (0.1 - 0.1 / 25) * 0.5));  // half-way up
    CHECK(learning_rate(s, 31) == Approx(0.1));        // the peak at 30%
    CHECK(learning_rate(s, 66) == Approx(0.1 / 25 / 1e4 + (0.1 - 0.1 / 25 / 1e4) * 0.5));  // half-way down
    CHECK(learning_rate(s, 101) == Approx(0.1 / 25 / 1e4));  // the last step
    s.total = 1;  // a run of one step is all at its end: the last value, not 0/0
    CHECK(learning_rate(s, 1) == Approx(0.1 / 25 / 1e4));
    ScheduleKind kind;
    CHECK(schedule_from_name("cosine", &kind));
    CHECK(kind == ScheduleKind::Cosine);
    for (ScheduleKind k : {ScheduleKind::Constant, ScheduleKind::Step, ScheduleKind::Cosine, ScheduleKind::OneCycle}) {
        CHECK(schedule_from_name(schedule_name(k), &kind));
        CHECK(kind == k);
    }
    CHECK_FALSE(schedule_from_name("linear", &kind));
}

namespace {

// Calls body(config, kernels) for Adam and SGD (lr 0.01) with each kernel
// set, the pair named in the test's report.
template <typename Body>
void for_each_optimizer(Body body) {
    for (OptimizerKind kind : {OptimizerKind::Adam, OptimizerKind::Sgd})
        for (KernelSet kernels : {KernelSet::Fast, KernelSet::Reference}) {
            INFO((kind == OptimizerKind::Adam ? "Adam" : "SGD") << (kernels == KernelSet::Fast ? ", fast" : ", reference"));
            OptimizerConfig config;
            config.kind = kind;
            config.set_lr(0.01);
            body(config, kernels);
        }
}

}  // namespace

TEST_CASE("a block update changes exactly its rows, as updating each row's range would, for Adam and SGD, "
          "fast and reference",
          "[adam][sgd]") {
    // A block of 3 rows of 4 parameters, 7 apart, from index 9 of 40: the
    // shape of what the fused conv backward hands the optimizer as each block
    // of dW's columns completes (all OC rows, a few columns).
    const int64_t n = 40, first = 9, stride = 7;
    const int rows = 3, cols = 4;
    for_each_optimizer([&](const OptimizerConfig& config, KernelSet kernels) {
        auto blocked = random_vector(n, 3), by_rows = blocked;
        OptimizerState blocked_state(n), rows_state(n);
        for (int step = 1; step <= 2; ++step) {
            const auto g = random_vector(n, 20 + step);
            ++blocked_state.step;
            ++rows_state.step;
            optimizer_update_block(blocked.data(), g.data(), first, rows, cols, stride, blocked_state, config,
                                   kernels);
            for (int r = 0; r < rows; ++r)
                optimizer_update_range(by_rows.data(), g.data(), first + r * stride, cols, rows_state, config,
                                       kernels, ThreadPool::serial());
        }
        CHECK(blocked == by_rows);
        CHECK(blocked_state.m == rows_state.m);
        CHECK(blocked_state.v == rows_state.v);
        const auto before = random_vector(n, 3);
        for (int64_t i = 0; i < n; ++i) {
            const int64_t row = (i - first) / stride, col = (i - first) % stride;
            const bool inside = i >= first && row < rows && col < cols;
            INFO("parameter " << i);
            CHECK((blocked[i] != before[i]) == inside);
        }
    });
}

TEST_CASE("updating layer by layer is one update of every parameter, for Adam and SGD, fast and reference",
          "[adam][sgd]") {
    // Three "layers" of different sizes back to back, as train_step updates
    // them: each range must read and write its own slice of the moments.
    const int64_t sizes[] = {37, 1000, 5};
    const int64_t n = 37 + 1000 + 5;
    for_each_optimizer([&](const OptimizerConfig& config, KernelSet kernels) {
        ThreadPool pool(2);
        auto ranged = random_vector(n, 1), whole = ranged;
        OptimizerState ranged_state(n), whole_state(n);
        for (int step = 1; step <= 3; ++step) {
            const auto g = random_vector(n, 10 + step);
            ++ranged_state.step;
            ++whole_state.step;
            int64_t first = 0;
            for (int64_t size : sizes) {
                optimizer_update_range(ranged.data(), g.data(), first, size, ranged_state, config, kernels, pool);
                first += size;
            }
            optimizer_update_range(whole.data(), g.data(), 0, n, whole_state, config, kernels, pool);
        }
        CHECK(ranged == whole);
        CHECK(ranged_state.m == whole_state.m);
        CHECK(ranged_state.v == whole_state.v);
        CHECK(ranged != random_vector(n, 1));  // the weights did move
    });
}
