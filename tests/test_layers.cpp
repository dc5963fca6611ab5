// tests/test_layers.cpp — every layer's forward against a naive or
// hand-computed reference, and its backward against central finite
// differences of the scalar L = sum(out * r) for a fixed random r (so that
// dL/dout = r).
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "catch.hpp"
#include "fast/thread_pool.h"
#include "helpers.h"
#include "nn/adam.h"
#include "nn/layers.h"
#include "nn/schedule.h"
#include "nn/sgd.h"

namespace {

double weighted_sum(const float* out, const std::vector<float>& r) {
    double s = 0.0;
    for (size_t i = 0; i < r.size(); ++i) s += static_cast<double>(out[i]) * r[i];
    return s;
}

const ConvGeometry kGeometries[] = {
    {2, 3, 9, 9, 4, 3, 1, 1},    // 3x3 "same"
    {2, 2, 13, 11, 3, 5, 2, 2},  // strided, non-square, padded
    {3, 1, 23, 23, 2, 11, 4, 0}, // conv1's kernel and stride
};

// Max-pooling's backward against finite differences on planes x h x w
// distinct values 0.1 apart, shuffled: no ties, so eps = 0.01 never changes a
// winner.
void check_maxpool_gradient(int window, int planes, int h, int w, uint64_t seed, ThreadPool& pool) {
    std::vector<float> x(planes * h * w);
    for (size_t i = 0; i < x.size(); ++i) x[i] = 0.1f * static_cast<float>(i);
    Rng rng(seed);
    rng.shuffle(x);
    const auto r = random_vector(planes * (h / 2) * (w / 2), seed + 1);
    std::vector<float> y(r.size());
    std::vector<int32_t> arg(r.size());
    auto loss = [&] {
        maxpool_forward(y.data(), arg.data(), x.data(), planes, h, w, window, pool);
        return weighted_sum(y.data(), r);
    };
    loss();
    std::vector<float> dx(x.size());
    maxpool_backward(dx.data(), r.data(), arg.data(), planes, h, w, pool);
    for (size_t i = 0; i < x.size(); ++i) CHECK(gradients_agree(dx[i], numeric_derivative(x[i], 0.01f, loss), 1e-3));
}

}  // namespace

TEST_CASE("im2col and col2im are adjoint: <col2im(y), x> = <y, im2col(x)>", "[conv]") {
    ThreadPool pool(2);
    for (const ConvGeometry& g : kGeometries) {
        const size_t in_size = static_cast<size_t>(g.batch) * g.in_channels * g.in_h * g.in_w;
        const size_t col_size = static_cast<size_t>(g.col_rows()) * g.col_cols();
        const auto x = random_vector(in_size, 1), y = random_vector(col_size, 2);
        std::vector<float> col(col_size), back(in_size);
        im2col(col.data(), x.data(), g, 0, g.batch);
        col2im(back.data(), y.data(), g, 0, g.batch);
        double lhs = 0, rhs = 0;
        for (size_t i = 0; i < in_size; ++i) lhs += static_cast<double>(back[i]) * x[i];
        for (size_t i = 0; i < col_size; ++i) rhs += static_cast<double>(y[i]) * col[i];
        CHECK(std::fabs(lhs - rhs) <= 1e-4 * std::max(1.0, std::fabs(lhs)));
    }
}

TEST_CASE("im2col matches its naive twin, the definition with bounds checks", "[conv]") {
    for (const ConvGeometry& g : kGeometries) {
        const size_t in_size = static_cast<size_t>(g.batch) * g.in_channels * g.in_h * g.in_w;
        const size_t col_size = static_cast<size_t>(g.col_rows()) * g.col_cols();
        const auto x = random_vector(in_size, 6);
        std::vector<float> col(col_size, -1.0f), ref(col_size, -2.0f);
        for (int n = 0; n < g.batch; ++n) im2col(col.data(), x.data(), g, n, 1);  // image by image, as threads do
        im2col_naive(ref.data(), x.data(), g);
        CHECK(std::memcmp(col.data(), ref.data(), sizeof(float) * col_size) == 0);  // copies: exact
    }
}

