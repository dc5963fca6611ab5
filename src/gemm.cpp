// gemm.cpp — the SGEMM behind every layer: packed panels and a register-
// blocked micro-kernel in portable C++ that the compiler turns into vector FMAs.
//
// The classic Goto/BLIS scheme, simplified:
//   1. pack op(A) into strips of MR rows and op(B) into strips of NR columns,
//      each strip stored k-major so the micro-kernel reads it sequentially;
//   2. cut C into tiles, hand the tiles to the thread pool; each tile walks K
//      in blocks of KC (so its A and B slices stay in cache) and calls the
//      micro-kernel, which keeps an MR x NR block of C in registers.
// Leaves out: alpha, hand-written assembly or intrinsics.
#include "gemm.h"

#include <algorithm>
#include <vector>

#include "thread_pool.h"

// ---------------------------------------------------------------------------
// Blocking parameters

namespace {

// The micro-kernel's register block: MR rows x NR columns of C. MR*NR/W vector
// accumulators (W = floats per vector) must fit in the register file with room
// for one row of B and a broadcast of A: 12 of the 16 AVX2 registers here.
#if defined(__AVX512F__)
constexpr int MR = 6, NR = 32;  // 12 of 32 zmm registers
#elif defined(__AVX__)
constexpr int MR = 6, NR = 16;  // 12 of 16 ymm registers
#else
constexpr int MR = 6, NR = 8;   // 12 of 16 xmm (SSE / NEON) registers
#endif

// K is walked in blocks of KC: an MR x KC strip of A and a KC x NR strip of B
// (16 KB each at KC = 256, NR = 16) then sit in L1/L2 while a tile is computed.
// KC is fixed, never tied to the thread count, so the order of additions in
// every element of C is the same for every pool size.
constexpr int KC = 256;

// Largest tile of C handed to one task, in strips.
constexpr int kMaxTileStripsM = 16;  // 96 rows
constexpr int kMaxTileStripsN = 16;  // 256 columns with AVX2

// ---------------------------------------------------------------------------
// Packing

// A_pack (ceil(M/MR) strips, each K x MR): strip s holds rows [s*MR, s*MR+MR)
// of op(A), element (i, k) at [s*K*MR + k*MR + i]; rows past M are zero.
void pack_a_strip(bool trans_a, int M, int K, const float* A, int lda, int strip,
                  float* dst) {
    const int row0 = strip * MR;
    const int rows = std::min(MR, M - row0);
    for (int k = 0; k < K; ++k) {
        float* d = dst + static_cast<long>(k) * MR;
        for (int i = 0; i < MR; ++i) {
            if (i >= rows) { d[i] = 0.0f; continue; }
            const long r = row0 + i;
            d[i] = trans_a ? A[k * static_cast<long>(lda) + r] : A[r * lda + k];
        }
    }
}

// B_pack (ceil(N/NR) strips, each K x NR): strip t holds columns [t*NR, t*NR+NR)
// of op(B), element (k, j) at [t*K*NR + k*NR + j]; columns past N are zero.
void pack_b_strip(bool trans_b, int N, int K, const float* B, int ldb, int strip,
                  float* dst) {
    const int col0 = strip * NR;
    const int cols = std::min(NR, N - col0);
    if (cols < NR) std::fill(dst, dst + static_cast<long>(K) * NR, 0.0f);
    if (!trans_b) {  // rows of op(B) are rows of B: copy NR floats per k
        for (int k = 0; k < K; ++k) {
            const float* src = B + k * static_cast<long>(ldb) + col0;
            float* d = dst + static_cast<long>(k) * NR;
            for (int j = 0; j < cols; ++j) d[j] = src[j];
        }
        return;
    }
    // op(B) = Bᵀ: column j of op(B) is row col0 + j of B. Transpose in blocks
    // of 16 k so that each source row is read 64 contiguous bytes at a time
    // while the destination block (16 x NR floats) stays in L1.
    constexpr int KB = 16;
    for (int k0 = 0; k0 < K; k0 += KB) {
        const int kb = std::min(KB, K - k0);
        for (int j = 0; j < cols; ++j) {
            const float* src = B + (col0 + j) * static_cast<long>(ldb) + k0;
            float* d = dst + static_cast<long>(k0) * NR + j;
            for (int kk = 0; kk < kb; ++kk) d[kk * NR] = src[kk];
        }
    }
}

// ---------------------------------------------------------------------------
// Micro-kernel

// acc (MR x NR) = A strip block (kc x MR) · B strip block (kc x NR), then
// written to the rows x cols corner of C: C = acc (overwrite) or C += acc.
// The fixed-size loops are unrolled by the compiler; with -O3 and FMA each
// row of acc lives in NR/W vector registers and each k costs MR*NR/W FMAs.
void micro_kernel(int kc, const float* __restrict a, const float* __restrict b,
                  float* __restrict c, int ldc, int rows, int cols, bool overwrite) {
    float acc[MR][NR] = {};
    for (int k = 0; k < kc; ++k) {
        const float* bk = b + k * NR;
        const float* ak = a + k * MR;
        for (int i = 0; i < MR; ++i) {
            const float ai = ak[i];
            for (int j = 0; j < NR; ++j) acc[i][j] += ai * bk[j];
        }
    }
    if (rows == MR && cols == NR) {
        for (int i = 0; i < MR; ++i) {
            float* ci = c + static_cast<long>(i) * ldc;
            if (overwrite)
                for (int j = 0; j < NR; ++j) ci[j] = acc[i][j];
            else
                for (int j = 0; j < NR; ++j) ci[j] += acc[i][j];
        }
        return;
    }
    for (int i = 0; i < rows; ++i) {
        float* ci = c + static_cast<long>(i) * ldc;
        for (int j = 0; j < cols; ++j) ci[j] = overwrite ? acc[i][j] : ci[j] + acc[i][j];
    }
}

// The packing workspace, grown on first use and then reused (see gemm.h).
std::vector<float>& a_workspace() { static std::vector<float> w; return w; }
std::vector<float>& b_workspace() { static std::vector<float> w; return w; }

}  // namespace

