// tests/test_data.cpp — the readers and writers: IDX files (good and crafted
// bad ones), the data split and order, preprocessing against hand-computed
// bilinear values, PGM round trips and bad PGMs, checkpoint round trips,
// corruption, and a checkpoint written byte by byte from docs/checkpoint-format.md.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include <unistd.h>

#include "app/batch_loader.h"
#include "app/checkpoint.h"
#include "app/train.h"
#include "catch.hpp"
#include "data/augment.h"
#include "data/mnist.h"
#include "data/pgm.h"
#include "data/preprocess.h"
#include "fast/thread_pool.h"
#include "helpers.h"
#include "nn/model.h"
#include "nn/rng.h"

namespace {

std::string be32(uint32_t v) {
    return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

// An IDX image file of count images where pixel p of image i is (i + p) % 256.
std::string idx_images(uint32_t count, uint32_t rows = 28, uint32_t cols = 28, uint32_t magic = 0x803) {
    std::string s = be32(magic) + be32(count) + be32(rows) + be32(cols);
    for (uint32_t i = 0; i < count; ++i)
        for (uint32_t p = 0; p < rows * cols; ++p) s += static_cast<char>((i + p) % 256);
    return s;
}

std::string idx_labels(uint32_t count, uint32_t magic = 0x801) {
    std::string s = be32(magic) + be32(count);
    for (uint32_t i = 0; i < count; ++i) s += static_cast<char>(i % 10);
    return s;
}

// A directory holding train-* (or t10k-*) files with the given contents.
std::string make_set(const std::string& images, const std::string& labels, const std::string& prefix = "train",
                     bool dotted = false) {
    const std::string dir = temp_path("mnist");
    ::mkdir(dir.c_str(), 0755);
    const std::string sep = dotted ? "." : "-";
    write_file(dir + "/" + prefix + "-images" + sep + "idx3-ubyte", images);
    write_file(dir + "/" + prefix + "-labels" + sep + "idx1-ubyte", labels);
    return dir;
}


}  // namespace

// ---------------------------------------------------------------------------
// IDX

TEST_CASE("IDX reader reads batches by index, both file spellings", "[idx]") {
    for (bool dotted : {false, true}) {
        const std::string dir = make_set(idx_images(5), idx_labels(5), "train", dotted);
        MnistSet set(dir, "train");
        REQUIRE(set.size() == 5);
        const uint32_t indices[3] = {4, 0, 2};
        std::vector<uint8_t> pixels(3 * kMnistPixels), labels(3);
        set.read_batch(pixels.data(), labels.data(), indices, 3);
        CHECK(labels == std::vector<uint8_t>{4, 0, 2});
        CHECK(pixels[0] == 4);                        // image 4, pixel 0
        CHECK(pixels[kMnistPixels + 783] == 783 % 256);  // image 0, pixel 783
        CHECK(pixels[2 * kMnistPixels + 10] == 12);   // image 2, pixel 10
    }
}

TEST_CASE("an IDX file that shrinks while open: a short read, then a clear error", "[idx][errors]") {
    const std::string dir = make_set(idx_images(10), idx_labels(10), "train", false);
    const std::string path = dir + "/train-images-idx3-ubyte";
    IdxFile images(path, IdxFile::Kind::Images);
    // Cut the file 100 bytes into image 5: pread returns those 100 bytes,
    // the reader asks for the rest, and gets nothing.
    REQUIRE(::truncate(path.c_str(), 16 + 5 * kMnistPixels + 100) == 0);
    std::vector<uint8_t> pixels(kMnistPixels);
    const uint32_t before[1] = {4};
    images.read_images(pixels.data(), before, 1);  // still whole
    CHECK(pixels[0] == 4);
    const uint32_t cut[1] = {5};
    // errno as an earlier interrupted call may have left it: only a failed
    // read (-1) with EINTR is retried; the end of the file (0) is not, even
    // then, or the reader would spin on it for ever.
    errno = EINTR;
    CHECK_THROWS_WITH(images.read_images(pixels.data(), cut, 1),
                      path + ": read failed at byte " + std::to_string(16 + 5 * kMnistPixels + 100) +
                          " (file shrank?)");
}

TEST_CASE("the batch loader gives each step the batch read now would give, prefetched or not, and a shrunk file's "
          "error on the training thread",
          "[idx][loader]") {
    const std::string dir = make_set(idx_images(9), idx_labels(9), "train", false);
    MnistSet set(dir, "train");
    const ModelConfig config{1, 39, 1, 10};
    BatchRecipe recipe;
    recipe.config = &config;
    recipe.augment = true;
    recipe.elastic = 5.0f;
    recipe.seed = 3;
    ThreadPool pool(2);
    const uint32_t order[9] = {8, 1, 5, 0, 7, 2, 6, 3, 4};
    // What step s reads now: images order[3s .. 3s+3), augmented from (seed, s).
    auto direct = [&](int64_t step) {
        std::vector<uint8_t> pixels(3 * kMnistPixels), labels(3);
        set.read_batch(pixels.data(), labels.data(), order + 3 * step, 3);
        std::vector<float> input(3 * 39 * 39);
        const uint64_t seed = Rng(recipe.seed ^ (static_cast<uint64_t>(step + 1) << 20)).next_u64();
        preprocess_mnist_batch(input.data(), pixels.data(), 3, 39, 1, pool, true, seed, 5.0f);
        return std::make_pair(input, labels);
    };
    auto same = [&](const TrainingBatch& b, int64_t step) {
        const auto want = direct(step);
        return b.step == step && b.n == 3 && std::equal(want.first.begin(), want.first.end(), b.input.ptr()) &&
               std::equal(want.second.begin(), want.second.end(), b.labels.begin());
    };
    BatchLoader loader(set, recipe, 3);
    CHECK(same(loader.take(0, order, 3, pool), 0));  // nothing prefetched: read now
    loader.prefetch(1, order + 3, 3);
    CHECK(same(loader.take(1, order + 3, 3, pool), 1));  // prefetched
    loader.prefetch(2, order + 6, 3);
    CHECK(same(loader.take(0, order, 3, pool), 0));  // a prefetch for another step is dropped
    // The file shrinks before the prefetch reads it: the loader's thread
    // fails, take() reads again, and the error is thrown on this thread.
    REQUIRE(::truncate((dir + "/train-images-idx3-ubyte").c_str(), 16 + 2 * kMnistPixels) == 0);
    loader.prefetch(2, order + 6, 3);
    CHECK_THROWS_WITH(loader.take(2, order + 6, 3, pool), Catch::Contains("(file shrank?)"));
}

TEST_CASE("evaluation batches cross the end of the set: 5 images in batches of 2", "[idx]") {
    ThreadPool pool(1);
    const std::string dir = make_set(idx_images(5), idx_labels(5), "t10k");
    MnistSet set(dir, "t10k");
    Model model(ModelConfig{1, 39, 1, 10}, 2);
    model.init_weights(1);
    const uint32_t indices[5] = {0, 1, 2, 3, 4};
    const EvalResult r = evaluate(model, set, indices, 5, pool);
    CHECK(r.total == 5);
    int64_t counted = 0;
    for (const auto& row : r.confusion)
        for (int64_t c : row) counted += c;
    CHECK(counted == 5);
    CHECK(r.confusion[4][0] + r.confusion[4][1] + r.confusion[4][2] + r.confusion[4][3] + r.confusion[4][4] +
              r.confusion[4][5] + r.confusion[4][6] + r.confusion[4][7] + r.confusion[4][8] + r.confusion[4][9] == 1);
}

TEST_CASE("IDX reader refuses bad files with a message naming the file", "[idx][errors]") {
    const std::string good_labels = idx_labels(3);
    struct Case {
        std::string images, expected;
    } cases[] = {
        {idx_images(3, 28, 28, 0x801), "not an IDX image file (magic 0x00000801, expected 0x00000803)"},
        {idx_images(3).substr(0, 16 + 2 * 784 + 100), "(truncated?)"},
        {idx_images(3) + "xx", "(trailing data?)"},
        {idx_images(3, 32, 32), "images are 32x32, expected 28x28"},
        {std::string("\x1f\x8b\x08\x00", 4) + std::string(100, '\0'), "gzip-compressed; run gunzip on it"},
        {std::string("\x1f\x8b", 2), "gzip-compressed"},  // the two magic bytes alone are enough to tell
        {"", "too short for an IDX header"},
        {idx_images(0), "holds 0 items"},
        // A header that claims 4 billion images: refused by size, nothing allocated.
        {be32(0x803) + be32(0xFFFFFFFF) + be32(28) + be32(28) + std::string(784, '\0'), "(truncated?)"},
    };
    for (const Case& c : cases) {
        const std::string dir = make_set(c.images, good_labels);
        const std::string message = error_of([&] { MnistSet set(dir, "train"); });
        INFO(message);
        CHECK(message.find(dir + "/train-images-idx3-ubyte: ") == 0);
        CHECK(message.find(c.expected) != std::string::npos);
    }
    {
        const std::string dir = make_set(idx_images(3), idx_labels(4));
        CHECK_THAT(error_of([&] { MnistSet set(dir, "train"); }), Catch::Contains("holds 4 labels but"));
    }
    {
        std::string labels = idx_labels(3);
        labels[8 + 1] = 12;  // label of item 1
        labels[8 + 2] = 10;  // item 2: the first value past the digits
        const std::string dir = make_set(idx_images(3), labels);
        MnistSet set(dir, "train");
        const uint32_t index = 1, ten = 2;
        uint8_t pixels[kMnistPixels], label;
        CHECK_THAT(error_of([&] { set.read_batch(pixels, &label, &index, 1); }),
                   Catch::Contains("label 12 of item 1 is not a digit"));
        CHECK_THAT(error_of([&] { set.read_batch(pixels, &label, &ten, 1); }),
                   Catch::Contains("label 10 of item 2 is not a digit"));
        const uint32_t past_end = 3;
        CHECK_THAT(error_of([&] { set.read_batch(pixels, &label, &past_end, 1); }), Catch::Contains("out of range"));
    }
    {
        const std::string dir = temp_path("empty_dir");
        ::mkdir(dir.c_str(), 0755);
        const std::string message = error_of([&] { MnistSet set(dir, "train"); });
        CHECK_THAT(message, Catch::Contains("train-images-idx3-ubyte: not found"));
        CHECK_THAT(message, Catch::Contains("make data"));
        write_file(dir + "/train-images-idx3-ubyte.gz", std::string("\x1f\x8b\x08", 3));
        CHECK_THAT(error_of([&] { MnistSet set(dir, "train"); }),
                   Catch::Contains("train-images-idx3-ubyte: not found, but a .gz of it is there; run gunzip on it"));
        ::mkdir((dir + "/train-images-idx3-ubyte").c_str(), 0755);
        write_file(dir + "/train-labels-idx1-ubyte", idx_labels(1));
        CHECK_THAT(error_of([&] { MnistSet set(dir, "train"); }), Catch::Contains("is a directory"));
    }
}

TEST_CASE("the split and epoch order are seeded permutations", "[idx]") {
    const DataSplit split = split_indices(100, 0.2, 7);
    CHECK(split.train_count == 80);
    CHECK(split.indices == split_indices(100, 0.2, 7).indices);
    CHECK(split.indices != split_indices(100, 0.2, 8).indices);
    std::vector<uint32_t> sorted = split.indices;
    std::sort(sorted.begin(), sorted.end());
    for (uint32_t i = 0; i < 100; ++i) REQUIRE(sorted[i] == i);

    // Epoch orders: permutations of the training range, different per epoch,
    // reproducible by replaying the epochs before.
    std::vector<uint32_t> e0(split.indices.begin(), split.indices.begin() + 80);
    const std::vector<uint32_t> train_set_sorted = [&] { auto t = e0; std::sort(t.begin(), t.end()); return t; }();
    order_for_epoch(e0.data(), 80, 7, 0, true);
    std::vector<uint32_t> e1 = e0;
    order_for_epoch(e1.data(), 80, 7, 1, true);
    CHECK(e0 != e1);
    std::vector<uint32_t> replay(split.indices.begin(), split.indices.begin() + 80);
    for (int e = 0; e <= 1; ++e) order_for_epoch(replay.data(), 80, 7, e, true);
    CHECK(replay == e1);
    auto e1_sorted = e1;
    std::sort(e1_sorted.begin(), e1_sorted.end());
    CHECK(e1_sorted == train_set_sorted);
    order_for_epoch(e1.data(), 80, 7, 2, false);
    CHECK(e1 == train_set_sorted);  // --no-shuffle: file order
    CHECK(split_indices(100, 0.0, 7).train_count == 100);
}

// ---------------------------------------------------------------------------
// Preprocessing

TEST_CASE("bilinear resize matches PyTorch's align_corners=False on hand-computed cases", "[preprocess]") {
    // [[0,1],[2,3]] -> 4x4: taps at source 0, .25, .75, 1 (clamped at both ends)
    const float in[4] = {0, 1, 2, 3};
    float out[16];
    resize_bilinear(out, 4, 4, in, 2, 2);
    const float expected[16] = {0, 0.25f, 0.75f, 1, 0.5f, 0.75f, 1.25f, 1.5f,
                                1.5f, 1.75f, 2.25f, 2.5f, 2, 2.25f, 2.75f, 3};
    for (int i = 0; i < 16; ++i) CHECK(out[i] == Approx(expected[i]));
    // Downscale 4 -> 2 averages pixel pairs: source 0.5 and 2.5.
    const float row[4] = {0, 2, 4, 8};
    float half[2];
    resize_bilinear(half, 1, 2, row, 1, 4);
    CHECK(half[0] == Approx(1.0));
    CHECK(half[1] == Approx(6.0));
}

TEST_CASE("MNIST bytes go through bytes/255 then the 28->S resize, replicated to C channels", "[preprocess]") {
    ThreadPool pool(2);
    std::vector<uint8_t> pixels(kMnistPixels);
    for (int i = 0; i < kMnistPixels; ++i) pixels[i] = static_cast<uint8_t>(i % 251);
    std::vector<float> out(3 * 56 * 56);
    preprocess_mnist_batch(out.data(), pixels.data(), 1, 56, 3, pool);
    std::vector<float> gray(kMnistPixels), expected(56 * 56);
    for (int i = 0; i < kMnistPixels; ++i) gray[i] = pixels[i] / 255.0f;
    resize_bilinear(expected.data(), 56, 56, gray.data(), 28, 28);
    for (int c = 0; c < 3; ++c)
        for (int i = 0; i < 56 * 56; ++i) REQUIRE(out[c * 56 * 56 + i] == expected[i]);
    // A PGM at 56x56 is first brought to 28x28.
    std::vector<float> big(56 * 56, 1.0f), from_big(56 * 56);
    preprocess_image(from_big.data(), big.data(), 56, 56, 56, 1);
    for (float v : from_big) REQUIRE(v == Approx(1.0f));
}

// ---------------------------------------------------------------------------
// PGM

TEST_CASE("PGM: P5 round trip, P2 with comments, 16-bit P5", "[pgm]") {
    std::vector<uint8_t> pixels(7 * 3);
    for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 12);
    const std::string path = temp_path("round.pgm");
    write_pgm(path, pixels.data(), 7, 3);
    const GrayImage image = read_pgm(path);
    REQUIRE(image.width == 7);
    REQUIRE(image.height == 3);
    for (size_t i = 0; i < pixels.size(); ++i) CHECK(image.pixels[i] == Approx(pixels[i] / 255.0f));

