// serve.cpp — ./alexnet serve: the page of web/page.h and the JSON API it
// uses, on the server of web/server.h.
//
// The weights are shared, read-only: the board below holds the current ones
// (the checkpoint's, or a snapshot of a training run's) and each request
// takes a reference to them for as long as it computes. A compute worker
// owns only its batch-1 activations (ModelBuffers::Inference).
//
// A training run started from the page is one object, PageTraining: a
// thread running run_training (the same loop as ./alexnet train) that
// publishes its progress as Server-Sent Events and a snapshot of its weights
// a few times a second, so that drawing keeps working and predicts with the
// weights as they are now.
#include "app/serve.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "app/checkpoint.h"
#include "app/classify.h"
#include "app/flags.h"
#include "app/report.h"
#include "app/train.h"
#include "data/image.h"
#include "data/mnist.h"
#include "fast/thread_pool.h"
#include "nn/model.h"
#include "web/page.h"
#include "web/server.h"

namespace {

using Clock = std::chrono::steady_clock;

// Uploads larger than this are refused before they are decoded: 4 Mpixels,
// a 2048 x 2048 photo, is far more than a digit needs.
constexpr int64_t kMaxUploadPixels = int64_t{1} << 22;

// ---------------------------------------------------------------------------
// JSON

// Floats as a JSON array, with `digits` significant digits.
std::string json_array(const float* values, int64_t n, int digits) {
    std::string out = "[";
    char number[32];
    for (int64_t i = 0; i < n; ++i) {
        std::snprintf(number, sizeof number, "%s%.*g", i ? "," : "", digits, static_cast<double>(values[i]));
        out += number;
    }
    return out + "]";
}

std::string json_shape(const std::vector<int>& shape) {
    std::string out = "[";
    for (size_t i = 0; i < shape.size(); ++i) out += (i ? "," : "") + std::to_string(shape[i]);
    return out + "]";
}

std::string json_number(double x) {
    if (!std::isfinite(x)) return "null";
    char number[32];
    std::snprintf(number, sizeof number, "%.6g", x);
    return number;
}

std::string json_confusion(const std::array<std::array<int64_t, 10>, 10>& confusion) {
    std::string out = "[";
    for (int t = 0; t < 10; ++t) {
        out += t ? ",[" : "[";
        for (int p = 0; p < 10; ++p) out += (p ? "," : "") + std::to_string(confusion[t][p]);
        out += "]";
    }
    return out + "]";
}

// ---------------------------------------------------------------------------
// The weights every request reads

struct Weights {
    ModelConfig config;
    std::vector<float> params;  // parameter_layout(config) order
    std::string source;         // "alexnet.model", or "training run, step 120"
};

class WeightsBoard {
public:
    std::shared_ptr<const Weights> current() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return current_;
    }
    void publish(std::shared_ptr<const Weights> weights) {
        std::lock_guard<std::mutex> lock(mutex_);
        current_ = std::move(weights);
    }

private:
    mutable std::mutex mutex_;
    std::shared_ptr<const Weights> current_;
};

// ---------------------------------------------------------------------------
// A training run started from the page

// The flags the page may set: those that shape the run, not where files go
// or how many threads it takes.
const char* const kPageTrainFlags[] = {"recipe", "epochs", "batch-size", "lr", "optimizer", "momentum", "dropout",
                                       "augment", "elastic", "schedule", "warmup", "weight-decay", "filters",
                                       "image-size", "channels", "lrn", "pool", "val-split", "seed", "steps"};

