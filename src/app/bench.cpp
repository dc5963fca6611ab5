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

struct GemmShape {
    std::string name;
    bool trans_a, trans_b;
    int M, N, K;
    // Convolution forward and dX do not run as one GEMM in training: each
    // thread takes a run of images and multiplies its own columns with a
    // serial GEMM (layers.cpp). For those, N = batch x pixels_per_image and
    // the N-thread figure times exactly that split.
    int pixels_per_image = 0;  // 0: one pooled GEMM, as dW and dense layers run
    int64_t flops() const { return 2 * static_cast<int64_t>(M) * N * K; }
};

// The square product every BLAS is measured on, and the speed gate uses.
const GemmShape kCube{"1024^3", false, false, 1024, 1024, 1024, 0};

std::vector<GemmShape> training_gemm_shapes(const Model& model, int B) {
    std::vector<GemmShape> shapes;
    for (int i = 0; i < kConvLayers; ++i) {
        ConvGeometry g = model.conv[i].geometry;  // for the model's batch, which is B
        g.batch = B;
        const std::string name = "conv" + std::to_string(i + 1);
        const int np = static_cast<int>(g.col_cols()), oc = g.out_channels, ckk = g.col_rows();
        const int pixels = g.out_h() * g.out_w();
        shapes.push_back({name + " forward", false, false, oc, np, ckk, pixels});
        shapes.push_back({name + " dW", false, true, oc, ckk, np, 0});
        if (i > 0) shapes.push_back({name + " dX", true, false, ckk, np, oc, pixels});
    }
    for (int i = 0; i < kDenseLayers; ++i) {
        const DenseLayer& d = model.dense[i];
        const std::string name = "dense" + std::to_string(i + 1);
        shapes.push_back({name + " forward", false, true, B, d.out_features, d.in_features, 0});
        shapes.push_back({name + " dW", true, false, d.out_features, d.in_features, B, 0});
        shapes.push_back({name + " dX", false, false, B, d.in_features, d.out_features, 0});
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
    std::function<void()> run = [&] {
        sgemm(s.trans_a, s.trans_b, s.M, s.N, s.K, A.data(), lda, B.data(), ldb, 0.0f, C.data(), s.N, pool);
    };
    if (s.pixels_per_image > 0 && pool.size() > 1) {
        // As conv_forward / conv_backward run it: task t of T multiplies the
        // columns of images [B*t/T, B*(t+1)/T) on its own thread.
        const int images = s.N / s.pixels_per_image;
        const int tasks = std::min(pool.size(), images);
        run = [&, images, tasks] {
            pool.run(tasks, [&](int t) {
                const int first = images * t / tasks, count = images * (t + 1) / tasks - first;
                const int64_t col0 = static_cast<int64_t>(first) * s.pixels_per_image;
                sgemm(s.trans_a, s.trans_b, s.M, count * s.pixels_per_image, s.K, A.data(), lda,
                      B.data() + col0, ldb, 0.0f, C.data() + col0, s.N, ThreadPool::serial());
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
    double median_update = 0;  // seconds of the median step's optimizer updates
    int steps = 0;           // profiled steps
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
    std::vector<double> times, update_times;
    const int warmup = 3;
    for (int step = 1; step <= warmup + steps; ++step) {
        const double t0 = now_seconds();
        train_step(model, batch.input.ptr(), batch.labels.data(), B, state, adam, pool);
        if (step > warmup) times.push_back(now_seconds() - t0);
    }
    model.timing = &result.layers;
    for (int step = 1; step <= steps; ++step) {
        const double update_before = result.layers.update;
        train_step(model, batch.input.ptr(), batch.labels.data(), B, state, adam, pool);
        update_times.push_back(result.layers.update - update_before);
    }
    result.median_step = median(times);
    result.median_update = median(update_times);
    result.steps = steps;
    return result;
}

double time_inference(const ModelConfig& config, int B, ThreadPool& pool) {
    Model model(config, B);
    model.init_weights(7);
    SyntheticBatch batch(config, B);
    return time_median([&] { model.forward(batch.input.ptr(), B, pool); }, 20, 0.3);
}

// ---------------------------------------------------------------------------
// Report

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
    double adam_bandwidth = 0;
    double infer_batch_seconds = 0, latency_seconds = 0;
    int64_t params = 0;
};

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
    double total = s.layers.loss + s.layers.update;
    for (int i = 0; i < kConvLayers + kDenseLayers; ++i) total += s.layers.forward[i] + s.layers.backward[i];
    std::printf("training step, %d threads (ms per step), share of the step, speed-up over 1 thread\n", r.threads);
    std::printf("  %-8s %9s %9s %7s %8s\n", "layer", "forward", "backward", "share", "speed-up");
    for (int i = 0; i < kConvLayers + kDenseLayers; ++i) {
        const std::string name = i < kConvLayers ? "conv" + std::to_string(i + 1) : "dense" + std::to_string(i - kConvLayers + 1);
        const double f = s.layers.forward[i], b = s.layers.backward[i];
        const double one = (r.step1.layers.forward[i] + r.step1.layers.backward[i]) * per_step1;
        std::printf("  %-8s %9.3f %9.3f %6.1f%% %7.2fx\n", name.c_str(), f * per_step, b * per_step,
                    100 * (f + b) / total, one / ((f + b) * per_step));
    }
    std::printf("  %-8s %19.3f %6.1f%%\n", "loss", s.layers.loss * per_step, 100 * s.layers.loss / total);
    std::printf("  %-8s %19.3f %6.1f%% %7.2fx\n", "adam", s.layers.update * per_step, 100 * s.layers.update / total,
                r.step1.layers.update * per_step1 / (s.layers.update * per_step));
    std::printf("  %-8s %19.3f\n", "total", total * per_step);
    std::printf("  Adam: median pass %.3f ms, 28 bytes per parameter = %.1f GB/s = %.0f%% of triad (%.0f%% of "
                "STREAM's count)\n\n", 1e3 * s.median_update, r.adam_bandwidth, 100 * r.adam_bandwidth / r.triad,
                100 * r.adam_bandwidth / (0.75 * r.triad));
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
    std::printf("inference, %d threads\n", r.threads);
    std::printf("  batch %d    %8.0f images/s\n", B, B / r.infer_batch_seconds);
    std::printf("  batch 1     %8.3f ms latency\n", 1e3 * r.latency_seconds);
}

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
        const std::string name = i < kConvLayers ? "conv" + std::to_string(i + 1) : "dense" + std::to_string(i - kConvLayers + 1);
        std::printf("\"%s_forward\": %.4f, \"%s_backward\": %.4f, ", name.c_str(),
                    1e3 * s.layers.forward[i] / s.steps, name.c_str(), 1e3 * s.layers.backward[i] / s.steps);
    }
    std::printf("\"loss\": %.4f, \"adam\": %.4f},\n", 1e3 * s.layers.loss / s.steps, 1e3 * s.layers.update / s.steps);
    std::printf("  \"adam_gb_per_s\": %.2f, \"adam_triad_fraction\": %.4f,\n", r.adam_bandwidth, r.adam_bandwidth / r.triad);
    std::printf("  \"train_images_per_s_1_thread\": %.1f, \"train_images_per_s_all_threads\": %.1f, \"train_scaling\": %.3f,\n",
                B / r.step1.median_step, B / s.median_step, r.step1.median_step / s.median_step);
    std::printf("  \"step_gemm_mflop\": %.3f, \"adam_mb\": %.3f, \"bound_images_per_s_1_thread\": %.1f, "
                "\"bound_images_per_s_all_threads\": %.1f, \"bound_fraction_1_thread\": %.4f, "
                "\"bound_fraction_all_threads\": %.4f,\n", r.step_flops / 1e6, r.adam_bytes / 1e6, B / r.bound1,
                B / r.boundN, r.bound1 / r.step1.median_step, r.boundN / s.median_step);
    std::printf("  \"inference_images_per_s\": %.1f, \"inference_batch1_latency_ms\": %.4f\n}\n",
                B / r.infer_batch_seconds, 1e3 * r.latency_seconds);
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

int run_bench(const BenchOptions& o) {
    if (o.check_sgemm_fraction > 0) return check_sgemm(o.check_sgemm_fraction);
    const int threads = o.threads > 0 ? o.threads : ThreadPool::hardware_threads();
    ThreadPool one(1), all(threads);
    Report r;
    r.threads = threads;
    const int B = o.batch_size;
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
    r.adam_bandwidth = r.adam_bytes / r.stepN.median_update / 1e9;
    // The bound: no step can be faster than its GEMMs at the FMA peak plus
    // Adam's traffic at triad speed (everything else counted as free).
    r.bound1 = r.step_flops / (r.peak1 * 1e9) + r.adam_bytes / (r.triad1 * 1e9);
    r.boundN = r.step_flops / (r.peakN * 1e9) + r.adam_bytes / (r.triad * 1e9);
    r.infer_batch_seconds = time_inference(o.config, B, all);
    r.latency_seconds = time_inference(o.config, 1, all);

    if (o.json) print_json(r, o);
    else print_text(r, o);
    return 0;
}
