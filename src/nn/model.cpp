// model.cpp — AlexNet's layer table, parameter layout, forward and backward.
// forward() reads like the table in DESIGN.md; backward() is the same list
// reversed, each step undoing one step of forward.
#include "nn/model.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <unistd.h>

#include "fast/thread_pool.h"
#include "nn/rng.h"

// ---------------------------------------------------------------------------
// The layer table

std::array<ConvSpec, kConvLayers> conv_specs(const ModelConfig& c) {
    const int f = c.filters;
    return {{
        {3 * f, 11, 4, 0, c.lrn, true},   // conv1 + relu (+ lrn) + maxpool
        {8 * f, 5, 1, 2, c.lrn, true},    // conv2 + relu (+ lrn) + maxpool
        {12 * f, 3, 1, 1, false, false},  // conv3 + relu
        {12 * f, 3, 1, 1, false, false},  // conv4 + relu
        {8 * f, 3, 1, 1, false, true},    // conv5 + relu + maxpool
    }};
}

std::array<int, kDenseLayers> dense_widths(const ModelConfig& c) {
    return {{288 * c.filters, 128 * c.filters, 128 * c.filters, c.classes}};
}

namespace {

// The side of what a conv layer hands on: its output, halved by the pooling.
int result_side(const ConvGeometry& g, const ConvSpec& spec) {
    return spec.pool_after ? g.out_h() / 2 : g.out_h();
}

}  // namespace

int final_feature_size(int s) {
    ModelConfig probe;
    probe.image_size = s;
    const auto specs = conv_specs(probe);
    const auto geometry = conv_geometries(probe, 1);
    int side = 0;
    for (int i = 0; i < kConvLayers; ++i) {
        const ConvGeometry& g = geometry[i];
        if (g.in_h < 1 || g.in_h + 2 * g.pad < g.kernel) return 0;  // the kernel does not fit
        side = result_side(g, specs[i]);
    }
    return std::max(side, 0);
}

int min_image_size() {
    int s = 1;
    while (final_feature_size(s) < 1) ++s;
    return s;
}

// ---------------------------------------------------------------------------
// Construction: parameter layout and activation buffers

ParameterLayout parameter_layout(const ModelConfig& cfg) {
    ParameterLayout layout;
    int64_t next = 0;  // the first free float of the flat buffer
    auto tensor = [&](const std::string& name, std::vector<int> shape) {
        ParamInfo p;
        p.name = name;
        p.size = Tensor::element_count(shape);
        p.shape = std::move(shape);
        p.offset = next;
        next += p.size;
        return p;
    };
    int channels = cfg.channels;
    for (int i = 0; i < kConvLayers; ++i) {
        const ConvSpec s = conv_specs(cfg)[i];
        const std::string name = "conv" + std::to_string(i + 1);
        layout.conv[i].weight = tensor(name + ".weight", {s.out_channels, channels, s.kernel, s.kernel});
        layout.conv[i].bias = tensor(name + ".bias", {s.out_channels});
        channels = s.out_channels;
    }
    const int side = final_feature_size(cfg.image_size);
    int features = channels * side * side;  // flatten (C, H, W) in NCHW order, as PyTorch does
    for (int i = 0; i < kDenseLayers; ++i) {
        const int width = dense_widths(cfg)[i];
        const std::string name = "dense" + std::to_string(i + 1);
        layout.dense[i].weight = tensor(name + ".weight", {width, features});
        layout.dense[i].bias = tensor(name + ".bias", {width});
        features = width;
    }
    return layout;
}

std::vector<ParamInfo> ParameterLayout::in_order() const {
    std::vector<ParamInfo> all;
    for (const LayerParameters& l : conv) all.insert(all.end(), {l.weight, l.bias});
    for (const LayerParameters& l : dense) all.insert(all.end(), {l.weight, l.bias});
    return all;
}

std::array<ConvGeometry, kConvLayers> conv_geometries(const ModelConfig& cfg, int batch) {
    std::array<ConvGeometry, kConvLayers> geometry;
    int channels = cfg.channels, h = cfg.image_size, w = cfg.image_size;
    for (int i = 0; i < kConvLayers; ++i) {
        const ConvSpec s = conv_specs(cfg)[i];
        geometry[i] = {batch, channels, h, w, s.out_channels, s.kernel, s.stride, s.pad};
        channels = s.out_channels;
        h = w = result_side(geometry[i], s);  // square images throughout
    }
    return geometry;
}

