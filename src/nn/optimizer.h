// optimizer.h — the optimizer of a run, Adam (the default) or SGD with
// momentum, and what it keeps between updates.
#pragma once

#include <cstdint>
#include <vector>

#include "nn/adam.h"
#include "nn/layers.h"  // KernelSet
#include "nn/sgd.h"

class ThreadPool;

enum class OptimizerKind { Adam, Sgd };

struct OptimizerConfig {
    OptimizerKind kind = OptimizerKind::Adam;
    AdamConfig adam;  // when kind is Adam
    SgdConfig sgd;    // when kind is Sgd
    double lr() const { return kind == OptimizerKind::Adam ? adam.lr : sgd.lr; }
    void set_lr(double lr) { (kind == OptimizerKind::Adam ? adam.lr : sgd.lr) = lr; }
};

// What the optimizer remembers between updates, per parameter, and how many
// updates it has made (Adam's t, which sets its bias correction).
struct OptimizerState {
    std::vector<float> m;  // (parameter_count) Adam: running mean of the gradients; SGD: the velocity
    std::vector<float> v;  // (parameter_count) Adam: running mean of their squares; SGD: unused
    int64_t step = 0;      // updates made so far; the next one is step + 1
    explicit OptimizerState(int64_t parameters = 0) : m(parameters, 0.0f), v(parameters, 0.0f) {}
};

// Update number state.step (the caller advances it once per step) of the
// parameters [first, first + count) from their gradients, with the fast or
// the reference kernels. train_step updates each layer this way as soon as
// its gradients are complete; the arithmetic of each parameter does not
// depend on the range it is updated in.
void optimizer_update_range(float* params, const float* grads, int64_t first, int64_t count,
                            OptimizerState& state, const OptimizerConfig& config, KernelSet kernels,
                            ThreadPool& pool);

// The same on the calling thread for a block of `rows` rows of `cols`
// parameters, `stride` apart, starting at `first` (a block of columns of a
// weight matrix, or a run of whole rows as one row). Blocks that do not overlap may be updated at once from
// different threads.
void optimizer_update_block(float* params, const float* grads, int64_t first, int rows, int cols, int64_t stride,
                            OptimizerState& state, const OptimizerConfig& config, KernelSet kernels);
