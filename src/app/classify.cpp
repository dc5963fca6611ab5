// classify.cpp — see classify.h.
#include "app/classify.h"

#include <cstdio>
#include <string>

#include "data/mnist.h"
#include "data/preprocess.h"
#include "web/http.h"  // json_string

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

int most_likely(const float* p, int classes) {
    int best = 0;
    for (int k = 1; k < classes; ++k)
        if (p[k] > p[best]) best = k;
    return best;
}

std::string prediction_json_fields(const std::string& file, const float* p, int classes) {
    std::string fields = "\"file\": " + json_string(file) + ", \"digit\": " +
                         std::to_string(most_likely(p, classes)) + ", \"probabilities\": [";
    char number[32];
    for (int k = 0; k < classes; ++k) {
        std::snprintf(number, sizeof number, "%s%.9g", k ? ", " : "", static_cast<double>(p[k]));
        fields += number;
    }
    return fields + "]";
}
