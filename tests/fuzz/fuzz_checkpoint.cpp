// tests/fuzz/fuzz_checkpoint.cpp — libFuzzer target for the checkpoint
// loader. The input is written to a file and loaded; it must load or throw
// std::runtime_error, never crash or allocate by an unchecked header.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const std::string path = "/tmp/alexnet_fuzz_checkpoint_" + std::to_string(::getpid());
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return 0;
    std::fwrite(data, 1, size, f);
    std::fclose(f);
    try {
        const Checkpoint ck = load_checkpoint(path);
        Model model(ck.config, 1);  // a loaded checkpoint must fit its model
        model.params = ck.params;
    } catch (const std::runtime_error&) {
    }
    return 0;
}
