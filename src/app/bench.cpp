// bench.cpp — ./alexnet bench. Every figure is a median over repeats after a
// warm-up, and is reported next to the limit it is bounded by, measured in
// this same process: FMA peak for compute, triad bandwidth for memory.
#include "app/bench.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "fast/gemm.h"
#include "fast/layers.h"
#include "fast/simd.h"
#include "fast/thread_pool.h"
#include "nn/optimizer.h"
#include "nn/rng.h"
#include "nn/train_step.h"

// The Makefile names the -march the binary was built for.
#ifndef ALEXNET_TARGET
#define ALEXNET_TARGET "target not recorded"
#endif

namespace {

using Clock = std::chrono::steady_clock;

double now_seconds() {
    return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Median seconds of f() over repeats, after one warm-up call; repeats until
// both min_repeats calls and min_seconds have passed.
double time_median(const std::function<void()>& f, int min_repeats = 5, double min_seconds = 0.05) {
    f();
    std::vector<double> times;
    const double start = now_seconds();
    while (static_cast<int>(times.size()) < min_repeats || now_seconds() - start < min_seconds) {
        const double t0 = now_seconds();
        f();
        times.push_back(now_seconds() - t0);
        if (times.size() >= 1000) break;
    }
    return median(times);
}

// ---------------------------------------------------------------------------
// Machine limits

// Independent FMA chains: enough to cover FMA latency x FMA ports (4 x 2 on
// current x86 cores), few enough to stay in registers.
constexpr int kChains = 12;

// GFLOPS of one thread running kChains independent vector FMA chains.
double fma_loop(int64_t iterations) {
    simd::Vec acc[kChains];
    for (int c = 0; c < kChains; ++c) acc[c] = simd::broadcast(0.001f * static_cast<float>(c));
    volatile float mul_source = 0.9999999f, add_source = 1e-7f;
    const simd::Vec mul = simd::broadcast(mul_source), add = simd::broadcast(add_source);
    for (int64_t it = 0; it < iterations; ++it)
        for (int c = 0; c < kChains; ++c) acc[c] = simd::fmadd(acc[c], mul, add);
    float sum = 0.0f;
    for (int c = 0; c < kChains; ++c)
        for (int w = 0; w < simd::kWidth; ++w) sum += acc[c][w];
    volatile float sink = sum;
    (void)sink;
    return 2.0 * kChains * simd::kWidth * static_cast<double>(iterations);  // flops
}

// FMA peak in GFLOPS with the pool's threads all running the loop at once.
// The best of 20 short rounds: the machine may be shared, and another
// process can only slow a round down.
double measure_fma_peak(ThreadPool& pool) {
    const int64_t iterations = 2'000'000;
    std::vector<double> rates;
    for (int r = 0; r < 20; ++r) {
        const double t0 = now_seconds();
        pool.run(pool.size(), [&](int) { fma_loop(iterations); });
        const double seconds = now_seconds() - t0;
        rates.push_back(2.0 * kChains * simd::kWidth * iterations * pool.size() / seconds / 1e9);
    }
    return *std::max_element(rates.begin(), rates.end());
}

// STREAM triad a = b + s*c over arrays far larger than any cache, in GB/s.
// Counted as the bytes that really move: b and c read, a written, and a read
// first too (the cache fetches a line before writing into it) = 16 bytes per
// element. STREAM itself counts 12, so its figure would be 3/4 of this one.
double measure_triad(ThreadPool& pool) {
    const int64_t n = int64_t(1) << 24;  // 64 MiB per array
    std::vector<float> a(n), b(n, 1.0f), c(n, 2.0f);
    const float s = 0.5f;
    auto triad = [&] {
        pool.parallel_for(n, 1 << 16, [&](int64_t begin, int64_t end) {
            for (int64_t i = begin; i < end; ++i) a[i] = b[i] + s * c[i];
        });
    };
    const double seconds = time_median(triad, 5, 0.2);
    return 4.0 * 4.0 * n / seconds / 1e9;
}

// ---------------------------------------------------------------------------
// GEMM shapes of one training step

// How a training step spreads one product over the threads (the kernels in
// src/fast/): a contiguous share of C's columns, or of its rows, in whole
// units, each thread running serial GEMMs, one per unit with PerUnit (the
// dense layers' backward blocks), else one for its whole share. Pooled: one
// sgemm tiling C over the pool, as the cube is measured.
enum class Split { Pooled, Columns, Rows };

struct GemmShape {
    std::string name;
    bool trans_a, trans_b;
    int M, N, K;
    Split split = Split::Pooled;
    int unit = 1;          // columns or rows per unit of the split
    bool per_unit = false;  // one GEMM per unit
    int64_t flops() const { return 2 * static_cast<int64_t>(M) * N * K; }
};

// The square product every BLAS is measured on, and the speed gate uses.
const GemmShape kCube{"1024^3", false, false, 1024, 1024, 1024};

std::vector<GemmShape> training_gemm_shapes(const Model& model, int B) {
    std::vector<GemmShape> shapes;
    for (int i = 0; i < kConvLayers; ++i) {
        ConvGeometry g = model.conv[i].geometry;  // for the model's batch, which is B
        g.batch = B;
        const std::string name = "conv" + std::to_string(i + 1);
        const int np = static_cast<int>(g.col_cols()), oc = g.out_channels, ckk = g.col_rows();
        const int pixels = g.out_h() * g.out_w(), kk = g.kernel * g.kernel;
        // forward by images; dW by columns (col's rows); dX by input channels
        shapes.push_back({name + " forward", false, false, oc, np, ckk, Split::Columns, pixels});
        shapes.push_back({name + " dW", false, true, oc, ckk, np, Split::Columns, i > 0 ? kk : 1});
        if (i > 0) shapes.push_back({name + " dX", true, false, ckk, np, oc, Split::Rows, kk});
    }
    for (int i = 0; i < kDenseLayers; ++i) {
        const DenseLayer& d = model.dense[i];
        const std::string name = "dense" + std::to_string(i + 1);
        const int block = fast::dense_weight_rows_block(d.in_features, d.out_features);
        // forward by outputs, 32 at a time; dW by blocks of rows; dX by columns
        shapes.push_back({name + " forward", false, true, B, d.out_features, d.in_features, Split::Columns, 32});
        shapes.push_back({name + " dW", true, false, d.out_features, d.in_features, B, Split::Rows, block, true});
        shapes.push_back({name + " dX", false, false, B, d.in_features, d.out_features, Split::Columns,
                          sgemm_register_block_cols()});
    }
    return shapes;
}

double gemm_gflops(const GemmShape& s, ThreadPool& pool) {
    const int lda = s.trans_a ? s.M : s.K, ldb = s.trans_b ? s.K : s.N;
    Rng rng(1);
    std::vector<float> A(static_cast<size_t>(s.M) * s.K), B(static_cast<size_t>(s.K) * s.N),
        C(static_cast<size_t>(s.M) * s.N);
    for (float& x : A) x = rng.uniform(-1, 1);
    for (float& x : B) x = rng.uniform(-1, 1);
    // Rows [r0, r0 + m) and columns [c0, c0 + n) of C, on the calling thread.
    auto part = [&](int r0, int m, int c0, int n) {
        const float* a = A.data() + (s.trans_a ? r0 : static_cast<int64_t>(r0) * lda);
        const float* b = B.data() + (s.trans_b ? static_cast<int64_t>(c0) * ldb : c0);
        sgemm(s.trans_a, s.trans_b, m, n, s.K, a, lda, b, ldb, 0.0f, C.data() + static_cast<int64_t>(r0) * s.N + c0,
              s.N, ThreadPool::serial());
    };
    std::function<void()> run = [&] {
        sgemm(s.trans_a, s.trans_b, s.M, s.N, s.K, A.data(), lda, B.data(), ldb, 0.0f, C.data(), s.N, pool);
    };
    if (s.split != Split::Pooled) {
        const int extent = s.split == Split::Rows ? s.M : s.N;
        const int units = (extent + s.unit - 1) / s.unit;
        const int tasks = std::min(pool.size(), units);
        run = [&, extent, units, tasks] {
            pool.run(tasks, [&](int t) {
                int u0, count;
                ThreadPool::share(units, tasks, t, &u0, &count);
                const int step = s.per_unit ? 1 : count;
                for (int u = u0; u < u0 + count; u += step) {
                    const int first = u * s.unit, size = std::min(extent, (u + step) * s.unit) - first;
                    if (s.split == Split::Rows) part(first, size, 0, s.N);
                    else part(0, s.M, first, size);
                }
            });
        };
    }
    const double seconds = time_median(run, 10, 0.15);
    return s.flops() / seconds / 1e9;
}

// ---------------------------------------------------------------------------
// Training and inference

struct SyntheticBatch {
    Tensor input;                 // (B, C, S, S) uniform in [0, 1]
    std::vector<uint8_t> labels;  // (B)
    SyntheticBatch(const ModelConfig& c, int B) : input({B, c.channels, c.image_size, c.image_size}), labels(B) {
        Rng rng(3);
        for (float& x : input.data) x = rng.uniform();
        for (uint8_t& l : labels) l = static_cast<uint8_t>(rng.below(10));
    }
};

struct StepTimes {
    double median_step = 0;  // seconds per training step (train_step, not timed inside)
    LayerTimes layers;       // per layer, summed over the profiled steps (train_step with Model::timing set)
    int steps = 0;           // profiled steps
    double handoffs = 0;     // jobs handed to the pool's workers per step
};

// The median step of train_step, then as many steps again with the model's
// per-layer timing on: the same train_step, its time taken apart.
StepTimes time_training(const ModelConfig& config, int B, int steps, ThreadPool& pool) {
    Model model(config, B);
    model.init_weights(7);
    SyntheticBatch batch(config, B);
    OptimizerState state(model.parameter_count());
    OptimizerConfig adam;  // Adam, the default
    StepTimes result;
    std::vector<double> times;
    const int warmup = 3;
    uint64_t handoffs_before = 0;
    for (int step = 1; step <= warmup + steps; ++step) {
        if (step == warmup + 1) handoffs_before = pool.handoffs();
        const double t0 = now_seconds();
        train_step(model, batch.input.ptr(), batch.labels.data(), B, state, adam, pool);
        if (step > warmup) times.push_back(now_seconds() - t0);
    }
    result.handoffs = static_cast<double>(pool.handoffs() - handoffs_before) / steps;
    model.timing = &result.layers;
    for (int step = 1; step <= steps; ++step)
        train_step(model, batch.input.ptr(), batch.labels.data(), B, state, adam, pool);
    result.median_step = median(times);
    result.steps = steps;
    return result;
}

// One Adam update of every parameter, alone: train_step spreads the same
// arithmetic over backward, block by block, where it cannot be timed apart.
double time_adam_pass(const ModelConfig& config, ThreadPool& pool) {
    Model model(config, 1);
    model.init_weights(7);
    Rng rng(5);
    for (float& g : model.grads) g = 0.01f * (rng.uniform() - 0.5f);
    OptimizerState state(model.parameter_count());
    const OptimizerConfig adam;
    return time_median(
        [&] {
            ++state.step;
            optimizer_update_range(model.params.data(), model.grads.data(), 0, model.parameter_count(), state, adam,
                                   KernelSet::Fast, pool);
        },
        10, 0.2);
}

// An inference model for batches of B, as the page and predict use it: its
// own activations, the weights of a trained-size model (initialised).
struct InferenceSetup {
    Model owner, model;
    SyntheticBatch batch;
    InferenceSetup(const ModelConfig& config, int B)
        : owner(config, 1), model(config, B, ModelBuffers::Inference), batch(config, B) {
        owner.init_weights(7);
        model.use_weights(owner.params.data());
    }
};

double time_inference(const ModelConfig& config, int B, ThreadPool& pool) {
    InferenceSetup s(config, B);
    return time_median([&] { s.model.forward(s.batch.input.ptr(), B, pool); }, 20, 0.3);
}

// Inference forward of a batch of B, layer by layer (Model::timing), medians
// of many passes.
LayerTimes time_forward_per_layer(const ModelConfig& config, int B, ThreadPool& pool) {
    InferenceSetup s(config, B);
    std::vector<LayerTimes> passes(B == 1 ? 201 : 21);
    for (LayerTimes& t : passes) {
        s.model.timing = &t;
        s.model.forward(s.batch.input.ptr(), B, pool);
        s.model.probabilities(B);
    }
    passes.erase(passes.begin());  // the warm-up
    LayerTimes median_times;
    for (int i = 0; i < kConvLayers + kDenseLayers; ++i) {
        std::vector<double> v;
        for (const LayerTimes& t : passes) v.push_back(t.forward[i]);
        median_times.forward[i] = median(v);
    }
    return median_times;
}

// What handing a job to the pool's workers costs: the median time of an
// empty job on every thread, back to back (workers spinning).
double time_handoff(ThreadPool& pool) {
    return time_median([&] { pool.run(pool.size(), [](int) {}); }, 1000, 0.05);
}

// ---------------------------------------------------------------------------
// Report

// conv1..conv5, dense1..dense4, as LayerTimes indexes them.
std::string layer_name(int i) {
    return i < kConvLayers ? "conv" + std::to_string(i + 1) : "dense" + std::to_string(i - kConvLayers + 1);
}

struct Report {
    int threads = 1;
    double peak1 = 0, peakN = 0, triad1 = 0, triad = 0;
    int64_t step_flops = 0;       // the GEMMs of one training step
    double adam_bytes = 0;        // moved by one Adam pass
    double bound1 = 0, boundN = 0;  // seconds per step at the machine's limits
    struct GemmRow {
        GemmShape shape;
        double gflops1, gflopsN;
    };
    std::vector<GemmRow> gemms;
    GemmRow cube{};
    double geomean_fraction1 = 0;
    StepTimes stepN, step1;
    double adam_seconds = 0;      // one Adam pass over every parameter, alone
    double adam_bandwidth = 0;
    double infer_batch_seconds1 = 0, latency_seconds1 = 0;  // 1 thread
    double infer_batch_seconds = 0, latency_seconds = 0;    // all threads
    LayerTimes latency_layers;                              // batch 1, 1 thread
    LayerTimes batch_layers1, batch_layers;                 // inference at the batch size, 1 and all threads
    double handoff_seconds = 0;                             // one empty job on all threads
    double handoffs_per_step = 0;
    int64_t params = 0;
};

void print_inference_text(const Report& r, int B);

void print_text(const Report& r, const BenchOptions& o) {
    const int B = o.batch_size;
    std::printf("alexnet bench: %s\n", build_description().c_str());
    std::printf("model: filters %d, input %dx%dx%d, batch %d, %lld parameters, %d threads\n\n",
                o.config.filters, o.config.channels, o.config.image_size, o.config.image_size, B,
                static_cast<long long>(r.params), r.threads);
    std::printf("machine limits (measured now)\n");
    std::printf("  FMA peak       %8.1f GFLOPS on 1 thread, %8.1f on %d threads\n", r.peak1, r.peakN, r.threads);
    std::printf("  triad          %8.1f GB/s on 1 thread, %8.1f on %d threads (a = b + s*c counted as the 16\n"
                "                 bytes per element that move; STREAM's 12-byte count would say 3/4 of that)\n\n",
                r.triad1, r.triad, r.threads);

    std::printf("SGEMM (C = op(A) op(B), M x N x K)    1 thread          %d threads\n", r.threads);
    std::printf("  %-16s %5s %5s %5s  %7s %5s   %7s %5s\n", "shape", "M", "N", "K", "GFLOPS", "peak", "GFLOPS", "peak");
    auto row = [&](const Report::GemmRow& g) {
        std::printf("  %-16s %5d %5d %5d  %7.1f %4.0f%%   %7.1f %4.0f%%\n", g.shape.name.c_str(), g.shape.M,
                    g.shape.N, g.shape.K, g.gflops1, 100 * g.gflops1 / r.peak1, g.gflopsN,
                    100 * g.gflopsN / r.peakN);
    };
    for (const auto& g : r.gemms) row(g);
    row(r.cube);
    std::printf("  geometric mean over the training-step shapes: %.0f%% of the 1-thread peak\n\n",
                100 * r.geomean_fraction1);

    // Per layer: forward and backward on N threads, and the speed-up of the
    // layer (forward + backward) over 1 thread.
    const StepTimes& s = r.stepN;
    const double per_step = 1e3 / s.steps, per_step1 = 1e3 / r.step1.steps;
    double total = s.layers.loss;
    for (int i = 0; i < kConvLayers + kDenseLayers; ++i) total += s.layers.forward[i] + s.layers.backward[i];
    std::printf("training step, %d threads (ms per step; backward includes the optimizer's update of the layer),\n"
                "share of the step, speed-up over 1 thread\n", r.threads);
    std::printf("  %-8s %9s %9s %7s %8s\n", "layer", "forward", "backward", "share", "speed-up");
    for (int i = 0; i < kConvLayers + kDenseLayers; ++i) {
        const std::string name = layer_name(i);
        const double f = s.layers.forward[i], b = s.layers.backward[i];
        const double one = (r.step1.layers.forward[i] + r.step1.layers.backward[i]) * per_step1;
        std::printf("  %-8s %9.3f %9.3f %6.1f%% %7.2fx\n", name.c_str(), f * per_step, b * per_step,
                    100 * (f + b) / total, one / ((f + b) * per_step));
    }
    std::printf("  %-8s %19.3f %6.1f%%\n", "loss", s.layers.loss * per_step, 100 * s.layers.loss / total);
    std::printf("  %-8s %19.3f\n", "total", total * per_step);
    std::printf("  Adam alone, all parameters: median pass %.3f ms, 28 bytes per parameter = %.1f GB/s = %.0f%% of "
                "triad (%.0f%% of STREAM's count)\n\n", 1e3 * r.adam_seconds, r.adam_bandwidth,
                100 * r.adam_bandwidth / r.triad, 100 * r.adam_bandwidth / (0.75 * r.triad));
    const double img1 = B / r.step1.median_step, imgN = B / s.median_step;
    std::printf("training (forward + backward + Adam, median step)\n");
    std::printf("  bound: the step's GEMMs (%.0f MFLOP) at the FMA peak + Adam's %.0f MB at triad speed\n",
                r.step_flops / 1e6, r.adam_bytes / 1e6);
    std::printf("             measured                        bound                  of bound\n");
    std::printf("  1 thread   %8.0f images/s (%6.2f ms/step)  %8.0f images/s (%6.2f ms)  %4.0f%%\n", img1,
                1e3 * r.step1.median_step, B / r.bound1, 1e3 * r.bound1, 100 * r.bound1 / r.step1.median_step);
    std::printf("  %d threads  %8.0f images/s (%6.2f ms/step)  %8.0f images/s (%6.2f ms)  %4.0f%%\n", r.threads,
                imgN, 1e3 * s.median_step, B / r.boundN, 1e3 * r.boundN, 100 * r.boundN / s.median_step);
    std::printf("  scaling %.2fx\n\n", imgN / img1);
    print_inference_text(r, B);
}

void print_inference_text(const Report& r, int B) {
    std::printf("inference (forward and softmax)   1 thread      %d threads   scaling\n", r.threads);
    std::printf("  batch %-3d  images/s   %11.0f  %11.0f     %.2fx\n", B, B / r.infer_batch_seconds1,
                B / r.infer_batch_seconds, r.infer_batch_seconds1 / r.infer_batch_seconds);
    std::printf("  batch 1    latency    %8.3f ms  %8.3f ms\n", 1e3 * r.latency_seconds1, 1e3 * r.latency_seconds);
    std::printf("  per layer (us)  batch 1, 1 thread   batch %d, 1 thread   batch %d, %d threads\n", B, B, r.threads);
    for (int i = 0; i < kConvLayers + kDenseLayers; ++i)
        std::printf("  %-8s %24.1f %20.1f %20.1f\n", layer_name(i).c_str(), 1e6 * r.latency_layers.forward[i],
                    1e6 * r.batch_layers1.forward[i], 1e6 * r.batch_layers.forward[i]);
    std::printf("\nthread pool, %d threads: a hand-off (an empty job) costs %.1f us", r.threads, 1e6 * r.handoff_seconds);
    if (r.handoffs_per_step > 0) std::printf("; a training step makes %.0f", r.handoffs_per_step);
    std::printf("\n");
}

void print_inference_json(const Report& r, int B);

void print_json(const Report& r, const BenchOptions& o) {
    const int B = o.batch_size;
    std::printf("{\n  \"build\": \"%s\",\n", build_description().c_str());
    std::printf("  \"config\": {\"filters\": %d, \"image_size\": %d, \"channels\": %d, \"batch_size\": %d, "
                "\"parameters\": %lld, \"threads\": %d},\n",
                o.config.filters, o.config.image_size, o.config.channels, B, static_cast<long long>(r.params), r.threads);
    std::printf("  \"machine\": {\"fma_peak_gflops_1_thread\": %.2f, \"fma_peak_gflops_all_threads\": %.2f, "
                "\"triad_gb_per_s_1_thread\": %.2f, \"triad_gb_per_s\": %.2f, \"triad_gb_per_s_stream_count\": %.2f},\n",
                r.peak1, r.peakN, r.triad1, r.triad, 0.75 * r.triad);
    std::printf("  \"sgemm\": [\n");
    std::vector<Report::GemmRow> all = r.gemms;
    all.push_back(r.cube);
    for (size_t i = 0; i < all.size(); ++i) {
        const auto& g = all[i];
        std::printf("    {\"shape\": \"%s\", \"M\": %d, \"N\": %d, \"K\": %d, \"trans_a\": %s, \"trans_b\": %s, "
                    "\"gflops_1_thread\": %.2f, \"peak_fraction_1_thread\": %.4f, \"gflops_all_threads\": %.2f, "
                    "\"peak_fraction_all_threads\": %.4f}%s\n",
                    g.shape.name.c_str(), g.shape.M, g.shape.N, g.shape.K, g.shape.trans_a ? "true" : "false",
                    g.shape.trans_b ? "true" : "false", g.gflops1, g.gflops1 / r.peak1, g.gflopsN,
                    g.gflopsN / r.peakN, i + 1 < all.size() ? "," : "");
    }
    std::printf("  ],\n  \"sgemm_geomean_peak_fraction_1_thread\": %.4f,\n", r.geomean_fraction1);
    const StepTimes& s = r.stepN;
    std::printf("  \"step_ms\": {");
    for (int i = 0; i < kConvLayers + kDenseLayers; ++i) {
        const std::string name = layer_name(i);
        std::printf("\"%s_forward\": %.4f, \"%s_backward\": %.4f, ", name.c_str(),
                    1e3 * s.layers.forward[i] / s.steps, name.c_str(), 1e3 * s.layers.backward[i] / s.steps);
    }
    std::printf("\"loss\": %.4f, \"adam_alone\": %.4f},\n", 1e3 * s.layers.loss / s.steps, 1e3 * r.adam_seconds);
    std::printf("  \"adam_gb_per_s\": %.2f, \"adam_triad_fraction\": %.4f,\n", r.adam_bandwidth, r.adam_bandwidth / r.triad);
    std::printf("  \"train_images_per_s_1_thread\": %.1f, \"train_images_per_s_all_threads\": %.1f, \"train_scaling\": %.3f,\n",
                B / r.step1.median_step, B / s.median_step, r.step1.median_step / s.median_step);
    std::printf("  \"step_gemm_mflop\": %.3f, \"adam_mb\": %.3f, \"bound_images_per_s_1_thread\": %.1f, "
                "\"bound_images_per_s_all_threads\": %.1f, \"bound_fraction_1_thread\": %.4f, "
                "\"bound_fraction_all_threads\": %.4f,\n", r.step_flops / 1e6, r.adam_bytes / 1e6, B / r.bound1,
                B / r.boundN, r.bound1 / r.step1.median_step, r.boundN / s.median_step);
    print_inference_json(r, B);
    std::printf(",\n  \"handoffs_per_step\": %.0f\n}\n", r.handoffs_per_step);
}

void print_inference_json(const Report& r, int B) {
    std::printf("  \"inference_images_per_s_1_thread\": %.1f, \"inference_images_per_s\": %.1f, "
                "\"inference_batch1_latency_ms_1_thread\": %.4f, \"inference_batch1_latency_ms\": %.4f,\n",
                B / r.infer_batch_seconds1, B / r.infer_batch_seconds, 1e3 * r.latency_seconds1, 1e3 * r.latency_seconds);
    std::printf("  \"batch1_latency_us_per_layer_1_thread\": {");
    for (int i = 0; i < kConvLayers + kDenseLayers; ++i)
        std::printf("%s\"%s\": %.2f", i ? ", " : "", layer_name(i).c_str(), 1e6 * r.latency_layers.forward[i]);
    std::printf("},\n  \"handoff_us\": %.2f", 1e6 * r.handoff_seconds);
}

}  // namespace

std::string build_description() {
#if defined(__clang__)
    const std::string compiler = "clang++ " + std::to_string(__clang_major__) + "." +
                                 std::to_string(__clang_minor__) + "." + std::to_string(__clang_patchlevel__);
#elif defined(__GNUC__)
    const std::string compiler = "g++ " + std::string(__VERSION__);
#else
    const std::string compiler = "unknown compiler";
#endif
    const std::string vectors = std::string(simd::kName) + (simd::kFusedMultiplyAdd ? " FMA" : ", no FMA");
    char line[256];
    std::snprintf(line, sizeof line, "%s, %s, SGEMM micro-kernel %dx%d (%d-float vectors, %s)", compiler.c_str(),
                  ALEXNET_TARGET, sgemm_register_block_rows(), sgemm_register_block_cols(), simd::kWidth,
                  vectors.c_str());
    return line;
}

// The speed gate (make bench-gate, CI): SGEMM at 1024^3 on one thread as a
// fraction of the same thread's FMA peak. The floor is far below what a
// register-blocked kernel reaches and far above what a kernel the compiler
// failed to vectorise gets, so machine noise does not trip it.
int check_sgemm(double min_fraction) {
    ThreadPool one(1);
    // Another process on the machine can only slow a measurement down, so
    // the best of up to five rounds counts: noise alone does not fail it.
    double peak = 0, gflops = 0;
    for (int round = 0; round < 5; ++round) {
        peak = std::max(peak, measure_fma_peak(one));
        gflops = std::max(gflops, gemm_gflops(kCube, one));
        if (gflops >= min_fraction * peak) break;
    }
    const bool ok = gflops >= min_fraction * peak;
    std::printf("%s: SGEMM 1024^3 %.1f GFLOPS = %.0f%% of the %.1f GFLOPS FMA peak on 1 thread (floor %.0f%%): %s\n",
                build_description().c_str(), gflops, 100 * gflops / peak, peak, 100 * min_fraction,
                ok ? "ok" : "TOO SLOW");
    return ok ? 0 : 1;
}

namespace {

void measure_inference(Report& r, const ModelConfig& config, int B, ThreadPool& one, ThreadPool& all) {
    r.infer_batch_seconds1 = time_inference(config, B, one);
    r.infer_batch_seconds = time_inference(config, B, all);
    r.latency_seconds1 = time_inference(config, 1, one);
    r.latency_seconds = time_inference(config, 1, all);
    r.latency_layers = time_forward_per_layer(config, 1, one);
    r.batch_layers1 = time_forward_per_layer(config, B, one);
    r.batch_layers = time_forward_per_layer(config, B, all);
    r.handoff_seconds = time_handoff(all);
}

}  // namespace

int run_bench(const BenchOptions& o) {
    if (o.check_sgemm_fraction > 0) return check_sgemm(o.check_sgemm_fraction);
    const int threads = o.threads > 0 ? o.threads : ThreadPool::hardware_threads();
    ThreadPool one(1), all(threads);
    Report r;
    r.threads = threads;
    const int B = o.batch_size;
    if (o.inference_only) {
        measure_inference(r, o.config, B, one, all);
        if (o.json) {
            std::printf("{\n  \"build\": \"%s\", \"threads\": %d, \"batch_size\": %d,\n",
                        build_description().c_str(), threads, B);
            print_inference_json(r, B);
            std::printf("\n}\n");
        } else {
            std::printf("alexnet bench --inference: %s\n\n", build_description().c_str());
            print_inference_text(r, B);
        }
        return 0;
    }
    const Model probe(o.config, B);
    r.params = probe.parameter_count();

    r.peak1 = measure_fma_peak(one);
    r.peakN = measure_fma_peak(all);
    r.triad1 = measure_triad(one);
    r.triad = measure_triad(all);

    double log_sum = 0;
    for (const GemmShape& shape : training_gemm_shapes(probe, B)) {
        r.step_flops += shape.flops();
        Report::GemmRow g{shape, gemm_gflops(shape, one), gemm_gflops(shape, all)};
        log_sum += std::log(g.gflops1 / r.peak1);
        r.gemms.push_back(g);
    }
    r.geomean_fraction1 = std::exp(log_sum / r.gemms.size());
    r.cube = {kCube, gemm_gflops(kCube, one), gemm_gflops(kCube, all)};

    r.stepN = time_training(o.config, B, o.train_steps, all);
    r.step1 = time_training(o.config, B, std::max(10, o.train_steps / 2), one);
    // Adam reads w, g, m, v and writes w, m, v: 7 floats per parameter.
    r.adam_bytes = 7.0 * 4.0 * r.params;
    r.adam_seconds = time_adam_pass(o.config, all);
    r.adam_bandwidth = r.adam_bytes / r.adam_seconds / 1e9;
    // The bound: no step can be faster than its GEMMs at the FMA peak plus
    // Adam's traffic at triad speed (everything else counted as free).
    r.bound1 = r.step_flops / (r.peak1 * 1e9) + r.adam_bytes / (r.triad1 * 1e9);
    r.boundN = r.step_flops / (r.peakN * 1e9) + r.adam_bytes / (r.triad * 1e9);
    measure_inference(r, o.config, B, one, all);
    r.handoffs_per_step = r.stepN.handoffs;

    if (o.json) print_json(r, o);
    else print_text(r, o);
    return 0;
}