// ---------------------------------------------------------------------------
// The driver

void sgemm(bool trans_a, bool trans_b, int M, int N, int K, const float* A, int lda,
           const float* B, int ldb, float beta, float* C, int ldc, ThreadPool& pool) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {  // empty sum: C = beta * C
        for (int i = 0; i < M; ++i)
            for (int j = 0; j < N; ++j) C[static_cast<long>(i) * ldc + j] = beta == 0.0f ? 0.0f : C[static_cast<long>(i) * ldc + j];
        return;
    }
    const int strips_a = (M + MR - 1) / MR;
    const int strips_b = (N + NR - 1) / NR;
    const long a_strip_size = static_cast<long>(K) * MR;
    const long b_strip_size = static_cast<long>(K) * NR;
    std::vector<float>& a_pack = a_workspace();
    std::vector<float>& b_pack = b_workspace();
    if (a_pack.size() < static_cast<size_t>(strips_a * a_strip_size)) a_pack.resize(strips_a * a_strip_size);
    if (b_pack.size() < static_cast<size_t>(strips_b * b_strip_size)) b_pack.resize(strips_b * b_strip_size);

    // Phase 1: pack every strip of A and B, one strip per task.
    pool.run(strips_a + strips_b, [&](int s) {
        if (s < strips_a)
            pack_a_strip(trans_a, M, K, A, lda, s, a_pack.data() + s * a_strip_size);
        else
            pack_b_strip(trans_b, N, K, B, ldb, s - strips_a,
                         b_pack.data() + (s - strips_a) * b_strip_size);
    });

    // Phase 2: tiles of C. Shrink tiles until there are a few per thread, so
    // that small GEMMs still spread over the pool and big ones balance.
    int tile_m = std::min(kMaxTileStripsM, strips_a);
    int tile_n = std::min(kMaxTileStripsN, strips_b);
    auto tile_count = [&] {
        return ((strips_a + tile_m - 1) / tile_m) * ((strips_b + tile_n - 1) / tile_n);
    };
    const int wanted = pool.size() == 1 ? 1 : 3 * pool.size();
    while (tile_count() < wanted && (tile_n > 1 || tile_m > 1)) {
        if (tile_n >= tile_m && tile_n > 1) tile_n = (tile_n + 1) / 2;
        else tile_m = (tile_m + 1) / 2;
    }
    const int tiles_m = (strips_a + tile_m - 1) / tile_m;
    const int tiles_n = (strips_b + tile_n - 1) / tile_n;

    pool.run(tiles_m * tiles_n, [&](int tile) {
        const int sa_begin = (tile / tiles_n) * tile_m;
        const int sb_begin = (tile % tiles_n) * tile_n;
        const int sa_end = std::min(strips_a, sa_begin + tile_m);
        const int sb_end = std::min(strips_b, sb_begin + tile_n);
        for (int k0 = 0; k0 < K; k0 += KC) {
            const int kc = std::min(KC, K - k0);
            const bool overwrite = k0 == 0 && beta == 0.0f;
            for (int sb = sb_begin; sb < sb_end; ++sb) {
                const float* b = b_pack.data() + sb * b_strip_size + static_cast<long>(k0) * NR;
                const int col0 = sb * NR;
                const int cols = std::min(NR, N - col0);
                for (int sa = sa_begin; sa < sa_end; ++sa) {
                    const float* a = a_pack.data() + sa * a_strip_size + static_cast<long>(k0) * MR;
                    const int row0 = sa * MR;
                    const int rows = std::min(MR, M - row0);
                    micro_kernel(kc, a, b, C + static_cast<long>(row0) * ldc + col0, ldc, rows,
                                 cols, overwrite);
                }
            }
        }
    });
}

void sgemm_naive(bool trans_a, bool trans_b, int M, int N, int K, const float* A, int lda,
                 const float* B, int ldb, float beta, float* C, int ldc) {
    for (int i = 0; i < M; ++i) {
        for (int j = 0; j < N; ++j) {
            double sum = 0.0;
            for (int k = 0; k < K; ++k) {
                const float a = trans_a ? A[static_cast<long>(k) * lda + i] : A[static_cast<long>(i) * lda + k];
                const float b = trans_b ? B[static_cast<long>(j) * ldb + k] : B[static_cast<long>(k) * ldb + j];
                sum += static_cast<double>(a) * b;
            }
            float& c = C[static_cast<long>(i) * ldc + j];
            c = static_cast<float>(sum) + (beta == 0.0f ? 0.0f : c);
        }
    }
}
