// gemm.cpp — the SGEMM behind every layer: packed panels and a register-
// blocked micro-kernel written with explicit vector types (simd.h), so that
// every compiler keeps its accumulators in registers and issues full-width
// FMAs on SSE2, AVX2, AVX-512 and NEON alike.
//
// Read sgemm as sgemm_naive (first in this file) with its loops cut into
// blocks that fit the registers and caches: the classic Goto/BLIS scheme,
// simplified:
//   0. pick the form (normal_form): C as asked, or Cᵀ = op(B)ᵀ · op(A)ᵀ into
//      a scratch matrix copied back transposed, when that packs less or when
//      a few rows of A meet a long B stored by rows (the dense layers' dX);
//   1. view op(A) as strips of MR rows and op(B) as strips of NR columns;
//      read a strip in place when its layout allows, else pack it k-major
//      (op(B) transposed, partial edge strips, every strip of B in large
//      products, where packed strips stream from cache better, and of A
//      there too when its columns are the contiguous side);
//   2. cut C into tiles, hand the tiles to the thread pool; each tile walks K
//      in blocks of KC (so its A and B slices stay in cache), copies the K
//      block of its B strips to a contiguous buffer when several A strips
//      will reuse them, and calls the micro-kernel, which keeps an MR x NR
//      block of C in registers.
// Leaves out: alpha, hand-written assembly, runtime CPU dispatch.
#include "fast/gemm.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "fast/simd.h"
#include "fast/thread_pool.h"

// ---------------------------------------------------------------------------
// The definition: the textbook triple loop, summed in double. sgemm below
// computes the same products; the tests hold it to this one.

void sgemm_naive(bool trans_a, bool trans_b, int M, int N, int K, const float* A, int lda,
                 const float* B, int ldb, float beta, float* C, int ldc) {
    for (int i = 0; i < M; ++i) {
        for (int j = 0; j < N; ++j) {
            double sum = 0.0;
            for (int k = 0; k < K; ++k) {
                const float a = trans_a ? A[static_cast<int64_t>(k) * lda + i] : A[static_cast<int64_t>(i) * lda + k];
                const float b = trans_b ? B[static_cast<int64_t>(j) * ldb + k] : B[static_cast<int64_t>(k) * ldb + j];
                sum += static_cast<double>(a) * b;
            }
            float& c = C[static_cast<int64_t>(i) * ldc + j];
            c = static_cast<float>(sum + (beta == 0.0f ? 0.0 : static_cast<double>(beta) * c));
        }
    }
}

// ---------------------------------------------------------------------------
// Blocking parameters

