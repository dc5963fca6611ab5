// batch_loader.cpp — see batch_loader.h.
#include "app/batch_loader.h"

#include <exception>

#include "data/mnist.h"
#include "data/preprocess.h"
#include "fast/thread_pool.h"
#include "nn/rng.h"

BatchLoader::BatchLoader(MnistSet& set, const BatchRecipe& recipe, int batch_size) : set_(set), recipe_(recipe) {
    const ModelConfig& c = *recipe.config;
    for (TrainingBatch& b : batches_) {
        b.pixels.resize(static_cast<size_t>(batch_size) * kMnistPixels);
        b.labels.resize(batch_size);
        b.input = Tensor({batch_size, c.channels, c.image_size, c.image_size});
    }
    thread_ = std::thread([this] { loader_loop(); });
}

BatchLoader::~BatchLoader() {
    {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [this] { return job_step_ < 0 || job_done_; });  // never abandon a read mid-way
        stopping_ = true;
    }
    changed_.notify_all();
    thread_.join();
}

void BatchLoader::prepare(TrainingBatch& batch, int64_t step, const uint32_t* indices, int n, ThreadPool& pool) {
    set_.read_batch(batch.pixels.data(), batch.labels.data(), indices, n);
    // Augmentation draws from (seed, step): a resumed run sees the same images.
    const uint64_t augment_seed = Rng(recipe_.seed ^ (static_cast<uint64_t>(step + 1) << 20)).next_u64();
    preprocess_mnist_batch(batch.input.ptr(), batch.pixels.data(), n, recipe_.config->image_size,
                           recipe_.config->channels, pool, recipe_.augment, augment_seed, recipe_.elastic);
    batch.n = n;
    batch.step = step;
}

void BatchLoader::loader_loop() {
    for (;;) {
        int64_t step;
        const uint32_t* indices;
        int n;
        TrainingBatch* batch;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            changed_.wait(lock, [this] { return stopping_ || (job_step_ >= 0 && !job_done_); });
            if (stopping_) return;
            step = job_step_;
            indices = job_indices_;
            n = job_n_;
            batch = &batches_[1 - training_];  // the one take() does not hold
        }
        // take() waits for this job before it touches that batch: no lock needed.
        bool failed = false;
        try {
            prepare(*batch, step, indices, n, ThreadPool::serial());
        } catch (const std::exception&) {
            failed = true;
        }
        {
            std::lock_guard<std::mutex> lock(mutex_);
            job_done_ = true;
            job_failed_ = failed;
        }
        changed_.notify_all();
    }
}

void BatchLoader::prefetch(int64_t step, const uint32_t* indices, int n) {
    {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [this] { return job_step_ < 0 || job_done_; });  // one job at a time
        job_step_ = step;
        job_indices_ = indices;
        job_n_ = n;
        job_done_ = false;
        job_failed_ = false;
    }
    changed_.notify_all();
}

const TrainingBatch& BatchLoader::take(int64_t step, const uint32_t* indices, int n, ThreadPool& pool) {
    bool prefetched = false;
    {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [this] { return job_step_ < 0 || job_done_; });
        prefetched = job_step_ == step && !job_failed_;
        job_step_ = -1;  // taken, or not the one wanted
    }
    training_ = 1 - training_;  // the loader's batch becomes the training one
    if (!prefetched) prepare(batches_[training_], step, indices, n, pool);  // a read error throws here
    return batches_[training_];
}
