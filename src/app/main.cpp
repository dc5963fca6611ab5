// main.cpp — the command line: ./alexnet train | evaluate | predict.
//
// Exit codes: 0 success, 1 bad data or I/O (a one-line message naming the
// file), 2 usage errors (unknown flag, bad value; the usage text follows).
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include <sys/stat.h>

#include "app/args.h"
#include "app/bench.h"
#include "app/checkpoint.h"
#include "app/classify.h"
#include "app/report.h"
#include "app/serve.h"
#include "app/train.h"
#include "app/usage.h"
#include "data/mnist.h"
#include "data/image.h"
#include "fast/thread_pool.h"
#include "nn/model.h"

namespace {

// mkdir -p for one level; an existing folder is fine.
void make_directory(const std::string& path) {
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST)
        throw std::runtime_error(path + ": cannot create folder (" + std::string(std::strerror(errno)) + ")");
    struct stat st;
    if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw std::runtime_error(path + ": is not a folder");
}

// A 28 x 28 image in [0, 1] (what the network sees) as an 8-bit picture.
void write_mnist_image(const std::string& path, const float* image, ImageFormat format) {
    uint8_t bytes[kMnistPixels];
    for (int p = 0; p < kMnistPixels; ++p)
        bytes[p] = static_cast<uint8_t>(std::lround(std::min(1.0f, std::max(0.0f, image[p])) * 255.0f));
    write_image(path, bytes, kMnistSide, kMnistSide, 1, format);
}

// --format png|pgm: the format of the pictures a command writes.
ImageFormat format_flag(Args& args, const std::string& flag) {
    const std::string name = args.value(flag);
    if (name == "png") return ImageFormat::Png;
    if (name == "pgm") return ImageFormat::Pgm;
    throw UsageError(flag + " must be png or pgm, not '" + name + "'");
}

