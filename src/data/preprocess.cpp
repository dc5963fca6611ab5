// preprocess.cpp — bytes to network input: scale, bilinear resize, channels.
#include "data/preprocess.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "data/augment.h"
#include "data/mnist.h"
#include "fast/thread_pool.h"

namespace {

// For each output coordinate: the two source indices and their weights.
struct Tap {
    int i0, i1;
    float w0, w1;
};

// Ink: how far a pixel must stand out from the background to count.
constexpr float kMinInk = 0.05f;

Tap source_tap(int dst, int in_size, int out_size) {
    const float scale = static_cast<float>(in_size) / static_cast<float>(out_size);
    const float src = std::max((static_cast<float>(dst) + 0.5f) * scale - 0.5f, 0.0f);
    Tap t;
    t.i0 = std::min(static_cast<int>(src), in_size - 1);
    t.i1 = std::min(t.i0 + 1, in_size - 1);
    t.w1 = std::min(src - static_cast<float>(t.i0), 1.0f);
    t.w0 = 1.0f - t.w1;
    return t;
}

}  // namespace

void resize_bilinear(float* out, int out_h, int out_w, const float* in, int in_h, int in_w) {
    if (out_h == in_h && out_w == in_w) {
        std::memcpy(out, in, sizeof(float) * in_h * in_w);
        return;
    }
    // The column taps are the same for every row: compute them once per call
    // (into a per-thread buffer that is only ever grown).
    thread_local std::vector<Tap> column_taps;
    if (column_taps.size() < static_cast<size_t>(out_w)) column_taps.resize(out_w);
    for (int x = 0; x < out_w; ++x) column_taps[x] = source_tap(x, in_w, out_w);
    for (int y = 0; y < out_h; ++y) {
        const Tap r = source_tap(y, in_h, out_h);
        const float* row0 = in + static_cast<int64_t>(r.i0) * in_w;
        const float* row1 = in + static_cast<int64_t>(r.i1) * in_w;
        float* dst = out + static_cast<int64_t>(y) * out_w;
        for (int x = 0; x < out_w; ++x) {
            const Tap& c = column_taps[x];
            dst[x] = r.w0 * (c.w0 * row0[c.i0] + c.w1 * row0[c.i1]) +
                     r.w1 * (c.w0 * row1[c.i0] + c.w1 * row1[c.i1]);
        }
    }
}

void resize_bilinear_backward(float* din, int in_h, int in_w, const float* dout, int out_h, int out_w) {
    std::fill(din, din + static_cast<int64_t>(in_h) * in_w, 0.0f);
    // forward: out[y][x] = r.w0 (c.w0 in[r.i0][c.i0] + c.w1 in[r.i0][c.i1]) + r.w1 (...)
    //   =>   each of those four input pixels gets dout[y][x] times its weight
    for (int y = 0; y < out_h; ++y) {
        const Tap r = source_tap(y, in_h, out_h);
        for (int x = 0; x < out_w; ++x) {
            const Tap c = source_tap(x, in_w, out_w);
            const float d = dout[static_cast<int64_t>(y) * out_w + x];
            din[static_cast<int64_t>(r.i0) * in_w + c.i0] += r.w0 * c.w0 * d;
            din[static_cast<int64_t>(r.i0) * in_w + c.i1] += r.w0 * c.w1 * d;
            din[static_cast<int64_t>(r.i1) * in_w + c.i0] += r.w1 * c.w0 * d;
            din[static_cast<int64_t>(r.i1) * in_w + c.i1] += r.w1 * c.w1 * d;
        }
    }
}

void resize_area(float* out, int out_h, int out_w, const float* in, int in_h, int in_w) {
    const double sy = static_cast<double>(in_h) / out_h, sx = static_cast<double>(in_w) / out_w;
    for (int oy = 0; oy < out_h; ++oy) {
        const double y0 = oy * sy, y1 = y0 + sy;
        for (int ox = 0; ox < out_w; ++ox) {
            const double x0 = ox * sx, x1 = x0 + sx;
            double sum = 0.0;
            // Each input pixel [iy, iy+1) x [ix, ix+1) weighs by its overlap.
            for (int iy = static_cast<int>(y0); iy < in_h && iy < y1; ++iy) {
                const double wy = std::min(y1, iy + 1.0) - std::max(y0, static_cast<double>(iy));
                for (int ix = static_cast<int>(x0); ix < in_w && ix < x1; ++ix) {
                    const double wx = std::min(x1, ix + 1.0) - std::max(x0, static_cast<double>(ix));
                    sum += wy * wx * in[static_cast<int64_t>(iy) * in_w + ix];
                }
            }
            out[oy * out_w + ox] = static_cast<float>(sum / (sy * sx));
        }
    }
}