int64_t model_memory_bytes(const ModelConfig& cfg, int batch) {
    const std::vector<ParamInfo> layout = parameter_layout(cfg).in_order();
    int64_t floats = 2 * (layout.back().offset + layout.back().size);  // params, grads
    int64_t largest_col = 0;
    const auto specs = conv_specs(cfg);
    const auto geometry = conv_geometries(cfg, batch);
    for (int i = 0; i < kConvLayers; ++i) {
        const ConvGeometry& g = geometry[i];
        const int64_t col = g.col_rows() * g.col_cols();
        const int64_t out = g.col_cols() * g.out_channels;  // = N*OC*OH*OW
        floats += col + out /* gemm_out */ + 2 * out /* out, dout */;
        if (specs[i].lrn_after) floats += 3 * out;         // normalized, dnormalized, lrn_scale
        if (specs[i].pool_after) floats += 3 * (out / 4);  // pooled, dpooled, argmax
        largest_col = std::max(largest_col, col);
    }
    floats += largest_col;  // dcol
    for (int width : dense_widths(cfg)) floats += 2 * static_cast<int64_t>(batch) * width;
    return 4 * (floats + static_cast<int64_t>(batch) * cfg.classes);
}

namespace {

int64_t physical_memory_bytes() {
    const long pages = ::sysconf(_SC_PHYS_PAGES), page_size = ::sysconf(_SC_PAGE_SIZE);
    return pages > 0 && page_size > 0 ? static_cast<int64_t>(pages) * page_size : INT64_MAX;
}

}  // namespace

Model::Model(const ModelConfig& cfg, int batch) : config(cfg), max_batch(batch) {
    if (cfg.pool_window != 2 && cfg.pool_window != 3)
        throw std::invalid_argument("pooling window " + std::to_string(cfg.pool_window) + " is not 2 or 3");
    if (final_feature_size(cfg.image_size) < 1)
        throw std::invalid_argument("image size " + std::to_string(cfg.image_size) +
                                    " is too small for AlexNet; the smallest that works is " +
                                    std::to_string(min_image_size()));
    // Refuse, before allocating anything, a configuration this machine cannot hold.
    const int64_t needed = model_memory_bytes(cfg, batch), available = physical_memory_bytes();
    if (needed > available || needed / 4 > INT32_MAX)
        throw std::runtime_error("filters " + std::to_string(cfg.filters) + ", image size " +
                                 std::to_string(cfg.image_size) + " and batch " + std::to_string(batch) +
                                 " need " + std::to_string(needed >> 20) + " MiB of memory; this machine has " +
                                 std::to_string(available >> 20) + " MiB");
    layout = parameter_layout(cfg);
    param_info = layout.in_order();
    const int64_t total = param_info.back().offset + param_info.back().size;
    params.assign(total, 0.0f);
    grads.assign(total, 0.0f);

    // Activation buffers, layer by layer, for a batch of max_batch images.
    const auto geometry = conv_geometries(cfg, batch);
    int64_t largest_col = 0;
    for (int i = 0; i < kConvLayers; ++i) {
        ConvActivations& a = conv[i];
        const ConvGeometry& g = a.geometry = geometry[i];
        a.col = Tensor({g.col_rows(), static_cast<int>(g.col_cols())});
        a.gemm_out = Tensor({g.out_channels, static_cast<int>(g.col_cols())});
        a.out = Tensor({batch, g.out_channels, g.out_h(), g.out_w()});
        a.dout = Tensor(a.out.shape);
        largest_col = std::max(largest_col, a.col.size());
        if (conv_specs(cfg)[i].lrn_after) {
            a.normalized = Tensor(a.out.shape);
            a.dnormalized = Tensor(a.out.shape);
            a.lrn_scale = Tensor(a.out.shape);
        }
        if (conv_specs(cfg)[i].pool_after) {
            a.pooled = Tensor({batch, g.out_channels, g.out_h() / 2, g.out_w() / 2});
            a.dpooled = Tensor(a.pooled.shape);
            a.argmax.assign(a.pooled.size(), 0);
        }
    }
    dcol = Tensor({static_cast<int>(largest_col)});
    for (int i = 0; i < kDenseLayers; ++i) {
        const ParamInfo& weight = layout.dense[i].weight;
        dense[i].out_features = weight.shape[0];
        dense[i].in_features = weight.shape[1];
        dense[i].out = Tensor({batch, weight.shape[0]});
        dense[i].dout = Tensor({batch, weight.shape[0]});
        if (i < kDropoutLayers) dense[i].keep.assign(dense[i].out.size(), 1);
    }
    probs = Tensor({batch, cfg.classes});
    // Flatten joins two ways of computing sizes: conv5's buffers (from the
    // geometry) and dense1's weight (from the parameter layout). They must agree.
    const int64_t flattened = conv[kConvLayers - 1].result().size() / batch;
    if (flattened != dense[0].in_features)
        throw std::logic_error("conv5 hands on " + std::to_string(flattened) + " features per image, dense1 expects " +
                               std::to_string(dense[0].in_features));
}

