// tests/test_model.cpp — the whole network: layer table and parameter counts,
// the full backward against finite differences (skipping ReLU and max-pool
// kinks), bit-identical training for 1 and 3 threads, and a loss that falls
// on a small synthetic set.
#include <cstring>

#include "catch.hpp"
#include "fast/simd.h"
#include "fast/thread_pool.h"
#include "helpers.h"
#include "nn/adam.h"
#include "nn/model.h"
#include "nn/train_step.h"

namespace {

// What decides the piecewise-linear parts: every ReLU's sign and every
// pooling window's winner. Equal signatures mean no kink was crossed.
std::vector<int32_t> kink_signature(const Model& m, int n) {
    std::vector<int32_t> sig;
    for (const ConvLayer& a : m.conv) {
        const int64_t per_image = a.out.size() / m.max_batch;
        for (int64_t i = 0; i < per_image * n; ++i) sig.push_back(a.out.data[i] > 0);
        const int64_t pooled_per_image = a.argmax.size() / m.max_batch;
        for (int64_t i = 0; i < pooled_per_image * n; ++i) sig.push_back(a.argmax.data[i]);
    }
    for (int d = 0; d + 1 < kDenseLayers; ++d)
        for (int64_t i = 0; i < static_cast<int64_t>(n) * m.dense[d].out_features; ++i)
            sig.push_back(m.dense[d].out.data[i] > 0);
    return sig;
}

void train_steps(Model& model, int steps, int batch, double lr, ThreadPool& pool, uint64_t data_seed,
                 std::vector<float>* losses = nullptr) {
    const SyntheticDigits digits(99);
    Rng rng(data_seed);
    OptimizerState state(model.parameter_count());
    std::vector<float> input;
    std::vector<uint8_t> labels;
    OptimizerConfig adam;
    adam.adam.lr = lr;
    const int S = model.config.image_size, C = model.config.channels;
    for (int step = 1; step <= steps; ++step) {
        digits.batch(input, labels, batch, S, rng);
        if (C > 1) {  // grey replicated to C channels, as preprocessing does
            std::vector<float> channels(static_cast<size_t>(batch) * C * S * S);
            for (int i = 0; i < batch; ++i)
                for (int c = 0; c < C; ++c)
                    std::copy(input.begin() + static_cast<int64_t>(i) * S * S, input.begin() + static_cast<int64_t>(i + 1) * S * S,
                              channels.begin() + (static_cast<int64_t>(i) * C + c) * S * S);
            input = channels;
        }
        const StepResult r = train_step(model, input.data(), labels.data(), batch, state, adam, pool);
        if (losses) losses->push_back(static_cast<float>(r.loss));
    }
}

// For the gradient checks: a small model (filters 2, 39x39) with small
// non-zero biases, so that their gradients are exercised off the zero point,
// and one batch of n synthetic digits.
struct GradcheckSetup {
    Model model;
    std::vector<float> input;
    std::vector<uint8_t> labels;
    int n;
    explicit GradcheckSetup(int batch, ModelConfig config = ModelConfig{2, 39, 1, 10})
        : model(config, batch), n(batch) {
        model.init_weights(5);
        for (const ParamInfo& p : model.param_info)
            if (p.shape.size() == 1)
                for (int64_t i = 0; i < p.size; ++i) model.params[p.offset + i] = 0.01f * static_cast<float>(i % 5);
        const SyntheticDigits digits(3);
        Rng rng(4);
        digits.batch(input, labels, n, 39, rng);
    }
    double loss(ThreadPool& pool) {
        model.forward(input.data(), n, pool);
        return model.loss(labels.data(), n, nullptr);
    }
};

// For every parameter tensor: moves it along its own gradient u = g / |g| and
// checks (L(w + h u) - L(w - h u)) / 2h against g · u = |g|. model.grads must
// hold the gradient at the current parameters.
void check_each_tensor_along_its_gradient(GradcheckSetup& setup, ThreadPool& pool) {
    Model& model = setup.model;
    const std::vector<float> grads = model.grads, params = model.params;
    for (const ParamInfo& p : model.param_info) {
        double norm2 = 0.0;
        for (int64_t i = 0; i < p.size; ++i) norm2 += static_cast<double>(grads[p.offset + i]) * grads[p.offset + i];
        const double norm = std::sqrt(norm2);
        REQUIRE(norm > 0.0);
        // w ± h u: the step h moves each weight by h |g_i| / |g|, at most h.
        auto loss_along = [&](double h) {
            for (int64_t i = 0; i < p.size; ++i)
                model.params[p.offset + i] = static_cast<float>(params[p.offset + i] + h * grads[p.offset + i] / norm);
            const double l = setup.loss(pool);
            std::copy(params.begin() + p.offset, params.begin() + p.offset + p.size, model.params.begin() + p.offset);
            return l;
        };
        const double h = 3e-4;
        const double numeric = (loss_along(h) - loss_along(-h)) / (2 * h);
        INFO(p.name << ": |g| = " << norm << ", directional derivative " << numeric);
        CHECK(numeric == Approx(norm).epsilon(0.02));
    }
}

}  // namespace

