// tests/fuzz/fuzz_png.cpp — libFuzzer target for the PNG reader (and the
// inflater under it). Any input must either parse or throw
// std::runtime_error; a parsed image then goes through what predict does with
// it: MNIST form, then the preprocessing. The zlib layer is also fed the raw
// input on its own, so that the fuzzer reaches the inflater without first
// having to build valid chunks and CRCs.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/png.h"
#include "data/preprocess.h"
#include "data/zlib.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        zlib_decompress(data, size, 1 << 20);
    } catch (const std::runtime_error&) {
    }
    try {
        const GrayImage image = parse_png(std::string(reinterpret_cast<const char*>(data), size), "fuzz.png");
        if (static_cast<int64_t>(image.width) * image.height <= 1 << 20) {
            float mnist_form[28 * 28];
            to_mnist_form(mnist_form, image.pixels.data(), image.height, image.width);
            std::vector<float> input(39 * 39);
            preprocess_image(input.data(), mnist_form, 28, 28, 39, 1);
        }
    } catch (const std::runtime_error&) {
    }
    return 0;
}
