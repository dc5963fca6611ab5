// train.cpp — the custom training loop (the C++ twin of the original
// project's tf.GradientTape loop): per step, take a batch (read and
// preprocessed while the previous step ran, app/batch_loader.h), run
// forward, loss, backward and one Adam update.
#include "app/train.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include <signal.h>
#include <unistd.h>

#include "app/batch_loader.h"
#include "app/checkpoint.h"
#include "app/report.h"
#include "data/mnist.h"
#include "data/preprocess.h"
#include "fast/thread_pool.h"
#include "nn/rng.h"
#include "nn/train_step.h"

// ---------------------------------------------------------------------------
// Data order

DataSplit split_indices(uint32_t n, double val_split, uint64_t seed) {
    DataSplit split;
    split.indices.resize(n);
    for (uint32_t i = 0; i < n; ++i) split.indices[i] = i;
    Rng rng(seed ^ 0x5EED5B117ull);  // a stream of its own, apart from weight init
    rng.shuffle(split.indices.data(), n);
    split.train_count = n - static_cast<uint32_t>(std::llround(n * val_split));
    return split;
}

void order_for_epoch(uint32_t* train, uint32_t count, uint64_t seed, int epoch, bool shuffle) {
    if (!shuffle) {
        std::sort(train, train + count);  // file order
        return;
    }
    Rng rng(seed * 0x9E3779B97F4A7C15ull + 0x0E90C4ull + static_cast<uint64_t>(epoch));
    rng.shuffle(train, count);
}

// ---------------------------------------------------------------------------
// Evaluation

EvalResult evaluate(Model& model, MnistSet& set, const uint32_t* indices, size_t count,
                    ThreadPool& pool, std::vector<Mistake>* mistakes) {
    const ModelConfig& c = model.config;
    const int B = model.max_batch;
    std::vector<uint8_t> pixels(static_cast<size_t>(B) * kMnistPixels), labels(B);
    Tensor input({B, c.channels, c.image_size, c.image_size});
    EvalResult r;
    double loss_sum = 0.0;
    for (size_t start = 0; start < count; start += B) {
        const int n = static_cast<int>(std::min<size_t>(B, count - start));
        set.read_batch(pixels.data(), labels.data(), indices + start, n);
        preprocess_mnist_batch(input.ptr(), pixels.data(), n, c.image_size, c.channels, pool);
        model.forward(input.ptr(), n, pool);
        int correct = 0;
        loss_sum += model.loss(labels.data(), n, &correct) * n;
        r.correct += correct;
        for (int i = 0; i < n; ++i) {
            const float* p = model.probs.ptr() + i * c.classes;
            const int predicted = static_cast<int>(std::max_element(p, p + c.classes) - p);
            r.confusion[labels[i]][predicted]++;
            if (mistakes && predicted != labels[i])
                mistakes->push_back({indices[start + i], labels[i], predicted, p[labels[i]]});
        }
        r.total += n;
    }
    r.loss = r.total ? loss_sum / r.total : 0.0;
    return r;
}

void print_evaluation(const EvalResult& r) {
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
}

// ---------------------------------------------------------------------------
// Training

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string format_duration(double seconds) {
    const long s = std::lround(std::max(0.0, seconds));
    char buf[32];
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
    return buf;
}

// Fails early, before any training, if the checkpoint cannot be written.
void check_writable(const std::string& model_path) {
    const std::string probe = model_path + ".tmp";
    std::FILE* f = std::fopen(probe.c_str(), "wb");
    if (!f) throw std::runtime_error(model_path + ": cannot write the checkpoint here (" +
                                     std::string(std::strerror(errno)) + ")");
    std::fclose(f);
    std::remove(probe.c_str());
}

// ---- Diagnosis when the loss stops being finite: which layer went first.

bool all_finite(const float* x, int64_t n) {
    for (int64_t i = 0; i < n; ++i)
        if (!std::isfinite(x[i])) return false;
    return true;
}

