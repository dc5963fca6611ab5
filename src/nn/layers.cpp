// layers.cpp — the reference kernels: every layer's forward and backward as
// plain loops over the definitions in layers.h, on one thread. Each backward
// quotes the forward line it differentiates.
#include "nn/layers.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace reference {

namespace {

// Index of element (a, b, c, d) of a 4-d row-major array of shape (·, B, C, D).
inline int64_t at4(int64_t a, int64_t b, int64_t c, int64_t d, int64_t B, int64_t C, int64_t D) {
    return ((a * B + b) * C + c) * D + d;
}

}  // namespace

// ---------------------------------------------------------------------------
// Convolution

void conv_forward(float* out, const float* in, const float* weight, const float* bias, const ConvGeometry& g) {
    const int C = g.in_channels, H = g.in_h, W = g.in_w, OC = g.out_channels, K = g.kernel;
    const int OH = g.out_h(), OW = g.out_w();
    for (int n = 0; n < g.batch; ++n)
        for (int oc = 0; oc < OC; ++oc)
            for (int oh = 0; oh < OH; ++oh)
                for (int ow = 0; ow < OW; ++ow) {
                    float sum = bias[oc];
                    for (int c = 0; c < C; ++c)
                        for (int kh = 0; kh < K; ++kh)
                            for (int kw = 0; kw < K; ++kw) {
                                const int ih = oh * g.stride - g.pad + kh, iw = ow * g.stride - g.pad + kw;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;  // padding: 0
                                sum += weight[at4(oc, c, kh, kw, C, K, K)] * in[at4(n, c, ih, iw, C, H, W)];
                            }
                    out[at4(n, oc, oh, ow, OC, OH, OW)] = sum;
                }
}

void conv_backward(float* dweight, float* dbias, float* din, const float* dout, const float* in,
                   const float* weight, const ConvGeometry& g) {
    const int C = g.in_channels, H = g.in_h, W = g.in_w, OC = g.out_channels, K = g.kernel;
    const int OH = g.out_h(), OW = g.out_w();
    if (dweight) std::fill(dweight, dweight + static_cast<int64_t>(OC) * C * K * K, 0.0f);
    if (dweight) std::fill(dbias, dbias + OC, 0.0f);
    if (din) std::fill(din, din + static_cast<int64_t>(g.batch) * C * H * W, 0.0f);
    for (int n = 0; n < g.batch; ++n)
        for (int oc = 0; oc < OC; ++oc)
            for (int oh = 0; oh < OH; ++oh)
                for (int ow = 0; ow < OW; ++ow) {
                    const float d = dout[at4(n, oc, oh, ow, OC, OH, OW)];
                    // forward: out = bias[oc] + ...   =>   dbias[oc] += dout
                    if (dweight) dbias[oc] += d;
                    for (int c = 0; c < C; ++c)
                        for (int kh = 0; kh < K; ++kh)
                            for (int kw = 0; kw < K; ++kw) {
                                const int ih = oh * g.stride - g.pad + kh, iw = ow * g.stride - g.pad + kw;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                // forward: out += weight[oc][c][kh][kw] · in[n][c][ih][iw]
                                if (dweight) dweight[at4(oc, c, kh, kw, C, K, K)] += d * in[at4(n, c, ih, iw, C, H, W)];
                                if (din) din[at4(n, c, ih, iw, C, H, W)] += d * weight[at4(oc, c, kh, kw, C, K, K)];
                            }
                }
}

void im2col(float* col, const float* in, const ConvGeometry& g) {
    const int C = g.in_channels, H = g.in_h, W = g.in_w, K = g.kernel, OH = g.out_h(), OW = g.out_w();
    for (int c = 0; c < C; ++c)
        for (int kh = 0; kh < K; ++kh)
            for (int kw = 0; kw < K; ++kw)                     // row (c, kh, kw) of col
                for (int n = 0; n < g.batch; ++n)
                    for (int oh = 0; oh < OH; ++oh)
                        for (int ow = 0; ow < OW; ++ow) {      // column (n, oh, ow)
                            const int ih = oh * g.stride - g.pad + kh, iw = ow * g.stride - g.pad + kw;
                            const bool inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
                            *col++ = inside ? in[at4(n, c, ih, iw, C, H, W)] : 0.0f;
                        }
}

