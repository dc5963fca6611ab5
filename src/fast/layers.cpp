// layers.cpp (fast) — ReLU, dropout, LRN, max-pooling and dense layers,
// parallel and vectorisable. Every loop is split by what it writes (values,
// planes, images), so no two threads ever add into the same float and the
// results are the same for any thread count.
#include "fast/layers.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>
#include <vector>

#include "fast/gemm.h"
#include "fast/thread_pool.h"
#include "nn/layers.h"

namespace fast {

namespace {
constexpr int64_t kElementwiseChunk = 16384;  // floats per task in elementwise loops
}

// ---------------------------------------------------------------------------
// ReLU

void relu_forward(float* x, int64_t n, ThreadPool& pool) {
    pool.parallel_for(n, kElementwiseChunk, [&](int64_t begin, int64_t end) {
        reference::relu_forward(x + begin, end - begin);
    });
}

namespace {
// A plain function with restrict pointers, so that the compiler vectorises it
// (a compare and a mask per vector). Without restrict the pointers might
// alias, the loop stays scalar, and its branch on the sign of random data
// mispredicts half the time.
void relu_backward_chunk(float* __restrict din, const float* __restrict dout, const float* __restrict out,
                         int64_t n) {
    for (int64_t i = 0; i < n; ++i) din[i] = out[i] > 0.0f ? dout[i] : 0.0f;
}
}  // namespace

void relu_backward(float* din, const float* dout, const float* out, int64_t n, ThreadPool& pool) {
    pool.parallel_for(n, kElementwiseChunk, [&](int64_t begin, int64_t end) {
        relu_backward_chunk(din + begin, dout + begin, out + begin, end - begin);
    });
}

// ---------------------------------------------------------------------------
// Dropout

void dropout_forward(float* x, uint8_t* keep, int64_t n, float p, uint64_t seed, ThreadPool& pool) {
    const float scale = 1.0f / (1.0f - p);
    pool.parallel_for(n, kElementwiseChunk, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
            keep[i] = reference::dropout_keeps(seed, i, p);
            x[i] = keep[i] ? x[i] * scale : 0.0f;
        }
    });
}

void dropout_backward(float* dx, const float* dy, const uint8_t* keep, int64_t n, float p, ThreadPool& pool) {
    pool.parallel_for(n, kElementwiseChunk, [&](int64_t begin, int64_t end) {
        reference::dropout_backward(dx + begin, dy + begin, keep + begin, end - begin, p);
    });
}

// ---------------------------------------------------------------------------
// Local response normalisation

namespace {

using reference::kLrnAlpha;
using reference::kLrnBeta;
using reference::kLrnK;
using reference::kLrnSize;

// s^−β for the paper's β = 3/4: s^(−1/2) · s^(−1/4), two square roots,
// exact to a rounding or two and much cheaper than std::pow.
static_assert(kLrnBeta == 0.75f, "inverse_pow_beta computes s^(-3/4)");
inline float inverse_pow_beta(float s) {
    const float r = 1.0f / std::sqrt(s);
    return r * std::sqrt(r);
}

int window_first(int c) { return std::max(0, c - kLrnSize / 2); }
int window_last(int c, int channels) { return std::min(channels - 1, c + kLrnSize / 2); }

}  // namespace

void lrn_forward(float* out, float* scale, const float* in, int batch, int channels, int plane, ThreadPool& pool) {
    // One task per (image, channel) plane: it reads up to n planes of its
    // image and writes only its own. Each sum runs over whole planes, so the
    // inner loops are long and vectorise.
    pool.parallel_for(static_cast<int64_t>(batch) * channels, 4, [&](int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; ++p) {
            const int c = static_cast<int>(p % channels);
            const float* image = in + (p - c) * plane;  // (C, plane): this image's channels
            float* s = scale + p * plane;
            for (int i = 0; i < plane; ++i) s[i] = 0.0f;
            for (int j = window_first(c); j <= window_last(c, channels); ++j)
                for (int i = 0; i < plane; ++i) s[i] += image[j * plane + i] * image[j * plane + i];
            const float* x = in + p * plane;
            float* y = out + p * plane;
            for (int i = 0; i < plane; ++i) {
                s[i] = kLrnK + kLrnAlpha * s[i];
                y[i] = x[i] * inverse_pow_beta(s[i]);
            }
        }
    });
}

