// png.cpp — a strict PNG reader and a small writer. The reader goes in file
// order: signature, chunks (each CRC-checked), the header's checks, inflate
// of the joined IDAT data, the filters undone row by row (each Adam7 pass is
// a small image of its own), and every pixel turned into grey.
#include "data/png.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

#include "data/errors.h"
#include "data/zlib.h"

namespace {

constexpr char kSignature[8] = {'\x89', 'P', 'N', 'G', '\r', '\n', '\x1a', '\n'};

uint32_t big_endian_u32(const uint8_t* p) {
    return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 | p[2] << 8 | p[3];
}

// IHDR, and what the other chunks add to it.
struct Header {
    int width = 0, height = 0;
    int bit_depth = 0;   // bits per sample: 1, 2, 4, 8 or 16
    int colour_type = 0; // 0 grey, 2 RGB, 3 palette, 4 grey + alpha, 6 RGBA
    bool interlaced = false;
    int channels() const { return colour_type == 2 ? 3 : colour_type == 4 ? 2 : colour_type == 6 ? 4 : 1; }
};

struct Palette {
    std::vector<std::array<uint8_t, 3>> colours;  // PLTE
    std::vector<uint8_t> alpha;                   // tRNS for palette images: one per entry, or fewer
    bool has_key = false;                         // tRNS for grey / RGB: the one transparent value
    std::array<uint16_t, 3> key{};
};

void check_header(const Header& h, const std::string& name, int64_t max_pixels) {
    if (h.width < 1 || h.height < 1) fail(name, "image is " + std::to_string(h.width) + "x" +
                                                    std::to_string(h.height) + "; it has no pixels");
    if (h.width > kMaxPngSide || h.height > kMaxPngSide || static_cast<int64_t>(h.width) * h.height > max_pixels)
        fail(name, "image is " + std::to_string(h.width) + "x" + std::to_string(h.height) +
                       ", larger than this program reads (at most " + std::to_string(kMaxPngSide) +
                       " a side and " + std::to_string(max_pixels >> 20) + " Mpixels)");
    const int d = h.bit_depth;
    bool valid = false;
    switch (h.colour_type) {
        case 0: valid = d == 1 || d == 2 || d == 4 || d == 8 || d == 16; break;
        case 3: valid = d == 1 || d == 2 || d == 4 || d == 8; break;
        case 2: case 4: case 6: valid = d == 8 || d == 16; break;
        default: fail(name, "colour type " + std::to_string(h.colour_type) + " does not exist");
    }
    if (!valid)
        fail(name, "bit depth " + std::to_string(d) + " is not allowed for colour type " +
                       std::to_string(h.colour_type));
}

// One Adam7 pass (or the whole image): the pixels at (x0 + i*dx, y0 + j*dy).
struct Pass {
    int x0, y0, dx, dy;
};
constexpr Pass kWholeImage = {0, 0, 1, 1};
constexpr Pass kAdam7[7] = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4},
                            {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};

int pass_width(const Header& h, const Pass& p) { return (h.width - p.x0 + p.dx - 1) / p.dx; }
int pass_height(const Header& h, const Pass& p) { return (h.height - p.y0 + p.dy - 1) / p.dy; }
size_t row_bytes(const Header& h, int width) {
    return (static_cast<size_t>(width) * h.channels() * h.bit_depth + 7) / 8;
}

std::vector<Pass> passes_of(const Header& h) {
    if (!h.interlaced) return {kWholeImage};
    std::vector<Pass> passes;
    for (const Pass& p : kAdam7)
        if (pass_width(h, p) > 0 && pass_height(h, p) > 0) passes.push_back(p);  // empty passes have no bytes
    return passes;
}

// The bytes the decompressed image data must have: per pass, a filter byte
// and the packed samples of every row.
size_t raw_size(const Header& h) {
    size_t total = 0;
    for (const Pass& p : passes_of(h))
        total += static_cast<size_t>(pass_height(h, p)) * (1 + row_bytes(h, pass_width(h, p)));
    return total;
}

