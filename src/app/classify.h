// classify.h — the one path from a decoded image to the network's answer,
// shared by predict, visualize and serve: the image brought to MNIST's form,
// then exactly the preprocessing of the training data, forward and softmax.
#pragma once

#include "data/pgm.h"  // GrayImage
#include "nn/model.h"

class ThreadPool;

// Writes the 28x28 image the network sees to mnist_form (to_mnist_form, or
// with plain_resize only a bilinear resize to 28x28), runs model on it and
// returns its probabilities (model.probs, `classes` floats). The model's
// activations then hold this image's (batch of one).
const float* classify_image(Model& model, const GrayImage& image, bool plain_resize, float* mnist_form,
                            ThreadPool& pool);

// The most likely class: the first of ties, as PyTorch's argmax.
int most_likely(const float* probabilities, int classes);

// The fields of predict --json and of serve's /api/predict, without braces:
//   "file": "seven.png", "digit": 7, "probabilities": [...]
// (9 significant digits), so that the two print the same JSON.
std::string prediction_json_fields(const std::string& file, const float* probabilities, int classes);
