// pictures.cpp — what the network looks like: the confusion matrix as an SVG
// heat map, conv1's filters and the feature maps of a layer as image grids.
#include "app/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "app/report_files.h"
#include "data/image.h"
#include "data/png.h"

using namespace report;

namespace {

// A cell's colour: by the share of the true digit's images, green on the
// diagonal (the per-class accuracy), red off it (confusions, 20x brighter).
std::array<int, 3> confusion_colour(const std::array<std::array<int64_t, 10>, 10>& confusion, int t, int p) {
    int64_t row_total = 0;
    for (int q = 0; q < 10; ++q) row_total += confusion[t][q];
    const double share = row_total ? static_cast<double>(confusion[t][p]) / row_total : 0.0;
    if (p == t) return {int(255 - 200 * share), int(255 - 90 * share), int(255 - 200 * share)};
    const double shade = std::min(1.0, share * 20.0);
    return {255, int(255 - 200 * shade), int(255 - 200 * shade)};
}

}  // namespace

void write_confusion_png(const std::string& path, const std::array<std::array<int64_t, 10>, 10>& confusion) {
    // The SVG's cells without its text: 10 x 10 cells of 24 pixels, rows the
    // true digit (0 at the top), columns the predicted one, grey grid lines.
    const int cell = 24, side = 10 * cell + 1;
    std::vector<uint8_t> rgb(static_cast<size_t>(side) * side * 3, 0xDD);
    for (int t = 0; t < 10; ++t)
        for (int p = 0; p < 10; ++p) {
            const std::array<int, 3> colour = confusion_colour(confusion, t, p);
            for (int y = t * cell + 1; y < (t + 1) * cell; ++y)
                for (int x = p * cell + 1; x < (p + 1) * cell; ++x)
                    for (int c = 0; c < 3; ++c) rgb[(static_cast<size_t>(y) * side + x) * 3 + c] = static_cast<uint8_t>(colour[c]);
        }
    write_png(path, rgb.data(), side, side, 3);
}

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
        svg << "<text x='" << left - 10 << "' y='" << top + t * cell + cell / 2 + 5 << "' text-anchor='end' font-size='13'>" << t << "</text>\n";
        svg << "<text x='" << left + t * cell + cell / 2 << "' y='" << top - 8 << "' text-anchor='middle' font-size='13'>" << t << "</text>\n";
        for (int p = 0; p < 10; ++p) {
            const std::array<int, 3> rgb = confusion_colour(confusion, t, p);
            char colour[32];
            std::snprintf(colour, sizeof colour, "rgb(%d,%d,%d)", rgb[0], rgb[1], rgb[2]);
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
    void save(const std::string& path, ImageFormat format) const {
        write_image(path, pixels.data(), width(), height(), channels, format);
    }
};

}  // namespace

void write_filter_grid(const std::string& path, const Model& model, int scale, ImageFormat format) {
    const ParamInfo& w = model.layout.conv[0].weight;  // (OC, C, K, K)
    const int oc = w.shape[0], c = w.shape[1], k = w.shape[2];
    const int channels = c == 3 ? 3 : 1;
    Grid grid(oc, k, k, scale, channels);
    std::vector<uint8_t> tile(static_cast<size_t>(k) * k * c);
    for (int f = 0; f < oc; ++f) {
        // One scale for all of a filter's channels, so colours keep their balance.
        const float* filter = model.param(w) + static_cast<int64_t>(f) * c * k * k;
        to_grey_bytes(tile.data(), filter, static_cast<int64_t>(c) * k * k);
        for (int ch = 0; ch < channels; ++ch) grid.put(f, ch, tile.data() + static_cast<size_t>(ch) * k * k);
    }
    grid.save(path, format);
}

void write_feature_maps(const std::string& path, const Model& model, int layer, int scale, ImageFormat format) {
    const ConvLayer& a = model.conv[layer];
    const int oc = a.out.shape[1], h = a.out.shape[2], w = a.out.shape[3];
    Grid grid(oc, h, w, scale, 1);
    std::vector<uint8_t> tile(static_cast<size_t>(h) * w);
    for (int ch = 0; ch < oc; ++ch) {
        to_grey_bytes(tile.data(), a.out.ptr() + static_cast<int64_t>(ch) * h * w, static_cast<int64_t>(h) * w);
        grid.put(ch, 0, tile.data());
    }
    grid.save(path, format);
}