namespace {

// The micro-kernel's register block: MR rows x NR columns of C, held in
// MR x NV vector registers of W = simd::kWidth floats (NR = NV * W). The
// accumulators plus one row of B (NV registers) and a broadcast of A must fit
// in the register file: 6 x 2 = 12 accumulators + 3 = 15 of the 16 AVX2 (or
// SSE2) registers; AVX-512 and NEON have 32.
constexpr int W = simd::kWidth;
// AVX-512 has room for 8 rows (16 accumulators): 8 x 32, which also cuts
// the batch of 32 into whole strips.
#if defined(__AVX512F__)
constexpr int MR = 8, NV = 2;  // 8 x 32
#else
constexpr int MR = 6, NV = 2;  // 6 x 16 on AVX2, 6 x 8 on SSE2 / NEON
#endif
constexpr int NR = NV * W;

// K is walked in blocks of KC: an MR x KC strip of A and a KC x NR strip of B
// (6 and 16 KB at KC = 256, NR = 16) then sit in L1/L2 while a tile is
// computed. KC is fixed, never tied to the thread count or the target, so the
// order of additions in every element of C is the same for every pool size
// and every build.
constexpr int KC = 256;

// Products with M and N both at least this large pack every strip of B (and
// of A, when A is stored by columns).
constexpr int kPackAllFrom = 256;

// Products with M at most this (and a multiple of NR) against a long B stored
// by rows are computed transposed (see normal_form).
constexpr int kShortM = 64;

// Software prefetch of operands read in place from memory (the dense
// layers' weights in their forward products): rows of A, read along k, are
// fetched kPrefetchK floats (4 cache lines) ahead, one line per row every 16 k.
constexpr int kPrefetchK = 64;

// Largest tile of C handed to one task, in strips.
constexpr int kMaxTileStripsM = 16;  // 96 rows (128 with AVX-512)
constexpr int kMaxTileStripsN = 8;   // 256 columns with AVX-512, 128 with AVX2

// ---------------------------------------------------------------------------
// The problem in normal form
//
// The micro-kernel broadcasts single elements of A and loads rows of NR
// contiguous elements of B, so A may be read in place in either layout, but B
// only when its rows are contiguous. When they are not (op(B) = Bᵀ), that
// operand is packed (copied transposed) first; packing costs a pass over it,
// so if packing op(A) instead would be cheaper, the product is computed as
// Cᵀ = op(B)ᵀ · op(A)ᵀ. That Cᵀ goes to a scratch matrix and is copied into C
// transposed at the end: written straight into C, each micro-kernel call
// would store to NR rows of C a power-of-two stride apart (ldc = 1024 in the
// dense layers), all in the same L1 cache set, and run at a fifth of its speed.

struct Problem {
    int M, N, K;
    const float* A; int lda; bool a_rows;  // a(i,k) = a_rows ? A[i*lda + k] : A[k*lda + i]
    const float* B; int ldb; bool b_rows;  // b(k,j) = b_rows ? B[k*ldb + j] : B[j*ldb + k]
    bool c_transposed;                     // c(i,j) is C[j*ldc + i]: computed into scratch, then copied
};

Problem normal_form(bool trans_a, bool trans_b, int M, int N, int K, const float* A, int lda,
                    const float* B, int ldb) {
    const Problem as_is{M, N, K, A, lda, !trans_a, B, ldb, !trans_b, false};
    const Problem swapped{N, M, K, B, ldb, trans_b, A, lda, trans_a, true};
    // A few rows of A against a long B stored by rows: dX = dY · W in the
    // dense layers, the batch against a weight matrix that comes from memory.
    // As is, a copy loop would stream all of B into tiles (sgemm, phase 2)
    // before any FMA; swapped, W is read in place as a column-stored A and
    // its loads overlap the kernel's FMAs, while the batch fills the NR-wide
    // vectors exactly. Only where the rows fill whole strips (M a multiple of
    // NR) and K is long enough to repay the transposed copy of C.
    if (!trans_a && !trans_b && M <= kShortM && M % NR == 0 && K >= KC) return swapped;
    const int64_t pack_as_is = trans_b ? static_cast<int64_t>(K) * N : 0;
    const int64_t pack_swapped = trans_a ? 0 : static_cast<int64_t>(K) * M;
    return pack_swapped < pack_as_is ? swapped : as_is;
}

// ---------------------------------------------------------------------------
// Packing

// B strip (K x NR, row k at [k*NR]) = columns [col0, col0 + NR) of b(k, j),
// zero past column N. Used for every strip when B's rows are not contiguous,
// and for the last, partial strip otherwise.
void pack_b_strip(const Problem& p, int col0, float* dst) {
    const int cols = std::min(NR, p.N - col0);
    if (cols < NR) std::fill(dst, dst + static_cast<int64_t>(p.K) * NR, 0.0f);
    if (p.b_rows) {
        for (int k = 0; k < p.K; ++k) {
            const float* src = p.B + k * static_cast<int64_t>(p.ldb) + col0;
            for (int j = 0; j < cols; ++j) dst[static_cast<int64_t>(k) * NR + j] = src[j];
        }
        return;
    }
    // b(k, j) = B[j*ldb + k]: transpose in blocks of 16 k, so that each source
    // row is read 64 contiguous bytes at a time while the destination block
    // (16 x NR floats) stays in L1.
    constexpr int KB = 16;
    for (int k0 = 0; k0 < p.K; k0 += KB) {
        const int kb = std::min(KB, p.K - k0);
        for (int j = 0; j < cols; ++j) {
            const float* src = p.B + (col0 + j) * static_cast<int64_t>(p.ldb) + k0;
            float* d = dst + static_cast<int64_t>(k0) * NR + j;
            for (int kk = 0; kk < kb; ++kk) d[kk * NR] = src[kk];
        }
    }
}

// A strip (K x MR, column-major: a(i,k) at [k*MR + i]) = rows [row0, row0 + MR)
// of a(i, k), zero past row M. Used for the last, partial strip of A (so the
// micro-kernel never reads past the matrix) and for every strip of a large
// product whose A is stored by columns.
void pack_a_strip(const Problem& p, int row0, float* dst) {
    const int rows = std::min(MR, p.M - row0);
    if (rows < MR) std::fill(dst, dst + static_cast<int64_t>(p.K) * MR, 0.0f);
    // a(i, k) sits step_i floats from a(i-1, k) and step_k from a(i, k-1).
    // A whole strip stored by columns (step_i = 1) is one vector-wide copy
    // per k; no test per element inside the copy, which would keep the
    // compiler from vectorising it.
    const int64_t step_i = p.a_rows ? p.lda : 1, step_k = p.a_rows ? 1 : p.lda;
    const float* src = p.A + row0 * step_i;
    for (int k = 0; k < p.K; ++k) {
        const float* s = src + k * step_k;
        float* d = dst + static_cast<int64_t>(k) * MR;
        if (rows == MR && !p.a_rows)
            std::memcpy(d, s, sizeof(float) * MR);
        else
            for (int i = 0; i < rows; ++i) d[i] = s[i * step_i];
    }
}

// ---------------------------------------------------------------------------
// Micro-kernel

// acc (MR x NR) = Σ_k a(i, k) · b(k, j) over kc values of k, then written to
// the rows x cols corner of C: C = acc (overwrite) or C += acc.
//   a(i,k) = A_ROWS ? a[i*lda + k] : a[k*lda + i]     (broadcast, any layout)
//   b(k,j) = b[k*ldb + j]                              (NR contiguous floats)
// Each k costs NV vector loads of B, MR broadcasts of A and MR*NV vector FMAs;
// the MR*NV accumulators never leave the registers. Every element of C is the
// chain acc = fma(a, b, acc) over k in order, whatever W is, so all targets
// with FMA give the same bits. (sgemm_naive below is the same sum, in double.)
template <bool A_ROWS>
void micro_kernel(int kc, const float* __restrict a, int64_t lda, const float* __restrict b,
                  int64_t ldb, float* __restrict c, int64_t ldc, int rows, int cols, bool overwrite) {
    simd::Vec acc[MR][NV] = {};
    // kc >= 1 always (sgemm returns before this for K <= 0). Said to the
    // compiler, it can keep acc in registers from the start instead of in an
    // array on the stack, zeroed and copied back on every call (which costs
    // most where K is short: K = 32 in the dense layers' weight gradients).
    if (kc <= 0) __builtin_unreachable();
    for (int k = 0; k < kc; ++k) {
        if (A_ROWS && k % 16 == 0)  // one cache line of each row of A
            for (int i = 0; i < MR; ++i) __builtin_prefetch(a + i * lda + k + kPrefetchK);
        simd::Vec bk[NV];  // b(k, v*W .. v*W + W-1)
        for (int v = 0; v < NV; ++v) bk[v] = simd::load(b + k * ldb + v * W);
        for (int i = 0; i < MR; ++i) {
            const simd::Vec ai = simd::broadcast(A_ROWS ? a[i * lda + k] : a[k * lda + i]);
            for (int v = 0; v < NV; ++v) acc[i][v] = simd::fmadd(ai, bk[v], acc[i][v]);
        }
    }
    if (rows == MR && cols == NR) {  // the common case: whole vectors
        for (int i = 0; i < MR; ++i)
            for (int v = 0; v < NV; ++v) {
                float* dst = c + i * ldc + v * W;
                simd::store(dst, overwrite ? acc[i][v] : simd::load(dst) + acc[i][v]);
            }
        return;
    }
    // The edge of C: element by element from a copy in memory.
    float tile[MR][NR];
    for (int i = 0; i < MR; ++i)
        for (int v = 0; v < NV; ++v) simd::store(&tile[i][v * W], acc[i][v]);
    for (int i = 0; i < rows; ++i)
        for (int j = 0; j < cols; ++j) {
            float& dst = c[i * ldc + j];
            dst = overwrite ? tile[i][j] : dst + tile[i][j];
        }
}

using MicroKernel = void (*)(int, const float*, int64_t, const float*, int64_t, float*, int64_t, int,
                             int, bool);

// The packing and scratch workspaces of the calling thread, grown on first
// use and then reused (see gemm.h).
std::vector<float>& b_workspace() { thread_local std::vector<float> w; return w; }
std::vector<float>& a_workspace() { thread_local std::vector<float> w; return w; }
std::vector<float>& c_workspace() { thread_local std::vector<float> w; return w; }
float* b_tile_workspace() {
    thread_local std::vector<float> w(static_cast<size_t>(KC) * kMaxTileStripsN * NR);
    return w.data();
}

// C (rows x cols, ldc) = scratchᵀ, or C += scratchᵀ; scratch is cols x rows,
// dense. In 32 x 32 blocks, so both sides are read and written a cache line
// at a time.
void copy_transposed(float* C, int ldc, const float* scratch, int rows, int cols, bool accumulate,
                     ThreadPool& pool) {
    constexpr int T = 32;
    const int row_blocks = (rows + T - 1) / T, col_blocks = (cols + T - 1) / T;
    // Blocks of C over the pool: C is often only one block of rows tall
    // (the batch of 32 in the dense layers).
    pool.run(row_blocks * col_blocks, [&](int block) {
        const int i0 = (block / col_blocks) * T, j0 = (block % col_blocks) * T;
        const int i_end = std::min(rows, i0 + T), j_end = std::min(cols, j0 + T);
        // Along rows of C: its rows are often 4 KB apart (ldc = 1024), and
        // 32 stores down a column would all land in one L1 cache set.
        for (int i = i0; i < i_end; ++i) {
            float* dst = C + static_cast<int64_t>(i) * ldc;
            const float* src = scratch + i;  // c(i, j) = scratch[j*rows + i]
            if (accumulate)
                for (int j = j0; j < j_end; ++j) dst[j] += src[static_cast<int64_t>(j) * rows];
            else
                for (int j = j0; j < j_end; ++j) dst[j] = src[static_cast<int64_t>(j) * rows];
        }
    });
}

}  // namespace