TEST_CASE("the default model has the layer table's shapes and 3,805,114 parameters", "[model]") {
    Model model(ModelConfig{}, 2);
    CHECK(model.parameter_count() == 3805114);
    CHECK(model.layout.conv[0].weight.shape == std::vector<int>{24, 1, 11, 11});
    CHECK(model.layout.conv[1].weight.shape == std::vector<int>{64, 24, 5, 5});
    CHECK(model.layout.conv[4].bias.name == "conv5.bias");
    CHECK(model.layout.dense[0].weight.shape == std::vector<int>{2304, 64});
    CHECK(model.layout.dense[3].weight.shape == std::vector<int>{10, 1024});
    CHECK(model.param_info.size() == 18);  // the same tensors in checkpoint order
    CHECK(model.param_info[10].name == "dense1.weight");
    CHECK(model.conv[0].out.shape == std::vector<int>{2, 24, 12, 12});
    CHECK(model.conv[0].pooled.shape == std::vector<int>{2, 24, 6, 6});
    CHECK(model.conv[1].pooled.shape == std::vector<int>{2, 64, 3, 3});
    CHECK(model.conv[4].pooled.shape == std::vector<int>{2, 64, 1, 1});
    // The zero-padded copies the fast convolution packs from: pad on every side.
    CHECK(model.conv[0].padded.shape.empty());  // conv1 has no padding
    CHECK(model.conv[1].padded.shape == std::vector<int>{2, 24, 6 + 2 * 2, 6 + 2 * 2});
    CHECK(model.conv[2].padded.shape == std::vector<int>{2, 64, 3 + 2 * 1, 3 + 2 * 1});
    CHECK(min_image_size() == 39);
    CHECK_THROWS_WITH(Model(ModelConfig{8, 38, 1, 10}, 1), Catch::Contains("smallest that works is 39"));
    // The seed project's larger configuration: 3 x 113 x 113, filters 64.
    CHECK(final_feature_size(113) == 3);
}

TEST_CASE("Model::timing adds each layer's time to that layer's own slot, forward and backward", "[model]") {
    ThreadPool pool(2);
    Model model(ModelConfig{2, 39, 1, 10}, 4);
    model.init_weights(3);
    LayerTimes times;
    model.timing = &times;
    train_steps(model, 1, 4, 1e-3, pool, 6);
    for (int i = 0; i < kConvLayers + kDenseLayers; ++i) {
        INFO("layer " << i);
        CHECK(times.forward[i] > 0);
        CHECK(times.backward[i] > 0);
    }
    CHECK(times.loss > 0);
    const LayerTimes once = times;
    model.timing = nullptr;  // unset: nothing more is added
    train_steps(model, 1, 4, 1e-3, pool, 6);
    CHECK(times.forward == once.forward);
    CHECK(times.backward == once.backward);
}

