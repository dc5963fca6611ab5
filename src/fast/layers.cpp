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
#include "fast/simd.h"
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

namespace {

// The window's running winner meets candidate k: it takes k if k's value is
// greater, or a NaN (v != v only for NaN); a tie keeps the earlier one.
inline void meet(const float* plane, int k, float& best_value, int& best) {
    const float v = plane[k];
    const bool takes = (v > best_value) | (v != v);
    best_value = takes ? v : best_value;
    best = takes ? k : best;
}

}  // namespace

void maxpool_forward(float* out, int32_t* argmax, const float* in, const PoolGeometry& g, ThreadPool& pool) {
    assert(g.stride == 2 && (g.window == 2 || g.window == 3));
    const int h = g.in_h, w = g.in_w, window = g.window;
    const int oh = g.out_h(), ow = g.out_w();
    pool.parallel_for(g.planes, 8, [&](int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; ++p) {
            const float* plane = in + p * h * w;
            float* values = out + p * oh * ow;
            int32_t* winners = argmax + p * oh * ow;
            for (int y = 0; y < oh; ++y)
                for (int x = 0; x < ow; ++x) {
                    // The window's inputs in the reference's order: row by
                    // row, left to right, from its top-left one. Window by
                    // window with its running winner in registers: windows
                    // are independent, so the CPU overlaps their compares.
                    const int top_left = (2 * y) * w + 2 * x;
                    float best_value = plane[top_left];
                    int best = top_left;
                    if (window == 2) {  // never clipped: 2y + 1 < h and 2x + 1 < w
                        meet(plane, top_left + 1, best_value, best);
                        meet(plane, top_left + w, best_value, best);
                        meet(plane, top_left + w + 1, best_value, best);
                    } else {  // 3x3, clipped at the plane's edge
                        const int rows = std::min(3, h - 2 * y), cols = std::min(3, w - 2 * x);
                        for (int dy = 0; dy < rows; ++dy)
                            for (int dx = dy == 0 ? 1 : 0; dx < cols; ++dx)
                                meet(plane, top_left + dy * w + dx, best_value, best);
                    }
                    values[y * ow + x] = best_value;
                    winners[y * ow + x] = best;
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

void output_share(int outputs, int tasks, int t, int block, int* first, int* count) {
    const int blocks = (outputs + block - 1) / block;
    int b0, nb;
    ThreadPool::share(blocks, tasks, t, &b0, &nb);
    *first = std::min(outputs, b0 * block);
    *count = std::min(outputs, (b0 + nb) * block) - *first;
}

void dense_layer_forward(float* out, const float* in, const float* weight, const float* bias, int batch,
                         int in_features, int out_features, bool relu, uint8_t* keep, float p, uint64_t seed,
                         ThreadPool& pool) {
    const float scale = 1.0f / (1.0f - p);
    pool.run(pool.size(), [&](int t) {
        int o0, count;
        output_share(out_features, pool.size(), t, 32, &o0, &count);
        if (count == 0) return;
        // out[:, o0 : o0 + count] = in (B, IN) · weight[o0 : o0 + count]ᵀ
        sgemm(false, true, batch, count, in_features, in, in_features, weight + static_cast<int64_t>(o0) * in_features,
              in_features, 0.0f, out + o0, out_features, ThreadPool::serial());
        for (int b = 0; b < batch; ++b)
            for (int j = o0; j < o0 + count; ++j) {
                const int64_t at = static_cast<int64_t>(b) * out_features + j;
                float v = out[at] + bias[j];
                if (relu) v = v < 0.0f ? 0.0f : v;
                if (keep) {
                    keep[at] = reference::dropout_keeps(seed, at, p);
                    v = keep[at] ? v * scale : 0.0f;
                }
                out[at] = v;
            }
    });
}

namespace {

// The 16 partial sums (NV vectors of W lanes) added as a fixed tree: each
// half onto the other, lane j += lane j + width for width 8, 4, 2, 1, in
// registers: the loop over `lanes` below, for rows without a tail. (That
// loop, as g++ compiles it, stores the lanes and reads them back one float at
// a time, and the reduction cost as much as a short row's products. The
// tail's rows keep that loop: putting their lanes back into the vectors to
// share this tree made the compiler keep the partial sums in memory in the
// main loop.)
using Vec8 = float __attribute__((vector_size(8 * sizeof(float))));
using Vec4 = float __attribute__((vector_size(4 * sizeof(float))));
using Vec2 = float __attribute__((vector_size(2 * sizeof(float))));
static_assert(kDotLanes == 16, "tree_sum adds 16 lanes");

template <typename V, int W = sizeof(V) / sizeof(float)>  // V: simd::Vec, W floats
float tree_sum(const V* partial) {
    Vec8 eight;  // lanes j + j+8
    if constexpr (W == 16) {
        eight = __builtin_shufflevector(partial[0], partial[0], 0, 1, 2, 3, 4, 5, 6, 7) +
                __builtin_shufflevector(partial[0], partial[0], 8, 9, 10, 11, 12, 13, 14, 15);
    } else if constexpr (W == 8) {
        eight = partial[0] + partial[1];
    } else {
        static_assert(W == 4, "vectors of 4, 8 or 16 floats");
        const Vec4 low = partial[0] + partial[2], high = partial[1] + partial[3];
        eight = __builtin_shufflevector(low, high, 0, 1, 2, 3, 4, 5, 6, 7);
    }
    const Vec4 four = __builtin_shufflevector(eight, eight, 0, 1, 2, 3) +
                      __builtin_shufflevector(eight, eight, 4, 5, 6, 7);
    const Vec2 two = __builtin_shufflevector(four, four, 0, 1) + __builtin_shufflevector(four, four, 2, 3);
    return two[0] + two[1];
}

// out[(o + r) * out_stride] = bias[o + r] + Σ_k in[k] · weight[o + r][k] for
// R rows from o, each vector of `in` loaded once for all R. R is a template
// argument so that the R x NV partial sums are whole registers: with a
// run-time row count the compiler keeps them in memory, and every FMA waits
// on a store and a load.
template <int R>
void dot_block(float* out, int64_t out_stride, const float* in, const float* weight, const float* bias,
               int in_features, int o, bool relu) {
    constexpr int NV = kDotLanes / simd::kWidth;  // vectors per row's partial sums
    static_assert(kDotLanes % simd::kWidth == 0, "the partial sums fill whole vectors");
    const int whole = in_features / kDotLanes * kDotLanes;
    const float* w[R];
    for (int r = 0; r < R; ++r) w[r] = weight + static_cast<int64_t>(o + r) * in_features;
    simd::Vec acc[R][NV] = {};
    for (int k = 0; k < whole; k += kDotLanes)
        for (int v = 0; v < NV; ++v) {
            const simd::Vec x = simd::load(in + k + v * simd::kWidth);
            for (int r = 0; r < R; ++r) acc[r][v] = simd::fmadd(simd::load(w[r] + k + v * simd::kWidth), x, acc[r][v]);
        }
    for (int r = 0; r < R; ++r) {
        float sum;
        if (whole == in_features) {
            sum = tree_sum(acc[r]);
        } else {
            float lanes[kDotLanes];
            for (int v = 0; v < NV; ++v) simd::store(lanes + v * simd::kWidth, acc[r][v]);
            for (int k = whole; k < in_features; ++k) {  // the tail, into its lane, rounded as the vectors are
                float& lane = lanes[k % kDotLanes];
                lane = simd::kFusedMultiplyAdd ? std::fma(w[r][k], in[k], lane) : w[r][k] * in[k] + lane;
            }
            for (int width = kDotLanes / 2; width >= 1; width /= 2)  // the same tree, in memory
                for (int j = 0; j < width; ++j) lanes[j] += lanes[j + width];
            sum = lanes[0];
        }
        const float value = sum + bias[o + r];
        out[(o + r) * out_stride] = relu && value < 0.0f ? 0.0f : value;
    }
}

}  // namespace

// Rows [o0, o0 + rows) four at a time, then one at a time; each group of
// rows meets every input in turn while its weights are in L1.
void dot_rows(float* out, int64_t out_stride, const float* in, int64_t in_stride, int inputs, const float* weight,
              const float* bias, int in_features, int o0, int rows, bool relu) {
    int o = o0;
    for (; o + 4 <= o0 + rows; o += 4)
        for (int x = 0; x < inputs; ++x)
            dot_block<4>(out + x, out_stride, in + x * in_stride, weight, bias, in_features, o, relu);
    for (; o < o0 + rows; ++o)
        for (int x = 0; x < inputs; ++x)
            dot_block<1>(out + x, out_stride, in + x * in_stride, weight, bias, in_features, o, relu);
}

void dense_forward_one(float* out, const float* in, const float* weight, const float* bias, int in_features,
                       int out_features, bool relu, ThreadPool& pool) {
    // Each thread reads its own rows of the weights: split where the work is,
    // unless the layer is too small to repay a hand-off.
    const int64_t weights = static_cast<int64_t>(in_features) * out_features;
    const int tasks = weights < (int64_t{1} << 16) ? 1 : pool.size();
    pool.run(tasks, [&](int t) {
        int o0, count;
        output_share(out_features, tasks, t, 4, &o0, &count);
        dot_rows(out, 1, in, in_features, 1, weight, bias, in_features, o0, count, relu);
    });
}

namespace {

// dout[:, o0 : o0 + count] back through dropout (if keep) and ReLU (if relu),
// in place: reference::dropout_backward and relu_backward on those columns.
void dense_output_gradient(const DenseLayerGradients& d, int batch, int out_features, int o0, int count) {
    const float scale = 1.0f / (1.0f - d.dropout);
    for (int b = 0; b < batch; ++b)
        for (int j = o0; j < o0 + count; ++j) {
            const int64_t at = static_cast<int64_t>(b) * out_features + j;
            float g = d.dout[at];
            if (d.keep) g = d.keep[at] ? g * scale : 0.0f;    // out = dropout(·)
            if (d.relu) g = d.out[at] > 0.0f ? g : 0.0f;      // out = relu(·)
            d.dout[at] = g;
        }
}

}  // namespace

int dense_weight_rows_block(int in_features, int out_features) {
    // About 32K weights (128 KB) per block, so that the block of dweight is
    // still in cache when the optimizer reads it; whole micro-kernel strips.
    const int strip = sgemm_register_block_rows();
    const int rows = std::max(1, 32768 / std::max(1, in_features)) / strip * strip;
    return std::min(out_features, std::max(strip, rows));
}

void dense_layer_backward(const DenseLayerGradients& d, int batch, int in_features, int out_features,
                          const BlockUpdate& update, ThreadPool& pool) {
    // 1. By blocks of outputs: dout through dropout and ReLU, then dbias.
    pool.run(pool.size(), [&](int t) {
        int o0, count;
        output_share(out_features, pool.size(), t, 32, &o0, &count);
        if (count == 0) return;
        if (d.keep || d.relu) dense_output_gradient(d, batch, out_features, o0, count);
        if (d.dweight == nullptr) return;
        // forward: out = ... + bias   =>   dbias[j] = Σ_b dout[b][j]
        for (int j = o0; j < o0 + count; ++j) {
            float sum = 0.0f;
            for (int b = 0; b < batch; ++b) sum += d.dout[static_cast<int64_t>(b) * out_features + j];
            d.dbias[j] = sum;
        }
        if (update) update(1, o0, 1, count, 0);
    });
    // 2. By columns of din: each thread reads only its columns of the weights.
    // forward: out = in · weightᵀ   =>   din = dout · weight
    if (d.din) {
        const int strip = sgemm_register_block_cols();
        pool.run(pool.size(), [&](int t) {
            int k0, cols;
            output_share(in_features, pool.size(), t, strip, &k0, &cols);
            if (cols == 0) return;
            sgemm(false, false, batch, cols, out_features, d.dout, out_features, d.weight + k0, in_features, 0.0f,
                  d.din + k0, in_features, ThreadPool::serial());
        });
    }
    if (d.dweight == nullptr) return;
    // 3. By rows of dweight, now that nothing reads the weights again: a block
    // of rows at a time, each updated while it is in cache, in one contiguous
    // run of parameters.                =>   dweight = doutᵀ · in
    const int block = dense_weight_rows_block(in_features, out_features);
    pool.run(pool.size(), [&](int t) {
        int o0, rows;
        output_share(out_features, pool.size(), t, block, &o0, &rows);
        for (int o = o0; o < o0 + rows; o += block) {
            const int n = std::min(block, o0 + rows - o);
            const int64_t first = static_cast<int64_t>(o) * in_features;
            sgemm(true, false, n, in_features, batch, d.dout + o, out_features, d.in, in_features, 0.0f,
                  d.dweight + first, in_features, ThreadPool::serial());
            if (update) update(0, first, 1, static_cast<int>(static_cast<int64_t>(n) * in_features), 0);
        }
    });
}

void dense_backward(float* dweight, float* dbias, float* din, float* dout, const float* in, const float* weight,
                    int batch, int in_features, int out_features, ThreadPool& pool) {
    // The layer's backward without ReLU or dropout: dout is only read.
    DenseLayerGradients d;
    d.dout = dout;
    d.out = nullptr;
    d.relu = false;
    d.in = in;
    d.weight = weight;
    d.dweight = dweight;
    d.dbias = dbias;
    d.din = din;
    dense_layer_backward(d, batch, in_features, out_features, nullptr, pool);
}

}  // namespace fast