// "epochs=2&lr=1e-3&augment=on" -> {"--epochs", "2", "--lr", "1e-3", "--augment"}.
// Throws UsageError for a flag the page may not set or a bad switch value.
std::vector<std::string> page_form_to_flags(const std::string& form) {
    auto decode = [](const std::string& s) {
        std::string out;
        for (size_t i = 0; i < s.size(); ++i) {
            if (s[i] == '+') out += ' ';
            else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
                     std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
                out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
                i += 2;
            } else out += s[i];
        }
        return out;
    };
    std::vector<std::string> flags;
    size_t start = 0;
    while (start < form.size()) {
        const size_t end = std::min(form.find('&', start), form.size());
        const std::string pair = form.substr(start, end - start);
        start = end + 1;
        if (pair.empty()) continue;
        const size_t eq = pair.find('=');
        const std::string key = decode(pair.substr(0, eq)), value = eq == std::string::npos ? "" : decode(pair.substr(eq + 1));
        if (std::find(std::begin(kPageTrainFlags), std::end(kPageTrainFlags), key) == std::end(kPageTrainFlags))
            throw UsageError("the page cannot set '" + key + "'");
        if (key == "augment" || key == "lrn") {  // switches
            if (value == "on" || value == "1" || value == "true") flags.push_back("--" + key);
            else if (value != "off" && value != "0" && value != "false" && !value.empty())
                throw UsageError("--" + key + " is on or off, not '" + value + "'");
            continue;
        }
        flags.push_back("--" + key);
        flags.push_back(value);
    }
    return flags;
}

class PageTraining : public TrainingObserver {
public:
    PageTraining(const ServeOptions& options, EventHub& events, WeightsBoard& board)
        : options_(options), events_(events), board_(board) {}
    ~PageTraining() { stop_and_wait(); }

    // Starts a run with the page's form; returns "" or why it did not start.
    std::string start(const std::string& form) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (running_) return "a training run is already in progress; stop it first";
        if (thread_.joinable()) thread_.join();  // the last one has ended
        TrainFlags flags;
        std::vector<std::string> args = page_form_to_flags(form);
        args.insert(args.end(), {"--data", options_.data_dir, "--model", options_.train_model_path, "--quiet"});
        flags.command_line.parse(args);
        flags.finish();
        control_ = std::make_unique<TrainingControl>();
        running_ = true;
        state_ = "starting";
        events_.reset();
        thread_ = std::thread([this, options = flags.options] { run(options); });
        return "";
    }

    void pause() {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!running_) return;
        control_->pause();
        set_state("paused");
    }
    void resume() {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!running_) return;
        control_->resume();
        set_state("running");
    }
    void stop() {
        std::lock_guard<std::mutex> lock(mutex_);
        if (running_) control_->request_stop();
    }
    void stop_and_wait() {
        stop();
        if (thread_.joinable()) thread_.join();
    }

    std::string status_json() {
        std::lock_guard<std::mutex> lock(mutex_);
        return run_json_locked();
    }

