// train.h — the training loop and evaluation: batches from the MNIST reader,
// forward, loss, backward, Adam; validation after every epoch, a checkpoint
// after every epoch, test accuracy at the end.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "nn/optimizer.h"
#include "nn/model.h"
#include "nn/schedule.h"

class ThreadPool;
class MnistSet;

struct TrainOptions {
    std::string data_dir = "data/mnist";
    std::string model_path = "alexnet.model";
    int epochs = 2;
    int batch_size = 32;
    double lr = 1e-4;
    double dropout = 0.0;     // dropout after dense1 and dense2 in training (0: off)
    bool augment = false;     // random shift, scale and rotation of every training image
    double elastic = 0.0;     // strength (alpha) of an elastic distortion of every training image (0: off)
    ScheduleKind schedule = ScheduleKind::Constant;  // the learning rate's shape over the run
    int64_t warmup = 0;       // steps of linear learning-rate warm-up
    double weight_decay = 0;  // decoupled weight decay (AdamW, or SGD's shrink)
    OptimizerKind optimizer = OptimizerKind::Adam;
    double momentum = 0.9;    // SGD's
    ModelConfig config;
    std::vector<std::string> config_flags;  // which of --filters ... --pool were given: with
                                            // --resume or --init, they must match the checkpoint
    double val_split = 0.2;   // fraction of the 60,000 held out for validation
    uint64_t seed = 7;
    int64_t max_steps = 0;    // stop after this many optimizer steps (0: no limit)
    bool shuffle = true;      // a new seeded permutation every epoch
    std::string init_path;    // start from these weights, fresh optimizer state
    bool resume = false;      // continue model_path: weights, Adam moments and step
    int log_every = 100;      // steps between progress lines and history rows
    bool quiet = false;       // no progress lines, only the epoch summaries
    KernelSet kernels = KernelSet::Fast;  // --reference: every step through the reference kernels
};

// Loss and accuracy summed over the steps of the current epoch.
struct RunningMeans {
    double loss_sum = 0.0;
    int64_t correct = 0, seen = 0;
    void add(double loss, int correct_in_batch, int n) {
        loss_sum += loss * n;
        correct += correct_in_batch;
        seen += n;
    }
    double loss() const { return seen ? loss_sum / seen : 0.0; }
    double accuracy() const { return seen ? 100.0 * correct / seen : 0.0; }
};

struct EvalResult {
    double loss = 0.0;  // mean cross-entropy
    int64_t correct = 0, total = 0;
    std::array<std::array<int64_t, 10>, 10> confusion{};  // [true][predicted]
    double accuracy() const { return total ? static_cast<double>(correct) / total : 0.0; }
};

// Runs the model over the `count` images at the given indices, in batches of
// up to model.max_batch, and counts loss, accuracy and the confusion matrix.
// If mistakes is not null, each misclassified image is added to it.
struct Mistake {
    uint32_t index;             // in the set
    int truth, predicted;       // labels
    float truth_probability;    // what the model gave the right answer
};
EvalResult evaluate(Model& model, MnistSet& set, const uint32_t* indices, size_t count, ThreadPool& pool,
                    std::vector<Mistake>* mistakes = nullptr);

// The accuracy, the per-class accuracy and the confusion matrix, as
// ./alexnet evaluate prints them.
void print_evaluation(const EvalResult& result);

// ---------------------------------------------------------------------------
// A training run, as ./alexnet train makes it and as the page of
// ./alexnet serve starts it: the same reader, preprocessing, train_step,
// checkpoints and final test, watched by an observer and steered by a
// control.

struct TrainingPlan {
    std::string description;    // "training AlexNet (filters 8, ...) on 48000 images, ..."
    TrainOptions options;       // as resolved (from the checkpoint, with --resume)
    int64_t first_step = 0;     // optimizer steps already made (resume)
    int64_t last_step = 0;      // the step the run stops after
    int64_t steps_per_epoch = 0;
    uint32_t train_count = 0, val_count = 0;
};

// What a run tells whoever watches it; every call comes from the training
// thread, between steps.
class TrainingObserver {
public:
    virtual ~TrainingObserver() = default;
    virtual void started(const TrainingPlan&) {}
    // After every step: the epoch (0-based), the steps made so far, and the
    // running means of the epoch so far. model holds the updated weights.
    virtual void step_done(int /*epoch*/, int64_t /*step*/, const RunningMeans&, const Model&) {}
    // After every epoch's checkpoint and validation (null without a
    // validation split). The observer may evaluate more with model and pool.
    virtual void epoch_done(int /*epoch*/, int64_t /*step*/, const RunningMeans&, const EvalResult* /*validation*/,
                            double /*seconds*/, Model&, ThreadPool&) {}
    // A stop was asked for and honoured: the checkpoint of this step is saved.
    virtual void stopped(int64_t /*step*/) {}
    // The run is complete: test accuracy on the t10k images.
    virtual void finished(const EvalResult& /*test*/, double /*seconds*/) {}
};

// How a run is steered from outside it: another thread, or a signal handler
// (stop only; both fields are lock-free atomics).
struct TrainingControl {
    std::atomic<int> stop{0};         // non-zero: stop after the current step (a signal number, or -1)
    std::atomic<bool> paused{false};  // wait between steps until resumed or stopped
    void request_stop(int reason = -1);
    void pause();
    void resume();
    // Blocks while paused (and not stopped); used by the run between steps.
    void wait_while_paused();

private:
    std::mutex mutex_;
    std::condition_variable changed_;
};

enum class TrainOutcome { Finished, Stopped };

// Trains as described at the top of this file. Throws std::runtime_error for
// bad data, a checkpoint that cannot be written or a loss that stops being
// finite (the last good checkpoint stays).
TrainOutcome run_training(const TrainOptions& options, ThreadPool& pool, TrainingObserver& observer,
                          TrainingControl& control);

// ./alexnet train: run_training with progress on stdout; SIGINT or SIGTERM
// save and stop. Returns the process exit code (130 when interrupted).
int train(const TrainOptions& options, ThreadPool& pool);

// The seeded split of n training images: one permutation of [0, n), whose
// first train_count entries are for training and the rest for validation.
// One array for both, so memory is 4 bytes per image, whatever the split.
struct DataSplit {
    std::vector<uint32_t> indices;  // (n) a permutation of 0..n-1
    uint32_t train_count = 0;       // n - round(n * val_split)
};
DataSplit split_indices(uint32_t n, double val_split, uint64_t seed);

// Puts the training range into the order of epoch `epoch` (0-based), given
// that it holds the order of the epoch before (or, for epoch 0, the split
// order): a seeded shuffle that depends only on (seed, epoch), so a resumed
// run that replays epochs 0..e sees the same order as an uninterrupted one.
// With shuffle off, the range is sorted instead (file order).
void order_for_epoch(uint32_t* train, uint32_t count, uint64_t seed, int epoch, bool shuffle);