TEST_CASE("whole-model backward matches finite differences of the loss", "[model][gradcheck]") {
    ThreadPool pool(2);
    const int n = 3;
    GradcheckSetup setup(n);
    Model& model = setup.model;
    const std::vector<uint8_t>& labels = setup.labels;
    auto loss = [&] { return setup.loss(pool); };
    loss();
    const std::vector<int32_t> base_signature = kink_signature(model, n);
    model.backward(labels.data(), n, pool);
    const std::vector<float> analytic = model.grads;

    int checked = 0, skipped = 0;
    for (const ParamInfo& p : model.param_info) {
        int checked_here = 0;
        const int64_t stride = std::max<int64_t>(1, p.size / 12);
        for (int64_t i = 0; i < p.size; i += stride) {
            float& w = model.params[p.offset + i];
            // A smaller step if the first one crosses a kink; skip if both do.
            double plus = 0, minus = 0;
            float eps = 0;
            bool smooth = false;
            for (float step : {1e-3f, 2e-4f}) {
                eps = step;
                const float saved = w;
                w = saved + eps;
                plus = loss();
                const bool plus_smooth = kink_signature(model, n) == base_signature;
                w = saved - eps;
                minus = loss();
                const bool minus_smooth = kink_signature(model, n) == base_signature;
                w = saved;
                smooth = plus_smooth && minus_smooth;
                if (smooth) break;
            }
            if (!smooth) { ++skipped; continue; }
            const double numeric = (plus - minus) / (2.0 * eps);
            // The float forward pass rounds the loss by ~2e-8 (measured), which
            // the quotient turns into noise of ~2e-8 / step: 2e-5 at a step of
            // 1e-3, 1e-4 at 2e-4. The absolute part of the tolerance covers
            // twice that, and never less than 5e-2 * 1e-3.
            const double floor = std::max(1e-3, 2.0 * 2e-8 / eps / 5e-2);
            INFO(p.name << "[" << i << "]: analytic " << analytic[p.offset + i] << ", numeric " << numeric
                        << ", step " << eps);
            CHECK(gradients_agree(analytic[p.offset + i], numeric, 5e-2, floor));
            ++checked;
            ++checked_here;
        }
        INFO(p.name << ": " << checked_here << " checked");
        CHECK(checked_here >= 2);  // every tensor is covered
    }
    INFO("checked " << checked << ", skipped at kinks " << skipped);
    CHECK(checked > 120);
}

// The entry-by-entry check above sees small gradients only through noise:
// a gradient of 1e-4 moves the loss by 1e-7 for a step of 1e-3, the size of
// the float forward pass's rounding. This one moves a whole tensor at once
// along its own gradient, u = g / |g|: the loss then changes by |g| * h,
// a large, clean signal, and (L(w + h u) - L(w - h u)) / 2h must equal
// g · u = |g|. A gradient halved, zeroed or scaled anywhere in a tensor fails
// it, whatever the size of its entries.
TEST_CASE("each parameter tensor's gradient matches the loss change along it", "[model][gradcheck]") {
    ThreadPool pool(2);
    const int n = 4;
    GradcheckSetup setup(n);
    setup.loss(pool);
    setup.model.backward(setup.labels.data(), n, pool);
    check_each_tensor_along_its_gradient(setup, pool);
}

