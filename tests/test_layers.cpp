// tests/test_layers.cpp — the reference kernels (nn/layers.h): each forward
// against hand-computed cases or its definition, each backward against
// central finite differences of the scalar L = sum(out * r) for a fixed random
// r (so that dL/dout = r). The fast kernels are then held to these in
// tests/test_fast.cpp.
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "catch.hpp"
#include "fast/gemm.h"
#include "helpers.h"
#include "nn/layers.h"

using namespace reference;

namespace {

const ConvGeometry kGeometries[] = {
    {2, 3, 9, 9, 4, 3, 1, 1},     // 3x3 "same"
    {2, 2, 13, 11, 3, 5, 2, 2},   // strided, non-square, padded
    {3, 1, 23, 23, 2, 11, 4, 0},  // conv1's kernel and stride; 23 - 11 = 12 is a multiple of 4
    {1, 2, 14, 14, 2, 11, 4, 0},  // 14 - 11 = 3 is not: the last 3 rows and columns are never read
};

// Max-pooling's backward against finite differences on planes x h x w
// distinct values 0.1 apart, shuffled: no ties, so eps = 0.01 never changes a
// winner.
void check_maxpool_gradient(const PoolGeometry& g, uint64_t seed) {
    std::vector<float> x(g.planes * g.in_h * g.in_w);
    for (size_t i = 0; i < x.size(); ++i) x[i] = 0.1f * static_cast<float>(i);
    Rng rng(seed);
    rng.shuffle(x);
    const auto r = random_vector(g.planes * g.out_h() * g.out_w(), seed + 1);
    std::vector<float> y(r.size());
    std::vector<int32_t> arg(r.size());
    auto loss = [&] {
        maxpool_forward(y.data(), arg.data(), x.data(), g);
        return weighted_sum(y.data(), r);
    };
    loss();
    std::vector<float> dx(x.size());
    maxpool_backward(dx.data(), r.data(), arg.data(), g);
    for (size_t i = 0; i < x.size(); ++i) CHECK(gradients_agree(dx[i], numeric_derivative(x[i], 0.01f, loss), 1e-3));
}

PoolGeometry pool_of(int planes, int h, int w, int window, int stride = 2) {
    PoolGeometry g;
    g.planes = planes;
    g.in_h = h;
    g.in_w = w;
    g.window = window;
    g.stride = stride;
    return g;
}

}  // namespace

// ---------------------------------------------------------------------------
// Convolution

TEST_CASE("output size: floor((H + 2P - K) / S) + 1, conv1 of the default model gives 12", "[conv]") {
    const ConvGeometry conv1{32, 1, 56, 56, 24, 11, 4, 0};
    CHECK(conv1.out_h() == 12);  // (56 - 11) / 4 + 1 = 11.25 -> 11, + 1
    CHECK(conv1.col_rows() == 121);
    CHECK(conv1.col_cols() == 32 * 144);
    const ConvGeometry conv2{32, 24, 6, 6, 64, 5, 1, 2};
    CHECK(conv2.out_h() == 6);  // "same": (6 + 4 - 5) / 1 + 1
    CHECK(ConvGeometry{1, 1, 10, 7, 1, 3, 2, 0}.out_w() == 3);
    CHECK(ConvGeometry{1, 1, 10, 7, 1, 3, 2, 0}.out_h() == 4);
    CHECK(ConvGeometry{1, 1, 4, 4, 1, 5, 1, 0}.fits() == false);
    CHECK(ConvGeometry{1, 1, 4, 4, 1, 5, 1, 1}.fits() == true);
    CHECK(ConvGeometry{1, 1, 4, 4, 1, 4, 1, 0}.fits() == true);
    CHECK(ConvGeometry{1, 1, 0, 4, 1, 1, 1, 2}.fits() == false);
}

