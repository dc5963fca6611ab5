// tests/helpers.h — shared helpers: random fills, max-difference reports,
// central finite differences, temporary files.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <vector>
#include <algorithm>
#include <iterator>
#include <unistd.h>

#include "nn/rng.h"

inline std::vector<float> random_vector(size_t n, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
    Rng rng(seed);
    std::vector<float> v(n);
    for (float& x : v) x = rng.uniform(lo, hi);
    return v;
}

// The largest |a - b| and where it is, for messages (llm.c's check_tensor).
struct MaxDiff {
    double diff = 0.0;
    size_t index = 0;
};
inline MaxDiff max_abs_diff(const float* a, const float* b, size_t n) {
    MaxDiff m;
    for (size_t i = 0; i < n; ++i) {
        const double d = std::fabs(static_cast<double>(a[i]) - b[i]);
        if (d > m.diff || std::isnan(d)) { m.diff = d; m.index = i; }
    }
    return m;
}

// Σ out[i] · r[i], in double: a scalar loss whose gradient with respect to
// out is r, for checking a layer's backward by finite differences.
inline double weighted_sum(const float* out, const std::vector<float>& r) {
    double s = 0.0;
    for (size_t i = 0; i < r.size(); ++i) s += static_cast<double>(out[i]) * r[i];
    return s;
}

// Central difference of loss() with respect to x: (L(x+eps) - L(x-eps)) / 2eps.
inline double numeric_derivative(float& x, float eps, const std::function<double()>& loss) {
    const float saved = x;
    x = saved + eps;
    const double plus = loss();
    x = saved - eps;
    const double minus = loss();
    x = saved;
    return (plus - minus) / (2.0 * static_cast<double>(eps));
}

// |analytic - numeric| <= tol * max(|analytic|, |numeric|, floor)
inline bool gradients_agree(double analytic, double numeric, double tol, double floor = 1.0) {
    const double scale = std::max({std::fabs(analytic), std::fabs(numeric), floor});
    return std::fabs(analytic - numeric) <= tol * scale;
}

// Synthetic "digits": each class is a fixed random set of bright 4x4 squares
// on a 28x28 canvas, shifted by up to 2 pixels and speckled with noise.
struct SyntheticDigits {
    std::vector<std::vector<uint8_t>> templates;
    explicit SyntheticDigits(uint64_t seed) {
        Rng rng(seed);
        for (int k = 0; k < 10; ++k) {
            std::vector<uint8_t> t(28 * 28, 0);
            for (int s = 0; s < 5; ++s) {
                const int y = 4 + static_cast<int>(rng.below(17)), x = 4 + static_cast<int>(rng.below(17));
                for (int dy = 0; dy < 4; ++dy)
                    for (int dx = 0; dx < 4; ++dx) t[(y + dy) * 28 + x + dx] = 255;
            }
            templates.push_back(t);
        }
    }
    // input (n, 1, S, S) in [0, 1] at size S by nearest neighbour; labels (n).
    void batch(std::vector<float>& input, std::vector<uint8_t>& labels, int n, int S, Rng& rng) const {
        input.assign(static_cast<size_t>(n) * S * S, 0.0f);
        labels.resize(n);
        for (int i = 0; i < n; ++i) {
            const int k = static_cast<int>(rng.below(10));
            labels[i] = static_cast<uint8_t>(k);
            const int sy = static_cast<int>(rng.below(5)) - 2, sx = static_cast<int>(rng.below(5)) - 2;
            for (int y = 0; y < S; ++y)
                for (int x = 0; x < S; ++x) {
                    const int ty = y * 28 / S - sy, tx = x * 28 / S - sx;
                    float v = (ty >= 0 && ty < 28 && tx >= 0 && tx < 28) ? templates[k][ty * 28 + tx] / 255.0f : 0.0f;
                    v += 0.2f * rng.uniform();
                    input[(static_cast<size_t>(i) * S + y) * S + x] = std::min(v, 1.0f);
                }
        }
    }
};

// A fresh path under the system's temporary directory.
// The message f throws, or "(no error)".
inline std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "(no error)";
}

inline std::string temp_path(const std::string& name) {
    static int counter = 0;
    return "/tmp/alexnet_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" + name;
}

inline void write_file(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Writes <dir>/<prefix>-images-idx3-ubyte and -labels-idx1-ubyte holding
// `count` synthetic digits (28x28 bytes), as a small stand-in for MNIST.
inline void write_synthetic_idx(const std::string& dir, const std::string& prefix, uint32_t count,
                                uint64_t seed) {
    const SyntheticDigits digits(99);
    Rng rng(seed);
    auto be32 = [](uint32_t v) {
        return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                           static_cast<char>(v)};
    };
    std::string images = be32(0x803) + be32(count) + be32(28) + be32(28);
    std::string labels = be32(0x801) + be32(count);
    std::vector<float> input;
    std::vector<uint8_t> label;
    for (uint32_t i = 0; i < count; ++i) {
        digits.batch(input, label, 1, 28, rng);
        for (float v : input) images += static_cast<char>(static_cast<uint8_t>(v * 255.0f + 0.5f));
        labels += static_cast<char>(label[0]);
    }
    write_file(dir + "/" + prefix + "-images-idx3-ubyte", images);
    write_file(dir + "/" + prefix + "-labels-idx1-ubyte", labels);
}
