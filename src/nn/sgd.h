// sgd.h — stochastic gradient descent with momentum, the optimizer of the
// AlexNet paper, in the form PyTorch's torch.optim.SGD writes it (dampening 0,
// no Nesterov): the reference version. Fast twin: fast/optimizers.h.
#pragma once

#include <cstdint>

struct SgdConfig {
    double lr = 0.01;           // learning rate
    double momentum = 0.9;      // how much of the last step carries over
    double weight_decay = 0.0;  // decoupled: each update also shrinks w by lr * weight_decay * w
};

namespace reference {

// One update of n parameters, velocity (n floats) kept between updates:
//   velocity = momentum · velocity + g
//   w        = w − lr · (velocity + weight_decay · w)
void sgd_update(float* params, float* velocity, const float* grads, int64_t n, const SgdConfig& config);

}  // namespace reference
