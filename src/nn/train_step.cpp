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
        ++state.step;  // the update this step makes, block by block as backward completes them:
        model.backward(labels, n, pool, [&](int64_t first, int rows, int cols, int64_t stride) {
            optimizer_update_block(model.params.data(), model.grads.data(), first, rows, cols, stride, state,
                                   optimizer, model.kernels);
        });
    }
    model.training = false;
    return result;
}