TEST_CASE("im2col on the walkthrough's 1x3x3 image with a 2x2 kernel; col2im of ones counts the windows", "[conv]") {
    const ConvGeometry g{1, 1, 3, 3, 1, 2, 1, 0};
    const float in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    float col[16];
    im2col(col, in, g);
    // rows (kh, kw) = (0,0) (0,1) (1,0) (1,1); columns the 4 output pixels
    const float expected[16] = {1, 2, 4, 5, 2, 3, 5, 6, 4, 5, 7, 8, 5, 6, 8, 9};
    for (int i = 0; i < 16; ++i) CHECK(col[i] == expected[i]);
    float ones[16], back[9];
    std::fill(ones, ones + 16, 1.0f);
    col2im(back, ones, g);
    const float windows[9] = {1, 2, 1, 2, 4, 2, 1, 2, 1};  // the centre pixel sits under all four positions
    for (int i = 0; i < 9; ++i) CHECK(back[i] == windows[i]);
    // With padding 1 the corner pixel is under 4 of the 16 positions, and the
    // column of position (0, 0) starts with three zeros of the padding.
    const ConvGeometry padded{1, 1, 3, 3, 1, 2, 1, 1};
    std::vector<float> pcol(4 * 16);
    im2col(pcol.data(), in, padded);
    CHECK(pcol[0] == 0.0f);          // tap (0,0) at position (0,0) reads padding
    CHECK(pcol[3 * 16 + 0] == 1.0f);  // tap (1,1) at position (0,0) reads pixel (0,0)
    CHECK(pcol[15] == 9.0f);         // tap (0,0) at position (3,3) reads pixel (2,2)
    std::vector<float> pones(4 * 16, 1.0f);
    col2im(back, pones.data(), padded);
    for (int i = 0; i < 9; ++i) CHECK(back[i] == 4.0f);  // every pixel is under all 4 taps once
}

TEST_CASE("im2col and col2im are adjoint: <col2im(y), x> = <y, im2col(x)>", "[conv]") {
    for (const ConvGeometry& g : kGeometries) {
        const size_t in_size = static_cast<size_t>(g.batch) * g.in_channels * g.in_h * g.in_w;
        const size_t col_size = static_cast<size_t>(g.col_rows()) * g.col_cols();
        const auto x = random_vector(in_size, 1), y = random_vector(col_size, 2);
        std::vector<float> col(col_size), back(in_size);
        im2col(col.data(), x.data(), g);
        col2im(back.data(), y.data(), g);
        double lhs = 0, rhs = 0;
        for (size_t i = 0; i < in_size; ++i) lhs += static_cast<double>(back[i]) * x[i];
        for (size_t i = 0; i < col_size; ++i) rhs += static_cast<double>(y[i]) * col[i];
        CHECK(std::fabs(lhs - rhs) <= 1e-4 * std::max(1.0, std::fabs(lhs)));
    }
}

TEST_CASE("conv_forward: a hand-computed case, and weight · im2col(in) + bias on every geometry", "[conv]") {
    {
        // One 3x3 image, one 2x2 filter [1 0; 0 -1] (top-left minus bottom-right), bias 0.5.
        const ConvGeometry g{1, 1, 3, 3, 1, 2, 1, 0};
        const float in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[4] = {1, 0, 0, -1}, b = 0.5f;
        float out[4];
        conv_forward(out, in, w, &b, g);
        for (float v : out) CHECK(v == -4.0f + 0.5f);  // x[i][j] - x[i+1][j+1] = -4 everywhere
    }
    for (const ConvGeometry& g : kGeometries) {
        const size_t in_size = static_cast<size_t>(g.batch) * g.in_channels * g.in_h * g.in_w;
        const int OC = g.out_channels, P = g.out_h() * g.out_w();
        const auto x = random_vector(in_size, 3);
        const auto w = random_vector(static_cast<size_t>(OC) * g.col_rows(), 4);
        const auto b = random_vector(OC, 5);
        std::vector<float> out(static_cast<size_t>(g.batch) * OC * P);
        conv_forward(out.data(), x.data(), w.data(), b.data(), g);
        // The other definition: a matrix product with the columns of im2col.
        std::vector<float> col(static_cast<size_t>(g.col_rows()) * g.col_cols()), product(OC * g.col_cols());
        im2col(col.data(), x.data(), g);
        const int np = static_cast<int>(g.col_cols());
        sgemm_naive(false, false, OC, np, g.col_rows(), w.data(), g.col_rows(), col.data(), np, 0.0f,
                    product.data(), np);
        double worst = 0;
        for (int n = 0; n < g.batch; ++n)
            for (int oc = 0; oc < OC; ++oc)
                for (int p = 0; p < P; ++p)
                    worst = std::max(worst, std::fabs(static_cast<double>(out[(n * OC + oc) * P + p]) -
                                                      (product[oc * np + n * P + p] + b[oc])));
        INFO("max diff " << worst);
        CHECK(worst < 1e-5);
    }
}

