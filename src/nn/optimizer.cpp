// optimizer.cpp — dispatch to Adam or SGD: see optimizer.h.
#include "nn/optimizer.h"

void optimizer_update(float* params, const float* grads, int64_t n, OptimizerState& state,
                      const OptimizerConfig& config, ThreadPool& pool) {
    ++state.step;
    if (config.kind == OptimizerKind::Sgd)
        sgd_update(params, state.m.data(), grads, n, config.sgd, pool);
    else
        adam_update(params, state.m.data(), state.v.data(), grads, n, state.step, config.adam, pool);
}