bool ends_with(const std::string& text, const std::string& suffix) {
    return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The format a file name asks for: .pgm / .ppm or .png, else the fallback.
ImageFormat format_of(const std::string& path, ImageFormat fallback) {
    if (ends_with(path, ".pgm") || ends_with(path, ".ppm")) return ImageFormat::Pgm;
    if (ends_with(path, ".png")) return ImageFormat::Png;
    return fallback;
}

// --filters, --image-size, --channels, --lrn, --pool: returns false if flag is
// none of them.
bool model_flag(Args& args, const std::string& f, ModelConfig& config) {
    if (f == "--filters") config.filters = static_cast<int>(args.integer(f, 1, 256));
    else if (f == "--image-size") {
        config.image_size = static_cast<int>(args.integer(f, 1, 1024));
        if (config.image_size < min_image_size())
            throw UsageError("--image-size " + std::to_string(config.image_size) +
                             " is too small for AlexNet; the smallest that works is " +
                             std::to_string(min_image_size()));
    }
    else if (f == "--channels") {
        config.channels = static_cast<int>(args.integer(f, 1, 3));
        if (config.channels == 2) throw UsageError("--channels must be 1 or 3, not 2");
    }
    else if (f == "--lrn") { args.no_value(f); config.lrn = true; }
    else if (f == "--pool") {
        const std::string name = args.value(f);
        if (name == "2x2s2") config.pool_window = 2;
        else if (name == "3x3s2") config.pool_window = 3;
        else throw UsageError("--pool must be 2x2s2 or 3x3s2, not '" + name + "'");
    }
    else return false;
    return true;
}

// ---------------------------------------------------------------------------
// train

// The flags that --recipe NAME stands for. "best" is the best combination
// found (README, "The AlexNet paper's ideas, and the best recipe"): 99.52%
// test accuracy on average over 3 seeds (99.48-99.55%) in under 8 minutes on
// 2 cores; a 72x72 input, all 60,000 training images, no validation split.
std::vector<std::string> recipe_flags(const std::string& name) {
    if (name == "best")
        return {"--image-size", "72", "--epochs", "14", "--lr", "1e-3", "--schedule", "onecycle",
                "--augment", "--elastic", "10", "--dropout", "0.5", "--val-split", "0"};
    throw UsageError("--recipe must be best, not '" + name + "'");
}

int command_train(Args& args) {
    int threads = ThreadPool::hardware_threads();
    TrainOptions o;
    bool lr_given = false, momentum_given = false;
    args.expand_to_front("--recipe", recipe_flags);
    while (!args.done()) {
        const std::string f = args.next();
        if (f == "--help" || f == "-h") { std::fputs(kTrainUsage, stdout); return 0; }
        else if (f == "--data") o.data_dir = args.value(f);
        else if (f == "--model") o.model_path = args.value(f);
        else if (f == "--epochs") o.epochs = static_cast<int>(args.integer(f, 1, 10000));
        else if (f == "--batch-size") o.batch_size = static_cast<int>(args.integer(f, 1, 4096));
        else if (f == "--lr") { o.lr = args.real(f, 0.0, 10.0, false); lr_given = true; }
        else if (f == "--optimizer") {
            const std::string name = args.value(f);
            if (name == "adam") o.optimizer = OptimizerKind::Adam;
            else if (name == "sgd") o.optimizer = OptimizerKind::Sgd;
            else throw UsageError("--optimizer must be adam or sgd, not '" + name + "'");
        }
        else if (f == "--momentum") {
            o.momentum = args.real(f, 0.0, 1.0, true);
            if (o.momentum >= 1.0) throw UsageError("--momentum must be below 1, not 1");
            momentum_given = true;
        }
        else if (f == "--dropout") {
            o.dropout = args.real(f, 0.0, 1.0, true);
            if (o.dropout >= 1.0) throw UsageError("--dropout must be below 1 (the probability of dropping a value), not 1");
        }
        else if (f == "--augment") { args.no_value(f); o.augment = true; }
        else if (f == "--elastic") o.elastic = args.real(f, 0.0, 100.0, true);
        else if (f == "--schedule") {
            const std::string name = args.value(f);
            if (!schedule_from_name(name, &o.schedule))
                throw UsageError("--schedule must be constant, step, cosine or onecycle, not '" + name + "'");
        }
        else if (f == "--warmup") o.warmup = args.integer(f, 0, 100000000);
        else if (f == "--weight-decay") {
            o.weight_decay = args.real(f, 0.0, 1.0, true);
            if (o.weight_decay >= 1.0) throw UsageError("--weight-decay must be below 1, not 1");
        }
        else if (model_flag(args, f, o.config)) { o.config_flags.push_back(f); continue; }
        else if (f == "--val-split") o.val_split = args.real(f, 0.0, 0.9, true);
        else if (f == "--seed") o.seed = static_cast<uint64_t>(args.integer(f, 0, INT64_MAX));
        else if (f == "--threads") threads = threads_flag(args, f);
        else if (f == "--steps") o.max_steps = args.integer(f, 1, INT64_MAX);
        else if (f == "--no-shuffle") { args.no_value(f); o.shuffle = false; }
        else if (f == "--init") o.init_path = args.value(f);
        else if (f == "--resume") { args.no_value(f); o.resume = true; }
        else if (f == "--log-every") o.log_every = static_cast<int>(args.integer(f, 0, 1000000));
        else if (f == "--quiet") { args.no_value(f); o.quiet = true; }
        else unknown_flag(f);
    }
    if (o.resume && !o.init_path.empty()) throw UsageError("--resume and --init exclude each other");
    if (momentum_given && o.optimizer != OptimizerKind::Sgd) throw UsageError("--momentum is for --optimizer sgd");
    if (o.optimizer == OptimizerKind::Sgd && !lr_given) o.lr = 0.01;  // SGD's usual rate; Adam's 1e-4 would crawl
    if (o.schedule == ScheduleKind::OneCycle && o.warmup > 0)
        throw UsageError("--warmup does not apply to --schedule onecycle, which rises over its first 30% by itself");
    ThreadPool pool(threads);
    return train(o, pool);
}

// ---------------------------------------------------------------------------
// evaluate

int command_evaluate(Args& args) {
    int threads = ThreadPool::hardware_threads();
    std::string model_path = "alexnet.model", data_dir = "data/mnist", confusion_path, errors_dir;
    int batch = 100;
    ImageFormat format = ImageFormat::Png;
    while (!args.done()) {
        const std::string f = args.next();
        if (f == "--help" || f == "-h") { std::fputs(kEvaluateUsage, stdout); return 0; }
        else if (f == "--model") model_path = args.value(f);
        else if (f == "--data") data_dir = args.value(f);
        else if (f == "--confusion") confusion_path = args.value(f);
        else if (f == "--errors") errors_dir = args.value(f);
        else if (f == "--format") format = format_flag(args, f);
        else if (f == "--batch-size") batch = static_cast<int>(args.integer(f, 1, 4096));
        else if (f == "--threads") threads = threads_flag(args, f);
        else unknown_flag(f);
    }
    if (confusion_path.empty()) confusion_path = model_path + ".confusion.svg";
    ThreadPool pool(threads);
    const Checkpoint ck = load_checkpoint(model_path);
    MnistSet test_set(data_dir, "t10k");
    if (!errors_dir.empty()) make_directory(errors_dir);
    Model model(ck.config, batch);
    model.params = ck.params;
    std::vector<uint32_t> indices(test_set.size());
    for (uint32_t i = 0; i < test_set.size(); ++i) indices[i] = i;
    std::vector<std::array<uint32_t, 3>> mistakes;
    const EvalResult r = evaluate(model, test_set, indices.data(), indices.size(), pool,
                                  errors_dir.empty() ? nullptr : &mistakes);

    std::printf("test accuracy: %.2f%% (%lld/%lld), test loss %.4f\n\n", 100.0 * r.accuracy(),
                static_cast<long long>(r.correct), static_cast<long long>(r.total), r.loss);
    std::printf("per-class accuracy:\n");
    for (int d = 0; d < 10; ++d) {
        int64_t row = 0;
        for (int p = 0; p < 10; ++p) row += r.confusion[d][p];
        std::printf("  %d: %6.2f%% (%lld/%lld)\n", d, row ? 100.0 * r.confusion[d][d] / row : 0.0,
                    static_cast<long long>(r.confusion[d][d]), static_cast<long long>(row));
    }
    std::printf("\nconfusion matrix (rows: true digit, columns: predicted):\n      ");
    for (int p = 0; p < 10; ++p) std::printf("%6d", p);
    std::printf("\n");
    for (int d = 0; d < 10; ++d) {
        std::printf("  %d:  ", d);
        for (int p = 0; p < 10; ++p) std::printf("%6lld", static_cast<long long>(r.confusion[d][p]));
        std::printf("\n");
    }
    if (format_of(confusion_path, ImageFormat::Pgm) == ImageFormat::Png) write_confusion_png(confusion_path, r.confusion);
    else write_confusion_svg(confusion_path, r.confusion);
    std::printf("\nheat map: %s\n", confusion_path.c_str());
    for (const auto& [index, truth, predicted] : mistakes) {
        uint8_t pixels[kMnistPixels], label = 0;
        test_set.read_batch(pixels, &label, &index, 1);
        char name[64];
        std::snprintf(name, sizeof name, "/%05u_true%u_pred%u", index, truth, predicted);
        write_image(errors_dir + name + image_extension(format, 1), pixels, kMnistSide, kMnistSide, 1, format);
    }
    if (!errors_dir.empty())
        std::printf("%zu misclassified images written to %s\n", mistakes.size(), errors_dir.c_str());
    return 0;
}

// ---------------------------------------------------------------------------
// summary

int command_summary(Args& args) {
    ModelConfig config;
    int batch = 32;
    std::string model_path;
    while (!args.done()) {
        const std::string f = args.next();
        if (f == "--help" || f == "-h") { std::fputs(kSummaryUsage, stdout); return 0; }
        else if (model_flag(args, f, config)) continue;
        else if (f == "--batch-size") batch = static_cast<int>(args.integer(f, 1, 4096));
        else if (f == "--model") model_path = args.value(f);
        else unknown_flag(f);
    }
    if (!model_path.empty()) config = load_checkpoint(model_path).config;
    print_summary(config, batch);
    return 0;
}

// ---------------------------------------------------------------------------
// plot

int command_plot(Args& args) {
    std::vector<std::string> histories;
    std::string out;
    while (!args.done()) {
        const std::string f = args.next();
        if (f == "--help" || f == "-h") { std::fputs(kPlotUsage, stdout); return 0; }
        else if (f == "--out") out = args.value(f);
        else if (f.rfind("-", 0) == 0) unknown_flag(f);
        else histories.push_back(f);
    }
    if (histories.empty()) throw UsageError("plot needs a HISTORY.csv");
    if (histories.size() > kMaxComparedHistories)
        throw UsageError("plot takes at most " + std::to_string(kMaxComparedHistories) + " histories");
    if (histories.size() > 1 && out.empty()) throw UsageError("plot needs --out FILE.svg for several histories");
    // A history's name in the legend: its file name without ".model.history.csv",
    // ".history.csv" or ".csv" (train writes MODEL.history.csv).
    auto stem = [](const std::string& path) {
        std::string name = path.substr(path.find_last_of('/') + 1);
        for (const std::string suffix : {".model.history.csv", ".history.csv", ".csv"})
            if (name.size() > suffix.size() && ends_with(name, suffix))
                return name.substr(0, name.size() - suffix.size());
        return name;
    };
    if (histories.size() == 1) {
        const std::string& history = histories[0];
        if (out.empty()) {
            const bool csv = history.size() > 4 && ends_with(history, ".csv");
            out = (csv ? history.substr(0, history.size() - 4) : history) + ".svg";
        }
        write_curves_svg(out, read_history(history), "AlexNet on MNIST: " + history);
    } else {
        std::vector<NamedHistory> runs;
        for (const std::string& path : histories) runs.push_back({stem(path), read_history(path)});
        write_comparison_svg(out, runs, "AlexNet on MNIST: " + std::to_string(runs.size()) + " runs");
    }
    std::printf("wrote %s\n", out.c_str());
    return 0;
}

// ---------------------------------------------------------------------------
// visualize

int command_visualize(Args& args) {
    std::string model_path = "alexnet.model", image_path, out_dir;
    int scale = 8;
    ImageFormat format = ImageFormat::Png;
    while (!args.done()) {
        const std::string f = args.next();
        if (f == "--help" || f == "-h") { std::fputs(kVisualizeUsage, stdout); return 0; }
        else if (f == "--model") model_path = args.value(f);
        else if (f == "--image") image_path = args.value(f);
        else if (f == "--out") out_dir = args.value(f);
        else if (f == "--scale") scale = static_cast<int>(args.integer(f, 1, 64));
        else if (f == "--format") format = format_flag(args, f);
        else unknown_flag(f);
    }
    if (out_dir.empty()) throw UsageError("visualize needs --out DIR");
    const Checkpoint ck = load_checkpoint(model_path);
    make_directory(out_dir);
    Model model(ck.config, 1);
    model.params = ck.params;
    const std::string filters = out_dir + "/conv1_filters" + image_extension(format, ck.config.channels == 3 ? 3 : 1);
    write_filter_grid(filters, model, scale, format);
    std::printf("wrote %s\n", filters.c_str());
    if (image_path.empty()) return 0;

    float mnist_form[kMnistPixels];
    classify_image(model, read_image(image_path), false, mnist_form, ThreadPool::serial());
    write_mnist_image(out_dir + "/input" + image_extension(format, 1), mnist_form, format);
    for (int i = 0; i < kConvLayers; ++i) {
        const std::string path = out_dir + "/conv" + std::to_string(i + 1) + "_features" + image_extension(format, 1);
        // Deeper maps are smaller: enlarge them more, so every picture is of similar size.
        const int side = model.conv[i].out.shape[2];
        write_feature_maps(path, model, i, std::max(scale, 96 / std::max(1, side)), format);
        std::printf("wrote %s (%d channels of %dx%d)\n", path.c_str(), model.conv[i].out.shape[1], side, side);
    }
    return 0;
}

// ---------------------------------------------------------------------------
// predict

// "dir/name.pgm" -> "dir/name-3.pgm": one --show-input file per image.
std::string numbered_path(const std::string& path, size_t index, size_t count) {
    if (count == 1) return path;
    const size_t slash = path.find_last_of('/');
    const size_t dot = path.find_last_of('.');
    const size_t cut = (dot != std::string::npos && (slash == std::string::npos || dot > slash)) ? dot : path.size();
    return path.substr(0, cut) + "-" + std::to_string(index + 1) + path.substr(cut);
}

int command_predict(Args& args) {
    int threads = ThreadPool::hardware_threads();
    std::string model_path = "alexnet.model", show_input;
    bool json = false, plain_resize = false;
    int top = 0;
    std::vector<std::string> images;
    while (!args.done()) {
        const std::string f = args.next();
        if (f == "--help" || f == "-h") { std::fputs(kPredictUsage, stdout); return 0; }
        else if (f == "--model") model_path = args.value(f);
        else if (f == "--json") { args.no_value(f); json = true; }
        else if (f == "--top") top = static_cast<int>(args.integer(f, 1, 10));
        else if (f == "--show-input") show_input = args.value(f);
        else if (f == "--plain-resize") { args.no_value(f); plain_resize = true; }
        else if (f == "--threads") threads = threads_flag(args, f);
        else if (f.rfind("-", 0) == 0 && f != "-") unknown_flag(f);
        else images.push_back(f);
    }
    if (images.empty()) throw UsageError("predict needs at least one image (PNG or PGM)");
    ThreadPool pool(threads);
    const Checkpoint ck = load_checkpoint(model_path);
    Model model(ck.config, 1);
    model.params = ck.params;
    const ModelConfig& c = model.config;
    for (size_t i = 0; i < images.size(); ++i) {
        const std::string& path = images[i];
        float mnist_form[kMnistPixels];
        const float* p = classify_image(model, read_image(path), plain_resize, mnist_form, pool);
        if (!show_input.empty())
            write_mnist_image(numbered_path(show_input, i, images.size()), mnist_form,
                              format_of(show_input, ImageFormat::Png));
        std::vector<int> ranked(c.classes);
        for (int k = 0; k < c.classes; ++k) ranked[k] = k;
        std::stable_sort(ranked.begin(), ranked.end(), [&](int a, int b) { return p[a] > p[b]; });
        const int digit = ranked[0];
        if (json) {
            std::printf("{%s", prediction_json_fields(path, p, c.classes).c_str());
            if (top > 0) {
                std::printf(", \"top\": [");
                for (int k = 0; k < top; ++k) std::printf("%s%d", k ? ", " : "", ranked[k]);
                std::printf("]");
            }
            std::printf("}\n");
        } else if (top > 0) {
            std::printf("%s: %d\n", path.c_str(), digit);
            for (int k = 0; k < top; ++k)
                std::printf("  %d: %6.2f%%\n", ranked[k], 100.0 * static_cast<double>(p[ranked[k]]));
        } else {
            std::printf("%s: %d\n", path.c_str(), digit);
            for (int k = 0; k < c.classes; ++k)
                std::printf("  %d: %.6f%s\n", k, static_cast<double>(p[k]), k == digit ? "  <" : "");
        }
    }
    return 0;
}

// ---------------------------------------------------------------------------
// bench

int command_bench(Args& args) {
    BenchOptions o;
    while (!args.done()) {
        const std::string f = args.next();
        if (f == "--help" || f == "-h") { std::fputs(kBenchUsage, stdout); return 0; }
        else if (f == "--threads") o.threads = threads_flag(args, f);
        else if (f == "--json") { args.no_value(f); o.json = true; }
        else if (!model_flag(args, f, o.config)) {
            if (f == "--batch-size") o.batch_size = static_cast<int>(args.integer(f, 1, 4096));
            else if (f == "--steps") o.train_steps = static_cast<int>(args.integer(f, 1, 100000));
            else if (f == "--check-sgemm") o.check_sgemm_fraction = args.real(f, 0.0, 1.0, false);
            else unknown_flag(f);
        }
    }
    return run_bench(o);
}

// ---------------------------------------------------------------------------
// export

int command_export(Args& args) {
    std::string data_dir = "data/mnist", out, set_name = "test";
    long long index = -1;
    ImageFormat format = ImageFormat::Png;
    bool format_given = false;
    while (!args.done()) {
        const std::string f = args.next();
        if (f == "--help" || f == "-h") { std::fputs(kExportUsage, stdout); return 0; }
        else if (f == "--index") index = args.integer(f, 0, UINT32_MAX);
        else if (f == "--out") out = args.value(f);
        else if (f == "--data") data_dir = args.value(f);
        else if (f == "--format") { format = format_flag(args, f); format_given = true; }
        else if (f == "--set") {
            set_name = args.value(f);
            if (set_name != "test" && set_name != "train")
                throw UsageError("--set must be test or train, not '" + set_name + "'");
        }
        else unknown_flag(f);
    }
    if (index < 0) throw UsageError("export needs --index N");
    if (out.empty()) throw UsageError("export needs --out FILE.png");
    if (!format_given) format = format_of(out, ImageFormat::Png);
    MnistSet set(data_dir, set_name == "test" ? "t10k" : "train");
    if (index >= set.size())
        throw UsageError("--index " + std::to_string(index) + " is past the last image (" +
                         std::to_string(set.size() - 1) + ")");
    const uint32_t i = static_cast<uint32_t>(index);
    uint8_t pixels[kMnistPixels], label = 0;
    set.read_batch(pixels, &label, &i, 1);
    write_image(out, pixels, kMnistSide, kMnistSide, 1, format);
    std::printf("wrote %s (%s image %u, label %d)\n", out.c_str(), set_name.c_str(), i, label);
    return 0;
}

// ---------------------------------------------------------------------------
// serve

int command_serve(Args& args) {
    int threads = ThreadPool::hardware_threads();
    ServeOptions o;
    while (!args.done()) {
        const std::string f = args.next();
        if (f == "--help" || f == "-h") { std::fputs(kServeUsage, stdout); return 0; }
        else if (f == "--model") o.model_path = args.value(f);
        else if (f == "--data") o.data_dir = args.value(f);
        else if (f == "--host") o.host = args.value(f);
        else if (f == "--port") o.port = static_cast<int>(args.integer(f, 0, 65535));
        else if (f == "--read-timeout") o.read_timeout_ms = static_cast<int>(1000 * args.real(f, 0.0, 600.0, false));
        else if (f == "--threads") threads = threads_flag(args, f);
        else unknown_flag(f);
    }
    ThreadPool pool(threads);
    return serve(o, pool);
}

}  // namespace

