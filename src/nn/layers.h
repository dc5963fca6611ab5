// layers.h — every operation of AlexNet, forward and backward, written as
// the maths reads: the reference kernels. Read these first.
//
// This is the clean version of the network's arithmetic, in the spirit of
// llm.c's train_gpt2.c: plain loops on one thread, no tricks. The versions
// that run fast by default live in src/fast/ (im2col and a packed GEMM,
// unrolled and vectorised loops, a thread pool); each names its twin here,
// and the tests hold them to it. `./alexnet train --reference` runs the
// whole training step through these instead, and gets the same losses to
// float rounding.
//
// Conventions (llm.c's): outputs first, then inputs, sizes last. Backward
// functions *assign* their gradients (dweight, dbias, din) rather than add
// into them: this network is a plain chain, so every gradient buffer has
// exactly one writer per step. Each backward quotes the forward line it
// differentiates. Layouts: activations NCHW, conv weights OIHW, dense
// weights [out][in].
//
// Leaves out: dilation, groups, padding modes other than zeros.
#pragma once

#include <cstdint>

#include "nn/geometry.h"
#include "nn/rng.h"

// Which version of the kernels a model runs: the tuned ones of src/fast/
// (the default), or these.
enum class KernelSet { Fast, Reference };

namespace reference {

// ---------------------------------------------------------------------------
// Convolution

// in (N,C,H,W) -> out (N,OC,OH,OW), weight (OC,C,K,K), bias (OC):
//   out[n][oc][oh][ow] = bias[oc] + Σ_c Σ_kh Σ_kw weight[oc][c][kh][kw] · in[n][c][ih][iw]
//   with ih = oh·stride − pad + kh, iw = ow·stride − pad + kw (0 outside the image).
void conv_forward(float* out, const float* in, const float* weight, const float* bias, const ConvGeometry& g);

// From dout (N,OC,OH,OW) and forward's in and weight: dweight (OC,C,K,K) and
// dbias (OC) unless dweight is null (the input's gradient alone, for a
// saliency map), and din (N,C,H,W) unless din is null.
void conv_backward(float* dweight, float* dbias, float* din, const float* dout, const float* in,
                   const float* weight, const ConvGeometry& g);

// The convolution as a matrix product (what src/fast/ computes): im2col
// copies, for every output pixel (n, oh, ow), the C*K*K inputs under the
// filter into one column of col (C*K*K, N*OH*OW):
//   col[(c, kh, kw)][(n, oh, ow)] = in[n][c][ih][iw], or 0 in the padding,
// so that out = weight (OC, C*K*K) · col, one GEMM.
void im2col(float* col, const float* in, const ConvGeometry& g);
// Its adjoint (transpose): din (N,C,H,W) = the sum, for each pixel, of every
// col entry im2col copied from it. Convolution's backward uses it on
// dcol = weightᵀ · dout.
void col2im(float* din, const float* col, const ConvGeometry& g);

// ---------------------------------------------------------------------------
// ReLU, in place on a layer's output

// x = max(x, 0) over n floats; a NaN stays NaN.
void relu_forward(float* x, int64_t n);
// din = dout where out > 0, else 0 (out is the ReLU's output: out > 0 iff in > 0).
void relu_backward(float* din, const float* dout, const float* out, int64_t n);

// ---------------------------------------------------------------------------
// Dropout (inverted), in place on a layer's output, in training only

// Whether value i survives a dropout of probability p with mask seed `seed`:
// a uniform number drawn from (seed, i) alone, so any thread can decide value
// i without drawing the ones before it, and the masks are the same for any
// thread count.
inline bool dropout_keeps(uint64_t seed, int64_t i, float p) {
    return Rng(seed + 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(i)).uniform() >= p;
}
// Keeps each of the n values with probability 1 − p, scaled by 1 / (1 − p),
// and zeroes the rest, so every value keeps its expected size and evaluation
// needs no rescaling. keep (n) records the choice for backward.
void dropout_forward(float* x, uint8_t* keep, int64_t n, float p, uint64_t seed);
// dx = dy / (1 − p) where kept, 0 where dropped (dx may be dy).
void dropout_backward(float* dx, const float* dy, const uint8_t* keep, int64_t n, float p);

// ---------------------------------------------------------------------------
// Local response normalisation across channels (the AlexNet paper, section 3.3)
//
// Each value is divided by a power of the summed squares of the values at the
// same pixel in the n channels around it:
//   out[c] = in[c] · scale[c]^−β,   scale[c] = k + α · Σ in[j]²  over j = c−n/2 .. c+n/2
// (channels past either end count as 0), with the paper's constants below.
// PyTorch's LocalResponseNorm divides α by n: the same layer there is
// LocalResponseNorm(size=5, alpha=5e-4, beta=0.75, k=2).

constexpr int kLrnSize = 5;          // n: channels in the window, centred on c
constexpr float kLrnK = 2.0f;        // k
constexpr float kLrnAlpha = 1e-4f;   // α
constexpr float kLrnBeta = 0.75f;    // β

// in (N,C,H,W) -> out (N,C,H,W); scale (N,C,H,W) = k + α·Σ in², kept for
// backward. plane = H*W.
void lrn_forward(float* out, float* scale, const float* in, int batch, int channels, int plane);
// din (N,C,H,W) from dout, forward's in and scale.
void lrn_backward(float* din, const float* dout, const float* in, const float* scale, int batch, int channels,
                  int plane);

// ---------------------------------------------------------------------------
// Max-pooling, any window and stride

// in (planes, H, W) -> out (planes, OH, OW): the largest value of each window
// (clipped at the edge). argmax (planes, OH, OW) keeps, for each output, the
// index in its (H, W) plane of the winner, for backward. Ties go to the first
// in row-major order; a NaN wins over any number (as in PyTorch).
void maxpool_forward(float* out, int32_t* argmax, const float* in, const PoolGeometry& g);
// din (planes, H, W) = 0 except din[argmax] += dout (summed where one input
// wins several overlapping windows).
void maxpool_backward(float* din, const float* dout, const int32_t* argmax, const PoolGeometry& g);

// ---------------------------------------------------------------------------
// Fully connected

// in (B, IN) -> out (B, OUT) = in · weightᵀ + bias, weight (OUT, IN).
void dense_forward(float* out, const float* in, const float* weight, const float* bias, int batch,
                   int in_features, int out_features);
// dweight (OUT, IN) = doutᵀ · in and dbias (OUT) = Σ over the batch of dout
// unless dweight is null; din (B, IN) = dout · weight unless din is null.
void dense_backward(float* dweight, float* dbias, float* din, const float* dout, const float* in,
                    const float* weight, int batch, int in_features, int out_features);

// ---------------------------------------------------------------------------
// Softmax cross-entropy, on the logits. A few hundred numbers per batch: this
// one version serves both kernel sets.

// logits (B, K) -> probs (B, K) = softmax of each row (predict: no labels).
void softmax_forward(float* probs, const float* logits, int batch, int classes);
// logits (B, K), labels (B) -> probs (B, K); returns the mean loss (in
// double) over the batch and, if correct is not null, how many argmax
// predictions match labels.
double softmax_cross_entropy_forward(float* probs, int* correct, const float* logits, const uint8_t* labels,
                                     int batch, int classes);
// dlogits (B, K) = (probs − onehot(labels)) / B: the gradient of the mean loss.
void softmax_cross_entropy_backward(float* dlogits, const float* probs, const uint8_t* labels, int batch,
                                    int classes);

}  // namespace reference
