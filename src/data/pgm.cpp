// pgm.cpp — a strict PGM parser: every field is range-checked before use.
#include "data/pgm.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>

#include "data/errors.h"

namespace {

// Walks the header: skips whitespace and '#' comments, reads decimal fields.
struct HeaderReader {
    const std::string& bytes;
    const std::string& name;
    size_t pos = 0;

    void skip_space_and_comments() {
        while (pos < bytes.size()) {
            const char c = bytes[pos];
            if (c == '#') {
                while (pos < bytes.size() && bytes[pos] != '\n' && bytes[pos] != '\r') ++pos;
            } else if (std::isspace(static_cast<unsigned char>(c))) {
                ++pos;
            } else {
                break;
            }
        }
    }

    // A non-negative decimal number no larger than limit.
    long number(const char* field, long limit) {
        skip_space_and_comments();
        if (pos >= bytes.size()) fail(name, std::string("file ends before the ") + field);
        if (!std::isdigit(static_cast<unsigned char>(bytes[pos])))
            fail(name, std::string(field) + " is not a non-negative number");
        long value = 0;
        while (pos < bytes.size() && std::isdigit(static_cast<unsigned char>(bytes[pos]))) {
            value = value * 10 + (bytes[pos] - '0');
            if (value > limit)
                fail(name, std::string(field) + " is larger than " + std::to_string(limit));
            ++pos;
        }
        if (pos < bytes.size() && !std::isspace(static_cast<unsigned char>(bytes[pos])) &&
            bytes[pos] != '#')
            fail(name, std::string(field) + " is not a number");
        return value;
    }
};

}  // namespace

GrayImage parse_pgm(const std::string& bytes, const std::string& name) {
    if (bytes.empty()) fail(name, "file is empty");
    if (bytes.size() >= 2 && static_cast<uint8_t>(bytes[0]) == 0x1f &&
        static_cast<uint8_t>(bytes[1]) == 0x8b)
        fail(name, "this file is gzip-compressed; run gunzip on it");
    if (bytes.size() < 2 || bytes[0] != 'P' || (bytes[1] != '2' && bytes[1] != '5')) {
        if (bytes.size() >= 2 && bytes[0] == 'P' && bytes[1] >= '1' && bytes[1] <= '6')
            fail(name, std::string("is a P") + bytes[1] +
                           " file, not a grey map; convert it to PGM (P2 or P5)");
        fail(name, "not a PGM file (it must start with P2 or P5)");
    }
    const bool binary = bytes[1] == '5';
    HeaderReader h{bytes, name, 2};
    if (h.pos < bytes.size() && !std::isspace(static_cast<unsigned char>(bytes[h.pos])) &&
        bytes[h.pos] != '#')
        fail(name, "not a PGM file (it must start with P2 or P5)");
    const long width = h.number("width", kMaxPgmSide);
    const long height = h.number("height", kMaxPgmSide);
    const long maxval = h.number("maxval", 65535);
    if (width == 0 || height == 0) fail(name, "image is " + std::to_string(width) + "x" +
                                                  std::to_string(height) + "; it has no pixels");
    if (maxval == 0) fail(name, "maxval is 0; it must be 1 to 65535");

    GrayImage image;
    image.width = static_cast<int>(width);
    image.height = static_cast<int>(height);
    const size_t count = static_cast<size_t>(width) * static_cast<size_t>(height);  // <= 2^28
    // The raster must fit in what is left of the file before anything is
    // allocated for it: P5 needs 1 or 2 bytes per pixel, P2 at least a digit
    // and a separator per pixel.
    if (h.pos >= bytes.size()) fail(name, "file ends before the pixel data");
    const size_t raster_start = binary ? h.pos + 1 : h.pos;  // P5: exactly one whitespace byte
    const size_t bytes_per_pixel = maxval > 255 ? 2 : 1;
    const size_t needed = binary ? count * bytes_per_pixel : 2 * count - 1;
    if (bytes.size() - raster_start < needed)
        fail(name, "pixel data is truncated: " + std::to_string(width) + "x" + std::to_string(height) +
                       " needs " + (binary ? "" : "at least ") + std::to_string(needed) +
                       " bytes, the file has " + std::to_string(bytes.size() - raster_start));
    image.pixels.resize(count);

    if (binary) {
        size_t pos = raster_start;
        for (size_t i = 0; i < count; ++i) {
            long v = static_cast<uint8_t>(bytes[pos]);
            if (bytes_per_pixel == 2) v = (v << 8) | static_cast<uint8_t>(bytes[pos + 1]);
            pos += bytes_per_pixel;
            if (v > maxval)
                fail(name, "pixel " + std::to_string(i) + " is " + std::to_string(v) +
                               ", above maxval " + std::to_string(maxval));
            image.pixels[i] = static_cast<float>(v) / static_cast<float>(maxval);  // as training's bytes / 255
        }
        h.pos = pos;
    } else {
        for (size_t i = 0; i < count; ++i) {
            const long v = h.number("pixel value", 65535);
            if (v > maxval)
                fail(name, "pixel " + std::to_string(i) + " is " + std::to_string(v) +
                               ", above maxval " + std::to_string(maxval));
            image.pixels[i] = static_cast<float>(v) / static_cast<float>(maxval);  // as training's bytes / 255
        }
    }
    // Only whitespace (or, in P2, comments) may follow the image.
    if (!binary) h.skip_space_and_comments();
    for (size_t p = h.pos; p < bytes.size(); ++p)
        if (!std::isspace(static_cast<unsigned char>(bytes[p])))
            fail(name, "unexpected data after the image (byte " + std::to_string(p) + ")");
    return image;
}

void write_pgm(const std::string& path, const uint8_t* pixels, int width, int height) {
    std::ofstream out(path, std::ios::binary);
    if (!out) fail(path, std::string("cannot create: ") + std::strerror(errno));
    out << "P5\n" << width << " " << height << "\n255\n";
    out.write(reinterpret_cast<const char*>(pixels), static_cast<std::streamsize>(width) * height);
    out.close();
    if (!out) fail(path, "write failed");
}
