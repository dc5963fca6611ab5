// adam.h — the Adam optimizer (Kingma & Ba, 2015), the reference version:
// one commented loop, as the paper writes it. The fast twin
// (fast/optimizers.h) folds the bias corrections into two scalars and runs in
// parallel chunks. Leaves out: AMSGrad. Learning-rate schedules: schedule.h.
#pragma once

#include <cstdint>

// Hyperparameters in double, like the Python floats of other frameworks: each
// float constant of the update (beta, 1 - beta, ...) is then rounded once.
struct AdamConfig {
    double lr = 1e-4;     // learning rate
    double beta1 = 0.9;   // decay of the first moment (mean of gradients)
    double beta2 = 0.999; // decay of the second moment (mean of squared gradients)
    double eps = 1e-7;    // added to sqrt(v̂), outside the square root
    double weight_decay = 0.0;  // decoupled (AdamW): each update also shrinks w by lr * weight_decay * w
};

namespace reference {

// One update of n parameters. step is 1 for the first update (it sets the
// bias correction). params, m and v (n floats each) are updated in place;
// grads (n floats) is read.
void adam_update(float* params, float* m, float* v, const float* grads, int64_t n, int64_t step,
                 const AdamConfig& config);

}  // namespace reference
