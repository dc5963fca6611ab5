// geometry.h — the sizes of a convolution and of a max-pooling: where the
// output-size formulas live, once, for the reference kernels, the fast ones,
// the model's buffer plan and the summary table.
//
// Leaves out: dilation, groups, non-square kernels.
#pragma once

#include <cstdint>

// A convolution of a batch of N images, (C, H, W) each, with OC square
// filters of K x K, moved `stride` pixels at a time over the image padded
// with `pad` zeros on every side.
struct ConvGeometry {
    int batch = 0;                            // N
    int in_channels = 0, in_h = 0, in_w = 0;  // C, H, W
    int out_channels = 0;                     // OC
    int kernel = 0, stride = 1, pad = 0;      // K, S, P

    // The image with its zero border, (H + 2P) x (W + 2P).
    int padded_h() const { return in_h + 2 * pad; }
    int padded_w() const { return in_w + 2 * pad; }

    // The filter fits floor((H + 2P - K) / S) + 1 times down the image: the
    // last position whose window still lies inside the padded image. Pixels
    // past it (H + 2P - K not a multiple of S) are never read.
    int out_h() const { return (in_h + 2 * pad - kernel) / stride + 1; }
    int out_w() const { return (in_w + 2 * pad - kernel) / stride + 1; }
    bool fits() const { return in_h >= 1 && in_w >= 1 && in_h + 2 * pad >= kernel && in_w + 2 * pad >= kernel; }

    // As a matrix product (im2col): weight (OC, C*K*K) · col (C*K*K, N*OH*OW).
    int col_rows() const { return in_channels * kernel * kernel; }
    int64_t col_cols() const { return static_cast<int64_t>(batch) * out_h() * out_w(); }
};

// Max-pooling of `planes` independent (H, W) planes (N*C of them): each
// output is the largest input of a window x window square, the squares
// `stride` apart. AlexNet pools at stride 2 with windows of 2 (2x2, no
// overlap) or 3 (the 2012 paper's overlapping 3x3).
struct PoolGeometry {
    int planes = 0;
    int in_h = 0, in_w = 0;
    int window = 2, stride = 2;
    int out_h() const { return pooled_side(in_h, stride); }
    int out_w() const { return pooled_side(in_w, stride); }

    // How many windows fit along a side of n pixels: one per whole stride,
    // floor(n / stride), the windows starting at 0, stride, 2*stride, ... and
    // clipped where they cross the plane's edge. At stride 2 both of
    // AlexNet's windows give n / 2: the 2x2 one drops a trailing odd row
    // (PyTorch's MaxPool2d(2)), the 3x3 one clips its last window at the edge
    // (Caffe's rounding, PyTorch's MaxPool2d(3, 2, ceil_mode=True)), so the
    // choice of window never changes a shape.
    static int pooled_side(int n, int stride) { return n / stride; }
};
