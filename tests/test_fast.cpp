// tests/test_fast.cpp — every fast kernel (src/fast/) against its reference
// twin (nn/layers.h, nn/adam.h, nn/sgd.h), on shapes with edges and odd
// sizes, and on several thread counts. Where the fast version adds in the
// same order as the reference (copies, im2col, col2im, max-pooling, ReLU,
// dropout) the results must be identical; where it sums in another order
// (the GEMMs, LRN's square roots, Adam's folded corrections) they must agree
// to float rounding, and stay the same bits for any thread count.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <mutex>

#include "catch.hpp"
#include "fast/conv.h"
#include "fast/gemm.h"
#include "fast/layers.h"
#include "fast/optimizers.h"
#include "fast/simd.h"
#include "fast/thread_pool.h"
#include "helpers.h"
#include "nn/layers.h"

namespace {

const ConvGeometry kGeometries[] = {
    {2, 3, 9, 9, 4, 3, 1, 1},     // 3x3 "same"
    {2, 2, 13, 11, 3, 5, 2, 2},   // strided, non-square, padded
    {3, 1, 23, 23, 2, 11, 4, 0},  // conv1's kernel and stride
    {5, 2, 14, 14, 7, 11, 4, 0},  // 14 - 11 = 3 is not a multiple of 4: unread rows
    {4, 3, 3, 3, 5, 3, 1, 1},     // 3x3 maps, as conv3-5
};

size_t in_floats(const ConvGeometry& g) { return static_cast<size_t>(g.batch) * g.in_channels * g.in_h * g.in_w; }
size_t out_floats(const ConvGeometry& g) { return static_cast<size_t>(g.batch) * g.out_channels * g.out_h() * g.out_w(); }
size_t col_floats(const ConvGeometry& g) { return static_cast<size_t>(g.col_rows()) * g.col_cols(); }

// max |fast - reference| <= tolerance * (1 + max |reference|)
void check_close(const char* what, const std::vector<float>& fast, const std::vector<float>& ref, double tolerance) {
    REQUIRE(fast.size() == ref.size());
    double largest = 0;
    for (float v : ref) largest = std::max(largest, static_cast<double>(std::fabs(v)));
    const MaxDiff d = max_abs_diff(fast.data(), ref.data(), ref.size());
    INFO(what << ": max diff " << d.diff << " at " << d.index << " (fast " << fast[d.index] << ", reference "
              << ref[d.index] << "), largest " << largest);
    CHECK(d.diff <= tolerance * (1.0 + largest));
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(float) * a.size()) == 0;
}

}  // namespace

// The input as the fast GEMMs read it: padded when the layer pads, else as is.
size_t padded_floats(const ConvGeometry& g) {
    return static_cast<size_t>(g.batch) * g.in_channels * (g.in_h + 2 * g.pad) * (g.in_w + 2 * g.pad);
}

TEST_CASE("fast im2col (from the padded input) and col2im equal the reference, image by image as threads run them",
          "[fast][conv]") {
    for (const ConvGeometry& g : kGeometries) {
        INFO("geometry " << g.batch << "x" << g.in_channels << "x" << g.in_h << "x" << g.in_w << " K " << g.kernel);
        const auto x = random_vector(in_floats(g), 6);
        // pad_images: the input in the middle of a zero border, image by image.
        std::vector<float> padded(padded_floats(g), -1.0f);
        for (int n = 0; n < g.batch; ++n) fast::pad_images(padded.data(), x.data(), g, n, 1);
        const int hp = g.in_h + 2 * g.pad, wp = g.in_w + 2 * g.pad;
        for (int q = 0; q < g.batch * g.in_channels; ++q)
            for (int y = 0; y < hp; ++y)
                for (int z = 0; z < wp; ++z) {
                    const bool inside = y >= g.pad && y < g.in_h + g.pad && z >= g.pad && z < g.in_w + g.pad;
                    const float want = inside ? x[(q * g.in_h + y - g.pad) * g.in_w + z - g.pad] : 0.0f;
                    if (padded[(q * hp + y) * wp + z] != want) FAIL("pad_images at plane " << q << ", " << y << ", " << z);
                }
        std::vector<float> col(col_floats(g), -1.0f), ref(col_floats(g), -2.0f);
        fast::im2col(col.data(), g.pad > 0 ? padded.data() : x.data(), g);
        reference::im2col(ref.data(), x.data(), g);
        CHECK(same_bits(col, ref));  // copies: exact
        // col2im adds each pixel's contributions in the same (kh, kw) order.
        const auto y = random_vector(col_floats(g), 7);
        std::vector<float> back(in_floats(g), -1.0f), back_ref(in_floats(g), -2.0f);
        for (int n = 0; n < g.batch; ++n) fast::col2im(back.data(), y.data(), g, n, 1);
        reference::col2im(back_ref.data(), y.data(), g);
        CHECK(same_bits(back, back_ref));
    }
}