std::string non_finite_report(const Model& m, int n) {
    for (const ParamInfo& p : m.param_info)
        if (!all_finite(m.params.data() + p.offset, p.size))
            return p.name + " holds non-finite weights";
    for (int i = 0; i < kConvLayers; ++i)
        if (!all_finite(m.conv[i].out.ptr(), m.conv[i].out.size() / m.max_batch * n))
            return "the output of conv" + std::to_string(i + 1) + " is the first with non-finite values";
    for (int i = 0; i < kDenseLayers; ++i)
        if (!all_finite(m.dense[i].out.ptr(), static_cast<int64_t>(n) * m.dense[i].out_features))
            return "the output of dense" + std::to_string(i + 1) + " is the first with non-finite values";
    return "the logits are finite but too large for the loss";
}

// <model>.history.csv (a row every --log-every steps and one per epoch) and
// <model>.curves.svg (redrawn every epoch). A resumed run continues its
// history; a new run starts a new one.
class History {
public:
    History(const TrainOptions& o, int64_t steps_per_epoch, int64_t first_step)
        : o_(o), steps_per_epoch_(steps_per_epoch), first_step_(first_step), start_(Clock::now()),
          history_path_(o.model_path + ".history.csv"), curves_path_(o.model_path + ".curves.svg") {
        if (o.resume) {
            try {
                rows_ = read_history(history_path_);
            } catch (const std::runtime_error&) {
                rows_.clear();
            }
        }
        file_.open(history_path_, o.resume && !rows_.empty() ? std::ios::app : std::ios::trunc);
        if (!file_) throw std::runtime_error(history_path_ + ": cannot create");
        if (rows_.empty()) file_ << kHistoryHeader << "\n";
    }

    void add(int64_t step, const RunningMeans& m, const EvalResult* val) {
        HistoryRow r;
        r.epoch = static_cast<double>(step) / steps_per_epoch_;
        r.step = step;
        r.train_loss = m.loss();
        r.train_accuracy = m.accuracy();
        r.val_loss = val ? val->loss : std::nan("");
        r.val_accuracy = val ? 100.0 * val->accuracy() : std::nan("");
        r.seconds = seconds_since(start_);
        r.images_per_second = (step - first_step_) * static_cast<double>(o_.batch_size) / r.seconds;
        rows_.push_back(r);
        file_ << history_csv_line(r) << "\n";
        file_.flush();
    }

    void draw_curves() const { write_curves_svg(curves_path_, rows_, "AlexNet on MNIST: " + o_.model_path); }
    double seconds() const { return seconds_since(start_); }

private:
    const TrainOptions& o_;
    int64_t steps_per_epoch_, first_step_;
    Clock::time_point start_;
    std::string history_path_, curves_path_;
    std::vector<HistoryRow> rows_;
    std::ofstream file_;
};

// The network of --resume / --init comes from the checkpoint; a flag that
// describes the network may repeat what the file says, but not contradict it.
void check_config_flags(const std::string& path, const ModelConfig& stored, const ModelConfig& given,
                        const std::vector<std::string>& flags) {
    auto pool_name = [](int window) { return window == 3 ? "3x3s2" : "2x2s2"; };
    for (const std::string& flag : flags) {
        std::string stored_value, given_value;
        if (flag == "--filters") stored_value = std::to_string(stored.filters), given_value = std::to_string(given.filters);
        if (flag == "--image-size")
            stored_value = std::to_string(stored.image_size), given_value = std::to_string(given.image_size);
        if (flag == "--channels")
            stored_value = std::to_string(stored.channels), given_value = std::to_string(given.channels);
        if (flag == "--lrn") stored_value = stored.lrn ? "on" : "off", given_value = "on";
        if (flag == "--pool") stored_value = pool_name(stored.pool_window), given_value = pool_name(given.pool_window);
        if (stored_value != given_value)
            throw std::runtime_error(path + ": holds a network with " + flag.substr(2) + " " + stored_value +
                                     ", but " + flag + " asks for " + given_value);
    }
}

