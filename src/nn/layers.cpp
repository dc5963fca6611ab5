// layers.cpp — forward and backward of every layer kind in AlexNet:
// convolution (im2col + GEMM), ReLU, dropout, local response normalisation,
// max-pooling, dense, and softmax cross-entropy. Each backward quotes the forward line it differentiates.
//
// Parallel loops are split by what they write (images, channels, rows), so no
// two threads ever add into the same float.
#include "nn/layers.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "fast/gemm.h"
#include "fast/thread_pool.h"
#include "nn/rng.h"

// ---------------------------------------------------------------------------
// im2col / col2im
//
// Both work, one input channel at a time, through zero-padded copies of that
// channel's planes for the images at hand, (H+2p) x (W+2p) each, and a table
// that says where in a padded plane the window of output pixel (oh, ow)
// starts:
//   window_start[oh*OW + ow] = (oh*stride) * (W+2p) + ow*stride
// Kernel offset (kh, kw) is then a constant step from there, kh*(W+2p) + kw,
// so each row of col is a plain gather, without bounds checks:
//   col[(c, kh, kw)][n, oh, ow] = padded_n[window_start[oh*OW + ow] + kh*(W+2p) + kw]
// A row of col is written (or, in col2im, read) from start to end, image
// after image: one long sequential stream, while the padded planes it
// gathers from (a few KB for one channel) stay in L1 cache. Without padding,
// the planes are read in place.
// im2col_naive (below) computes the same matrix straight from its
// definition; read it first.

namespace {

struct PatchTable {
    std::vector<int32_t> window_start;  // (OH*OW) offsets into a padded plane
    std::vector<float> padded;          // (planes, H+2p, W+2p) zero-padded input planes
};

// The calling thread's table for g, with room for `planes` padded planes,
// rebuilt per call but never reallocated once large enough (no allocation
// in steady state).
PatchTable& patch_table(const ConvGeometry& g, int planes) {
    thread_local PatchTable t;
    const int OH = g.out_h(), OW = g.out_w();
    const int padded_w = g.in_w + 2 * g.pad;
    t.window_start.resize(static_cast<size_t>(OH) * OW);
    t.padded.resize(static_cast<size_t>(planes) * (g.in_h + 2 * g.pad) * padded_w);
    int32_t* s = t.window_start.data();
    for (int oh = 0; oh < OH; ++oh)
        for (int ow = 0; ow < OW; ++ow) *s++ = oh * g.stride * padded_w + ow * g.stride;
    return t;
}

}  // namespace

void im2col(float* col, const float* in, const ConvGeometry& g, int first, int count) {
    const int P = g.out_h() * g.out_w(), K = g.kernel;
    const int64_t cols = g.col_cols();
    const int64_t plane = static_cast<int64_t>(g.in_h) * g.in_w;
    const int padded_w = g.in_w + 2 * g.pad;
    const int64_t padded_plane = static_cast<int64_t>(g.in_h + 2 * g.pad) * padded_w;
    PatchTable& t = patch_table(g, g.pad > 0 ? count : 0);  // without padding, none
    std::fill(t.padded.begin(), t.padded.end(), 0.0f);  // the borders stay zero
    const int32_t* __restrict window_start = t.window_start.data();
    for (int c = 0; c < g.in_channels; ++c) {
        // Plane of channel c for image first + i: padded copy i, or in place.
        const float* planes = in + (static_cast<int64_t>(first) * g.in_channels + c) * plane;
        int64_t plane_step = g.in_channels * plane;
        if (g.pad > 0) {
            for (int i = 0; i < count; ++i)
                for (int y = 0; y < g.in_h; ++y)
                    std::memcpy(&t.padded[i * padded_plane + (y + g.pad) * padded_w + g.pad],
                                planes + i * plane_step + y * g.in_w, sizeof(float) * g.in_w);
            planes = t.padded.data();
            plane_step = padded_plane;
        }
        for (int kh = 0; kh < K; ++kh)
            for (int kw = 0; kw < K; ++kw) {
                // col[(c, kh, kw)][n, oh, ow] = padded_n[oh*stride + kh][ow*stride + kw]
                float* __restrict d = col + ((c * K + kh) * K + kw) * cols + static_cast<int64_t>(first) * P;
                for (int i = 0; i < count; ++i, d += P) {
                    const float* __restrict shifted = planes + i * plane_step + kh * padded_w + kw;
                    // g++ leaves this short gather loop (P = 9 on the 3x3
                    // maps) rolled where clang++ unrolls it by 4; rolled it
                    // ran 10% slower (0.58 against 0.52 ms for the five
                    // layers' im2col, AVX2 or AVX-512). See col2im.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 4
#endif
                    for (int p = 0; p < P; ++p) d[p] = shifted[window_start[p]];
                }
            }
    }
}

