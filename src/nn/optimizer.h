// optimizer.h — the optimizer of a run, Adam (the default) or SGD with
// momentum, and what it keeps between updates.
#pragma once

#include <cstdint>
#include <vector>

#include "nn/adam.h"
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

// One update of the n parameters from their gradients; advances state.step.
void optimizer_update(float* params, const float* grads, int64_t n, OptimizerState& state,
                      const OptimizerConfig& config, ThreadPool& pool);

// Part of an update: parameters [first, first + count) only, as update number
// state.step, which the caller has already advanced. train_step updates each
// layer this way as soon as its gradients are complete; every parameter
// still gets exactly the arithmetic of optimizer_update.
void optimizer_update_range(float* params, const float* grads, int64_t first, int64_t count,
                            OptimizerState& state, const OptimizerConfig& config, ThreadPool& pool);
