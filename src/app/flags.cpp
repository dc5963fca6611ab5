// flags.cpp — see flags.h.
#include "app/flags.h"

#include <cstdint>

#include "fast/thread_pool.h"

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

// The flags that --recipe NAME stands for (docs/experiments.md). "best" is
// the best combination found: a 72x72 input, all 60,000 training images (no
// validation split), one-cycle Adam, augmentation, elastic distortion and
// dropout, for 14 epochs. "fast" is the same in 8 epochs of batches of 64,
// at a higher peak rate: about as accurate, in about half the time.
std::vector<std::string> recipe_flags(const std::string& name) {
    const std::vector<std::string> shared = {"--image-size", "72", "--schedule", "onecycle", "--augment",
                                             "--elastic", "10", "--dropout", "0.5", "--val-split", "0"};
    std::vector<std::string> flags;
    if (name == "best") flags = {"--epochs", "14", "--lr", "1e-3"};
    else if (name == "fast") flags = {"--epochs", "8", "--batch-size", "64", "--lr", "1.5e-3"};
    else throw UsageError("--recipe must be best or fast, not '" + name + "'");
    flags.insert(flags.end(), shared.begin(), shared.end());
    return flags;
}

TrainFlags::TrainFlags() {
    TrainOptions& o = options;
    auto joined = [](const std::string& name) {
        std::string text;
        for (const std::string& a : recipe_flags(name)) text += (text.empty() ? "" : " ") + a;
        return text;
    };
    Flag recipe{"--recipe", "NAME",
                "best, the best recipe found, or fast, as accurate in about\nhalf the time (docs/experiments.md)", "",
                nullptr, recipe_flags};
    CommandLine& cl = command_line;
    cl.usage = "./alexnet train [flags]";
    cl.about = wrap("Trains on MNIST, saves a checkpoint every epoch, reports test accuracy. The defaults are "
                    "the original TensorFlow project's recipe. --recipe best stands for " + joined("best") +
                    "; --recipe fast for " + joined("fast") + " (flags given as well win).");
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
}

void TrainFlags::finish() {
    TrainOptions& o = options;
    const CommandLine& cl = command_line;
    for (const char* f : {"--filters", "--image-size", "--channels", "--lrn", "--pool"})
        if (cl.was_given(f)) o.config_flags.push_back(f);
    if (o.resume && !o.init_path.empty()) cl.fail("--resume and --init exclude each other");
    if (cl.was_given("--momentum") && o.optimizer != OptimizerKind::Sgd) cl.fail("--momentum is for --optimizer sgd");
    if (o.optimizer == OptimizerKind::Sgd && !cl.was_given("--lr")) o.lr = 0.01;  // Adam's 1e-4 would crawl
    if (o.schedule == ScheduleKind::OneCycle && o.warmup > 0)
        cl.fail("--warmup does not apply to --schedule onecycle, which rises over its first 30% by itself");
    o.shuffle = !no_shuffle;
    o.kernels = reference ? KernelSet::Reference : KernelSet::Fast;
}