void col2im(float* in, const float* col, const ConvGeometry& g, int first, int count) {
    const int P = g.out_h() * g.out_w(), K = g.kernel;
    const int64_t cols = g.col_cols();
    const int64_t plane = static_cast<int64_t>(g.in_h) * g.in_w;
    const int padded_w = g.in_w + 2 * g.pad;
    // One image and channel at a time into one padded plane (the border
    // catches what falls on the padding, then is dropped). Unlike im2col,
    // this loop runs image by image: adding into the planes of every image
    // at once, row of col by row, measured 1.5x slower (Zen 5).
    PatchTable& t = patch_table(g, 1);
    const int32_t* __restrict window_start = t.window_start.data();
    for (int n = first; n < first + count; ++n) {
        for (int c = 0; c < g.in_channels; ++c) {
            std::fill(t.padded.begin(), t.padded.end(), 0.0f);
            for (int kh = 0; kh < K; ++kh)
                for (int kw = 0; kw < K; ++kw) {
                    // padded[oh*stride + kh][ow*stride + kw] += col[(c, kh, kw)][n, oh, ow]
                    const float* __restrict s = col + ((c * K + kh) * K + kw) * cols + static_cast<int64_t>(n) * P;
                    float* __restrict shifted = t.padded.data() + kh * padded_w + kw;
                    // Unrolled by 4 under g++ as clang++ does by itself:
                    // rolled, this scatter-add ran 31% slower with AVX2
                    // (0.80 against 0.55 ms for conv2-5's col2im), and the
                    // AVX2 training step 1.5% slower (17.19 against 16.93
                    // ms, median of 8 alternating runs; no change with
                    // AVX-512). Same order of additions either way.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 4
#endif
                    for (int p = 0; p < P; ++p) shifted[window_start[p]] += s[p];
                }
            // The interior is the gradient of the input; the border (padding) is dropped.
            float* dst = in + (static_cast<int64_t>(n) * g.in_channels + c) * plane;
            for (int y = 0; y < g.in_h; ++y)
                std::memcpy(dst + y * g.in_w, &t.padded[(y + g.pad) * padded_w + g.pad], sizeof(float) * g.in_w);
        }
    }
}

// ---------------------------------------------------------------------------
// Convolution

namespace {

// The contiguous run of images that task t of `tasks` handles.
void image_share(int batch, int tasks, int t, int* first, int* count) {
    *first = static_cast<int>(static_cast<int64_t>(batch) * t / tasks);
    *count = static_cast<int>(static_cast<int64_t>(batch) * (t + 1) / tasks) - *first;
}

}  // namespace

