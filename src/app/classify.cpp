// classify.cpp — see classify.h.
#include "app/classify.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "data/mnist.h"
#include "data/preprocess.h"
#include "web/http.h"  // json_string

Classification classify_image(Model& model, const GrayImage& image, bool plain_resize, float* mnist_form,
                              ThreadPool& pool) {
    // Any drawing to MNIST's form (28 x 28, light on dark, centred), then
    // exactly the preprocessing of the training data.
    Classification result;
    if (plain_resize) {
        resize_bilinear(mnist_form, kMnistSide, kMnistSide, image.pixels.data(), image.height, image.width);
        const auto [darkest, brightest] = std::minmax_element(mnist_form, mnist_form + kMnistPixels);
        result.blank = *brightest - *darkest < 0.05f;
    } else {
        result.blank = to_mnist_form(mnist_form, image.pixels.data(), image.height, image.width) == MnistForm::Blank;
    }
    const ModelConfig& c = model.config;
    Tensor input({1, c.channels, c.image_size, c.image_size});
    preprocess_image(input.ptr(), mnist_form, kMnistSide, kMnistSide, c.image_size, c.channels);
    model.forward(input.ptr(), 1, pool);
    result.probabilities = model.probabilities(1);
    result.digit = most_likely(result.probabilities, c.classes);
    return result;
}

void saliency_map(float* out28, Model& model, int digit, ThreadPool& pool) {
    const ModelConfig& c = model.config;
    // d logit[digit]: a one-hot gradient on the logits, back to the input (1, C, S, S).
    std::vector<float> dlogits(c.classes, 0.0f);
    dlogits[digit] = 1.0f;
    const float* dinput = model.input_gradient(dlogits.data(), 1, pool);
    // The input is the 28x28 image resized to S x S and copied to C
    // channels: the gradient goes back through both.
    const int S = c.image_size;
    std::vector<float> summed(static_cast<size_t>(S) * S, 0.0f);
    for (int ch = 0; ch < c.channels; ++ch)
        for (int i = 0; i < S * S; ++i) summed[i] += dinput[static_cast<int64_t>(ch) * S * S + i];
    resize_bilinear_backward(out28, kMnistSide, kMnistSide, summed.data(), S, S);
    float largest = 0.0f;
    for (int i = 0; i < kMnistPixels; ++i) largest = std::max(largest, out28[i] = std::fabs(out28[i]));
    for (int i = 0; i < kMnistPixels; ++i) out28[i] = largest > 0.0f ? out28[i] / largest : 0.0f;
}

std::vector<uint8_t> saliency_picture(const float* mnist_form, const float* saliency, int scale) {
    const int side = kMnistSide * scale;
    std::vector<uint8_t> rgb(static_cast<size_t>(side) * side * 3);
    for (int y = 0; y < side; ++y)
        for (int x = 0; x < side; ++x) {
            const int p = (y / scale) * kMnistSide + x / scale;
            // The image dimmed to grey, the map blended in: red, then yellow where it is strongest.
            const float grey = 0.5f * std::min(1.0f, std::max(0.0f, mnist_form[p])), s = saliency[p];
            const float r = grey + (1.0f - grey) * s, g = grey * (1.0f - s) + s * std::max(0.0f, 2 * s - 1),
                        b = grey * (1.0f - s);
            uint8_t* px = &rgb[(static_cast<size_t>(y) * side + x) * 3];
            px[0] = static_cast<uint8_t>(std::lround(255 * r));
            px[1] = static_cast<uint8_t>(std::lround(255 * g));
            px[2] = static_cast<uint8_t>(std::lround(255 * b));
        }
    return rgb;
}

int most_likely(const float* p, int classes) {
    int best = 0;
    for (int k = 1; k < classes; ++k)
        if (p[k] > p[best]) best = k;
    return best;
}

std::string prediction_json_fields(const std::string& file, const Classification& result, int classes) {
    std::string fields = "\"file\": " + json_string(file) + ", \"digit\": " + std::to_string(result.digit) +
                         ", \"probabilities\": [";
    char number[32];
    for (int k = 0; k < classes; ++k) {
        std::snprintf(number, sizeof number, "%s%.9g", k ? ", " : "", static_cast<double>(result.probabilities[k]));
        fields += number;
    }
    return fields + "], \"blank\": " + (result.blank ? "true" : "false");
}