TEST_CASE("with LRN and overlapping 3x3 pooling, each tensor's gradient matches the loss change along it",
          "[model][gradcheck][lrn][pool]") {
    ThreadPool pool(2);
    const int n = 4;
    ModelConfig config{2, 39, 1, 10};
    config.lrn = true;
    config.pool_window = 3;
    GradcheckSetup setup(n, config);
    REQUIRE(setup.model.conv[0].normalizes());
    REQUIRE(setup.model.conv[1].normalizes());
    REQUIRE_FALSE(setup.model.conv[2].normalizes());
    // conv1's 8x8 output pools to 4x4 with windows that overlap.
    REQUIRE(setup.model.conv[0].geometry.out_h() == 8);
    setup.loss(pool);
    setup.model.backward(setup.labels.data(), n, pool);
    check_each_tensor_along_its_gradient(setup, pool);
    // Neither changes a parameter shape: the plain network's weights give other logits.
    Model plain(ModelConfig{2, 39, 1, 10}, n);
    plain.params = setup.model.params;
    plain.forward(setup.input.data(), n, pool);
    CHECK(plain.dense[kDenseLayers - 1].out.data != setup.model.dense[kDenseLayers - 1].out.data);
}

TEST_CASE("with dropout, each tensor's gradient still matches the loss change along it; evaluation has none",
          "[model][gradcheck][dropout]") {
    ThreadPool pool(2);
    const int n = 4;
    GradcheckSetup setup(n);
    Model& model = setup.model;
    model.dropout = 0.5f;
    model.dropout_seed = 3;
    model.dropout_step = 1;
    // Evaluation (training off): no dropout, whatever model.dropout says.
    setup.loss(pool);
    const std::vector<float> logits_eval(model.dense[kDenseLayers - 1].out.data);
    model.dropout = 0.0f;
    setup.loss(pool);
    CHECK(model.dense[kDenseLayers - 1].out.data == logits_eval);
    model.dropout = 0.5f;
    // Training: the masks depend on (seed, step), so repeating forward repeats them.
    model.training = true;
    setup.loss(pool);
    int dropped = 0;
    for (uint8_t k : model.dense[0].keep.data) dropped += k == 0;
    CHECK(dropped > 0);
    model.backward(setup.labels.data(), n, pool);
    check_each_tensor_along_its_gradient(setup, pool);
    model.training = false;
}

TEST_CASE("training is bit-identical with 1 and 3 threads, dropout on", "[model][determinism]") {
    ModelConfig config{4, 56, 1, 10};
    SECTION("2x2 pooling") {}
    SECTION("LRN and 3x3 pooling") {
        config.lrn = true;
        config.pool_window = 3;
    }
    std::vector<float> params_by_threads[2];
    int slot = 0;
    for (int threads : {1, 3}) {
        ThreadPool pool(threads);
        Model model(config, 8);
        model.init_weights(7);
        model.dropout = 0.5f;  // its masks must not depend on the thread count either
        model.dropout_seed = 5;
        train_steps(model, 4, 8, 1e-3, pool, 11);
        params_by_threads[slot++] = model.params;
    }
    REQUIRE(params_by_threads[0].size() == params_by_threads[1].size());
    const MaxDiff d = max_abs_diff(params_by_threads[0].data(), params_by_threads[1].data(), params_by_threads[0].size());
    INFO("max diff " << d.diff << " at " << d.index);
    CHECK(std::memcmp(params_by_threads[0].data(), params_by_threads[1].data(),
                      sizeof(float) * params_by_threads[0].size()) == 0);
}

TEST_CASE("the loss clearly falls over 300 steps on synthetic digits", "[model][training]") {
    ThreadPool pool(2);
    Model model(ModelConfig{2, 39, 1, 10}, 16);
    model.init_weights(7);
    std::vector<float> losses;
    train_steps(model, 300, 16, 1e-3, pool, 21, &losses);
    double first = 0, last = 0;
    for (int i = 0; i < 30; ++i) {
        first += losses[i] / 30;
        last += losses[losses.size() - 1 - i] / 30;
    }
    INFO("mean loss of the first 30 steps " << first << ", of the last 30 " << last);
    CHECK(first > 1.5);
    CHECK(last < 0.3 * first);
}

