// optimizers.h (fast) — Adam and SGD with momentum as one parallel,
// vectorised pass over the parameters. Twins of reference::adam_update and
// reference::sgd_update (nn/adam.h, nn/sgd.h): the same updates, with every
// per-step constant worked out once per call instead of once per weight.
#pragma once

#include <cstdint>

#include "nn/adam.h"
#include "nn/sgd.h"

class ThreadPool;

namespace fast {

void adam_update(float* params, float* m, float* v, const float* grads, int64_t n, int64_t step,
                 const AdamConfig& config, ThreadPool& pool);

void sgd_update(float* params, float* velocity, const float* grads, int64_t n, const SgdConfig& config,
                ThreadPool& pool);

}  // namespace fast
