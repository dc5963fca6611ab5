// report.cpp — tables and pictures for people: summary, history CSV and SVG
// curves, confusion heat map, filter and feature-map grids.
#include "app/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "data/pgm.h"

namespace {

std::string with_commas(int64_t n) {
    std::string digits = std::to_string(n < 0 ? -n : n), out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return (n < 0 ? "-" : "") + out;
}

double mib(int64_t bytes) { return bytes / 1048576.0; }

std::ofstream open_for_writing(const std::string& path) {
    std::ofstream out(path, std::ios::binary);
    if (!out) throw std::runtime_error(path + ": cannot create");
    return out;
}

void finish(std::ofstream& out, const std::string& path) {
    out.close();
    if (!out) throw std::runtime_error(path + ": write failed");
}

// Scales x[0, n) linearly so that its minimum maps to 0 and its maximum to 255.
void to_grey_bytes(uint8_t* dst, const float* x, int64_t n, int64_t stride = 1) {
    float lo = std::numeric_limits<float>::max(), hi = std::numeric_limits<float>::lowest();
    for (int64_t i = 0; i < n; ++i) {
        lo = std::min(lo, x[i * stride]);
        hi = std::max(hi, x[i * stride]);
    }
    const float range = hi > lo ? hi - lo : 1.0f;
    for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<uint8_t>(std::lround(255.0f * (x[i * stride] - lo) / range));
}

}  // namespace

// ---------------------------------------------------------------------------
// Summary