    const GrayImage p2 = parse_pgm("P2\n# a comment\n2 # width then height\n2\n# max\n10\n0 5\n10 # last\n 2\n", "p2");
    CHECK(p2.pixels == std::vector<float>{0.0f, 0.5f, 1.0f, 0.2f});

    const std::string p5_16 = std::string("P5 2 1 1000\n") + std::string("\x03\xe8\x01\xf4", 4);
    const GrayImage wide = parse_pgm(p5_16, "p5_16");
    CHECK(wide.pixels[0] == Approx(1.0f));
    CHECK(wide.pixels[1] == Approx(0.5f));
}

TEST_CASE("PGM: bad files are refused with the file name and the problem", "[pgm][errors]") {
    struct Case {
        std::string bytes, expected;
    } cases[] = {
        {"", "file is empty"},
        {"P7\n1 1\n255\n\x01", "not a PGM file"},
        {"P6\n1 1\n255\n\x01\x02\x03", "is a P6 file, not a grey map"},
        {"P5\n2 2\n0\n\x01\x02\x03\x04", "maxval is 0"},
        {"P5\n2 2\n70000\n", "maxval is larger than 65535"},
        {"P2\n-3 2\n255\n", "width is not a non-negative number"},
        {"P2\n3x 2\n255\n", "width is not a number"},
        {"P5\n100000 100000\n255\n", "width is larger than 16384"},
        {"P5\n0 5\n255\n", "has no pixels"},
        {"P5\n4 4\n255\n\x01\x02", "pixel data is truncated"},
        {"P2\n2 1\n9\n3 10\n", "pixel 1 is 10, above maxval 9"},
        {"P2\n2 1\n9\n3\n", "file ends before the pixel value"},
        {"P2\n3 1\n9\n3", "pixel data is truncated: 3x1 needs at least 5 bytes, the file has 2"},
        {"P2 16384 16384 255 1 2 3", "pixel data is truncated: 16384x16384 needs at least 536870911 bytes"},
        {"P5\n1 1\n255\n\x01garbage", "unexpected data after the image"},
        {"P2 1 1 255 7 8", "unexpected data after the image"},
        {"P5\n2 2\n255", "file ends before the pixel data"},
        {std::string("\x1f\x8b\x08", 3), "gzip-compressed"},
    };
    for (const Case& c : cases) {
        const std::string path = temp_path("bad.pgm");
        write_file(path, c.bytes);
        const std::string message = error_of([&] { read_pgm(path); });
        INFO("input " << c.bytes.substr(0, 20) << " -> " << message);
        CHECK(message.find(path + ": ") == 0);
        CHECK(message.find(c.expected) != std::string::npos);
    }
    CHECK_THAT(error_of([] { read_pgm("/nonexistent/x.pgm"); }), Catch::Contains("No such file"));
    CHECK_THAT(error_of([] { read_pgm("/tmp"); }), Catch::Contains("is a directory"));
}

