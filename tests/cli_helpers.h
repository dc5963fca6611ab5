// tests/cli_helpers.h — running ./alexnet as a child process: its exit code
// and output, and a small synthetic MNIST for quick training runs.
#pragma once

#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdlib>
#include <string>

#include "helpers.h"

inline std::string alexnet_binary() {
    const char* from_make = std::getenv("ALEXNET_BIN");
    return from_make ? from_make : "./alexnet";
}

struct RunResult {
    int exit_code;
    std::string out, err;
};

inline RunResult run_alexnet(const std::string& args) {
    const std::string out = temp_path("out"), err = temp_path("err");
    const std::string command = alexnet_binary() + " " + args + " > " + out + " 2> " + err + " < /dev/null";
    const int status = std::system(command.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(out), read_file(err)};
}

inline std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// A small MNIST stand-in: 256 training and 64 test images of synthetic digits.
inline const std::string& small_data_dir() {
    static const std::string dir = [] {
        const std::string d = temp_path("small_mnist");
        ::mkdir(d.c_str(), 0755);
        write_synthetic_idx(d, "train", 256, 1);
        write_synthetic_idx(d, "t10k", 64, 2);
        return d;
    }();
    return dir;
}

// A tiny, fast configuration: 192 training images (val split 0.25), batch 16,
// so 12 steps per epoch.
inline std::string small_training(const std::string& model) {
    return "train --data " + small_data_dir() + " --model " + model +
           " --filters 1 --image-size 39 --batch-size 16 --val-split 0.25 --threads 2";
}

