// image.cpp — PNG or PGM, read by their first bytes, written by choice.
#include "data/image.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

#include "data/errors.h"
#include "data/png.h"

namespace {

// The whole file, refusing (before reading) one larger than any image this
// program accepts could be: a 16384 x 16384 16-bit PGM plus a header.
std::string read_image_file(const std::string& path) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) fail(path, std::strerror(errno));
    if (S_ISDIR(st.st_mode)) fail(path, "is a directory, not an image");
    const int64_t max_bytes = 2LL * kMaxPgmSide * kMaxPgmSide + 4096;
    if (S_ISREG(st.st_mode) && st.st_size > max_bytes)
        fail(path, "file is " + std::to_string(st.st_size) + " bytes, too large for an image of at most " +
                       std::to_string(kMaxPgmSide) + "x" + std::to_string(kMaxPgmSide));
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path, std::string("cannot open: ") + std::strerror(errno));
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (in.bad()) fail(path, "read failed");
    return buffer.str();
}

}  // namespace

GrayImage parse_image(const std::string& bytes, const std::string& name, int64_t max_pixels) {
    if (is_png(bytes)) return parse_png(bytes, name, max_pixels);
    // PGM, or what parse_pgm has a better message for (empty, gzip, PPM, PBM).
    const bool netpbm_or_gzip = !bytes.empty() && (bytes[0] == 'P' || static_cast<uint8_t>(bytes[0]) == 0x1f);
    if (bytes.empty() || netpbm_or_gzip) return parse_pgm(bytes, name);
    fail(name, "not a PNG or PGM image");
}

GrayImage read_image(const std::string& path) { return parse_image(read_image_file(path), path); }

GrayImage read_pgm(const std::string& path) { return parse_pgm(read_image_file(path), path); }

void write_image(const std::string& path, const uint8_t* pixels, int width, int height, int channels,
                 ImageFormat format) {
    if (format == ImageFormat::Png) return write_png(path, pixels, width, height, channels);
    if (channels == 1) return write_pgm(path, pixels, width, height);
    std::ofstream out(path, std::ios::binary);  // PPM (P6): PGM's colour sibling
    if (!out) fail(path, std::string("cannot create: ") + std::strerror(errno));
    out << "P6\n" << width << " " << height << "\n255\n";
    out.write(reinterpret_cast<const char*>(pixels), static_cast<std::streamsize>(width) * height * channels);
    out.close();
    if (!out) fail(path, "write failed");
}

std::string image_extension(ImageFormat format, int channels) {
    if (format == ImageFormat::Png) return ".png";
    return channels == 3 ? ".ppm" : ".pgm";
}
