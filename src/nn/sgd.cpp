// sgd.cpp — SGD with momentum, the reference version: one pass over weights,
// gradients and velocity (arithmetic in double, state in float).
#include "nn/sgd.h"

namespace reference {

void sgd_update(float* params, float* velocity, const float* grads, int64_t n, const SgdConfig& c) {
    for (int64_t i = 0; i < n; ++i) {
        velocity[i] = static_cast<float>(c.momentum * velocity[i] + grads[i]);  // a running sum of past gradients
        params[i] = static_cast<float>(params[i] - c.lr * (velocity[i] + c.weight_decay * params[i]));
    }
}

}  // namespace reference
