// augment.h — data augmentation: a small random change of each training
// image, so that the network sees every digit a little differently in every
// epoch. The AlexNet paper cut random 224x224 crops out of 256x256 images and
// flipped them; a flipped digit is no digit, so for MNIST this is a random
// shift (up to 2 pixels each way), scale (0.9 to 1.1) and rotation (up to 10
// degrees) about the image centre. Only ever applied to training batches,
// never to validation, test or predict images.
//
// Leaves out: elastic distortions, colour changes.
#pragma once

#include <cstdint>

struct Augmentation {
    float shift_x = 0, shift_y = 0;  // pixels, in [-2, 2]
    float scale = 1;                 // in [0.9, 1.1]
    float angle = 0;                 // radians, in [-10, 10] degrees
};

// The augmentation drawn for `seed`: the same seed, the same change.
Augmentation random_augmentation(uint64_t seed);

// out (28 x 28) = in (28 x 28) moved by a: each output pixel samples the
// input (bilinear) at the point the transform brings to it; outside the
// image is background, 0.
void augment_image(float* out, const float* in, const Augmentation& a);