// ---------------------------------------------------------------------------
// Checkpoints

TEST_CASE("checkpoint round trip keeps weights, Adam moments and training state", "[checkpoint]") {
    Model model(ModelConfig{2, 40, 3, 10}, 1);
    model.init_weights(3);
    TrainingState state;
    state.optimizer.step = 1234;
    state.seed = 99;
    state.batch_size = 16;
    state.train_count = 777;
    state.lr = 3e-4;
    state.optimizer.m = random_vector(model.parameter_count(), 1);
    state.optimizer.v = random_vector(model.parameter_count(), 2, 0, 1);
    const std::string path = temp_path("round.model");
    save_checkpoint(path, model, &state);
    const Checkpoint ck = load_checkpoint(path);
    CHECK(ck.config.filters == 2);
    CHECK(ck.config.image_size == 40);
    CHECK(ck.config.channels == 3);
    CHECK_FALSE(ck.config.lrn);
    CHECK(ck.config.pool_window == 2);
    CHECK(ck.params == model.params);
    REQUIRE(ck.has_training_state);
    CHECK(ck.training.optimizer.step == 1234);
    CHECK(ck.training.seed == 99);
    CHECK(ck.training.batch_size == 16);
    CHECK(ck.training.train_count == 777);
    CHECK(ck.training.lr == 3e-4);
    CHECK(ck.training.optimizer.m == state.optimizer.m);
    CHECK(ck.training.optimizer.v == state.optimizer.v);

    model.config.lrn = true;  // no parameters of their own: only the flags change
    model.config.pool_window = 3;
    save_checkpoint(path, model, nullptr);  // weights only, replacing the old file
    const Checkpoint weights_only = load_checkpoint(path);
    CHECK_FALSE(weights_only.has_training_state);
    CHECK(weights_only.config.lrn);
    CHECK(weights_only.config.pool_window == 3);
    CHECK(weights_only.params == model.params);
    struct stat st;
    CHECK(::stat((path + ".tmp").c_str(), &st) != 0);  // the temporary is gone
}

