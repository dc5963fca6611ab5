// sgd.cpp — SGD with momentum: one pass over weights, gradients and velocity.
#include "nn/sgd.h"

#include "fast/thread_pool.h"

namespace {

// A plain function with restrict pointers, so that the compiler vectorises it.
void sgd_chunk(float* __restrict w, float* __restrict velocity, const float* __restrict g, int64_t n, float lr,
               float momentum, float decay) {
    for (int64_t i = 0; i < n; ++i) {
        velocity[i] = momentum * velocity[i] + g[i];
        w[i] = w[i] * decay - lr * velocity[i];
    }
}

}  // namespace

void sgd_update(float* params, float* velocity, const float* grads, int64_t n, const SgdConfig& c,
                ThreadPool& pool) {
    const float lr = static_cast<float>(c.lr), momentum = static_cast<float>(c.momentum);
    const float decay = static_cast<float>(1.0 - c.lr * c.weight_decay);
    pool.parallel_for(n, 32768, [&](int64_t begin, int64_t end) {
        sgd_chunk(params + begin, velocity + begin, grads + begin, end - begin, lr, momentum, decay);
    });
}
