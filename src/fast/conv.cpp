// conv.cpp — convolution as im2col + GEMM, forward and backward; the reference
// kernels (nn/layers.cpp) compute the same sums as direct loops.
//
// The column matrix col = im2col(input) is never written out: the GEMMs that
// read it (forward's W · col, and dW = dout · colᵀ) get it strip by strip
// from sgemm_packed_b, which packs each strip straight from the (padded)
// input just before the micro-kernel reads it. A stored col would be
// written once and read back once per layer, a pass over memory 9 to 25
// times the size of the input (one copy of every pixel per filter tap).
//
// Forward is split over threads by images: each thread pads its images,
// runs its GEMM, the copy back to NCHW and what follows (LRN, pooling) for
// a contiguous run of images, so no two threads write the same float and the
// data a thread writes stays in its caches. Backward starts the same way,
// image by image, back to the GEMM's output; then its two products are split
// by rows of col, whole input channels: dcol's rows and col2im's channels,
// and dweight's columns, are each one thread's alone (dweight sums over every
// image, so it cannot be split by images).
#include "fast/conv.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "fast/gemm.h"
#include "fast/layers.h"
#include "fast/thread_pool.h"

namespace fast {

// ---------------------------------------------------------------------------
// The input, padded, and im2col without a column matrix
//
// A padded layer first copies its images into planes with a zero border,
// (H+2p) x (W+2p) each, so that no read below needs a bounds check. Then
// every element of col is one read of that padded input x, at the sum of an
// offset for its row and one for its column:
//   col[(c, kh, kw)][(n, oh, ow)] = x[row_offset[(c, kh, kw)] + column_offset[(n, oh, ow)]]
//   row_offset    = c*Hp*Wp + kh*Wp + kw
//   column_offset = n*C*Hp*Wp + (oh*stride)*Wp + ow*stride
// (Hp, Wp: the padded sides). A strip of col for the GEMM is then NR
// columns gathered for each of its rows.

void pad_images(float* padded, const float* in, const ConvGeometry& g, int first, int count) {
    const int padded_w = g.padded_w();
    const int64_t plane = static_cast<int64_t>(g.in_h) * g.in_w;
    const int64_t padded_plane = static_cast<int64_t>(g.padded_h()) * padded_w;
    const int64_t planes_first = static_cast<int64_t>(first) * g.in_channels;
    const int64_t planes = static_cast<int64_t>(count) * g.in_channels;
    float* dst = padded + planes_first * padded_plane;
    std::fill(dst, dst + planes * padded_plane, 0.0f);  // the borders stay zero
    for (int64_t q = 0; q < planes; ++q)
        for (int y = 0; y < g.in_h; ++y)
            std::memcpy(dst + q * padded_plane + (y + g.pad) * padded_w + g.pad, in + (planes_first + q) * plane + y * g.in_w,
                        sizeof(float) * g.in_w);
}

namespace {

// The offset tables above, for the calling thread: rebuilt per call, their
// storage kept (no allocation in steady state).
struct ColumnOffsets {
    std::vector<int64_t> row;     // (C*K*K)
    std::vector<int64_t> column;  // (N*OH*OW)
};

ColumnOffsets& column_offsets(const ConvGeometry& g) {
    thread_local ColumnOffsets t;
    const int K = g.kernel, OH = g.out_h(), OW = g.out_w();
    const int64_t padded_w = g.padded_w();
    const int64_t padded_plane = g.padded_h() * padded_w;
    t.row.resize(g.col_rows());
    t.column.resize(g.col_cols());
    int64_t* r = t.row.data();
    for (int c = 0; c < g.in_channels; ++c)
        for (int kh = 0; kh < K; ++kh)
            for (int kw = 0; kw < K; ++kw) *r++ = c * padded_plane + kh * padded_w + kw;
    int64_t* col = t.column.data();
    for (int n = 0; n < g.batch; ++n)
        for (int oh = 0; oh < OH; ++oh)
            for (int ow = 0; ow < OW; ++ow)
                *col++ = n * g.in_channels * padded_plane + oh * g.stride * padded_w + ow * g.stride;
    return t;
}

// dst (kc x NR) = col[k0 .. k0+kc)[j0 .. j0+NR), zero past column `columns`:
// forward's B strip.
void pack_col_strip(const float* x, const ColumnOffsets& o, int k0, int kc, int j0, int columns, float* dst) {
    const int NR = sgemm_register_block_cols();
    const int n = std::min(NR, columns - j0);
    const int64_t* __restrict column = o.column.data() + j0;
    for (int k = 0; k < kc; ++k, dst += NR) {
        const float* __restrict row = x + o.row[k0 + k];
        for (int j = 0; j < n; ++j) dst[j] = row[column[j]];
        for (int j = n; j < NR; ++j) dst[j] = 0.0f;
    }
}

// dst (kc x NR) = colᵀ for col's rows [r0 + j0, r0 + j0 + NR) (zero past
// r0 + rows) and its columns [k0, k0 + kc): the weight gradient's B strip.
void pack_col_transposed_strip(const float* x, const ColumnOffsets& o, int r0, int rows, int k0, int kc, int j0,
                               float* dst) {
    const int NR = sgemm_register_block_cols();
    const int n = std::min(NR, rows - j0);
    const int64_t* __restrict row = o.row.data() + r0 + j0;
    for (int k = 0; k < kc; ++k, dst += NR) {
        const float* __restrict column = x + o.column[k0 + k];
        for (int j = 0; j < n; ++j) dst[j] = column[row[j]];
        for (int j = n; j < NR; ++j) dst[j] = 0.0f;
    }
}

}  // namespace

void im2col(float* col, const float* x, const ConvGeometry& g) {
    const ColumnOffsets& o = column_offsets(g);
    const int64_t NP = g.col_cols();
    for (int r = 0; r < g.col_rows(); ++r)
        for (int64_t j = 0; j < NP; ++j) col[r * NP + j] = x[o.row[r] + o.column[j]];
}

// ---------------------------------------------------------------------------
// col2im
//
// Backward's dcol, added back into the input's gradient, one image and
// channel at a time into one padded plane: the border catches what falls on
// the padding, then is dropped. A table says where in a padded plane the
// window of output pixel (oh, ow) starts:
//   window_start[oh*OW + ow] = (oh*stride) * (W+2p) + ow*stride
// and kernel offset (kh, kw) is a constant step from there, kh*(W+2p) + kw.

namespace {

struct PatchTable {
    std::vector<int32_t> window_start;  // (OH*OW) offsets into a padded plane
    std::vector<float> padded;          // (H+2p, W+2p) one zero-padded plane
};

// The calling thread's table for g, rebuilt per call, never reallocated once
// large enough (no allocation in steady state).
PatchTable& patch_table(const ConvGeometry& g) {
    thread_local PatchTable t;
    const int OH = g.out_h(), OW = g.out_w();
    const int padded_w = g.padded_w();
    t.window_start.resize(static_cast<size_t>(OH) * OW);
    t.padded.resize(static_cast<size_t>(g.padded_h()) * padded_w);
    int32_t* s = t.window_start.data();
    for (int oh = 0; oh < OH; ++oh)
        for (int ow = 0; ow < OW; ++ow) *s++ = oh * g.stride * padded_w + ow * g.stride;
    return t;
}

}  // namespace

void col2im(float* in, const float* col, const ConvGeometry& g, int first, int count, int first_channel,
            int channels) {
    if (channels < 0) channels = g.in_channels - first_channel;
    const int P = g.out_h() * g.out_w(), K = g.kernel;
    const int64_t cols = g.col_cols();
    const int64_t plane = static_cast<int64_t>(g.in_h) * g.in_w;
    const int padded_w = g.padded_w();
    // Image by image, unlike a row of col: the plane being added into stays
    // in L1 across all K*K rows of dcol that add into it.
    PatchTable& t = patch_table(g);
    const int32_t* __restrict window_start = t.window_start.data();
    for (int n = first; n < first + count; ++n) {
        for (int c = first_channel; c < first_channel + channels; ++c) {
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

void conv_forward_images(float* out, float* padded, float* gemm_out, const float* in, const float* weight,
                         const float* bias, const ConvGeometry& g, int first, int count, bool relu) {
    const int OC = g.out_channels, CKK = g.col_rows();
    const int NP = static_cast<int>(g.col_cols());  // N*OH*OW, the columns of col
    const int P = g.out_h() * g.out_w();            // OH*OW, pixels per output plane
    const int col0 = first * P;                     // the first column of these images
    if (g.pad > 0) pad_images(padded, in, g, first, count);
    const float* x = g.pad > 0 ? padded : in;
    const ColumnOffsets& o = column_offsets(g);
    // gemm_out[:, these columns] (OC, count*P) = weight (OC, CKK) · col[:, these columns] (CKK, count*P)
    sgemm_packed_b(
        OC, count * P, CKK, weight, CKK,
        [&](int k0, int kc, int j0, float* dst) { pack_col_strip(x, o, k0, kc, col0 + j0, col0 + count * P, dst); },
        gemm_out + col0, NP);
    copy_out(out, gemm_out, bias, g, first, count, relu);
}

void copy_out(float* out, const float* gemm_out, const float* bias, const ConvGeometry& g, int first, int count,
              bool relu) {
    const int OC = g.out_channels, P = g.out_h() * g.out_w();
    const int64_t NP = g.col_cols();
    // out[n][oc][p] = gemm_out[oc][n*P + p] + bias[oc]   (to NCHW), then
    // max(·, 0) written as reference::relu_forward does, so the bits are those
    // of a separate ReLU pass.
    for (int n = first; n < first + count; ++n)
        for (int oc = 0; oc < OC; ++oc) {
            const float* src = gemm_out + oc * NP + static_cast<int64_t>(n) * P;
            float* dst = out + (static_cast<int64_t>(n) * OC + oc) * P;
            if (relu)
                for (int p = 0; p < P; ++p) {
                    const float v = src[p] + bias[oc];
                    dst[p] = v < 0.0f ? 0.0f : v;
                }
            else
                for (int p = 0; p < P; ++p) dst[p] = src[p] + bias[oc];
        }
}

namespace {

// One image whose output plane has fewer pixels than the GEMM's strip of
// columns (conv3-5 at 56x56 have 3x3 = 9 pixels, against strips of 16 or 32):
// as W · col, most lanes of each vector would hold the zeros that pad the
// strip. Instead every pixel's patch (its column of col, C*K*K values) is
// dotted with each filter's row of weights by the dense layers' matrix-vector
// kernel, whose vectors run along the patch. Threads split the output
// channels, four at a time; the four filters' rows stay in L1 while every
// pixel's patch passes them. Bias, then ReLU, as copy_out applies them.
void conv_forward_one(float* out, float* padded, const float* in, const float* weight, const float* bias,
                      const ConvGeometry& g, ThreadPool& pool) {
    const int OC = g.out_channels, CKK = g.col_rows();
    const int P = g.out_h() * g.out_w();
    if (g.pad > 0) pad_images(padded, in, g, 0, 1);
    const float* x = g.pad > 0 ? padded : in;
    // patches (P, CKK) = colᵀ: pixel p's patch at [p*CKK], contiguous
    thread_local std::vector<float> patches;
    patches.resize(static_cast<size_t>(P) * CKK);
    const ColumnOffsets& o = column_offsets(g);
    for (int p = 0; p < P; ++p)
        for (int k = 0; k < CKK; ++k) patches[static_cast<size_t>(p) * CKK + k] = x[o.row[k] + o.column[p]];
    const float* patch = patches.data();
    const int tasks = std::min(pool.size(), (OC + 3) / 4);
    pool.run(tasks, [&](int t) {
        int o0, rows;
        output_share(OC, tasks, t, 4, &o0, &rows);
        // out[oc][p] (OC, P) for these filters and every pixel
        dot_rows(out, P, patch, CKK, P, weight, bias, CKK, o0, rows, /*relu=*/true);
    });
}

}  // namespace

void conv_forward(float* out, float* padded, float* gemm_out, const float* in, const float* weight,
                  const float* bias, const ConvGeometry& g, ThreadPool& pool) {
    const int tasks = std::min(pool.size(), g.batch);
    pool.run(tasks, [&](int t) {
        int first, count;
        ThreadPool::share(g.batch, tasks, t, &first, &count);
        conv_forward_images(out, padded, gemm_out, in, weight, bias, g, first, count, /*relu=*/false);
    });
}

void conv_layer_forward(const ConvLayerBuffers& b, const float* in, const float* weight, const float* bias,
                        const ConvGeometry& g, const PoolGeometry& pooling, ThreadPool& pool) {
    const int OC = g.out_channels, plane = g.out_h() * g.out_w();
    const int64_t per_image = static_cast<int64_t>(OC) * plane;
    const int64_t pooled_per_image = static_cast<int64_t>(OC) * pooling.out_h() * pooling.out_w();
    // What follows the GEMM for images [first, first + count): LRN and pooling.
    auto finish = [&](int first, int count) {
        const float* activation = b.out;
        if (b.normalized) {
            lrn_forward(b.normalized + first * per_image, b.lrn_scale + first * per_image, b.out + first * per_image,
                        count, OC, plane, ThreadPool::serial());
            activation = b.normalized;
        }
        if (b.pooled) {
            PoolGeometry p = pooling;
            p.planes = count * OC;
            maxpool_forward(b.pooled + first * pooled_per_image, b.argmax + first * pooled_per_image,
                            activation + first * per_image, p, ThreadPool::serial());
        }
    };
    if (g.batch == 1 && g.out_h() * g.out_w() < sgemm_register_block_cols()) {
        conv_forward_one(b.out, b.padded, in, weight, bias, g, pool);
        finish(0, 1);
        return;
    }
    if (g.batch >= pool.size()) {
        // Each thread takes its images through the whole layer: one hand-off.
        pool.run(pool.size(), [&](int t) {
            int first, count;
            ThreadPool::share(g.batch, pool.size(), t, &first, &count);
            conv_forward_images(b.out, b.padded, b.gemm_out, in, weight, bias, g, first, count, /*relu=*/true);
            finish(first, count);
        });
        return;
    }
    // Fewer images than threads (a batch of one on the page): the GEMM's rows
    // (output channels, whole strips) are what is split; each thread packs
    // the few strips of col for itself.
    const int CKK = g.col_rows(), NP = static_cast<int>(g.col_cols());
    if (g.pad > 0) pad_images(b.padded, in, g, 0, g.batch);
    const float* x = g.pad > 0 ? b.padded : in;
    const int MR = sgemm_register_block_rows();
    const int strips = (OC + MR - 1) / MR;
    const int tasks = std::min(pool.size(), strips);
    pool.run(tasks, [&](int t) {
        int s0, s_count;
        ThreadPool::share(strips, tasks, t, &s0, &s_count);
        const int r0 = s0 * MR, rows = std::min(OC, (s0 + s_count) * MR) - r0;
        const ColumnOffsets& o = column_offsets(g);
        sgemm_packed_b(
            rows, NP, CKK, weight + static_cast<int64_t>(r0) * CKK, CKK,
            [&](int k0, int kc, int j0, float* dst) { pack_col_strip(x, o, k0, kc, j0, NP, dst); },
            b.gemm_out + static_cast<int64_t>(r0) * NP, NP);
    });
    copy_out(b.out, b.gemm_out, bias, g, 0, g.batch, /*relu=*/true);
    finish(0, g.batch);
}

void conv_backward(float* dweight, float* dbias, float* din, float* dout_t, float* dcol, float* dout,
                   const float* x, const float* weight, const ConvGeometry& g, ThreadPool& pool) {
    // The layer's backward without ReLU, LRN or pooling (dout is only read).
    ConvLayerGradients b;
    b.input = x;
    b.weight = weight;
    b.out = nullptr;  // no ReLU
    b.dout = dout;
    b.dout_t = dout_t;
    b.dcol = dcol;
    b.dweight = dweight;
    b.dbias = dbias;
    b.din = din;
    conv_layer_backward(b, g, PoolGeometry{}, nullptr, pool);
}

namespace {

void relu_mask(float* __restrict t, const float* __restrict dout, const float* __restrict out, int n) {
    for (int i = 0; i < n; ++i) t[i] = out[i] > 0.0f ? dout[i] : 0.0f;
}

// The gradient of out for images [first, first + count), gathered into the
// (OC, N*OH*OW) layout of the GEMMs: back through the pooling and the LRN
// when there are, then through the ReLU on the way into dout_t (the same
// bits as reference::relu_backward followed by the copy).
void conv_output_gradient(const ConvLayerGradients& b, const ConvGeometry& g, const PoolGeometry& pooling, int first,
                          int count) {
    const int OC = g.out_channels, P = g.out_h() * g.out_w();
    const int64_t NP = g.col_cols();
    const int64_t per_image = static_cast<int64_t>(OC) * P;
    const int64_t pooled_per_image = static_cast<int64_t>(OC) * pooling.out_h() * pooling.out_w();
    if (b.argmax) {
        // pooled = maxpool(activation), activation = normalized if LRN, else out
        PoolGeometry p = pooling;
        p.planes = count * OC;
        float* dactivation = b.lrn_scale ? b.dnormalized : b.dout;
        maxpool_backward(dactivation + first * per_image, b.dpooled + first * pooled_per_image,
                         b.argmax + first * pooled_per_image, p, ThreadPool::serial());
    }
    if (b.lrn_scale)  // normalized = lrn(out)
        lrn_backward(b.dout + first * per_image, b.dnormalized + first * per_image, b.out + first * per_image,
                     b.lrn_scale + first * per_image, count, OC, P, ThreadPool::serial());
    // out = relu(gemm_out + bias)   =>   dout_t[oc][n*P + p] = dout[n][oc][p] · [out > 0]
    // (without the ReLU, a plain copy)
    for (int n = first; n < first + count; ++n)
        for (int oc = 0; oc < OC; ++oc) {
            const int64_t at = (static_cast<int64_t>(n) * OC + oc) * P;
            float* t = b.dout_t + oc * NP + static_cast<int64_t>(n) * P;
            if (b.out) relu_mask(t, b.dout + at, b.out + at, P);
            else std::memcpy(t, b.dout + at, sizeof(float) * P);
        }
}

// dbias[oc] = Σ over n, p of dout_t[oc][n*P + p], for channels [first, first + count).
// Summed in double, in 8 interleaved partial sums (lane j % 8), added up in a
// fixed order at the end: one running sum would make every add wait for the
// previous one; 8 lanes let the CPU add a vector at a time.
void bias_gradient(float* dbias, const float* dout_t, int64_t NP, int first, int count) {
    for (int oc = first; oc < first + count; ++oc) {
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
    }
}

}  // namespace

void conv_layer_backward(const ConvLayerGradients& b, const ConvGeometry& g, const PoolGeometry& pooling,
                         const BlockUpdate& update, ThreadPool& pool) {
    const int OC = g.out_channels, CKK = g.col_rows(), KK = g.kernel * g.kernel;
    const int64_t NP = g.col_cols();
    const int np = static_cast<int>(NP);
    // 1. Image by image: the gradient of the GEMM's output, dout_t.
    const int image_tasks = std::min(pool.size(), g.batch);
    pool.run(image_tasks, [&](int t) {
        int first, count;
        ThreadPool::share(g.batch, image_tasks, t, &first, &count);
        conv_output_gradient(b, g, pooling, first, count);
    });
    // 2. Block by block of col's rows: whole input channels (K*K rows each)
    // when din is wanted, since col2im needs all of a channel's rows;
    // otherwise single rows.
    const int unit = b.din ? KK : 1;
    const int units = CKK / unit;
    const int tasks = std::min(pool.size(), units);
    pool.run(tasks, [&](int t) {
        int u0, u_count;
        ThreadPool::share(units, tasks, t, &u0, &u_count);
        const int r0 = u0 * unit, rows = u_count * unit;  // rows [r0, r0 + rows) of col
        if (b.din) {
            // forward: gemm_out = weight · col   =>   dcol = weightᵀ · dout_t   (these rows)
            sgemm(true, false, rows, np, OC, b.weight + r0, CKK, b.dout_t, np, 0.0f, b.dcol + r0 * NP, np,
                  ThreadPool::serial());
            // forward: col = im2col(in)   =>   din = col2im(dcol)   (these channels)
            col2im(b.din, b.dcol, g, 0, g.batch, u0, u_count);
        }
        if (b.dweight == nullptr) return;
        // dweight = dout_t · colᵀ   (these columns of dweight: a sum over every image)
        const ColumnOffsets& o = column_offsets(g);
        sgemm_packed_b(
            OC, rows, np, b.dout_t, np,
            [&](int k0, int kc, int j0, float* dst) { pack_col_transposed_strip(b.input, o, r0, rows, k0, kc, j0, dst); },
            b.dweight + r0, CKK);
        if (update) update(0, r0, OC, rows, CKK);
        // forward: out = ... + bias[oc]   =>   dbias[oc] = Σ over n, p of dout
        int o0, o_count;
        ThreadPool::share(OC, tasks, t, &o0, &o_count);
        bias_gradient(b.dbias, b.dout_t, NP, o0, o_count);
        if (update && o_count > 0) update(1, o0, 1, o_count, 0);
    });
}

}  // namespace fast