// The line a run starts with: the network, the data, and the options that
// change training, when on.
std::string describe(const TrainOptions& o, int64_t parameters, uint32_t train_count, uint32_t val_count,
                     int64_t steps_per_epoch, int threads) {
    std::string options;
    auto add_option = [&options](const char* format, auto... values) {
        char part[64];
        std::snprintf(part, sizeof part, format, values...);
        options += part;
    };
    if (o.schedule != ScheduleKind::Constant || o.warmup > 0)
        add_option(", %s schedule, warm-up %lld", schedule_name(o.schedule), static_cast<long long>(o.warmup));
    if (o.optimizer == OptimizerKind::Sgd) add_option(", SGD momentum %g", o.momentum);
    if (o.weight_decay > 0) add_option(", weight decay %g", o.weight_decay);
    if (o.dropout > 0) add_option(", dropout %g", o.dropout);
    if (o.augment) options += ", augmented";
    if (o.elastic > 0) add_option(", elastic distortion %g", o.elastic);
    if (o.config.lrn) options += ", LRN";
    if (o.config.pool_window == 3) options += ", 3x3/2 overlapping pooling";
    if (o.kernels == KernelSet::Reference) options += ", reference kernels";
    const ModelConfig& c = o.config;
    char line[512];
    std::snprintf(line, sizeof line,
                  "training AlexNet (filters %d, input %dx%dx%d, %lld parameters) on %zu images, "
                  "validating on %zu; batch %d, lr %g%s, %d epochs of %lld steps, %d threads",
                  c.filters, c.channels, c.image_size, c.image_size, static_cast<long long>(parameters),
                  static_cast<size_t>(train_count), static_cast<size_t>(val_count), o.batch_size, o.lr,
                  options.c_str(), o.epochs, static_cast<long long>(steps_per_epoch), threads);
    return line;
}

}  // namespace

// ---------------------------------------------------------------------------
// Control

void TrainingControl::request_stop(int reason) {
    stop = reason;
    std::lock_guard<std::mutex> lock(mutex_);
    changed_.notify_all();
}

void TrainingControl::pause() {
    std::lock_guard<std::mutex> lock(mutex_);
    paused = true;
}

void TrainingControl::resume() {
    std::lock_guard<std::mutex> lock(mutex_);
    paused = false;
    changed_.notify_all();
}

void TrainingControl::wait_while_paused() {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this] { return !paused || stop != 0; });
}

// ---------------------------------------------------------------------------
// The run