TEST_CASE("im2col on a hand-computed 1x3x3 image, 2x2 kernel, padding 0", "[conv]") {
    const ConvGeometry g{1, 1, 3, 3, 1, 2, 1, 0};
    const float in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    float col[16];
    im2col(col, in, g, 0, 1);
    // rows (kh, kw) = (0,0) (0,1) (1,0) (1,1); columns the 4 output pixels
    const float expected[16] = {1, 2, 4, 5, 2, 3, 5, 6, 4, 5, 7, 8, 5, 6, 8, 9};
    for (int i = 0; i < 16; ++i) CHECK(col[i] == expected[i]);
}

TEST_CASE("conv_forward matches direct convolution", "[conv]") {
    ThreadPool pool(3);
    for (const ConvGeometry& g : kGeometries) {
        const size_t in_size = static_cast<size_t>(g.batch) * g.in_channels * g.in_h * g.in_w;
        const size_t out_size = static_cast<size_t>(g.batch) * g.out_channels * g.out_h() * g.out_w();
        const auto x = random_vector(in_size, 3);
        const auto w = random_vector(static_cast<size_t>(g.out_channels) * g.col_rows(), 4);
        const auto b = random_vector(g.out_channels, 5);
        std::vector<float> out(out_size), ref(out_size);
        std::vector<float> col(static_cast<size_t>(g.col_rows()) * g.col_cols());
        std::vector<float> gemm_out(static_cast<size_t>(g.out_channels) * g.col_cols());
        conv_forward(out.data(), col.data(), gemm_out.data(), x.data(), w.data(), b.data(), g, pool);
        conv_forward_naive(ref.data(), x.data(), w.data(), b.data(), g);
        const MaxDiff d = max_abs_diff(out.data(), ref.data(), out_size);
        INFO("max diff " << d.diff << " at " << d.index);
        CHECK(d.diff < 1e-4);
    }
}

TEST_CASE("conv_backward matches finite differences for weight, bias and input", "[conv][gradcheck]") {
    ThreadPool pool(2);
    for (const ConvGeometry& g : kGeometries) {
        const size_t in_size = static_cast<size_t>(g.batch) * g.in_channels * g.in_h * g.in_w;
        const size_t out_size = static_cast<size_t>(g.batch) * g.out_channels * g.out_h() * g.out_w();
        const size_t col_size = static_cast<size_t>(g.col_rows()) * g.col_cols();
        auto x = random_vector(in_size, 6);
        auto w = random_vector(static_cast<size_t>(g.out_channels) * g.col_rows(), 7);
        auto b = random_vector(g.out_channels, 8);
        const auto r = random_vector(out_size, 9);
        std::vector<float> out(out_size), col(col_size), gemm_out(static_cast<size_t>(g.out_channels) * g.col_cols());
        auto loss = [&] {
            conv_forward(out.data(), col.data(), gemm_out.data(), x.data(), w.data(), b.data(), g, pool);
            return weighted_sum(out.data(), r);
        };
        loss();
        std::vector<float> dw(w.size()), db(b.size()), dx(in_size), dout_t(gemm_out.size()), dcol(col_size);
        conv_backward(dw.data(), db.data(), dx.data(), dout_t.data(), dcol.data(), r.data(), col.data(),
                      w.data(), g, pool);
        // The loss is linear in each of w, b, x, so a large step is exact.
        const float eps = 0.5f;
        for (size_t i = 0; i < w.size(); i += 7)
            CHECK(gradients_agree(dw[i], numeric_derivative(w[i], eps, loss), 1e-3));
        for (size_t i = 0; i < b.size(); ++i)
            CHECK(gradients_agree(db[i], numeric_derivative(b[i], eps, loss), 1e-3));
        for (size_t i = 0; i < x.size(); i += 5)
            CHECK(gradients_agree(dx[i], numeric_derivative(x[i], eps, loss), 1e-3));
    }
}

