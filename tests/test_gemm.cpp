// tests/test_gemm.cpp — the fast SGEMM against the naive triple loop, over odd
// shapes, every transpose case, beta 0, 1 and others, padded leading dimensions and
// several pool sizes; and bit-identical results across thread counts.
#include <cstring>

#include "catch.hpp"
#include "fast/gemm.h"
#include "fast/thread_pool.h"
#include "helpers.h"

namespace {

struct Shape {
    int M, N, K;
};

// Runs both versions on the same random inputs and returns the max difference
// relative to the size of the sum (K terms of magnitude <= 1).
void check_against_naive(const Shape& s, bool ta, bool tb, float beta, ThreadPool& pool) {
    const int pad = 3;  // leading dimensions larger than the rows, as in sub-matrices
    const int lda = (ta ? s.M : s.K) + pad, ldb = (tb ? s.K : s.N) + pad, ldc = s.N + pad;
    const auto A = random_vector(static_cast<size_t>(ta ? s.K : s.M) * lda, 1);
    const auto B = random_vector(static_cast<size_t>(tb ? s.N : s.K) * ldb, 2);
    std::vector<float> C_fast = random_vector(static_cast<size_t>(s.M) * ldc, 3);
    std::vector<float> C_ref = C_fast;
    sgemm(ta, tb, s.M, s.N, s.K, A.data(), lda, B.data(), ldb, beta, C_fast.data(), ldc, pool);
    sgemm_naive(ta, tb, s.M, s.N, s.K, A.data(), lda, B.data(), ldb, beta, C_ref.data(), ldc);
    const MaxDiff d = max_abs_diff(C_fast.data(), C_ref.data(), C_fast.size());
    INFO("M=" << s.M << " N=" << s.N << " K=" << s.K << " ta=" << ta << " tb=" << tb << " beta="
              << beta << " threads=" << pool.size() << ": max diff " << d.diff << " at "
              << d.index);
    CHECK(d.diff <= 1e-5 * (s.K + 1));
}

}  // namespace

TEST_CASE("sgemm matches the naive loop on odd shapes, all transposes, beta 0, 1, 0.5 and -2", "[gemm]") {
    const Shape shapes[] = {{1, 1, 1},   {7, 5, 3},     {13, 17, 300}, {6, 16, 256},
                            {37, 70, 513}, {100, 33, 9}, {5, 130, 1},  {64, 100, 600},  // 64 x 100 x 600: computed transposed (few rows, long B by rows)
                            {4, 5, 0},  // an empty sum: C = beta * C
                            {300, 270, 50}, {257, 263, 300}};  // the last two: large products (B packed, A too when by columns)
    for (int threads : {1, 2, 3}) {
        ThreadPool pool(threads);
        for (const Shape& s : shapes)
            for (bool ta : {false, true})
                for (bool tb : {false, true})
                    for (float beta : {0.0f, 1.0f, 0.5f, -2.0f}) check_against_naive(s, ta, tb, beta, pool);
    }
}

TEST_CASE("sgemm with beta 0 ignores NaN already in C", "[gemm]") {
    ThreadPool pool(2);
    const auto A = random_vector(4 * 5, 1), B = random_vector(5 * 6, 2);
    std::vector<float> C(4 * 6, std::nanf("")), C_ref(4 * 6, 0.0f);
    sgemm(false, false, 4, 6, 5, A.data(), 5, B.data(), 6, 0.0f, C.data(), 6, pool);
    sgemm_naive(false, false, 4, 6, 5, A.data(), 5, B.data(), 6, 0.0f, C_ref.data(), 6);
    CHECK(max_abs_diff(C.data(), C_ref.data(), C.size()).diff < 1e-5);
}

TEST_CASE("sgemm gives the same bits for 1, 2, 3 and 5 threads", "[gemm][determinism]") {
    const int M = 67, N = 301, K = 700;
    const auto A = random_vector(static_cast<size_t>(M) * K, 4), B = random_vector(static_cast<size_t>(K) * N, 5);
    std::vector<float> reference(static_cast<size_t>(M) * N);
    {
        ThreadPool one(1);
        sgemm(false, false, M, N, K, A.data(), K, B.data(), N, 0.0f, reference.data(), N, one);
    }
    for (int threads : {2, 3, 5}) {
        ThreadPool pool(threads);
        std::vector<float> C(reference.size());
        sgemm(false, false, M, N, K, A.data(), K, B.data(), N, 0.0f, C.data(), N, pool);
        INFO("threads " << threads);
        CHECK(std::memcmp(C.data(), reference.data(), sizeof(float) * C.size()) == 0);
    }
}

TEST_CASE("sgemm gives the same bits computed as Cᵀ = Bᵀ·Aᵀ as computed directly", "[gemm][determinism]") {
    // 32 rows (a multiple of the strip width NR on every target) against a
    // long B by rows are computed transposed; 33 rows are not. Row by row the sums are
    // the same chain of FMAs, so the first 32 rows must agree to the bit: the
    // batch size must not change a training run's numbers.
    const int N = 70, K = 300, ld = N;
    const auto A = random_vector(static_cast<size_t>(33) * K, 6), B = random_vector(static_cast<size_t>(K) * N, 7);
    ThreadPool pool(2);
    std::vector<float> C32(static_cast<size_t>(32) * ld), C33(static_cast<size_t>(33) * ld);
    sgemm(false, false, 32, N, K, A.data(), K, B.data(), ld, 0.0f, C32.data(), ld, pool);
    sgemm(false, false, 33, N, K, A.data(), K, B.data(), ld, 0.0f, C33.data(), ld, pool);
    CHECK(std::memcmp(C32.data(), C33.data(), sizeof(float) * C32.size()) == 0);
}

TEST_CASE("thread pool runs every task exactly once", "[threads]") {
    for (int threads : {1, 2, 4}) {
        ThreadPool pool(threads);
        for (int tasks : {0, 1, 2, 7, 1000}) {
            std::vector<int> hits(tasks, 0);
            pool.run(tasks, [&](int i) { hits[i]++; });
            for (int i = 0; i < tasks; ++i) REQUIRE(hits[i] == 1);
        }
        std::vector<int> covered(12345, 0);
        pool.parallel_for(12345, 100, [&](int64_t b, int64_t e) {
            for (int64_t i = b; i < e; ++i) covered[i]++;
        });
        for (int c : covered) REQUIRE(c == 1);
    }
}
