// bench.h — ./alexnet bench: the machine's own limits (FMA peak, triad
// bandwidth) measured in-process, then SGEMM at every GEMM shape of a training
// step, a per-layer step profile, training and inference throughput, all as
// fractions of those limits. Synthetic data; nothing is read from disk.
#pragma once

#include <string>

#include "nn/model.h"

struct BenchOptions {
    int threads = 0;          // 0: all hardware threads
    bool json = false;        // JSON on stdout instead of tables
    ModelConfig config;       // the model to measure
    int batch_size = 32;
    int train_steps = 40;     // measured training steps (after warm-up)
    bool inference_only = false;  // measure inference alone (the ONNX Runtime comparison)
    // The speed gate: if > 0, measure only the 1-thread FMA peak and SGEMM at
    // 1024^3, print both, and fail (exit 1) below this fraction of the peak.
    double check_sgemm_fraction = 0;
};

// One line naming what this binary was built with: compiler, target, the
// micro-kernel's vector width and register block, fused multiply-add or not.
std::string build_description();

int run_bench(const BenchOptions& options);