void print_summary(const ModelConfig& c, int batch) {
    const auto specs = conv_specs(c);
    const auto geometry = conv_geometries(c, 1);
    const std::vector<ParamInfo> layout = parameter_layout(c).in_order();
    std::printf("AlexNet: filters %d, input %dx%dx%d\n\n", c.filters, c.channels, c.image_size, c.image_size);
    std::printf("%-28s %-14s %14s %18s\n", "layer", "output shape", "parameters", "mult-adds/image");
    const std::string rule(77, '-');
    std::printf("%s\n", rule.c_str());
    auto row = [](const std::string& name, const std::string& shape, int64_t params, int64_t macs) {
        std::printf("%-28s %-14s %14s %18s\n", name.c_str(), shape.c_str(), with_commas(params).c_str(),
                    with_commas(macs).c_str());
    };
    row("input", shape_string({c.channels, c.image_size, c.image_size}), 0, 0);
    int64_t total_params = 0, total_macs = 0;
    for (int i = 0; i < kConvLayers; ++i) {
        const ConvGeometry& g = geometry[i];
        const int64_t params = layout[2 * i].size + layout[2 * i + 1].size;
        const int64_t macs = static_cast<int64_t>(g.out_channels) * g.out_h() * g.out_w() * g.col_rows();
        char name[64];
        std::snprintf(name, sizeof name, "conv%d %dx%d/%d pad %d + relu", i + 1, g.kernel, g.kernel, g.stride, g.pad);
        row(name, shape_string({g.out_channels, g.out_h(), g.out_w()}), params, macs);
        if (specs[i].pool_after) row("maxpool 2x2/2", shape_string({g.out_channels, g.out_h() / 2, g.out_w() / 2}), 0, 0);
        total_params += params;
        total_macs += macs;
    }
    const int64_t flat = layout[2 * kConvLayers].shape[1];
    row("flatten", std::to_string(flat), 0, 0);
    for (int i = 0; i < kDenseLayers; ++i) {
        const ParamInfo& w = layout[2 * (kConvLayers + i)];
        const int64_t params = w.size + layout[2 * (kConvLayers + i) + 1].size;
        const std::string name = "dense" + std::to_string(i + 1) + (i + 1 < kDenseLayers ? " + relu" : " (logits)");
        row(name, std::to_string(w.shape[0]), params, w.size);
        total_params += params;
        total_macs += w.size;
    }
    row("softmax cross-entropy", std::to_string(c.classes), 0, 0);
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

// ---------------------------------------------------------------------------
// History

const char* const kHistoryHeader =
    "epoch,step,train_loss,train_accuracy,val_loss,val_accuracy,images_per_s,seconds";

std::string history_csv_line(const HistoryRow& r) {
    auto number = [](double v, const char* format) {
        if (!std::isfinite(v)) return std::string();
        char buf[32];
        std::snprintf(buf, sizeof buf, format, v);
        return std::string(buf);
    };
    return number(r.epoch, "%.4f") + "," + std::to_string(r.step) + "," + number(r.train_loss, "%.6f") + "," +
           number(r.train_accuracy, "%.4f") + "," + number(r.val_loss, "%.6f") + "," +
           number(r.val_accuracy, "%.4f") + "," + number(r.images_per_second, "%.1f") + "," +
           number(r.seconds, "%.2f");
}

std::vector<HistoryRow> read_history(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error(path + ": cannot open");
    std::string line;
    if (!std::getline(in, line) || line != kHistoryHeader)
        throw std::runtime_error(path + ": not a training history (first line must be '" +
                                 std::string(kHistoryHeader) + "')");
    std::vector<HistoryRow> rows;
    int line_number = 1;
    while (std::getline(in, line)) {
        ++line_number;
        if (line.empty()) continue;
        std::vector<double> v;
        std::stringstream fields(line);
        std::string field;
        while (std::getline(fields, field, ',')) {
            if (field.empty()) { v.push_back(std::nan("")); continue; }
            char* end = nullptr;
            v.push_back(std::strtod(field.c_str(), &end));
            if (*end != '\0') throw std::runtime_error(path + ": line " + std::to_string(line_number) + ": '" + field + "' is not a number");
        }
        if (!line.empty() && line.back() == ',') v.push_back(std::nan(""));
        if (v.size() != 8) throw std::runtime_error(path + ": line " + std::to_string(line_number) + " has " + std::to_string(v.size()) + " fields, expected 8");
        rows.push_back({v[0], static_cast<int64_t>(v[1]), v[2], v[3], v[4], v[5], v[6], v[7]});
    }
    if (rows.empty()) throw std::runtime_error(path + ": holds no rows");
    return rows;
}

// ---------------------------------------------------------------------------
// SVG curves

namespace {

struct Panel {
    double x, y, w, h;         // where the plot area is, in SVG pixels
    double x_max, y_min, y_max;
    double sx(double v) const { return x + w * v / x_max; }
    double sy(double v) const { return y + h * (1.0 - (v - y_min) / (y_max - y_min)); }
};

void draw_axes(std::ostream& svg, const Panel& p, const std::string& title, const std::string& unit) {
    svg << "<rect x='" << p.x << "' y='" << p.y << "' width='" << p.w << "' height='" << p.h
        << "' fill='white' stroke='#888'/>\n";
    svg << "<text x='" << p.x + p.w / 2 << "' y='" << p.y - 10 << "' text-anchor='middle' font-size='15'>" << title << "</text>\n";
    for (int i = 0; i <= 4; ++i) {
        const double v = p.y_min + (p.y_max - p.y_min) * i / 4.0;
        char label[32];
        std::snprintf(label, sizeof label, unit == "%" ? "%.0f%%" : "%.2f", v);
        svg << "<line x1='" << p.x << "' x2='" << p.x + p.w << "' y1='" << p.sy(v) << "' y2='" << p.sy(v)
            << "' stroke='#eee'/>\n<text x='" << p.x - 6 << "' y='" << p.sy(v) + 4
            << "' text-anchor='end' font-size='11'>" << label << "</text>\n";
    }
    const int ticks = static_cast<int>(std::ceil(p.x_max));
    const int every = std::max(1, ticks / 10);
    for (int e = 0; e <= ticks; e += every)
        svg << "<text x='" << p.sx(e) << "' y='" << p.y + p.h + 16 << "' text-anchor='middle' font-size='11'>" << e << "</text>\n";
    svg << "<text x='" << p.x + p.w / 2 << "' y='" << p.y + p.h + 34 << "' text-anchor='middle' font-size='12'>epoch</text>\n";
}

void draw_series(std::ostream& svg, const Panel& p, const std::vector<std::pair<double, double>>& points,
                 const char* colour, bool dots) {
    if (points.empty()) return;
    svg << "<polyline fill='none' stroke='" << colour << "' stroke-width='2' points='";
    for (const auto& [x, y] : points) svg << p.sx(x) << "," << p.sy(y) << " ";
    svg << "'/>\n";
    if (dots)
        for (const auto& [x, y] : points)
            svg << "<circle cx='" << p.sx(x) << "' cy='" << p.sy(y) << "' r='4' fill='" << colour << "'/>\n";
}

}  // namespace

void write_curves_svg(const std::string& path, const std::vector<HistoryRow>& rows, const std::string& title) {
    std::vector<std::pair<double, double>> train_loss, val_loss, train_acc, val_acc;
    double x_max = 1, loss_max = 0, acc_min = 100;
    for (const HistoryRow& r : rows) {
        x_max = std::max(x_max, r.epoch);
        if (std::isfinite(r.train_loss)) {
            train_loss.push_back({r.epoch, r.train_loss});
            train_acc.push_back({r.epoch, r.train_accuracy});
            loss_max = std::max(loss_max, r.train_loss);
            acc_min = std::min(acc_min, r.train_accuracy);
        }
        if (std::isfinite(r.val_loss)) {
            val_loss.push_back({r.epoch, r.val_loss});
            val_acc.push_back({r.epoch, r.val_accuracy});
            loss_max = std::max(loss_max, r.val_loss);
            acc_min = std::min(acc_min, r.val_accuracy);
        }
    }
    const Panel loss{70, 60, 380, 260, x_max, 0.0, loss_max > 0 ? loss_max * 1.05 : 1.0};
    const Panel acc{540, 60, 380, 260, x_max, std::max(0.0, std::floor(acc_min / 10.0) * 10.0), 100.0};
    std::ofstream svg = open_for_writing(path);
    svg << "<svg xmlns='http://www.w3.org/2000/svg' width='960' height='400' font-family='sans-serif'>\n"
        << "<rect width='960' height='400' fill='#fafafa'/>\n"
        << "<text x='480' y='24' text-anchor='middle' font-size='17' font-weight='bold'>" << title << "</text>\n";
    draw_axes(svg, loss, "loss (cross-entropy)", "");
    draw_series(svg, loss, train_loss, "#1f77b4", false);
    draw_series(svg, loss, val_loss, "#ff7f0e", true);
    draw_axes(svg, acc, "accuracy", "%");
    draw_series(svg, acc, train_acc, "#1f77b4", false);
    draw_series(svg, acc, val_acc, "#ff7f0e", true);
    svg << "<rect x='380' y='372' width='14' height='4' fill='#1f77b4'/><text x='400' y='378' font-size='12'>train (running mean over the epoch)</text>\n"
        << "<circle cx='640' cy='374' r='4' fill='#ff7f0e'/><text x='650' y='378' font-size='12'>validation</text>\n"
        << "</svg>\n";
    finish(svg, path);
}

// ---------------------------------------------------------------------------
// Confusion heat map

void write_confusion_svg(const std::string& path, const std::array<std::array<int64_t, 10>, 10>& confusion) {
    const int cell = 44, left = 90, top = 80;
    std::ofstream svg = open_for_writing(path);
    const int size = left + 10 * cell + 30;
    svg << "<svg xmlns='http://www.w3.org/2000/svg' width='" << size << "' height='" << top + 10 * cell + 30
        << "' font-family='sans-serif'>\n<rect width='100%' height='100%' fill='white'/>\n"
        << "<text x='" << left + 5 * cell << "' y='28' text-anchor='middle' font-size='16' font-weight='bold'>confusion matrix (test set)</text>\n"
        << "<text x='" << left + 5 * cell << "' y='56' text-anchor='middle' font-size='13'>predicted digit</text>\n"
        << "<text x='24' y='" << top + 5 * cell << "' text-anchor='middle' font-size='13' transform='rotate(-90 24 "
        << top + 5 * cell << ")'>true digit</text>\n";
    for (int t = 0; t < 10; ++t) {
        int64_t row_total = 0;
        for (int p = 0; p < 10; ++p) row_total += confusion[t][p];
        svg << "<text x='" << left - 10 << "' y='" << top + t * cell + cell / 2 + 5 << "' text-anchor='end' font-size='13'>" << t << "</text>\n";
        svg << "<text x='" << left + t * cell + cell / 2 << "' y='" << top - 8 << "' text-anchor='middle' font-size='13'>" << t << "</text>\n";
        for (int p = 0; p < 10; ++p) {
            // Colour by the share of the true digit's images: the diagonal is
            // the per-class accuracy, off-diagonal cells the confusions.
            const double share = row_total ? static_cast<double>(confusion[t][p]) / row_total : 0.0;
            const double shade = p == t ? share : std::min(1.0, share * 20.0);
            char colour[32];
            if (p == t) std::snprintf(colour, sizeof colour, "rgb(%d,%d,%d)", int(255 - 200 * shade), int(255 - 90 * shade), int(255 - 200 * shade));
            else std::snprintf(colour, sizeof colour, "rgb(255,%d,%d)", int(255 - 200 * shade), int(255 - 200 * shade));
            svg << "<rect x='" << left + p * cell << "' y='" << top + t * cell << "' width='" << cell << "' height='" << cell
                << "' fill='" << colour << "' stroke='#ddd'/>\n<text x='" << left + p * cell + cell / 2 << "' y='"
                << top + t * cell + cell / 2 + 4 << "' text-anchor='middle' font-size='11'>" << confusion[t][p] << "</text>\n";
        }
    }
    svg << "</svg>\n";
    finish(svg, path);
}

// ---------------------------------------------------------------------------
// Image grids

namespace {

// A canvas of tiles: count tiles of tile_h x tile_w, `columns` per row, each
// enlarged `scale` times, separated by white gutters.
struct Grid {
    static constexpr int kGutter = 4;
    int tile_h, tile_w, columns, rows, scale, channels;
    int width() const { return columns * (tile_w * scale + kGutter) + kGutter; }
    int height() const { return rows * (tile_h * scale + kGutter) + kGutter; }
    std::vector<uint8_t> pixels;  // (height, width, channels)
    Grid(int count, int th, int tw, int s, int c)
        : tile_h(th), tile_w(tw), columns(static_cast<int>(std::ceil(std::sqrt(static_cast<double>(count))))),
          rows((count + columns - 1) / columns), scale(s), channels(c),
          pixels(static_cast<size_t>(height()) * width() * c, 255) {}
    // tile: (tile_h, tile_w) bytes for channel ch
    void put(int index, int ch, const uint8_t* tile) {
        const int x0 = kGutter + (index % columns) * (tile_w * scale + kGutter);
        const int y0 = kGutter + (index / columns) * (tile_h * scale + kGutter);
        for (int y = 0; y < tile_h * scale; ++y)
            for (int x = 0; x < tile_w * scale; ++x)
                pixels[(static_cast<size_t>(y0 + y) * width() + x0 + x) * channels + ch] = tile[(y / scale) * tile_w + x / scale];
    }
    void save(const std::string& path) const {
        if (channels == 1) {
            write_pgm(path, pixels.data(), width(), height());
            return;
        }
        std::ofstream out = open_for_writing(path);
        out << "P6\n" << width() << " " << height() << "\n255\n";
        out.write(reinterpret_cast<const char*>(pixels.data()), static_cast<std::streamsize>(pixels.size()));
        finish(out, path);
    }
};

}  // namespace

void write_filter_grid(const std::string& path, const Model& model, int scale) {
    const ParamInfo& w = model.layout.conv[0].weight;  // (OC, C, K, K)
    const int oc = w.shape[0], c = w.shape[1], k = w.shape[2];
    const int channels = c == 3 ? 3 : 1;
    Grid grid(oc, k, k, scale, channels);
    std::vector<uint8_t> tile(static_cast<size_t>(k) * k * c);
    for (int f = 0; f < oc; ++f) {
        // One scale for all of a filter's channels, so colours keep their balance.
        const float* filter = model.params.data() + w.offset + static_cast<int64_t>(f) * c * k * k;
        to_grey_bytes(tile.data(), filter, static_cast<int64_t>(c) * k * k);
        for (int ch = 0; ch < channels; ++ch) grid.put(f, ch, tile.data() + static_cast<size_t>(ch) * k * k);
    }
    grid.save(path);
}

void write_feature_maps(const std::string& path, const Model& model, int layer, int scale) {
    const ConvActivations& a = model.conv[layer];
    const int oc = a.out.shape[1], h = a.out.shape[2], w = a.out.shape[3];
    Grid grid(oc, h, w, scale, 1);
    std::vector<uint8_t> tile(static_cast<size_t>(h) * w);
    for (int ch = 0; ch < oc; ++ch) {
        to_grey_bytes(tile.data(), a.out.ptr() + static_cast<int64_t>(ch) * h * w, static_cast<int64_t>(h) * w);
        grid.put(ch, 0, tile.data());
    }
    grid.save(path);
}
