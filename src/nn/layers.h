// layers.h — the layers of AlexNet as free forward/backward function pairs.
//
// Conventions (as in llm.c): outputs first, then inputs, sizes last. Backward
// functions *assign* their gradients (dweight, dbias, din) rather than add into
// them: this network is a plain chain, so every gradient buffer has exactly one
// writer per step, and assigning saves a separate zeroing pass.
// Layouts: activations NCHW, conv weights OIHW, dense weights [out][in].
//
// Leaves out: dilation, groups, padding modes other than zeros.
#pragma once

#include <cstdint>

class ThreadPool;

// ---------------------------------------------------------------------------
// Convolution as im2col + GEMM

struct ConvGeometry {
    int batch = 0;                            // N
    int in_channels = 0, in_h = 0, in_w = 0;  // C, H, W
    int out_channels = 0;                     // OC
    int kernel = 0, stride = 1, pad = 0;      // square kernel
    int out_h() const { return (in_h + 2 * pad - kernel) / stride + 1; }
    int out_w() const { return (in_w + 2 * pad - kernel) / stride + 1; }
    int col_rows() const { return in_channels * kernel * kernel; }                 // C*K*K
    int64_t col_cols() const { return static_cast<int64_t>(batch) * out_h() * out_w(); }  // N*OH*OW
};

// im2col for images [first, first + count) of the batch: fills their columns
// of col (C*K*K, N*OH*OW). Row (c,kh,kw), column (n,oh,ow) holds
// in[n][c][oh*stride - pad + kh][ow*stride - pad + kw], or 0 in the padding.
// Runs on the calling thread.
void im2col(float* col, const float* in, const ConvGeometry& g, int first, int count);

// The adjoint of im2col, for images [first, first + count): overwrites their
// part of in (N,C,H,W) with the sum of every col entry copied from each pixel.
void col2im(float* in, const float* col, const ConvGeometry& g, int first, int count);

// in (N,C,H,W) -> out (N,OC,OH,OW) = weight (OC, C*K*K) · im2col(in) + bias.
// col (C*K*K, N*OH*OW) is kept for backward; gemm_out (OC, N*OH*OW) is scratch.
// Each thread takes a contiguous run of images through im2col, the GEMM and
// the copy to NCHW, so the data it writes stays in its own caches.
void conv_forward(float* out, float* col, float* gemm_out, const float* in,
                  const float* weight, const float* bias, const ConvGeometry& g,
                  ThreadPool& pool);

// Given dout (N,OC,OH,OW) and forward's col, writes dweight (OC, C*K*K),
// dbias (OC) and, unless din is null, din (N,C,H,W). Scratch: dout_t
// (OC, N*OH*OW) and dcol (C*K*K, N*OH*OW).
void conv_backward(float* dweight, float* dbias, float* din, float* dout_t, float* dcol,
                   const float* dout, const float* col, const float* weight,
                   const ConvGeometry& g, ThreadPool& pool);

// The naive twins: the definitions the fast versions above must agree with,
// read them first. Used by the tests as references.
//
// im2col straight from its definition, one bounds check per value, all images.
void im2col_naive(float* col, const float* in, const ConvGeometry& g);
// Direct convolution, the six loops (plus the batch): in (N,C,H,W) ->
// out (N,OC,OH,OW), weight (OC,C,K,K), bias (OC); sums in double.
void conv_forward_naive(float* out, const float* in, const float* weight, const float* bias,
                        const ConvGeometry& g);

// ---------------------------------------------------------------------------
// ReLU, in place on the layer's output

// x = max(x, 0) over n floats.
void relu_forward(float* x, int64_t n, ThreadPool& pool);
// dx = dout where out > 0, else 0 (out is the ReLU's output; out > 0 iff in > 0).
void relu_backward(float* din, const float* dout, const float* out, int64_t n, ThreadPool& pool);

// ---------------------------------------------------------------------------
// Dropout (inverted), in place on a layer's output, in training only

// Keeps each of the n values with probability 1 - p, scaled by 1 / (1 - p),
// and zeroes the rest, so every value keeps its expected size and evaluation
// needs no rescaling. keep (n bytes) records the choice for backward. Whether
// value i is kept depends only on (seed, i), never on the thread that draws
// it: the same masks for any thread count.
void dropout_forward(float* x, uint8_t* keep, int64_t n, float p, uint64_t seed, ThreadPool& pool);
// dx = dy / (1 - p) where kept, 0 where dropped (dx may be dy).
void dropout_backward(float* dx, const float* dy, const uint8_t* keep, int64_t n, float p, ThreadPool& pool);