TrainOutcome run_training(const TrainOptions& opt, ThreadPool& pool, TrainingObserver& observer,
                          TrainingControl& control) {
    // ---- Options, possibly from the checkpoint being continued
    TrainOptions o = opt;
    Checkpoint start;
    const bool from_checkpoint = o.resume || !o.init_path.empty();
    if (from_checkpoint) {
        const std::string& path = o.resume ? o.model_path : o.init_path;
        start = load_checkpoint(path);
        check_config_flags(path, start.config, o.config, o.config_flags);
        o.config = start.config;
        if (o.resume) {
            if (!start.has_training_state)
                throw std::runtime_error(o.model_path + ": holds weights only, no optimizer state to "
                                         "resume from; use --init " + o.model_path + " instead");
            o.seed = start.training.seed;
            o.batch_size = start.training.batch_size;
            o.lr = start.training.lr;
        }
    }
    check_writable(o.model_path);

    // ---- Data: split.indices holds [0, train_count) training images, in the
    // current epoch's order, then the validation images.
    MnistSet train_set(o.data_dir, "train");
    MnistSet test_set(o.data_dir, "t10k");
    DataSplit split = split_indices(train_set.size(), o.val_split, o.seed);
    const uint32_t train_count = split.train_count;
    const uint32_t val_count = train_set.size() - train_count;
    uint32_t* order = split.indices.data();
    const uint32_t* val_indices = order + train_count;
    if (train_count == 0) throw std::runtime_error("--val-split leaves no training images");
    if (o.resume && static_cast<int32_t>(train_count) != start.training.train_count)
        throw std::runtime_error(o.model_path + ": was trained on " +
                                 std::to_string(start.training.train_count) +
                                 " images, but this split gives " + std::to_string(train_count) +
                                 "; use the same --val-split");

    // ---- Model and optimizer state
    Model model(o.config, o.batch_size);
    model.kernels = o.kernels;
    model.dropout = static_cast<float>(o.dropout);
    model.dropout_seed = o.seed;
    TrainingState state;
    state.seed = o.seed;
    state.batch_size = o.batch_size;
    state.train_count = static_cast<int32_t>(train_count);
    state.lr = o.lr;
    state.optimizer = OptimizerState(model.parameter_count());
    if (from_checkpoint) {
        model.params = start.params;
        if (o.resume) state.optimizer = start.training.optimizer;
    } else {
        model.init_weights(o.seed);
    }
    start = Checkpoint();  // its copies are no longer needed
    OptimizerConfig optimizer;
    optimizer.kind = o.optimizer;
    optimizer.adam.weight_decay = o.weight_decay;
    optimizer.sgd.weight_decay = o.weight_decay;
    optimizer.sgd.momentum = o.momentum;

    const ModelConfig& c = model.config;
    const int B = o.batch_size;
    const int64_t steps_per_epoch = (static_cast<int64_t>(train_count) + B - 1) / B;
    int64_t last_step = static_cast<int64_t>(o.epochs) * steps_per_epoch;
    if (o.max_steps > 0) last_step = std::min(last_step, state.optimizer.step + o.max_steps);
    // The schedule spans the planned run (epochs x steps per epoch), whatever
    // --steps or --resume cut out of it, so a resumed run follows the same curve.
    const Schedule schedule{o.schedule, o.lr, o.warmup, static_cast<int64_t>(o.epochs) * steps_per_epoch};

    TrainingPlan plan;
    plan.options = o;
    plan.first_step = state.optimizer.step;
    plan.last_step = last_step;
    plan.steps_per_epoch = steps_per_epoch;
    plan.train_count = train_count;
    plan.val_count = val_count;
    plan.description = describe(o, model.parameter_count(), train_count, val_count, steps_per_epoch, pool.size());
    observer.started(plan);

    BatchRecipe recipe;
    recipe.config = &c;
    recipe.augment = o.augment;
    recipe.elastic = static_cast<float>(o.elastic);
    recipe.seed = o.seed;
    BatchLoader loader(train_set, recipe, B);
    History history(o, steps_per_epoch, state.optimizer.step);
    int ordered_epoch = -1;  // the epoch whose order `order` holds

    while (state.optimizer.step < last_step) {
        const int epoch = static_cast<int>(state.optimizer.step / steps_per_epoch);
        // Replays the order of earlier epochs too when resuming.
        while (ordered_epoch < epoch) order_for_epoch(order, train_count, o.seed, ++ordered_epoch, o.shuffle);
        const auto epoch_start = Clock::now();
        RunningMeans epoch_means;
        const int64_t epoch_end_step = std::min(last_step, (epoch + 1) * steps_per_epoch);
        // The images of a step of this epoch: indices and count.
        auto images_of = [&](int64_t step, int* n) {
            const int64_t first = (step % steps_per_epoch) * B;
            *n = static_cast<int>(std::min<int64_t>(B, static_cast<int64_t>(train_count) - first));
            return order + first;
        };
        while (state.optimizer.step < epoch_end_step) {
            // ---- One step: batch in (the next one read meanwhile), forward, loss, backward, Adam
            const int64_t step = state.optimizer.step;
            int n = 0;
            const uint32_t* images = images_of(step, &n);
            const TrainingBatch& batch = loader.take(step, images, n, pool);
            if (step + 1 < epoch_end_step) {
                int next_n = 0;
                const uint32_t* next_images = images_of(step + 1, &next_n);
                loader.prefetch(step + 1, next_images, next_n);
            }

            optimizer.set_lr(learning_rate(schedule, state.optimizer.step + 1));
            const StepResult r =
                train_step(model, batch.input.ptr(), batch.labels.data(), n, state.optimizer, optimizer, pool);
            if (!std::isfinite(r.loss))
                throw std::runtime_error("step " + std::to_string(state.optimizer.step + 1) + ": the loss is " +
                                         std::to_string(r.loss) + "; " + non_finite_report(model, n) +
                                         ". Training stopped; " + o.model_path +
                                         " keeps the last good checkpoint, if any");
            epoch_means.add(r.loss, r.correct, n);
            const int64_t in_epoch = state.optimizer.step - epoch * steps_per_epoch;
            if (o.log_every > 0 && (in_epoch % o.log_every == 0 || state.optimizer.step == last_step))
                history.add(state.optimizer.step, epoch_means, nullptr);
            observer.step_done(epoch, state.optimizer.step, epoch_means, model);

            control.wait_while_paused();
            if (control.stop != 0) {
                save_checkpoint(o.model_path, model, &state);
                observer.stopped(state.optimizer.step);
                return TrainOutcome::Stopped;
            }
        }
        // ---- End of epoch: checkpoint, validation, history
        const double train_seconds = seconds_since(epoch_start);
        save_checkpoint(o.model_path, model, &state);
        EvalResult validation;
        if (val_count > 0) validation = evaluate(model, train_set, val_indices, val_count, pool);
        history.add(state.optimizer.step, epoch_means, val_count > 0 ? &validation : nullptr);
        history.draw_curves();
        observer.epoch_done(epoch, state.optimizer.step, epoch_means, val_count > 0 ? &validation : nullptr,
                            train_seconds, model, pool);
    }

    std::vector<uint32_t> test_indices(test_set.size());
    for (uint32_t i = 0; i < test_set.size(); ++i) test_indices[i] = i;
    const EvalResult t = evaluate(model, test_set, test_indices.data(), test_indices.size(), pool);
    observer.finished(t, history.seconds());
    return TrainOutcome::Finished;
}