// The same bits on every compiler and CPU: the Makefile forbids the compiler
// to fuse multiply-adds by itself (-ffp-contract=off) and the GEMM asks for
// fused ones explicitly (simd.h), so g++ and clang++, SSE/AVX2/AVX-512 and
// NEON builds all round every operation the same way. A tiny model trained a
// few steps must end with exactly these weights, whatever built it. A build
// for a CPU without FMA (make PORTABLE=1 on x86-64) rounds each product and
// sum separately, and gets a checksum of its own, also exact.
TEST_CASE("a few training steps give the same weight bits on every compiler and CPU",
          "[model][determinism]") {
    ThreadPool pool(2);
    Model model(ModelConfig{2, 39, 1, 10}, 8);
    model.init_weights(7);
    train_steps(model, 6, 8, 1e-3, pool, 5);
    // FNV-1a, 64 bits, over the parameter bytes (little-endian floats).
    uint64_t hash = 14695981039346656037ull;
    const auto* bytes = reinterpret_cast<const unsigned char*>(model.params.data());
    for (size_t i = 0; i < model.params.size() * sizeof(float); ++i) hash = (hash ^ bytes[i]) * 1099511628211ull;
    const uint64_t expected = simd::kFusedMultiplyAdd ? 0x0061f61b378deef3ull : 0x3a4c93c707a45e25ull;
    INFO("parameter checksum " << std::hex << hash << " (" << simd::kName << " build, fused multiply-add: "
                               << simd::kFusedMultiplyAdd << ")");
    CHECK(hash == expected);
}

// ---------------------------------------------------------------------------
// The reference kernels as a whole: ./alexnet train --reference

namespace {

// Trains a copy of the model for `steps` steps with the given kernels; returns
// the losses and leaves the weights in *params.
std::vector<float> losses_with(KernelSet kernels, const ModelConfig& config, float dropout, int steps,
                               std::vector<float>* params) {
    ThreadPool pool(2);
    Model model(config, 8);
    model.kernels = kernels;
    model.init_weights(7);
    model.dropout = dropout;
    model.dropout_seed = 3;
    std::vector<float> losses;
    train_steps(model, steps, 8, 1e-3, pool, 5, &losses);
    *params = model.params;
    return losses;
}

}  // namespace

TEST_CASE("the reference kernels train to the same losses and weights as the fast ones", "[model][reference]") {
    ModelConfig config{2, 39, 1, 10};
    float dropout = 0.0f;
    SECTION("the default layers") {}
    SECTION("LRN, 3x3 pooling and dropout") {
        config.lrn = true;
        config.pool_window = 3;
        dropout = 0.5f;
    }
    SECTION("three channels and a larger input") {
        config.channels = 3;
        config.image_size = 47;
    }
    std::vector<float> fast_params, reference_params;
    const int steps = 8;
    const auto fast = losses_with(KernelSet::Fast, config, dropout, steps, &fast_params);
    const auto ref = losses_with(KernelSet::Reference, config, dropout, steps, &reference_params);
    for (int s = 0; s < steps; ++s) {
        INFO("step " << s + 1 << ": fast " << fast[s] << ", reference " << ref[s]);
        CHECK(ref[s] == Approx(fast[s]).epsilon(1e-4));
    }
    // After 8 Adam steps of lr 1e-3 each weight has moved by up to ~8e-3;
    // the two kernel sets round differently, and Adam's steps of about lr
    // per weight whatever the gradient's size amplify a few roundings near
    // zero gradients. 1e-4 is 1/80 of the distance moved.
    const MaxDiff d = max_abs_diff(fast_params.data(), reference_params.data(), fast_params.size());
    INFO("max weight diff " << d.diff << " at " << d.index);
    CHECK(d.diff < 1e-4);
    // And the weights did move: the comparison is not of two untouched copies.
    Model fresh(config, 1);
    fresh.init_weights(7);
    CHECK(max_abs_diff(fresh.params.data(), fast_params.data(), fast_params.size()).diff > 1e-3);
}