TEST_CASE("the convolution's GEMMs, fed im2col strip by strip from the image, give the bits of sgemm on the stored "
          "column matrix",
          "[fast][conv]") {
    for (const ConvGeometry& g : kGeometries) {
        INFO("geometry " << g.batch << "x" << g.in_channels << "x" << g.in_h << "x" << g.in_w << " K " << g.kernel);
        const int OC = g.out_channels, CKK = g.col_rows(), NP = static_cast<int>(g.col_cols());
        const auto x = random_vector(in_floats(g), 20), w = random_vector(static_cast<size_t>(OC) * CKK, 21);
        const std::vector<float> zero_bias(OC, 0.0f);
        auto dout = random_vector(out_floats(g), 22);
        // The stored way: col in full, then sgemm.
        std::vector<float> padded(padded_floats(g)), col(col_floats(g));
        fast::pad_images(padded.data(), x.data(), g, 0, g.batch);
        const float* view = g.pad > 0 ? padded.data() : x.data();
        fast::im2col(col.data(), view, g);
        std::vector<float> gemm(static_cast<size_t>(OC) * NP), dout_t(gemm.size()), dw_stored(w.size());
        sgemm(false, false, OC, NP, CKK, w.data(), CKK, col.data(), NP, 0.0f, gemm.data(), NP, ThreadPool::serial());
        std::vector<float> out_stored(out_floats(g));
        fast::copy_out(out_stored.data(), gemm.data(), zero_bias.data(), g, 0, g.batch, false);
        const int P = g.out_h() * g.out_w();
        for (int n = 0; n < g.batch; ++n)  // dout in the GEMM's (OC, N*P) layout
            for (int oc = 0; oc < OC; ++oc)
                for (int p = 0; p < P; ++p) dout_t[oc * NP + n * P + p] = dout[(n * OC + oc) * P + p];
        sgemm(false, true, OC, CKK, NP, dout_t.data(), NP, col.data(), NP, 0.0f, dw_stored.data(), CKK,
              ThreadPool::serial());
        for (int threads : {1, 3}) {
            ThreadPool pool(threads);
            std::vector<float> out(out_floats(g)), padded2(padded.size()), scratch(gemm.size());
            fast::conv_forward(out.data(), padded2.data(), scratch.data(), x.data(), w.data(), zero_bias.data(), g,
                               pool);
            CHECK(same_bits(out, out_stored));
            std::vector<float> dw(w.size()), db(OC), dcol(col_floats(g));
            fast::conv_backward(dw.data(), db.data(), nullptr, scratch.data(), dcol.data(), dout.data(),
                                g.pad > 0 ? padded2.data() : x.data(), w.data(), g, pool);
            CHECK(same_bits(dw, dw_stored));
        }
    }
}

TEST_CASE("fast conv_forward and conv_backward agree with the direct loops, any thread count", "[fast][conv]") {
    for (const ConvGeometry& g : kGeometries) {
        INFO("geometry " << g.batch << "x" << g.in_channels << "x" << g.in_h << "x" << g.in_w << " K " << g.kernel);
        const auto x = random_vector(in_floats(g), 3);
        const auto w = random_vector(static_cast<size_t>(g.out_channels) * g.col_rows(), 4);
        const auto b = random_vector(g.out_channels, 5);
        auto dout = random_vector(out_floats(g), 8);
        std::vector<float> out_ref(out_floats(g)), dw_ref(w.size()), db_ref(b.size()), dx_ref(in_floats(g));
        reference::conv_forward(out_ref.data(), x.data(), w.data(), b.data(), g);
        reference::conv_backward(dw_ref.data(), db_ref.data(), dx_ref.data(), dout.data(), x.data(), w.data(), g);
        std::vector<float> first_out, first_dw;
        for (int threads : {1, 3}) {
            ThreadPool pool(threads);
            std::vector<float> out(out_floats(g)), padded(padded_floats(g)), scratch(g.out_channels * g.col_cols());
            fast::conv_forward(out.data(), padded.data(), scratch.data(), x.data(), w.data(), b.data(), g, pool);
            check_close("forward", out, out_ref, 1e-5);
            std::vector<float> dw(w.size()), db(b.size()), dx(in_floats(g), 9.0f), dcol(col_floats(g));
            fast::conv_backward(dw.data(), db.data(), dx.data(), scratch.data(), dcol.data(), dout.data(),
                                g.pad > 0 ? padded.data() : x.data(),
                                w.data(), g, pool);
            check_close("dweight", dw, dw_ref, 1e-5);
            check_close("dbias", db, db_ref, 1e-5);
            check_close("dinput", dx, dx_ref, 1e-5);
            if (first_out.empty()) {
                first_out = out;
                first_dw = dw;
            } else {
                CHECK(same_bits(out, first_out));
                CHECK(same_bits(dw, first_dw));
            }
        }
    }
}

