// model.h — AlexNet for MNIST: the layer table, its parameters, the
// activations of one batch, and forward / backward over them.
//
//   conv1 11x11/4 ─ relu ─ [lrn] ─ pool ─ conv2 5x5 pad 2 ─ relu ─ [lrn] ─ pool
//   ─ conv3 3x3 ─ relu ─ conv4 3x3 ─ relu ─ conv5 3x3 ─ relu ─ pool ─ flatten
//   ─ dense1 ─ relu ─ [dropout] ─ dense2 ─ relu ─ [dropout] ─ dense3 ─ relu
//   ─ dense4 ─► logits
//
// The TensorFlow project being re-created has none of the bracketed layers;
// they are the 2012 paper's, off unless asked for (ModelConfig::lrn,
// Model::dropout), as is the paper's overlapping 3x3 pooling (pool_window).
// docs/design.md gives the design in one page.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nn/geometry.h"
#include "nn/layers.h"
#include "nn/tensor.h"

class ThreadPool;

struct ModelConfig {
    int filters = 8;      // f: conv widths 3f 8f 12f 12f 8f, dense widths 288f 128f 128f
    int image_size = 56;  // S: the input is channels x S x S
    int channels = 1;     // C: 1, or 3 for grey replicated to RGB
    int classes = 10;     // digits
    bool lrn = false;     // local response normalisation after conv1 and conv2 (the paper's)
    int pool_window = 2;  // max-pooling windows, stride 2: 2 (2x2) or 3 (3x3, overlapping, the paper's)
};

constexpr int kConvLayers = 5;
constexpr int kDenseLayers = 4;
constexpr int kPoolStride = 2;

// One conv row of the layer table.
struct ConvSpec {
    int out_channels, kernel, stride, pad;
    bool lrn_after;   // local response normalisation after the ReLU
    bool pool_after;  // max-pool (config.pool_window, stride 2) after the ReLU (and LRN)
};
std::array<ConvSpec, kConvLayers> conv_specs(const ModelConfig& config);
// The dense rows: each layer's width (the last is the logits).
std::array<int, kDenseLayers> dense_widths(const ModelConfig& config);
// Dropout (when Model::dropout > 0) follows the ReLU of the first
// kDropoutLayers dense layers, as in the AlexNet paper: dense1 and dense2.
constexpr int kDropoutLayers = 2;

// The geometry of each conv layer, and of its pooling, for a batch of `batch`
// images: the one place that walks the layer table's sizes.
std::array<ConvGeometry, kConvLayers> conv_geometries(const ModelConfig& config, int batch);
PoolGeometry pool_geometry(const ConvGeometry& conv, int window);

// Side of the last pooled feature map for input size S (0 if some kernel no
// longer fits), and the smallest S for which it is at least 1.
int final_feature_size(int image_size);
int min_image_size();

// Where one parameter tensor lives in the flat parameter buffer.
struct ParamInfo {
    std::string name;        // "conv1.weight", ..., "dense4.bias"
    std::vector<int> shape;  // conv weight (OC, C, K, K), dense weight (OUT, IN), bias (OUT)
    int64_t offset = 0;      // first float in Model::params
    int64_t size = 0;        // number of floats
};

// One layer's parameters.
struct LayerParameters {
    ParamInfo weight;
    ParamInfo bias;
};

// Every parameter tensor by name, with its shape for the default model
// (filters 8, input 1 x 56 x 56):
struct ParameterLayout {
    std::array<LayerParameters, kConvLayers> conv;
    //   conv[0]  conv1.weight (24, 1, 11, 11)   conv1.bias (24)
    //   conv[1]  conv2.weight (64, 24, 5, 5)    conv2.bias (64)
    //   conv[2]  conv3.weight (96, 64, 3, 3)    conv3.bias (96)
    //   conv[3]  conv4.weight (96, 96, 3, 3)    conv4.bias (96)
    //   conv[4]  conv5.weight (64, 96, 3, 3)    conv5.bias (64)
    std::array<LayerParameters, kDenseLayers> dense;
    //   dense[0] dense1.weight (2304, 64)       dense1.bias (2304)
    //   dense[1] dense2.weight (1024, 2304)     dense2.bias (1024)
    //   dense[2] dense3.weight (1024, 1024)     dense3.bias (1024)
    //   dense[3] dense4.weight (10, 1024)       dense4.bias (10)

    // All of them in checkpoint order: conv1.weight, conv1.bias, ..., dense4.bias,
    // which is also their order in the flat parameter buffer.
    std::vector<ParamInfo> in_order() const;
    int64_t total() const;  // floats in all of them
};
ParameterLayout parameter_layout(const ModelConfig& config);

