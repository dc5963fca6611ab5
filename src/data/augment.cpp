// augment.cpp — random shifts, scales, rotations and elastic distortions of
// 28 x 28 digits.
#include "data/augment.h"

#include <algorithm>
#include <cmath>
#include <vector>

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

namespace {

// field (28 x 28) = field convolved with kernel (2r+1 taps) along rows, then
// along columns; the image is zero outside.
void smooth(float* field, const std::vector<float>& kernel) {
    const int r = static_cast<int>(kernel.size() / 2);
    float rows[kMnistPixels];
    for (int y = 0; y < kMnistSide; ++y)
        for (int x = 0; x < kMnistSide; ++x) {
            float sum = 0.0f;  // over the taps that land inside the image
            for (int t = std::max(-r, -x); t <= std::min(r, kMnistSide - 1 - x); ++t)
                sum += kernel[t + r] * field[y * kMnistSide + x + t];
            rows[y * kMnistSide + x] = sum;
        }
    for (int y = 0; y < kMnistSide; ++y)
        for (int x = 0; x < kMnistSide; ++x) {
            float sum = 0.0f;
            for (int t = std::max(-r, -y); t <= std::min(r, kMnistSide - 1 - y); ++t)
                sum += kernel[t + r] * rows[(y + t) * kMnistSide + x];
            field[y * kMnistSide + x] = sum;
        }
}

}  // namespace

void random_displacement(Displacement* d, uint64_t seed, float alpha, float sigma) {
    // The Gaussian's taps out to 3 sigma, summing to 1 (computed in double and
    // rounded once, so every libm gives the same bits).
    const int r = static_cast<int>(std::ceil(3.0f * sigma));
    std::vector<double> taps(2 * r + 1);
    double total = 0.0;
    for (int t = -r; t <= r; ++t) total += taps[t + r] = std::exp(-0.5 * t * t / (static_cast<double>(sigma) * sigma));
    std::vector<float> kernel(taps.size());
    for (size_t i = 0; i < taps.size(); ++i) kernel[i] = static_cast<float>(taps[i] / total);
    Rng rng(seed);
    for (float& v : d->dx) v = rng.uniform(-1.0f, 1.0f);
    for (float& v : d->dy) v = rng.uniform(-1.0f, 1.0f);
    smooth(d->dx, kernel);
    smooth(d->dy, kernel);
    for (int i = 0; i < kMnistPixels; ++i) {
        d->dx[i] *= alpha;
        d->dy[i] *= alpha;
    }
}

void augment_image(float* out, const float* in, const Augmentation& a, const Displacement* d) {
    // Forward: a point p of the input goes to c + t + scale * R(angle) (p - c),
    // c the centre, t the shift. Each output pixel centre q takes the input at
    //   p = c + R(-angle) (q + d(q) - c - t) / scale.
    const float c = kMnistSide / 2.0f;
    // cos and sin in double, rounded once to float: the same bits from every libm.
    const float cos_a = static_cast<float>(std::cos(static_cast<double>(a.angle)));
    const float sin_a = static_cast<float>(std::sin(static_cast<double>(a.angle)));
    for (int y = 0; y < kMnistSide; ++y)
        for (int x = 0; x < kMnistSide; ++x) {
            const float wobble_x = d ? d->dx[y * kMnistSide + x] : 0.0f;
            const float wobble_y = d ? d->dy[y * kMnistSide + x] : 0.0f;
            const float qx = x + wobble_x + 0.5f - c - a.shift_x, qy = y + wobble_y + 0.5f - c - a.shift_y;
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
