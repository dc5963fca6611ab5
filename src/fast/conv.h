// conv.h — the fast convolution: im2col + one GEMM per thread, forward and
// backward. Twin of reference::conv_forward / conv_backward (nn/layers.h),
// which compute the same sums as direct loops; read those first.
#pragma once

#include "nn/geometry.h"

class ThreadPool;

namespace fast {

// im2col for images [first, first + count) of the batch: fills their columns
// of col (C*K*K, N*OH*OW) as reference::im2col defines them. Runs on the
// calling thread.
void im2col(float* col, const float* in, const ConvGeometry& g, int first, int count);

// col2im for images [first, first + count): overwrites their part of in
// (N,C,H,W) as reference::col2im defines it.
void col2im(float* in, const float* col, const ConvGeometry& g, int first, int count);

// in (N,C,H,W) -> out (N,OC,OH,OW) = weight (OC, C*K*K) · im2col(in) + bias.
// col (C*K*K, N*OH*OW) is kept for backward; gemm_out (OC, N*OH*OW) is scratch.
// Each thread takes a contiguous run of images through im2col, the GEMM and
// the copy to NCHW, so the data it writes stays in its own caches.
void conv_forward(float* out, float* col, float* gemm_out, const float* in, const float* weight,
                  const float* bias, const ConvGeometry& g, ThreadPool& pool);

// Given dout (N,OC,OH,OW) and forward's col, writes dweight (OC, C*K*K) and
// dbias (OC) unless dweight is null, and din (N,C,H,W) unless din is null.
// Scratch: dout_t (OC, N*OH*OW) and dcol (C*K*K, N*OH*OW).
void conv_backward(float* dweight, float* dbias, float* din, float* dout_t, float* dcol, const float* dout,
                   const float* col, const float* weight, const ConvGeometry& g, ThreadPool& pool);

}  // namespace fast
