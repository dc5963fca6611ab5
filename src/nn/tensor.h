// tensor.h — the plain tensor of this program: a shape and a row-major float
// buffer. Activations are NCHW, conv weights OIHW, dense weights [out][in].
//
// Leaves out: strides, views, broadcasting, autograd. Layers take raw float
// pointers plus their sizes, so what a kernel reads and writes is explicit.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

struct Tensor {
    std::vector<int> shape;   // outermost first, e.g. {N, C, H, W}
    std::vector<float> data;  // product(shape) floats, row-major

    Tensor() = default;
    explicit Tensor(std::vector<int> shape_) : shape(std::move(shape_)), data(element_count(shape)) {}

    int64_t size() const { return static_cast<int64_t>(data.size()); }
    float* ptr() { return data.data(); }
    const float* ptr() const { return data.data(); }

    static int64_t element_count(const std::vector<int>& shape) {
        int64_t n = 1;
        for (int d : shape) n *= d;
        return n;
    }
};

// "2x3x4" — for messages and tables.
inline std::string shape_string(const std::vector<int>& shape) {
    std::string s;
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? "x" : "") + std::to_string(shape[i]);
    return s;
}