void conv_forward(float* out, float* col, float* gemm_out, const float* in, const float* weight,
                  const float* bias, const ConvGeometry& g, ThreadPool& pool) {
    const int OC = g.out_channels, CKK = g.col_rows();
    const int64_t NP = g.col_cols();          // N*OH*OW, the row length of col
    const int P = g.out_h() * g.out_w();      // OH*OW, pixels per output plane
    const int tasks = std::min(pool.size(), g.batch);
    pool.run(tasks, [&](int t) {
        int first, count;
        image_share(g.batch, tasks, t, &first, &count);
        const int64_t col0 = static_cast<int64_t>(first) * P;  // this task's first column
        im2col(col, in, g, first, count);
        // gemm_out[:, cols] (OC, count*P) = weight (OC, CKK) · col[:, cols] (CKK, count*P)
        sgemm(false, false, OC, count * P, CKK, weight, CKK, col + col0, static_cast<int>(NP), 0.0f,
              gemm_out + col0, static_cast<int>(NP), ThreadPool::serial());
        // out[n][oc][p] = gemm_out[oc][n*P + p] + bias[oc]   (to NCHW)
        for (int n = first; n < first + count; ++n)
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
    const int tasks = std::min(pool.size(), g.batch);
    // Forward wrote out[n][oc][p] = gemm_out[oc][n*P + p]; gather dout back
    // into that (OC, N*OH*OW) layout so the GEMMs below see it as one matrix.
    pool.run(tasks, [&](int t) {
        int first, count;
        image_share(g.batch, tasks, t, &first, &count);
        for (int n = first; n < first + count; ++n)
            for (int oc = 0; oc < OC; ++oc)
                std::memcpy(dout_t + oc * NP + static_cast<int64_t>(n) * P,
                            dout + (static_cast<int64_t>(n) * OC + oc) * P, sizeof(float) * P);
    });
    // forward: out = ... + bias[oc]   =>   dbias[oc] = sum over n, p of dout
    // Summed in double, in 8 interleaved partial sums (lane j % 8), added
    // up in a fixed order at the end: one running sum would make every add
    // wait for the previous one; 8 lanes let the CPU add a vector at a time.
    pool.run(OC, [&](int oc) {
        constexpr int kLanes = 8;
        double lanes[kLanes] = {};
        const float* row = dout_t + oc * NP;
        int64_t j = 0;
        for (; j + kLanes <= NP; j += kLanes)
            for (int l = 0; l < kLanes; ++l) lanes[l] += row[j + l];
        for (; j < NP; ++j) lanes[j % kLanes] += row[j];
        double sum = 0.0;
        for (double lane : lanes) sum += lane;
        dbias[oc] = static_cast<float>(sum);
    });
    // forward: gemm_out = weight · col   =>   dweight = dout_t · colᵀ
    // (a sum over every image, so one GEMM split over the elements of dweight)
    sgemm(false, true, OC, CKK, np, dout_t, np, col, np, 0.0f, dweight, CKK, pool);
    if (din == nullptr) return;
    pool.run(tasks, [&](int t) {
        int first, count;
        image_share(g.batch, tasks, t, &first, &count);
        const int64_t col0 = static_cast<int64_t>(first) * P;
        //                                 =>   dcol = weightᵀ · dout_t   (this task's columns)
        sgemm(true, false, CKK, count * P, OC, weight, CKK, dout_t + col0, np, 0.0f, dcol + col0, np,
              ThreadPool::serial());
        // forward: col = im2col(in)        =>   din = col2im(dcol)
        col2im(din, dcol, g, first, count);
    });
}

// ---------------------------------------------------------------------------
// The naive twins

void im2col_naive(float* col, const float* in, const ConvGeometry& g) {
    const int OH = g.out_h(), OW = g.out_w(), K = g.kernel;
    for (int c = 0; c < g.in_channels; ++c)
        for (int kh = 0; kh < K; ++kh)
            for (int kw = 0; kw < K; ++kw)                      // row (c, kh, kw) of col
                for (int n = 0; n < g.batch; ++n)
                    for (int oh = 0; oh < OH; ++oh)
                        for (int ow = 0; ow < OW; ++ow) {       // column (n, oh, ow)
                            const int ih = oh * g.stride - g.pad + kh, iw = ow * g.stride - g.pad + kw;
                            const bool inside = ih >= 0 && ih < g.in_h && iw >= 0 && iw < g.in_w;
                            *col++ = inside ? in[((static_cast<int64_t>(n) * g.in_channels + c) * g.in_h + ih) * g.in_w + iw]
                                            : 0.0f;
                        }
}

void conv_forward_naive(float* out, const float* in, const float* weight, const float* bias,
                        const ConvGeometry& g) {
    const int OH = g.out_h(), OW = g.out_w(), K = g.kernel;
    for (int n = 0; n < g.batch; ++n)
        for (int oc = 0; oc < g.out_channels; ++oc)
            for (int oh = 0; oh < OH; ++oh)
                for (int ow = 0; ow < OW; ++ow) {
                    // out[n][oc][oh][ow] = bias[oc] + Σ_c Σ_kh Σ_kw weight[oc][c][kh][kw] · in[n][c][ih][iw]
                    double sum = bias[oc];
                    for (int c = 0; c < g.in_channels; ++c)
                        for (int kh = 0; kh < K; ++kh)
                            for (int kw = 0; kw < K; ++kw) {
                                const int ih = oh * g.stride - g.pad + kh, iw = ow * g.stride - g.pad + kw;
                                if (ih < 0 || ih >= g.in_h || iw < 0 || iw >= g.in_w) continue;  // padding: 0
                                sum += static_cast<double>(weight[((oc * g.in_channels + c) * K + kh) * K + kw]) *
                                       in[((static_cast<int64_t>(n) * g.in_channels + c) * g.in_h + ih) * g.in_w + iw];
                            }
                    out[((static_cast<int64_t>(n) * g.out_channels + oc) * OH + oh) * OW + ow] = static_cast<float>(sum);
                }
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

namespace {
// A plain function with restrict pointers, so that the compiler vectorises it
// (a compare and a mask per vector). Inside the lambda below the captured
// pointers might alias, it would not, and the scalar loop's branch on the
// sign of random data mispredicts half the time: 30x slower.
void relu_backward_chunk(float* __restrict din, const float* __restrict dout, const float* __restrict out,
                         int64_t n) {
    for (int64_t i = 0; i < n; ++i) din[i] = out[i] > 0.0f ? dout[i] : 0.0f;
}
}  // namespace

void relu_backward(float* din, const float* dout, const float* out, int64_t n, ThreadPool& pool) {
    // forward: out = max(in, 0)   =>   din = dout * (in > 0) = dout * (out > 0)
    pool.parallel_for(n, kElementwiseChunk, [&](int64_t begin, int64_t end) {
        relu_backward_chunk(din + begin, dout + begin, out + begin, end - begin);
    });
}

// ---------------------------------------------------------------------------
// Dropout

namespace {

// A uniform number in [0, 1) that depends only on (seed, i): the seeded
// generator's draw from state seed + i steps along, computed directly, so any
// thread can draw value i without drawing the ones before it.
float uniform_at(uint64_t seed, int64_t i) {
    return Rng(seed + 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(i)).uniform();
}

}  // namespace

void dropout_forward(float* x, uint8_t* keep, int64_t n, float p, uint64_t seed, ThreadPool& pool) {
    const float scale = 1.0f / (1.0f - p);
    pool.parallel_for(n, kElementwiseChunk, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
            keep[i] = uniform_at(seed, i) >= p;
            x[i] = keep[i] ? x[i] * scale : 0.0f;
        }
    });
}

void dropout_backward(float* dx, const float* dy, const uint8_t* keep, int64_t n, float p, ThreadPool& pool) {
    // forward: y = keep ? x / (1 - p) : 0   =>   dx = keep ? dy / (1 - p) : 0
    const float scale = 1.0f / (1.0f - p);
    pool.parallel_for(n, kElementwiseChunk, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) dx[i] = keep[i] ? dy[i] * scale : 0.0f;
    });
}

