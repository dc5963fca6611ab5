// preprocess.cpp — bytes to network input: scale, bilinear resize, channels.
#include "preprocess.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "mnist.h"
#include "thread_pool.h"

namespace {

// For each output coordinate: the two source indices and their weights.
struct Tap {
    int i0, i1;
    float w0, w1;
};

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
                            ThreadPool& pool) {
    const int64_t image_floats = static_cast<int64_t>(channels) * size * size;
    pool.run(n, [&](int i) {
        float gray[kMnistPixels];
        for (int p = 0; p < kMnistPixels; ++p)
            gray[p] = static_cast<float>(pixels[static_cast<int64_t>(i) * kMnistPixels + p]) / 255.0f;
        preprocess_image(out + i * image_floats, gray, kMnistSide, kMnistSide, size, channels);
    });
}
