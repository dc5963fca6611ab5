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

// The same updates on the calling thread, of a block of `rows` rows of
// `cols` parameters each, `stride` apart (a block of a weight matrix's columns,
// or a run of whole rows as one row):
// what the fused backward passes update as soon as a block's gradient is
// complete. Element for element the arithmetic of the functions above.
void adam_update_block(float* params, float* m, float* v, const float* grads, int rows, int cols, int64_t stride,
                       int64_t step, const AdamConfig& config);
void sgd_update_block(float* params, float* velocity, const float* grads, int rows, int cols, int64_t stride,
                      const SgdConfig& config);

}  // namespace fast
