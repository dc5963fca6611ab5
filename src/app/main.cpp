// main.cpp — the command line: one table of commands, and for each command
// one table of flags (app/cli.h), from which parsing, checking and --help
// all come.
//
// Exit codes: 0 success, 1 bad data or I/O (a one-line message naming the
// file), 2 usage errors (unknown flag, bad value; the usage text follows).
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/bench.h"
#include "app/checkpoint.h"
#include "app/cli.h"
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
// Flags that several commands share

Flag threads_flag(int* threads) {
    *threads = ThreadPool::hardware_threads();
    return integer_flag("--threads", "N", threads, 1, 1024, "worker threads").defaults_to("all hardware threads");
}

Flag format_flag(ImageFormat* format, const std::string& help) {
    return choice_flag("--format", "png|pgm", format, {{"png", ImageFormat::Png}, {"pgm", ImageFormat::Pgm}}, help);
}

// --filters, --image-size, --channels, --lrn, --pool: the network's shape.
std::vector<Flag> model_flags(ModelConfig* config) {
    Flag size = integer_flag("--image-size", "S", &config->image_size, 1, 1024, "input side after resizing 28x28");
    size.help += ", at least " + std::to_string(min_image_size());
    size.set = [config](const std::string& v) {
        config->image_size = static_cast<int>(parse_integer("--image-size", v, 1, 1024));
        if (config->image_size < min_image_size())
            throw UsageError("--image-size " + v + " is too small for AlexNet; the smallest that works is " +
                             std::to_string(min_image_size()));
    };
    return {
        integer_flag("--filters", "F", &config->filters, 1, 256, "width multiplier f"),
        size,
        choice_flag("--channels", "C", &config->channels, {{"1", 1}, {"3", 3}}, "1, or 3 to replicate grey to RGB"),
        switch_flag("--lrn", &config->lrn, "local response normalisation after conv1 and conv2, as the\n"
                                           "AlexNet paper (k 2, n 5, alpha 1e-4, beta 0.75)"),
        choice_flag("--pool", "WINDOW", &config->pool_window, {{"2x2s2", 2}, {"3x3s2", 3}},
                    "max-pooling: 2x2s2, or 3x3s2, the paper's overlapping windows\n"
                    "(same output sizes; stored in the checkpoint)"),
    };
}

void append(std::vector<Flag>& to, std::vector<Flag> more) { to.insert(to.end(), more.begin(), more.end()); }

// ---------------------------------------------------------------------------
// train

// The flags that --recipe NAME stands for. "best" is the best combination
// found (docs/experiments.md): a 72x72 input, all 60,000 training images
// (no validation split), one-cycle Adam, augmentation, elastic distortion
// and dropout.
std::vector<std::string> recipe_flags(const std::string& name) {
    if (name == "best")
        return {"--image-size", "72", "--epochs", "14", "--lr", "1e-3", "--schedule", "onecycle",
                "--augment", "--elastic", "10", "--dropout", "0.5", "--val-split", "0"};
    throw UsageError("--recipe must be best, not '" + name + "'");
}

