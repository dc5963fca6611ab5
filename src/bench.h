// bench.h — ./alexnet bench: the machine's own limits (FMA peak, triad
// bandwidth) measured in-process, then SGEMM at every GEMM shape of a training
// step, a per-layer step profile, training and inference throughput, all as
// fractions of those limits. Synthetic data; nothing is read from disk.
#pragma once

#include "model.h"

struct BenchOptions {
    int threads = 0;          // 0: all hardware threads
    bool json = false;        // JSON on stdout instead of tables
    ModelConfig config;       // the model to measure
    int batch_size = 32;
    int train_steps = 40;     // measured training steps (after warm-up)
};

int run_bench(const BenchOptions& options);