TEST_CASE("checkpoint loader refuses corrupt, truncated and foreign files", "[checkpoint][errors]") {
    Model model(ModelConfig{1, 39, 1, 10}, 1);
    model.init_weights(3);
    const std::string path = temp_path("good.model");
    save_checkpoint(path, model, nullptr);
    const std::string good = read_file(path);
    auto load_bytes = [&](const std::string& bytes) {
        const std::string p = temp_path("bad.model");
        write_file(p, bytes);
        const std::string message = error_of([&] { load_checkpoint(p); });
        CHECK(message.find(p + ": ") == 0);
        return message;
    };
    std::string flipped = good;
    flipped[good.size() / 2] ^= 0x10;
    CHECK_THAT(load_bytes(flipped), Catch::Contains("CRC-32 mismatch"));
    CHECK_THAT(load_bytes(good.substr(0, good.size() - 100)), Catch::Contains("(truncated?)"));
    CHECK_THAT(load_bytes(""), Catch::Contains("file is empty"));
    CHECK_THAT(load_bytes("NOTAMODEL..........................."), Catch::Contains("bad magic"));
    std::string version = good;
    version[8] = 2;
    CHECK_THAT(load_bytes(version), Catch::Contains("checkpoint version 2"));
    std::string filters = good;
    filters[12] = 2;  // filters 2: the tensors no longer fit the file
    CHECK_THAT(load_bytes(filters), Catch::Contains("needs"));
    std::string huge = good;
    huge[16] = 0;
    huge[17] = 0x10;  // image size 4096
    CHECK_THAT(load_bytes(huge), Catch::Contains("image size 4096 out of range"));
    std::string unknown_flag = good;
    unknown_flag[28] = 8;  // flags: bit 3 means nothing (yet)
    CHECK_THAT(load_bytes(unknown_flag), Catch::Contains("unknown flags 8"));
    std::string renamed = good;
    renamed[good.find("conv2.weight")] = 'k';
    CHECK_THAT(load_bytes(renamed), Catch::Contains("tensor 'konv2.weight' found where 'conv2.weight'"));
    CHECK_THAT(error_of([] { load_checkpoint("/nonexistent.model"); }), Catch::Contains("train one first"));
}

TEST_CASE("a checkpoint written byte by byte from the documented format loads", "[checkpoint]") {
    // What an outside tool would do (docs/checkpoint-format.md): little-endian
    // fields, every tensor with its name and shape, no training state, CRC-32.
    // Flags bit 1 asks for LRN, bit 2 for 3x3 pooling; 0 is what every file
    // written before they existed holds.
    const uint32_t flags = GENERATE(0u, 2u, 4u, 6u);
    const ModelConfig config{1, 39, 1, 10};
    const std::vector<ParamInfo> layout = parameter_layout(config).in_order();
    std::string bytes = "ALEXNETC";
    auto u32 = [&](uint32_t v) { bytes.append(reinterpret_cast<const char*>(&v), 4); };
    u32(1);                                  // version
    u32(1); u32(39); u32(1); u32(10);        // filters, image size, channels, classes
    u32(flags);                              // weights only, and the network's options
    u32(static_cast<uint32_t>(layout.size()));
    std::vector<float> expected;
    for (const ParamInfo& p : layout) {
        u32(static_cast<uint32_t>(p.name.size()));
        bytes += p.name;
        u32(static_cast<uint32_t>(p.shape.size()));
        for (int d : p.shape) u32(static_cast<uint32_t>(d));
        for (int64_t i = 0; i < p.size; ++i) {
            const float v = 0.001f * static_cast<float>(i % 17) - 0.008f;
            expected.push_back(v);
            bytes.append(reinterpret_cast<const char*>(&v), 4);
        }
    }
    u32(crc32_update(0, bytes.data(), bytes.size()));
    const std::string path = temp_path("outside.model");
    write_file(path, bytes);
    const Checkpoint ck = load_checkpoint(path);
    CHECK(ck.params == expected);
    CHECK_FALSE(ck.has_training_state);
    CHECK(ck.config.lrn == ((flags & 2) != 0));
    CHECK(ck.config.pool_window == (flags & 4 ? 3 : 2));
    CHECK(crc32_update(0, "123456789", 9) == 0xCBF43926u);  // the standard CRC-32 check value
}

TEST_CASE("to_mnist_form: MNIST images unchanged, drawings inverted, cropped, fitted to 20x20, centred", "[preprocess]") {
    // A 28x28 light-on-dark image is already in MNIST form.
    std::vector<float> mnist(kMnistPixels, 0.0f), out(kMnistPixels);
    for (int y = 5; y < 20; ++y) mnist[y * 28 + 9] = 1.0f;
    CHECK(to_mnist_form(out.data(), mnist.data(), 28, 28) == MnistForm::AsIs);
    CHECK(out == mnist);

    // A dark bar 40 high and 10 wide, off-centre on a light 100 x 60 canvas.
    const int h = 100, w = 60;
    std::vector<float> drawing(h * w, 0.9f);
    for (int y = 10; y < 50; ++y)
        for (int x = 5; x < 15; ++x) drawing[y * w + x] = 0.1f;
    CHECK(to_mnist_form(out.data(), drawing.data(), h, w) == MnistForm::Placed);
    int top = 28, bottom = -1, left = 28, right = -1;
    double mass = 0, my = 0, mx = 0, brightest = 0;
    for (int y = 0; y < 28; ++y)
        for (int x = 0; x < 28; ++x) {
            const float v = out[y * 28 + x];
            if (v > 0.5f) { top = std::min(top, y); bottom = std::max(bottom, y); left = std::min(left, x); right = std::max(right, x); }
            mass += v; my += v * (y + 0.5); mx += v * (x + 0.5);
            brightest = std::max<double>(brightest, v);
        }
    CHECK(bottom - top + 1 == 20);   // the long side fills 20 pixels
    CHECK(right - left + 1 == 5);    // aspect ratio kept: 40:10 -> 20:5
    CHECK(brightest == Approx(1.0)); // inverted and stretched: the digit is light
    CHECK(out[0] == 0.0f);           // on a dark background
    CHECK(std::fabs(my / mass - 14.0) <= 0.5);  // centre of mass at the centre
    CHECK(std::fabs(mx / mass - 14.0) <= 0.5);
}