// The predictor of filter type 4: whichever of left, up, up-left is closest
// to left + up - up_left.
uint8_t paeth(int a, int b, int c) {
    const int p = a + b - c;
    const int pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
    if (pa <= pb && pa <= pc) return static_cast<uint8_t>(a);
    return static_cast<uint8_t>(pb <= pc ? b : c);
}

// Undoes row's filter in place, given the previous row of the pass (all zeros
// for the first) and the bytes per complete pixel (at least 1).
void unfilter_row(uint8_t* row, const uint8_t* previous, size_t length, int filter, size_t bpp,
                  const std::string& name, int y) {
    for (size_t i = 0; i < length; ++i) {
        const int left = i >= bpp ? row[i - bpp] : 0, up = previous[i];
        const int up_left = i >= bpp ? previous[i - bpp] : 0;
        int predicted = 0;
        switch (filter) {
            case 0: predicted = 0; break;                     // None
            case 1: predicted = left; break;                  // Sub
            case 2: predicted = up; break;                    // Up
            case 3: predicted = (left + up) / 2; break;       // Average
            case 4: predicted = paeth(left, up, up_left); break;
            default: fail(name, "row " + std::to_string(y) + " has filter type " + std::to_string(filter) +
                                    "; only 0 to 4 exist");
        }
        row[i] = static_cast<uint8_t>(row[i] + predicted);
    }
}

// Sample i of an unfiltered row: packed most significant bits first below
// 8 bits, big-endian at 16.
uint32_t sample(const uint8_t* row, size_t i, int depth) {
    if (depth == 16) return static_cast<uint32_t>(row[2 * i]) << 8 | row[2 * i + 1];
    if (depth == 8) return row[i];
    const size_t bit = i * depth;
    return (row[bit / 8] >> (8 - depth - bit % 8)) & ((1u << depth) - 1);
}

// The grey value in [0, 1] of the pixel whose samples start at sample index i.
float grey_of(const uint8_t* row, size_t i, const Header& h, const Palette& palette, const std::string& name) {
    const int depth = h.bit_depth;
    const float max = static_cast<float>((1u << depth) - 1);
    auto luma = [](float r, float g, float b) { return 0.299f * r + 0.587f * g + 0.114f * b; };
    float grey, alpha = 1.0f;
    if (h.colour_type == 3) {
        const uint32_t index = sample(row, i, depth);
        if (index >= palette.colours.size())
            fail(name, "palette index " + std::to_string(index) + " is past the palette's " +
                           std::to_string(palette.colours.size()) + " colours");
        const auto& c = palette.colours[index];
        grey = c[0] == c[1] && c[1] == c[2] ? c[0] / 255.0f : luma(c[0] / 255.0f, c[1] / 255.0f, c[2] / 255.0f);
        if (index < palette.alpha.size()) alpha = palette.alpha[index] / 255.0f;
    } else if (h.colour_type == 0 || h.colour_type == 4) {
        const uint32_t v = sample(row, i, depth);
        grey = static_cast<float>(v) / max;  // exactly as PGM's value / maxval
        if (h.colour_type == 4) alpha = static_cast<float>(sample(row, i + 1, depth)) / max;
        else if (palette.has_key && v == palette.key[0]) alpha = 0.0f;
    } else {
        const uint32_t r = sample(row, i, depth), g = sample(row, i + 1, depth), b = sample(row, i + 2, depth);
        grey = r == g && g == b ? static_cast<float>(r) / max
                                : luma(static_cast<float>(r) / max, static_cast<float>(g) / max, static_cast<float>(b) / max);
        if (h.colour_type == 6) alpha = static_cast<float>(sample(row, i + 3, depth)) / max;
        else if (palette.has_key && r == palette.key[0] && g == palette.key[1] && b == palette.key[2]) alpha = 0.0f;
    }
    // Over a white background. (An opaque pixel keeps its grey exactly.)
    return alpha == 1.0f ? grey : alpha * grey + (1.0f - alpha);
}

