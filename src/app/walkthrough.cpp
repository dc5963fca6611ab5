// walkthrough.cpp — ./alexnet walkthrough: the numbers of docs/walkthrough.md,
// computed by the reference kernels themselves, so that the page cannot
// drift from the code. Each section is a tiny case a reader can check by
// hand: the output-size formula, one backward pass through a dense layer and
// softmax cross-entropy, max-pooling's routing, the im2col example run
// backward, and two Adam steps.
#include "app/walkthrough.h"

#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "nn/adam.h"
#include "nn/layers.h"
#include "nn/model.h"

using namespace reference;

namespace {

// rows x cols values, one row per line, after a label.
void print_matrix(const char* label, const float* v, int rows, int cols, const char* format = "%8.4f") {
    std::printf("%s\n", label);
    for (int r = 0; r < rows; ++r) {
        std::printf("   ");
        for (int c = 0; c < cols; ++c) std::printf(format, static_cast<double>(v[r * cols + c]));
        std::printf("\n");
    }
}

void sizes() {
    std::printf("== sizes: out = floor((in + 2*pad - kernel) / stride) + 1\n");
    const auto geometry = conv_geometries(ModelConfig{}, 1);
    for (int i = 0; i < kConvLayers; ++i) {
        const ConvGeometry& g = geometry[i];
        const int read = (g.out_h() - 1) * g.stride + g.kernel - g.pad;  // rows of the unpadded input reached
        std::printf("conv%d: floor((%d + 2*%d - %d) / %d) + 1 = %d", i + 1, g.in_h, g.pad, g.kernel, g.stride,
                    g.out_h());
        if (read < g.in_h) std::printf("; reads rows 0..%d of %d, never the last %d", read - 1, g.in_h, g.in_h - read);
        std::printf("\n");
    }
    const ConvGeometry& conv5 = geometry[kConvLayers - 1];
    const PoolGeometry pool = pool_geometry(conv5, 2);
    std::printf("pool after conv5: %dx%d -> %dx%d; the 2x2 window reads %d of the %d positions\n", pool.in_h,
                pool.in_w, pool.out_h(), pool.out_w(), 4 * pool.out_h() * pool.out_w(), pool.in_h * pool.in_w);
}

void backward_pass() {
    std::printf("== backward: x -> dense -> softmax cross-entropy, label 0\n");
    const float x[2] = {1.0f, 2.0f};                       // (1, 2): one input of two features
    const float w[6] = {1.0f, 0.5f, 0.2f, 0.4f, 0.1f, 0.0f};  // (3, 2): three outputs
    const float b[3] = {0.0f, 0.0f, 0.0f};
    const uint8_t label = 0;
    float z[3], p[3], dz[3], dw[6], db[3], dx[2];
    dense_forward(z, x, w, b, 1, 2, 3);
    print_matrix("x", x, 1, 2);
    print_matrix("W", w, 3, 2);
    print_matrix("z = x . W^T + b (the logits)", z, 1, 3);
    const double loss = softmax_cross_entropy_forward(p, nullptr, z, &label, 1, 3);
    print_matrix("p = softmax(z)", p, 1, 3);
    std::printf("loss = -log p[0] = %.4f\n", loss);
    softmax_cross_entropy_backward(dz, p, &label, 1, 3);
    print_matrix("dz = p - onehot(0)", dz, 1, 3);
    dense_backward(dw, db, dx, dz, x, w, 1, 2, 3);
    print_matrix("dW = dz^T . x", dw, 3, 2);
    print_matrix("db = dz", db, 1, 3);
    print_matrix("dx = dz . W", dx, 1, 2);
}

void pool_routing() {
    std::printf("== pool: 2x2 max-pooling of a 4x4 plane, and its backward\n");
    const float in[16] = {1, 3, 0, 2,
                          4, 2, 1, 1,
                          0, 1, 5, 6,
                          2, 0, 7, 1};
    PoolGeometry g;
    g.planes = 1;
    g.in_h = g.in_w = 4;
    float out[4], dout[4] = {0.1f, 0.2f, 0.3f, 0.4f}, din[16];
    int32_t argmax[4];
    maxpool_forward(out, argmax, in, g);
    maxpool_backward(din, dout, argmax, g);
    print_matrix("in", in, 4, 4, "%5.0f");
    print_matrix("out", out, 2, 2, "%5.0f");
    std::printf("argmax (index in the plane)\n   %5d%5d\n   %5d%5d\n", argmax[0], argmax[1], argmax[2], argmax[3]);
    print_matrix("dout", dout, 2, 2, "%5.1f");
    print_matrix("din: each dout to its window's winner, 0 elsewhere", din, 4, 4, "%5.1f");
}

void conv_backward_example() {
    std::printf("== conv: the 3x3 image, the 2x2 filter [1 0; 0 -1], run backward\n");
    const ConvGeometry g{1, 1, 3, 3, 1, 2, 1, 0};
    const float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[4] = {1, 0, 0, -1}, b = 0.0f;
    float col[16], y[4];
    im2col(col, x, g);
    conv_forward(y, x, w, &b, g);
    print_matrix("col (rows: taps (0,0) (0,1) (1,0) (1,1); columns: positions)", col, 4, 4, "%5.0f");
    print_matrix("y = w . col", y, 2, 2, "%5.0f");
    const float dy[4] = {1, 2, 3, 4};
    float dw[4], db, dcol[16], dx_col2im[9], dx[9];
    print_matrix("dy (given)", dy, 2, 2, "%5.0f");
    // dcol = wᵀ · dy: (4, 1) · (1, 4), by hand, then col2im; conv_backward's
    // direct loops must give the same dx.
    for (int tap = 0; tap < 4; ++tap)
        for (int pos = 0; pos < 4; ++pos) dcol[tap * 4 + pos] = w[tap] * dy[pos];
    col2im(dx_col2im, dcol, g);
    conv_backward(dw, &db, dx, dy, x, w, g);
    print_matrix("dW = dy . col^T", dw, 1, 4, "%5.0f");
    std::printf("db = sum of dy = %.0f\n", static_cast<double>(db));
    print_matrix("dcol = w^T . dy", dcol, 4, 4, "%5.0f");
    print_matrix("dx = col2im(dcol)", dx_col2im, 3, 3, "%5.0f");
    for (int i = 0; i < 9; ++i)
        if (dx[i] != dx_col2im[i]) throw std::logic_error("conv_backward and col2im disagree");
    std::printf("(conv_backward's direct loops give the same dx)\n");
}

void adam_steps() {
    std::printf("== adam: two steps of one weight, lr 0.1, beta1 0.9, beta2 0.999, eps 1e-7\n");
    AdamConfig c;
    c.lr = 0.1;
    for (float second : {0.2f, -0.1f}) {
        float w = 0.5f, m = 0.0f, v = 0.0f;
        const float gradients[2] = {0.2f, second};
        std::printf("gradients %.1f then %.1f:\n", static_cast<double>(gradients[0]), static_cast<double>(second));
        for (int t = 1; t <= 2; ++t) {
            const float before = w;
            adam_update(&w, &m, &v, &gradients[t - 1], 1, t, c);
            const double m_hat = m / (1 - std::pow(c.beta1, t)), v_hat = v / (1 - std::pow(c.beta2, t));
            std::printf("  step %d: m %.4f  v %.7f  m_hat %.4f  v_hat %.5f  w %.4f -> %.4f (moved %.4f)\n", t,
                        static_cast<double>(m), static_cast<double>(v), m_hat, v_hat, static_cast<double>(before),
                        static_cast<double>(w), static_cast<double>(before - w));
        }
    }
}

}  // namespace

const char* const kWalkthroughSections = "sizes, backward, pool, conv, adam";

void run_walkthrough(const std::string& section) {
    const struct {
        const char* name;
        void (*print)();
    } sections[] = {{"sizes", sizes}, {"backward", backward_pass}, {"pool", pool_routing},
                    {"conv", conv_backward_example}, {"adam", adam_steps}};
    bool found = false;
    for (const auto& s : sections)
        if (section.empty() || section == s.name) {
            if (found) std::printf("\n");
            s.print();
            found = true;
        }
    if (!found) throw std::invalid_argument(section);
}