void lrn_backward(float* din, const float* dout, const float* in, const float* scale, int batch, int channels,
                  int plane, ThreadPool& pool) {
    // One task per image: the sum over a window needs
    // t[i] = dout[i] in[i] scale[i]^(−β−1) of every channel of the image, so
    // t is computed once per value instead of once per window holding it.
    pool.parallel_for(batch, 1, [&](int64_t begin, int64_t end) {
        thread_local std::vector<float> t;  // (C, plane) t of this image; reused, never shrunk
        t.resize(static_cast<size_t>(channels) * plane);
        for (int64_t n = begin; n < end; ++n) {
            const int64_t first = n * channels * plane;  // this image's first float
            for (int64_t i = 0; i < static_cast<int64_t>(channels) * plane; ++i) {
                const float s = scale[first + i];
                t[i] = dout[first + i] * in[first + i] * inverse_pow_beta(s) / s;
            }
            for (int c = 0; c < channels; ++c) {
                for (int i = 0; i < plane; ++i) {
                    float sum = 0.0f;
                    for (int j = window_first(c); j <= window_last(c, channels); ++j) sum += t[j * plane + i];
                    const int64_t at = first + static_cast<int64_t>(c) * plane + i;
                    din[at] = dout[at] * inverse_pow_beta(scale[at]) - 2.0f * kLrnAlpha * kLrnBeta * in[at] * sum;
                }
            }
        }
    });
}

// ---------------------------------------------------------------------------
// Max-pooling, stride 2

void maxpool_forward(float* out, int32_t* argmax, const float* in, const PoolGeometry& g, ThreadPool& pool) {
    assert(g.stride == 2 && (g.window == 2 || g.window == 3));
    const int h = g.in_h, w = g.in_w, window = g.window;
    const int oh = g.out_h(), ow = g.out_w();
    pool.parallel_for(g.planes, 8, [&](int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; ++p) {
            const float* __restrict src = in + p * h * w;
            float* __restrict dst = out + p * oh * ow;
            int32_t* __restrict arg = argmax + p * oh * ow;
            for (int y = 0; y < oh; ++y) {
                // One output row at a time, candidate by candidate: every
                // window of the row first takes its top-left input, then
                // meets the rest of its inputs in the reference's order (row
                // by row, left to right), each in one pass over the row, so
                // no window waits for the previous one. The first maximum
                // wins ties, and a NaN wins over numbers: "v != v" is true
                // only for NaN. Written as selects so they can be branch-free.
                float* __restrict best_value = dst + y * ow;
                int32_t* __restrict best = arg + y * ow;
                for (int x = 0; x < ow; ++x) {
                    best[x] = (2 * y) * w + 2 * x;
                    best_value[x] = src[best[x]];
                }
                const int row_end = std::min(2 * y + window, h);  // clipped at the plane's edge
                for (int iy = 2 * y; iy < row_end; ++iy)
                    for (int dx = 0; dx < window; ++dx) {
                        if (iy == 2 * y && dx == 0) continue;  // the top-left input, taken above
                        // Windows whose column 2x + dx is still inside the plane:
                        // 2x + dx < w, so x < (w - dx) / 2 rounded up.
                        const int x_end = std::min(ow, (w - dx + 1) / 2);
                        for (int x = 0; x < x_end; ++x) {
                            const int k = iy * w + 2 * x + dx;
                            const float v = src[k];
                            const bool wins = (v > best_value[x]) | (v != v);
                            best_value[x] = wins ? v : best_value[x];
                            best[x] = wins ? k : best[x];
                        }
                    }
            }
        }
    });
}

void maxpool_backward(float* din, const float* dout, const int32_t* argmax, const PoolGeometry& g,
                      ThreadPool& pool) {
    const int64_t in_plane = static_cast<int64_t>(g.in_h) * g.in_w;
    const int64_t out_plane = static_cast<int64_t>(g.out_h()) * g.out_w();
    // As the reference, one plane per task: each clears its input plane,
    // then adds every output's gradient into its winner.
    pool.parallel_for(g.planes, 8, [&](int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; ++p) {
            float* dst = din + p * in_plane;
            std::memset(dst, 0, sizeof(float) * in_plane);
            for (int64_t o = 0; o < out_plane; ++o) dst[argmax[p * out_plane + o]] += dout[p * out_plane + o];
        }
    });
}

// ---------------------------------------------------------------------------
// Dense

void dense_forward(float* out, const float* in, const float* weight, const float* bias, int batch,
                   int in_features, int out_features, ThreadPool& pool) {
    // out (B, OUT) = in (B, IN) · weightᵀ (IN, OUT), then + bias
    sgemm(false, true, batch, out_features, in_features, in, in_features, weight, in_features, 0.0f, out,
          out_features, pool);
    for (int b = 0; b < batch; ++b)
        for (int j = 0; j < out_features; ++j) out[b * out_features + j] += bias[j];
}

void dense_backward(float* dweight, float* dbias, float* din, const float* dout, const float* in,
                    const float* weight, int batch, int in_features, int out_features, ThreadPool& pool) {
    if (dweight) {
        // dweight (OUT, IN) = doutᵀ · in
        sgemm(true, false, out_features, in_features, batch, dout, out_features, in, in_features, 0.0f, dweight,
              in_features, pool);
        for (int j = 0; j < out_features; ++j) {
            float sum = 0.0f;
            for (int b = 0; b < batch; ++b) sum += dout[b * out_features + j];
            dbias[j] = sum;
        }
    }
    if (din == nullptr) return;
    // din (B, IN) = dout · weight
    sgemm(false, false, batch, in_features, out_features, dout, out_features, weight, in_features, 0.0f, din,
          in_features, pool);
}

}  // namespace fast