TEST_CASE("fast dense forward and backward agree with the reference loops", "[fast][dense]") {
    ThreadPool pool(2);
    for (auto [B, IN, OUT] : {std::array<int, 3>{5, 37, 19}, {32, 300, 64}, {1, 64, 10}, {33, 17, 260}}) {
        const auto x = random_vector(B * IN, 10), w = random_vector(OUT * IN, 11), b = random_vector(OUT, 12);
        auto dout = random_vector(B * OUT, 13);
        std::vector<float> out(B * OUT), out_ref(B * OUT);
        fast::dense_forward(out.data(), x.data(), w.data(), b.data(), B, IN, OUT, pool);
        reference::dense_forward(out_ref.data(), x.data(), w.data(), b.data(), B, IN, OUT);
        check_close("forward", out, out_ref, 1e-5);
        std::vector<float> dw(w.size()), db(b.size()), dx(x.size()), dw_ref(w.size()), db_ref(b.size()), dx_ref(x.size());
        fast::dense_backward(dw.data(), db.data(), dx.data(), dout.data(), x.data(), w.data(), B, IN, OUT, pool);
        reference::dense_backward(dw_ref.data(), db_ref.data(), dx_ref.data(), dout.data(), x.data(), w.data(), B, IN, OUT);
        check_close("dweight", dw, dw_ref, 1e-5);
        check_close("dbias", db, db_ref, 1e-6);
        check_close("dinput", dx, dx_ref, 1e-5);
    }
}

TEST_CASE("fast ReLU and dropout equal the reference, the same masks on any thread count", "[fast][relu][dropout]") {
    const int64_t n = 100003;  // not a multiple of any chunk
    const auto x = random_vector(n, 14);
    const auto dy = random_vector(n, 15);
    std::vector<float> ref = x;
    reference::relu_forward(ref.data(), n);
    std::vector<float> dref(n);
    reference::relu_backward(dref.data(), dy.data(), ref.data(), n);
    std::vector<float> dropped_ref = x, ddropped_ref(n);
    std::vector<uint8_t> keep_ref(n);
    reference::dropout_forward(dropped_ref.data(), keep_ref.data(), n, 0.4f, 77);
    reference::dropout_backward(ddropped_ref.data(), dy.data(), keep_ref.data(), n, 0.4f);
    for (int threads : {1, 2, 5}) {
        ThreadPool pool(threads);
        std::vector<float> y = x, dx(n);
        fast::relu_forward(y.data(), n, pool);
        fast::relu_backward(dx.data(), dy.data(), y.data(), n, pool);
        CHECK(same_bits(y, ref));
        CHECK(same_bits(dx, dref));
        std::vector<float> dropped = x, ddropped(n);
        std::vector<uint8_t> keep(n);
        fast::dropout_forward(dropped.data(), keep.data(), n, 0.4f, 77, pool);
        fast::dropout_backward(ddropped.data(), dy.data(), keep.data(), n, 0.4f, pool);
        CHECK(keep == keep_ref);
        CHECK(same_bits(dropped, dropped_ref));
        CHECK(same_bits(ddropped, ddropped_ref));
    }
}

