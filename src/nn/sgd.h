// sgd.h — stochastic gradient descent with momentum, the AlexNet paper's
// optimizer, as PyTorch's torch.optim.SGD writes it (dampening 0, no Nesterov).
#pragma once

#include <cstdint>

class ThreadPool;

struct SgdConfig {
    double lr = 0.01;           // learning rate
    double momentum = 0.9;      // how much of the last step carries over
    double weight_decay = 0.0;  // each update first shrinks w by the factor 1 - lr * weight_decay
};

// One update of n parameters, velocity (n floats) kept between updates:
//   velocity = momentum * velocity + g
//   w        = w * (1 - lr * weight_decay) - lr * velocity
void sgd_update(float* params, float* velocity, const float* grads, int64_t n, const SgdConfig& config,
                ThreadPool& pool);