void col2im(float* din, const float* col, const ConvGeometry& g) {
    const int C = g.in_channels, H = g.in_h, W = g.in_w, K = g.kernel, OH = g.out_h(), OW = g.out_w();
    std::fill(din, din + static_cast<int64_t>(g.batch) * C * H * W, 0.0f);
    for (int c = 0; c < C; ++c)
        for (int kh = 0; kh < K; ++kh)
            for (int kw = 0; kw < K; ++kw)
                for (int n = 0; n < g.batch; ++n)
                    for (int oh = 0; oh < OH; ++oh)
                        for (int ow = 0; ow < OW; ++ow) {
                            const int ih = oh * g.stride - g.pad + kh, iw = ow * g.stride - g.pad + kw;
                            const bool inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
                            // forward: col[...] = in[n][c][ih][iw]   =>   din[n][c][ih][iw] += dcol[...]
                            if (inside) din[at4(n, c, ih, iw, C, H, W)] += *col;
                            ++col;  // what fell on the padding has no pixel to go to
                        }
}

// ---------------------------------------------------------------------------
// ReLU

void relu_forward(float* x, int64_t n) {
    // x < 0 ? 0 : x, rather than max(x, 0), so that a NaN stays visible.
    for (int64_t i = 0; i < n; ++i) x[i] = x[i] < 0.0f ? 0.0f : x[i];
}

void relu_backward(float* din, const float* dout, const float* out, int64_t n) {
    // forward: out = max(in, 0)   =>   din = dout · [in > 0] = dout · [out > 0]
    for (int64_t i = 0; i < n; ++i) din[i] = out[i] > 0.0f ? dout[i] : 0.0f;
}

// ---------------------------------------------------------------------------
// Dropout

void dropout_forward(float* x, uint8_t* keep, int64_t n, float p, uint64_t seed) {
    const float scale = 1.0f / (1.0f - p);
    for (int64_t i = 0; i < n; ++i) {
        keep[i] = dropout_keeps(seed, i, p);
        x[i] = keep[i] ? x[i] * scale : 0.0f;
    }
}

void dropout_backward(float* dx, const float* dy, const uint8_t* keep, int64_t n, float p) {
    // forward: y = keep ? x / (1 − p) : 0   =>   dx = keep ? dy / (1 − p) : 0
    const float scale = 1.0f / (1.0f - p);
    for (int64_t i = 0; i < n; ++i) dx[i] = keep[i] ? dy[i] * scale : 0.0f;
}

// ---------------------------------------------------------------------------
// Local response normalisation

namespace {

// The channels of the window centred on c: c − n/2 .. c + n/2, clipped. The
// window is symmetric, so these are also the channels whose window holds c.
int window_first(int c) { return std::max(0, c - kLrnSize / 2); }
int window_last(int c, int channels) { return std::min(channels - 1, c + kLrnSize / 2); }

}  // namespace

void lrn_forward(float* out, float* scale, const float* in, int batch, int channels, int plane) {
    for (int n = 0; n < batch; ++n)
        for (int c = 0; c < channels; ++c)
            for (int i = 0; i < plane; ++i) {
                float sum = 0.0f;
                for (int j = window_first(c); j <= window_last(c, channels); ++j) {
                    const float x = in[(static_cast<int64_t>(n) * channels + j) * plane + i];
                    sum += x * x;
                }
                const int64_t at = (static_cast<int64_t>(n) * channels + c) * plane + i;
                scale[at] = kLrnK + kLrnAlpha * sum;
                out[at] = in[at] * std::pow(scale[at], -kLrnBeta);
            }
}

