// summary.cpp — ./alexnet summary: the layer table with shapes, parameters,
// multiply-adds and memory, like Keras' model.summary().
#include "app/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "app/report_files.h"

using namespace report;

std::vector<LayerRow> layer_table(const ModelConfig& c) {
    const Model plan(c, 1, ModelBuffers::Training, /*allocate=*/false);  // shapes and parameters, nothing allocated
    auto parameters = [](const LayerParameters& p) { return p.weight.size + p.bias.size; };
    std::vector<LayerRow> rows;
    rows.push_back({"input", {c.channels, c.image_size, c.image_size}, 0, 0});
    for (int i = 0; i < kConvLayers; ++i) {
        const ConvLayer& L = plan.conv[i];
        const ConvGeometry& g = L.geometry;
        const int64_t macs = static_cast<int64_t>(g.out_channels) * g.out_h() * g.out_w() * g.col_rows();
        char name[64];
        std::snprintf(name, sizeof name, "%s %dx%d/%d pad %d + relu", L.name.c_str(), g.kernel, g.kernel, g.stride,
                      g.pad);
        rows.push_back({name, {g.out_channels, g.out_h(), g.out_w()}, parameters(plan.layout.conv[i]), macs});
        if (L.normalizes()) rows.push_back({"local response norm", {g.out_channels, g.out_h(), g.out_w()}, 0, 0});
        const std::string pool_name = L.pool.window == 3 ? "maxpool 3x3/2 overlapping" : "maxpool 2x2/2";
        if (L.pools()) rows.push_back({pool_name, {g.out_channels, L.pool.out_h(), L.pool.out_w()}, 0, 0});
    }
    rows.push_back({"flatten", {plan.dense[0].in_features}, 0, 0});
    for (int i = 0; i < kDenseLayers; ++i) {
        const DenseLayer& D = plan.dense[i];
        const std::string name = D.name + (D.relu ? " + relu" : " (logits)");
        rows.push_back({name, {D.out_features}, parameters(plan.layout.dense[i]),
                        static_cast<int64_t>(D.in_features) * D.out_features});
    }
    rows.push_back({"softmax cross-entropy", {c.classes}, 0, 0});
    return rows;
}

void print_summary(const ModelConfig& c, int batch) {
    std::printf("AlexNet: filters %d, input %dx%dx%d\n\n", c.filters, c.channels, c.image_size, c.image_size);
    std::printf("%-28s %-14s %14s %18s\n", "layer", "output shape", "parameters", "mult-adds/image");
    const std::string rule(77, '-');
    std::printf("%s\n", rule.c_str());
    auto row = [](const std::string& name, const std::string& shape, int64_t params, int64_t macs) {
        std::printf("%-28s %-14s %14s %18s\n", name.c_str(), shape.c_str(), with_commas(params).c_str(),
                    with_commas(macs).c_str());
    };
    int64_t total_params = 0, total_macs = 0;
    for (const LayerRow& r : layer_table(c)) {
        row(r.name, shape_string(r.shape), r.parameters, r.macs);
        total_params += r.parameters;
        total_macs += r.macs;
    }
    std::printf("%s\n", rule.c_str());
    row("total", "", total_params, total_macs);
    const int64_t param_bytes = 4 * total_params;
    const int64_t activation_bytes = model_memory_bytes(c, batch) - 2 * param_bytes;
    std::printf("\nmemory: parameters %.1f MiB, gradients %.1f MiB, Adam moments %.1f MiB,\n"
                "        activations and scratch for a batch of %d: %.1f MiB; training total %.1f MiB\n",
                mib(param_bytes), mib(param_bytes), mib(2 * param_bytes), batch, mib(activation_bytes),
                mib(4 * param_bytes + activation_bytes));
    std::printf("a training step costs about %.2f GFLOP for the batch (forward 2 x mult-adds, backward twice that)\n",
                6.0 * total_macs * batch / 1e9);
}