// ---------------------------------------------------------------------------
// ./alexnet train: progress on stdout, stopped by signals

namespace {

// A live line on a terminal, plain lines every --log-every steps otherwise,
// none with --quiet; a summary line per epoch; the test result.
class ConsoleProgress : public TrainingObserver {
public:
    void started(const TrainingPlan& plan) override {
        plan_ = plan;
        terminal_ = ::isatty(fileno(stdout)) != 0;
        start_ = Clock::now();
        std::printf("%s\n", plan.description.c_str());
        if (plan.first_step > 0) std::printf("resuming at step %lld\n", static_cast<long long>(plan.first_step));
        std::fflush(stdout);
    }

    void step_done(int epoch, int64_t step, const RunningMeans& m, const Model&) override {
        const TrainOptions& o = plan_.options;
        const int64_t in_epoch = step - epoch * plan_.steps_per_epoch;
        const bool log_step = o.log_every > 0 && (in_epoch % o.log_every == 0 || step == plan_.last_step);
        if (o.quiet) return;
        const double seconds = seconds_since(start_);
        const double rate = (step - plan_.first_step) * static_cast<double>(o.batch_size) / seconds;
        const std::string eta = format_duration((plan_.last_step - step) * static_cast<double>(o.batch_size) / rate);
        if (terminal_) {  // redraw at most 10 times a second
            if (seconds - last_draw_ < 0.1 && in_epoch != plan_.steps_per_epoch) return;
            last_draw_ = seconds;
            const int width = 24, filled = static_cast<int>(width * in_epoch / plan_.steps_per_epoch);
            std::printf("\rEpoch %d/%d [%s%s] %lld/%lld  loss %.4f  acc %.2f%%  %.0f img/s  ETA %s\033[K", epoch + 1,
                        o.epochs, std::string(filled, '=').c_str(), std::string(width - filled, ' ').c_str(),
                        static_cast<long long>(in_epoch), static_cast<long long>(plan_.steps_per_epoch), m.loss(),
                        m.accuracy(), rate, eta.c_str());
            std::fflush(stdout);
        } else if (log_step) {
            std::printf("epoch %d/%d step %lld/%lld  loss %.4f  acc %.2f%%  %.0f img/s  ETA %s\n", epoch + 1,
                        o.epochs, static_cast<long long>(in_epoch), static_cast<long long>(plan_.steps_per_epoch),
                        m.loss(), m.accuracy(), rate, eta.c_str());
            std::fflush(stdout);
        }
    }

