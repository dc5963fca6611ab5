// layers.h (fast) — the tuned versions of the network's other kernels: ReLU,
// dropout, local response normalisation, max-pooling and the dense layers.
// Each computes what its twin in nn/layers.h (namespace reference) computes,
// split over the thread pool by what it writes; the comment on each says
// what it does differently.
#pragma once

#include <cstdint>
#include <functional>

#include "nn/geometry.h"

class ThreadPool;

namespace fast {

// Called by the fused backward passes for each block of a layer's parameter
// gradients as soon as it is complete: `rows` rows of `cols` parameters,
// `stride` apart, from `first` in the weight (tensor 0) or the bias (tensor
// 1). Called from the pool's threads at once, for blocks that never overlap.
using BlockUpdate = std::function<void(int tensor, int64_t first, int rows, int cols, int64_t stride)>;

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
// 2 or 3, window by window with the running winner in registers.
void maxpool_forward(float* out, int32_t* argmax, const float* in, const PoolGeometry& g, ThreadPool& pool);
void maxpool_backward(float* din, const float* dout, const int32_t* argmax, const PoolGeometry& g,
                      ThreadPool& pool);

// reference::dense_forward / dense_backward as GEMMs (fast/gemm.h); as there,
// a null dweight skips the parameter gradients, a null din the input's.
// dense_backward is dense_layer_backward (below) without ReLU or dropout:
// it only reads dout.
void dense_forward(float* out, const float* in, const float* weight, const float* bias, int batch, int in_features,
                   int out_features, ThreadPool& pool);
void dense_backward(float* dweight, float* dbias, float* din, float* dout, const float* in, const float* weight,
                    int batch, int in_features, int out_features, ThreadPool& pool);

// A whole dense layer forward in one hand-off: out = in · weightᵀ + bias,
// then ReLU (if relu) and dropout (if keep is not null: reference::dropout_forward
// with p and seed), each thread taking a range of the outputs. The same bits
// as those kernels called one after the other.
void dense_layer_forward(float* out, const float* in, const float* weight, const float* bias, int batch,
                         int in_features, int out_features, bool relu, uint8_t* keep, float p, uint64_t seed,
                         ThreadPool& pool);

// A whole dense layer backward in three hand-offs. First, by blocks of
// outputs: dout back through dropout (if keep is not null) and ReLU (if
// relu), and dbias. Then, by columns: din = dout · weight, each thread
// reading only its columns of the weights. Last, by blocks of rows:
// dweight = doutᵀ · in, a block of about 32K weights at a time. `update`, if
// given, is called for each block of dweight and dbias as soon as it is
// complete and nothing will read those weights again: a contiguous run of
// parameters (one row), still in cache.
struct DenseLayerGradients {
    float* dout = nullptr;          // (B, OUT) the gradient coming in; then, its value behind dropout and ReLU
    const float* out = nullptr;     // (B, OUT) forward's output, after ReLU and dropout (read if relu)
    const uint8_t* keep = nullptr;  // (B, OUT) dropout's mask, or null: none
    float dropout = 0.0f;           // its probability
    bool relu = true;               // whether forward applied a ReLU
    const float* in = nullptr;      // (B, IN) forward's input
    const float* weight = nullptr;  // (OUT, IN)
    float* dweight = nullptr;       // (OUT, IN), or null: no parameter gradients
    float* dbias = nullptr;         // (OUT)
    float* din = nullptr;           // (B, IN)
};
void dense_layer_backward(const DenseLayerGradients& gradients, int batch, int in_features, int out_features,
                          const BlockUpdate& update, ThreadPool& pool);
// The rows of dweight in one block of its last phase.
int dense_weight_rows_block(int in_features, int out_features);

// The same for one image, in inference: a matrix-vector product that reads
// each weight once, with full-width vector loads along its row (a GEMM would
// use one lane of NR). Each output sums its products in kDotLanes interleaved
// partial sums added in a fixed order at the end, so every vector width gives
// the same bits; they differ from the batch path's in the last bits.
constexpr int kDotLanes = 16;
void dense_forward_one(float* out, const float* in, const float* weight, const float* bias, int in_features,
                       int out_features, bool relu, ThreadPool& pool);
// Outputs [first, first + count) of task t of `tasks`, in blocks of `block`
// outputs (whole micro-kernel strips, or the four rows dot_rows takes at a
// time), the last task taking the rest.
void output_share(int outputs, int tasks, int t, int block, int* first, int* count);

// Its kernel, on the calling thread, for rows [o0, o0 + rows) of weight
// (OUT, IN) and `inputs` input vectors in_stride apart: output (o, x),
// bias[o] + Σ_k in_x[k] · weight[o][k] (then ReLU if relu), is written at
// out[o * out_stride + x]. The convolution of one image uses it too, with
// each output pixel's patch as an input.
void dot_rows(float* out, int64_t out_stride, const float* in, int64_t in_stride, int inputs, const float* weight,
              const float* bias, int in_features, int o0, int rows, bool relu);

}  // namespace fast
