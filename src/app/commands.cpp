// commands.cpp — evaluate, predict, visualize, plot and export: see commands.h.
#include "app/commands.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include <sys/stat.h>

#include "app/checkpoint.h"
#include "app/classify.h"
#include "app/report.h"
#include "app/train.h"
#include "data/mnist.h"
#include "fast/thread_pool.h"
#include "nn/model.h"

namespace {

// mkdir for one level; an existing folder is fine.
void make_directory(const std::string& path) {
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST)
        throw std::runtime_error(path + ": cannot create folder (" + std::string(std::strerror(errno)) + ")");
    struct stat st;
    if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) throw std::runtime_error(path + ": is not a folder");
}

bool ends_with(const std::string& text, const std::string& suffix) {
    return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A 28 x 28 image in [0, 1] (what the network sees) as an 8-bit picture.
void write_mnist_image(const std::string& path, const float* image, ImageFormat format) {
    uint8_t bytes[kMnistPixels];
    for (int p = 0; p < kMnistPixels; ++p)
        bytes[p] = static_cast<uint8_t>(std::lround(std::min(1.0f, std::max(0.0f, image[p])) * 255.0f));
    write_image(path, bytes, kMnistSide, kMnistSide, 1, format);
}

// "dir/name.pgm" -> "dir/name-3.pgm": one --show-input file per image.
std::string numbered_path(const std::string& path, size_t index, size_t count) {
    if (count == 1) return path;
    const size_t slash = path.find_last_of('/'), dot = path.find_last_of('.');
    const size_t cut = (dot != std::string::npos && (slash == std::string::npos || dot > slash)) ? dot : path.size();
    return path.substr(0, cut) + "-" + std::to_string(index + 1) + path.substr(cut);
}

}  // namespace

ImageFormat format_of(const std::string& path, ImageFormat fallback) {
    if (ends_with(path, ".pgm") || ends_with(path, ".ppm")) return ImageFormat::Pgm;
    if (ends_with(path, ".png")) return ImageFormat::Png;
    return fallback;
}

// ---------------------------------------------------------------------------
// evaluate

int run_evaluate(const EvaluateOptions& o, ThreadPool& pool) {
    const std::string confusion_path = o.confusion_path.empty() ? o.model_path + ".confusion.svg" : o.confusion_path;
    const Checkpoint ck = load_checkpoint(o.model_path);
    MnistSet test_set(o.data_dir, "t10k");
    if (!o.errors_dir.empty()) make_directory(o.errors_dir);
    Model model(ck.config, o.batch_size, ModelBuffers::Inference);
    model.use_weights(ck.params.data());
    std::vector<uint32_t> indices(test_set.size());
    for (uint32_t i = 0; i < test_set.size(); ++i) indices[i] = i;
    std::vector<Mistake> mistakes;
    const EvalResult r = evaluate(model, test_set, indices.data(), indices.size(), pool,
                                  o.errors_dir.empty() ? nullptr : &mistakes);
    print_evaluation(r);
    if (format_of(confusion_path, ImageFormat::Pgm) == ImageFormat::Png) write_confusion_png(confusion_path, r.confusion);
    else write_confusion_svg(confusion_path, r.confusion);
    std::printf("\nheat map: %s\n", confusion_path.c_str());
    for (const Mistake& m : mistakes) {
        uint8_t pixels[kMnistPixels], label = 0;
        test_set.read_batch(pixels, &label, &m.index, 1);
        char name[64];
        std::snprintf(name, sizeof name, "/%05u_true%d_pred%d", m.index, m.truth, m.predicted);
        write_image(o.errors_dir + name + image_extension(o.format, 1), pixels, kMnistSide, kMnistSide, 1, o.format);
    }
    if (!o.errors_dir.empty()) std::printf("%zu misclassified images written to %s\n", mistakes.size(), o.errors_dir.c_str());
    return 0;
}

// ---------------------------------------------------------------------------
// predict