    void epoch_done(int epoch, int64_t, const RunningMeans& m, const EvalResult* val, double seconds, Model&,
                    ThreadPool&) override {
        const TrainOptions& o = plan_.options;
        if (terminal_ && !o.quiet) std::printf("\r\033[K");
        std::printf("epoch %d/%d: train loss %.4f acc %.2f%%", epoch + 1, o.epochs, m.loss(), m.accuracy());
        if (val) std::printf(" | val loss %.4f acc %.2f%%", val->loss, 100.0 * val->accuracy());
        std::printf(" | %.1f s, %.0f img/s | saved %s\n", seconds, m.seen / seconds, o.model_path.c_str());
        std::fflush(stdout);
    }

    void stopped(int64_t step) override { stopped_at_ = step; }

    void finished(const EvalResult& t, double) override {
        const TrainOptions& o = plan_.options;
        std::printf("test accuracy: %.2f%% (%lld/%lld), test loss %.4f, total time %s\n", 100.0 * t.accuracy(),
                    static_cast<long long>(t.correct), static_cast<long long>(t.total), t.loss,
                    format_duration(seconds_since(start_)).c_str());
        std::printf("history: %s.history.csv, curves: %s.curves.svg\n", o.model_path.c_str(), o.model_path.c_str());
    }

    int64_t stopped_at() const { return stopped_at_; }
    const TrainOptions& options() const { return plan_.options; }

private:
    TrainingPlan plan_;
    bool terminal_ = false;
    Clock::time_point start_;
    double last_draw_ = -1.0;
    int64_t stopped_at_ = 0;
};

// SIGINT or SIGTERM ask the run to stop after the current step and save; a
// second one kills the process as usual. The handler only stores into a
// lock-free atomic, which is safe from a signal handler on any thread.
std::atomic<TrainingControl*> g_control{nullptr};
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs a lock-free atomic");
static_assert(std::atomic<TrainingControl*>::is_always_lock_free, "the signal handler needs a lock-free atomic");

extern "C" void stop_on_signal(int signal) {
    if (TrainingControl* control = g_control.load()) control->stop = signal;
}

class StopOnSignal {
public:
    explicit StopOnSignal(TrainingControl& control) {
        g_control = &control;
        struct sigaction action {};
        action.sa_handler = stop_on_signal;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_RESETHAND;  // the handler runs once; the next signal is fatal
        sigaction(SIGINT, &action, &old_int_);
        sigaction(SIGTERM, &action, &old_term_);
    }
    ~StopOnSignal() {
        sigaction(SIGINT, &old_int_, nullptr);
        sigaction(SIGTERM, &old_term_, nullptr);
        g_control = nullptr;
    }

private:
    struct sigaction old_int_ {}, old_term_ {};
};

}  // namespace

int train(const TrainOptions& options, ThreadPool& pool) {
    TrainingControl control;
    ConsoleProgress progress;
    const StopOnSignal on_signal(control);
    if (run_training(options, pool, progress, control) == TrainOutcome::Finished) return 0;
    const TrainOptions& o = progress.options();
    std::printf("\ninterrupted by signal %d after step %lld; saved %s\n"
                "continue with: ./alexnet train --resume --model %s --epochs %d --data %s\n",
                control.stop.load(), static_cast<long long>(progress.stopped_at()), o.model_path.c_str(),
                o.model_path.c_str(), o.epochs, o.data_dir.c_str());
    std::fflush(stdout);
    return 130;
}
