// layers.h (fast) — the tuned versions of the network's other kernels: ReLU,
// dropout, local response normalisation, max-pooling and the dense layers.
// Each computes what its twin in nn/layers.h (namespace reference) computes,
// split over the thread pool by what it writes; the comment on each says
// what it does differently.
#pragma once

#include <cstdint>

#include "nn/geometry.h"

class ThreadPool;

namespace fast {

// reference::relu_forward / relu_backward, in parallel chunks.
void relu_forward(float* x, int64_t n, ThreadPool& pool);
void relu_backward(float* din, const float* dout, const float* out, int64_t n, ThreadPool& pool);

// reference::dropout_forward / dropout_backward, in parallel chunks: the same
// masks, since each value's draw depends only on (seed, index).
void dropout_forward(float* x, uint8_t* keep, int64_t n, float p, uint64_t seed, ThreadPool& pool);
void dropout_backward(float* dx, const float* dy, const uint8_t* keep, int64_t n, float p, ThreadPool& pool);

// reference::lrn_forward / lrn_backward with s^−3/4 as two square roots
// instead of std::pow, parallel over planes (forward) or images (backward).
void lrn_forward(float* out, float* scale, const float* in, int batch, int channels, int plane, ThreadPool& pool);
void lrn_backward(float* din, const float* dout, const float* in, const float* scale, int batch, int channels,
                  int plane, ThreadPool& pool);

// reference::maxpool_forward / maxpool_backward for stride 2 and windows of
// 2 or 3, the candidates of a whole output row compared at once.
void maxpool_forward(float* out, int32_t* argmax, const float* in, const PoolGeometry& g, ThreadPool& pool);
void maxpool_backward(float* din, const float* dout, const int32_t* argmax, const PoolGeometry& g,
                      ThreadPool& pool);

// reference::dense_forward / dense_backward as GEMMs (fast/gemm.h); as there,
// a null dweight skips the parameter gradients, a null din the input's.
void dense_forward(float* out, const float* in, const float* weight, const float* bias, int batch, int in_features,
                   int out_features, ThreadPool& pool);
void dense_backward(float* dweight, float* dbias, float* din, const float* dout, const float* in,
                    const float* weight, int batch, int in_features, int out_features, ThreadPool& pool);

}  // namespace fast