private:
    void run(TrainOptions options) {
        std::string failure;
        try {
            ThreadPool pool(ThreadPool::hardware_threads());
            run_training(options, pool, *this, *control_);
        } catch (const std::exception& e) {
            failure = e.what();
        }
        std::lock_guard<std::mutex> lock(mutex_);
        running_ = false;
        if (!failure.empty()) {
            message_ = failure;
            set_state("failed");
        }
    }

    // ---- TrainingObserver (on the training thread)

    void started(const TrainingPlan& plan) override {
        test_set_ = std::make_unique<MnistSet>(plan.options.data_dir, "t10k");
        std::lock_guard<std::mutex> lock(mutex_);
        plan_ = plan;
        step_ = plan.first_step;
        last_step_event_ = last_snapshot_ = last_filters_ = Clock::time_point{};
        set_state("running");
    }

    void step_done(int epoch, int64_t step, const RunningMeans& m, const Model& model) override {
        const auto now = Clock::now();
        {
            std::lock_guard<std::mutex> lock(mutex_);
            step_ = step;
        }
        const bool epoch_end = step % plan_.steps_per_epoch == 0 || step == plan_.last_step;
        if (epoch_end || now - last_step_event_ > std::chrono::milliseconds(100)) {
            last_step_event_ = now;
            events_.publish("step", "{\"step\": " + std::to_string(step) + ", \"epoch\": " +
                                        json_number(static_cast<double>(step) / plan_.steps_per_epoch) +
                                        ", \"loss\": " + json_number(m.loss()) +
                                        ", \"accuracy\": " + json_number(m.accuracy()) + "}");
            (void)epoch;
        }
        if (now - last_snapshot_ > std::chrono::milliseconds(500)) {
            last_snapshot_ = now;
            publish_weights(model, "training run, step " + std::to_string(step));
        }
        if (now - last_filters_ > std::chrono::seconds(1)) {
            last_filters_ = now;
            publish_filters(model);
        }
    }

    void epoch_done(int epoch, int64_t step, const RunningMeans& m, const EvalResult* validation, double seconds,
                    Model& model, ThreadPool& pool) override {
        // The whole test set with this epoch's weights: its accuracy, and
        // the images it now gets most wrong (the least probability on the truth).
        std::vector<uint32_t> indices(test_set_->size());
        for (uint32_t i = 0; i < indices.size(); ++i) indices[i] = i;
        std::vector<Mistake> mistakes;
        const EvalResult test = evaluate(model, *test_set_, indices.data(), indices.size(), pool, &mistakes);
        std::stable_sort(mistakes.begin(), mistakes.end(),
                         [](const Mistake& a, const Mistake& b) { return a.truth_probability < b.truth_probability; });
        mistakes.resize(std::min<size_t>(mistakes.size(), 12));
        std::string images = "[";
        for (size_t k = 0; k < mistakes.size(); ++k) {
            uint8_t pixels[kMnistPixels], label = 0;
            test_set_->read_batch(pixels, &label, &mistakes[k].index, 1);
            std::string px;
            for (int p = 0; p < kMnistPixels; ++p) px += (p ? "," : "") + std::to_string(pixels[p]);
            images += std::string(k ? "," : "") + "{\"index\": " + std::to_string(mistakes[k].index) +
                      ", \"label\": " + std::to_string(mistakes[k].truth) + ", \"predicted\": " +
                      std::to_string(mistakes[k].predicted) + ", \"probability\": " +
                      json_number(mistakes[k].truth_probability) + ", \"pixels\": [" + px + "]}";
        }
        events_.publish("epoch", "{\"epoch\": " + std::to_string(epoch + 1) + ", \"step\": " + std::to_string(step) +
                                     ", \"train_loss\": " + json_number(m.loss()) + ", \"train_accuracy\": " +
                                     json_number(m.accuracy()) + ", \"val_loss\": " +
                                     json_number(validation ? validation->loss : NAN) + ", \"val_accuracy\": " +
                                     json_number(validation ? 100.0 * validation->accuracy() : NAN) +
                                     ", \"test_accuracy\": " + json_number(100.0 * test.accuracy()) +
                                     ", \"seconds\": " + json_number(seconds) + "}");
        const EvalResult& shown = validation ? *validation : test;
        events_.publish("confusion", "{\"epoch\": " + std::to_string(epoch + 1) + ", \"set\": \"" +
                                         (validation ? "validation" : "test") + "\", \"matrix\": " +
                                         json_confusion(shown.confusion) + "}",
                        /*latest_only=*/true);
        events_.publish("mistakes", "{\"epoch\": " + std::to_string(epoch + 1) + ", \"images\": " + images + "]}",
                        /*latest_only=*/true);
        publish_weights(model, "training run, epoch " + std::to_string(epoch + 1));
        publish_filters(model);
    }

    void stopped(int64_t step) override {
        std::lock_guard<std::mutex> lock(mutex_);
        step_ = step;
        message_ = "stopped after step " + std::to_string(step) + "; saved " + plan_.options.model_path;
        set_state("stopped");
    }

    void finished(const EvalResult& test, double) override {
        std::lock_guard<std::mutex> lock(mutex_);
        char text[160];
        std::snprintf(text, sizeof text, "test accuracy %.2f%%; saved %s", 100.0 * test.accuracy(),
                      plan_.options.model_path.c_str());
        message_ = text;
        set_state("finished");
    }

    // ---- Publishing

    void publish_weights(const Model& model, const std::string& source) {
        auto weights = std::make_shared<Weights>();
        weights->config = model.config;
        weights->params = model.params;
        weights->source = source;
        board_.publish(std::move(weights));
    }

    void publish_filters(const Model& model) {
        const ParamInfo& w = model.layout.conv[0].weight;
        events_.publish("filters", "{\"shape\": " + json_shape(w.shape) + ", \"values\": " +
                                       json_array(model.param(w), w.size, 4) + "}",
                        /*latest_only=*/true);
    }

    // Called with mutex_ held.
    void set_state(const std::string& state) {
        state_ = state;
        events_.publish("run", run_json_locked(), /*latest_only=*/true);
    }
    std::string run_json_locked() const {
        return "{\"state\": " + json_string(state_) + ", \"description\": " + json_string(plan_.description) +
               ", \"step\": " + std::to_string(step_) + ", \"first_step\": " + std::to_string(plan_.first_step) +
               ", \"last_step\": " + std::to_string(plan_.last_step) + ", \"steps_per_epoch\": " +
               std::to_string(plan_.steps_per_epoch) + ", \"epochs\": " + std::to_string(plan_.options.epochs) +
               ", \"message\": " + json_string(message_) + "}";
    }

    const ServeOptions& options_;
    EventHub& events_;
    WeightsBoard& board_;
    std::mutex mutex_;  // guards what the request handlers read: state, step, plan, message
    bool running_ = false;
    std::string state_ = "idle", message_;
    TrainingPlan plan_;
    int64_t step_ = 0;
    std::unique_ptr<TrainingControl> control_;
    std::thread thread_;
    std::unique_ptr<MnistSet> test_set_;  // the training thread's own
    Clock::time_point last_step_event_, last_snapshot_, last_filters_;
};

