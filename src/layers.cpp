// layers.cpp — forward and backward of every layer kind in AlexNet:
// convolution (im2col + GEMM), ReLU, 2x2 max-pooling, dense, and softmax
// cross-entropy. Each backward quotes the forward line it differentiates.
//
// Parallel loops are split by what they write (images, channels, rows), so no
// two threads ever add into the same float.
#include "layers.h"

#include <cmath>
#include <cstring>

#include "gemm.h"
#include "thread_pool.h"

// ---------------------------------------------------------------------------
// im2col / col2im

void im2col(float* col, const float* in, const ConvGeometry& g, ThreadPool& pool) {
    const int OH = g.out_h(), OW = g.out_w(), K = g.kernel;
    const int64_t cols = g.col_cols();
    const int64_t plane = static_cast<int64_t>(g.in_h) * g.in_w;
    // One task per image: image n owns columns [n*OH*OW, (n+1)*OH*OW).
    pool.run(g.batch, [&](int n) {
        for (int c = 0; c < g.in_channels; ++c) {
            const float* src = in + (static_cast<int64_t>(n) * g.in_channels + c) * plane;
            for (int kh = 0; kh < K; ++kh) {
                for (int kw = 0; kw < K; ++kw) {
                    const int row = (c * K + kh) * K + kw;
                    float* dst = col + row * cols + static_cast<int64_t>(n) * OH * OW;
                    for (int oh = 0; oh < OH; ++oh) {
                        const int ih = oh * g.stride - g.pad + kh;
                        const bool row_inside = ih >= 0 && ih < g.in_h;
                        for (int ow = 0; ow < OW; ++ow) {
                            const int iw = ow * g.stride - g.pad + kw;
                            dst[oh * OW + ow] = (row_inside && iw >= 0 && iw < g.in_w)
                                                    ? src[ih * g.in_w + iw]
                                                    : 0.0f;
                        }
                    }
                }
            }
        }
    });
}

void col2im(float* in, const float* col, const ConvGeometry& g, ThreadPool& pool) {
    const int OH = g.out_h(), OW = g.out_w(), K = g.kernel;
    const int64_t cols = g.col_cols();
    const int64_t plane = static_cast<int64_t>(g.in_h) * g.in_w;
    // One task per image: every column of image n lands in image n only.
    pool.run(g.batch, [&](int n) {
        float* image = in + static_cast<int64_t>(n) * g.in_channels * plane;
        std::memset(image, 0, sizeof(float) * g.in_channels * plane);
        for (int c = 0; c < g.in_channels; ++c) {
            float* dst = image + c * plane;
            for (int kh = 0; kh < K; ++kh) {
                for (int kw = 0; kw < K; ++kw) {
                    const int row = (c * K + kh) * K + kw;
                    const float* src = col + row * cols + static_cast<int64_t>(n) * OH * OW;
                    for (int oh = 0; oh < OH; ++oh) {
                        const int ih = oh * g.stride - g.pad + kh;
                        if (ih < 0 || ih >= g.in_h) continue;
                        for (int ow = 0; ow < OW; ++ow) {
                            const int iw = ow * g.stride - g.pad + kw;
                            if (iw >= 0 && iw < g.in_w) dst[ih * g.in_w + iw] += src[oh * OW + ow];
                        }
                    }
                }
            }
        }
    });
}

// ---------------------------------------------------------------------------
// Convolution

void conv_forward(float* out, float* col, float* gemm_out, const float* in, const float* weight,
                  const float* bias, const ConvGeometry& g, ThreadPool& pool) {
    const int OC = g.out_channels, CKK = g.col_rows();
    const int64_t NP = g.col_cols();          // N*OH*OW
    const int P = g.out_h() * g.out_w();      // OH*OW, pixels per output plane
    im2col(col, in, g, pool);
    // gemm_out (OC, N*OH*OW) = weight (OC, CKK) · col (CKK, N*OH*OW)
    sgemm(false, false, OC, static_cast<int>(NP), CKK, weight, CKK, col, static_cast<int>(NP), 0.0f,
          gemm_out, static_cast<int>(NP), pool);
    // out[n][oc][p] = gemm_out[oc][n*P + p] + bias[oc]   (to NCHW)
    pool.run(g.batch, [&](int n) {
        for (int oc = 0; oc < OC; ++oc) {
            const float* src = gemm_out + oc * NP + static_cast<int64_t>(n) * P;
            float* dst = out + (static_cast<int64_t>(n) * OC + oc) * P;
            for (int p = 0; p < P; ++p) dst[p] = src[p] + bias[oc];
        }
    });
}

