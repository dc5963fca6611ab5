// zlib.h — the compression inside PNG: zlib streams (RFC 1950) holding
// DEFLATE data (RFC 1951), and the two checksums around them.
//
// zlib_decompress is a complete inflater (stored, fixed-Huffman and
// dynamic-Huffman blocks), written for reading rather than speed in the
// manner of Mark Adler's puff.c: codes are decoded one bit at a time from
// their canonical form, with no lookup tables. zlib_compress writes stored
// (uncompressed) blocks only: valid zlib that every reader accepts, enough
// for the small pictures this program writes.
//
// Leaves out: preset dictionaries (PNG forbids them), compression.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

// CRC-32 (IEEE 802.3, as zlib's crc32, PNG's chunk check and the checkpoint's):
// crc = crc32_update(crc, data, n), starting from 0.
uint32_t crc32_update(uint32_t crc, const void* data, size_t n);

// Adler-32 (zlib's stream check), starting from 1.
uint32_t adler32_update(uint32_t adler, const void* data, size_t n);

// The bytes a zlib stream decompresses to. Producing more than max_output
// bytes is an error, found before the excess is stored, so a small stream that
// expands enormously (a "zlib bomb") costs nothing. Throws
// std::runtime_error("<problem>") for any malformed, truncated or corrupt stream.
std::vector<uint8_t> zlib_decompress(const uint8_t* data, size_t size, size_t max_output);

// A zlib stream of stored blocks that decompresses to data.
std::vector<uint8_t> zlib_compress(const uint8_t* data, size_t size);