MnistForm to_mnist_form(float* out28, const float* gray, int h, int w) {
    // 1. Background: the mean of the one-pixel border.
    double border = 0.0;
    int border_count = 0;
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            if (y == 0 || x == 0 || y == h - 1 || x == w - 1) {
                border += gray[static_cast<int64_t>(y) * w + x];
                ++border_count;
            }
    const float background = static_cast<float>(border / border_count);
    const bool light_background = background > 0.5f;
    if (h == kMnistSide && w == kMnistSide && !light_background) {
        std::memcpy(out28, gray, sizeof(float) * kMnistPixels);
        const float brightest = *std::max_element(gray, gray + kMnistPixels);
        return brightest - background < kMinInk ? MnistForm::Blank : MnistForm::AsIs;
    }
    // 2. Ink: how far each pixel is from the background, towards the digit.
    const float ink_background = light_background ? 1.0f - background : background;
    std::vector<float> ink(static_cast<size_t>(h) * w);
    float max_ink = 0.0f;
    for (size_t i = 0; i < ink.size(); ++i) {
        const float v = light_background ? 1.0f - gray[i] : gray[i];
        ink[i] = std::max(0.0f, v - ink_background);
        max_ink = std::max(max_ink, ink[i]);
    }
    std::fill(out28, out28 + kMnistPixels, 0.0f);
    if (max_ink < kMinInk) return MnistForm::Blank;  // nothing to centre

    // 3. Bounding box of the ink (pixels above a quarter of the strongest).
    int top = h, bottom = -1, left = w, right = -1;
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            if (ink[static_cast<int64_t>(y) * w + x] > 0.25f * max_ink) {
                top = std::min(top, y);
                bottom = std::max(bottom, y);
                left = std::min(left, x);
                right = std::max(right, x);
            }
    const int box_h = bottom - top + 1, box_w = right - left + 1;
    std::vector<float> box(static_cast<size_t>(box_h) * box_w);
    for (int y = 0; y < box_h; ++y)
        for (int x = 0; x < box_w; ++x)
            box[static_cast<size_t>(y) * box_w + x] = ink[static_cast<int64_t>(top + y) * w + left + x];

    // 4. Scale the box so that its longer side is 20 pixels.
    constexpr int kDigitBox = 20;
    const double scale = static_cast<double>(kDigitBox) / std::max(box_h, box_w);
    const int digit_h = std::max(1, std::min(kDigitBox, static_cast<int>(std::lround(box_h * scale))));
    const int digit_w = std::max(1, std::min(kDigitBox, static_cast<int>(std::lround(box_w * scale))));
    std::vector<float> digit(static_cast<size_t>(digit_h) * digit_w);
    if (scale < 1.0) resize_area(digit.data(), digit_h, digit_w, box.data(), box_h, box_w);
    else resize_bilinear(digit.data(), digit_h, digit_w, box.data(), box_h, box_w);
    const float digit_max = *std::max_element(digit.begin(), digit.end());
    if (digit_max > 0.0f)
        for (float& v : digit) v /= digit_max;

    // 5. Centre of mass to the centre of the 28 x 28 field.
    double mass = 0.0, mass_y = 0.0, mass_x = 0.0;
    for (int y = 0; y < digit_h; ++y)
        for (int x = 0; x < digit_w; ++x) {
            const double v = digit[static_cast<size_t>(y) * digit_w + x];
            mass += v;
            mass_y += v * (y + 0.5);
            mass_x += v * (x + 0.5);
        }
    const double centre = kMnistSide / 2.0;
    int off_y = static_cast<int>(std::lround(centre - mass_y / mass));
    int off_x = static_cast<int>(std::lround(centre - mass_x / mass));
    off_y = std::max(0, std::min(kMnistSide - digit_h, off_y));
    off_x = std::max(0, std::min(kMnistSide - digit_w, off_x));
    for (int y = 0; y < digit_h; ++y)
        for (int x = 0; x < digit_w; ++x)
            out28[(off_y + y) * kMnistSide + off_x + x] = digit[static_cast<size_t>(y) * digit_w + x];
    return MnistForm::Placed;
}

void preprocess_image(float* out, const float* gray, int h, int w, int size, int channels) {
    std::vector<float> mnist_sized;
    if (h != kMnistSide || w != kMnistSide) {
        mnist_sized.resize(kMnistPixels);
        resize_bilinear(mnist_sized.data(), kMnistSide, kMnistSide, gray, h, w);
        gray = mnist_sized.data();
    }
    resize_bilinear(out, size, size, gray, kMnistSide, kMnistSide);
    const int64_t plane = static_cast<int64_t>(size) * size;
    for (int c = 1; c < channels; ++c) std::memcpy(out + c * plane, out, sizeof(float) * plane);
}

void preprocess_mnist_batch(float* out, const uint8_t* pixels, int n, int size, int channels,
                            ThreadPool& pool, bool augment, uint64_t augment_seed, float elastic_alpha) {
    const int64_t image_floats = static_cast<int64_t>(channels) * size * size;
    pool.run(n, [&](int i) {
        float gray[kMnistPixels];
        for (int p = 0; p < kMnistPixels; ++p)
            gray[p] = static_cast<float>(pixels[static_cast<int64_t>(i) * kMnistPixels + p]) / 255.0f;
        if (augment || elastic_alpha > 0.0f) {
            // A seed per image, so the thread that takes it does not matter;
            // the elastic field has a stream of its own, so turning it on
            // leaves every image's shift, scale and rotation as they were.
            const uint64_t image_seed = augment_seed ^ (0x9E3779B97F4A7C15ull * (i + 1));
            const Augmentation affine = augment ? random_augmentation(image_seed) : Augmentation{};
            Displacement wobble;
            if (elastic_alpha > 0.0f) random_displacement(&wobble, image_seed ^ 0xE1A5u, elastic_alpha);
            float moved[kMnistPixels];
            augment_image(moved, gray, affine, elastic_alpha > 0.0f ? &wobble : nullptr);
            std::memcpy(gray, moved, sizeof gray);
        }
        preprocess_image(out + i * image_floats, gray, kMnistSide, kMnistSide, size, channels);
    });
}