TEST_CASE("to_mnist_form: the border decides the background, not the majority of the pixels", "[preprocess]") {
    // A light square covering 64% of a dark 40 x 40 canvas: most pixels are
    // light, but the one-pixel border is dark, so this is light ink on a dark
    // background and must not be inverted.
    const int side = 40;
    std::vector<float> drawing(side * side, 0.0f), out(kMnistPixels);
    for (int y = 4; y < 36; ++y)
        for (int x = 4; x < 36; ++x) drawing[y * side + x] = 0.9f;
    CHECK(to_mnist_form(out.data(), drawing.data(), side, side) == MnistForm::Placed);
    CHECK(out[14 * 28 + 14] > 0.5f);  // the square is the (light) digit
    CHECK(out[0] == 0.0f);            // on a dark background
    // The same picture with colours swapped is a dark square on light: inverted
    // to the same MNIST form.
    std::vector<float> swapped(drawing.size()), out_swapped(kMnistPixels);
    for (size_t i = 0; i < drawing.size(); ++i) swapped[i] = 0.9f - drawing[i];
    to_mnist_form(out_swapped.data(), swapped.data(), side, side);
    const MaxDiff d = max_abs_diff(out.data(), out_swapped.data(), out.size());
    INFO("max diff " << d.diff << " at " << d.index);
    CHECK(d.diff < 1e-5);
}

TEST_CASE("augmentation: identity, a one-pixel shift, a quarter turn, and seeded draws over their whole ranges", "[augment]") {
    std::vector<float> in(kMnistPixels), out(kMnistPixels);
    for (int p = 0; p < kMnistPixels; ++p) in[p] = static_cast<float>(p % 97) / 97.0f;
    augment_image(out.data(), in.data(), Augmentation{});
    CHECK(out == in);  // no change: every sample lands on a pixel centre
    Augmentation shift;
    shift.shift_x = 1.0f;  // one pixel to the right; column 0 comes from outside: background 0
    augment_image(out.data(), in.data(), shift);
    for (int y = 0; y < kMnistSide; ++y) {
        CHECK(out[y * kMnistSide] == 0.0f);
        for (int x = 1; x < kMnistSide; ++x)
            if (out[y * kMnistSide + x] != in[y * kMnistSide + x - 1]) FAIL("pixel " << x << "," << y);
    }
    Augmentation turn;
    turn.angle = static_cast<float>(3.14159265358979323846 / 2);  // a quarter turn about the centre
    std::vector<float> dot(kMnistPixels, 0.0f);
    dot[3 * kMnistSide + 20] = 1.0f;  // (x 20, y 3)
    augment_image(out.data(), dot.data(), turn);
    int brightest = 0;
    for (int p = 1; p < kMnistPixels; ++p)
        if (out[p] > out[brightest]) brightest = p;
    // x' - 14 = -(y - 14) + ... : the dot at (x 20, y 3), i.e. (+6.5, -10.5) from
    // the centre in pixel-centre coordinates, turns to (+10.5, +6.5): (x 24, y 20).
    CHECK(brightest == 20 * kMnistSide + 24);
    CHECK(out[brightest] > 0.99f);
    // Draws: in range and reaching close to both ends of it, repeatable,
    // different for another seed.
    Augmentation low{100, 100, 100, 100}, high{-100, -100, -100, -100};
    for (uint64_t seed = 0; seed < 200; ++seed) {
        const Augmentation a = random_augmentation(seed);
        CHECK(std::fabs(a.shift_x) <= 2.0f);
        CHECK(std::fabs(a.shift_y) <= 2.0f);
        CHECK(a.scale >= 0.9f);
        CHECK(a.scale <= 1.1f);
        CHECK(std::fabs(a.angle) <= 0.1746f);
        low = {std::min(low.shift_x, a.shift_x), std::min(low.shift_y, a.shift_y), std::min(low.scale, a.scale),
               std::min(low.angle, a.angle)};
        high = {std::max(high.shift_x, a.shift_x), std::max(high.shift_y, a.shift_y), std::max(high.scale, a.scale),
                std::max(high.angle, a.angle)};
    }
    // 200 uniform draws miss the outer 10% of a range with probability 0.9^200 ≈ 7e-10.
    CHECK(low.shift_x < -1.8f);
    CHECK(high.shift_x > 1.8f);
    CHECK(low.shift_y < -1.8f);
    CHECK(high.shift_y > 1.8f);
    CHECK(low.scale < 0.92f);
    CHECK(high.scale > 1.08f);
    CHECK(low.angle < -0.157f);  // 9 degrees
    CHECK(high.angle > 0.157f);
    CHECK(random_augmentation(5).shift_x == random_augmentation(5).shift_x);
    CHECK(random_augmentation(5).angle != random_augmentation(6).angle);
}

TEST_CASE("augmented batches: the same for any thread count, different from plain ones", "[augment]") {
    const int n = 5, size = 39;
    std::vector<uint8_t> pixels(n * kMnistPixels);
    for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>((i * 7) % 256);
    std::vector<float> one(n * size * size), three(one.size()), plain(one.size());
    {
        ThreadPool pool1(1), pool3(3);
        preprocess_mnist_batch(one.data(), pixels.data(), n, size, 1, pool1, true, 42);
        preprocess_mnist_batch(three.data(), pixels.data(), n, size, 1, pool3, true, 42);
        preprocess_mnist_batch(plain.data(), pixels.data(), n, size, 1, pool1);
    }
    CHECK(std::memcmp(one.data(), three.data(), sizeof(float) * one.size()) == 0);
    CHECK(one != plain);
}

