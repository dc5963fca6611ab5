// batch_loader.h — training batches, read and preprocessed one step ahead.
//
// While step k trains on the pool's threads, a thread of the loader's own
// reads the images of step k+1 from the IDX file and preprocesses them
// (resize, and augmentation if on), so that reading overlaps the step
// instead of adding to it. Two batches live in memory: the one training and
// the one being prepared; the reader still holds one batch of the file at a
// time, never the dataset.
//
//   const TrainingBatch& b = loader.take(step, indices, n);  // ready, or read now
//   loader.prefetch(step + 1, next_indices, next_n);         // starts the next
//   train_step(model, b.input.ptr(), b.labels.data(), b.n, ...);
//
// A batch is the same bits whichever thread prepared it: augmentation draws
// from (seed, step, image), never from the thread. Leaves out: more than one
// batch ahead (one is enough to hide a read that takes a fraction of a step).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "nn/model.h"
#include "nn/tensor.h"

class MnistSet;
class ThreadPool;

struct TrainingBatch {
    std::vector<uint8_t> pixels;  // (B, 28*28) as read from the file
    std::vector<uint8_t> labels;  // (B)
    Tensor input;                 // (B, C, S, S) preprocessed
    int n = 0;                    // images in this batch (the last of an epoch may be short)
    int64_t step = -1;            // the step (0-based) it was prepared for
};

// How a batch is made from images: the model's input size and channels, and
// the augmentation of train's flags.
struct BatchRecipe {
    const ModelConfig* config = nullptr;
    bool augment = false;
    float elastic = 0.0f;
    uint64_t seed = 0;
};

class BatchLoader {
public:
    BatchLoader(MnistSet& set, const BatchRecipe& recipe, int batch_size);
    ~BatchLoader();  // waits for a batch in preparation, then stops the thread
    BatchLoader(const BatchLoader&) = delete;
    BatchLoader& operator=(const BatchLoader&) = delete;

    // The batch of `step`, images indices[0..n): the one prefetched for it, or
    // read now on the calling thread (with `pool`) if none was. Valid until
    // the next take().
    const TrainingBatch& take(int64_t step, const uint32_t* indices, int n, ThreadPool& pool);
    // Starts preparing the batch of `step` on the loader's thread; indices
    // must stay valid until that batch is taken.
    void prefetch(int64_t step, const uint32_t* indices, int n);

private:
    void prepare(TrainingBatch& batch, int64_t step, const uint32_t* indices, int n, ThreadPool& pool);
    void loader_loop();

    MnistSet& set_;
    const BatchRecipe recipe_;
    TrainingBatch batches_[2];
    int training_ = 0;  // index of the batch take() returned last; the other is the loader's

    std::mutex mutex_;
    std::condition_variable changed_;
    // The loader's job, guarded by mutex_: the batch of job_step_ (or -1: none),
    // from job_indices_[0..job_n_), and whether it is done.
    int64_t job_step_ = -1;
    const uint32_t* job_indices_ = nullptr;
    int job_n_ = 0;
    bool job_done_ = false;
    bool job_failed_ = false;  // read_batch threw (a damaged file): take() reads again and throws there
    bool stopping_ = false;
    std::thread thread_;
};