TEST_CASE("dense forward matches a hand computation and backward matches finite differences", "[dense][gradcheck]") {
    ThreadPool pool(2);
    {
        // out = in · weightᵀ + bias with in (1,2) = [1, 2], weight (3,2), bias (3)
        const float in[2] = {1, 2}, weight[6] = {1, 0, 0, 1, 1, 1}, bias[3] = {0.5f, -1, 0};
        float out[3];
        dense_forward(out, in, weight, bias, 1, 2, 3, pool);
        CHECK(out[0] == 1.5f);
        CHECK(out[1] == 1.0f);
        CHECK(out[2] == 3.0f);
    }
    const int B = 5, IN = 37, OUT = 19;
    auto x = random_vector(B * IN, 10), w = random_vector(OUT * IN, 11), b = random_vector(OUT, 12);
    const auto r = random_vector(B * OUT, 13);
    std::vector<float> out(B * OUT);
    auto loss = [&] {
        dense_forward(out.data(), x.data(), w.data(), b.data(), B, IN, OUT, pool);
        return weighted_sum(out.data(), r);
    };
    std::vector<float> dw(w.size()), db(b.size()), dx(x.size());
    dense_backward(dw.data(), db.data(), dx.data(), r.data(), x.data(), w.data(), B, IN, OUT, pool);
    for (size_t i = 0; i < w.size(); i += 3) CHECK(gradients_agree(dw[i], numeric_derivative(w[i], 0.5f, loss), 1e-3));
    for (size_t i = 0; i < b.size(); ++i) CHECK(gradients_agree(db[i], numeric_derivative(b[i], 0.5f, loss), 1e-3));
    for (size_t i = 0; i < x.size(); i += 2) CHECK(gradients_agree(dx[i], numeric_derivative(x[i], 0.5f, loss), 1e-3));
}

TEST_CASE("relu forward and backward, away from the kink at 0", "[relu][gradcheck]") {
    ThreadPool pool(2);
    auto x = random_vector(1000, 14);
    for (float& v : x) v += v < 0 ? -0.1f : 0.1f;  // |x| >= 0.1, so eps = 0.01 never crosses 0
    const auto r = random_vector(x.size(), 15);
    std::vector<float> y(x.size());
    auto loss = [&] {
        y = x;
        relu_forward(y.data(), static_cast<int64_t>(y.size()), pool);
        return weighted_sum(y.data(), r);
    };
    loss();
    for (size_t i = 0; i < x.size(); ++i) REQUIRE(y[i] == (x[i] > 0 ? x[i] : 0.0f));
    std::vector<float> dx(x.size());
    relu_backward(dx.data(), r.data(), y.data(), static_cast<int64_t>(x.size()), pool);
    for (size_t i = 0; i < x.size(); i += 3) CHECK(gradients_agree(dx[i], numeric_derivative(x[i], 0.01f, loss), 1e-3));
    float nan_value = std::nanf("");
    relu_forward(&nan_value, 1, pool);
    CHECK(std::isnan(nan_value));
}

TEST_CASE("maxpool picks window maxima, floors odd sizes, and routes gradients to them", "[pool][gradcheck]") {
    ThreadPool pool(2);
    {
        // One 3x5 plane: the last row and column are dropped (floor).
        const float in[15] = {1, 5, 2, 0, 9,
                              3, 4, 8, 7, 9,
                              9, 9, 9, 9, 9};
        float out[2];
        int32_t arg[2];
        maxpool_forward(out, arg, in, 1, 3, 5, 2, pool);
        CHECK(out[0] == 5.0f);
        CHECK(arg[0] == 1);
        CHECK(out[1] == 8.0f);
        CHECK(arg[1] == 7);
    }
    check_maxpool_gradient(2, 6, 7, 6, 16, pool);
}

