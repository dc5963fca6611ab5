// augment.cpp — random shifts, scales and rotations of 28 x 28 digits.
#include "data/augment.h"

#include <cmath>

#include "data/mnist.h"
#include "nn/rng.h"

Augmentation random_augmentation(uint64_t seed) {
    Rng rng(seed);
    Augmentation a;
    a.shift_x = rng.uniform(-2.0f, 2.0f);
    a.shift_y = rng.uniform(-2.0f, 2.0f);
    a.scale = rng.uniform(0.9f, 1.1f);
    a.angle = rng.uniform(-1.0f, 1.0f) * static_cast<float>(10.0 * 3.14159265358979323846 / 180.0);
    return a;
}

void augment_image(float* out, const float* in, const Augmentation& a) {
    // Forward: a point p of the input goes to c + t + scale * R(angle) (p - c),
    // c the centre, t the shift. Each output pixel centre q takes the input at
    //   p = c + R(-angle) (q - c - t) / scale.
    const float c = kMnistSide / 2.0f;
    // cos and sin in double, rounded once to float: the same bits from every libm.
    const float cos_a = static_cast<float>(std::cos(static_cast<double>(a.angle)));
    const float sin_a = static_cast<float>(std::sin(static_cast<double>(a.angle)));
    for (int y = 0; y < kMnistSide; ++y)
        for (int x = 0; x < kMnistSide; ++x) {
            const float qx = x + 0.5f - c - a.shift_x, qy = y + 0.5f - c - a.shift_y;
            // (px, py): the source point in pixel-index coordinates (centres at integers)
            const float px = c + (cos_a * qx + sin_a * qy) / a.scale - 0.5f;
            const float py = c + (-sin_a * qx + cos_a * qy) / a.scale - 0.5f;
            const int x0 = static_cast<int>(std::floor(px)), y0 = static_cast<int>(std::floor(py));
            const float fx = px - x0, fy = py - y0;
            auto at = [&](int yy, int xx) {  // 0 outside the image
                return yy >= 0 && yy < kMnistSide && xx >= 0 && xx < kMnistSide ? in[yy * kMnistSide + xx] : 0.0f;
            };
            out[y * kMnistSide + x] = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) +
                                      fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
        }
}
