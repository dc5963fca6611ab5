// serve.h — ./alexnet serve: a page to draw a digit on and watch every layer
// of a model respond, and to train one and watch it learn; and the JSON API
// behind it (serve.cpp, docs/serve.md).
#pragma once

#include <string>

struct ServeOptions {
    std::string model_path = "alexnet.model";
    std::string data_dir = "data/mnist";           // test images, and the training data of a run from the page
    std::string train_model_path = "page.model";   // the checkpoint a run from the page writes
    std::string host = "127.0.0.1";
    int port = 8080;
    int workers = 1;              // compute threads for requests
    int read_timeout_ms = 10000;  // a request must arrive whole within this
};

// Serves until SIGINT or SIGTERM (a training run in progress is stopped and
// its checkpoint saved); returns the exit code.
int serve(const ServeOptions& options);
