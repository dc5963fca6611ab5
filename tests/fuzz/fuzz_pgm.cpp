// tests/fuzz/fuzz_pgm.cpp — libFuzzer target for the PGM parser. Any input
// must either parse or throw std::runtime_error; a parsed image then goes
// through what predict does with it: MNIST form, then the preprocessing.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/pgm.h"
#include "data/preprocess.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        const GrayImage image = parse_pgm(std::string(reinterpret_cast<const char*>(data), size), "fuzz.pgm");
        if (static_cast<int64_t>(image.width) * image.height <= 1 << 20) {
            float mnist_form[28 * 28];
            to_mnist_form(mnist_form, image.pixels.data(), image.height, image.width);
            std::vector<float> input(3 * 39 * 39);
            preprocess_image(input.data(), mnist_form, 28, 28, 39, 3);
            preprocess_image(input.data(), image.pixels.data(), image.height, image.width, 39, 3);
        }
    } catch (const std::runtime_error&) {
    }
    return 0;
}