TEST_CASE("fast max-pooling equals the reference: values, winners and gradients, both windows", "[fast][pool]") {
    ThreadPool pool(3);
    for (int window : {2, 3})
        for (int h : {1, 2, 3, 6, 7})
            for (int w : {2, 3, 4, 7, 12}) {
                PoolGeometry g;
                g.planes = 5;
                g.in_h = h;
                g.in_w = w;
                g.window = window;
                g.stride = 2;
                INFO(window << "x" << window << " on " << h << "x" << w);
                // Small integers: many ties, so the tie rule is exercised too.
                auto x = random_vector(g.planes * h * w, 40 + h * 8 + w, 0.0f, 4.0f);
                for (float& v : x) v = std::floor(v);
                x[x.size() / 2] = std::nanf("");
                const size_t outs = static_cast<size_t>(g.planes) * g.out_h() * g.out_w();
                std::vector<float> y(outs), y_ref(outs);
                std::vector<int32_t> a(outs), a_ref(outs);
                fast::maxpool_forward(y.data(), a.data(), x.data(), g, pool);
                reference::maxpool_forward(y_ref.data(), a_ref.data(), x.data(), g);
                CHECK(a == a_ref);
                for (size_t o = 0; o < outs; ++o) CHECK((y[o] == y_ref[o] || (std::isnan(y[o]) && std::isnan(y_ref[o]))));
                const auto dy = random_vector(outs, 3);
                std::vector<float> dx(x.size(), 5.0f), dx_ref(x.size());
                fast::maxpool_backward(dx.data(), dy.data(), a.data(), g, pool);
                reference::maxpool_backward(dx_ref.data(), dy.data(), a_ref.data(), g);
                CHECK(same_bits(dx, dx_ref));
            }
}

TEST_CASE("fast LRN agrees with the reference's pow, forward and backward", "[fast][lrn]") {
    const int batch = 3, channels = 9, plane = 7;
    const auto x = random_vector(batch * channels * plane, 50, 0.0f, 80.0f);
    const auto dy = random_vector(x.size(), 51);
    std::vector<float> y_ref(x.size()), s_ref(x.size()), dx_ref(x.size());
    reference::lrn_forward(y_ref.data(), s_ref.data(), x.data(), batch, channels, plane);
    reference::lrn_backward(dx_ref.data(), dy.data(), x.data(), s_ref.data(), batch, channels, plane);
    for (int threads : {1, 4}) {
        ThreadPool pool(threads);
        std::vector<float> y(x.size()), s(x.size()), dx(x.size());
        fast::lrn_forward(y.data(), s.data(), x.data(), batch, channels, plane, pool);
        fast::lrn_backward(dx.data(), dy.data(), x.data(), s.data(), batch, channels, plane, pool);
        check_close("scale", s, s_ref, 1e-6);
        check_close("forward", y, y_ref, 1e-6);
        check_close("backward", dx, dx_ref, 1e-5);
    }
}

TEST_CASE("fast Adam and SGD agree with the reference over several steps, with and without weight decay",
          "[fast][adam][sgd]") {
    const int64_t n = 70001;
    for (double decay : {0.0, 0.05}) {
        AdamConfig adam;
        adam.lr = 1e-2;
        adam.weight_decay = decay;
        SgdConfig sgd;
        sgd.lr = 0.05;
        sgd.momentum = 0.8;
        sgd.weight_decay = decay;
        auto w_ref = random_vector(n, 1), w_fast = w_ref, s_ref = w_ref, s_fast = w_ref;
        std::vector<float> m_ref(n), v_ref(n), m_fast(n), v_fast(n), vel_ref(n), vel_fast(n);
        ThreadPool pool(3);
        for (int64_t step = 1; step <= 5; ++step) {
            const auto g = random_vector(n, 10 + step);
            reference::adam_update(w_ref.data(), m_ref.data(), v_ref.data(), g.data(), n, step, adam);
            fast::adam_update(w_fast.data(), m_fast.data(), v_fast.data(), g.data(), n, step, adam, pool);
            reference::sgd_update(s_ref.data(), vel_ref.data(), g.data(), n, sgd);
            fast::sgd_update(s_fast.data(), vel_fast.data(), g.data(), n, sgd, pool);
        }
        INFO("weight decay " << decay);
        check_close("Adam weights", w_fast, w_ref, 2e-6);
        check_close("Adam first moments", m_fast, m_ref, 1e-6);
        check_close("Adam second moments", v_fast, v_ref, 1e-6);
        check_close("SGD weights", s_fast, s_ref, 1e-6);
        check_close("SGD velocity", vel_fast, vel_ref, 1e-6);
        // The same bits on one thread.
        auto w1 = random_vector(n, 1);
        std::vector<float> m1(n), v1(n);
        ThreadPool one(1);
        auto w3 = w1;
        std::vector<float> m3(n), v3(n);
        const auto g = random_vector(n, 11);
        fast::adam_update(w1.data(), m1.data(), v1.data(), g.data(), n, 1, adam, one);
        fast::adam_update(w3.data(), m3.data(), v3.data(), g.data(), n, 1, adam, pool);
        CHECK(same_bits(w1, w3));
    }
}