void Model::init_weights(uint64_t seed) {
    Rng rng(seed);
    for (const ParamInfo& p : param_info) {
        float* data = params.data() + p.offset;
        if (p.shape.size() == 1) {  // bias
            std::fill(data, data + p.size, 0.0f);
            continue;
        }
        // Glorot (Xavier) uniform, with Keras' fans: a conv's receptive field
        // (K*K) counts towards both fan_in (C*K*K) and fan_out (OC*K*K).
        const int64_t receptive = p.size / (static_cast<int64_t>(p.shape[0]) * p.shape[1]);
        const double fan_in = static_cast<double>(p.shape[1]) * receptive;
        const double fan_out = static_cast<double>(p.shape[0]) * receptive;
        const float limit = static_cast<float>(std::sqrt(6.0 / (fan_in + fan_out)));
        for (int64_t i = 0; i < p.size; ++i) data[i] = rng.uniform(-limit, limit);
    }
}

// ---------------------------------------------------------------------------
// Forward

namespace {

// The geometry of conv layer a for a batch of n (<= max_batch) images.
ConvGeometry geometry_for(const ConvActivations& a, int n) {
    ConvGeometry g = a.geometry;
    g.batch = n;
    return g;
}

int64_t plane_count(const ConvGeometry& g) { return static_cast<int64_t>(g.batch) * g.out_channels; }
int64_t out_floats(const ConvGeometry& g) { return plane_count(g) * g.out_h() * g.out_w(); }

}  // namespace

const float* Model::forward(const float* input, int n, ThreadPool& pool) {
    if (n < 1 || n > max_batch) throw std::invalid_argument("batch size out of range");
    const float* x = input;  // (n, C, H, W): the current layer's input
    for (int i = 0; i < kConvLayers; ++i) x = conv_layer_forward(i, x, n, pool);
    // Flatten is free: (n, C, H, W) row-major is already (n, C*H*W).
    for (int i = 0; i < kDenseLayers; ++i) x = dense_layer_forward(i, x, n, pool);
    return x;  // logits (n, classes)
}

const float* Model::conv_layer_forward(int i, const float* in, int n, ThreadPool& pool) {
    ConvActivations& a = conv[i];
    const ConvGeometry g = geometry_for(a, n);
    conv_forward(a.out.ptr(), a.col.ptr(), a.gemm_out.ptr(), in, param(layout.conv[i].weight),
                 param(layout.conv[i].bias), g, pool);
    relu_forward(a.out.ptr(), out_floats(g), pool);
    if (a.normalizes())
        lrn_forward(a.normalized.ptr(), a.lrn_scale.ptr(), a.out.ptr(), n, g.out_channels, g.out_h() * g.out_w(),
                    pool);
    if (a.pools())
        maxpool_forward(a.pooled.ptr(), a.argmax.data(), a.activation().ptr(), static_cast<int>(plane_count(g)),
                        g.out_h(), g.out_w(), config.pool_window, pool);
    return a.result().ptr();
}

const float* Model::dense_layer_forward(int i, const float* in, int n, ThreadPool& pool) {
    DenseActivations& d = dense[i];
    dense_forward(d.out.ptr(), in, param(layout.dense[i].weight), param(layout.dense[i].bias), n, d.in_features,
                  d.out_features, pool);
    const int64_t count = static_cast<int64_t>(n) * d.out_features;
    if (i + 1 < kDenseLayers) relu_forward(d.out.ptr(), count, pool);
    if (dropping(i)) dropout_forward(d.out.ptr(), d.keep.data(), count, dropout, dropout_mask_seed(i), pool);
    return d.out.ptr();
}