TEST_CASE("conv_backward matches finite differences for weight, bias and input", "[conv][gradcheck]") {
    for (const ConvGeometry& g : kGeometries) {
        const size_t in_size = static_cast<size_t>(g.batch) * g.in_channels * g.in_h * g.in_w;
        const size_t out_size = static_cast<size_t>(g.batch) * g.out_channels * g.out_h() * g.out_w();
        auto x = random_vector(in_size, 6);
        auto w = random_vector(static_cast<size_t>(g.out_channels) * g.col_rows(), 7);
        auto b = random_vector(g.out_channels, 8);
        const auto r = random_vector(out_size, 9);
        std::vector<float> out(out_size);
        auto loss = [&] {
            conv_forward(out.data(), x.data(), w.data(), b.data(), g);
            return weighted_sum(out.data(), r);
        };
        std::vector<float> dw(w.size(), 7.0f), db(b.size(), 7.0f), dx(in_size, 7.0f);  // assigned, not added to
        conv_backward(dw.data(), db.data(), dx.data(), r.data(), x.data(), w.data(), g);
        // The loss is linear in each of w, b, x, so a large step is exact.
        const float eps = 0.5f;
        for (size_t i = 0; i < w.size(); i += 7) CHECK(gradients_agree(dw[i], numeric_derivative(w[i], eps, loss), 1e-3));
        for (size_t i = 0; i < b.size(); ++i) CHECK(gradients_agree(db[i], numeric_derivative(b[i], eps, loss), 1e-3));
        for (size_t i = 0; i < x.size(); i += 5) CHECK(gradients_agree(dx[i], numeric_derivative(x[i], eps, loss), 1e-3));
        // No input gradient asked for: the weight gradient is the same.
        std::vector<float> dw2(w.size()), db2(b.size());
        conv_backward(dw2.data(), db2.data(), nullptr, r.data(), x.data(), w.data(), g);
        CHECK(dw2 == dw);
    }
}

// ---------------------------------------------------------------------------
// Dense