// ---------------------------------------------------------------------------
// Local response normalisation across channels (the AlexNet paper, section 3.3)
//
// Each value is divided by a power of the summed squares of the values at the
// same pixel in the n channels around it:
//   out[c] = in[c] / scale[c]^β,   scale[c] = k + α · Σ in[j]²  over j = c-n/2 .. c+n/2
// (channels past either end count as 0), with the paper's constants below.
// PyTorch's LocalResponseNorm divides α by n: the same layer there is
// LocalResponseNorm(size=5, alpha=5e-4, beta=0.75, k=2).

constexpr int kLrnSize = 5;          // n: channels in the window, centred on c
constexpr float kLrnK = 2.0f;        // k
constexpr float kLrnAlpha = 1e-4f;   // α
constexpr float kLrnBeta = 0.75f;    // β (lrn_forward computes scale^-β as two square roots, so 3/4 only)

// in (N,C,H,W) -> out (N,C,H,W); scale (N,C,H,W) = k + α·Σ in², kept for backward.
// plane = H*W.
void lrn_forward(float* out, float* scale, const float* in, int batch, int channels, int plane,
                 ThreadPool& pool);
// din (N,C,H,W) from dout, forward's in and scale:
//   din[j] = dout[j]·scale[j]^-β - 2αβ·in[j]·Σ_{i: j in window(i)} dout[i]·in[i]·scale[i]^(-β-1)
void lrn_backward(float* din, const float* dout, const float* in, const float* scale, int batch, int channels,
                  int plane, ThreadPool& pool);

// ---------------------------------------------------------------------------
// Max-pooling, stride 2: window 2 (2x2, the default) or 3 (3x3, the AlexNet
// paper's overlapping pooling)
//
// The output is (H/2, W/2) for both. Window 2 drops a trailing odd row or
// column; window 3 clips its last window at the edge (Caffe's rounding, and
// PyTorch's MaxPool2d(3, 2, ceil_mode=True)), so both give the same sizes and
// the rest of the network does not change.

// in (N,C,H,W) -> out (N,C,H/2,W/2); argmax (N,C,H/2,W/2) keeps, for each
// output, the index within its (H,W) input plane of the winning input.
void maxpool_forward(float* out, int32_t* argmax, const float* in, int planes, int h, int w, int window,
                     ThreadPool& pool);
// din (N,C,H,W) = 0 except din[argmax] += dout (summed where one input wins
// several windows).  planes = N*C.
void maxpool_backward(float* din, const float* dout, const int32_t* argmax, int planes, int h,
                      int w, ThreadPool& pool);

// ---------------------------------------------------------------------------
// Fully connected

// in (B, IN) -> out (B, OUT) = in · weightᵀ + bias, weight (OUT, IN).
void dense_forward(float* out, const float* in, const float* weight, const float* bias,
                   int batch, int in_features, int out_features, ThreadPool& pool);
// dweight (OUT, IN) = doutᵀ · in, dbias (OUT) = column sums of dout,
// din (B, IN) = dout · weight unless din is null.
void dense_backward(float* dweight, float* dbias, float* din, const float* dout,
                    const float* in, const float* weight, int batch, int in_features,
                    int out_features, ThreadPool& pool);

// ---------------------------------------------------------------------------
// Softmax cross-entropy, fused on the logits

// logits (B, K) -> probs (B, K) = softmax of each row (for predict: no labels).
void softmax_forward(float* probs, const float* logits, int batch, int classes);
// logits (B, K), labels (B) -> probs (B, K); returns the mean loss (in double) over the
// batch and, if correct is not null, how many argmax predictions match labels.
double softmax_cross_entropy_forward(float* probs, int* correct, const float* logits,
                                    const uint8_t* labels, int batch, int classes);
// dlogits (B, K) = (probs - onehot(labels)) / B: the gradient of the mean loss.
void softmax_cross_entropy_backward(float* dlogits, const float* probs, const uint8_t* labels,
                                    int batch, int classes);
