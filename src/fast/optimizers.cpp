// optimizers.cpp (fast) — Adam and SGD: one pass over weights, gradients and
// the optimizer's memory, in parallel chunks of parameters.
#include "fast/optimizers.h"

#include <cmath>

#include "fast/thread_pool.h"

namespace fast {

namespace {

constexpr int64_t kChunk = 32768;  // parameters per task

// The update of one contiguous chunk. A plain function with restrict
// pointers, so the compiler can vectorise it (inside the lambdas below it
// would not: the captured pointers might alias).
void adam_chunk(float* __restrict w, float* __restrict m, float* __restrict v, const float* __restrict g,
                int64_t n, float b1, float one_minus_b1, float b2, float one_minus_b2, float step_size,
                float inv_sqrt_bc2, float eps, float decay) {
    // Under g++, two vectors per iteration: left to itself it re-reads g[i]
    // from memory for each of its three uses. clang++ interleaves the loop
    // on its own.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 2
#endif
    for (int64_t i = 0; i < n; ++i) {
        m[i] = b1 * m[i] + one_minus_b1 * g[i];         // first moment
        v[i] = b2 * v[i] + one_minus_b2 * g[i] * g[i];  // second moment
        // w = w * (1 - lr * weight_decay) - lr * m̂ / (sqrt(v̂) + eps),
        // with m̂ = m / (1 - beta1^t), v̂ = v / (1 - beta2^t). Without weight
        // decay, decay is exactly 1 and w * decay is w, bit for bit.
        w[i] = w[i] * decay - step_size * m[i] / (std::sqrt(v[i]) * inv_sqrt_bc2 + eps);
    }
}

void sgd_chunk(float* __restrict w, float* __restrict velocity, const float* __restrict g, int64_t n, float lr,
               float momentum, float decay) {
    for (int64_t i = 0; i < n; ++i) {
        velocity[i] = momentum * velocity[i] + g[i];
        w[i] = w[i] * decay - lr * velocity[i];
    }
}

// Adam's per-step constants, folded once per call (the same arithmetic as
// PyTorch's Adam): m̂ / sqrt(v̂) = m / (1 - beta1^t) * sqrt(1 - beta2^t) / sqrt(v).
struct AdamConstants {
    float b1, one_minus_b1, b2, one_minus_b2, step_size, inv_sqrt_bc2, eps, decay;
    AdamConstants(const AdamConfig& c, int64_t step) {
        const double t = static_cast<double>(step);
        step_size = static_cast<float>(c.lr / (1.0 - std::pow(c.beta1, t)));
        inv_sqrt_bc2 = static_cast<float>(1.0 / std::sqrt(1.0 - std::pow(c.beta2, t)));
        b1 = static_cast<float>(c.beta1);
        one_minus_b1 = static_cast<float>(1.0 - c.beta1);
        b2 = static_cast<float>(c.beta2);
        one_minus_b2 = static_cast<float>(1.0 - c.beta2);
        eps = static_cast<float>(c.eps);
        // Decoupled weight decay (AdamW) as one factor applied to w first.
        decay = static_cast<float>(1.0 - c.lr * c.weight_decay);
    }
    void apply(float* w, float* m, float* v, const float* g, int64_t n) const {
        adam_chunk(w, m, v, g, n, b1, one_minus_b1, b2, one_minus_b2, step_size, inv_sqrt_bc2, eps, decay);
    }
};

// SGD's constants, in float once per call.
struct SgdConstants {
    float lr, momentum, decay;
    explicit SgdConstants(const SgdConfig& c)
        : lr(static_cast<float>(c.lr)),
          momentum(static_cast<float>(c.momentum)),
          decay(static_cast<float>(1.0 - c.lr * c.weight_decay)) {}
    void apply(float* w, float* velocity, const float* g, int64_t n) const {
        sgd_chunk(w, velocity, g, n, lr, momentum, decay);
    }
};

}  // namespace

void adam_update(float* params, float* m, float* v, const float* grads, int64_t n, int64_t step,
                 const AdamConfig& c, ThreadPool& pool) {
    const AdamConstants k(c, step);
    pool.parallel_for(n, kChunk, [&](int64_t begin, int64_t end) {
        k.apply(params + begin, m + begin, v + begin, grads + begin, end - begin);
    });
}

void adam_update_block(float* params, float* m, float* v, const float* grads, int rows, int cols, int64_t stride,
                       int64_t step, const AdamConfig& c) {
    const AdamConstants k(c, step);
    for (int r = 0; r < rows; ++r) {
        const int64_t at = r * stride;
        k.apply(params + at, m + at, v + at, grads + at, cols);
    }
}

void sgd_update(float* params, float* velocity, const float* grads, int64_t n, const SgdConfig& c,
                ThreadPool& pool) {
    const SgdConstants k(c);
    pool.parallel_for(n, kChunk, [&](int64_t begin, int64_t end) {
        k.apply(params + begin, velocity + begin, grads + begin, end - begin);
    });
}

void sgd_update_block(float* params, float* velocity, const float* grads, int rows, int cols, int64_t stride,
                      const SgdConfig& c) {
    const SgdConstants k(c);
    for (int r = 0; r < rows; ++r) {
        const int64_t at = r * stride;
        k.apply(params + at, velocity + at, grads + at, cols);
    }
}

}  // namespace fast