void conv_backward(float* dweight, float* dbias, float* din, float* dout_t, float* dcol,
                   const float* dout, const float* col, const float* weight,
                   const ConvGeometry& g, ThreadPool& pool) {
    const int OC = g.out_channels, CKK = g.col_rows();
    const int64_t NP = g.col_cols();
    const int P = g.out_h() * g.out_w();
    const int np = static_cast<int>(NP);
    // Forward wrote out[n][oc][p] = gemm_out[oc][n*P + p]; gather dout back
    // into that (OC, N*OH*OW) layout so the GEMMs below see it as one matrix.
    pool.run(OC, [&](int oc) {
        for (int n = 0; n < g.batch; ++n) {
            const float* src = dout + (static_cast<int64_t>(n) * OC + oc) * P;
            std::memcpy(dout_t + oc * NP + static_cast<int64_t>(n) * P, src, sizeof(float) * P);
        }
    });
    // forward: out = ... + bias[oc]   =>   dbias[oc] = sum over n, p of dout
    pool.run(OC, [&](int oc) {
        double sum = 0.0;
        const float* row = dout_t + oc * NP;
        for (int64_t j = 0; j < NP; ++j) sum += row[j];
        dbias[oc] = static_cast<float>(sum);
    });
    // forward: gemm_out = weight · col   =>   dweight = dout_t · colᵀ
    sgemm(false, true, OC, CKK, np, dout_t, np, col, np, 0.0f, dweight, CKK, pool);
    if (din == nullptr) return;
    //                                    =>   dcol = weightᵀ · dout_t
    sgemm(true, false, CKK, np, OC, weight, CKK, dout_t, np, 0.0f, dcol, np, pool);
    // forward: col = im2col(in)           =>   din = col2im(dcol)
    col2im(din, dcol, g, pool);
}

// ---------------------------------------------------------------------------
// ReLU

namespace {
constexpr int64_t kElementwiseChunk = 16384;  // floats per task in elementwise loops
}

void relu_forward(float* x, int64_t n, ThreadPool& pool) {
    // x < 0 ? 0 : x, rather than max(x, 0), so that a NaN stays visible.
    pool.parallel_for(n, kElementwiseChunk, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) x[i] = x[i] < 0.0f ? 0.0f : x[i];
    });
}

void relu_backward(float* din, const float* dout, const float* out, int64_t n, ThreadPool& pool) {
    // forward: out = max(in, 0)   =>   din = dout * (in > 0) = dout * (out > 0)
    pool.parallel_for(n, kElementwiseChunk, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) din[i] = out[i] > 0.0f ? dout[i] : 0.0f;
    });
}

// ---------------------------------------------------------------------------
// Max-pooling 2x2 / 2

void maxpool_forward(float* out, int32_t* argmax, const float* in, int planes, int h, int w,
                     ThreadPool& pool) {
    const int oh = h / 2, ow = w / 2;
    pool.parallel_for(planes, 8, [&](int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; ++p) {
            const float* src = in + p * h * w;
            float* dst = out + p * oh * ow;
            int32_t* arg = argmax + p * oh * ow;
            for (int y = 0; y < oh; ++y) {
                for (int x = 0; x < ow; ++x) {
                    // First maximum wins on ties, and a NaN wins over numbers
                    // (as in PyTorch), scanning the window row by row.
                    int best = (2 * y) * w + 2 * x;
                    for (int dy = 0; dy < 2; ++dy) {
                        for (int dx = 0; dx < 2; ++dx) {
                            const int idx = (2 * y + dy) * w + 2 * x + dx;
                            if (src[idx] > src[best] || std::isnan(src[idx])) best = idx;
                        }
                    }
                    dst[y * ow + x] = src[best];
                    arg[y * ow + x] = best;
                }
            }
        }
    });
}