TEST_CASE("elastic distortion: a constant field shifts, a seeded field is smooth, bounded by alpha, repeatable",
          "[augment]") {
    std::vector<float> in(kMnistPixels), out(kMnistPixels);
    for (int p = 0; p < kMnistPixels; ++p) in[p] = static_cast<float>(p % 89) / 89.0f;
    // A displacement of +1 in x everywhere: output pixel x samples input x + 1.
    Displacement constant;
    std::fill(std::begin(constant.dx), std::end(constant.dx), 1.0f);
    std::fill(std::begin(constant.dy), std::end(constant.dy), 0.0f);
    augment_image(out.data(), in.data(), Augmentation{}, &constant);
    for (int y = 0; y < kMnistSide; ++y) {
        CHECK(out[y * kMnistSide + kMnistSide - 1] == 0.0f);  // sampled from outside: background
        for (int x = 0; x + 1 < kMnistSide; ++x)
            if (out[y * kMnistSide + x] != in[y * kMnistSide + x + 1]) FAIL("pixel " << x << "," << y);
    }
    // Alpha 0: no displacement at all, so the image comes back unchanged.
    Displacement none;
    random_displacement(&none, 3, 0.0f);
    augment_image(out.data(), in.data(), Augmentation{}, &none);
    CHECK(out == in);
    // A seeded field: |d| <= alpha (the smoothing kernel sums to 1 and every
    // raw value is in [-1, 1]), not all zero, and smooth: neighbours differ by
    // far less than the field's spread.
    const float alpha = 34.0f;
    Displacement d, again, other;
    random_displacement(&d, 11, alpha);
    random_displacement(&again, 11, alpha);
    random_displacement(&other, 12, alpha);
    double sum_sq = 0.0, neighbour_sq = 0.0;
    for (int y = 0; y < kMnistSide; ++y)
        for (int x = 0; x < kMnistSide; ++x) {
            const int p = y * kMnistSide + x;
            CHECK(std::fabs(d.dx[p]) <= alpha);
            CHECK(std::fabs(d.dy[p]) <= alpha);
            sum_sq += d.dx[p] * d.dx[p];
            if (x + 1 < kMnistSide) neighbour_sq += std::pow(d.dx[p + 1] - d.dx[p], 2);
        }
    const double spread = std::sqrt(sum_sq / kMnistPixels);
    const double step = std::sqrt(neighbour_sq / (kMnistSide * (kMnistSide - 1)));
    INFO("rms displacement " << spread << " px, rms neighbour difference " << step << " px");
    CHECK(spread > 0.3);        // a real wobble: about 1.4 px at alpha 34, sigma 4
    CHECK(spread < 5.0);
    CHECK(step < 0.25 * spread);  // uniform noise, unsmoothed, would give about 1.4 times the spread
    CHECK(std::memcmp(&d, &again, sizeof d) == 0);
    CHECK(std::memcmp(&d, &other, sizeof d) != 0);
    // In batches: the same for any thread count; the shifts, scales and
    // rotations stay those of --augment alone (the field has its own stream),
    // so the elastic images differ from the plain augmented ones only by the wobble.
    const int n = 4, size = 39;
    std::vector<uint8_t> pixels(n * kMnistPixels);
    for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>((i * 13) % 256);
    std::vector<float> one(n * size * size), three(one.size()), affine_only(one.size());
    ThreadPool pool1(1), pool3(3);
    preprocess_mnist_batch(one.data(), pixels.data(), n, size, 1, pool1, true, 42, alpha);
    preprocess_mnist_batch(three.data(), pixels.data(), n, size, 1, pool3, true, 42, alpha);
    preprocess_mnist_batch(affine_only.data(), pixels.data(), n, size, 1, pool1, true, 42);
    CHECK(std::memcmp(one.data(), three.data(), sizeof(float) * one.size()) == 0);
    CHECK(one != affine_only);
    std::vector<float> tiny(one.size());  // alpha near 0: nearly the affine-only images
    preprocess_mnist_batch(tiny.data(), pixels.data(), n, size, 1, pool1, true, 42, 1e-4f);
    const MaxDiff near = max_abs_diff(tiny.data(), affine_only.data(), tiny.size());
    INFO("alpha 1e-4 against no field: max diff " << near.diff);
    CHECK(near.diff < 1e-3);
}

TEST_CASE("resize_area averages the input area under each output pixel", "[preprocess]") {
    const float in[12] = {1, 3, 5, 7, 9, 11,
                          2, 4, 6, 8, 10, 12};
    float out[2];
    resize_area(out, 1, 2, in, 2, 6);  // each output covers a 2 x 3 block
    CHECK(out[0] == Approx((1 + 3 + 5 + 2 + 4 + 6) / 6.0));
    CHECK(out[1] == Approx((7 + 9 + 11 + 8 + 10 + 12) / 6.0));
    float third[1];
    const float row[3] = {0, 3, 6};
    resize_area(third, 1, 1, row, 1, 3);
    CHECK(third[0] == Approx(3.0));
    float two[2];
    resize_area(two, 1, 2, row, 1, 3);  // 1.5 input pixels per output: partial overlaps
    CHECK(two[0] == Approx((0 * 1.0 + 3 * 0.5) / 1.5));
    CHECK(two[1] == Approx((3 * 0.5 + 6 * 1.0) / 1.5));
}

TEST_CASE("resize_area reads only the input area under each output pixel: a NaN spoils only its own", "[preprocess]") {
    // 4x4 -> 2x2, each output the mean of a 2x2 block. A NaN at (1, 0) lies
    // in the block of output (0, 0) only; it is the pixel right after the
    // last column of row 0, so reading one column too far would spoil
    // output (0, 1) too.
    float in[16];
    for (int i = 0; i < 16; ++i) in[i] = static_cast<float>(i);
    in[4] = std::nanf("");
    float out[4];
    resize_area(out, 2, 2, in, 4, 4);
    CHECK(std::isnan(out[0]));
    CHECK(out[1] == Approx((2 + 3 + 6 + 7) / 4.0));
    CHECK(out[2] == Approx((8 + 9 + 12 + 13) / 4.0));
    CHECK(out[3] == Approx((10 + 11 + 14 + 15) / 4.0));
    // Likewise down the rows: a NaN in the first pixel of the row after a block.
    float tall[12] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};  // 6 x 2 -> 2 x 1
    tall[6] = std::nanf("");                                 // row 3, column 0: the second block
    float column[2];
    resize_area(column, 2, 1, tall, 6, 2);
    CHECK(column[0] == Approx(1.0));
    CHECK(std::isnan(column[1]));
    // Upscaling by area: every output inside one input pixel is that pixel.
    const float two[2] = {2, 8};
    float four[4];
    resize_area(four, 1, 4, two, 1, 2);
    CHECK(four[0] == Approx(2.0));
    CHECK(four[1] == Approx(2.0));
    CHECK(four[2] == Approx(8.0));
    CHECK(four[3] == Approx(8.0));
}