// ---------------------------------------------------------------------------
// Local response normalisation

namespace {

// s^-β for the paper's β = 3/4: s^(-1/2) · s^(-1/4), two square roots, exact
// to a rounding or two and several times cheaper than std::pow.
static_assert(kLrnBeta == 0.75f, "inverse_pow_beta computes s^(-3/4)");
inline float inverse_pow_beta(float s) {
    const float r = 1.0f / std::sqrt(s);
    return r * std::sqrt(r);
}

// The channels whose window holds channel c: c-n/2 .. c+n/2, clipped. The
// window is symmetric, so this is also the window of c itself.
int window_first(int c) { return std::max(0, c - kLrnSize / 2); }
int window_last(int c, int channels) { return std::min(channels - 1, c + kLrnSize / 2); }

}  // namespace

void lrn_forward(float* out, float* scale, const float* in, int batch, int channels, int plane,
                 ThreadPool& pool) {
    // One task per (image, channel) plane: it reads up to n planes of its
    // image and writes only its own.
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
    // forward: out[i] = in[i] · scale[i]^-β, scale[i] = k + α Σ_{j in window(i)} in[j]²
    //   d out[i] / d in[j] = [i == j] scale[i]^-β - 2αβ in[i] in[j] scale[i]^(-β-1)   (j in window(i))
    // so din[j] = dout[j] scale[j]^-β - 2αβ in[j] Σ_{i in window(j)} dout[i] in[i] scale[i]^(-β-1).
    // One task per image: the sum needs t[i] = dout[i] in[i] scale[i]^(-β-1)
    // of every channel of the image first.
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

void maxpool_forward(float* out, int32_t* argmax, const float* in, int planes, int h, int w, int window,
                     ThreadPool& pool) {
    const int oh = h / 2, ow = w / 2;
    pool.parallel_for(planes, 8, [&](int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; ++p) {
            const float* __restrict src = in + p * h * w;
            float* __restrict dst = out + p * oh * ow;
            int32_t* __restrict arg = argmax + p * oh * ow;
            for (int y = 0; y < oh; ++y) {
                // One output row at a time, candidate by candidate: every
                // window of the row first takes its top-left input, then
                // meets the rest of its inputs in the same order (row by
                // row, left to right), each in one pass over the row. The
                // first maximum wins ties, and a NaN wins over numbers (as
                // in PyTorch): "v != v" is true only for NaN. Written as
                // selects, and as passes over a row so that no window waits
                // for the previous one. (g++ 12 still compiles the selects
                // to branches and clang++ 14 one of them; forcing both
                // branch-free with bit masks measured no faster in the
                // training step, so the plain form stays.)
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

void maxpool_backward(float* din, const float* dout, const int32_t* argmax, int planes, int h,
                      int w, ThreadPool& pool) {
    const int oh = h / 2, ow = w / 2;
    // forward: out[o] = in[argmax[o]]   =>   din[argmax[o]] += dout[o], 0 elsewhere
    // Added, not assigned: with windows that overlap (the AlexNet paper's 3x3
    // stride-2 pooling) one input can win two windows and gets both gradients.
    // 2x2/2 windows never overlap: there each input gets at most one.
    pool.parallel_for(planes, 8, [&](int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; ++p) {
            float* dst = din + p * h * w;
            std::memset(dst, 0, sizeof(float) * h * w);
            for (int o = 0; o < oh * ow; ++o) dst[argmax[p * oh * ow + o]] += dout[p * oh * ow + o];
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

namespace {

// p (K) = softmax(z (K)), with the max subtracted first so that exp never
// overflows: p_k = exp(z_k - max) / sum_j exp(z_j - max). Sets *best to the
// argmax (the first of ties) and returns log(sum_j exp(z_j - max)).
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

double softmax_cross_entropy_forward(float* probs, int* correct, const float* logits,
                                    const uint8_t* labels, int batch, int classes) {
    double total_loss = 0.0;
    int hits = 0;
    for (int b = 0; b < batch; ++b) {
        const float* z = logits + b * classes;
        int best;
        // loss = log(sum_k exp(z_k - max)) - (z_label - max)
        const double log_sum = softmax_row(probs + b * classes, z, classes, &best);
        total_loss += log_sum - (z[labels[b]] - z[best]);
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
