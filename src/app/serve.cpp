// serve.cpp — ./alexnet serve: the page of web/page.h and the JSON API it
// uses, on the server of web/server.h. Each worker thread owns a copy of the
// model (its activation buffers are per-call scratch), so requests never
// wait on each other for the network.
#include "app/serve.h"

#include <cmath>
#include <cstdio>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <vector>

#include "app/checkpoint.h"
#include "app/classify.h"
#include "app/report.h"
#include "data/image.h"
#include "data/mnist.h"
#include "fast/thread_pool.h"
#include "nn/model.h"
#include "web/page.h"
#include "web/server.h"

namespace {

// Uploads larger than this are refused before they are decoded: 4 Mpixels,
// a 2048 x 2048 photo, is far more than a digit needs.
constexpr int64_t kMaxUploadPixels = int64_t{1} << 22;

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

struct Service {
    ServeOptions options;
    Checkpoint checkpoint;
    std::vector<std::unique_ptr<Model>> models;  // one per worker
    std::unique_ptr<MnistSet> test_set;          // null if the data is missing
    std::string test_set_problem;                // why, then
    std::mutex test_set_mutex;                   // MnistSet reads through one file position
    std::mutex random_mutex;
    std::mt19937 random{12345};

    // POST /api/predict: the body is a PNG or PGM image.
    HttpResponse predict(const HttpRequest& request, int worker) {
        if (request.body.empty()) return json_error(400, "send the image (PNG or PGM) as the request body");
        GrayImage image;
        try {
            image = parse_image(request.body, "the upload", kMaxUploadPixels);
        } catch (const std::runtime_error& e) {
            return json_error(422, e.what());
        }
        Model& model = *models[worker];
        const ModelConfig& c = model.config;
        float mnist_form[kMnistPixels];  // what the network sees, for the page
        const float* p = classify_image(model, image, false, mnist_form, ThreadPool::serial());
        std::string body = "{" + prediction_json_fields("upload", p, c.classes);
        if (request.query_value("layers") == "1") {
            body += ", \"input\": " + json_array(mnist_form, kMnistPixels, 4) + ", \"layers\": [";
            for (int i = 0; i < kConvLayers; ++i) {
                const Tensor& out = model.conv[i].out;  // (1, C, H, W) after ReLU
                body += "{\"name\": \"conv" + std::to_string(i + 1) + "\", \"shape\": " +
                        json_shape({out.shape[1], out.shape[2], out.shape[3]}) +
                        ", \"values\": " + json_array(out.ptr(), out.size() / model.max_batch, 4) + "}, ";
            }
            for (int i = 0; i < kDenseLayers; ++i) {
                const DenseLayer& d = model.dense[i];
                body += std::string(i ? ", " : "") + "{\"name\": \"dense" + std::to_string(i + 1) +
                        "\", \"shape\": [" + std::to_string(d.out_features) + "], \"values\": " +
                        json_array(d.out.ptr(), d.out_features, 4) + "}";
            }
            body += "]";
        }
        HttpResponse response;
        response.body = body + "}\n";
        return response;
    }

    // GET /api/model: the configuration, the layer table of summary, conv1's filters.
    HttpResponse model_description() {
        const ModelConfig& c = checkpoint.config;
        std::string body = "{\"file\": " + json_string(options.model_path) + ", \"config\": {\"filters\": " +
                           std::to_string(c.filters) + ", \"image_size\": " + std::to_string(c.image_size) +
                           ", \"channels\": " + std::to_string(c.channels) + ", \"classes\": " +
                           std::to_string(c.classes) + ", \"lrn\": " + (c.lrn ? "true" : "false") +
                           ", \"pool_window\": " + std::to_string(c.pool_window) + "}, \"parameters\": " +
                           std::to_string(checkpoint.params.size()) + ", \"layers\": [";
        const std::vector<LayerRow> rows = layer_table(c);
        for (size_t i = 0; i < rows.size(); ++i)
            body += std::string(i ? ", " : "") + "{\"name\": " + json_string(rows[i].name) +
                    ", \"output\": " + json_shape(rows[i].shape) + ", \"parameters\": " +
                    std::to_string(rows[i].parameters) + ", \"mult_adds\": " + std::to_string(rows[i].macs) + "}";
        const ParamInfo& w = models[0]->layout.conv[0].weight;
        body += "], \"conv1_filters\": {\"shape\": " + json_shape(w.shape) +
                ", \"values\": " + json_array(checkpoint.params.data() + w.offset, w.size, 5) + "}}\n";
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

    HttpResponse handle(const HttpRequest& request, int worker) {
        const std::string& path = request.path;
        const bool get = request.method == "GET";
        if (path == "/" || path == "/index.html") {
            if (!get) return json_error(405, "use GET for " + path);
            HttpResponse page;
            page.content_type = "text/html; charset=utf-8";
            page.body = kServePage;
            return page;
        }
        if (path == "/api/predict") {
            if (request.method != "POST") return json_error(405, "use POST with the image as the body");
            return predict(request, worker);
        }
        if (path == "/api/model") return get ? model_description() : json_error(405, "use GET for /api/model");
        if (path == "/api/random") return get ? random_test_image(request) : json_error(405, "use GET for /api/random");
        return json_error(404, "no such page: " + path);
    }
};

}  // namespace

int serve(const ServeOptions& options, ThreadPool& pool) {
    Service service;
    service.options = options;
    service.checkpoint = load_checkpoint(options.model_path);
    for (int w = 0; w < pool.size(); ++w) {
        service.models.push_back(std::make_unique<Model>(service.checkpoint.config, 1));
        service.models.back()->params = service.checkpoint.params;
    }
    try {
        service.test_set = std::make_unique<MnistSet>(options.data_dir, "t10k");
    } catch (const std::runtime_error& e) {
        service.test_set_problem = e.what();
    }
    if (options.host != "127.0.0.1" && options.host != "localhost")
        std::fprintf(stderr, "warning: serving on %s, not only this machine's loopback: anyone who can reach "
                             "it can use it (there is no authentication)\n", options.host.c_str());
    ServerOptions server;
    server.host = options.host;
    server.port = options.port;
    server.read_timeout_ms = options.read_timeout_ms;
    serve_http(server, pool, [&service](const HttpRequest& request, int worker) {
        return service.handle(request, worker);
    });
    return 0;
}
