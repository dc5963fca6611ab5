// errors.h — how every reader reports a bad file: a std::runtime_error whose
// message is "<path>: <problem>", printed by main as one line (exit code 1).
#pragma once

#include <stdexcept>
#include <string>

[[noreturn]] inline void fail(const std::string& path, const std::string& problem) {
    throw std::runtime_error(path + ": " + problem);
}