void lrn_backward(float* din, const float* dout, const float* in, const float* scale, int batch, int channels,
                  int plane) {
    // forward: out[i] = in[i] · s[i]^−β,  s[i] = k + α Σ_{j in window(i)} in[j]²
    //   ∂out[i]/∂in[j] = [i = j] s[i]^−β − 2αβ · in[i] · in[j] · s[i]^(−β−1)   (j in window(i))
    //   =>  din[j] = dout[j] s[j]^−β − 2αβ · in[j] · Σ_{i: j in window(i)} dout[i] in[i] s[i]^(−β−1)
    for (int n = 0; n < batch; ++n)
        for (int c = 0; c < channels; ++c)
            for (int p = 0; p < plane; ++p) {
                const int64_t at = (static_cast<int64_t>(n) * channels + c) * plane + p;
                float sum = 0.0f;
                for (int i = window_first(c); i <= window_last(c, channels); ++i) {
                    const int64_t ai = (static_cast<int64_t>(n) * channels + i) * plane + p;
                    sum += dout[ai] * in[ai] * std::pow(scale[ai], -kLrnBeta - 1.0f);
                }
                din[at] = dout[at] * std::pow(scale[at], -kLrnBeta) - 2.0f * kLrnAlpha * kLrnBeta * in[at] * sum;
            }
}

// ---------------------------------------------------------------------------
// Max-pooling

void maxpool_forward(float* out, int32_t* argmax, const float* in, const PoolGeometry& g) {
    const int H = g.in_h, W = g.in_w, OH = g.out_h(), OW = g.out_w();
    for (int p = 0; p < g.planes; ++p)
        for (int oy = 0; oy < OH; ++oy)
            for (int ox = 0; ox < OW; ++ox) {
                int best = -1;
                for (int y = oy * g.stride; y < std::min(oy * g.stride + g.window, H); ++y)
                    for (int x = ox * g.stride; x < std::min(ox * g.stride + g.window, W); ++x) {
                        const float v = in[(static_cast<int64_t>(p) * H + y) * W + x];
                        // "v != v" holds only for NaN, which wins as in PyTorch.
                        if (best < 0 || v > in[static_cast<int64_t>(p) * H * W + best] || v != v) best = y * W + x;
                    }
                const int64_t o = (static_cast<int64_t>(p) * OH + oy) * OW + ox;
                argmax[o] = best;
                out[o] = in[static_cast<int64_t>(p) * H * W + best];
            }
}

void maxpool_backward(float* din, const float* dout, const int32_t* argmax, const PoolGeometry& g) {
    const int64_t in_plane = static_cast<int64_t>(g.in_h) * g.in_w;
    const int64_t out_plane = static_cast<int64_t>(g.out_h()) * g.out_w();
    std::fill(din, din + g.planes * in_plane, 0.0f);
    // forward: out[o] = in[argmax[o]]   =>   din[argmax[o]] += dout[o]
    // Added, not assigned: an input can win two overlapping windows.
    for (int p = 0; p < g.planes; ++p)
        for (int64_t o = 0; o < out_plane; ++o) din[p * in_plane + argmax[p * out_plane + o]] += dout[p * out_plane + o];
}

// ---------------------------------------------------------------------------
// Dense

void dense_forward(float* out, const float* in, const float* weight, const float* bias, int batch,
                   int in_features, int out_features) {
    for (int b = 0; b < batch; ++b)
        for (int o = 0; o < out_features; ++o) {
            // out[b][o] = bias[o] + Σ_i in[b][i] · weight[o][i]
            float sum = bias[o];
            for (int i = 0; i < in_features; ++i)
                sum += in[static_cast<int64_t>(b) * in_features + i] * weight[static_cast<int64_t>(o) * in_features + i];
            out[static_cast<int64_t>(b) * out_features + o] = sum;
        }
}