// ---------------------------------------------------------------------------
// The API

struct Service {
    const ServeOptions& options;
    WeightsBoard board;
    EventHub events;
    PageTraining training;
    std::unique_ptr<MnistSet> test_set;  // null if the data is missing
    std::string test_set_problem;        // why, then
    std::mutex test_set_mutex;           // MnistSet reads through one file position
    std::mutex random_mutex;
    std::mt19937 random{12345};

    // What each compute worker owns: its batch-1 activations, for the
    // weights it last used (rebuilt when a run changes the network's shape).
    struct WorkerModel {
        std::shared_ptr<const Weights> weights;
        std::unique_ptr<Model> model;
    };
    std::vector<WorkerModel> worker_models;

    explicit Service(const ServeOptions& o) : options(o), training(o, events, board), worker_models(o.workers) {}

    // The current weights, with worker `worker`'s activations for them.
    Model* model_for(int worker, std::shared_ptr<const Weights>* weights) {
        *weights = board.current();
        if (!*weights) return nullptr;
        WorkerModel& w = worker_models[worker];
        const ModelConfig& c = (*weights)->config;
        if (!w.model || w.model->config.filters != c.filters || w.model->config.image_size != c.image_size ||
            w.model->config.channels != c.channels || w.model->config.lrn != c.lrn ||
            w.model->config.pool_window != c.pool_window)
            w.model = std::make_unique<Model>(c, 1, ModelBuffers::Inference);
        w.weights = *weights;  // kept alive while this worker reads them
        w.model->use_weights(w.weights->params.data());
        return w.model.get();
    }