TEST_CASE("to_mnist_form: a mid-grey border counts as dark; a digit is placed whole even when its mass is off-centre",
          "[preprocess]") {
    // A border of exactly 0.5 is not "light": the image is not inverted, and
    // the brighter stroke inside is the digit.
    const int side = 30;
    std::vector<float> grey(side * side, 0.5f), out(kMnistPixels);
    for (int y = 8; y < 22; ++y) grey[y * side + 15] = 1.0f;
    to_mnist_form(out.data(), grey.data(), side, side);
    float brightest = 0.0f;
    for (float v : out) brightest = std::max(brightest, v);
    CHECK(brightest == Approx(1.0));
    CHECK(out[0] == 0.0f);
    // The same stroke a hair above mid-grey: inverted, so the darker
    // surroundings of the stroke are the ink and fill the 20x20 box.
    std::vector<float> light = grey;
    for (int y = 0; y < side; ++y)
        for (int x = 0; x < side; ++x)
            if (y == 0 || x == 0 || y == side - 1 || x == side - 1) light[y * side + x] = 0.5001f;
    std::vector<float> inverted(kMnistPixels);
    to_mnist_form(inverted.data(), light.data(), side, side);
    CHECK(inverted != out);

    // An L whose mass sits in its long bottom bar: centring the mass alone
    // would push the top of the box off the 28x28 field, so it is clamped
    // at the edge and no ink is lost.
    const int h = 50, w = 50;
    std::vector<float> ell(h * w, 0.0f);
    for (int y = 5; y < 45; ++y) ell[y * w + 5] = 1.0f;                        // a thin upright
    for (int y = 35; y < 45; ++y)
        for (int x = 5; x < 45; ++x) ell[y * w + x] = 1.0f;                    // a heavy foot
    std::vector<float> placed(kMnistPixels);
    to_mnist_form(placed.data(), ell.data(), h, w);
    int top = 28, bottom = -1;
    double ink = 0;
    for (int y = 0; y < 28; ++y)
        for (int x = 0; x < 28; ++x) {
            const float v = placed[y * 28 + x];
            ink += v;
            if (v > 0.25f) { top = std::min(top, y); bottom = std::max(bottom, y); }  // the upright is half a pixel wide
        }
    CHECK(bottom - top + 1 == 20);  // the whole 20-pixel box is on the field
    CHECK(bottom <= 27);
    CHECK(top >= 0);
    CHECK(ink > 20 * 5);            // the foot (20 x 5 after scaling) is all there
}

TEST_CASE("augmentation at fractional offsets blends the four neighbours bilinearly", "[augment]") {
    std::vector<float> in(kMnistPixels), out(kMnistPixels);
    Rng rng(8);
    for (float& v : in) v = rng.uniform();
    for (auto [sx, sy] : {std::pair<float, float>{0.25f, 0.0f}, {0.0f, 0.5f}, {-0.75f, 0.25f}, {1.5f, -1.25f}}) {
        Augmentation a;
        a.shift_x = sx;
        a.shift_y = sy;
        augment_image(out.data(), in.data(), a);
        // Output pixel (x, y) samples the input at (x - sx, y - sy): between
        // columns floor(x - sx) and +1, weighted by the fractional part.
        auto at = [&](int y, int x) { return y >= 0 && y < 28 && x >= 0 && x < 28 ? in[y * 28 + x] : 0.0f; };
        double worst = 0.0;
        for (int y = 0; y < 28; ++y)
            for (int x = 0; x < 28; ++x) {
                const double px = x - sx, py = y - sy;
                const int x0 = static_cast<int>(std::floor(px)), y0 = static_cast<int>(std::floor(py));
                const double fx = px - x0, fy = py - y0;
                const double expected = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) +
                                        fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
                worst = std::max(worst, std::fabs(out[y * 28 + x] - expected));
            }
        INFO("shift " << sx << ", " << sy << ": max diff " << worst);
        CHECK(worst < 1e-5);
    }
    // A scale of 2 about the centre: output pixel (x, y) samples (14 + (x + 0.5 - 14) / 2 - 0.5, ...).
    Augmentation zoom;
    zoom.scale = 2.0f;
    augment_image(out.data(), in.data(), zoom);
    // Output column 14 samples input column 14 + 0.25 - 0.5 = 13.75: a quarter of 13, three quarters of 14.
    CHECK(out[14 * 28 + 14] == Approx(0.0625 * in[13 * 28 + 13] + 0.1875 * in[13 * 28 + 14] +
                                      0.1875 * in[14 * 28 + 13] + 0.5625 * in[14 * 28 + 14]).epsilon(1e-5));
}

TEST_CASE("the elastic field is uniform noise smoothed by a Gaussian of the given sigma, times alpha", "[augment]") {
    for (float sigma : {4.0f, 2.0f, 1.0f}) {
        Displacement d;
        const float alpha = 3.0f;
        random_displacement(&d, 21, alpha, sigma);
        // The same draws, smoothed in double by the Gaussian written out here:
        // taps exp(-t² / 2σ²) for |t| <= 3σ, normalised, zero outside the image.
        Rng rng(21);
        std::vector<double> raw_x(kMnistPixels), raw_y(kMnistPixels);
        for (double& v : raw_x) v = rng.uniform(-1.0f, 1.0f);
        for (double& v : raw_y) v = rng.uniform(-1.0f, 1.0f);
        const int r = static_cast<int>(std::ceil(3 * sigma));
        std::vector<double> taps(2 * r + 1);
        double total = 0;
        for (int t = -r; t <= r; ++t) total += taps[t + r] = std::exp(-0.5 * t * t / (sigma * sigma));
        auto smooth = [&](std::vector<double> f) {
            std::vector<double> rows(kMnistPixels, 0.0), out(kMnistPixels, 0.0);
            for (int y = 0; y < 28; ++y)
                for (int x = 0; x < 28; ++x)
                    for (int t = -r; t <= r; ++t)
                        if (x + t >= 0 && x + t < 28) rows[y * 28 + x] += taps[t + r] / total * f[y * 28 + x + t];
            for (int y = 0; y < 28; ++y)
                for (int x = 0; x < 28; ++x)
                    for (int t = -r; t <= r; ++t)
                        if (y + t >= 0 && y + t < 28) out[y * 28 + x] += taps[t + r] / total * rows[(y + t) * 28 + x];
            return out;
        };
        const auto expected_x = smooth(raw_x), expected_y = smooth(raw_y);
        double worst = 0;
        for (int p = 0; p < kMnistPixels; ++p) {
            worst = std::max(worst, std::fabs(d.dx[p] - alpha * expected_x[p]));
            worst = std::max(worst, std::fabs(d.dy[p] - alpha * expected_y[p]));
        }
        INFO("sigma " << sigma << ": max diff " << worst);
        CHECK(worst < 1e-5);
    }
}