TEST_CASE("fast dense forward for one image agrees with the reference, the same bits on any thread count",
          "[fast][dense]") {
    for (auto [IN, OUT] : {std::array<int, 2>{64, 2304}, {2304, 1024}, {37, 19}, {5, 3}, {1024, 10}, {16, 1}}) {
        const auto x = random_vector(IN, 20), w = random_vector(static_cast<size_t>(OUT) * IN, 21),
                   b = random_vector(OUT, 22);
        std::vector<float> ref(OUT), relu_ref(OUT);
        reference::dense_forward(ref.data(), x.data(), w.data(), b.data(), 1, IN, OUT);
        relu_ref = ref;
        reference::relu_forward(relu_ref.data(), OUT);
        std::vector<float> first;
        for (int threads : {1, 2, 3}) {
            ThreadPool pool(threads);
            std::vector<float> out(OUT, 9.0f), relu_out(OUT, 9.0f);
            fast::dense_forward_one(out.data(), x.data(), w.data(), b.data(), IN, OUT, false, pool);
            fast::dense_forward_one(relu_out.data(), x.data(), w.data(), b.data(), IN, OUT, true, pool);
            INFO(IN << " -> " << OUT << ", " << threads << " threads");
            check_close("dense", out, ref, 1e-5);
            check_close("dense + relu", relu_out, relu_ref, 1e-5);
            for (int o = 0; o < OUT; ++o) CHECK(relu_out[o] == (out[o] < 0 ? 0.0f : out[o]));
            if (first.empty()) first = out;
            else CHECK(same_bits(out, first));
        }
    }
}

TEST_CASE("fast dense forward for one image adds each output's 16 interleaved partial sums in the documented tree",
          "[fast][dense]") {
    // The order that makes every vector width give the same bits: product k
    // goes into partial sum k mod 16 (a chain of FMAs in k order), then the
    // sums are folded in half four times (lane j += lane j + 8, + 4, + 2, + 1).
    // 1024 inputs take the vector path only, 1000 also the tail.
    for (int IN : {1024, 1000}) {
        const int OUT = 7;  // a group of four rows and three single ones
        const auto x = random_vector(IN, 70), w = random_vector(static_cast<size_t>(OUT) * IN, 71),
                   b = random_vector(OUT, 72);
        std::vector<float> expected(OUT);
        for (int o = 0; o < OUT; ++o) {
            float lanes[fast::kDotLanes] = {};
            for (int k = 0; k < IN; ++k) {
                float& lane = lanes[k % fast::kDotLanes];
                const float wk = w[static_cast<size_t>(o) * IN + k];
                lane = simd::kFusedMultiplyAdd ? std::fma(wk, x[k], lane) : wk * x[k] + lane;
            }
            for (int width = fast::kDotLanes / 2; width >= 1; width /= 2)
                for (int j = 0; j < width; ++j) lanes[j] += lanes[j + width];
            expected[o] = lanes[0] + b[o];
        }
        ThreadPool pool(2);
        std::vector<float> out(OUT);
        fast::dense_forward_one(out.data(), x.data(), w.data(), b.data(), IN, OUT, false, pool);
        INFO(IN << " inputs");
        CHECK(same_bits(out, expected));
    }
}

TEST_CASE("a fused dense layer forward gives the bits of its kernels one after the other", "[fast][dense]") {
    const int B = 7, IN = 300, OUT = 70;
    const auto x = random_vector(B * IN, 30), w = random_vector(OUT * IN, 31), b = random_vector(OUT, 32);
    ThreadPool pool(3);
    std::vector<float> apart(B * OUT), fused(B * OUT);
    std::vector<uint8_t> keep_apart(B * OUT), keep_fused(B * OUT);
    fast::dense_forward(apart.data(), x.data(), w.data(), b.data(), B, IN, OUT, pool);
    fast::relu_forward(apart.data(), B * OUT, pool);
    fast::dropout_forward(apart.data(), keep_apart.data(), B * OUT, 0.3f, 17, pool);
    fast::dense_layer_forward(fused.data(), x.data(), w.data(), b.data(), B, IN, OUT, true, keep_fused.data(), 0.3f,
                              17, pool);
    CHECK(same_bits(fused, apart));
    CHECK(keep_fused == keep_apart);
}

