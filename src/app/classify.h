// classify.h — the one path from a decoded image to the network's answer,
// shared by predict, visualize and serve: the image brought to MNIST's form,
// then exactly the preprocessing of the training data, forward and softmax;
// and, after it, where the network looked (the saliency map).
#pragma once

#include <string>

#include "data/pgm.h"  // GrayImage
#include "nn/model.h"

class ThreadPool;

struct Classification {
    const float* probabilities = nullptr;  // model.probs: `classes` floats
    int digit = 0;                         // the most likely class (the first of ties)
    bool blank = false;                    // no ink in the image: the digit means nothing
};

// Writes the 28x28 image the network sees to mnist_form (to_mnist_form, or
// with plain_resize only a bilinear resize to 28x28), runs model on it and
// returns its answer. The model's activations then hold this image's (batch
// of one), for saliency_map and the page's pictures of every layer.
Classification classify_image(Model& model, const GrayImage& image, bool plain_resize, float* mnist_form,
                              ThreadPool& pool);

// After classify_image, on a ModelBuffers::Inference model: how much each
// pixel of the 28x28 image the network saw moves the logit of `digit`,
// |∂ logit / ∂ pixel| (through the resize to the network's input and every
// layer), scaled so that the largest is 1. out28 (28, 28). All zero for a
// blank image, whose logits no pixel moves.
void saliency_map(float* out28, Model& model, int digit, ThreadPool& pool);

// The saliency map over the image: the 28x28 image in grey, the map in red
// to yellow on top, each pixel enlarged `scale` times, as RGB bytes
// (28*scale, 28*scale, 3).
std::vector<uint8_t> saliency_picture(const float* mnist_form, const float* saliency, int scale);

// The most likely class: the first of ties, as PyTorch's argmax.
int most_likely(const float* probabilities, int classes);

// The fields of predict --json and of serve's /api/predict, without braces:
//   "file": "seven.png", "digit": 7, "probabilities": [...], "blank": false
// (9 significant digits), so that the two print the same JSON.
std::string prediction_json_fields(const std::string& file, const Classification& result, int classes);
