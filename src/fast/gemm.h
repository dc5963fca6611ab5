// gemm.h — single-precision matrix multiply, the one hot kernel of the network.
//
//   C (M x N) = op(A) (M x K) · op(B) (K x N) + beta · C
//
// All matrices are row-major with a leading dimension (the distance in floats
// between the starts of two rows). op(X) is X, or X transposed when trans_x
// is set, in which case X is stored K x M (for A) or N x K (for B).
//
// Convolution forward is W · col, a dense layer forward is X · Wᵀ, and every
// backward pass is two more such products, so one fast sgemm serves them all.
//
// beta = 0 ignores whatever C held, NaN included (every layer calls it so:
// backward assigns its gradients); beta = 1 adds the product into C.
// Leaves out: alpha (always 1 here), complex and double types.
#pragma once

#include <functional>

class ThreadPool;

// The definition: the textbook triple loop, summed in double. Read it first;
// the tests hold sgemm to it.
void sgemm_naive(bool trans_a, bool trans_b, int M, int N, int K,
                 const float* A, int lda, const float* B, int ldb,
                 float beta, float* C, int ldc);

// Fast version: packed panels, a register-blocked micro-kernel, tiles of C
// spread over the pool. The sum over K for each element of C is done in the
// same order whatever the pool size or the split of C, so results are
// bit-identical for any thread count. Several threads may each run their own
// sgemm at once (with ThreadPool::serial(), say): the packing workspace is per
// thread, grown on first use and then kept, so steady state allocates nothing.
void sgemm(bool trans_a, bool trans_b, int M, int N, int K,
           const float* A, int lda, const float* B, int ldb,
           float beta, float* C, int ldc, ThreadPool& pool);

// C (M x N) = A (M x K, rows lda apart) · B, with B never stored: pack_b
// writes the values of rows [k0, k0 + kc) and columns [j0, j0 + NR) of B
// into dst (kc x NR, row k at dst[(k - k0) * NR]), zero past column N, one
// strip of the micro-kernel's width NR = sgemm_register_block_cols() at a
// time, just before the micro-kernel reads it. The convolution packs its
// im2col this way, straight from the image (fast/conv.cpp), so the column
// matrix is never written out and read back. On the calling thread; the same
// sums in the same order as sgemm, so the same bits as sgemm on a stored B.
using PackB = std::function<void(int k0, int kc, int j0, float* dst)>;
void sgemm_packed_b(int M, int N, int K, const float* A, int lda, const PackB& pack_b, float* C, int ldc);

// The micro-kernel's register block, MR rows x NR columns of C (for bench).
int sgemm_register_block_rows();
int sgemm_register_block_cols();