TEST_CASE("softmax cross-entropy on hand-computed cases", "[loss]") {
    // Uniform logits: p = 1/K and loss = log K.
    const float zeros[4] = {0, 0, 0, 0};
    const uint8_t label0 = 2;
    float p[4];
    int correct = -1;
    CHECK(softmax_cross_entropy_forward(p, &correct, zeros, &label0, 1, 4) == Approx(std::log(4.0)).epsilon(1e-6));
    for (float v : p) CHECK(v == Approx(0.25));
    // logits [1, 2, 3], label 0: loss = log(e + e^2 + e^3) - 1 = 2.40760596
    const float z[3] = {1, 2, 3};
    const uint8_t label = 0;
    float q[3];
    CHECK(softmax_cross_entropy_forward(q, &correct, z, &label, 1, 3) == Approx(2.40760596).epsilon(1e-6));
    CHECK(correct == 0);
    CHECK(q[2] == Approx(0.66524096));
    // Huge logits do not overflow thanks to the subtracted max.
    const float big[2] = {1000.0f, 0.0f};
    const uint8_t label1 = 1;
    float pb[2];
    CHECK(softmax_cross_entropy_forward(pb, &correct, big, &label1, 1, 2) == Approx(1000.0));
    CHECK(correct == 0);
    // Gradient of the mean over a batch of 2: (p - onehot) / 2.
    const float z2[6] = {1, 2, 3, 0, 0, 0};
    const uint8_t labels2[2] = {0, 1};
    float p2[6], d2[6];
    softmax_cross_entropy_forward(p2, &correct, z2, labels2, 2, 3);
    softmax_cross_entropy_backward(d2, p2, labels2, 2, 3);
    CHECK(d2[0] == Approx((0.09003057 - 1) / 2));
    CHECK(d2[4] == Approx((1.0 / 3 - 1) / 2));
    CHECK(d2[5] == Approx((1.0 / 3) / 2));
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

TEST_CASE("maxpool ties go to the first input, NaN wins (the last NaN of a window), as in PyTorch",
          "[pool]") {
    ThreadPool pool(1);
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
    maxpool_forward(out, arg, in, 1, 2, 8, 2, pool);
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
    maxpool_backward(din, dout, arg, 1, 2, 8, pool);
    const float expected[16] = {1, 0, 0, 2, 0, 0, 4, 0,
                                0, 0, 0, 0, 3, 0, 0, 0};
    for (int i = 0; i < 16; ++i) {
        INFO("din[" << i << "]");
        CHECK(din[i] == expected[i]);
    }
}

TEST_CASE("dropout keeps a fraction 1 - p scaled by 1 / (1 - p), the same mask on any thread count",
          "[dropout]") {
    const int64_t n = 200000;
    const float p = 0.3f;
    const auto x = random_vector(n, 21, 0.5f, 1.5f);  // no zeros, so a dropped value is visible
    std::vector<float> y1 = x, y3 = x;
    std::vector<uint8_t> keep1(n), keep3(n);
    {
        ThreadPool one(1), three(3);
        dropout_forward(y1.data(), keep1.data(), n, p, 99, one);
        dropout_forward(y3.data(), keep3.data(), n, p, 99, three);
    }
    CHECK(keep1 == keep3);
    CHECK(std::memcmp(y1.data(), y3.data(), sizeof(float) * n) == 0);
    int64_t kept = 0;
    for (int64_t i = 0; i < n; ++i) {
        kept += keep1[i];
        const float expected = keep1[i] ? x[i] * (1.0f / (1.0f - p)) : 0.0f;
        if (y1[i] != expected) FAIL("value " << i << ": " << y1[i] << ", expected " << expected);
    }
    // Binomial(n, 0.7): standard deviation ~205, so 5 sigma is about 1,000.
    CHECK(std::llabs(kept - static_cast<int64_t>(0.7 * n)) < 1000);
    // Another seed, another mask.
    std::vector<float> y_other = x;
    std::vector<uint8_t> keep_other(n);
    ThreadPool one(1);
    dropout_forward(y_other.data(), keep_other.data(), n, p, 100, one);
    CHECK(keep_other != keep1);
    // Backward: the gradient flows through kept values only, with the same scale.
    const auto dy = random_vector(n, 22);
    std::vector<float> dx(n);
    dropout_backward(dx.data(), dy.data(), keep1.data(), n, p, one);
    for (int64_t i = 0; i < n; i += 997) CHECK(dx[i] == (keep1[i] ? dy[i] * (1.0f / (1.0f - p)) : 0.0f));
}

TEST_CASE("maxpool backward adds the gradients of every window an input wins", "[pool]") {
    // 2x2/2 windows never share an input, but overlapping ones (3x3 stride 2)
    // do: an argmax naming one input twice must give it both gradients.
    ThreadPool pool(1);
    const int32_t argmax[2] = {1, 1};
    const float dout[2] = {2.0f, 3.0f};
    float din[8];
    maxpool_backward(din, dout, argmax, 1, 2, 4, pool);
    const float expected[8] = {0, 5, 0, 0, 0, 0, 0, 0};
    for (int i = 0; i < 8; ++i) CHECK(din[i] == expected[i]);
}

TEST_CASE("3x3 stride-2 pooling: overlapping windows clipped at the edge, as PyTorch's ceil_mode", "[pool]") {
    ThreadPool pool(1);
    // One 4x5 plane -> 2x2. Windows (rows x columns): [0-2]x[0-2], [0-2]x[2-4],
    // [2-3]x[0-2], [2-3]x[2-4]: the bottom ones clipped to 2 rows; the window
    // of a trailing odd column (4) exists, unlike with 2x2.
    const float in[20] = {1, 2, 3, 0, 0,
                          0, 9, 0, 0, 8,
                          0, 0, 7, 0, 0,
                          5, 0, 0, 6, 0};
    float out[4];
    int32_t arg[4];
    maxpool_forward(out, arg, in, 1, 4, 5, 3, pool);
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
    maxpool_backward(din, dout, arg, 1, 4, 5, pool);
    CHECK(din[6] == 1.0f);
    CHECK(din[9] == 2.0f);
    CHECK(din[12] == 7.0f);
    float total = 0.0f;
    for (float v : din) total += v;
    CHECK(total == 10.0f);
    // Against the definition on random planes of odd and even sizes: the
    // maximum over rows 2y..min(2y+3, H)-1 and columns likewise.
    const int planes = 3;
    for (int h : {2, 3, 6, 7})
    for (int w : {2, 3, 4, 7}) {  // w = 2: the window of column 0 holds only 2 columns
        const int oh = h / 2, ow = w / 2;
        const auto x = random_vector(planes * h * w, 40 + h * 8 + w);
        std::vector<float> y(planes * oh * ow);
        std::vector<int32_t> a(y.size());
        maxpool_forward(y.data(), a.data(), x.data(), planes, h, w, 3, pool);
        for (int p = 0; p < planes; ++p)
            for (int oy = 0; oy < oh; ++oy)
                for (int ox = 0; ox < ow; ++ox) {
                    float best = -1e30f;
                    for (int iy = 2 * oy; iy < std::min(2 * oy + 3, h); ++iy)
                        for (int ix = 2 * ox; ix < std::min(2 * ox + 3, w); ++ix)
                            best = std::max(best, x[(p * h + iy) * w + ix]);
                    const int o = (p * oh + oy) * ow + ox;
                    INFO(h << "x" << w << " plane " << p << " (" << oy << ", " << ox << ")");
                    CHECK(y[o] == best);
                    CHECK(x[p * h * w + a[o]] == best);
                }
    }
}

TEST_CASE("overlapping 3x3 pooling's backward matches finite differences", "[pool][gradcheck]") {
    ThreadPool pool(2);
    check_maxpool_gradient(3, 4, 7, 8, 18, pool);
}

// LRN's α term only shows when α Σ in² is comparable to k = 2, that is for
// inputs of tens: these tests use values up to 80 so that it dominates.
TEST_CASE("LRN matches its definition, computed in double, at both channel ends and in the middle", "[lrn]") {
    ThreadPool pool(2);
    const int batch = 2, channels = 7, plane = 6;
    const auto x = random_vector(batch * channels * plane, 50, 0.0f, 80.0f);
    std::vector<float> y(x.size()), scale(x.size());
    lrn_forward(y.data(), scale.data(), x.data(), batch, channels, plane, pool);
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
    lrn_forward(lone_y.data(), lone_s.data(), lone.data(), 1, channels, plane, pool);
    CHECK(lone_y[3 * plane] == Approx(10.0 / std::pow(2.01, 0.75)).epsilon(1e-6));
    CHECK(lone_s[1 * plane] == Approx(2.01).epsilon(1e-7));  // channel 1's window reaches channel 3
    CHECK(lone_s[0] == 2.0f);                                // channel 0's does not
}

TEST_CASE("LRN backward matches finite differences", "[lrn][gradcheck]") {
    ThreadPool pool(2);
    const int batch = 2, channels = 7, plane = 5;
    auto x = random_vector(batch * channels * plane, 51, 0.0f, 80.0f);
    const auto r = random_vector(x.size(), 52);
    std::vector<float> y(x.size()), scale(x.size());
    auto loss = [&] {
        lrn_forward(y.data(), scale.data(), x.data(), batch, channels, plane, pool);
        return weighted_sum(y.data(), r);
    };
    loss();
    std::vector<float> dx(x.size());
    lrn_backward(dx.data(), r.data(), x.data(), scale.data(), batch, channels, plane, pool);
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

TEST_CASE("Adam's epsilon: added to sqrt(v-hat), outside the root, and it matters for tiny gradients",
          "[adam]") {
    ThreadPool pool(1);
    // With |g| = eps = 1e-7, step 1 moves w by lr * g / (|g| + eps) = lr / 2
    // exactly. With eps inside the root the step would be lr * g / sqrt(g² + eps)
    // ≈ 3e-4 * lr; without eps, lr.
    AdamConfig c;
    float w[2] = {0.0f, 0.0f}, m[2] = {0, 0}, v[2] = {0, 0};
    const float g[2] = {1e-7f, -1e-7f};
    adam_update(w, m, v, g, 2, 1, c, pool);
    CHECK(w[0] == Approx(-c.lr * 1e-7 / (1e-7 + 1e-7)).epsilon(1e-5));
    CHECK(w[1] == Approx(c.lr * 1e-7 / (1e-7 + 1e-7)).epsilon(1e-5));
    // eps = 1 and |g| = 1e-3: lr * g / (|g| + 1) differs from lr * g / sqrt(g² + 1)
    // by 0.1%, far beyond the 1e-5 tolerance.
    c.eps = 1.0;
    c.lr = 1e-2;
    float w2 = 0.0f, m2 = 0.0f, v2 = 0.0f;
    const float g2 = 1e-3f;
    adam_update(&w2, &m2, &v2, &g2, 1, 1, c, pool);
    CHECK(w2 == Approx(-1e-2 * 1e-3 / (1e-3 + 1.0)).epsilon(1e-5));
    // Step 2, gradient 1e-3 again: m = 0.19e-3, v = 1.999e-9, bias corrections
    // 0.19 and 0.001999, so m-hat = 1e-3 and v-hat = 1e-6: the same step again.
    adam_update(&w2, &m2, &v2, &g2, 1, 2, c, pool);
    CHECK(w2 == Approx(-2 * 1e-2 * 1e-3 / (1e-3 + 1.0)).epsilon(1e-5));
}

TEST_CASE("AdamW's decoupled weight decay shrinks w by 1 - lr * wd besides the Adam step", "[adam]") {
    ThreadPool pool(1);
    AdamConfig c;
    c.lr = 1e-2;
    c.weight_decay = 0.1;
    float w[2] = {1.0f, -2.0f}, m[2] = {0, 0}, v[2] = {0, 0};
    const float g[2] = {0.5f, 0.0f};
    adam_update(w, m, v, g, 2, 1, c, pool);
    // Step 1: w * (1 - 1e-3) - lr * g / (|g| + eps); a zero gradient still shrinks.
    CHECK(w[0] == Approx(1.0 * (1 - 1e-3) - 1e-2 * 0.5 / (0.5 + 1e-7)).epsilon(1e-6));
    CHECK(w[1] == Approx(-2.0 * (1 - 1e-3)).epsilon(1e-6));
}

TEST_CASE("SGD with momentum: velocity = momentum * velocity + g, w -= lr * velocity", "[sgd]") {
    ThreadPool pool(1);
    SgdConfig c;
    c.lr = 0.1;
    c.momentum = 0.9;
    float w[2] = {1.0f, -1.0f}, velocity[2] = {0, 0};
    const float g1[2] = {0.5f, 0.25f}, g2[2] = {1.0f, 0.0f};
    sgd_update(w, velocity, g1, 2, c, pool);  // velocity = g1
    CHECK(w[0] == Approx(1.0 - 0.1 * 0.5));
    CHECK(w[1] == Approx(-1.0 - 0.1 * 0.25));
    sgd_update(w, velocity, g2, 2, c, pool);  // velocity = 0.9 g1 + g2
    CHECK(velocity[0] == Approx(0.9 * 0.5 + 1.0));
    CHECK(w[0] == Approx(1.0 - 0.05 - 0.1 * 1.45));
    CHECK(w[1] == Approx(-1.025 - 0.1 * 0.225));  // no gradient, still moving: momentum
    c.weight_decay = 0.5;  // shrink by 1 - 0.05 first
    float w3 = 2.0f, velocity3 = 0.0f;
    const float g3 = 0.0f;
    sgd_update(&w3, &velocity3, &g3, 1, c, pool);
    CHECK(w3 == Approx(2.0 * 0.95));
}

TEST_CASE("learning-rate schedules: warm-up, step, cosine and one-cycle at known steps", "[schedule]") {
    Schedule s{ScheduleKind::Constant, 0.1, 0, 100};
    CHECK(learning_rate(s, 1) == 0.1);
    CHECK(learning_rate(s, 100) == 0.1);
    s.warmup = 10;  // linear from lr/10 to lr over the first 10 steps
    CHECK(learning_rate(s, 1) == Approx(0.01));
    CHECK(learning_rate(s, 5) == Approx(0.05));
    CHECK(learning_rate(s, 10) == Approx(0.1));
    CHECK(learning_rate(s, 11) == 0.1);
    s = {ScheduleKind::Step, 0.1, 0, 100};
    CHECK(learning_rate(s, 50) == Approx(0.1));    // t = 50 of T = 100: not past half
    CHECK(learning_rate(s, 51) == Approx(0.01));
    CHECK(learning_rate(s, 75) == Approx(0.01));
    CHECK(learning_rate(s, 76) == Approx(0.001));
    s = {ScheduleKind::Cosine, 0.1, 0, 100};
    CHECK(learning_rate(s, 1) == Approx(0.1));
    CHECK(learning_rate(s, 51) == Approx(0.05));   // half-way: half the rate
    CHECK(learning_rate(s, 100) == Approx(0.1 * 0.5 * (1 + std::cos(3.14159265358979 * 0.99))));
    s.warmup = 20;  // cosine over the 80 steps after the warm-up
    CHECK(learning_rate(s, 21) == Approx(0.1));
    CHECK(learning_rate(s, 61) == Approx(0.05));
    s = {ScheduleKind::OneCycle, 0.1, 0, 101};         // f = (step - 1) / 100
    CHECK(learning_rate(s, 1) == Approx(0.1 / 25));
    CHECK(learning_rate(s, 16) == Approx(0.1 / 25 + (0.1 - 0.1 / 25) * 0.5));  // half-way up
    CHECK(learning_rate(s, 31) == Approx(0.1));        // the peak at 30%
    CHECK(learning_rate(s, 101) == Approx(0.1 / 25 / 1e4));  // the last step
    ScheduleKind kind;
    CHECK(schedule_from_name("cosine", &kind));
    CHECK(kind == ScheduleKind::Cosine);
    CHECK_FALSE(schedule_from_name("linear", &kind));
}

TEST_CASE("one Adam step matches a hand computation", "[adam]") {
    ThreadPool pool(2);
    AdamConfig c;  // lr 1e-4, betas 0.9 / 0.999, eps 1e-7
    float w[2] = {1.0f, -2.0f}, m[2] = {0, 0}, v[2] = {0, 0};
    const float g[2] = {0.5f, -0.25f};
    adam_update(w, m, v, g, 2, 1, c, pool);
    // Step 1: m = 0.1 g, v = 0.001 g², m̂ = g, v̂ = g², w -= lr * g / (|g| + eps)
    CHECK(m[0] == Approx(0.05));
    CHECK(v[1] == Approx(0.001 * 0.0625).epsilon(1e-6));
    CHECK(w[0] == Approx(1.0 - 1e-4 * 0.5 / (0.5 + 1e-7)).epsilon(1e-7));
    CHECK(w[1] == Approx(-2.0 + 1e-4 * 0.25 / (0.25 + 1e-7)).epsilon(1e-7));
    // Step 2 with gradient 0: m = 0.045, v = 0.000999 * 0.25, bias corrections 0.19 and 0.001999.
    const float zero[2] = {0, 0};
    const float w0 = w[0];
    adam_update(w, m, v, zero, 2, 2, c, pool);
    const double mhat = 0.045 / 0.19, vhat = 0.000999 * 0.25 / (1 - 0.999 * 0.999);
    CHECK(w[0] == Approx(w0 - 1e-4 * mhat / (std::sqrt(vhat) + 1e-7)).epsilon(1e-7));
}