TEST_CASE("dropout's masks are pinned to the step: update t draws the masks of step t", "[model][dropout]") {
    ThreadPool pool(2);
    ModelConfig config{2, 39, 1, 10};
    Model model(config, 4);
    model.init_weights(7);
    model.dropout = 0.5f;
    model.dropout_seed = 11;
    const SyntheticDigits digits(3);
    Rng rng(4);
    std::vector<float> input;
    std::vector<uint8_t> labels;
    digits.batch(input, labels, 4, 39, rng);
    OptimizerState state(model.parameter_count());
    state.step = 41;  // as a resumed run would be
    OptimizerConfig adam;
    train_step(model, input.data(), labels.data(), 4, state, adam, pool);
    REQUIRE(state.step == 42);
    const std::vector<uint8_t> keep_step42 = model.dense[0].keep.data;
    // The masks of step 42, drawn directly: the same.
    Model probe(config, 4);
    probe.params = model.params;
    probe.dropout = 0.5f;
    probe.dropout_seed = 11;
    probe.training = true;
    probe.dropout_step = 42;
    probe.forward(input.data(), 4, pool);
    CHECK(probe.dense[0].keep.data == keep_step42);
    const int64_t n = 4 * model.dense[0].out_features;
    for (int64_t i = 0; i < n; i += 101)
        CHECK(keep_step42[i] == reference::dropout_keeps(probe.dropout_mask_seed(0), i, 0.5f));
    // Other steps, layers and seeds draw other masks.
    probe.dropout_step = 43;
    probe.forward(input.data(), 4, pool);
    CHECK(probe.dense[0].keep.data != keep_step42);
    CHECK(probe.dropout_mask_seed(0) != probe.dropout_mask_seed(1));
    probe.dropout_step = 42;
    probe.dropout_seed = 12;
    probe.forward(input.data(), 4, pool);
    CHECK(probe.dense[0].keep.data != keep_step42);
}

TEST_CASE("input_gradient is the logit's derivative with respect to the input, for both kernel sets",
          "[model][gradcheck][saliency]") {
    ModelConfig config{2, 39, 1, 10};
    Model owner(config, 1);
    owner.init_weights(5);
    const SyntheticDigits digits(3);
    Rng rng(9);
    std::vector<float> input;
    std::vector<uint8_t> labels;
    digits.batch(input, labels, 1, 39, rng);
    ThreadPool pool(2);
    for (KernelSet kernels : {KernelSet::Fast, KernelSet::Reference}) {
        Model model(config, 1, ModelBuffers::Inference);
        model.kernels = kernels;
        model.use_weights(owner.params.data());
        REQUIRE(model.grads.empty());  // shares the weights, holds no parameters of its own
        const int k = 3;
        auto logit = [&](const std::vector<float>& x) { return static_cast<double>(model.forward(x.data(), 1, pool)[k]); };
        logit(input);
        std::vector<float> onehot(10, 0.0f);
        onehot[k] = 1.0f;
        const float* g = model.input_gradient(onehot.data(), 1, pool);
        const std::vector<float> gradient(g, g + input.size());
        double norm2 = 0;
        for (float v : gradient) norm2 += static_cast<double>(v) * v;
        REQUIRE(norm2 > 0);
        // Along u = g / |g|, the logit changes at the rate |g|.
        const double h = 1e-3, norm = std::sqrt(norm2);
        std::vector<float> plus = input, minus = input;
        for (size_t i = 0; i < input.size(); ++i) {
            plus[i] += static_cast<float>(h * gradient[i] / norm);
            minus[i] -= static_cast<float>(h * gradient[i] / norm);
        }
        const double numeric = (logit(plus) - logit(minus)) / (2 * h);
        INFO((kernels == KernelSet::Fast ? "fast" : "reference") << ": |g| " << norm << ", directional " << numeric);
        CHECK(numeric == Approx(norm).epsilon(0.02));
    }
}
