// model.cpp — AlexNet's layer table, parameter layout, buffer plan, forward
// and backward. forward() reads like the table in model.h; backward() is the
// same list reversed, each step undoing one step of forward. Every kernel
// call names both versions: the tuned one (fast::) and its reference twin.
#include "nn/model.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include <unistd.h>

#include "fast/conv.h"
#include "fast/layers.h"
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

PoolGeometry pool_geometry(const ConvGeometry& conv, int window) {
    PoolGeometry p;
    p.planes = conv.batch * conv.out_channels;
    p.in_h = conv.out_h();
    p.in_w = conv.out_w();
    p.window = window;
    p.stride = kPoolStride;
    return p;
}

std::array<ConvGeometry, kConvLayers> conv_geometries(const ModelConfig& cfg, int batch) {
    const auto specs = conv_specs(cfg);
    std::array<ConvGeometry, kConvLayers> geometry;
    int channels = cfg.channels, side = cfg.image_size;  // square images throughout
    for (int i = 0; i < kConvLayers; ++i) {
        const ConvSpec& s = specs[i];
        geometry[i] = {batch, channels, side, side, s.out_channels, s.kernel, s.stride, s.pad};
        channels = s.out_channels;
        side = s.pool_after ? pool_geometry(geometry[i], cfg.pool_window).out_h() : geometry[i].out_h();
    }
    return geometry;
}

int final_feature_size(int s) {
    ModelConfig probe;
    probe.image_size = s;
    const auto specs = conv_specs(probe);
    const auto geometry = conv_geometries(probe, 1);
    int side = 0;
    for (int i = 0; i < kConvLayers; ++i) {
        const ConvGeometry& g = geometry[i];
        if (!g.fits()) return 0;
        side = specs[i].pool_after ? pool_geometry(g, probe.pool_window).out_h() : g.out_h();
    }
    return side;
}

int min_image_size() {
    int s = 1;
    while (final_feature_size(s) < 1) ++s;
    return s;
}

// ---------------------------------------------------------------------------
// Parameters