namespace {

// A padded 3x3 convolution of 3 channels into 8, with LRN-sized inputs (up to
// 20, so that LRN's alpha term matters) and 3x3 pooling after it: the layer
// the fused-layer tests run, with its input, weights and bias from `seed`.
struct PooledConv {
    ConvGeometry g;
    PoolGeometry pooling;
    std::vector<float> x, w, b;
    PooledConv(int batch, uint64_t seed) : g{batch, 3, 13, 13, 8, 3, 1, 1} {
        pooling.planes = batch * g.out_channels;
        pooling.in_h = g.out_h();
        pooling.in_w = g.out_w();
        pooling.window = 3;
        x = random_vector(in_floats(g), seed, 0.0f, 20.0f);
        w = random_vector(static_cast<size_t>(g.out_channels) * g.col_rows(), seed + 1);
        b = random_vector(g.out_channels, seed + 2);
    }
    size_t pooled_floats() const { return static_cast<size_t>(pooling.planes) * pooling.out_h() * pooling.out_w(); }
};

// A conv layer's forward buffers with LRN and pooling, as conv_layer_forward
// takes them (layouts in fast/conv.h); out starts at 9, not 0.
struct LayerForward {
    std::vector<float> padded, scratch, out, normalized, scale, pooled;
    std::vector<int32_t> argmax;
    LayerForward(const ConvGeometry& g, size_t pooled_floats)
        : padded(padded_floats(g)), scratch(g.out_channels * g.col_cols()), out(out_floats(g), 9.0f),
          normalized(out_floats(g)), scale(out_floats(g)), pooled(pooled_floats), argmax(pooled_floats) {}
    fast::ConvLayerBuffers buffers() {
        fast::ConvLayerBuffers b{padded.data(), scratch.data(), out.data()};
        b.normalized = normalized.data();
        b.lrn_scale = scale.data();
        b.pooled = pooled.data();
        b.argmax = argmax.data();
        return b;
    }
};

}  // namespace

TEST_CASE("a fused conv layer forward gives the bits of its kernels one after the other, any batch", "[fast][conv]") {
    for (int batch : {1, 2, 5}) {
        const PooledConv c(batch, 40);
        const ConvGeometry& g = c.g;
        const PoolGeometry& pooling = c.pooling;
        const int OC = g.out_channels, plane = g.out_h() * g.out_w();
        const std::vector<float>&x = c.x, &w = c.w, &b = c.b;
        const size_t outs = out_floats(g), pooled = c.pooled_floats();
        for (int threads : {1, 3}) {
            ThreadPool pool(threads);
            // The kernels one after the other, into the same kind of buffers.
            LayerForward apart(g, pooled);
            fast::conv_forward(apart.out.data(), apart.padded.data(), apart.scratch.data(), x.data(), w.data(), b.data(),
                               g, pool);
            fast::relu_forward(apart.out.data(), outs, pool);
            fast::lrn_forward(apart.normalized.data(), apart.scale.data(), apart.out.data(), batch, OC, plane, pool);
            fast::maxpool_forward(apart.pooled.data(), apart.argmax.data(), apart.normalized.data(), pooling, pool);
            LayerForward fused(g, pooled);
            fast::conv_layer_forward(fused.buffers(), x.data(), w.data(), b.data(), g, pooling, pool);
            INFO("batch " << batch << ", " << threads << " threads");
            CHECK(same_bits(fused.out, apart.out));
            CHECK(same_bits(fused.normalized, apart.normalized));
            CHECK(same_bits(fused.pooled, apart.pooled));
            CHECK(fused.argmax == apart.argmax);
            CHECK(same_bits(fused.padded, apart.padded));
        }
    }
}

TEST_CASE("a one-image conv layer with fewer output pixels than a GEMM strip (dot products along each patch) "
          "agrees with the reference, the same bits on any thread count",
          "[fast][conv]") {
    // 3 x 2 = 6 output pixels: fewer than the strip width NR on every target
    // (8, 16 or 32), so conv_layer_forward takes its dot-product form. 5
    // channels x 3 x 3 = 45 values per patch (two vectors of 16 and a tail);
    // 10 filters (two groups of four and a remainder); stride 2 and padding.
    const ConvGeometry g{1, 5, 5, 4, 10, 3, 2, 1};
    REQUIRE(g.out_h() * g.out_w() == 6);
    REQUIRE(g.out_h() * g.out_w() < sgemm_register_block_cols());
    PoolGeometry pooling;
    pooling.planes = g.out_channels;
    pooling.in_h = g.out_h();
    pooling.in_w = g.out_w();
    const int OC = g.out_channels, plane = g.out_h() * g.out_w();
    const auto x = random_vector(in_floats(g), 60), w = random_vector(static_cast<size_t>(OC) * g.col_rows(), 61),
               b = random_vector(OC, 62);
    const size_t outs = out_floats(g), pooled = static_cast<size_t>(OC) * pooling.out_h() * pooling.out_w();
    // The reference: convolution, ReLU, LRN, pooling, one after the other.
    std::vector<float> out_ref(outs), normalized_ref(outs), scale_ref(outs), pooled_ref(pooled);
    std::vector<int32_t> argmax_ref(pooled);
    reference::conv_forward(out_ref.data(), x.data(), w.data(), b.data(), g);
    reference::relu_forward(out_ref.data(), static_cast<int64_t>(outs));
    REQUIRE(std::count(out_ref.begin(), out_ref.end(), 0.0f) > 0);  // the ReLU has something to do
    reference::lrn_forward(normalized_ref.data(), scale_ref.data(), out_ref.data(), 1, OC, plane);
    reference::maxpool_forward(pooled_ref.data(), argmax_ref.data(), normalized_ref.data(), pooling);
    std::vector<float> first;
    for (int threads : {1, 2, 3}) {
        ThreadPool pool(threads);
        LayerForward f(g, pooled);
        fast::conv_layer_forward(f.buffers(), x.data(), w.data(), b.data(), g, pooling, pool);
        INFO(threads << " threads");
        check_close("conv + ReLU", f.out, out_ref, 1e-5);
        check_close("LRN", f.normalized, normalized_ref, 1e-5);
        check_close("pooled", f.pooled, pooled_ref, 1e-5);
        CHECK(f.argmax == argmax_ref);
        for (size_t i = 0; i < outs; ++i) CHECK((f.out[i] == 0.0f) == (out_ref[i] == 0.0f));
        if (first.empty()) first = f.out;
        else CHECK(same_bits(f.out, first));
    }
}