int run_predict(const PredictOptions& o, ThreadPool& pool) {
    const Checkpoint ck = load_checkpoint(o.model_path);
    Model model(ck.config, 1, ModelBuffers::Inference);
    model.use_weights(ck.params.data());
    const int classes = model.config.classes;
    for (size_t i = 0; i < o.images.size(); ++i) {
        const std::string& path = o.images[i];
        float mnist_form[kMnistPixels];
        const Classification result = classify_image(model, read_image(path), o.plain_resize, mnist_form, pool);
        const float* p = result.probabilities;
        if (!o.show_input.empty())
            write_mnist_image(numbered_path(o.show_input, i, o.images.size()), mnist_form,
                              format_of(o.show_input, ImageFormat::Png));
        if (!o.saliency.empty()) {
            float saliency[kMnistPixels];
            saliency_map(saliency, model, result.digit, pool);
            const int scale = 10;
            write_image(numbered_path(o.saliency, i, o.images.size()),
                        saliency_picture(mnist_form, saliency, scale).data(), kMnistSide * scale,
                        kMnistSide * scale, 3, format_of(o.saliency, ImageFormat::Png));
        }
        std::vector<int> ranked(classes);
        for (int k = 0; k < classes; ++k) ranked[k] = k;
        std::stable_sort(ranked.begin(), ranked.end(), [&](int a, int b) { return p[a] > p[b]; });
        const int digit = ranked[0];
        if (result.blank && !o.json) {
            std::printf("%s: blank: no ink stands out from the background, so there is no digit to read\n",
                        path.c_str());
            continue;
        }
        if (o.json) {
            std::printf("{%s", prediction_json_fields(path, result, classes).c_str());
            if (o.top > 0) {
                std::printf(", \"top\": [");
                for (int k = 0; k < o.top; ++k) std::printf("%s%d", k ? ", " : "", ranked[k]);
                std::printf("]");
            }
            std::printf("}\n");
        } else if (o.top > 0) {
            std::printf("%s: %d\n", path.c_str(), digit);
            for (int k = 0; k < o.top; ++k) std::printf("  %d: %6.2f%%\n", ranked[k], 100.0 * static_cast<double>(p[ranked[k]]));
        } else {
            std::printf("%s: %d\n", path.c_str(), digit);
            for (int k = 0; k < classes; ++k)
                std::printf("  %d: %.6f%s\n", k, static_cast<double>(p[k]), k == digit ? "  <" : "");
        }
    }
    return 0;
}

// ---------------------------------------------------------------------------
// visualize

int run_visualize(const VisualizeOptions& o) {
    const Checkpoint ck = load_checkpoint(o.model_path);
    make_directory(o.out_dir);
    Model model(ck.config, 1, ModelBuffers::Inference);
    model.use_weights(ck.params.data());
    const std::string filters = o.out_dir + "/conv1_filters" + image_extension(o.format, ck.config.channels == 3 ? 3 : 1);
    write_filter_grid(filters, model, o.scale, o.format);
    std::printf("wrote %s\n", filters.c_str());
    if (o.image_path.empty()) return 0;
    float mnist_form[kMnistPixels];
    classify_image(model, read_image(o.image_path), false, mnist_form, ThreadPool::serial());
    write_mnist_image(o.out_dir + "/input" + image_extension(o.format, 1), mnist_form, o.format);
    for (int i = 0; i < kConvLayers; ++i) {
        const ConvLayer& L = model.conv[i];
        const std::string path = o.out_dir + "/" + L.name + "_features" + image_extension(o.format, 1);
        // Deeper maps are smaller: enlarge them more, so every picture is of similar size.
        const int side = L.geometry.out_h();
        write_feature_maps(path, model, i, std::max(o.scale, 96 / std::max(1, side)), o.format);
        std::printf("wrote %s (%d channels of %dx%d)\n", path.c_str(), L.geometry.out_channels, side, side);
    }
    return 0;
}

// ---------------------------------------------------------------------------
// plot

int run_plot(const std::vector<std::string>& histories, std::string out) {
    if (histories.size() == 1) {
        const std::string& history = histories[0];
        if (out.empty()) out = (ends_with(history, ".csv") ? history.substr(0, history.size() - 4) : history) + ".svg";
        write_curves_svg(out, read_history(history), "AlexNet on MNIST: " + history);
    } else {
        // A history's name in the legend: its file name without ".model.history.csv",
        // ".history.csv" or ".csv" (train writes MODEL.history.csv).
        std::vector<NamedHistory> runs;
        for (const std::string& path : histories) {
            std::string name = path.substr(path.find_last_of('/') + 1);
            for (const std::string suffix : {".model.history.csv", ".history.csv", ".csv"})
                if (name.size() > suffix.size() && ends_with(name, suffix)) {
                    name.resize(name.size() - suffix.size());
                    break;
                }
            runs.push_back({name, read_history(path)});
        }
        write_comparison_svg(out, runs, "AlexNet on MNIST: " + std::to_string(runs.size()) + " runs");
    }
    std::printf("wrote %s\n", out.c_str());
    return 0;
}

// ---------------------------------------------------------------------------
// export

int run_export(const ExportOptions& o) {
    MnistSet set(o.data_dir, o.set == "test" ? "t10k" : "train");
    if (o.index >= set.size())
        throw std::runtime_error(find_mnist_file(o.data_dir, o.set == "test" ? "t10k" : "train", "images") + ": holds " +
                                 std::to_string(set.size()) + " images; --index " + std::to_string(o.index) +
                                 " is past the last (" + std::to_string(set.size() - 1) + ")");
    const uint32_t i = static_cast<uint32_t>(o.index);
    uint8_t pixels[kMnistPixels], label = 0;
    set.read_batch(pixels, &label, &i, 1);
    write_image(o.out, pixels, kMnistSide, kMnistSide, 1, o.format);
    std::printf("wrote %s (%s image %u, label %d)\n", o.out.c_str(), o.set.c_str(), i, label);
    return 0;
}
