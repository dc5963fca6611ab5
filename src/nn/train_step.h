// train_step.h — one step of training, the loop a learner came to see:
//
//   logits = forward(input)            Model::forward
//   loss   = cross_entropy(logits)     Model::loss
//   grads  = d loss / d params         Model::backward
//   params = adam(params, grads)       optimizer_update_block (Adam, or SGD)
//
// The last two run interleaved: backward goes layer by layer from the loss
// down, and hands each block of parameters (a few columns of a conv layer's
// weights, a few whole rows of a dense layer's) to the optimizer as soon as its gradients are complete, while they
// and its weights, just read for the input's gradient, are still in cache.
// Every parameter gets the same arithmetic as one update of all of them
// after backward, so the bits are the same; it only saves a trip through
// memory for every weight and gradient.
//
// It is written here once, and used by ./alexnet train, by bench (with
// Model::timing set) and by the tests. Leaves out: reading the batch,
// progress, checkpoints (app/train.cpp).
#pragma once

#include <cstdint>

#include "nn/model.h"
#include "nn/optimizer.h"

class ThreadPool;

struct StepResult {
    double loss = 0.0;  // mean cross-entropy over the batch, before the update
    int correct = 0;    // how many argmax predictions matched the labels
};

// Trains on one batch: input (n, C, S, S), labels (n); state holds the
// optimizer's memory and step count, and the update makes it one step more.
// If the loss is not finite, nothing is updated (not even state.step) and the
// result says so: the caller decides what to report.
StepResult train_step(Model& model, const float* input, const uint8_t* labels, int n, OptimizerState& state,
                      const OptimizerConfig& optimizer, ThreadPool& pool);