namespace {

// What a fused backward signals through its BlockUpdate: how many times each
// parameter was signalled, and each one's gradient at the moment it was (it
// must be final by then). Poisons the weights of each signalled block with
// NaN, as an optimizer would change them: any later read of them by the
// backward (for the input's gradient) would show in its result.
struct BlockRecorder {
    std::vector<float>* weight;  // the layer's weights (tensor 0), poisoned as blocks complete
    const float* gradients[2];   // dweight, dbias as the kernel writes them
    std::vector<int> times[2];
    std::vector<float> seen[2];
    std::mutex mutex;

    BlockRecorder(std::vector<float>* w, const float* dweight, size_t bias_size, const float* dbias)
        : weight(w), gradients{dweight, dbias} {
        times[0].assign(w->size(), 0);
        times[1].assign(bias_size, 0);
        seen[0].assign(w->size(), 0.0f);
        seen[1].assign(bias_size, 0.0f);
    }
    fast::BlockUpdate callback() {
        return [this](int tensor, int64_t first, int rows, int cols, int64_t stride) {
            std::lock_guard<std::mutex> lock(mutex);
            for (int r = 0; r < rows; ++r)
                for (int c = 0; c < cols; ++c) {
                    const int64_t at = first + r * stride + c;
                    ++times[tensor][at];
                    seen[tensor][at] = gradients[tensor][at];
                    if (tensor == 0) (*weight)[at] = std::nanf("");
                }
        };
    }
    bool each_once(int tensor) const {
        return std::all_of(times[tensor].begin(), times[tensor].end(), [](int n) { return n == 1; });
    }
};

}  // namespace

