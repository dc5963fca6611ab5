// classify.cpp — see classify.h.
#include "app/classify.h"

#include "data/mnist.h"
#include "data/preprocess.h"

const float* classify_image(Model& model, const GrayImage& image, bool plain_resize, float* mnist_form,
                            ThreadPool& pool) {
    // Any drawing to MNIST's form (28 x 28, light on dark, centred), then
    // exactly the preprocessing of the training data.
    if (plain_resize) resize_bilinear(mnist_form, kMnistSide, kMnistSide, image.pixels.data(), image.height, image.width);
    else to_mnist_form(mnist_form, image.pixels.data(), image.height, image.width);
    const ModelConfig& c = model.config;
    Tensor input({1, c.channels, c.image_size, c.image_size});
    preprocess_image(input.ptr(), mnist_form, kMnistSide, kMnistSide, c.image_size, c.channels);
    model.forward(input.ptr(), 1, pool);
    return model.probabilities(1);
}