    // POST /api/predict[?layers=1][&saliency=1]: the body is a PNG or PGM image.
    HttpResponse predict(const HttpRequest& request, int worker) {
        if (request.body.empty()) return json_error(400, "send the image (PNG or PGM) as the request body");
        GrayImage image;
        try {
            image = parse_image(request.body, "the upload", kMaxUploadPixels);
        } catch (const std::runtime_error& e) {
            return json_error(422, e.what());
        }
        std::shared_ptr<const Weights> weights;
        Model* model = model_for(worker, &weights);
        if (!model) return json_error(409, "no model yet: train one (here, or with ./alexnet train)");
        float mnist_form[kMnistPixels];  // what the network sees, for the page
        const Classification result = classify_image(*model, image, false, mnist_form, ThreadPool::serial());
        std::string body = "{" + prediction_json_fields("upload", result, model->config.classes);
        body += ", \"model\": " + json_string(weights->source);
        if (request.query_value("layers") == "1") {
            body += ", \"input\": " + json_array(mnist_form, kMnistPixels, 4) + ", \"layers\": [";
            for (int i = 0; i < kConvLayers; ++i) {
                const Tensor& out = model->conv[i].out;  // (1, C, H, W) after ReLU
                body += "{\"name\": \"" + model->conv[i].name + "\", \"shape\": " +
                        json_shape({out.shape[1], out.shape[2], out.shape[3]}) +
                        ", \"values\": " + json_array(out.ptr(), out.size(), 4) + "}, ";
            }
            for (int i = 0; i < kDenseLayers; ++i) {
                const DenseLayer& d = model->dense[i];
                body += std::string(i ? ", " : "") + "{\"name\": \"" + d.name + "\", \"shape\": [" +
                        std::to_string(d.out_features) + "], \"values\": " + json_array(d.out.ptr(), d.out_features, 4) +
                        "}";
            }
            body += "]";
        }
        if (request.query_value("saliency") == "1") {
            float saliency[kMnistPixels];
            saliency_map(saliency, *model, result.digit, ThreadPool::serial());
            body += ", \"saliency\": " + json_array(saliency, kMnistPixels, 3);
        }
        HttpResponse response;
        response.body = body + "}\n";
        return response;
    }

    // GET /api/model: the configuration, the layer table of summary, conv1's filters.
    HttpResponse model_description() {
        const std::shared_ptr<const Weights> weights = board.current();
        if (!weights) return json_error(409, "no model yet: train one (here, or with ./alexnet train)");
        const ModelConfig& c = weights->config;
        std::string body = "{\"file\": " + json_string(weights->source) + ", \"config\": {\"filters\": " +
                           std::to_string(c.filters) + ", \"image_size\": " + std::to_string(c.image_size) +
                           ", \"channels\": " + std::to_string(c.channels) + ", \"classes\": " +
                           std::to_string(c.classes) + ", \"lrn\": " + (c.lrn ? "true" : "false") +
                           ", \"pool_window\": " + std::to_string(c.pool_window) + "}, \"parameters\": " +
                           std::to_string(weights->params.size()) + ", \"layers\": [";
        const std::vector<LayerRow> rows = layer_table(c);
        for (size_t i = 0; i < rows.size(); ++i)
            body += std::string(i ? ", " : "") + "{\"name\": " + json_string(rows[i].name) +
                    ", \"output\": " + json_shape(rows[i].shape) + ", \"parameters\": " +
                    std::to_string(rows[i].parameters) + ", \"mult_adds\": " + std::to_string(rows[i].macs) + "}";
        const ParamInfo w = parameter_layout(c).conv[0].weight;
        body += "], \"conv1_filters\": {\"shape\": " + json_shape(w.shape) +
                ", \"values\": " + json_array(weights->params.data() + w.offset, w.size, 5) + "}}\n";
        HttpResponse response;
        response.body = body;
        return response;
    }

    // GET /api/random[?index=N]: a t10k image (28 x 28 bytes) and its label.
    HttpResponse random_test_image(const HttpRequest& request) {
        if (!test_set) return json_error(404, "no test images: " + test_set_problem);
        uint32_t index = 0;
        const std::string asked = request.query_value("index");
        if (!asked.empty()) {
            if (asked.size() > 9 || asked.find_first_not_of("0123456789") != std::string::npos ||
                std::stoul(asked) >= test_set->size())
                return json_error(400, "index must be a whole number below " + std::to_string(test_set->size()));
            index = static_cast<uint32_t>(std::stoul(asked));
        } else {
            std::lock_guard<std::mutex> lock(random_mutex);
            index = static_cast<uint32_t>(random() % test_set->size());
        }
        uint8_t pixels[kMnistPixels], label = 0;
        {
            std::lock_guard<std::mutex> lock(test_set_mutex);
            test_set->read_batch(pixels, &label, &index, 1);
        }
        std::string body = "{\"index\": " + std::to_string(index) + ", \"label\": " + std::to_string(label) +
                           ", \"pixels\": [";
        for (int i = 0; i < kMnistPixels; ++i) body += (i ? "," : "") + std::to_string(pixels[i]);
        HttpResponse response;
        response.body = body + "]}\n";
        return response;
    }