int command_train(const Args& args) {
    int threads;
    TrainOptions o;
    bool reference = false, no_shuffle = false;
    std::string joined;
    for (const std::string& a : recipe_flags("best")) joined += (joined.empty() ? "" : " ") + a;
    Flag recipe{"--recipe", "best", "the best recipe found (docs/experiments.md)", "", nullptr, recipe_flags};
    CommandLine cl;
    cl.usage = "./alexnet train [flags]";
    cl.about = wrap("Trains on MNIST, saves a checkpoint every epoch, reports test accuracy. The defaults are "
                    "the original TensorFlow project's recipe. --recipe best stands for " + joined +
                    " (flags given as well win).");
    cl.flags = {
        recipe,
        text_flag("--data", "DIR", &o.data_dir, "MNIST IDX files"),
        text_flag("--model", "FILE", &o.model_path, "checkpoint to write after every epoch"),
        integer_flag("--epochs", "N", &o.epochs, 1, 10000, "epochs"),
        integer_flag("--batch-size", "N", &o.batch_size, 1, 4096, "images per step"),
        real_flag("--lr", "X", &o.lr, {0.0, 10.0, true}, "learning rate").defaults_to("1e-4 for Adam, 0.01 for SGD"),
        choice_flag("--optimizer", "NAME", &o.optimizer, {{"adam", OptimizerKind::Adam}, {"sgd", OptimizerKind::Sgd}},
                    "adam, or sgd (with momentum, the AlexNet paper's); give it\nagain with --resume"),
        real_flag("--momentum", "X", &o.momentum, {0.0, 1.0, false, true}, "SGD's momentum"),
        real_flag("--dropout", "P", &o.dropout, {0.0, 1.0, false, true},
                  "drop each output of dense1 and dense2 with probability P in\n"
                  "training, as the AlexNet paper does with 0.5 (0 turns it off);\ngive it again with --resume"),
        switch_flag("--augment", &o.augment, "shift (2 px), scale (0.9-1.1) and rotate (10 degrees) every\n"
                                             "training image at random (never validation or test images)"),
        real_flag("--elastic", "ALPHA", &o.elastic, {0.0, 100.0},
                  "distort every training image elastically: displace each pixel\n"
                  "by a random field smoothed over 4 px, times ALPHA (Simard et\n"
                  "al. 2003 used 34; 0 turns it off); with or without --augment"),
        choice_flag("--schedule", "NAME", &o.schedule,
                    {{"constant", ScheduleKind::Constant}, {"step", ScheduleKind::Step},
                     {"cosine", ScheduleKind::Cosine}, {"onecycle", ScheduleKind::OneCycle}},
                    "learning rate over the run: constant, step (/10 at 1/2 and 3/4\n"
                    "of it), cosine, onecycle (up from lr/25 over the first 30%,\n"
                    "then down); give it again with --resume"),
        integer_flag("--warmup", "N", &o.warmup, 0, 100000000, "steps of linear warm-up to --lr first (not onecycle)"),
        real_flag("--weight-decay", "X", &o.weight_decay, {0.0, 1.0, false, true}, "decoupled weight decay, as AdamW"),
    };
    append(cl.flags, model_flags(&o.config));
    append(cl.flags, {
        real_flag("--val-split", "X", &o.val_split, {0.0, 0.9}, "fraction of the 60,000 held out for validation"),
        integer_flag("--seed", "N", &o.seed, 0, INT64_MAX, "seed for weights, split and order"),
        threads_flag(&threads),
        integer_flag("--steps", "N", &o.max_steps, 1, INT64_MAX, "stop after N optimizer steps").defaults_to("no limit"),
        switch_flag("--no-shuffle", &no_shuffle, "take training images in file order"),
        text_flag("--init", "FILE", &o.init_path, "start from FILE's weights with fresh optimizer state"),
        switch_flag("--resume", &o.resume, "continue --model: weights, Adam moments and step"),
        integer_flag("--log-every", "N", &o.log_every, 0, 1000000, "steps between progress lines and history rows"),
        switch_flag("--quiet", &o.quiet, "no progress lines, only one line per epoch and the result"),
        switch_flag("--reference", &reference, "run every step through the reference kernels (src/nn/layers.h):\n"
                                               "slow, the same losses to float rounding"),
    });
    cl.notes = "Also writes FILE.history.csv (a row every --log-every steps and per epoch)\n"
               "and FILE.curves.svg (loss and accuracy curves, redrawn every epoch).";
    if (!cl.parse(args)) return 0;
    for (const char* f : {"--filters", "--image-size", "--channels", "--lrn", "--pool"})
        if (cl.was_given(f)) o.config_flags.push_back(f);
    if (o.resume && !o.init_path.empty()) cl.fail("--resume and --init exclude each other");
    if (cl.was_given("--momentum") && o.optimizer != OptimizerKind::Sgd) cl.fail("--momentum is for --optimizer sgd");
    if (o.optimizer == OptimizerKind::Sgd && !cl.was_given("--lr")) o.lr = 0.01;  // Adam's 1e-4 would crawl
    if (o.schedule == ScheduleKind::OneCycle && o.warmup > 0)
        cl.fail("--warmup does not apply to --schedule onecycle, which rises over its first 30% by itself");
    o.shuffle = !no_shuffle;
    o.kernels = reference ? KernelSet::Reference : KernelSet::Fast;
    ThreadPool pool(threads);
    return train(o, pool);
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
               "think: the 28x28 input it sees, the ten probabilities, every layer's\n"
               "activations and conv1's filters; and the JSON API the page uses:\n"
               "  POST /api/predict[?layers=1]  body: a PNG or PGM image\n"
               "  GET  /api/model               the layer table and conv1's filters\n"
               "  GET  /api/random[?index=N]    a t10k test image and its label\n"
               "Stops on Ctrl-C.";
    cl.flags = {
        text_flag("--model", "FILE", &o.model_path, "checkpoint"),
        integer_flag("--port", "N", &o.port, 0, 65535, "TCP port (0: any free port)"),
        text_flag("--host", "ADDRESS", &o.host, "IPv4 address to listen on (this machine only; another\n"
                                                "address serves the network, with a warning)"),
        text_flag("--data", "DIR", &o.data_dir, "MNIST IDX files, for test images"),
        real_flag("--read-timeout", "S", &read_timeout, {0.0, 600.0, true}, "seconds a request may take to arrive"),
        threads_flag(&threads),
    };
    if (!cl.parse(args)) return 0;
    o.read_timeout_ms = static_cast<int>(1000 * read_timeout);
    ThreadPool pool(threads);
    return serve(o, pool);
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
    for (const Command& c : kCommands) {
        std::string name = "  " + std::string(c.name);
        name.resize(13, ' ');
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
