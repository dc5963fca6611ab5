// image.h — the image files predict reads and the pictures the program
// writes: PNG (data/png.h) or PGM (data/pgm.h), told apart by their first
// bytes when reading and chosen by the caller when writing.
#pragma once

#include <cstdint>
#include <string>

#include "data/pgm.h"  // GrayImage

enum class ImageFormat { Png, Pgm };

// Reads a PNG or PGM file (whichever its first bytes say) as grey in [0, 1].
// Throws std::runtime_error("<path>: <problem>").
GrayImage read_image(const std::string& path);
// The same for bytes already in memory (an upload); name is for messages.
// A PNG of more than max_pixels is refused before it is decoded.
GrayImage parse_image(const std::string& bytes, const std::string& name, int64_t max_pixels = int64_t{1} << 26);

// pixels (height, width, channels) bytes, channels 1 (grey) or 3 (RGB), as
// PNG, or as PGM (grey) / PPM (RGB). Throws std::runtime_error on I/O errors.
void write_image(const std::string& path, const uint8_t* pixels, int width, int height, int channels,
                 ImageFormat format);
// ".png" or ".pgm" (".ppm" for 3 channels): the extension for a format.
std::string image_extension(ImageFormat format, int channels);