TEST_CASE("to_mnist_form: a light digit's centre of mass lands on the field's centre, to the pixel", "[preprocess]") {
    // A dim vertical stroke (ink 0.3) with one full-ink pixel at its foot, on
    // a dark 40 x 40 image: a 20 x 1 box, kept at scale 1. Its mass is small
    // (6.7) and low (row 10.99 of the box), so the centre of mass rounds to a
    // box placed from row 3: the foot on row 22, the mass on row 13.99.
    const int side = 40;
    std::vector<float> image(side * side, 0.0f);
    for (int y = 10; y < 29; ++y) image[y * side + 20] = 0.3f;
    image[29 * side + 20] = 1.0f;
    std::vector<float> placed(kMnistPixels);
    REQUIRE(to_mnist_form(placed.data(), image.data(), side, side) == MnistForm::Placed);
    const auto brightest = std::max_element(placed.begin(), placed.end()) - placed.begin();
    CHECK(brightest / kMnistSide == 22);
    CHECK(brightest % kMnistSide == 14);
    double mass = 0.0, mass_y = 0.0;
    for (int y = 0; y < kMnistSide; ++y)
        for (int x = 0; x < kMnistSide; ++x) {
            mass += placed[y * kMnistSide + x];
            mass_y += placed[y * kMnistSide + x] * (y + 0.5);
        }
    CHECK(std::fabs(mass_y / mass - kMnistSide / 2.0) <= 0.5);
}

TEST_CASE("to_mnist_form: the clamp keeps a digit on the field on every side", "[preprocess]") {
    // Four shapes whose mass lies far to one side of their box: centring the
    // mass would push the box off the field on the opposite side.
    const int side = 50;
    auto shape = [&](int heavy_side) {  // 0: bottom, 1: top, 2: left, 3: right
        std::vector<float> image(side * side, 0.0f);
        for (int y = 5; y < 45; ++y)
            for (int x = 5; x < 45; ++x) {
                const bool heavy = heavy_side == 0 ? y >= 35 : heavy_side == 1 ? y < 15 : heavy_side == 2 ? x < 15 : x >= 35;
                const bool thin = heavy_side < 2 ? x == 5 : y == 5;  // a thin bar across, so the box stays 40 x 40
                if (heavy || thin) image[y * side + x] = 1.0f;
            }
        return image;
    };
    for (int heavy_side = 0; heavy_side < 4; ++heavy_side) {
        const std::vector<float> image = shape(heavy_side);
        std::vector<float> placed(kMnistPixels);
        REQUIRE(to_mnist_form(placed.data(), image.data(), side, side) == MnistForm::Placed);
        int top = 28, bottom = -1, left = 28, right = -1;
        for (int y = 0; y < 28; ++y)
            for (int x = 0; x < 28; ++x)
                if (placed[y * 28 + x] > 0.25f) {
                    top = std::min(top, y);
                    bottom = std::max(bottom, y);
                    left = std::min(left, x);
                    right = std::max(right, x);
                }
        INFO("heavy side " << heavy_side << ": box rows " << top << "-" << bottom << ", columns " << left << "-" << right);
        CHECK(bottom - top + 1 == 20);
        CHECK(right - left + 1 == 20);
        // Pushed against the edge opposite to its mass, and no further.
        if (heavy_side == 0) CHECK(top == 0);
        if (heavy_side == 1) CHECK(bottom == 27);
        if (heavy_side == 2) CHECK(right == 27);
        if (heavy_side == 3) CHECK(left == 0);
    }
}

TEST_CASE("to_mnist_form: the background is the mean of exactly the outermost rows and columns", "[preprocess]") {
    // A 10 x 10 frame: the top row dark, the other three sides light. Its
    // one-pixel border averages 0.72: light, so the dark inside is the ink
    // and, inverted, fills the middle of the field. (Taking the second-last
    // row for the last would average exactly 0.5 and leave it uninverted.)
    std::vector<float> frame(100, 0.0f);
    for (int y = 1; y < 10; ++y) frame[y * 10] = frame[y * 10 + 9] = 1.0f;
    for (int x = 0; x < 10; ++x) frame[90 + x] = 1.0f;
    std::vector<float> out(kMnistPixels);
    REQUIRE(to_mnist_form(out.data(), frame.data(), 10, 10) == MnistForm::Placed);
    CHECK(out[14 * 28 + 14] > 0.5f);
    // Blank: a uniform image, at any size, 28 x 28 included; and a 1 x 1.
    const std::vector<float> grey(kMnistPixels, 0.3f);
    CHECK(to_mnist_form(out.data(), grey.data(), 28, 28) == MnistForm::Blank);
    CHECK(to_mnist_form(out.data(), grey.data(), 20, 30) == MnistForm::Blank);
    const float one = 1.0f;
    CHECK(to_mnist_form(out.data(), &one, 1, 1) == MnistForm::Blank);
    for (float v : out) CHECK(v == 0.0f);
}

TEST_CASE("the bilinear resize's backward is its adjoint: <resize(x), y> = <x, backward(y)>", "[preprocess]") {
    for (auto [in_side, out_side] : {std::pair<int, int>{28, 56}, {28, 72}, {28, 39}, {5, 3}, {7, 7}}) {
        const auto x = random_vector(static_cast<size_t>(in_side) * in_side, 1);
        const auto y = random_vector(static_cast<size_t>(out_side) * out_side, 2);
        std::vector<float> rx(y.size()), by(x.size(), 7.0f);  // backward writes all of din, whatever it held
        resize_bilinear(rx.data(), out_side, out_side, x.data(), in_side, in_side);
        resize_bilinear_backward(by.data(), in_side, in_side, y.data(), out_side, out_side);
        double lhs = 0, rhs = 0;
        for (size_t i = 0; i < y.size(); ++i) lhs += static_cast<double>(rx[i]) * y[i];
        for (size_t i = 0; i < x.size(); ++i) rhs += static_cast<double>(x[i]) * by[i];
        INFO(in_side << " -> " << out_side);
        CHECK(lhs == Approx(rhs).epsilon(1e-5));
    }
}

TEST_CASE("IDX counts use all four header bytes: 70,000 labels", "[idx]") {
    // 70,000 = 0x00011170: the count's second byte is not zero.
    const std::string dir = temp_path("big_labels");
    ::mkdir(dir.c_str(), 0755);
    const std::string path = dir + "/labels";
    write_file(path, idx_labels(70000));
    IdxFile labels(path, IdxFile::Kind::Labels);
    CHECK(labels.count() == 70000);
    uint8_t last = 0;
    const uint32_t index = 69999;
    labels.read_labels(&last, &index, 1);
    CHECK(last == 69999 % 10);
}
