// report.h — what the program shows a person: the model summary table, the
// training history (CSV and an SVG chart of its curves), the confusion matrix
// as an SVG heat map, and pictures of the first-layer filters and of the
// feature maps (PNG, or PGM/PPM). Self-contained files: no library, no script.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "data/image.h"
#include "nn/model.h"

// One row of the layer table: a layer, its output shape for one image, its
// parameters and multiply-adds per image.
struct LayerRow {
    std::string name;
    std::vector<int> shape;
    int64_t parameters = 0, macs = 0;
};
std::vector<LayerRow> layer_table(const ModelConfig& config);

// Prints a table like Keras' model.summary(): each layer, its output shape,
// parameters and multiply-adds per image; totals; and the memory of the
// parameters, gradients, Adam moments and activations for a batch.
void print_summary(const ModelConfig& config, int batch);

// One row of <model>.history.csv. Validation fields are NaN when not measured
// (progress rows inside an epoch).
struct HistoryRow {
    double epoch = 0;           // fractional: 1.5 is half-way through epoch 2
    int64_t step = 0;           // optimizer steps so far
    double train_loss = 0, train_accuracy = 0;  // running means over the epoch so far
    double val_loss = 0, val_accuracy = 0;
    double images_per_second = 0, seconds = 0;  // since the start of the run
};
extern const char* const kHistoryHeader;
std::string history_csv_line(const HistoryRow& row);
// Reads a history CSV; throws std::runtime_error("<path>: <problem>").
std::vector<HistoryRow> read_history(const std::string& path);
// The loss and accuracy curves as one SVG file.
void write_curves_svg(const std::string& path, const std::vector<HistoryRow>& rows, const std::string& title);

// Several histories on one chart, one colour each, named in a legend, so that
// runs can be compared by eye (./alexnet plot a.csv b.csv --out cmp.svg).
struct NamedHistory {
    std::string name;
    std::vector<HistoryRow> rows;
};
constexpr size_t kMaxComparedHistories = 12;
void write_comparison_svg(const std::string& path, const std::vector<NamedHistory>& runs, const std::string& title);

// The confusion matrix (rows: true digit, columns: predicted) as an SVG heat map.
void write_confusion_svg(const std::string& path, const std::array<std::array<int64_t, 10>, 10>& confusion);
// The same cells as a PNG, without the numbers (the SVG has them).
void write_confusion_png(const std::string& path, const std::array<std::array<int64_t, 10>, 10>& confusion);

// conv1's filters, each scaled to the full grey range and enlarged, in a grid:
// grey for one input channel, colour for three; PNG or PGM/PPM.
void write_filter_grid(const std::string& path, const Model& model, int scale, ImageFormat format);

// The feature maps of conv layer `layer` for image 0 of the last forward pass:
// one tile per channel, each scaled to the full grey range.
void write_feature_maps(const std::string& path, const Model& model, int layer, int scale, ImageFormat format);
