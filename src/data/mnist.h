// mnist.h — the MNIST reader: IDX files (LeCun's format), validated up front,
// read one batch at a time by seeking to each image, so memory does not grow
// with the dataset.
//
// IDX layout (big-endian): u32 magic (0x00000803 images, 0x00000801 labels),
// u32 count, then for images u32 rows, u32 cols, then count*rows*cols bytes
// (row-major, 0 = background) or count label bytes.
//
// Leaves out: gzip (a .gz file is recognised and refused with a hint), IDX
// types other than unsigned bytes.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

constexpr int kMnistSide = 28;  // every MNIST image is 28 x 28
constexpr int kMnistPixels = kMnistSide * kMnistSide;

// An open, validated IDX file. All errors are std::runtime_error whose message
// starts with the file's path.
class IdxFile {
public:
    enum class Kind { Images, Labels };
    IdxFile(const std::string& path, Kind kind);

    const std::string& path() const { return path_; }
    uint32_t count() const { return count_; }

    // pixels (n, 28, 28) = the images at the given indices (each < count()).
    void read_images(uint8_t* pixels, const uint32_t* indices, int n);
    // labels (n) = the labels at the given indices; a label above 9 is an error.
    void read_labels(uint8_t* labels, const uint32_t* indices, int n);

private:
    void read_at(uint8_t* dst, int64_t offset, int64_t bytes);

    std::string path_;
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file_{nullptr, &std::fclose};
    uint32_t count_ = 0;
    int64_t header_bytes_ = 0;
    int64_t item_bytes_ = 0;  // 784 for images, 1 for labels
};

// The image and label files of one MNIST set ("train" or "t10k").
class MnistSet {
public:
    // Finds <prefix>-images-idx3-ubyte (or the dotted spelling
    // <prefix>-images.idx3-ubyte) and the labels in dir, and checks that
    // they agree in count.
    MnistSet(const std::string& dir, const std::string& prefix);

    uint32_t size() const { return images_.count(); }
    void read_batch(uint8_t* pixels, uint8_t* labels, const uint32_t* indices, int n);

private:
    IdxFile images_, labels_;
};

// The path of an MNIST file in dir, trying both spellings; throws with a
// how-to-get-it hint when neither exists.
std::string find_mnist_file(const std::string& dir, const std::string& prefix,
                            const std::string& what /* "images" or "labels" */);