TEST_CASE("dense forward matches a hand computation and backward matches finite differences", "[dense][gradcheck]") {
    {
        // out = in · weightᵀ + bias with in (2,2) = [1, 2; -1, 0], weight (3,2), bias (3)
        const float in[4] = {1, 2, -1, 0}, weight[6] = {1, 0, 0, 1, 1, 1}, bias[3] = {0.5f, -1, 0};
        float out[6];
        dense_forward(out, in, weight, bias, 2, 2, 3);
        const float expected[6] = {1.5f, 1.0f, 3.0f, -0.5f, -1.0f, -1.0f};
        for (int i = 0; i < 6; ++i) CHECK(out[i] == expected[i]);
        // dout = ones: dbias = batch size, dweight[o][i] = Σ_b in[b][i], din[b][i] = Σ_o weight[o][i]
        const float dout[6] = {1, 1, 1, 1, 1, 1};
        float dw[6], db[3], dx[4];
        dense_backward(dw, db, dx, dout, in, weight, 2, 2, 3);
        for (float v : db) CHECK(v == 2.0f);
        const float dw_expected[6] = {0, 2, 0, 2, 0, 2}, dx_expected[4] = {2, 2, 2, 2};
        for (int i = 0; i < 6; ++i) CHECK(dw[i] == dw_expected[i]);
        for (int i = 0; i < 4; ++i) CHECK(dx[i] == dx_expected[i]);
    }
    const int B = 5, IN = 37, OUT = 19;
    auto x = random_vector(B * IN, 10), w = random_vector(OUT * IN, 11), b = random_vector(OUT, 12);
    const auto r = random_vector(B * OUT, 13);
    std::vector<float> out(B * OUT);
    auto loss = [&] {
        dense_forward(out.data(), x.data(), w.data(), b.data(), B, IN, OUT);
        return weighted_sum(out.data(), r);
    };
    std::vector<float> dw(w.size()), db(b.size()), dx(x.size());
    dense_backward(dw.data(), db.data(), dx.data(), r.data(), x.data(), w.data(), B, IN, OUT);
    for (size_t i = 0; i < w.size(); i += 3) CHECK(gradients_agree(dw[i], numeric_derivative(w[i], 0.5f, loss), 1e-3));
    for (size_t i = 0; i < b.size(); ++i) CHECK(gradients_agree(db[i], numeric_derivative(b[i], 0.5f, loss), 1e-3));
    for (size_t i = 0; i < x.size(); i += 2) CHECK(gradients_agree(dx[i], numeric_derivative(x[i], 0.5f, loss), 1e-3));
}

// ---------------------------------------------------------------------------
// ReLU and dropout

TEST_CASE("relu forward and backward, away from the kink at 0; 0 itself passes no gradient", "[relu][gradcheck]") {
    auto x = random_vector(1000, 14);
    for (float& v : x) v += v < 0 ? -0.1f : 0.1f;  // |x| >= 0.1, so eps = 0.01 never crosses 0
    const auto r = random_vector(x.size(), 15);
    std::vector<float> y(x.size());
    auto loss = [&] {
        y = x;
        relu_forward(y.data(), static_cast<int64_t>(y.size()));
        return weighted_sum(y.data(), r);
    };
    loss();
    for (size_t i = 0; i < x.size(); ++i) REQUIRE(y[i] == (x[i] > 0 ? x[i] : 0.0f));
    std::vector<float> dx(x.size());
    relu_backward(dx.data(), r.data(), y.data(), static_cast<int64_t>(x.size()));
    for (size_t i = 0; i < x.size(); i += 3) CHECK(gradients_agree(dx[i], numeric_derivative(x[i], 0.01f, loss), 1e-3));
    float nan_value = std::nanf("");
    relu_forward(&nan_value, 1);
    CHECK(std::isnan(nan_value));
    // At exactly 0 the gradient is 0 (as PyTorch takes it): out = 0 is not > 0.
    const float zero_out = 0.0f, one = 1.0f;
    float d = -1.0f;
    relu_backward(&d, &one, &zero_out, 1);
    CHECK(d == 0.0f);
}