    // POST /api/train/{start,pause,resume,stop}: from this machine only.
    HttpResponse train_control(const HttpRequest& request, const std::string& action) {
        if (!request.from_loopback)
            return json_error(403, "training is started and steered only from this machine (loopback)");
        if (action == "start") {
            std::string problem;
            try {
                problem = training.start(request.body);
            } catch (const UsageError& e) {
                return json_error(400, e.what());
            }
            if (!problem.empty()) return json_error(409, problem);
        } else if (action == "pause") {
            training.pause();
        } else if (action == "resume") {
            training.resume();
        } else if (action == "stop") {
            training.stop();
        } else {
            return json_error(404, "no such action: " + action);
        }
        HttpResponse response;
        response.status = action == "start" ? 202 : 200;
        response.body = training.status_json() + "\n";
        return response;
    }

    static HttpResponse not_allowed(const std::string& path, const char* allow) {
        HttpResponse r = json_error(405, std::string("use ") + allow + " for " + path);
        r.headers.emplace_back("Allow", allow);
        return r;
    }

    HttpResponse handle(const HttpRequest& request, int worker) {
        const std::string& path = request.path;
        const bool get = request.method == "GET", post = request.method == "POST";
        if (path == "/" || path == "/index.html") {
            if (!get) return not_allowed(path, "GET, HEAD");
            HttpResponse page;
            page.content_type = "text/html; charset=utf-8";
            page.body = kServePage;
            return page;
        }
        if (path == "/api/predict") return post ? predict(request, worker) : not_allowed(path, "POST");
        if (path == "/api/model") return get ? model_description() : not_allowed(path, "GET, HEAD");
        if (path == "/api/random") return get ? random_test_image(request) : not_allowed(path, "GET, HEAD");
        if (path == "/api/train") {
            if (!get) return not_allowed(path, "GET, HEAD");
            HttpResponse status;
            status.body = training.status_json() + "\n";
            return status;
        }
        if (path == "/api/train/events") {
            if (!get) return not_allowed(path, "GET");
            HttpResponse stream;
            stream.event_stream = true;
            stream.body = format_event("hello", "{}");
            return stream;
        }
        if (path.rfind("/api/train/", 0) == 0)
            return post ? train_control(request, path.substr(11)) : not_allowed(path, "POST");
        return json_error(404, "no such page: " + path);
    }
};

bool file_exists(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

int serve(const ServeOptions& options) {
    Service service(options);
    if (file_exists(options.model_path)) {
        Checkpoint checkpoint = load_checkpoint(options.model_path);
        auto weights = std::make_shared<Weights>();
        weights->config = checkpoint.config;
        weights->params = std::move(checkpoint.params);
        weights->source = options.model_path;
        service.board.publish(std::move(weights));
    } else {
        std::fprintf(stderr, "%s: no such model file yet; the page can train one (or run ./alexnet train)\n",
                     options.model_path.c_str());
    }
    try {
        service.test_set = std::make_unique<MnistSet>(options.data_dir, "t10k");
    } catch (const std::runtime_error& e) {
        service.test_set_problem = e.what();
    }
    ServerOptions server;
    server.host = options.host;
    server.port = options.port;
    server.workers = options.workers;
    server.read_timeout_ms = options.read_timeout_ms;
    const HttpHandler handler = [&service](const HttpRequest& request, int worker) {
        return service.handle(request, worker);
    };
    serve_http(server, handler, &service.events);
    service.training.stop_and_wait();  // a run in progress saves its checkpoint
    return 0;
}
