// optimizer.cpp — dispatch to Adam or SGD, fast or reference: see optimizer.h.
#include "nn/optimizer.h"

#include "fast/optimizers.h"

void optimizer_update_range(float* params, const float* grads, int64_t first, int64_t count,
                            OptimizerState& state, const OptimizerConfig& config, KernelSet kernels,
                            ThreadPool& pool) {
    float* p = params + first;
    const float* g = grads + first;
    float* m = state.m.data() + first;
    float* v = state.v.data() + first;
    const bool fast = kernels == KernelSet::Fast;
    if (config.kind == OptimizerKind::Sgd) {
        if (fast) fast::sgd_update(p, m, g, count, config.sgd, pool);
        else reference::sgd_update(p, m, g, count, config.sgd);
    } else {
        if (fast) fast::adam_update(p, m, v, g, count, state.step, config.adam, pool);
        else reference::adam_update(p, m, v, g, count, state.step, config.adam);
    }
}
