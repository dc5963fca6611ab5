// serve.h — ./alexnet serve: a page to draw a digit on and watch every layer
// of a trained model respond, and the JSON API behind it (serve.cpp).
#pragma once

#include <string>

class ThreadPool;

struct ServeOptions {
    std::string model_path = "alexnet.model";
    std::string data_dir = "data/mnist";  // for the "random test image" button
    std::string host = "127.0.0.1";
    int port = 8080;
    int read_timeout_ms = 10000;  // a request must arrive whole within this
};

// Serves until SIGINT or SIGTERM; returns the exit code.
int serve(const ServeOptions& options, ThreadPool& pool);
