// adam.cpp — Adam, the reference version: one pass over weights, gradients
// and both moments, written as the paper's algorithm 1 reads. The
// arithmetic is in double (the hyperparameters are doubles), the state is
// stored in float.
#include "nn/adam.h"

#include <cmath>

namespace reference {

void adam_update(float* params, float* m, float* v, const float* grads, int64_t n, int64_t step,
                 const AdamConfig& c) {
    // m and v start at zero, so after t steps they underestimate the moments
    // by the factors 1 − β^t: the bias corrections.
    const double correction1 = 1.0 - std::pow(c.beta1, static_cast<double>(step));
    const double correction2 = 1.0 - std::pow(c.beta2, static_cast<double>(step));
    for (int64_t i = 0; i < n; ++i) {
        const double g = grads[i];
        m[i] = static_cast<float>(c.beta1 * m[i] + (1.0 - c.beta1) * g);      // running mean of gradients
        v[i] = static_cast<float>(c.beta2 * v[i] + (1.0 - c.beta2) * g * g);  // running mean of squared gradients
        const double m_hat = m[i] / correction1;
        const double v_hat = v[i] / correction2;
        // ε outside the square root; the decoupled weight decay (AdamW) pulls
        // w towards 0 apart from the gradient's step.
        params[i] = static_cast<float>(params[i] - c.lr * (m_hat / (std::sqrt(v_hat) + c.eps) + c.weight_decay * params[i]));
    }
}

}  // namespace reference
