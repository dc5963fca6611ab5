// flags.h — the flags that several commands share (the network's shape,
// threads, image formats) and the whole flag table of ./alexnet train, which
// the command line and a run started from serve's page both parse with.
#pragma once

#include <string>
#include <vector>

#include "app/cli.h"
#include "app/train.h"
#include "data/image.h"
#include "nn/model.h"

// --threads N, the default being every hardware thread (set into *threads).
Flag threads_flag(int* threads);
// --format png|pgm.
Flag format_flag(ImageFormat* format, const std::string& help);
// --filters, --image-size, --channels, --lrn, --pool: the network's shape.
std::vector<Flag> model_flags(ModelConfig* config);
void append(std::vector<Flag>& to, std::vector<Flag> more);

// The flags that --recipe NAME stands for; throws UsageError for another name.
std::vector<std::string> recipe_flags(const std::string& name);

// ./alexnet train's flags, bound to the options they set.
struct TrainFlags {
    TrainOptions options;
    int threads = 1;
    bool reference = false, no_shuffle = false;
    CommandLine command_line;

    TrainFlags();
    TrainFlags(const TrainFlags&) = delete;
    TrainFlags& operator=(const TrainFlags&) = delete;
    // After command_line.parse: the checks that concern several flags, and
    // the options they imply. Throws UsageError.
    void finish();
};
