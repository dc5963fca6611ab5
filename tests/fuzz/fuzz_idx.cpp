// tests/fuzz/fuzz_idx.cpp — libFuzzer target for the IDX reader. The input
// is written to a file (the reader works on files) and opened both as images
// and as labels; a valid file then has its first and last items read.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/mnist.h"
#include "fuzz_input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = write_fuzz_input("idx", data, size);
    if (path.empty()) return 0;
    for (IdxFile::Kind kind : {IdxFile::Kind::Images, IdxFile::Kind::Labels}) {
        try {
            IdxFile file(path, kind);
            const uint32_t indices[2] = {0, file.count() - 1};
            std::vector<uint8_t> out(2 * kMnistPixels);
            if (kind == IdxFile::Kind::Images) file.read_images(out.data(), indices, 2);
            else file.read_labels(out.data(), indices, 2);
        } catch (const std::runtime_error&) {
        }
    }
    return 0;
}