// Unfilters the decompressed data pass by pass and writes each pixel's grey
// to its place in the image.
void decode_pixels(GrayImage& image, std::vector<uint8_t>& raw, const Header& h, const Palette& palette,
                   const std::string& name) {
    const size_t bpp = std::max<size_t>(1, static_cast<size_t>(h.channels()) * h.bit_depth / 8);
    size_t at = 0;  // the next byte of raw
    for (const Pass& p : passes_of(h)) {
        const int width = pass_width(h, p), height = pass_height(h, p);
        const size_t length = row_bytes(h, width);
        std::vector<uint8_t> zeros(length, 0);
        const uint8_t* previous = zeros.data();
        for (int y = 0; y < height; ++y) {
            const int filter = raw[at];
            uint8_t* row = &raw[at + 1];
            unfilter_row(row, previous, length, filter, bpp, name, y);
            for (int x = 0; x < width; ++x) {
                const size_t pixel = static_cast<size_t>(p.y0 + y * p.dy) * h.width + p.x0 + x * p.dx;
                image.pixels[pixel] = grey_of(row, static_cast<size_t>(x) * h.channels(), h, palette, name);
            }
            previous = row;
            at += 1 + length;
        }
    }
}

}  // namespace

bool is_png(const std::string& bytes) { return bytes.size() >= 8 && bytes.compare(0, 8, kSignature, 8) == 0; }

GrayImage parse_png(const std::string& bytes, const std::string& name, int64_t max_pixels) {
    if (!is_png(bytes)) fail(name, "not a PNG file (bad signature)");
    const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
    Header h;
    Palette palette;
    std::vector<uint8_t> compressed;  // the IDAT chunks' data, joined
    bool seen_header = false, seen_end = false;
    size_t pos = 8;
    while (!seen_end) {
        // A chunk: length (4 bytes, big-endian), type (4 ASCII letters), data, CRC of type and data.
        if (bytes.size() - pos < 12) fail(name, "file is truncated (no IEND chunk)");
        const uint32_t length = big_endian_u32(data + pos);
        const std::string type = bytes.substr(pos + 4, 4);
        if (length > bytes.size() - pos - 12)
            fail(name, "chunk " + type + " claims " + std::to_string(length) + " bytes; the file is truncated");
        const uint8_t* body = data + pos + 8;
        const uint32_t stored_crc = big_endian_u32(body + length);
        if (stored_crc != crc32_update(0, data + pos + 4, length + 4))
            fail(name, "chunk " + type + " fails its CRC check: the file is corrupt");
        pos += 12 + length;

        if (!seen_header && type != "IHDR") fail(name, "the first chunk is " + type + ", not IHDR");
        if (type == "IHDR") {
            if (seen_header) fail(name, "two IHDR chunks");
            if (length != 13) fail(name, "IHDR is " + std::to_string(length) + " bytes, not 13");
            const uint32_t width = big_endian_u32(body), height = big_endian_u32(body + 4);
            h.width = static_cast<int>(std::min<uint32_t>(width, INT32_MAX));
            h.height = static_cast<int>(std::min<uint32_t>(height, INT32_MAX));
            h.bit_depth = body[8];
            h.colour_type = body[9];
            if (body[10] != 0 || body[11] != 0) fail(name, "unknown compression or filter method");
            if (body[12] > 1) fail(name, "unknown interlace method " + std::to_string(body[12]));
            h.interlaced = body[12] == 1;
            check_header(h, name, std::min(max_pixels, kMaxPngPixels));
            seen_header = true;
        } else if (type == "PLTE") {
            if (length == 0 || length % 3 != 0 || length > 3 * 256)
                fail(name, "PLTE is " + std::to_string(length) + " bytes, not 3 per colour for 1 to 256 colours");
            if (h.colour_type == 0 || h.colour_type == 4) fail(name, "a grey image with a PLTE chunk");
            palette.colours.resize(length / 3);
            for (uint32_t i = 0; i < length / 3; ++i) palette.colours[i] = {body[3 * i], body[3 * i + 1], body[3 * i + 2]};
        } else if (type == "tRNS") {
            if (h.colour_type == 3) {
                if (length > palette.colours.size()) fail(name, "tRNS has more entries than the palette");
                palette.alpha.assign(body, body + length);
            } else if (h.colour_type == 0 || h.colour_type == 2) {
                const uint32_t needed = h.colour_type == 0 ? 2 : 6;
                if (length != needed) fail(name, "tRNS is " + std::to_string(length) + " bytes, not " + std::to_string(needed));
                palette.has_key = true;
                for (uint32_t c = 0; c < needed / 2; ++c) palette.key[c] = static_cast<uint16_t>(body[2 * c] << 8 | body[2 * c + 1]);
            } else {
                fail(name, "tRNS in an image that has an alpha channel");
            }
        } else if (type == "IDAT") {
            compressed.insert(compressed.end(), body, body + length);
        } else if (type == "IEND") {
            seen_end = true;
        } else if (type[0] >= 'A' && type[0] <= 'Z') {
            // Bit 5 of the first letter clear (upper case): critical, cannot be skipped.
            fail(name, "unknown critical chunk " + type);
        }  // else: ancillary (gAMA, tEXt, pHYs, ...), safe to skip
    }
    if (h.colour_type == 3 && palette.colours.empty()) fail(name, "a palette image without a PLTE chunk");
    if (compressed.empty()) fail(name, "no image data (IDAT)");

    // DEFLATE expands at most 1032:1 (a 258-byte copy in 2 bits), so a header
    // claiming more than that of the data present is a lie: refuse it before
    // allocating the image.
    const size_t expected = raw_size(h);
    if (expected / 1032 > compressed.size() + 64)
        fail(name, "image is " + std::to_string(h.width) + "x" + std::to_string(h.height) + " but holds only " +
                       std::to_string(compressed.size()) + " bytes of compressed data, far too few");
    std::vector<uint8_t> raw;
    try {
        raw = zlib_decompress(compressed.data(), compressed.size(), expected);
    } catch (const std::runtime_error& e) {
        fail(name, std::string("image data: ") + e.what());
    }
    if (raw.size() != expected)
        fail(name, "image data is truncated: " + std::to_string(raw.size()) + " of " + std::to_string(expected) +
                       " bytes");
    GrayImage image;
    image.width = h.width;
    image.height = h.height;
    image.pixels.assign(static_cast<size_t>(h.width) * h.height, 0.0f);
    decode_pixels(image, raw, h, palette, name);
    return image;
}

