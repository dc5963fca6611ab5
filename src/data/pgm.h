// pgm.h — reading and writing PGM (portable grey map) images.
//
// Reads P2 (ASCII) and P5 (binary) with comments anywhere in the header and
// maxval 1..65535 (two big-endian bytes per pixel in P5 when maxval > 255).
// Writes 8-bit P5. Leaves out: PBM/PPM, several images in one file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

struct GrayImage {
    int width = 0, height = 0;
    std::vector<float> pixels;  // (height, width), value / maxval in [0, 1]
};

// Largest side accepted, so a header cannot make us allocate gigabytes.
constexpr int kMaxPgmSide = 16384;

// Throws std::runtime_error("<path>: <problem>") on any malformed file
// (defined in image.cpp, which reads image files).
GrayImage read_pgm(const std::string& path);
// Parses PGM bytes; name is used in messages only.
GrayImage parse_pgm(const std::string& bytes, const std::string& name);

// pixels (height, width) bytes -> binary P5 file. Throws on I/O errors.
void write_pgm(const std::string& path, const uint8_t* pixels, int width, int height);