TEST_CASE("a fused conv layer backward gives the bits of its kernels one after the other, and signals each "
          "parameter once, complete, after its last read",
          "[fast][conv]") {
    for (int batch : {1, 2, 5}) {
        const PooledConv c(batch, 50);
        const ConvGeometry& g = c.g;
        const PoolGeometry& pooling = c.pooling;
        const int OC = g.out_channels, plane = g.out_h() * g.out_w();
        const std::vector<float>&x = c.x, &w = c.w, &b = c.b;
        const size_t outs = out_floats(g), pooled = c.pooled_floats();
        ThreadPool forward_pool(1);
        LayerForward forward(g, pooled);
        fast::conv_layer_forward(forward.buffers(), x.data(), w.data(), b.data(), g, pooling, forward_pool);
        const std::vector<float>&padded = forward.padded, &scratch = forward.scratch, &out = forward.out,
                                 &scale = forward.scale;
        const std::vector<int32_t>& argmax = forward.argmax;
        const auto dpooled = random_vector(pooled, 53);
        for (int threads : {1, 3}) {
            ThreadPool pool(threads);
            // The kernels one after the other.
            std::vector<float> dp = dpooled, dnorm(outs), dout(outs), dw(w.size()), db(b.size()),
                                dx(in_floats(g)), dcol(col_floats(g)), dout_t(scratch.size());
            fast::maxpool_backward(dnorm.data(), dp.data(), argmax.data(), pooling, pool);
            fast::lrn_backward(dout.data(), dnorm.data(), out.data(), scale.data(), batch, OC, plane, pool);
            fast::relu_backward(dout.data(), dout.data(), out.data(), outs, pool);
            fast::conv_backward(dw.data(), db.data(), dx.data(), dout_t.data(), dcol.data(), dout.data(), padded.data(),
                                w.data(), g, pool);
            for (bool input_gradient : {true, false}) {
                INFO("batch " << batch << ", " << threads << " threads, input gradient " << input_gradient);
                std::vector<float> weights = w, dp2 = dpooled, dnorm2(outs), dout2(outs), dw2(w.size()), db2(b.size()),
                                   dx2(in_floats(g), 7.0f), dcol2(col_floats(g)), dout_t2(scratch.size());
                fast::ConvLayerGradients grads;
                grads.input = padded.data();
                grads.weight = weights.data();
                grads.out = out.data();
                grads.lrn_scale = scale.data();
                grads.argmax = argmax.data();
                grads.dpooled = dp2.data();
                grads.dnormalized = dnorm2.data();
                grads.dout = dout2.data();
                grads.dout_t = dout_t2.data();
                grads.dcol = dcol2.data();
                grads.dweight = dw2.data();
                grads.dbias = db2.data();
                grads.din = input_gradient ? dx2.data() : nullptr;
                BlockRecorder recorder(&weights, dw2.data(), b.size(), db2.data());
                fast::conv_layer_backward(grads, g, pooling, recorder.callback(), pool);
                CHECK(same_bits(dw2, dw));
                CHECK(same_bits(db2, db));
                if (input_gradient) CHECK(same_bits(dx2, dx));
                else CHECK(std::all_of(dx2.begin(), dx2.end(), [](float v) { return v == 7.0f; }));
                CHECK(recorder.each_once(0));
                CHECK(recorder.each_once(1));
                CHECK(same_bits(recorder.seen[0], dw));
                CHECK(same_bits(recorder.seen[1], db));
            }
        }
    }
}

TEST_CASE("a fused dense layer backward gives the bits of its kernels one after the other, and signals each "
          "parameter once, complete, after its last read",
          "[fast][dense]") {
    // IN = 300 is several input blocks for OUT = 70 on every vector width.
    for (auto [B, IN, OUT] : {std::array<int, 3>{7, 300, 70}, {1, 40, 2000}, {32, 2304, 24}}) {
        const auto x = random_vector(B * IN, 60), w = random_vector(OUT * IN, 61), b = random_vector(OUT, 62);
        const float p = 0.3f;
        ThreadPool forward_pool(1);
        std::vector<float> out(B * OUT);
        std::vector<uint8_t> keep(B * OUT);
        fast::dense_layer_forward(out.data(), x.data(), w.data(), b.data(), B, IN, OUT, true, keep.data(), p, 9,
                                  forward_pool);
        const auto dout_in = random_vector(B * OUT, 63);
        for (int threads : {1, 3})
          for (bool relu : {true, false}) {  // dropout with or without the ReLU after it
            INFO(B << "x" << IN << " -> " << OUT << ", " << threads << " threads, relu " << relu);
            ThreadPool pool(threads);
            std::vector<float> dout = dout_in, dw(w.size()), db(b.size()), dx(x.size());
            fast::dropout_backward(dout.data(), dout.data(), keep.data(), B * OUT, p, pool);
            if (relu) fast::relu_backward(dout.data(), dout.data(), out.data(), B * OUT, pool);
            fast::dense_backward(dw.data(), db.data(), dx.data(), dout.data(), x.data(), w.data(), B, IN, OUT, pool);
            std::vector<float> weights = w, dout2 = dout_in, dw2(w.size()), db2(b.size()), dx2(x.size());
            fast::DenseLayerGradients grads;
            grads.dout = dout2.data();
            grads.out = out.data();
            grads.keep = keep.data();
            grads.dropout = p;
            grads.relu = relu;
            grads.in = x.data();
            grads.weight = weights.data();
            grads.dweight = dw2.data();
            grads.dbias = db2.data();
            grads.din = dx2.data();
            BlockRecorder recorder(&weights, dw2.data(), b.size(), db2.data());
            fast::dense_layer_backward(grads, B, IN, OUT, recorder.callback(), pool);
            CHECK(same_bits(dout2, dout));
            CHECK(same_bits(dw2, dw));
            CHECK(same_bits(db2, db));
            CHECK(same_bits(dx2, dx));
            CHECK(recorder.each_once(0));
            CHECK(recorder.each_once(1));
            CHECK(same_bits(recorder.seen[0], dw));
            CHECK(same_bits(recorder.seen[1], db));
        }
    }
}
