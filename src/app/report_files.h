// report_files.h — small helpers shared by the report files (summary.cpp,
// history.cpp, pictures.cpp): numbers with thousands separators, output files
// that report their errors, and floats scaled to grey bytes.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>

namespace report {

inline std::string with_commas(int64_t n) {
    std::string digits = std::to_string(n < 0 ? -n : n), out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return (n < 0 ? "-" : "") + out;
}

inline double mib(int64_t bytes) { return bytes / 1048576.0; }

inline std::ofstream open_for_writing(const std::string& path) {
    std::ofstream out(path, std::ios::binary);
    if (!out) throw std::runtime_error(path + ": cannot create");
    return out;
}

inline void finish(std::ofstream& out, const std::string& path) {
    out.close();
    if (!out) throw std::runtime_error(path + ": write failed");
}

// Scales x[0, n) linearly so that its minimum maps to 0 and its maximum to 255.
inline void to_grey_bytes(uint8_t* dst, const float* x, int64_t n, int64_t stride = 1) {
    float lo = std::numeric_limits<float>::max(), hi = std::numeric_limits<float>::lowest();
    for (int64_t i = 0; i < n; ++i) {
        lo = std::min(lo, x[i * stride]);
        hi = std::max(hi, x[i * stride]);
    }
    const float range = hi > lo ? hi - lo : 1.0f;
    for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<uint8_t>(std::lround(255.0f * (x[i * stride] - lo) / range));
}

}  // namespace report
