// train_step.cpp — forward, loss, backward, Adam: see train_step.h.
#include "nn/train_step.h"

#include <cmath>

StepResult train_step(Model& model, const float* input, const uint8_t* labels, int n, AdamState& adam,
                      const AdamConfig& config, ThreadPool& pool) {
    StepResult result;
    model.training = true;  // dropout, if on, with this step's masks
    model.dropout_step = adam.step + 1;
    model.forward(input, n, pool);
    result.loss = model.loss(labels, n, &result.correct);
    if (std::isfinite(result.loss)) model.backward(labels, n, pool);
    model.training = false;
    if (!std::isfinite(result.loss)) return result;
    ++adam.step;
    adam_update(model.params.data(), adam.m.data(), adam.v.data(), model.grads.data(), model.parameter_count(),
                adam.step, config, pool);
    return result;
}
