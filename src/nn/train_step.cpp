// train_step.cpp — forward, loss, backward, Adam: see train_step.h.
#include "nn/train_step.h"

#include <cmath>

StepResult train_step(Model& model, const float* input, const uint8_t* labels, int n, AdamState& adam,
                      const AdamConfig& config, ThreadPool& pool) {
    StepResult result;
    model.forward(input, n, pool);
    result.loss = model.loss(labels, n, &result.correct);
    if (!std::isfinite(result.loss)) return result;
    model.backward(labels, n, pool);
    ++adam.step;
    adam_update(model.params.data(), adam.m.data(), adam.v.data(), model.grads.data(), model.parameter_count(),
                adam.step, config, pool);
    return result;
}