// ---------------------------------------------------------------------------
// The driver

void sgemm(bool trans_a, bool trans_b, int M, int N, int K, const float* A, int lda,
           const float* B, int ldb, float beta, float* C, int ldc, ThreadPool& pool) {
    if (M <= 0 || N <= 0) return;
    // C = beta * C first, unless beta is 0 (C is overwritten below) or 1;
    // the product is then added in. With K = 0 that is the whole answer.
    if (beta == 0.0f && K <= 0)
        for (int i = 0; i < M; ++i) std::fill(C + static_cast<int64_t>(i) * ldc, C + static_cast<int64_t>(i) * ldc + N, 0.0f);
    if (beta != 0.0f && beta != 1.0f)
        pool.run(M, [&](int i) {
            for (int j = 0; j < N; ++j) C[static_cast<int64_t>(i) * ldc + j] *= beta;
        });
    if (K <= 0) return;
    const Problem p = normal_form(trans_a, trans_b, M, N, K, A, lda, B, ldb);
    // Where the micro-kernels write c(i, j): C itself, or the scratch matrix
    // (p.M x p.N, dense) that holds Cᵀ until the copy at the end.
    float* out = C;
    int64_t ldo = ldc;
    if (p.c_transposed) {
        std::vector<float>& scratch = c_workspace();
        if (scratch.size() < static_cast<size_t>(p.M) * p.N) scratch.resize(static_cast<size_t>(p.M) * p.N);
        out = scratch.data();
        ldo = p.N;
    }
    const bool accumulate = beta != 0.0f && !p.c_transposed;  // the copy adds a transposed C
    const int strips_a = (p.M + MR - 1) / MR;
    const int strips_b = (p.N + NR - 1) / NR;
    const bool a_edge = p.M % MR != 0, b_edge = p.N % NR != 0;
    const int64_t b_strip_floats = static_cast<int64_t>(p.K) * NR;

    // Phase 1: pack. B strips are read in place when B's rows are contiguous,
    // A strips always can be; but when both M and N are large every strip is
    // re-read many times, and packed (contiguous) strips of B stream from
    // cache far better than rows a power-of-two stride apart, so all of B is
    // packed. A strip stored by rows is still read in place then: the
    // micro-kernel prefetches along its MR rows, which saves a pass over A.
    // A strip stored by columns gives the kernel only MR floats per cache
    // line it touches, and is packed.
    // Partial last strips are always packed, zero-padded.
    const bool large = p.M >= kPackAllFrom && p.N >= kPackAllFrom;
    const bool pack_all_b = large || !p.b_rows;
    const bool pack_all_a = large && !p.a_rows;
    const int packed_b_strips = pack_all_b ? strips_b : (b_edge ? 1 : 0);
    const int packed_a_strips = pack_all_a ? strips_a : (a_edge ? 1 : 0);
    const int64_t a_strip_floats = static_cast<int64_t>(p.K) * MR;
    std::vector<float>& b_pack = b_workspace();
    std::vector<float>& a_pack = a_workspace();
    if (b_pack.size() < static_cast<size_t>(packed_b_strips * b_strip_floats))
        b_pack.resize(packed_b_strips * b_strip_floats);
    if (a_pack.size() < static_cast<size_t>(packed_a_strips * a_strip_floats))
        a_pack.resize(packed_a_strips * a_strip_floats);
    pool.run(packed_b_strips + packed_a_strips, [&](int t) {
        if (t < packed_b_strips) {
            const int strip = pack_all_b ? t : strips_b - 1;
            pack_b_strip(p, strip * NR, b_pack.data() + t * b_strip_floats);
        } else {
            const int index = t - packed_b_strips;
            const int strip = pack_all_a ? index : strips_a - 1;
            pack_a_strip(p, strip * MR, a_pack.data() + index * a_strip_floats);
        }
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

    MicroKernel kernels[2] = {micro_kernel<false>, micro_kernel<true>};
    pool.run(tiles_m * tiles_n, [&](int tile) {
        const int sa_begin = (tile / tiles_n) * tile_m;
        const int sb_begin = (tile % tiles_n) * tile_n;
        const int sa_end = std::min(strips_a, sa_begin + tile_m);
        const int sb_end = std::min(strips_b, sb_begin + tile_n);
        // B read in place but reused by several strips of A: copy this K
        // block of the tile's whole strips of B, kc x NR each, to a buffer
        // first. In place, the kc rows of a strip sit ldb apart, often a
        // multiple of 1 KB, and a new page each: they share a few L1 cache sets
        // and defeat the prefetcher. The copy reads each row of B once, the
        // tile's whole width at a time, which the prefetcher follows.
        const bool copy_b = !pack_all_b && sa_end - sa_begin > 1;
        const int full_strips = std::min(sb_end, p.N / NR) - sb_begin;  // the edge strip is packed
        float* b_block = copy_b ? b_tile_workspace() : nullptr;
        for (int k0 = 0; k0 < p.K; k0 += KC) {
            const int kc = std::min(KC, p.K - k0);
            const bool overwrite = k0 == 0 && !accumulate;
            if (copy_b)
                for (int k = 0; k < kc; ++k) {
                    const float* row = p.B + static_cast<int64_t>(k0 + k) * p.ldb + sb_begin * NR;
                    for (int s = 0; s < full_strips; ++s)  // NV whole vectors (g++ would use 16-byte moves)
                        for (int v = 0; v < NV; ++v)
                            simd::store(b_block + (static_cast<int64_t>(s) * kc + k) * NR + v * W,
                                        simd::load(row + s * NR + v * W));
                }
            for (int sb = sb_begin; sb < sb_end; ++sb) {
                const int col0 = sb * NR;
                const int cols = std::min(NR, p.N - col0);
                // Where this strip of B is read: in place, or from the pack.
                const float* b;
                int64_t ldb_strip;
                if (copy_b && cols == NR) {
                    // From the tile's copy (below the k0 loop head).
                    b = b_block + static_cast<int64_t>(sb - sb_begin) * kc * NR;
                    ldb_strip = NR;
                } else if (!pack_all_b && cols == NR) {
                    b = p.B + static_cast<int64_t>(k0) * p.ldb + col0;
                    ldb_strip = p.ldb;
                } else {
                    const int packed_index = pack_all_b ? sb : 0;
                    b = b_pack.data() + packed_index * b_strip_floats + static_cast<int64_t>(k0) * NR;
                    ldb_strip = NR;
                }
                for (int sa = sa_begin; sa < sa_end; ++sa) {
                    const int row0 = sa * MR;
                    const int rows = std::min(MR, p.M - row0);
                    float* c = out + static_cast<int64_t>(row0) * ldo + col0;
                    if (!pack_all_a && rows == MR) {  // in place
                        const float* a = p.a_rows ? p.A + static_cast<int64_t>(row0) * p.lda + k0
                                                  : p.A + static_cast<int64_t>(k0) * p.lda + row0;
                        kernels[p.a_rows](kc, a, p.lda, b, ldb_strip, c, ldo, rows, cols, overwrite);
                    } else {  // packed: column-major with ld MR
                        const int packed_index = pack_all_a ? sa : 0;
                        const float* a = a_pack.data() + packed_index * a_strip_floats + static_cast<int64_t>(k0) * MR;
                        kernels[0](kc, a, MR, b, ldb_strip, c, ldo, rows, cols, overwrite);
                    }
                }
            }
        }
    });
    if (p.c_transposed) copy_transposed(C, ldc, out, M, N, beta != 0.0f, pool);
}

void sgemm_packed_b(int M, int N, int K, const float* A, int lda, const PackB& pack_b, float* C, int ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        for (int i = 0; i < M; ++i) std::fill(C + static_cast<int64_t>(i) * ldc, C + static_cast<int64_t>(i) * ldc + N, 0.0f);
        return;
    }
    // sgemm's phase 2 for one thread, with B's strips packed by pack_b where
    // sgemm copies them from B: tiles of kMaxTileStripsN strips of B; for each
    // K block, the tile's strips packed once and met by every strip of A.
    const int strips_a = (M + MR - 1) / MR, strips_b = (N + NR - 1) / NR;
    const Problem p{M, N, K, A, lda, true, nullptr, 0, true, false};
    // Every strip of A packed once, column-major (K x MR each): read in place,
    // the micro-kernel would follow MR rows lda apart, and lda here is often a
    // power of two (the weight gradient's A is the batch's pixels), which puts
    // all MR rows in the same few L1 cache sets.
    std::vector<float>& a_pack = a_workspace();
    const int64_t a_strip_floats = static_cast<int64_t>(K) * MR;
    if (a_pack.size() < static_cast<size_t>(strips_a * a_strip_floats)) a_pack.resize(strips_a * a_strip_floats);
    for (int sa = 0; sa < strips_a; ++sa) pack_a_strip(p, sa * MR, a_pack.data() + sa * a_strip_floats);
    float* b_block = b_tile_workspace();  // (kMaxTileStripsN strips, kc, NR)
    for (int sb_begin = 0; sb_begin < strips_b; sb_begin += kMaxTileStripsN) {
        const int sb_end = std::min(strips_b, sb_begin + kMaxTileStripsN);
        for (int k0 = 0; k0 < K; k0 += KC) {
            const int kc = std::min(KC, K - k0);
            for (int sb = sb_begin; sb < sb_end; ++sb)
                pack_b(k0, kc, sb * NR, b_block + static_cast<int64_t>(sb - sb_begin) * kc * NR);
            for (int sb = sb_begin; sb < sb_end; ++sb) {
                const float* b = b_block + static_cast<int64_t>(sb - sb_begin) * kc * NR;
                const int cols = std::min(NR, N - sb * NR);
                for (int sa = 0; sa < strips_a; ++sa) {
                    const int rows = std::min(MR, M - sa * MR);
                    float* c = C + static_cast<int64_t>(sa) * MR * ldc + sb * NR;
                    micro_kernel<false>(kc, a_pack.data() + sa * a_strip_floats + static_cast<int64_t>(k0) * MR, MR, b,
                                        NR, c, ldc, rows, cols, k0 == 0);
                }
            }
        }
    }
}

int sgemm_register_block_rows() { return MR; }
int sgemm_register_block_cols() { return NR; }