bool Model::dropping(int dense_layer) const { return training && dropout > 0.0f && dense_layer < kDropoutLayers; }

uint64_t Model::dropout_mask_seed(int dense_layer) const {
    // One stream per (seed, step, layer): mixed so that neighbouring steps and
    // layers give unrelated masks.
    Rng mix(dropout_seed ^ (static_cast<uint64_t>(dropout_step) << 8) ^ static_cast<uint64_t>(dense_layer));
    return mix.next_u64();
}

double Model::loss(const uint8_t* labels, int n, int* correct) {
    return softmax_cross_entropy_forward(probs.ptr(), correct, dense[kDenseLayers - 1].out.ptr(),
                                         labels, n, config.classes);
}

const float* Model::probabilities(int n) {
    softmax_forward(probs.ptr(), dense[kDenseLayers - 1].out.ptr(), n, config.classes);
    return probs.ptr();
}

// ---------------------------------------------------------------------------
// Backward: the forward list in reverse

void Model::backward(const uint8_t* labels, int n, ThreadPool& pool,
                     const std::function<void(const LayerParameters&)>& layer_done) {
    loss_backward(labels, n);
    for (int i = kDenseLayers - 1; i >= 0; --i) {
        dense_layer_backward(i, n, pool);
        if (layer_done) layer_done(layout.dense[i]);
    }
    for (int i = kConvLayers - 1; i >= 0; --i) {
        conv_layer_backward(i, n, pool);
        if (layer_done) layer_done(layout.conv[i]);
    }
}

void Model::loss_backward(const uint8_t* labels, int n) {
    // loss = softmax_cross_entropy(logits)
    softmax_cross_entropy_backward(dense[kDenseLayers - 1].dout.ptr(), probs.ptr(), labels, n, config.classes);
}

void Model::dense_layer_backward(int i, int n, ThreadPool& pool) {
    DenseActivations& d = dense[i];
    const int64_t count = static_cast<int64_t>(n) * d.out_features;
    // out = dropout(out)  (dense1 and dense2, in training, when on)
    if (dropping(i)) dropout_backward(d.dout.ptr(), d.dout.ptr(), d.keep.data(), count, dropout, pool);
    // out = relu(out)  (every dense layer but the logits; a dropped value is 0
    // in out, and its gradient is already 0)
    if (i + 1 < kDenseLayers) relu_backward(d.dout.ptr(), d.dout.ptr(), d.out.ptr(), count, pool);
    // out = in · weightᵀ + bias, where in is the previous layer's output
    const float* in = i > 0 ? dense[i - 1].out.ptr() : conv[kConvLayers - 1].result().ptr();
    float* din = i > 0 ? dense[i - 1].dout.ptr() : conv[kConvLayers - 1].dresult().ptr();
    dense_backward(grad(layout.dense[i].weight), grad(layout.dense[i].bias), din, d.dout.ptr(), in,
                   param(layout.dense[i].weight), n, d.in_features, d.out_features, pool);
}

void Model::conv_layer_backward(int i, int n, ThreadPool& pool) {
    ConvActivations& a = conv[i];
    const ConvGeometry g = geometry_for(a, n);
    // result = maxpool(activation)
    if (a.pools())
        maxpool_backward(a.dactivation().ptr(), a.dpooled.ptr(), a.argmax.data(), static_cast<int>(plane_count(g)),
                         g.out_h(), g.out_w(), pool);
    // normalized = lrn(out)
    if (a.normalizes())
        lrn_backward(a.dout.ptr(), a.dnormalized.ptr(), a.out.ptr(), a.lrn_scale.ptr(), n, g.out_channels,
                     g.out_h() * g.out_w(), pool);
    // out = relu(out)
    relu_backward(a.dout.ptr(), a.dout.ptr(), a.out.ptr(), out_floats(g), pool);
    // out = conv(in), in seen through the im2col kept in a.col; the first
    // layer needs no gradient for its input image
    float* din = i > 0 ? conv[i - 1].dresult().ptr() : nullptr;
    conv_backward(grad(layout.conv[i].weight), grad(layout.conv[i].bias), din, a.gemm_out.ptr(), dcol.ptr(),
                  a.dout.ptr(), a.col.ptr(), param(layout.conv[i].weight), g, pool);
}
