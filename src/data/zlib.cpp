// zlib.cpp — CRC-32, Adler-32, an inflater (RFC 1951 inside RFC 1950) and a
// stored-block zlib writer. Read the inflater top-down: zlib_decompress
// checks the two-byte header, inflate() walks the blocks, and each block kind
// is a short function; Huffman codes are built and decoded as in RFC 1951
// section 3.2.2 (canonical codes: the lengths alone define the code).
#include "data/zlib.h"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>

// ---------------------------------------------------------------------------
// Checksums

namespace {

std::array<uint32_t, 256> make_crc_table() {
    std::array<uint32_t, 256> table{};
    for (uint32_t i = 0; i < 256; ++i) {
        uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    return table;
}

}  // namespace

uint32_t crc32_update(uint32_t crc, const void* data, size_t n) {
    static const std::array<uint32_t, 256> table = make_crc_table();
    const auto* p = static_cast<const uint8_t*>(data);
    crc = ~crc;
    for (size_t i = 0; i < n; ++i) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

uint32_t adler32_update(uint32_t adler, const void* data, size_t n) {
    // Two sums mod 65521 (the largest prime below 2^16): a of the bytes, b of
    // the running a's. 5552 bytes is the most that can be added before a
    // 32-bit b could overflow, so the modulo runs once per 5552 bytes.
    const auto* p = static_cast<const uint8_t*>(data);
    uint32_t a = adler & 0xFFFF, b = adler >> 16;
    while (n > 0) {
        const size_t chunk = n < 5552 ? n : 5552;
        for (size_t i = 0; i < chunk; ++i) {
            a += p[i];
            b += a;
        }
        a %= 65521;
        b %= 65521;
        p += chunk;
        n -= chunk;
    }
    return (b << 16) | a;
}

// ---------------------------------------------------------------------------
// Inflate

namespace {

[[noreturn]] void corrupt(const std::string& problem) { throw std::runtime_error(problem); }

// DEFLATE packs its fields starting at the least significant bit of each byte.
struct BitReader {
    const uint8_t* data;
    size_t size;
    size_t pos = 0;       // next byte to load
    uint32_t buffer = 0;  // bits loaded but not used, the next one lowest
    int count = 0;        // how many

    uint32_t bits(int need) {  // need <= 24
        while (count < need) {
            if (pos == size) corrupt("compressed data is truncated");
            buffer |= static_cast<uint32_t>(data[pos++]) << count;
            count += 8;
        }
        const uint32_t value = buffer & ((1u << need) - 1);
        buffer >>= need;
        count -= need;
        return value;
    }
    void skip_to_byte() {  // stored blocks start on a byte boundary
        buffer = 0;
        count = 0;
    }
};

constexpr int kMaxCodeBits = 15;

// A canonical Huffman code: how many codes have each length, and the symbols
// sorted by (length, symbol), which is the order of their codes.
struct Huffman {
    std::array<uint16_t, kMaxCodeBits + 1> count{};
    std::vector<uint16_t> symbols;
};

// The code for symbols 0..n-1 with the given code lengths (0: unused).
Huffman build_huffman(const uint8_t* lengths, int n) {
    Huffman h;
    for (int s = 0; s < n; ++s) ++h.count[lengths[s]];
    // A code length can only be used as often as the code space allows: at
    // each length, the codes left double and the ones used are taken away.
    int left = 1;
    for (int len = 1; len <= kMaxCodeBits; ++len) {
        left = 2 * left - h.count[len];
        if (left < 0) corrupt("a Huffman code has more codes than its lengths allow");
    }
    std::array<uint16_t, kMaxCodeBits + 2> first_index{};  // where each length's symbols start
    for (int len = 1; len <= kMaxCodeBits; ++len) first_index[len + 1] = first_index[len] + h.count[len];
    h.symbols.assign(first_index[kMaxCodeBits + 1], 0);
    for (int s = 0; s < n; ++s)
        if (lengths[s] != 0) h.symbols[first_index[lengths[s]]++] = static_cast<uint16_t>(s);
    return h;
}

// Reads one code, a bit at a time, most significant first (Huffman codes are
// packed in that order, unlike every other field). The codes of each length
// are consecutive numbers following on from those of the length before, so
// after len bits the code is valid iff it is below first + count[len].
int decode(BitReader& in, const Huffman& h) {
    int code = 0;   // the bits read so far
    int first = 0;  // the first code of this length
    int index = 0;  // the index in h.symbols of that first code's symbol
    for (int len = 1; len <= kMaxCodeBits; ++len) {
        code |= static_cast<int>(in.bits(1));
        const int count = h.count[len];
        if (code - first < count) return h.symbols[index + (code - first)];
        index += count;
        first = (first + count) << 1;
        code <<= 1;
    }
    corrupt("an invalid Huffman code");
}

// Length symbols 257..285 and distance symbols 0..29: a base plus extra bits.
constexpr uint16_t kLengthBase[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                      31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
constexpr uint8_t kLengthExtra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                      2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
constexpr uint16_t kDistanceBase[30] = {1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,   65,    97,    129,
                                        193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
constexpr uint8_t kDistanceExtra[30] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                        6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

struct Inflater {
    BitReader in;
    size_t max_output;
    std::vector<uint8_t> out;

    void put(uint8_t byte) {
        if (out.size() == max_output)
            corrupt("decompresses to more than the " + std::to_string(max_output) + " bytes expected");
        out.push_back(byte);
    }

    // Stored block: LEN, its complement NLEN, then LEN raw bytes.
    void stored_block() {
        in.skip_to_byte();
        if (in.size - in.pos < 4) corrupt("compressed data is truncated (stored block header)");
        const uint32_t len = in.data[in.pos] | in.data[in.pos + 1] << 8;
        const uint32_t nlen = in.data[in.pos + 2] | in.data[in.pos + 3] << 8;
        in.pos += 4;
        if (len != (~nlen & 0xFFFF)) corrupt("a stored block's length check fails");
        if (in.size - in.pos < len) corrupt("compressed data is truncated (stored block)");
        for (uint32_t i = 0; i < len; ++i) put(in.data[in.pos + i]);
        in.pos += len;
    }

    // Literals, and (length, distance) pairs that copy earlier output, until
    // the end-of-block symbol 256.
    void codes(const Huffman& literal_length, const Huffman& distance) {
        for (;;) {
            const int symbol = decode(in, literal_length);
            if (symbol < 256) { put(static_cast<uint8_t>(symbol)); continue; }
            if (symbol == 256) return;
            if (symbol > 285) corrupt("an invalid length symbol");
            const int l = symbol - 257;
            const size_t length = kLengthBase[l] + in.bits(kLengthExtra[l]);
            const int d = decode(in, distance);
            if (d > 29) corrupt("an invalid distance symbol");
            const size_t back = kDistanceBase[d] + in.bits(kDistanceExtra[d]);
            if (back > out.size()) corrupt("a distance reaches back before the start of the data");
            // Byte by byte: the copy may overlap what it writes (distance 1
            // repeats the last byte length times).
            for (size_t i = 0; i < length; ++i) put(out[out.size() - back]);
        }
    }

    // Fixed-Huffman block: the codes RFC 1951 section 3.2.6 fixes.
    void fixed_block() {
        static const Huffman literal_length = [] {
            uint8_t lengths[288];
            for (int s = 0; s < 288; ++s) lengths[s] = s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8;
            return build_huffman(lengths, 288);
        }();
        static const Huffman distance = [] {
            uint8_t lengths[30];
            for (uint8_t& l : lengths) l = 5;
            return build_huffman(lengths, 30);
        }();
        codes(literal_length, distance);
    }

    // Dynamic-Huffman block: the block's own codes come first, their lengths
    // themselves Huffman-coded with a small code for code lengths.
    void dynamic_block() {
        const int literal_count = static_cast<int>(in.bits(5)) + 257;
        const int distance_count = static_cast<int>(in.bits(5)) + 1;
        const int length_code_count = static_cast<int>(in.bits(4)) + 4;
        if (literal_count > 286 || distance_count > 30) corrupt("a dynamic block has too many codes");
        static constexpr uint8_t kOrder[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
        uint8_t length_lengths[19] = {};
        for (int i = 0; i < length_code_count; ++i) length_lengths[kOrder[i]] = static_cast<uint8_t>(in.bits(3));
        const Huffman length_code = build_huffman(length_lengths, 19);

        uint8_t lengths[286 + 30] = {};
        for (int i = 0; i < literal_count + distance_count;) {
            const int symbol = decode(in, length_code);
            if (symbol < 16) { lengths[i++] = static_cast<uint8_t>(symbol); continue; }
            // 16: repeat the previous length 3-6 times; 17, 18: 3-10 or 11-138 zeros.
            uint8_t value = 0;
            int repeat = 0;
            if (symbol == 16) {
                if (i == 0) corrupt("a repeated code length with nothing before it");
                value = lengths[i - 1];
                repeat = 3 + static_cast<int>(in.bits(2));
            } else if (symbol == 17) {
                repeat = 3 + static_cast<int>(in.bits(3));
            } else {
                repeat = 11 + static_cast<int>(in.bits(7));
            }
            if (i + repeat > literal_count + distance_count) corrupt("code lengths run past their count");
            while (repeat-- > 0) lengths[i++] = value;
        }
        if (lengths[256] == 0) corrupt("a dynamic block has no end-of-block code");
        codes(build_huffman(lengths, literal_count), build_huffman(lengths + literal_count, distance_count));
    }

    void inflate() {
        bool last = false;
        while (!last) {
            last = in.bits(1) == 1;
            const uint32_t type = in.bits(2);
            if (type == 0) stored_block();
            else if (type == 1) fixed_block();
            else if (type == 2) dynamic_block();
            else corrupt("a block of the reserved type 3");
        }
    }
};

}  // namespace

std::vector<uint8_t> zlib_decompress(const uint8_t* data, size_t size, size_t max_output) {
    // Header: CMF (method 8 = deflate, window 2^(8+CINFO) <= 32 KiB), FLG
    // (no preset dictionary), and CMF*256 + FLG a multiple of 31.
    if (size < 2 + 4) corrupt("compressed data is truncated (zlib header)");
    const uint8_t cmf = data[0], flg = data[1];
    if ((cmf & 0x0F) != 8 || (cmf >> 4) > 7) corrupt("not zlib deflate data (bad method byte)");
    if ((cmf * 256 + flg) % 31 != 0) corrupt("the zlib header check fails");
    if (flg & 0x20) corrupt("zlib data with a preset dictionary");
    Inflater inflater{BitReader{data + 2, size - 2}, max_output, {}};
    inflater.inflate();
    // After the last block, on a byte boundary: the Adler-32 of the output, big-endian.
    const size_t at = 2 + inflater.in.pos;
    if (size - at < 4) corrupt("compressed data is truncated (Adler-32)");
    const uint32_t stored = static_cast<uint32_t>(data[at]) << 24 | data[at + 1] << 16 | data[at + 2] << 8 | data[at + 3];
    const std::vector<uint8_t>& out = inflater.out;
    if (stored != adler32_update(1, out.data(), out.size())) corrupt("the zlib Adler-32 check fails");
    return inflater.out;
}

std::vector<uint8_t> zlib_compress(const uint8_t* data, size_t size) {
    std::vector<uint8_t> z = {0x78, 0x01};  // deflate, 32 KiB window; 0x7801 is a multiple of 31
    size_t done = 0;
    do {  // stored blocks of up to 65,535 bytes (one, empty, for no data)
        const size_t len = std::min<size_t>(size - done, 65535);
        z.push_back(done + len == size ? 1 : 0);  // BFINAL, BTYPE 00 (stored), padding to the byte
        z.push_back(len & 0xFF);
        z.push_back(len >> 8);
        z.push_back(~len & 0xFF);
        z.push_back((~len >> 8) & 0xFF);
        z.insert(z.end(), data + done, data + done + len);
        done += len;
    } while (done < size);
    const uint32_t adler = adler32_update(1, data, size);
    for (int shift = 24; shift >= 0; shift -= 8) z.push_back(static_cast<uint8_t>(adler >> shift));
    return z;
}
