// checkpoint.cpp — the checkpoint writer and its strict reader.
#include "app/checkpoint.h"

#include <array>
#include <cmath>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

#include "data/errors.h"

// The format stores floats and integers little-endian, and this code writes
// and reads them as they sit in memory.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "checkpoint I/O assumes a little-endian CPU");

namespace {

// Limits on the configuration a checkpoint may ask for, so that a corrupt
// header cannot make the loader allocate without bound.
constexpr uint32_t kMaxFilters = 256;
constexpr uint32_t kMaxImageSize = 1024;
constexpr uint32_t kMaxNameLength = 64;
constexpr uint32_t kMaxRank = 4;

using File = std::unique_ptr<std::FILE, int (*)(std::FILE*)>;

// Writes little-endian fields and keeps a running CRC of all bytes written.
struct Writer {
    std::FILE* f;
    const std::string& path;
    uint32_t crc = 0;
    void bytes(const void* p, size_t n) {
        if (std::fwrite(p, 1, n, f) != n) fail(path, std::string("write failed: ") + std::strerror(errno));
        crc = crc32_update(crc, p, n);
    }
    void u32(uint32_t v) { bytes(&v, 4); }  // host order is little-endian (see header)
    void u64(uint64_t v) { bytes(&v, 8); }
    void f64(double v) { bytes(&v, 8); }
    void floats(const float* p, int64_t n) { bytes(p, sizeof(float) * n); }
};

// Reads fields, never past the end of the file, keeping a running CRC.
struct Reader {
    std::FILE* f;
    const std::string& path;
    int64_t remaining;
    uint32_t crc = 0;
    void bytes(void* p, size_t n, const char* what) {
        if (static_cast<int64_t>(n) > remaining || std::fread(p, 1, n, f) != n)
            fail(path, std::string("file is truncated (while reading ") + what + ")");
        remaining -= static_cast<int64_t>(n);
        crc = crc32_update(crc, p, n);
    }
    uint32_t u32(const char* what) { uint32_t v; bytes(&v, 4, what); return v; }
    uint64_t u64(const char* what) { uint64_t v; bytes(&v, 8, what); return v; }
    double f64(const char* what) { double v; bytes(&v, 8, what); return v; }
};

// The flags field: what the file holds besides the weights, and the layers
// without parameters that change what the weights compute. A file without
// bits 1 and 2 (every file written before they existed) is the plain network.
constexpr uint32_t kFlagTrainingState = 1u << 0;    // optimizer state follows the weights
constexpr uint32_t kFlagLrn = 1u << 1;              // ModelConfig::lrn
constexpr uint32_t kFlagOverlappingPool = 1u << 2;  // ModelConfig::pool_window == 3
constexpr uint32_t kKnownFlags = kFlagTrainingState | kFlagLrn | kFlagOverlappingPool;

uint32_t checkpoint_flags(const ModelConfig& config, bool training_state) {
    return (training_state ? kFlagTrainingState : 0) | (config.lrn ? kFlagLrn : 0) |
           (config.pool_window == 3 ? kFlagOverlappingPool : 0);
}

// Bytes a checkpoint of this layout must have, to check before allocating.
int64_t expected_file_size(const std::vector<ParamInfo>& layout, bool training_state) {
    int64_t bytes = 8 + 4 + 4 * 4 + 4 + 4;  // magic, version, config, flags, tensor count
    int64_t floats = 0;
    for (const ParamInfo& p : layout) {
        bytes += 4 + static_cast<int64_t>(p.name.size()) + 4 + 4 * static_cast<int64_t>(p.shape.size());
        floats += p.size;
    }
    bytes += 4 * floats;
    if (training_state) bytes += 8 + 8 + 4 + 4 + 8 + 2 * 4 * floats;
    return bytes + 4;  // CRC-32
}

}  // namespace

// ---------------------------------------------------------------------------
// Saving

void save_checkpoint(const std::string& path, const Model& model, const TrainingState* state) {
    const std::string tmp = path + ".tmp";
    File file(std::fopen(tmp.c_str(), "wb"), &std::fclose);
    if (!file) fail(tmp, std::string("cannot create: ") + std::strerror(errno));
    Writer w{file.get(), tmp};
    w.bytes(kCheckpointMagic, 8);
    w.u32(kCheckpointVersion);
    w.u32(model.config.filters);
    w.u32(model.config.image_size);
    w.u32(model.config.channels);
    w.u32(model.config.classes);
    w.u32(checkpoint_flags(model.config, state != nullptr));
    w.u32(static_cast<uint32_t>(model.param_info.size()));
    for (const ParamInfo& p : model.param_info) {
        w.u32(static_cast<uint32_t>(p.name.size()));
        w.bytes(p.name.data(), p.name.size());
        w.u32(static_cast<uint32_t>(p.shape.size()));
        for (int d : p.shape) w.u32(static_cast<uint32_t>(d));
        w.floats(model.params.data() + p.offset, p.size);
    }
    if (state) {
        w.u64(static_cast<uint64_t>(state->optimizer.step));
        w.u64(state->seed);
        w.u32(static_cast<uint32_t>(state->batch_size));
        w.u32(static_cast<uint32_t>(state->train_count));
        w.f64(state->lr);
        w.floats(state->optimizer.m.data(), model.parameter_count());
        w.floats(state->optimizer.v.data(), model.parameter_count());
    }
    const uint32_t crc = w.crc;
    w.u32(crc);
    if (std::fflush(file.get()) != 0 || ::fsync(fileno(file.get())) != 0)
        fail(tmp, std::string("write failed: ") + std::strerror(errno));
    if (std::fclose(file.release()) != 0) fail(tmp, std::string("write failed: ") + std::strerror(errno));
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
        fail(path, std::string("cannot replace with ") + tmp + ": " + std::strerror(errno));
}

