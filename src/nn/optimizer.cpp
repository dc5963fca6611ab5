// optimizer.cpp — dispatch to Adam or SGD, fast or reference: see optimizer.h.
#include "nn/optimizer.h"

#include "fast/optimizers.h"
#include "fast/thread_pool.h"

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

void optimizer_update_block(float* params, const float* grads, int64_t first, int rows, int cols, int64_t stride,
                            OptimizerState& state, const OptimizerConfig& config, KernelSet kernels) {
    float* p = params + first;
    const float* g = grads + first;
    float* m = state.m.data() + first;
    float* v = state.v.data() + first;
    if (kernels == KernelSet::Fast) {
        if (config.kind == OptimizerKind::Sgd) fast::sgd_update_block(p, m, g, rows, cols, stride, config.sgd);
        else fast::adam_update_block(p, m, v, g, rows, cols, stride, state.step, config.adam);
        return;
    }
    for (int r = 0; r < rows; ++r)
        optimizer_update_range(params, grads, first + r * stride, cols, state, config, kernels, ThreadPool::serial());
}
