// main.cpp — the command line: one table of commands, and for each command
// one table of flags (app/cli.h), from which parsing, checking and --help
// all come.
//
// Exit codes: 0 success, 1 bad data or I/O (a one-line message naming the
// file), 2 usage errors (unknown flag, bad value; the usage text follows).
#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/bench.h"
#include "app/checkpoint.h"
#include "app/cli.h"
#include "app/flags.h"
#include "app/commands.h"
#include "app/report.h"
#include "app/serve.h"
#include "app/train.h"
#include "app/walkthrough.h"
#include "fast/thread_pool.h"
#include "nn/model.h"

namespace {

using Args = std::vector<std::string>;

// ---------------------------------------------------------------------------
// train

int command_train(const Args& args) {
    TrainFlags flags;
    if (!flags.command_line.parse(args)) return 0;
    flags.finish();
    ThreadPool pool(flags.threads);
    return train(flags.options, pool);
}

// ---------------------------------------------------------------------------
// evaluate

int command_evaluate(const Args& args) {
    int threads;
    EvaluateOptions o;
    CommandLine cl;
    cl.usage = "./alexnet evaluate [flags]";
    cl.about = "Test accuracy, per-class accuracy and the confusion matrix on the 10,000\n"
               "t10k images; the matrix is also drawn as an SVG heat map.";
    cl.flags = {
        text_flag("--model", "FILE", &o.model_path, "checkpoint"),
        text_flag("--data", "DIR", &o.data_dir, "MNIST IDX files"),
        text_flag("--confusion", "FILE", &o.confusion_path,
                  "heat map to write; a name ending in .png gets a PNG of the\ncells, without numbers")
            .defaults_to("MODEL.confusion.svg"),
        text_flag("--errors", "DIR", &o.errors_dir,
                  "write each misclassified test image to DIR as\nINDEX_true<T>_pred<P>.png"),
        format_flag(&o.format, "format of the --errors images"),
        integer_flag("--batch-size", "N", &o.batch_size, 1, 4096, "images per forward pass"),
        threads_flag(&threads),
    };
    if (!cl.parse(args)) return 0;
    ThreadPool pool(threads);
    return run_evaluate(o, pool);
}

// ---------------------------------------------------------------------------
// summary

int command_summary(const Args& args) {
    ModelConfig config;
    int batch = 32;
    std::string model_path;
    CommandLine cl;
    cl.usage = "./alexnet summary [flags]";
    cl.about = "Prints each layer with its output shape, parameters and multiply-adds per\n"
               "image, the totals, and the memory training needs.";
    cl.flags = model_flags(&config);
    append(cl.flags, {integer_flag("--batch-size", "N", &batch, 1, 4096, "batch for the activation memory"),
                      text_flag("--model", "FILE", &model_path, "describe this checkpoint's configuration instead")});
    if (!cl.parse(args)) return 0;
    if (!model_path.empty()) config = load_checkpoint(model_path).config;
    print_summary(config, batch);
    return 0;
}

// ---------------------------------------------------------------------------
// plot

int command_plot(const Args& args) {
    std::string out;
    CommandLine cl;
    cl.usage = "./alexnet plot HISTORY.csv [--out FILE.svg]\n       ./alexnet plot A.csv B.csv ... --out FILE.svg";
    cl.about = "Draws the loss and accuracy curves of a training history (the\n"
               "MODEL.history.csv that train writes) as a self-contained SVG. Given up to\n"
               "12 histories, draws them on one chart, a colour each, named by file.";
    cl.positional = "HISTORY.csv";
    cl.flags = {text_flag("--out", "FILE", &out, "SVG to write").defaults_to("for one history, HISTORY with .svg for .csv")};
    if (!cl.parse(args)) return 0;
    if (cl.arguments.empty()) cl.fail("plot needs a HISTORY.csv");
    if (cl.arguments.size() > kMaxComparedHistories)
        cl.fail("plot takes at most " + std::to_string(kMaxComparedHistories) + " histories");
    if (cl.arguments.size() > 1 && out.empty()) cl.fail("plot needs --out FILE.svg for several histories");
    return run_plot(cl.arguments, out);
}

// ---------------------------------------------------------------------------
// visualize

int command_visualize(const Args& args) {
    VisualizeOptions o;
    CommandLine cl;
    cl.usage = "./alexnet visualize --out DIR [flags]";
    cl.about = "Writes DIR/conv1_filters.png: conv1's filters, each scaled to the full grey\n"
               "range and enlarged, in a grid. With --image, also DIR/input.png (the 28x28\n"
               "the network sees) and DIR/convN_features.png: every channel of each conv\n"
               "layer's output for that image.";
    cl.flags = {
        text_flag("--out", "DIR", &o.out_dir, "folder for the pictures (created if missing)"),
        text_flag("--model", "FILE", &o.model_path, "checkpoint"),
        text_flag("--image", "IMG", &o.image_path, "an image (PNG or PGM) to show the feature maps of"),
        integer_flag("--scale", "N", &o.scale, 1, 64, "enlargement of each pixel"),
        format_flag(&o.format, "picture format (pgm writes PGM, PPM for colour)"),
    };
    if (!cl.parse(args)) return 0;
    if (o.out_dir.empty()) cl.fail("visualize needs --out DIR");
    return run_visualize(o);
}

// ---------------------------------------------------------------------------
// predict

int command_predict(const Args& args) {
    int threads;
    PredictOptions o;
    CommandLine cl;
    cl.usage = "./alexnet predict IMG [IMG ...] [flags]";
    cl.about = "Prints the predicted digit and the ten class probabilities of each image:\n"
               "PNG (any colour type and bit depth, interlaced or not; transparency over\n"
               "white) or PGM (P2 or P5, maxval up to 65535), any size. A photo or drawing is first\n"
               "brought to MNIST's form: inverted if its background is light, cropped to\n"
               "the digit, scaled to fit 20x20, centred by mass in 28x28. A 28x28 image\n"
               "with a dark background (an MNIST image) is used as it is.";
    cl.positional = "IMG";
    cl.flags = {
        text_flag("--model", "FILE", &o.model_path, "checkpoint"),
        integer_flag("--top", "K", &o.top, 1, 10, "show only the K most likely digits").defaults_to(""),
        switch_flag("--plain-resize", &o.plain_resize, "skip the MNIST-form step: only resize to 28x28 (bilinear)"),
        text_flag("--show-input", "FILE", &o.show_input, "write the 28x28 image the network saw, as PGM if FILE\n"
                                                         "ends in .pgm, else PNG (FILE-1, FILE-2, ... for several)"),
        text_flag("--saliency", "FILE", &o.saliency, "write where the network looked: |d logit / d pixel| of the\n"
                                                     "winning digit over the 28x28 image, as a PNG (PPM for .ppm)"),
        switch_flag("--json", &o.json, "one JSON object per line per image: file, digit,\n"
                                       "probabilities (and top with --top)"),
        threads_flag(&threads),
    };
    if (!cl.parse(args)) return 0;
    o.images = cl.arguments;
    if (o.images.empty()) cl.fail("predict needs at least one image (PNG or PGM)");
    ThreadPool pool(threads);
    return run_predict(o, pool);
}

// ---------------------------------------------------------------------------
// bench

int command_bench(const Args& args) {
    BenchOptions o;
    CommandLine cl;
    cl.usage = "./alexnet bench [flags]";
    cl.about = "Measures FMA peak and triad bandwidth in-process, SGEMM at every GEMM shape\n"
               "of a training step, a per-layer step profile, training images/s at 1 and N\n"
               "threads, inference images/s and batch-1 latency. Synthetic data.";
    cl.flags = {threads_flag(&o.threads), switch_flag("--json", &o.json, "print JSON instead of tables")};
    append(cl.flags, model_flags(&o.config));
    append(cl.flags, {
        integer_flag("--batch-size", "N", &o.batch_size, 1, 4096, "images per training step"),
        integer_flag("--steps", "N", &o.train_steps, 1, 100000, "measured training steps"),
        switch_flag("--inference", &o.inference_only,
                    "measure inference alone: images/s at the batch size and batch-1\n"
                    "latency (whole and per layer), 1 and N threads"),
        real_flag("--check-sgemm", "F", &o.check_sgemm_fraction, {0.0, 1.0, true},
                  "the speed gate: measure only SGEMM 1024^3 and the FMA peak on\n"
                  "1 thread; exit 1 if SGEMM reaches less than F (0..1) of the peak")
            .defaults_to(""),
    });
    if (!cl.parse(args)) return 0;
    return run_bench(o);
}

// ---------------------------------------------------------------------------
// export

int command_export(const Args& args) {
    ExportOptions o;
    CommandLine cl;
    cl.usage = "./alexnet export --index N --out FILE.png [flags]";
    cl.about = "Writes MNIST image N as an 8-bit grey PNG (PGM for FILE.pgm) and prints its label.";
    cl.flags = {
        integer_flag("--index", "N", &o.index, 0, UINT32_MAX, "image index (0-based)").defaults_to(""),
        text_flag("--out", "FILE", &o.out, "image file to write"),
        format_flag(&o.format, "format, whatever FILE's extension").defaults_to("by extension, else png"),
        choice_flag("--set", "test|train", &o.set, {{"test", std::string("test")}, {"train", std::string("train")}},
                    "t10k or train images"),
        text_flag("--data", "DIR", &o.data_dir, "MNIST IDX files"),
    };
    if (!cl.parse(args)) return 0;
    if (o.index < 0) cl.fail("export needs --index N");
    if (o.out.empty()) cl.fail("export needs --out FILE.png");
    if (!cl.was_given("--format")) o.format = format_of(o.out, ImageFormat::Png);
    return run_export(o);
}

// ---------------------------------------------------------------------------
// serve

int command_serve(const Args& args) {
    int threads;
    double read_timeout = 10.0;
    ServeOptions o;
    CommandLine cl;
    cl.usage = "./alexnet serve [flags]";
    cl.about = "Serves a page (built into the binary) to draw a digit on and watch the model\n"
               "think, and to train a model and watch it learn; and the JSON API the page\n"
               "uses (docs/serve.md). Stops on Ctrl-C.";
    cl.flags = {
        text_flag("--model", "FILE", &o.model_path, "checkpoint to serve (the page can train one if it is missing)"),
        text_flag("--train-model", "FILE", &o.train_model_path, "checkpoint a training run started from the page writes"),
        integer_flag("--port", "N", &o.port, 0, 65535, "TCP port (0: any free port)"),
        text_flag("--host", "ADDRESS", &o.host, "IPv4 address to listen on (this machine only; another\n"
                                                "address serves the network, with a warning)"),
        text_flag("--data", "DIR", &o.data_dir, "MNIST IDX files: test images, and the page's training runs"),
        real_flag("--read-timeout", "S", &read_timeout, {0.0, 600.0, true}, "seconds a request may take to arrive"),
        threads_flag(&threads).defaults_to("all hardware threads; never more"),
    };
    cl.flags.back().help = "compute workers for requests";
    if (!cl.parse(args)) return 0;
    o.read_timeout_ms = static_cast<int>(1000 * read_timeout);
    o.workers = std::min(threads, ThreadPool::hardware_threads());
    return serve(o);
}

// ---------------------------------------------------------------------------
// walkthrough

int command_walkthrough(const Args& args) {
    CommandLine cl;
    cl.usage = "./alexnet walkthrough [SECTION]";
    cl.about = std::string("Prints the worked numbers of docs/walkthrough.md, computed by the reference\n"
                           "kernels: every section, or one of ") + kWalkthroughSections + ".";
    cl.positional = "SECTION";
    if (!cl.parse(args)) return 0;
    if (cl.arguments.size() > 1) cl.fail("walkthrough takes one section at most");
    const std::string section = cl.arguments.empty() ? "" : cl.arguments[0];
    try {
        run_walkthrough(section);
    } catch (const std::invalid_argument&) {
        cl.fail("no section '" + section + "'; the sections are " + kWalkthroughSections);
    }
    return 0;
}

// ---------------------------------------------------------------------------
// The commands

struct Command {
    const char* name;
    const char* summary;
    int (*run)(const Args&);
};

const Command kCommands[] = {
    {"train", "train on MNIST, save a checkpoint each epoch, report test accuracy", command_train},
    {"evaluate", "test accuracy, per-class accuracy and confusion matrix of a checkpoint", command_evaluate},
    {"predict", "name the digit in one or more PNG or PGM images", command_predict},
    {"export", "write one MNIST image as a PNG (or PGM) file, to try predict on", command_export},
    {"summary", "the layer table: output shapes, parameters, multiply-adds, memory", command_summary},
    {"plot", "redraw the loss and accuracy curves of a training history as SVG", command_plot},
    {"visualize", "pictures of conv1's filters and of every conv layer's feature maps", command_visualize},
    {"serve", "a web page to draw a digit on and watch every layer respond", command_serve},
    {"walkthrough", "the worked numbers of docs/walkthrough.md, from the reference kernels", command_walkthrough},
    {"bench", "measure the machine's limits, SGEMM, training and inference speed", command_bench},
};

std::string main_usage() {
    std::string text = "usage: ./alexnet <command> [flags]\n\n"
                       "AlexNet in plain C++17: trains on MNIST on the CPU, predicts digits in PNG and PGM images.\n\n"
                       "commands:\n";
    size_t width = 0;  // the longest name, so that every summary starts in one column
    for (const Command& c : kCommands) width = std::max(width, std::string(c.name).size());
    for (const Command& c : kCommands) {
        std::string name = "  " + std::string(c.name);
        name.resize(width + 4, ' ');
        text += name + c.summary + "\n";
    }
    return text + "\nRun ./alexnet <command> --help for its flags.\n";
}

}  // namespace

int main(int argc, char** argv) {
    const std::string command = argc > 1 ? argv[1] : "";
    if (command == "--help" || command == "-h" || command == "help") {
        std::fputs(main_usage().c_str(), stdout);
        return 0;
    }
    const Command* found = nullptr;
    for (const Command& c : kCommands)
        if (command == c.name) found = &c;
    if (!found) {
        if (!command.empty()) std::fprintf(stderr, "alexnet: unknown command '%s'\n\n", command.c_str());
        std::fputs(main_usage().c_str(), stderr);
        return 2;
    }
    try {
        return found->run(Args(argv + 2, argv + argc));
    } catch (const UsageError& e) {
        std::fprintf(stderr, "alexnet %s: %s\n\n%s", command.c_str(), e.what(), e.usage.c_str());
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "alexnet %s: out of memory\n", command.c_str());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "alexnet %s: %s\n", command.c_str(), e.what());
        return 1;
    }
    return 2;
}
