// augment.h — data augmentation: a small random change of each training
// image, so that the network sees every digit a little differently in every
// epoch. The AlexNet paper cut random 224x224 crops out of 256x256 images and
// flipped them; a flipped digit is no digit, so for MNIST this is a random
// shift (up to 2 pixels each way), scale (0.9 to 1.1) and rotation (up to 10
// degrees) about the image centre. On top of that, or alone, an elastic
// distortion (Simard, Steinkraus and Platt, "Best practices for convolutional
// neural networks applied to visual document analysis", 2003): every pixel is
// displaced by a smooth random field, as a hand wobbles. Only ever applied to
// training batches, never to validation, test or predict images.
//
// Leaves out: colour changes.
#pragma once

#include <cstdint>

#include "data/mnist.h"

struct Augmentation {
    float shift_x = 0, shift_y = 0;  // pixels, in [-2, 2]
    float scale = 1;                 // in [0.9, 1.1]
    float angle = 0;                 // radians, in [-10, 10] degrees
};

// The augmentation drawn for `seed`: the same seed, the same change.
Augmentation random_augmentation(uint64_t seed);

// An elastic distortion: the displacement, in pixels, of the point each
// output pixel samples.
struct Displacement {
    float dx[kMnistPixels];  // (28, 28)
    float dy[kMnistPixels];  // (28, 28)
};

// Simard et al.'s field for `seed`: every component uniform in [-1, 1],
// smoothed by a Gaussian of sigma pixels (zero outside the image), times
// alpha. They used alpha 34 and sigma 4 on 28 x 28 digits: a few pixels of
// smooth wobble. Alpha 0 gives no displacement.
void random_displacement(Displacement* d, uint64_t seed, float alpha, float sigma = 4.0f);

// out (28 x 28) = in (28 x 28) moved by a, after the displacement d (if not
// null): output pixel q samples the input (bilinear) at the point the affine
// transform brings to q + d(q); outside the image is background, 0.
void augment_image(float* out, const float* in, const Augmentation& a, const Displacement* d = nullptr);