TEST_CASE("dropout keeps a fraction 1 - p scaled by 1 / (1 - p); the mask depends on (seed, index) alone",
          "[dropout]") {
    const int64_t n = 200000;
    const float p = 0.3f;
    const auto x = random_vector(n, 21, 0.5f, 1.5f);  // no zeros, so a dropped value is visible
    std::vector<float> y = x;
    std::vector<uint8_t> keep(n);
    dropout_forward(y.data(), keep.data(), n, p, 99);
    int64_t kept = 0;
    for (int64_t i = 0; i < n; ++i) {
        kept += keep[i];
        const float expected = keep[i] ? x[i] * (1.0f / (1.0f - p)) : 0.0f;
        if (y[i] != expected) FAIL("value " << i << ": " << y[i] << ", expected " << expected);
        if (keep[i] != dropout_keeps(99, i, p)) FAIL("value " << i << ": mask differs from dropout_keeps");
    }
    // Binomial(n, 0.7): standard deviation ~205, so 5 sigma is about 1,000.
    CHECK(std::llabs(kept - static_cast<int64_t>(0.7 * n)) < 1000);
    // A tail of the array gets the same mask as those values had in the whole.
    std::vector<float> tail(x.begin() + 1000, x.begin() + 2000);
    std::vector<uint8_t> tail_keep(1000);
    for (int64_t i = 0; i < 1000; ++i) tail_keep[i] = dropout_keeps(99, 1000 + i, p);
    CHECK(std::equal(tail_keep.begin(), tail_keep.end(), keep.begin() + 1000));
    // Another seed, another mask.
    std::vector<float> y_other = x;
    std::vector<uint8_t> keep_other(n);
    dropout_forward(y_other.data(), keep_other.data(), n, p, 100);
    CHECK(keep_other != keep);
    // p = 0.5 drops about half; p = 0 keeps all.
    int64_t half = 0;
    for (int64_t i = 0; i < 10000; ++i) half += dropout_keeps(7, i, 0.5f);
    CHECK(std::llabs(half - 5000) < 250);
    for (int64_t i = 0; i < 1000; ++i) CHECK(dropout_keeps(7, i, 0.0f));
    // Backward: the gradient flows through kept values only, with the same scale.
    const auto dy = random_vector(n, 22);
    std::vector<float> dx(n);
    dropout_backward(dx.data(), dy.data(), keep.data(), n, p);
    for (int64_t i = 0; i < n; i += 997) CHECK(dx[i] == (keep[i] ? dy[i] * (1.0f / (1.0f - p)) : 0.0f));
}

// ---------------------------------------------------------------------------
// Max-pooling

TEST_CASE("maxpool 2x2 picks window maxima, floors odd sizes, and routes gradients to them", "[pool][gradcheck]") {
    {
        // One 3x5 plane: the last row and column are dropped (floor).
        const float in[15] = {1, 5, 2, 0, 9,
                              3, 4, 8, 7, 9,
                              9, 9, 9, 9, 9};
        float out[2];
        int32_t arg[2];
        maxpool_forward(out, arg, in, pool_of(1, 3, 5, 2));
        CHECK(out[0] == 5.0f);
        CHECK(arg[0] == 1);
        CHECK(out[1] == 8.0f);
        CHECK(arg[1] == 7);
    }
    check_maxpool_gradient(pool_of(6, 7, 6, 2), 16);
}

TEST_CASE("maxpool ties go to the first input, NaN wins (the last NaN of a window), as in PyTorch", "[pool]") {
    const float nan = std::nanf("");
    // Four 2x2 windows in one 2x8 plane, scanned row by row:
    //   [3 3 / 1 3]  tie: the first 3 (index 0) wins
    //   [1 NaN / 5 2]  a NaN beats larger numbers (index 3)
    //   [NaN 7 / NaN 1]  two NaNs: the later one (index 12) wins
    //   [-1 -1 / -1 -1]  all equal: the first (index 6)
    const float in[16] = {3, 3, 1, nan, nan, 7, -1, -1,
                          1, 3, 5, 2, nan, 1, -1, -1};
    float out[4];
    int32_t arg[4];
    maxpool_forward(out, arg, in, pool_of(1, 2, 8, 2));
    CHECK(out[0] == 3.0f);
    CHECK(arg[0] == 0);
    CHECK(std::isnan(out[1]));
    CHECK(arg[1] == 3);
    CHECK(std::isnan(out[2]));
    CHECK(arg[2] == 12);
    CHECK(out[3] == -1.0f);
    CHECK(arg[3] == 6);
    // The whole gradient of a tied window goes to the winner, none to the others.
    const float dout[4] = {1, 2, 3, 4};
    float din[16];
    maxpool_backward(din, dout, arg, pool_of(1, 2, 8, 2));
    const float expected[16] = {1, 0, 0, 2, 0, 0, 4, 0,
                                0, 0, 0, 0, 3, 0, 0, 0};
    for (int i = 0; i < 16; ++i) {
        INFO("din[" << i << "]");
        CHECK(din[i] == expected[i]);
    }
}

