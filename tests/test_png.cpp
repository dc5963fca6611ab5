// tests/test_png.cpp — the inflater against zlib's output (files written by
// PIL and ImageMagick, made by scripts/make_png_fixtures.py), every PNG
// colour type, bit depth and interlacing against the grey the script
// computed from its source pixels, the writer round trip, and crafted bad
// files: each refused with one message that names the file.
#include <cstring>
#include <string>
#include <vector>

#include "catch.hpp"
#include "data/image.h"
#include "data/png.h"
#include "data/zlib.h"
#include "helpers.h"

namespace {

const char* const kFixtures[] = {
    "pil_grey8",        "pil_grey_alpha8",          "pil_rgb8",      "pil_rgba8",       "pil_palette8",
    "pil_palette4",     "pil_palette8_trns",        "pil_grey1",     "pil_grey16",      "pil_rgb8_dynamic",
    "drawn_4_rgba",     "magick_rgba8_interlaced",  "magick_grey8_interlaced",          "magick_rgb16",
    "magick_rgba16_interlaced", "magick_grey2",     "magick_grey4",
};

std::string fixture(const std::string& name) { return "tests/data/png/" + name; }

void put_u32(std::string& out, uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

std::string chunk(const std::string& type, const std::string& body) {
    std::string out;
    put_u32(out, static_cast<uint32_t>(body.size()));
    const std::string typed = type + body;
    out += typed;
    put_u32(out, crc32_update(0, typed.data(), typed.size()));
    return out;
}

std::string ihdr(uint32_t width, uint32_t height, int depth, int colour_type, int interlace = 0) {
    std::string body;
    put_u32(body, width);
    put_u32(body, height);
    body += {static_cast<char>(depth), static_cast<char>(colour_type), 0, 0, static_cast<char>(interlace)};
    return chunk("IHDR", body);
}

std::string zlib_of(const std::string& raw) {
    const std::vector<uint8_t> z = zlib_compress(reinterpret_cast<const uint8_t*>(raw.data()), raw.size());
    return std::string(z.begin(), z.end());
}

const std::string kSignature("\x89PNG\r\n\x1a\n", 8);

// A PNG of the given header and (already filtered) raw image data.
std::string png_of(const std::string& header, const std::string& raw, const std::string& extra = "") {
    return kSignature + header + extra + chunk("IDAT", zlib_of(raw)) + chunk("IEND", "");
}

// The message parse_png throws for bytes, or "(no error)".
std::string png_error(const std::string& bytes) {
    return error_of([&] { parse_png(bytes, "bad.png"); });
}

}  // namespace

TEST_CASE("zlib: round trips, Adler-32's check value, and streams from Python's zlib", "[png][zlib]") {
    CHECK(adler32_update(1, "Wikipedia", 9) == 0x11E60398u);  // the example of Adler-32's definition
    for (size_t size : {size_t{0}, size_t{1}, size_t{65535}, size_t{65536}, size_t{200000}}) {
        std::vector<uint8_t> data(size);
        Rng rng(size);
        for (uint8_t& b : data) b = static_cast<uint8_t>(rng.below(7));
        const std::vector<uint8_t> z = zlib_compress(data.data(), data.size());
        CHECK(zlib_decompress(z.data(), z.size(), size) == data);
        if (size > 0) CHECK_THROWS_WITH(zlib_decompress(z.data(), z.size(), size - 1),
                                        Catch::Contains("decompresses to more than"));
    }
}

TEST_CASE("PNG: every colour type, bit depth and interlacing gives the grey computed from the source",
          "[png]") {
    for (const char* name : kFixtures) {
        INFO(name);
        const GrayImage image = read_image(fixture(name) + ".png");
        const GrayImage expected = read_pgm(fixture(name) + ".expected.pgm");
        REQUIRE(image.width == expected.width);
        REQUIRE(image.height == expected.height);
        const MaxDiff d = max_abs_diff(image.pixels.data(), expected.pixels.data(), image.pixels.size());
        INFO("largest difference " << d.diff * 255 << "/255 at pixel " << d.index);
        CHECK(d.diff <= 1.0 / 255 + 1e-6);  // the expected file is rounded to 8 bits
    }
    // Grey PNGs keep their values exactly, as PGM does: v / 255.
    const GrayImage grey = read_image(fixture("pil_grey8.png"));
    const GrayImage grey_pgm = read_pgm(fixture("pil_grey8.expected.pgm"));
    CHECK(grey.pixels == grey_pgm.pixels);
}

TEST_CASE("PNG writer: grey and RGB round trip through the reader", "[png]") {
    const int w = 7, h = 5;
    std::vector<uint8_t> grey(w * h), rgb(w * h * 3);
    for (int i = 0; i < w * h; ++i) grey[i] = static_cast<uint8_t>(i * 7);
    for (int i = 0; i < w * h * 3; ++i) rgb[i] = static_cast<uint8_t>(i * 5);
    const GrayImage g = parse_png(encode_png(grey.data(), w, h, 1), "grey.png");
    REQUIRE(g.width == w);
    REQUIRE(g.height == h);
    for (int i = 0; i < w * h; ++i) CHECK(g.pixels[i] == grey[i] / 255.0f);
    const GrayImage c = parse_png(encode_png(rgb.data(), w, h, 3), "rgb.png");
    for (int i = 0; i < w * h; ++i)
        CHECK(c.pixels[i] == Approx((0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2]) / 255.0).margin(1e-5));
    const std::string path = temp_path("written.png");
    write_png(path, grey.data(), w, h, 1);
    CHECK(read_image(path).pixels == g.pixels);
}

