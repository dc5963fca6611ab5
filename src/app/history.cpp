// history.cpp — the training history: <model>.history.csv, read back by
// ./alexnet plot, and its loss and accuracy curves as one SVG.
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

// Text as SVG/XML character data: a file name may hold '<' or '&'.
std::string xml_escaped(const std::string& text) {
    std::string out;
    for (char ch : text) {
        if (ch == '<') out += "&lt;";
        else if (ch == '>') out += "&gt;";
        else if (ch == '&') out += "&amp;";
        else if (ch == '\'') out += "&apos;";
        else out += ch;
    }
    return out;
}

// The curves of one history as (epoch, value) points.
struct Curves {
    std::vector<std::pair<double, double>> train_loss, val_loss, train_acc, val_acc;
};

Curves curves_of(const std::vector<HistoryRow>& rows) {
    Curves c;
    for (const HistoryRow& r : rows) {
        if (std::isfinite(r.train_loss)) {
            c.train_loss.push_back({r.epoch, r.train_loss});
            c.train_acc.push_back({r.epoch, r.train_accuracy});
        }
        if (std::isfinite(r.val_loss)) {
            c.val_loss.push_back({r.epoch, r.val_loss});
            c.val_acc.push_back({r.epoch, r.val_accuracy});
        }
    }
    return c;
}

struct Panel {
    double x, y, w, h;         // where the plot area is, in SVG pixels
    double x_max, y_min, y_max;
    double sx(double v) const { return x + w * v / x_max; }
    // Values outside [y_min, y_max] are drawn at the edge (a comparison chart
    // zooms in and cuts the steep first epoch off this way).
    double sy(double v) const {
        const double clamped = std::min(std::max(v, y_min), y_max);
        return y + h * (1.0 - (clamped - y_min) / (y_max - y_min));
    }
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
                 const char* colour, bool dots, const char* extra = "") {
    if (points.empty()) return;
    svg << "<polyline fill='none' stroke='" << colour << "' stroke-width='2' " << extra << " points='";
    for (const auto& [x, y] : points) svg << p.sx(x) << "," << p.sy(y) << " ";
    svg << "'/>\n";
    if (dots)
        for (const auto& [x, y] : points)
            svg << "<circle cx='" << p.sx(x) << "' cy='" << p.sy(y) << "' r='4' fill='" << colour << "'/>\n";
}

}  // namespace

void write_curves_svg(const std::string& path, const std::vector<HistoryRow>& rows, const std::string& title) {
    const Curves c = curves_of(rows);
    double x_max = 1, loss_max = 0, acc_min = 100;
    for (const HistoryRow& r : rows) x_max = std::max(x_max, r.epoch);
    for (const auto* series : {&c.train_loss, &c.val_loss})
        for (const auto& point : *series) loss_max = std::max(loss_max, point.second);
    for (const auto* series : {&c.train_acc, &c.val_acc})
        for (const auto& point : *series) acc_min = std::min(acc_min, point.second);
    const Panel loss{70, 60, 380, 260, x_max, 0.0, loss_max > 0 ? loss_max * 1.05 : 1.0};
    const Panel acc{540, 60, 380, 260, x_max, std::max(0.0, std::floor(acc_min / 10.0) * 10.0), 100.0};
    std::ofstream svg = open_for_writing(path);
    svg << "<svg xmlns='http://www.w3.org/2000/svg' width='960' height='400' font-family='sans-serif'>\n"
        << "<rect width='960' height='400' fill='#fafafa'/>\n"
        << "<text x='480' y='24' text-anchor='middle' font-size='17' font-weight='bold'>" << xml_escaped(title) << "</text>\n";
    draw_axes(svg, loss, "loss (cross-entropy)", "");
    draw_series(svg, loss, c.train_loss, "#1f77b4", false);
    draw_series(svg, loss, c.val_loss, "#ff7f0e", true);
    draw_axes(svg, acc, "accuracy", "%");
    draw_series(svg, acc, c.train_acc, "#1f77b4", false);
    draw_series(svg, acc, c.val_acc, "#ff7f0e", true);
    svg << "<rect x='380' y='372' width='14' height='4' fill='#1f77b4'/><text x='400' y='378' font-size='12'>train (running mean over the epoch)</text>\n"
        << "<circle cx='640' cy='374' r='4' fill='#ff7f0e'/><text x='650' y='378' font-size='12'>validation</text>\n"
        << "</svg>\n";
    finish(svg, path);
}