// ---------------------------------------------------------------------------
// Loading

Checkpoint load_checkpoint(const std::string& path) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) fail(path, "no such model file; train one first with ./alexnet train");
        fail(path, std::strerror(errno));
    }
    if (S_ISDIR(st.st_mode)) fail(path, "is a directory, not a model file");
    File file(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!file) fail(path, std::string("cannot open: ") + std::strerror(errno));
    Reader r{file.get(), path, static_cast<int64_t>(st.st_size)};
    if (st.st_size == 0) fail(path, "file is empty");

    char magic[8];
    r.bytes(magic, 8, "magic");
    if (std::memcmp(magic, kCheckpointMagic, 8) != 0) fail(path, "not an alexnet checkpoint (bad magic)");
    const uint32_t version = r.u32("version");
    if (version != kCheckpointVersion)
        fail(path, "checkpoint version " + std::to_string(version) + ", this program reads version " +
                       std::to_string(kCheckpointVersion));

    Checkpoint ck;
    const uint32_t filters = r.u32("filters"), size = r.u32("image size");
    const uint32_t channels = r.u32("channels"), classes = r.u32("classes");
    if (filters < 1 || filters > kMaxFilters) fail(path, "filters " + std::to_string(filters) + " out of range 1-256");
    if (size < static_cast<uint32_t>(min_image_size()) || size > kMaxImageSize)
        fail(path, "image size " + std::to_string(size) + " out of range " +
                       std::to_string(min_image_size()) + "-" + std::to_string(kMaxImageSize));
    if (channels != 1 && channels != 3) fail(path, "channels " + std::to_string(channels) + " is not 1 or 3");
    if (classes != 10) fail(path, "classes " + std::to_string(classes) + " is not 10");
    ck.config = {static_cast<int>(filters), static_cast<int>(size), static_cast<int>(channels), 10};
    const uint32_t flags = r.u32("flags");
    if (flags & ~kKnownFlags) fail(path, "unknown flags " + std::to_string(flags));
    ck.has_training_state = flags & kFlagTrainingState;
    ck.config.lrn = flags & kFlagLrn;
    ck.config.pool_window = flags & kFlagOverlappingPool ? 3 : 2;

    const std::vector<ParamInfo> layout = parameter_layout(ck.config).in_order();
    const int64_t expected = expected_file_size(layout, ck.has_training_state);
    if (st.st_size != expected)
        fail(path, "file is " + std::to_string(st.st_size) + " bytes, but a model with filters " +
                       std::to_string(filters) + ", image size " + std::to_string(size) +
                       ", channels " + std::to_string(channels) + " needs " + std::to_string(expected) +
                       (st.st_size < expected ? " (truncated?)" : ""));

    const uint32_t count = r.u32("tensor count");
    if (count != layout.size())
        fail(path, "holds " + std::to_string(count) + " tensors, expected " + std::to_string(layout.size()));
    const int64_t total = layout.back().offset + layout.back().size;
    ck.params.resize(total);
    for (const ParamInfo& p : layout) {
        const uint32_t name_length = r.u32("tensor name length");
        if (name_length > kMaxNameLength) fail(path, "tensor name too long (" + std::to_string(name_length) + " bytes)");
        std::string name(name_length, '\0');
        r.bytes(&name[0], name_length, "tensor name");
        if (name != p.name) fail(path, "tensor '" + name + "' found where '" + p.name + "' was expected");
        const uint32_t rank = r.u32("tensor rank");
        if (rank != p.shape.size() || rank > kMaxRank)
            fail(path, p.name + " has rank " + std::to_string(rank) + ", expected " + std::to_string(p.shape.size()));
        std::vector<int> shape(rank);
        for (uint32_t d = 0; d < rank; ++d) shape[d] = static_cast<int>(r.u32("tensor shape"));
        if (shape != p.shape)
            fail(path, p.name + " has shape " + shape_string(shape) + ", expected " + shape_string(p.shape));
        r.bytes(ck.params.data() + p.offset, sizeof(float) * p.size, p.name.c_str());
    }
    if (ck.has_training_state) {
        TrainingState& t = ck.training;
        t.optimizer.step = static_cast<int64_t>(r.u64("step"));
        t.seed = r.u64("seed");
        t.batch_size = static_cast<int32_t>(r.u32("batch size"));
        t.train_count = static_cast<int32_t>(r.u32("training count"));
        t.lr = r.f64("learning rate");
        if (t.optimizer.step < 0 || t.batch_size < 1 || t.train_count < 1 || !(t.lr > 0))
            fail(path, "training state is invalid (step, batch size or training count)");
        t.optimizer.m.resize(total);
        t.optimizer.v.resize(total);
        r.bytes(t.optimizer.m.data(), sizeof(float) * total, "Adam first moments");
        r.bytes(t.optimizer.v.data(), sizeof(float) * total, "Adam second moments");
    }
    const uint32_t computed = r.crc;
    const uint32_t stored = r.u32("CRC-32");
    if (stored != computed) {
        char buf[128];
        std::snprintf(buf, sizeof buf, "CRC-32 mismatch (stored %08x, computed %08x): the file is corrupt",
                      stored, computed);
        fail(path, buf);
    }
    return ck;
}
