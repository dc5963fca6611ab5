// conv.h — the fast convolution: im2col + GEMM, forward and backward, with
// the column matrix never stored (each strip of it packed from the input as
// the GEMM needs it). Twin of reference::conv_forward / conv_backward
// (nn/layers.h), which compute the same sums as direct loops; read those
// first.
#pragma once

#include <cstdint>

#include "fast/layers.h"  // BlockUpdate
#include "nn/geometry.h"

class ThreadPool;

namespace fast {

// What the GEMMs read im2col from: for a padded layer, its input copied with
// a zero border, padded (N, C, H+2p, W+2p); without padding (p = 0), the
// input itself. pad_images fills images [first, first + count) of padded.
void pad_images(float* padded, const float* in, const ConvGeometry& g, int first, int count);

// col (C*K*K, N*OH*OW) = im2col of x (padded as above), in full, as
// reference::im2col defines it: what the GEMMs below read strip by strip
// without storing it. For tests and the walkthrough.
void im2col(float* col, const float* x, const ConvGeometry& g);

// col2im for images [first, first + count): overwrites their part of in
// (N,C,H,W) as reference::col2im defines it; for all their channels, or for
// channels [first_channel, first_channel + channels) alone.
void col2im(float* in, const float* col, const ConvGeometry& g, int first, int count, int first_channel = 0,
            int channels = -1);

// in (N,C,H,W) -> out (N,OC,OH,OW) = weight (OC, C*K*K) · im2col(in) + bias.
// padded (N, C, H+2p, W+2p) is filled for backward (unused when p = 0);
// gemm_out (OC, N*OH*OW) is scratch. Each thread takes a contiguous run of
// images through the padding, the GEMM and the copy to NCHW, so the data it
// writes stays in its own caches.
void conv_forward(float* out, float* padded, float* gemm_out, const float* in, const float* weight,
                  const float* bias, const ConvGeometry& g, ThreadPool& pool);

// The same for images [first, first + count) on the calling thread; with
// relu, the copy to NCHW also applies the ReLU (same bits as a pass after).
void conv_forward_images(float* out, float* padded, float* gemm_out, const float* in, const float* weight,
                         const float* bias, const ConvGeometry& g, int first, int count, bool relu);
// Its last part: out (N,OC,OH,OW) = gemm_out (OC, N*OH*OW) + bias, [ReLU], for those images.
void copy_out(float* out, const float* gemm_out, const float* bias, const ConvGeometry& g, int first, int count,
              bool relu);

// A whole conv layer forward: the convolution, its bias and ReLU, and the
// LRN and max-pooling when their buffers are given, with as few hand-offs to
// the pool as the batch allows (one when there are at least as many images
// as threads). The same bits as the kernels called one after the other,
// except for one image whose output plane is narrower than the GEMM's strip
// (conv3-5 on the drawing page): that one is computed as dot products along
// each pixel's patch, the same sums in another order, so it differs from the
// batch path in the last bits (as the dense layers' batch-1 path does).
struct ConvLayerBuffers {
    float* padded = nullptr;      // (N, C, H+2p, W+2p) the input padded, kept for backward (if p > 0)
    float* gemm_out = nullptr;    // (OC, N*OH*OW) scratch
    float* out = nullptr;         // (N, OC, OH, OW) after bias and ReLU
    float* normalized = nullptr;  // (N, OC, OH, OW) after LRN, or null for none
    float* lrn_scale = nullptr;   // (N, OC, OH, OW) LRN's scale, kept for backward
    float* pooled = nullptr;      // (N, OC, OH/2, OW/2) after pooling, or null for none
    int32_t* argmax = nullptr;    // (N, OC, OH/2, OW/2) the winners, kept for backward
};
void conv_layer_forward(const ConvLayerBuffers& buffers, const float* in, const float* weight, const float* bias,
                        const ConvGeometry& g, const PoolGeometry& pooling, ThreadPool& pool);

// A whole conv layer backward in two hand-offs. First, image by image: from
// the gradient of what the layer handed on back through its pooling, LRN and
// ReLU to dout, and dout into the (OC, N*OH*OW) layout of the GEMMs. Then,
// input channel by input channel (rows of col by rows, when no input
// gradient is asked for): that block of dweight, of dcol and, through
// col2im, of din; each thread also sums dbias for a share of the output
// channels. `update`, if given, is called for each block of dweight and
// dbias as soon as it is complete: nothing reads those weights again in this
// backward, so the optimizer can update them while they are in cache.
struct ConvLayerGradients {
    const float* input = nullptr;      // forward's input as the GEMMs read it: padded, or as is if p = 0
    const float* weight = nullptr;     // (OC, C*K*K)
    const float* out = nullptr;        // (N, OC, OH, OW) after ReLU: where the gradient may pass (null: no ReLU)
    const float* lrn_scale = nullptr;  // (N, OC, OH, OW) forward's LRN scale, or null: no LRN
    const int32_t* argmax = nullptr;   // (N, OC, OH/2, OW/2) forward's winners, or null: no pooling
    float* dpooled = nullptr;          // (N, OC, OH/2, OW/2) the gradient coming in, if pooling
    float* dnormalized = nullptr;      // (N, OC, OH, OW) the gradient of LRN's output, if LRN
    float* dout = nullptr;             // (N, OC, OH, OW) the gradient of out: written if LRN or pooling, else read
    float* dout_t = nullptr;           // (OC, N*OH*OW) scratch
    float* dcol = nullptr;             // (C*K*K, N*OH*OW) scratch
    float* dweight = nullptr;          // (OC, C*K*K), or null: no parameter gradients
    float* dbias = nullptr;            // (OC)
    float* din = nullptr;              // (N, C, H, W), or null: no input gradient
};
void conv_layer_backward(const ConvLayerGradients& gradients, const ConvGeometry& g, const PoolGeometry& pooling,
                         const BlockUpdate& update, ThreadPool& pool);

// The convolution alone (no ReLU, LRN or pooling): given dout (N,OC,OH,OW)
// and forward's input x (padded, or as is if p = 0), writes dweight
// (OC, C*K*K) and dbias (OC) unless dweight is null, and din (N,C,H,W)
// unless din is null; dout is only read. Scratch: dout_t (OC, N*OH*OW) and
// dcol (C*K*K, N*OH*OW).
void conv_backward(float* dweight, float* dbias, float* din, float* dout_t, float* dcol, float* dout,
                   const float* x, const float* weight, const ConvGeometry& g, ThreadPool& pool);

}  // namespace fast