ParameterLayout parameter_layout(const ModelConfig& cfg) {
    ParameterLayout layout;
    int64_t next = 0;  // the first free float of the flat buffer
    auto tensor = [&](const std::string& name, std::vector<int> shape) {
        ParamInfo p;
        p.name = name;
        p.size = element_count(shape);
        p.shape = std::move(shape);
        p.offset = next;
        next += p.size;
        return p;
    };
    const auto specs = conv_specs(cfg);
    int channels = cfg.channels;
    for (int i = 0; i < kConvLayers; ++i) {
        const ConvSpec& s = specs[i];
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

int64_t ParameterLayout::total() const {
    const ParamInfo& last = dense[kDenseLayers - 1].bias;
    return last.offset + last.size;
}

// ---------------------------------------------------------------------------
// Construction: the buffer plan, then the allocation

namespace {

// Every buffer together at most 2^31 floats, so that no size or index within
// one overflows the kernels' int arithmetic.
constexpr int64_t kMaxModelBytes = int64_t{4} * INT32_MAX;

int64_t physical_memory_bytes() {
    const long pages = ::sysconf(_SC_PHYS_PAGES), page_size = ::sysconf(_SC_PAGE_SIZE);
    return pages > 0 && page_size > 0 ? static_cast<int64_t>(pages) * page_size : INT64_MAX;
}

}  // namespace

void Model::plan_buffers() {
    const int N = max_batch;
    const auto specs = conv_specs(config);
    const auto geometry = conv_geometries(config, N);
    std::vector<int> largest_col = {0, 0};  // the shape of the largest im2col: dcol's
    for (int i = 0; i < kConvLayers; ++i) {
        ConvLayer& L = conv[i];
        const ConvGeometry& g = geometry[i];
        L.name = "conv" + std::to_string(i + 1);
        L.spec = specs[i];
        L.geometry = g;
        if (g.pad > 0) L.padded.shape = {N, g.in_channels, g.padded_h(), g.padded_w()};
        L.gemm_out.shape = {g.out_channels, static_cast<int>(g.col_cols())};
        L.out.shape = L.dout.shape = {N, g.out_channels, g.out_h(), g.out_w()};
        if (L.normalizes()) L.normalized.shape = L.dnormalized.shape = L.lrn_scale.shape = L.out.shape;
        if (L.pools()) {
            L.pool = pool_geometry(g, config.pool_window);
            L.pooled.shape = L.dpooled.shape = L.argmax.shape = {N, g.out_channels, L.pool.out_h(), L.pool.out_w()};
        }
        const std::vector<int> col_shape = {g.col_rows(), static_cast<int>(g.col_cols())};
        if (element_count(col_shape) > element_count(largest_col)) largest_col = col_shape;
    }
    dcol.shape = largest_col;
    for (int i = 0; i < kDenseLayers; ++i) {
        DenseLayer& D = dense[i];
        const ParamInfo& weight = layout.dense[i].weight;  // (OUT, IN)
        D.name = "dense" + std::to_string(i + 1);
        D.out_features = weight.shape[0];
        D.in_features = weight.shape[1];
        D.relu = i + 1 < kDenseLayers;
        D.out.shape = D.dout.shape = {N, D.out_features};
        if (i < kDropoutLayers) D.keep.shape = D.out.shape;
    }
    probs.shape = {N, config.classes};
    if (buffers == ModelBuffers::Inference) dinput.shape = {N, config.channels, config.image_size, config.image_size};
}

template <typename Visit>
void Model::for_each_buffer(Visit visit) {
    for (ConvLayer& L : conv) L.for_each_buffer(visit);
    for (DenseLayer& D : dense) D.for_each_buffer(visit);
    visit(probs);
    visit(dcol);
    visit(dinput);
}

Model::Model(const ModelConfig& cfg, int batch, ModelBuffers kind, bool allocate)
    : config(cfg), max_batch(batch), buffers(kind) {
    if (cfg.pool_window != 2 && cfg.pool_window != 3)
        throw std::invalid_argument("pooling window " + std::to_string(cfg.pool_window) + " is not 2 or 3");
    if (final_feature_size(cfg.image_size) < 1)
        throw std::invalid_argument("image size " + std::to_string(cfg.image_size) +
                                    " is too small for AlexNet; the smallest that works is " +
                                    std::to_string(min_image_size()));
    layout = parameter_layout(cfg);
    param_info = layout.in_order();
    plan_buffers();
    const bool own_parameters = buffers != ModelBuffers::Inference;
    planned_bytes_ = own_parameters ? 2 * static_cast<int64_t>(sizeof(float)) * layout.total() : 0;  // params, grads
    for_each_buffer([this](const auto& buffer) { planned_bytes_ += buffer.planned_bytes(); });
    // Flatten joins two ways of computing sizes: conv5's buffers (from the
    // geometry) and dense1's weight (from the parameter layout). They must agree.
    const int64_t flattened = element_count(conv[kConvLayers - 1].result().shape) / batch;
    if (flattened != dense[0].in_features)
        throw std::logic_error("conv5 hands on " + std::to_string(flattened) + " features per image, dense1 expects " +
                               std::to_string(dense[0].in_features));
    if (!allocate) return;

    // Refuse, before allocating anything, a configuration this machine cannot
    // hold, or whose buffers the kernels' 32-bit sizes could not index.
    const std::string what = "filters " + std::to_string(cfg.filters) + ", image size " +
                             std::to_string(cfg.image_size) + " and batch " + std::to_string(batch) + " need " +
                             std::to_string(planned_bytes_ >> 20) + " MiB of memory";
    const int64_t available = physical_memory_bytes();
    if (planned_bytes_ > available)
        throw std::runtime_error(what + "; this machine has " + std::to_string(available >> 20) + " MiB");
    if (planned_bytes_ > kMaxModelBytes)
        throw std::runtime_error(what + "; the most a model may use is " + std::to_string(kMaxModelBytes >> 20) +
                                 " MiB (its kernels count floats in 32-bit integers)");
    if (own_parameters) {
        params.assign(layout.total(), 0.0f);
        grads.assign(layout.total(), 0.0f);
    }
    for_each_buffer([](auto& buffer) { buffer.allocate(); });
}

int64_t model_memory_bytes(const ModelConfig& config, int batch, ModelBuffers buffers) {
    return Model(config, batch, buffers, /*allocate=*/false).memory_bytes();
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
// Timing (bench's per-layer profile)

namespace {
int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
}  // namespace

TimeInto::TimeInto(double* seconds) : seconds_(seconds) {
    if (seconds_) start_ns_ = now_ns();
}
TimeInto::~TimeInto() {
    if (seconds_) *seconds_ += 1e-9 * static_cast<double>(now_ns() - start_ns_);
}

// ---------------------------------------------------------------------------
// Forward

namespace {

// Sizes for a batch of n (<= the largest) images.
ConvGeometry for_batch(ConvGeometry g, int n) {
    g.batch = n;
    return g;
}
PoolGeometry for_batch(PoolGeometry p, int n, int channels) {
    p.planes = n * channels;
    return p;
}
int64_t out_floats(const ConvGeometry& g) { return static_cast<int64_t>(g.batch) * g.out_channels * g.out_h() * g.out_w(); }

}  // namespace

const float* Model::forward(const float* in, int n, ThreadPool& pool) {
    if (n < 1 || n > max_batch) throw std::invalid_argument("batch size out of range");
    input = in;
    const float* x = in;  // (n, C, H, W): the current layer's input
    for (int i = 0; i < kConvLayers; ++i) {
        const TimeInto time(timing ? &timing->forward[i] : nullptr);
        x = conv_layer_forward(i, x, n, pool);
    }
    // Flatten is free: (n, C, H, W) row-major is already (n, C*H*W).
    for (int i = 0; i < kDenseLayers; ++i) {
        const TimeInto time(timing ? &timing->forward[kConvLayers + i] : nullptr);
        x = dense_layer_forward(i, x, n, pool);
    }
    return x;  // logits (n, classes)
}

const float* Model::conv_layer_forward(int i, const float* in, int n, ThreadPool& pool) {
    ConvLayer& L = conv[i];
    const ConvGeometry g = for_batch(L.geometry, n);
    const float* weight = param(layout.conv[i].weight);
    const float* bias = param(layout.conv[i].bias);
    const PoolGeometry p = for_batch(L.pool, n, g.out_channels);
    if (kernels == KernelSet::Fast) {
        // The layer's kernels below, fused into as few hand-offs as the batch allows.
        fast::ConvLayerBuffers b{L.padded.ptr(), L.gemm_out.ptr(), L.out.ptr()};
        if (L.normalizes()) b.normalized = L.normalized.ptr(), b.lrn_scale = L.lrn_scale.ptr();
        if (L.pools()) b.pooled = L.pooled.ptr(), b.argmax = L.argmax.ptr();
        fast::conv_layer_forward(b, in, weight, bias, g, p, pool);
        return L.result().ptr();
    }
    // out = relu(conv(in) + bias)
    reference::conv_forward(L.out.ptr(), in, weight, bias, g);
    reference::relu_forward(L.out.ptr(), out_floats(g));
    // normalized = lrn(out)
    if (L.normalizes())
        reference::lrn_forward(L.normalized.ptr(), L.lrn_scale.ptr(), L.out.ptr(), n, g.out_channels,
                               g.out_h() * g.out_w());
    // pooled = maxpool(activation)
    if (L.pools()) reference::maxpool_forward(L.pooled.ptr(), L.argmax.ptr(), L.activation().ptr(), p);
    return L.result().ptr();
}

const float* Model::dense_layer_forward(int i, const float* in, int n, ThreadPool& pool) {
    DenseLayer& D = dense[i];
    const float* weight = param(layout.dense[i].weight);
    const float* bias = param(layout.dense[i].bias);
    const int64_t count = static_cast<int64_t>(n) * D.out_features;
    // out = in · weightᵀ + bias, then relu (but for the logits), then dropout (if on)
    if (kernels == KernelSet::Fast) {
        if (n == 1 && !training)  // the page's case: a matrix-vector product
            fast::dense_forward_one(D.out.ptr(), in, weight, bias, D.in_features, D.out_features, D.relu, pool);
        else
            fast::dense_layer_forward(D.out.ptr(), in, weight, bias, n, D.in_features, D.out_features, D.relu,
                                      dropping(i) ? D.keep.ptr() : nullptr, dropout, dropout_mask_seed(i), pool);
    } else {
        reference::dense_forward(D.out.ptr(), in, weight, bias, n, D.in_features, D.out_features);
        if (D.relu) reference::relu_forward(D.out.ptr(), count);
        if (dropping(i)) reference::dropout_forward(D.out.ptr(), D.keep.ptr(), count, dropout, dropout_mask_seed(i));
    }
    return D.out.ptr();
}

bool Model::dropping(int dense_layer) const { return training && dropout > 0.0f && dense_layer < kDropoutLayers; }

uint64_t Model::dropout_mask_seed(int dense_layer) const {
    // One stream per (seed, step, layer): mixed so that neighbouring steps and
    // layers give unrelated masks.
    Rng mix(dropout_seed ^ (static_cast<uint64_t>(dropout_step) << 8) ^ static_cast<uint64_t>(dense_layer));
    return mix.next_u64();
}

double Model::loss(const uint8_t* labels, int n, int* correct) {
    const TimeInto time(timing ? &timing->loss : nullptr);
    return reference::softmax_cross_entropy_forward(probs.ptr(), correct, dense[kDenseLayers - 1].out.ptr(), labels,
                                                    n, config.classes);
}

const float* Model::probabilities(int n) {
    reference::softmax_forward(probs.ptr(), dense[kDenseLayers - 1].out.ptr(), n, config.classes);
    return probs.ptr();
}

// ---------------------------------------------------------------------------
// Backward: the forward list in reverse

void Model::backward(const uint8_t* labels, int n, ThreadPool& pool, const ParameterBlockDone& block_done) {
    loss_backward(labels, n);
    for (int i = kDenseLayers - 1; i >= 0; --i) {
        const TimeInto time(timing ? &timing->backward[kConvLayers + i] : nullptr);
        dense_layer_backward(i, n, pool, block_done);
    }
    for (int i = kConvLayers - 1; i >= 0; --i) {
        const TimeInto time(timing ? &timing->backward[i] : nullptr);
        conv_layer_backward(i, n, pool, block_done);
    }
}

const float* Model::input_gradient(const float* dlogits, int n, ThreadPool& pool) {
    if (dinput.data.empty()) throw std::logic_error("input_gradient needs a model with ModelBuffers::Inference");
    // The logits' gradient given, then the backward list as in backward():
    // parameter gradients are skipped (grad() is null without them).
    DenseLayer& logits = dense[kDenseLayers - 1];
    std::copy(dlogits, dlogits + static_cast<int64_t>(n) * logits.out_features, logits.dout.ptr());
    want_input_gradient_ = true;
    for (int i = kDenseLayers - 1; i >= 0; --i) dense_layer_backward(i, n, pool, nullptr);
    for (int i = kConvLayers - 1; i >= 0; --i) conv_layer_backward(i, n, pool, nullptr);
    want_input_gradient_ = false;
    return dinput.ptr();
}

void Model::loss_backward(const uint8_t* labels, int n) {
    const TimeInto time(timing ? &timing->loss : nullptr);
    // loss = softmax_cross_entropy(logits)
    reference::softmax_cross_entropy_backward(dense[kDenseLayers - 1].dout.ptr(), probs.ptr(), labels, n,
                                              config.classes);
}

namespace {

// The fast kernels' signal for a block of a layer's weight (tensor 0) or
// bias (tensor 1), as the model's ParameterBlockDone sees it: offsets into
// params. Empty when there is nothing to call.
fast::BlockUpdate block_update(const LayerParameters& layer, const ParameterBlockDone& block_done) {
    if (!block_done) return nullptr;
    return [&layer, &block_done](int tensor, int64_t first, int rows, int cols, int64_t stride) {
        block_done((tensor == 0 ? layer.weight : layer.bias).offset + first, rows, cols, stride);
    };
}

// The reference kernels' signal: each tensor once, whole, after the layer.
void whole_tensors_done(const LayerParameters& layer, const ParameterBlockDone& block_done) {
    if (!block_done) return;
    for (const ParamInfo& p : {layer.weight, layer.bias}) block_done(p.offset, 1, static_cast<int>(p.size), p.size);
}

}  // namespace

void Model::dense_layer_backward(int i, int n, ThreadPool& pool, const ParameterBlockDone& block_done) {
    DenseLayer& D = dense[i];
    // out = in · weightᵀ + bias, where in is the previous layer's output
    const float* in = i > 0 ? dense[i - 1].out.ptr() : conv[kConvLayers - 1].result().ptr();
    float* din = i > 0 ? dense[i - 1].dout.ptr() : conv[kConvLayers - 1].dresult().ptr();
    const float* weight = param(layout.dense[i].weight);
    float* dweight = grad(layout.dense[i].weight);
    float* dbias = grad(layout.dense[i].bias);
    if (kernels == KernelSet::Fast) {
        // The kernels below, fused into three hand-offs; each block of the
        // weights is signalled as soon as its gradient is complete.
        fast::DenseLayerGradients d;
        d.dout = D.dout.ptr();
        d.out = D.out.ptr();
        if (dropping(i)) d.keep = D.keep.ptr(), d.dropout = dropout;
        d.relu = D.relu;
        d.in = in;
        d.weight = weight;
        d.dweight = dweight;
        d.dbias = dbias;
        d.din = din;
        fast::dense_layer_backward(d, n, D.in_features, D.out_features, block_update(layout.dense[i], block_done),
                                   pool);
        return;
    }
    const int64_t count = static_cast<int64_t>(n) * D.out_features;
    // out = dropout(out)  (dense1 and dense2, in training, when on)
    if (dropping(i)) reference::dropout_backward(D.dout.ptr(), D.dout.ptr(), D.keep.ptr(), count, dropout);
    // out = relu(out)  (a dropped value is 0 in out, and its gradient is already 0)
    if (D.relu) reference::relu_backward(D.dout.ptr(), D.dout.ptr(), D.out.ptr(), count);
    reference::dense_backward(dweight, dbias, din, D.dout.ptr(), in, weight, n, D.in_features, D.out_features);
    if (dweight) whole_tensors_done(layout.dense[i], block_done);
}

void Model::conv_layer_backward(int i, int n, ThreadPool& pool, const ParameterBlockDone& block_done) {
    ConvLayer& L = conv[i];
    const ConvGeometry g = for_batch(L.geometry, n);
    const PoolGeometry p = for_batch(L.pool, n, g.out_channels);
    // out = conv(in) + bias; the first layer's input gradient only for input_gradient
    float* din = i > 0 ? conv[i - 1].dresult().ptr() : (want_input_gradient_ ? dinput.ptr() : nullptr);
    const float* weight = param(layout.conv[i].weight);
    float* dweight = grad(layout.conv[i].weight);
    float* dbias = grad(layout.conv[i].bias);
    if (kernels == KernelSet::Fast) {
        // The kernels below, fused into two hand-offs; forward's input is
        // read again (through its padded copy), gemm_out is free scratch now.
        fast::ConvLayerGradients b;
        b.input = g.pad > 0 ? L.padded.ptr() : (i > 0 ? conv[i - 1].result().ptr() : input);
        b.weight = weight;
        b.out = L.out.ptr();
        if (L.normalizes()) b.lrn_scale = L.lrn_scale.ptr(), b.dnormalized = L.dnormalized.ptr();
        if (L.pools()) b.argmax = L.argmax.ptr(), b.dpooled = L.dpooled.ptr();
        b.dout = L.dout.ptr();
        b.dout_t = L.gemm_out.ptr();
        b.dcol = dcol.ptr();
        b.dweight = dweight;
        b.dbias = dbias;
        b.din = din;
        fast::conv_layer_backward(b, g, p, block_update(layout.conv[i], block_done), pool);
        return;
    }
    // result = maxpool(activation)
    if (L.pools()) reference::maxpool_backward(L.dactivation().ptr(), L.dpooled.ptr(), L.argmax.ptr(), p);
    // normalized = lrn(out)
    if (L.normalizes())
        reference::lrn_backward(L.dout.ptr(), L.dnormalized.ptr(), L.out.ptr(), L.lrn_scale.ptr(), n, g.out_channels,
                                g.out_h() * g.out_w());
    // out = relu(out)
    reference::relu_backward(L.dout.ptr(), L.dout.ptr(), L.out.ptr(), out_floats(g));
    const float* in = i > 0 ? conv[i - 1].result().ptr() : input;
    reference::conv_backward(dweight, dbias, din, L.dout.ptr(), in, weight, g);
    if (dweight) whole_tensors_done(layout.conv[i], block_done);
}