// One conv layer: its row of the table, its sizes, and the activations of a
// batch with their gradients. Shapes for conv1 of the default model, batch 32:
struct ConvLayer {
    std::string name;       // "conv1"
    ConvSpec spec;
    ConvGeometry geometry;  // for the largest batch
    PoolGeometry pool;      // its max-pooling, if spec.pool_after
    Tensor padded;          // (N, C, H+2p, W+2p) (32, 24, 10, 10) for conv2: the input with a zero border,
                            // read by the fast kernels' GEMMs and kept for backward; none if p = 0 (conv1)
    Tensor gemm_out;        // (OC, N*OH*OW)    (24, 4608)   the GEMM's result; dout in that layout in backward
    Tensor out, dout;       // (N, OC, OH, OW)  (32, 24, 12, 12)  after the ReLU, and its gradient
    Tensor normalized, dnormalized, lrn_scale;  // (N, OC, OH, OW) after LRN, if spec.lrn_after;
                                                // lrn_scale = k + α Σ in², kept for backward
    Tensor pooled, dpooled;  // (N, OC, OH/2, OW/2) (32, 24, 6, 6)  after pooling, if spec.pool_after
    IndexTensor argmax;      // (N, OC, OH/2, OW/2) winner of each pooling window

    bool normalizes() const { return spec.lrn_after; }
    bool pools() const { return spec.pool_after; }
    // What the pooling reads (normalized if the layer normalises, else out), and its gradient.
    Tensor& activation() { return normalizes() ? normalized : out; }
    Tensor& dactivation() { return normalizes() ? dnormalized : dout; }
    // What the next layer reads (pooled if the layer pools), and its gradient.
    Tensor& result() { return pools() ? pooled : activation(); }
    const Tensor& result() const { return pools() ? pooled : normalizes() ? normalized : out; }
    Tensor& dresult() { return pools() ? dpooled : dactivation(); }

    template <typename Visit>
    void for_each_buffer(Visit visit) {
        for (Tensor* t : {&padded, &gemm_out, &out, &dout, &normalized, &dnormalized, &lrn_scale, &pooled, &dpooled})
            visit(*t);
        visit(argmax);
    }
};

// One dense layer. Shapes for dense2 of the default model, batch 32:
struct DenseLayer {
    std::string name;                  // "dense2"
    int in_features = 0, out_features = 0;  // 2304, 1024
    bool relu = true;                  // every layer but the logits
    Tensor out, dout;                  // (N, OUT) (32, 1024)  after ReLU and dropout, and its gradient
    MaskTensor keep;                   // (N, OUT) dropout's mask of the last training forward (dense1, dense2)

    template <typename Visit>
    void for_each_buffer(Visit visit) {
        visit(out);
        visit(dout);
        visit(keep);
    }
};

// Backward's signal that a block of parameters has its gradients: `rows`
// rows of `cols` parameters each, `stride` apart, from params[first] (and
// grads[first]). With the fast kernels it is called from the pool's threads
// at once, for blocks that never overlap (a conv layer's weights column block
// by column block, a dense layer's a run of whole rows at a time); with the reference kernels, once per weight and bias tensor
// (one row) after its layer, on the calling thread.
using ParameterBlockDone = std::function<void(int64_t first, int rows, int cols, int64_t stride)>;

// Wall time spent in each part of a step, added up over the passes made while
// Model::timing points at it (bench's per-layer profile).
struct LayerTimes {
    std::array<double, kConvLayers + kDenseLayers> forward{}, backward{};  // conv1..conv5, dense1..dense4
    double loss = 0;  // softmax cross-entropy, forward and backward
};

// Adds the wall time of its own lifetime to *seconds (nothing if null).
class TimeInto {
public:
    explicit TimeInto(double* seconds);
    ~TimeInto();
    TimeInto(const TimeInto&) = delete;
    TimeInto& operator=(const TimeInto&) = delete;

private:
    double* seconds_;
    int64_t start_ns_ = 0;
};

// What a Model allocates.
enum class ModelBuffers {
    Training,   // its own parameters, their gradients, every activation and activation gradient
    Inference,  // activations and their gradients (for input_gradient) but no parameters of its own:
                // it reads weights that someone else owns (use_weights), so many can share one copy
};

struct Model {
    ModelConfig config;
    int max_batch = 0;
    ModelBuffers buffers = ModelBuffers::Training;
    KernelSet kernels = KernelSet::Fast;  // the tuned kernels, or the reference ones (--reference)

    // Parameters: layout.conv[0].weight is conv1.weight, and so on;
    // param_info lists the same tensors in checkpoint order.
    ParameterLayout layout;
    std::vector<ParamInfo> param_info;
    std::vector<float> params;  // all weights and biases back to back (Training models)
    std::vector<float> grads;   // same layout: d loss / d params of the last backward (Training models)