TEST_CASE("PNG: crafted bad files are refused with the file name and the problem", "[png][errors]") {
    const std::string good = read_file(fixture("pil_rgb8_dynamic.png"));
    REQUIRE(png_error(good) == "(no error)");
    const size_t idat = good.find("IDAT");
    REQUIRE(idat != std::string::npos);
    struct Case {
        std::string what, bytes, message;
    };
    std::string bad_crc = good;
    bad_crc[idat + 100] ^= 0x01;
    const std::string grey_row = std::string(1, '\0') + std::string(4, 'x');  // filter 0, 4 pixels
    std::string bad_depth = kSignature + ihdr(4, 1, 3, 0) + chunk("IEND", "");
    const std::string short_data = png_of(ihdr(4, 2, 8, 0), grey_row);  // one of two rows
    const std::string one_palette_colour = chunk("PLTE", std::string(3, '\x10'));
    std::string stored_len_mismatch = png_of(ihdr(4, 1, 8, 0), grey_row);
    stored_len_mismatch[stored_len_mismatch.find("IDAT") + 4 + 2 + 3] ^= 0x01;  // NLEN, CRC now wrong too
    {  // fix the CRC so that the inflater, not the chunk check, sees it
        const size_t at = stored_len_mismatch.find("IDAT");
        const uint32_t length = static_cast<uint32_t>(zlib_of(grey_row).size());
        std::string fixed = stored_len_mismatch.substr(0, at - 4) + chunk("IDAT", stored_len_mismatch.substr(at + 4, length));
        stored_len_mismatch = fixed + chunk("IEND", "");
    }
    // A fixed-Huffman block whose first code is a length/distance pair reaching
    // back before the start: 0x78 0x01, then bits BFINAL 1, BTYPE 01, symbol
    // 257 (7-bit code 0000001), distance code 0 (5 bits 00000).
    const std::string far_back = std::string("\x78\x01", 2) + std::string("\x03\x02\x00\x00\x00\x00\x00", 7);
    const std::string type3 = std::string("\x78\x01", 2) + std::string("\x07\x00\x00\x00\x00\x00", 6);
    const Case cases[] = {
        {"not a PNG", "GIF89a....", "not a PNG file (bad signature)"},
        {"signature only", kSignature, "file is truncated (no IEND chunk)"},
        {"truncated IDAT", good.substr(0, idat + 200), "claims"},
        {"no IEND", good.substr(0, good.size() - 12), "file is truncated (no IEND chunk)"},
        {"bad CRC", bad_crc, "chunk IDAT fails its CRC check: the file is corrupt"},
        {"IHDR not first", kSignature + chunk("IDAT", "") + ihdr(1, 1, 8, 0), "the first chunk is IDAT, not IHDR"},
        {"oversize", png_of(ihdr(100000, 100000, 8, 0), grey_row), "image is 100000x100000, larger than this program reads"},
        {"too many pixels", png_of(ihdr(16000, 16000, 8, 0), grey_row), "larger than this program reads"},
        {"zero width", png_of(ihdr(0, 5, 8, 0), grey_row), "image is 0x5; it has no pixels"},
        {"claims more than the data can hold", png_of(ihdr(8000, 8000, 8, 0), grey_row), "far too few"},
        {"zlib bomb", read_file(fixture("bomb.png")), "image data: decompresses to more than the 272 bytes expected"},
        {"bad bit depth", bad_depth, "bit depth 3 is not allowed for colour type 0"},
        {"bad colour type", png_of(ihdr(4, 1, 8, 5), grey_row), "colour type 5 does not exist"},
        {"bad filter type", png_of(ihdr(4, 1, 8, 0), std::string(1, '\x05') + "abcd"), "row 0 has filter type 5; only 0 to 4 exist"},
        {"short image data", short_data, "image data is truncated: 5 of 10 bytes"},
        {"palette without PLTE", png_of(ihdr(4, 1, 8, 3), grey_row), "a palette image without a PLTE chunk"},
        {"palette index past the palette", png_of(ihdr(4, 1, 8, 3), grey_row, one_palette_colour), "palette index 120 is past the palette's 1 colours"},
        {"unknown critical chunk", png_of(ihdr(4, 1, 8, 0), grey_row, chunk("ABCD", "")), "unknown critical chunk ABCD"},
        {"stored block length check", stored_len_mismatch, "a stored block's length check fails"},
        {"distance too far back", kSignature + ihdr(4, 1, 8, 0) + chunk("IDAT", far_back) + chunk("IEND", ""), "reaches back before the start"},
        {"reserved block type", kSignature + ihdr(4, 1, 8, 0) + chunk("IDAT", type3) + chunk("IEND", ""), "reserved type 3"},
        {"no IDAT", kSignature + ihdr(4, 1, 8, 0) + chunk("IEND", ""), "no image data (IDAT)"},
    };
    for (const Case& c : cases) {
        INFO(c.what);
        const std::string message = png_error(c.bytes);
        CHECK(message.find("bad.png: ") == 0);
        CHECK_THAT(message, Catch::Contains(c.message));
    }
    // Ancillary chunks the reader does not know are skipped.
    CHECK(png_error(png_of(ihdr(4, 1, 8, 0), grey_row, chunk("tEXt", "Comment"))) == "(no error)");
}
