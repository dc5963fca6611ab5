// tests/fuzz/fuzz_checkpoint.cpp — libFuzzer target for the checkpoint
// loader. The input is written to a file and loaded; it must load or throw
// std::runtime_error, never crash or allocate by an unchecked header.
#include <cstdint>
#include <stdexcept>
#include <string>

#include "app/checkpoint.h"
#include "fuzz_input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = write_fuzz_input("checkpoint", data, size);
    if (path.empty()) return 0;
    try {
        const Checkpoint ck = load_checkpoint(path);
        Model model(ck.config, 1);  // a loaded checkpoint must fit its model
        model.params = ck.params;
    } catch (const std::runtime_error&) {
    }
    return 0;
}
