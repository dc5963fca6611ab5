// checkpoint.h — saving and loading a trained model (and, for --resume, the
// optimizer state) in a documented little-endian binary format.
// docs/checkpoint-format.md describes it byte by byte, so other tools can
// write checkpoints that predict and train --init accept.
//
// Leaves out: endianness conversion on big-endian hosts (the format is
// little-endian and so are x86-64 and AArch64).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/zlib.h"  // crc32_update
#include "nn/optimizer.h"
#include "nn/model.h"

constexpr char kCheckpointMagic[8] = {'A', 'L', 'E', 'X', 'N', 'E', 'T', 'C'};
constexpr uint32_t kCheckpointVersion = 1;

// Everything --resume needs besides the weights.
struct TrainingState {
    OptimizerState optimizer;  // Adam's moments (SGD's velocity) and the optimizer steps taken so far
    uint64_t seed = 7;         // the seed of the run (data split and order)
    int32_t batch_size = 32;
    int32_t train_count = 0;   // images in the training part of the split
    double lr = 1e-4;
};

struct Checkpoint {
    ModelConfig config;
    std::vector<float> params;  // parameter_layout(config) order
    bool has_training_state = false;
    TrainingState training;
};

// Writes to "<path>.tmp", flushes and fsyncs it, then renames it over path,
// so a crash leaves either the old file or the new one, whole. state may be
// null (weights only). Throws std::runtime_error on failure.
void save_checkpoint(const std::string& path, const Model& model, const TrainingState* state);

// Reads and checks everything (magic, version, configuration, names, shapes,
// size, CRC-32). Throws std::runtime_error("<path>: <problem>").
Checkpoint load_checkpoint(const std::string& path);
