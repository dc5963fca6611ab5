// tests/fuzz/fuzz_input_file.h — the readers under test open files, so each
// fuzz input is first written to a file of this process's own.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

// Writes data to /tmp/alexnet_fuzz_<name>_<pid> and returns the path, or ""
// if the file cannot be written.
inline std::string write_fuzz_input(const char* name, const uint8_t* data, size_t size) {
    const std::string path = "/tmp/alexnet_fuzz_" + std::string(name) + "_" + std::to_string(::getpid());
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return "";
    const bool written = std::fwrite(data, 1, size, f) == size;
    return std::fclose(f) == 0 && written ? path : "";
}