void dense_backward(float* dweight, float* dbias, float* din, const float* dout, const float* in,
                    const float* weight, int batch, int in_features, int out_features) {
    for (int o = 0; dweight && o < out_features; ++o) {
        // forward: out[b][o] = bias[o] + ...   =>   dbias[o] = Σ_b dout[b][o]
        float sum = 0.0f;
        for (int b = 0; b < batch; ++b) sum += dout[static_cast<int64_t>(b) * out_features + o];
        dbias[o] = sum;
        // forward: out[b][o] += in[b][i] · weight[o][i]   =>   dweight[o][i] = Σ_b dout[b][o] · in[b][i]
        for (int i = 0; i < in_features; ++i) {
            float w = 0.0f;
            for (int b = 0; b < batch; ++b)
                w += dout[static_cast<int64_t>(b) * out_features + o] * in[static_cast<int64_t>(b) * in_features + i];
            dweight[static_cast<int64_t>(o) * in_features + i] = w;
        }
    }
    if (din == nullptr) return;
    //                                                  =>   din[b][i] = Σ_o dout[b][o] · weight[o][i]
    for (int b = 0; b < batch; ++b)
        for (int i = 0; i < in_features; ++i) {
            float sum = 0.0f;
            for (int o = 0; o < out_features; ++o)
                sum += dout[static_cast<int64_t>(b) * out_features + o] * weight[static_cast<int64_t>(o) * in_features + i];
            din[static_cast<int64_t>(b) * in_features + i] = sum;
        }
}

// ---------------------------------------------------------------------------
// Softmax cross-entropy

namespace {

// p (K) = softmax(z (K)), with the max subtracted first so that exp never
// overflows: p_k = exp(z_k − max) / Σ_j exp(z_j − max). Sets *best to the
// argmax (the first of ties) and returns log Σ_j exp(z_j − max).
double softmax_row(float* p, const float* z, int classes, int* best) {
    *best = 0;
    for (int k = 1; k < classes; ++k)
        if (z[k] > z[*best]) *best = k;
    const float max = z[*best];
    double sum = 0.0;
    for (int k = 0; k < classes; ++k) {
        p[k] = std::exp(z[k] - max);
        sum += p[k];
    }
    for (int k = 0; k < classes; ++k) p[k] = static_cast<float>(p[k] / sum);
    return std::log(sum);
}

}  // namespace

void softmax_forward(float* probs, const float* logits, int batch, int classes) {
    int best;
    for (int b = 0; b < batch; ++b) softmax_row(probs + b * classes, logits + b * classes, classes, &best);
}

double softmax_cross_entropy_forward(float* probs, int* correct, const float* logits, const uint8_t* labels,
                                     int batch, int classes) {
    double total_loss = 0.0;
    int hits = 0;
    for (int b = 0; b < batch; ++b) {
        const float* z = logits + b * classes;
        int best;
        // loss = log Σ_k exp(z_k − max) − (z_label − max)
        const double log_sum = softmax_row(probs + b * classes, z, classes, &best);
        total_loss += log_sum - (z[labels[b]] - z[best]);
        hits += best == labels[b];
    }
    if (correct) *correct = hits;
    return total_loss / batch;
}

void softmax_cross_entropy_backward(float* dlogits, const float* probs, const uint8_t* labels, int batch,
                                    int classes) {
    // forward: loss = mean_b [ log Σ_k exp(z_bk) − z_b,label ]
    //   =>   dz_bk = (softmax(z_b)_k − [k = label_b]) / B
    const float inv_batch = 1.0f / batch;
    for (int b = 0; b < batch; ++b)
        for (int k = 0; k < classes; ++k)
            dlogits[b * classes + k] = (probs[b * classes + k] - (k == labels[b] ? 1.0f : 0.0f)) * inv_batch;
}

}  // namespace reference
