// tensor.h — the plain tensor of this program: a shape and a row-major
// buffer. Activations are NCHW, conv weights OIHW, dense weights [out][in].
//
// A tensor can be planned before it is allocated: its shape set, its data
// still empty. The model plans every buffer first, adds up what they will
// need, and only then allocates (model.h).
//
// Leaves out: strides, views, broadcasting, autograd. Kernels take raw
// pointers plus their sizes, so what a kernel reads and writes is explicit.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

// The number of elements of a shape; 0 for no shape at all (a buffer a layer
// does not have).
inline int64_t element_count(const std::vector<int>& shape) {
    if (shape.empty()) return 0;
    int64_t n = 1;
    for (int d : shape) n *= d;
    return n;
}

template <typename T>
struct TensorOf {
    std::vector<int> shape;  // outermost first, e.g. {N, C, H, W}; empty: no buffer
    std::vector<T> data;     // element_count(shape) values once allocated, row-major

    TensorOf() = default;
    explicit TensorOf(std::vector<int> shape_) : shape(std::move(shape_)), data(element_count(shape)) {}

    int64_t size() const { return static_cast<int64_t>(data.size()); }
    T* ptr() { return data.data(); }
    const T* ptr() const { return data.data(); }

    // The bytes the planned shape needs, allocated or not.
    int64_t planned_bytes() const { return element_count(shape) * static_cast<int64_t>(sizeof(T)); }
    void allocate() { data.assign(element_count(shape), T{}); }
};

using Tensor = TensorOf<float>;          // values
using IndexTensor = TensorOf<int32_t>;   // positions (max-pooling's winners)
using MaskTensor = TensorOf<uint8_t>;    // yes/no per value (dropout's kept values)

// "2x3x4" — for messages and tables.
inline std::string shape_string(const std::vector<int>& shape) {
    std::string s;
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? "x" : "") + std::to_string(shape[i]);
    return s;
}
