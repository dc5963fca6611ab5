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

#include "rng.h"

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

// A fresh path under the system's temporary directory.
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
