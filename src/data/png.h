// png.h — reading and writing PNG images (ISO/IEC 15948, the W3C PNG spec).
//
// Reads every standard colour type — grey, grey + alpha, RGB, RGBA and
// palette — at every bit depth (1, 2, 4, 8 and 16), plain or
// Adam7-interlaced, with tRNS transparency. The network wants grey, so each
// pixel becomes its luma (0.299 R + 0.587 G + 0.114 B, as PIL's convert("L"))
// composited onto white by its alpha. Every chunk's CRC is checked, and the
// size the header claims is refused before anything is allocated if it is
// over the limits or larger than the compressed data could possibly hold.
// Writes 8-bit grey or RGB, uncompressed (stored) zlib.
//
// Leaves out: colour management (gAMA, iCCP, sRGB, cHRM are skipped),
// APNG animation (only the default image is read), text chunks.
#pragma once

#include <cstdint>
#include <string>

#include "data/pgm.h"  // GrayImage

// Limits on the image a header may claim.
constexpr int kMaxPngSide = 16384;
constexpr int64_t kMaxPngPixels = int64_t{1} << 26;  // 64 Mpixels, e.g. 8192 x 8192

// True if bytes start with the PNG signature.
bool is_png(const std::string& bytes);

// Parses PNG bytes into grey in [0, 1]; name is used in messages only.
// Throws std::runtime_error("<name>: <problem>") on any malformed file.
// max_pixels may lower the size limit (a server's uploads).
GrayImage parse_png(const std::string& bytes, const std::string& name, int64_t max_pixels = kMaxPngPixels);

// pixels (height, width, channels) bytes, channels 1 (grey) or 3 (RGB) ->
// the bytes of a PNG file.
std::string encode_png(const uint8_t* pixels, int width, int height, int channels);
// The same, written to path. Throws std::runtime_error on I/O errors.
void write_png(const std::string& path, const uint8_t* pixels, int width, int height, int channels);