// ---------------------------------------------------------------------------
// Writing

namespace {

void put_u32(std::string& out, uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

void put_chunk(std::string& out, const char* type, const std::string& body) {
    put_u32(out, static_cast<uint32_t>(body.size()));
    const std::string typed = type + body;
    out += typed;
    put_u32(out, crc32_update(0, typed.data(), typed.size()));
}

}  // namespace

std::string encode_png(const uint8_t* pixels, int width, int height, int channels) {
    std::string header;
    put_u32(header, static_cast<uint32_t>(width));
    put_u32(header, static_cast<uint32_t>(height));
    header += {8, static_cast<char>(channels == 3 ? 2 : 0), 0, 0, 0};  // depth 8, grey or RGB, no interlace
    // Every row: filter type 0 (None), then its bytes.
    const size_t row = static_cast<size_t>(width) * channels;
    std::vector<uint8_t> raw;
    raw.reserve((row + 1) * height);
    for (int y = 0; y < height; ++y) {
        raw.push_back(0);
        raw.insert(raw.end(), pixels + y * row, pixels + (y + 1) * row);
    }
    const std::vector<uint8_t> z = zlib_compress(raw.data(), raw.size());
    std::string png(kSignature, 8);
    put_chunk(png, "IHDR", header);
    put_chunk(png, "IDAT", std::string(z.begin(), z.end()));
    put_chunk(png, "IEND", "");
    return png;
}

void write_png(const std::string& path, const uint8_t* pixels, int width, int height, int channels) {
    const std::string png = encode_png(pixels, width, height, channels);
    std::ofstream out(path, std::ios::binary);
    if (!out) fail(path, std::string("cannot create: ") + std::strerror(errno));
    out.write(png.data(), static_cast<std::streamsize>(png.size()));
    out.close();
    if (!out) fail(path, "write failed");
}
