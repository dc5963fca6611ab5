// optimizer.cpp — dispatch to Adam or SGD: see optimizer.h.
#include "nn/optimizer.h"

void optimizer_update_range(float* params, const float* grads, int64_t first, int64_t count,
                            OptimizerState& state, const OptimizerConfig& config, ThreadPool& pool) {
    float* p = params + first;
    const float* g = grads + first;
    if (config.kind == OptimizerKind::Sgd)
        sgd_update(p, state.m.data() + first, g, count, config.sgd, pool);
    else
        adam_update(p, state.m.data() + first, state.v.data() + first, g, count, state.step, config.adam, pool);
}
