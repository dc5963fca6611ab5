// train_step.cpp — forward, loss, backward, Adam: see train_step.h.
#include "nn/train_step.h"

#include <cmath>

StepResult train_step(Model& model, const float* input, const uint8_t* labels, int n, OptimizerState& state,
                      const OptimizerConfig& optimizer, ThreadPool& pool) {
    StepResult result;
    model.training = true;  // dropout, if on, with this step's masks
    model.dropout_step = state.step + 1;
    model.forward(input, n, pool);
    result.loss = model.loss(labels, n, &result.correct);
    if (std::isfinite(result.loss)) {
        ++state.step;  // the update this step makes, layer by layer:
        model.backward(labels, n, pool,
                       [&](const LayerParameters& layer) { update_layer(model, layer, state, optimizer, pool); });
    }
    model.training = false;
    return result;
}

void update_layer(Model& model, const LayerParameters& layer, OptimizerState& state,
                  const OptimizerConfig& optimizer, ThreadPool& pool) {
    const TimeInto time(model.timing ? &model.timing->update : nullptr);
    for (const ParamInfo& p : {layer.weight, layer.bias})
        optimizer_update_range(model.params.data(), model.grads.data(), p.offset, p.size, state, optimizer,
                               model.kernels, pool);
}