void maxpool_backward(float* din, const float* dout, const int32_t* argmax, int planes, int h,
                      int w, ThreadPool& pool) {
    const int oh = h / 2, ow = w / 2;
    // forward: out[o] = in[argmax[o]]   =>   din[argmax[o]] = dout[o], 0 elsewhere
    pool.parallel_for(planes, 8, [&](int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; ++p) {
            float* dst = din + p * h * w;
            std::memset(dst, 0, sizeof(float) * h * w);
            for (int o = 0; o < oh * ow; ++o) dst[argmax[p * oh * ow + o]] = dout[p * oh * ow + o];
        }
    });
}

// ---------------------------------------------------------------------------
// Dense

void dense_forward(float* out, const float* in, const float* weight, const float* bias, int batch,
                   int in_features, int out_features, ThreadPool& pool) {
    // out (B, OUT) = in (B, IN) · weightᵀ (IN, OUT)
    sgemm(false, true, batch, out_features, in_features, in, in_features, weight, in_features,
          0.0f, out, out_features, pool);
    for (int b = 0; b < batch; ++b)
        for (int j = 0; j < out_features; ++j) out[b * out_features + j] += bias[j];
}

void dense_backward(float* dweight, float* dbias, float* din, const float* dout, const float* in,
                    const float* weight, int batch, int in_features, int out_features,
                    ThreadPool& pool) {
    // forward: out = in · weightᵀ   =>   dweight (OUT, IN) = doutᵀ · in
    sgemm(true, false, out_features, in_features, batch, dout, out_features, in, in_features,
          0.0f, dweight, in_features, pool);
    // forward: out += bias         =>   dbias = sum over the batch of dout
    for (int j = 0; j < out_features; ++j) {
        float sum = 0.0f;
        for (int b = 0; b < batch; ++b) sum += dout[b * out_features + j];
        dbias[j] = sum;
    }
    if (din == nullptr) return;
    // forward: out = in · weightᵀ   =>   din (B, IN) = dout · weight
    sgemm(false, false, batch, in_features, out_features, dout, out_features, weight,
          in_features, 0.0f, din, in_features, pool);
}

// ---------------------------------------------------------------------------
// Softmax cross-entropy

double softmax_cross_entropy_forward(float* probs, int* correct, const float* logits,
                                    const uint8_t* labels, int batch, int classes) {
    double total_loss = 0.0;
    int hits = 0;
    for (int b = 0; b < batch; ++b) {
        const float* z = logits + b * classes;
        float* p = probs + b * classes;
        // log-sum-exp with the max subtracted, so exp never overflows:
        // loss = log(sum_k exp(z_k - max)) - (z_label - max)
        int best = 0;
        for (int k = 1; k < classes; ++k)
            if (z[k] > z[best]) best = k;
        const float max = z[best];
        double sum = 0.0;
        for (int k = 0; k < classes; ++k) {
            p[k] = std::exp(z[k] - max);
            sum += p[k];
        }
        for (int k = 0; k < classes; ++k) p[k] = static_cast<float>(p[k] / sum);
        total_loss += std::log(sum) - (z[labels[b]] - max);
        hits += best == labels[b];
    }
    if (correct) *correct = hits;
    return total_loss / batch;
}

void softmax_cross_entropy_backward(float* dlogits, const float* probs, const uint8_t* labels,
                                    int batch, int classes) {
    // forward: loss = mean_b [ log sum_k exp(z_bk) - z_b,label ]
    //   =>   dz_bk = (softmax(z_b)_k - [k == label_b]) / B
    const float inv_batch = 1.0f / batch;
    for (int b = 0; b < batch; ++b)
        for (int k = 0; k < classes; ++k)
            dlogits[b * classes + k] =
                (probs[b * classes + k] - (k == labels[b] ? 1.0f : 0.0f)) * inv_batch;
}