TEST_CASE("maxpool backward adds the gradients of every window an input wins", "[pool]") {
    // 2x2/2 windows never share an input, but overlapping ones (3x3 stride 2)
    // do: an argmax naming one input twice must give it both gradients.
    const int32_t argmax[2] = {1, 1};
    const float dout[2] = {2.0f, 3.0f};
    float din[8];
    maxpool_backward(din, dout, argmax, pool_of(1, 2, 4, 2));
    const float expected[8] = {0, 5, 0, 0, 0, 0, 0, 0};
    for (int i = 0; i < 8; ++i) CHECK(din[i] == expected[i]);
}

TEST_CASE("3x3 stride-2 pooling: overlapping windows clipped at the edge, as PyTorch's ceil_mode", "[pool]") {
    // One 4x5 plane -> 2x2. Windows (rows x columns): [0-2]x[0-2], [0-2]x[2-4],
    // [2-3]x[0-2], [2-3]x[2-4]: the bottom ones clipped to 2 rows; the window
    // of a trailing odd column (4) exists, unlike with 2x2.
    const float in[20] = {1, 2, 3, 0, 0,
                          0, 9, 0, 0, 8,
                          0, 0, 7, 0, 0,
                          5, 0, 0, 6, 0};
    float out[4];
    int32_t arg[4];
    maxpool_forward(out, arg, in, pool_of(1, 4, 5, 3));
    CHECK(out[0] == 9.0f);
    CHECK(arg[0] == 6);
    CHECK(out[1] == 8.0f);
    CHECK(arg[1] == 9);
    CHECK(out[2] == 7.0f);  // 7 at (2,2) sits in all four windows but wins two
    CHECK(arg[2] == 12);
    CHECK(out[3] == 7.0f);
    CHECK(arg[3] == 12);
    // Backward: the input that wins two windows gets both gradients.
    const float dout[4] = {1, 2, 3, 4};
    float din[20];
    maxpool_backward(din, dout, arg, pool_of(1, 4, 5, 3));
    CHECK(din[6] == 1.0f);
    CHECK(din[9] == 2.0f);
    CHECK(din[12] == 7.0f);
    float total = 0.0f;
    for (float v : din) total += v;
    CHECK(total == 10.0f);
    // Output sizes: n / 2 for both windows, every side from 1 to 9.
    for (int n = 1; n <= 9; ++n) {
        CHECK(pool_of(1, n, n, 3).out_h() == n / 2);
        CHECK(pool_of(1, n, n, 2).out_w() == n / 2);
    }
}

TEST_CASE("maxpool with other windows and strides: 3x3 stride 1, 4x4 stride 4", "[pool]") {
    // 3x3 stride 1 on a 3x4 plane: three windows per row, clipped at the edge
    // (PoolGeometry: one window per whole stride).
    const float in[12] = {1, 0, 0, 5,
                          0, 2, 0, 0,
                          0, 0, 3, 0};
    const PoolGeometry g = pool_of(1, 3, 4, 3, 1);
    REQUIRE(g.out_h() == 3);
    REQUIRE(g.out_w() == 4);
    std::vector<float> out(12);
    std::vector<int32_t> arg(12);
    maxpool_forward(out.data(), arg.data(), in, g);
    const float expected[12] = {3, 5, 5, 5,   // rows 0-2
                                3, 3, 3, 0,   // rows 1-2
                                3, 3, 3, 0};  // row 2 alone
    for (int i = 0; i < 12; ++i) CHECK(out[i] == expected[i]);
    CHECK(arg[0] == 10);
    CHECK(arg[1] == 3);
    CHECK(arg[7] == 7);  // window rows 1-2, column 3: all zeros, the first wins
    // 4x4 stride 4 on an 8x8 plane: four disjoint blocks.
    std::vector<float> big(64);
    for (int i = 0; i < 64; ++i) big[i] = static_cast<float>((i * 37) % 64);
    const PoolGeometry g4 = pool_of(1, 8, 8, 4, 4);
    float out4[4];
    int32_t arg4[4];
    maxpool_forward(out4, arg4, big.data(), g4);
    for (int b = 0; b < 4; ++b) {
        float best = -1;
        for (int y = 0; y < 4; ++y)
            for (int x = 0; x < 4; ++x) best = std::max(best, big[(4 * (b / 2) + y) * 8 + 4 * (b % 2) + x]);
        CHECK(out4[b] == best);
        CHECK(big[arg4[b]] == best);
    }
    check_maxpool_gradient(pool_of(3, 5, 6, 3, 1), 30);
}