// ---------------------------------------------------------------------------

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fputs(kMainUsage, stderr);
        return 2;
    }
    const std::string command = argv[1];
    if (command == "--help" || command == "-h" || command == "help") {
        std::fputs(kMainUsage, stdout);
        return 0;
    }
    const char* usage = command == "train"      ? kTrainUsage
                        : command == "evaluate" ? kEvaluateUsage
                        : command == "predict"  ? kPredictUsage
                        : command == "export"   ? kExportUsage
                        : command == "bench"    ? kBenchUsage
                        : command == "summary"  ? kSummaryUsage
                        : command == "plot"     ? kPlotUsage
                        : command == "visualize" ? kVisualizeUsage
                        : command == "serve"    ? kServeUsage
                                                : nullptr;
    if (!usage) {
        std::fprintf(stderr, "alexnet: unknown command '%s'\n\n%s", command.c_str(), kMainUsage);
        return 2;
    }
    Args args(argc, argv, 2);
    int code = 0;
    try {
        if (command == "train") code = command_train(args);
        else if (command == "evaluate") code = command_evaluate(args);
        else if (command == "predict") code = command_predict(args);
        else if (command == "bench") code = command_bench(args);
        else if (command == "summary") code = command_summary(args);
        else if (command == "plot") code = command_plot(args);
        else if (command == "serve") code = command_serve(args);
        else if (command == "visualize") code = command_visualize(args);
        else code = command_export(args);
    } catch (const UsageError& e) {
        std::fprintf(stderr, "alexnet %s: %s\n\n%s", command.c_str(), e.what(), usage);
        code = 2;
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "alexnet %s: out of memory\n", command.c_str());
        code = 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "alexnet %s: %s\n", command.c_str(), e.what());
        code = 1;
    }
    return code;
}
