// conv.cpp — convolution as im2col + GEMM, forward and backward; the reference
// kernels (nn/layers.cpp) compute the same sums as direct loops.
//
// Work is split over threads by images: each thread runs im2col, its own
// serial GEMM and the copy back to NCHW for a contiguous run of images, so no
// two threads write the same float and the data a thread writes stays in its
// caches. Only the weight gradient sums over every image: that one is a
// single GEMM split over the elements of dweight.
#include "fast/conv.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "fast/gemm.h"
#include "fast/thread_pool.h"

namespace fast {

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
                    // A short gather (P is 9 on the 3x3 maps): unrolled, as
                    // clang++ does by itself, so its loop overhead does not
                    // dominate.
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
    // catches what falls on the padding, then is dropped). Image by image,
    // unlike im2col: the plane being added into then stays in L1 across all
    // K*K rows of col that add into it.
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
                    // Unrolled like im2col's gather; the additions keep their order.
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

void conv_backward(float* dweight, float* dbias, float* din, float* dout_t, float* dcol, const float* dout,
                   const float* col, const float* weight, const ConvGeometry& g, ThreadPool& pool) {
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
    if (dweight) {
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
    }
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

}  // namespace fast
