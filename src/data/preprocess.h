// preprocess.h — the one preprocessing used by train, evaluate and predict:
// grey values in [0, 1] -> bilinear resize to S x S -> replicated to C channels.
//
// Leaves out: mean/std normalisation (the re-created project has none) and
// data augmentation.
#pragma once

#include <cstdint>

class ThreadPool;

// Bilinear resize with half-pixel centres and clamped edges, the same as
// PyTorch's interpolate(mode="bilinear", align_corners=False):
//   src = max((dst + 0.5) * in/out - 0.5, 0), blended between floor(src) and
//   the next pixel (the last pixel repeats at the edge).
// in (in_h, in_w) -> out (out_h, out_w).
void resize_bilinear(float* out, int out_h, int out_w, const float* in, int in_h, int in_w);
// Its adjoint (the gradient): din (in_h, in_w) = each output's dout sent back
// to the input pixels it blended, with the same weights, and summed.
void resize_bilinear_backward(float* din, int in_h, int in_w, const float* dout, int out_h, int out_w);

// gray (h, w), values in [0, 1] -> out (channels, size, size).
// A 28 x 28 image goes straight to size x size, exactly as training data does;
// any other size is first resized to 28 x 28.
void preprocess_image(float* out, const float* gray, int h, int w, int size, int channels);

// Bring a photo or drawing of a digit into MNIST's form, as MNIST itself was
// made: light digit on a dark background (inverted if the border is light),
// cropped to the digit's bounding box, scaled to fit 20 x 20 keeping its
// aspect ratio (area averaging when shrinking), contrast stretched to [0, 1],
// and placed in 28 x 28 with its centre of mass at the centre.
// gray (h, w) in [0, 1] -> out28 (28, 28). A 28 x 28 image with a dark
// background is already in MNIST form and is copied unchanged. An image with
// no ink (nothing stands out from the background by 5% of the grey range)
// has no digit to place: out28 is all background.
enum class MnistForm { AsIs, Placed, Blank };
MnistForm to_mnist_form(float* out28, const float* gray, int h, int w);

// Area-averaging resize (each output pixel is the mean of the input area it
// covers): the right filter for shrinking. in (in_h, in_w) -> out (out_h, out_w).
void resize_area(float* out, int out_h, int out_w, const float* in, int in_h, int in_w);

// MNIST bytes (n, 28, 28) -> out (n, channels, size, size): bytes / 255, then
// (training only) a random shift, scale and rotation if augment, and an
// elastic distortion of strength elastic_alpha if it is above 0, drawn from
// (augment_seed, i) for image i, then preprocess_image. One task per image.
void preprocess_mnist_batch(float* out, const uint8_t* pixels, int n, int size, int channels,
                            ThreadPool& pool, bool augment = false, uint64_t augment_seed = 0,
                            float elastic_alpha = 0.0f);