TEST_CASE("overlapping 3x3 pooling's backward matches finite differences", "[pool][gradcheck]") {
    check_maxpool_gradient(pool_of(4, 7, 8, 3), 18);
}

// ---------------------------------------------------------------------------
// Softmax cross-entropy

TEST_CASE("softmax cross-entropy on hand-computed cases", "[loss]") {
    // Uniform logits: p = 1/K and loss = log K.
    const float zeros[4] = {0, 0, 0, 0};
    const uint8_t label0 = 2;
    float p[4];
    int correct = -1;
    CHECK(softmax_cross_entropy_forward(p, &correct, zeros, &label0, 1, 4) == Approx(std::log(4.0)).epsilon(1e-6));
    for (float v : p) CHECK(v == Approx(0.25));
    CHECK(correct == 0);  // ties go to class 0, not the label
    // logits [1, 2, 3], label 0: loss = log(e + e^2 + e^3) - 1 = 2.40760596
    const float z[3] = {1, 2, 3};
    const uint8_t label = 0;
    float q[3];
    CHECK(softmax_cross_entropy_forward(q, &correct, z, &label, 1, 3) == Approx(2.40760596).epsilon(1e-6));
    CHECK(correct == 0);
    CHECK(q[0] == Approx(0.09003057));
    CHECK(q[2] == Approx(0.66524096));
    const uint8_t label2 = 2;
    CHECK(softmax_cross_entropy_forward(q, &correct, z, &label2, 1, 3) == Approx(0.40760596).epsilon(1e-6));
    CHECK(correct == 1);
    // Huge logits do not overflow thanks to the subtracted max.
    const float big[2] = {1000.0f, 0.0f};
    const uint8_t label1 = 1;
    float pb[2];
    CHECK(softmax_cross_entropy_forward(pb, &correct, big, &label1, 1, 2) == Approx(1000.0));
    CHECK(correct == 0);
    // The mean over a batch of 2, and its gradient (p - onehot) / 2.
    const float z2[6] = {1, 2, 3, 0, 0, 0};
    const uint8_t labels2[2] = {0, 1};
    float p2[6], d2[6];
    CHECK(softmax_cross_entropy_forward(p2, &correct, z2, labels2, 2, 3) ==
          Approx((2.40760596 + std::log(3.0)) / 2).epsilon(1e-6));
    softmax_cross_entropy_backward(d2, p2, labels2, 2, 3);
    CHECK(d2[0] == Approx((0.09003057 - 1) / 2));
    CHECK(d2[2] == Approx(0.66524096 / 2));
    CHECK(d2[4] == Approx((1.0 / 3 - 1) / 2));
    CHECK(d2[5] == Approx((1.0 / 3) / 2));
    // softmax_forward (predict) gives the same probabilities.
    float s2[6];
    softmax_forward(s2, z2, 2, 3);
    for (int i = 0; i < 6; ++i) CHECK(s2[i] == p2[i]);
}

