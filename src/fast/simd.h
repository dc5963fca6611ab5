// simd.h — the vector register of the build's target, written down explicitly.
//
// The GEMM micro-kernel (gemm.cpp) and bench's FMA-peak loop are written with
// GCC/Clang vector types: `Vec` is W floats that live in one vector register,
// and `a * b` on two Vecs is one vector instruction. Plain `float acc[6][16]`
// loops leave the vector width to the auto-vectoriser, whose choice differs by
// compiler and CPU (it can pick half-width vectors and spill the accumulators
// to the stack); with Vec the width is in the source.
//
//   target (first that the compiler enables)   W    name
//   AVX-512F  (-march=x86-64-v4, ...)             16   AVX-512
//   AVX       (-march=x86-64-v3, ...)              8   AVX2 (or AVX without FMA)
//   NEON      (every aarch64)                     4   NEON
//   anything else (SSE2 on x86-64, ...)           4   generic, the compiler's choice
//
// fmadd(a, b, c) = a*b + c with ONE rounding, on every target with FMA
// hardware. The Makefile builds with -ffp-contract=off, so the compiler never
// fuses a multiply and an add by itself; the places that want a fused one say
// so here. That is what makes a g++ AVX2 build, a clang++ AVX-512 build and a
// NEON build round every product identically: same checkpoint bits. A target
// without FMA (baseline x86-64, i.e. make PORTABLE=1) rounds twice and so
// trains to slightly different bits.
//
// Leaves out: runtime CPU dispatch (one binary is built for one target), double.
#pragma once

#include <cstring>

#if defined(__AVX__)
#include <immintrin.h>
#elif defined(__ARM_NEON)
#include <arm_neon.h>
#endif

namespace simd {

#if defined(__AVX512F__)
constexpr int kWidth = 16;
constexpr const char* kName = "AVX-512";
#elif defined(__AVX2__)
constexpr int kWidth = 8;
constexpr const char* kName = "AVX2";
#elif defined(__AVX__)
constexpr int kWidth = 8;
constexpr const char* kName = "AVX";
#elif defined(__ARM_NEON)
constexpr int kWidth = 4;
constexpr const char* kName = "NEON";
#else
constexpr int kWidth = 4;
constexpr const char* kName = "generic";
#endif

// True when fmadd is one fused instruction (one rounding).
#if defined(__FMA__) || defined(__ARM_FEATURE_FMA)
constexpr bool kFusedMultiplyAdd = true;
#else
constexpr bool kFusedMultiplyAdd = false;
#endif

// W floats in one vector register.
typedef float Vec __attribute__((vector_size(kWidth * sizeof(float))));

// Loads and stores of W consecutive floats from any address (no alignment
// needed); each compiles to one unaligned vector move.
inline Vec load(const float* p) {
    Vec v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
inline void store(float* p, Vec v) { std::memcpy(p, &v, sizeof v); }

// Every lane = x (one broadcast instruction).
inline Vec broadcast(float x) {
#if defined(__AVX512F__)
    return (Vec)_mm512_set1_ps(x);
#elif defined(__AVX__)
    return (Vec)_mm256_set1_ps(x);
#elif defined(__ARM_NEON)
    return (Vec)vdupq_n_f32(x);
#else
    return Vec{x, x, x, x};
#endif
}

// a*b + c per lane, rounded once where the target has FMA.
inline Vec fmadd(Vec a, Vec b, Vec c) {
#if defined(__AVX512F__)
    return (Vec)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c);
#elif defined(__AVX__) && defined(__FMA__)
    return (Vec)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c);
#elif defined(__ARM_NEON) && defined(__ARM_FEATURE_FMA)
    return (Vec)vfmaq_f32((float32x4_t)c, (float32x4_t)a, (float32x4_t)b);
#else
    return a * b + c;  // two roundings: -ffp-contract=off keeps them apart
#endif
}

}  // namespace simd
