// commands.h — what the smaller commands do, once main.cpp has read their
// flags: evaluate, predict, visualize, plot and export. (train, bench and
// serve have files of their own.)
#pragma once

#include <string>
#include <vector>

#include "data/image.h"

class ThreadPool;

struct EvaluateOptions {
    std::string model_path = "alexnet.model";
    std::string data_dir = "data/mnist";
    std::string confusion_path;  // "" : MODEL.confusion.svg
    std::string errors_dir;      // "" : no pictures of the mistakes
    ImageFormat format = ImageFormat::Png;
    int batch_size = 100;
};
int run_evaluate(const EvaluateOptions& options, ThreadPool& pool);

struct PredictOptions {
    std::vector<std::string> images;
    std::string model_path = "alexnet.model";
    std::string show_input;  // "" : do not write what the network saw
    std::string saliency;    // "" : do not write where it looked
    int top = 0;             // 0 : all ten probabilities
    bool json = false;
    bool plain_resize = false;
};
int run_predict(const PredictOptions& options, ThreadPool& pool);

struct VisualizeOptions {
    std::string out_dir;
    std::string model_path = "alexnet.model";
    std::string image_path;  // "" : filters only
    int scale = 8;
    ImageFormat format = ImageFormat::Png;
};
int run_visualize(const VisualizeOptions& options);

// Draws one history's curves, or several on one chart (out must be given then).
int run_plot(const std::vector<std::string>& histories, std::string out);

struct ExportOptions {
    std::string data_dir = "data/mnist";
    std::string out;
    std::string set = "test";  // or "train"
    long long index = -1;
    ImageFormat format = ImageFormat::Png;
};
int run_export(const ExportOptions& options);

// The format a file name asks for: .pgm / .ppm or .png, else the fallback.
ImageFormat format_of(const std::string& path, ImageFormat fallback);