    // Activations for a batch of up to max_batch images.
    std::array<ConvLayer, kConvLayers> conv;
    std::array<DenseLayer, kDenseLayers> dense;
    Tensor probs;                     // (N, classes) softmax of the logits
    Tensor dcol;                      // (C*K*K * N*OH*OW) of the largest conv: scratch for its backward (fast)
    const float* input = nullptr;     // (N, C, S, S) the last forward's input, read by the reference conv1 backward
    Tensor dinput;                    // (N, C, S, S) input_gradient's result (Inference models)

    // Dropout: off when 0. Applied only in training forward passes (train_step
    // sets `training` and the step), never in evaluation or predict. The masks
    // depend on (dropout_seed, dropout_step, layer, value): runs are repeatable.
    float dropout = 0.0f;
    uint64_t dropout_seed = 0;
    int64_t dropout_step = 0;
    bool training = false;

    LayerTimes* timing = nullptr;  // if set, every pass adds its per-layer times to it

    // Plans the buffers that `buffers` asks for from the layer table, then
    // allocates them (unless allocate is false: a plan only, for its shapes
    // and memory_bytes). Throws std::invalid_argument for an image too small
    // for the network, std::runtime_error for a configuration larger than
    // this machine's memory.
    Model(const ModelConfig& config, int max_batch, ModelBuffers buffers = ModelBuffers::Training,
          bool allocate = true);

    // Read the parameters from `weights` (parameter_count() floats, in
    // param_info order) instead of params, which may then stay empty. The
    // caller keeps them alive and unchanged while the model uses them.
    void use_weights(const float* weights) { shared_weights_ = weights; }
    const float* weights() const { return shared_weights_ ? shared_weights_ : params.data(); }

    // Bytes of every buffer the plan holds: parameters, gradients, activations.
    int64_t memory_bytes() const { return planned_bytes_; }

    // A parameter tensor's values, and its gradient (null without gradients):
    // param(layout.conv[0].weight).
    const float* param(const ParamInfo& p) const { return weights() + p.offset; }
    float* grad(const ParamInfo& p) { return grads.empty() ? nullptr : grads.data() + p.offset; }

    int64_t parameter_count() const { return layout.total(); }

    // Glorot-uniform weights (limit sqrt(6 / (fan_in + fan_out))), zero biases.
    void init_weights(uint64_t seed);

    // input (N, C, S, S) -> logits (N, classes) in dense[3].out. Returns it.
    // The layers of the table in order: conv_layer_forward for conv1..conv5,
    // then dense_layer_forward for dense1..dense4.
    const float* forward(const float* input, int batch, ThreadPool& pool);
    // One conv layer (conv, ReLU, LRN and pooling if it has them) on in, its
    // input; returns its result, the next layer's input.
    const float* conv_layer_forward(int i, const float* in, int batch, ThreadPool& pool);
    // One dense layer (ReLU but for the logits, dropout if on) on in; returns its output.
    const float* dense_layer_forward(int i, const float* in, int batch, ThreadPool& pool);
    // After forward: softmax and mean cross-entropy against labels (N).
    double loss(const uint8_t* labels, int batch, int* correct);
    // After forward, without labels (predict): the softmax of the logits,
    // (N, classes) in probs. Returns it.
    const float* probabilities(int batch);
    // After loss: every parameter gradient into grads (assigned, not added).
    // The forward list reversed: loss_backward, dense_layer_backward for
    // dense4..dense1, conv_layer_backward for conv5..conv1. If given,
    // block_done is called for each block of parameters as soon as its
    // gradients are complete and backward will not read those weights again
    // (train_step updates them there, while they are in cache).
    void backward(const uint8_t* labels, int batch, ThreadPool& pool, const ParameterBlockDone& block_done = nullptr);
    void loss_backward(const uint8_t* labels, int batch);
    void dense_layer_backward(int i, int batch, ThreadPool& pool, const ParameterBlockDone& block_done);
    void conv_layer_backward(int i, int batch, ThreadPool& pool, const ParameterBlockDone& block_done);

    // After forward: the gradient of Σ dlogits · logits with respect to the
    // input, (N, C, S, S) in dinput; returns it. With dlogits one-hot on a
    // class, that is how much each input pixel moves that class's logit (the
    // saliency map). The same backward pass, without parameter gradients.
    const float* input_gradient(const float* dlogits, int batch, ThreadPool& pool);

    // Whether dense layer i applies dropout in the current pass, and the seed of its mask.
    bool dropping(int dense_layer) const;
    uint64_t dropout_mask_seed(int dense_layer) const;

private:
    void plan_buffers();
    template <typename Visit>
    void for_each_buffer(Visit visit);
    int64_t planned_bytes_ = 0;
    const float* shared_weights_ = nullptr;
    bool want_input_gradient_ = false;  // conv1's backward writes dinput (input_gradient)
};

// Bytes a Model(config, batch, buffers) allocates: the constructor's own
// plan. (Training adds 2 x 4 bytes per parameter for Adam's moments.)
int64_t model_memory_bytes(const ModelConfig& config, int batch, ModelBuffers buffers = ModelBuffers::Training);