TEST_CASE("softmax cross-entropy gradient matches finite differences", "[loss][gradcheck]") {
    auto z = random_vector(3 * 10, 18, -3, 3);
    const uint8_t labels[3] = {4, 0, 9};
    std::vector<float> p(z.size()), dz(z.size());
    auto loss = [&] { return softmax_cross_entropy_forward(p.data(), nullptr, z.data(), labels, 3, 10); };
    loss();
    softmax_cross_entropy_backward(dz.data(), p.data(), labels, 3, 10);
    for (size_t i = 0; i < z.size(); ++i) CHECK(gradients_agree(dz[i], numeric_derivative(z[i], 1e-2f, loss), 1e-2, 1e-2));
}

// ---------------------------------------------------------------------------
// Local response normalisation. Its α term only shows when α Σ in² is
// comparable to k = 2, that is for inputs of tens: these tests use values up
// to 80 so that it dominates.

TEST_CASE("LRN matches its definition, computed in double, at both channel ends and in the middle", "[lrn]") {
    const int batch = 2, channels = 7, plane = 6;
    const auto x = random_vector(batch * channels * plane, 50, 0.0f, 80.0f);
    std::vector<float> y(x.size()), scale(x.size());
    lrn_forward(y.data(), scale.data(), x.data(), batch, channels, plane);
    for (int n = 0; n < batch; ++n)
        for (int c = 0; c < channels; ++c)
            for (int i = 0; i < plane; ++i) {
                double sum = 0.0;
                for (int j = std::max(0, c - 2); j <= std::min(channels - 1, c + 2); ++j) {
                    const double v = x[(n * channels + j) * plane + i];
                    sum += v * v;
                }
                const double s = 2.0 + 1e-4 * sum;
                const int at = (n * channels + c) * plane + i;
                INFO("image " << n << " channel " << c << " pixel " << i);
                CHECK(scale[at] == Approx(s).epsilon(1e-6));
                CHECK(y[at] == Approx(x[at] / std::pow(s, 0.75)).epsilon(1e-6));
            }
    // One value by hand: a lone 10 among zeros, s = 2 + 1e-4 * 100 = 2.01.
    std::vector<float> lone(channels * plane, 0.0f), lone_y(lone.size()), lone_s(lone.size());
    lone[3 * plane] = 10.0f;
    lrn_forward(lone_y.data(), lone_s.data(), lone.data(), 1, channels, plane);
    CHECK(lone_y[3 * plane] == Approx(10.0 / std::pow(2.01, 0.75)).epsilon(1e-6));
    CHECK(lone_s[1 * plane] == Approx(2.01).epsilon(1e-7));  // channel 1's window reaches channel 3
    CHECK(lone_s[5 * plane] == Approx(2.01).epsilon(1e-7));  // so does channel 5's
    CHECK(lone_s[0] == 2.0f);                                // channel 0's does not
    CHECK(lone_s[6 * plane] == 2.0f);                        // nor channel 6's
}

TEST_CASE("LRN backward matches finite differences", "[lrn][gradcheck]") {
    const int batch = 2, channels = 7, plane = 5;
    auto x = random_vector(batch * channels * plane, 51, 0.0f, 80.0f);
    const auto r = random_vector(x.size(), 52);
    std::vector<float> y(x.size()), scale(x.size());
    auto loss = [&] {
        lrn_forward(y.data(), scale.data(), x.data(), batch, channels, plane);
        return weighted_sum(y.data(), r);
    };
    loss();
    std::vector<float> dx(x.size());
    lrn_backward(dx.data(), r.data(), x.data(), scale.data(), batch, channels, plane);
    // The α term is about as large as the other here (gradients of ~0.3), so
    // a wrong sign or a missing neighbour is off by ~0.1. The float forward
    // pass makes the central difference noisy by ~1e-4 at this step: the
    // absolute floor (5e-3 * 0.1) covers that.
    for (size_t i = 0; i < x.size(); ++i) {
        const double numeric = numeric_derivative(x[i], 0.05f, loss);
        INFO("value " << i << " = " << x[i] << ": analytic " << dx[i] << ", numeric " << numeric);
        CHECK(gradients_agree(dx[i], numeric, 5e-3, 0.1));
    }
}