// ---------------------------------------------------------------------------
// Several histories on one chart

namespace {

// Distinguishable colours (matplotlib's "tab10", then black and navy), one per history.
const char* const kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                                "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#000000", "#000080"};
static_assert(sizeof kPalette / sizeof kPalette[0] == kMaxComparedHistories, "a colour per history");

}  // namespace

void write_comparison_svg(const std::string& path, const std::vector<NamedHistory>& runs, const std::string& title) {
    // The runs differ at the top of the accuracy scale and the bottom of the
    // loss scale, after the first epoch: the axes cover that part (from epoch
    // 1 on, or the whole run if shorter), and the steep first epoch runs
    // along the panel's edge.
    double x_max = 1, loss_max = 0, acc_min = 100;
    std::vector<Curves> curves;
    for (const NamedHistory& run : runs) {
        curves.push_back(curves_of(run.rows));
        const double last_epoch = run.rows.back().epoch;
        for (const HistoryRow& r : run.rows) {
            x_max = std::max(x_max, r.epoch);
            if (r.epoch < std::min(1.0, last_epoch)) continue;
            for (double loss : {r.train_loss, r.val_loss})
                if (std::isfinite(loss)) loss_max = std::max(loss_max, loss);
            for (double acc : {r.train_accuracy, r.val_accuracy})
                if (std::isfinite(acc)) acc_min = std::min(acc_min, acc);
        }
    }
    // The accuracy axis spans 4 grid steps of 1% (10% if a run is below 90%),
    // so that each of its 5 labels is a whole percent.
    const double acc_step = acc_min >= 90 ? 1.0 : 10.0;
    const double acc_span = 4 * acc_step * std::ceil((100.0 - acc_min) / (4 * acc_step));
    const Panel loss{70, 60, 380, 260, x_max, 0.0, loss_max > 0 ? loss_max * 1.05 : 1.0};
    const Panel acc{540, 60, 380, 260, x_max, std::max(0.0, 100.0 - std::max(acc_span, 4 * acc_step)), 100.0};
    const int legend_rows = static_cast<int>(runs.size());
    const int height = 380 + 18 * legend_rows;
    std::ofstream svg = open_for_writing(path);
    svg << "<svg xmlns='http://www.w3.org/2000/svg' width='960' height='" << height << "' font-family='sans-serif'>\n"
        << "<rect width='960' height='" << height << "' fill='#fafafa'/>\n"
        << "<text x='480' y='24' text-anchor='middle' font-size='17' font-weight='bold'>" << xml_escaped(title) << "</text>\n";
    draw_axes(svg, loss, "loss (cross-entropy)", "");
    draw_axes(svg, acc, "accuracy", "%");
    for (size_t i = 0; i < runs.size(); ++i) {
        const char* colour = kPalette[i % kMaxComparedHistories];
        const char* dashed = "stroke-dasharray='6 4'";
        draw_series(svg, loss, curves[i].train_loss, colour, false);
        draw_series(svg, loss, curves[i].val_loss, colour, false, dashed);
        draw_series(svg, acc, curves[i].train_acc, colour, false);
        draw_series(svg, acc, curves[i].val_acc, colour, false, dashed);
        const int y = 380 + 18 * static_cast<int>(i);
        svg << "<rect x='70' y='" << y - 6 << "' width='14' height='4' fill='" << colour << "'/><text x='90' y='" << y
            << "' font-size='12'>" << xml_escaped(runs[i].name) << "</text>\n";
    }
    svg << "<text x='920' y='" << 380 << "' text-anchor='end' font-size='12'>solid: train (running mean over the epoch); "
        << "dashed: validation</text>\n</svg>\n";
    finish(svg, path);
}
