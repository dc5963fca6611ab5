// thread_pool.cpp — the std::thread pool behind every parallel loop.
// See thread_pool.h for the contract.
#include "fast/thread_pool.h"

#include <algorithm>
#include <chrono>

namespace {

// How long an idle thread busy-waits before it goes to sleep. Long enough to
// bridge the gap between two kernels of one training step, short enough that
// a program waiting on I/O or a user does not burn a core.
constexpr auto kSpinTime = std::chrono::microseconds(200);

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

// Busy-waits until done() is true or kSpinTime has passed; returns done().
template <typename Predicate>
bool spin_until(Predicate done) {
    const auto deadline = std::chrono::steady_clock::now() + kSpinTime;
    for (int i = 0;; ++i) {
        if (done()) return true;
        cpu_relax();
        if ((i & 255) == 255 && std::chrono::steady_clock::now() > deadline) return done();
    }
}

}  // namespace

ThreadPool::ThreadPool(int num_threads) {
    const int extra = std::max(1, num_threads) - 1;
    workers_.reserve(extra);
    for (int i = 0; i < extra; ++i) workers_.emplace_back([this, i] { worker_loop(i + 1); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
        generation_.fetch_add(1, std::memory_order_release);
    }
    job_posted_.notify_all();
    for (auto& w : workers_) w.join();
}

ThreadPool& ThreadPool::serial() {
    static ThreadPool pool(1);
    return pool;
}

int ThreadPool::hardware_threads() {
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : static_cast<int>(n);
}

void ThreadPool::work_on_current_job(int thread) {
    // Thread t of T takes tasks [t*n/T, (t+1)*n/T): a fixed, contiguous share.
    // No shared counter bounces between cores, and consecutive kernels split
    // the same way, so each thread tends to reread data it wrote itself.
    int first, count;
    share(job_tasks_, size(), thread, &first, &count);
    const std::function<void(int)>& task = *job_;
    for (int i = first; i < first + count; ++i) task(i);
}

void ThreadPool::worker_loop(int thread) {
    uint64_t seen = 0;
    for (;;) {
        auto posted = [&] { return generation_.load(std::memory_order_acquire) != seen; };
        if (!spin_until(posted)) {
            std::unique_lock<std::mutex> lock(mutex_);
            job_posted_.wait(lock, posted);
        }
        seen = generation_.load(std::memory_order_acquire);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (stopping_) return;
        }
        work_on_current_job(thread);
        // The last worker out wakes run(); run() does not post another job
        // until every worker has said it is done with this one, so job_ and
        // job_tasks_ are never changed under a worker's feet.
        if (workers_finished_.fetch_add(1, std::memory_order_acq_rel) + 1 ==
            static_cast<int>(workers_.size())) {
            std::lock_guard<std::mutex> lock(mutex_);
            job_finished_.notify_one();
        }
    }
}

void ThreadPool::run(int num_tasks, const std::function<void(int)>& task) {
    if (num_tasks <= 0) return;
    if (workers_.empty() || num_tasks == 1) {
        for (int i = 0; i < num_tasks; ++i) task(i);
        return;
    }
    handoffs_.fetch_add(1, std::memory_order_relaxed);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        job_ = &task;
        job_tasks_ = num_tasks;
        workers_finished_.store(0, std::memory_order_relaxed);
        generation_.fetch_add(1, std::memory_order_release);
    }
    job_posted_.notify_all();
    work_on_current_job(0);

    const int all = static_cast<int>(workers_.size());
    auto all_finished = [&] { return workers_finished_.load(std::memory_order_acquire) == all; };
    if (!spin_until(all_finished)) {
        std::unique_lock<std::mutex> lock(mutex_);
        job_finished_.wait(lock, all_finished);
    }
}

void ThreadPool::parallel_for(int64_t n, int64_t min_chunk,
                              const std::function<void(int64_t, int64_t)>& body) {
    if (n <= 0) return;
    min_chunk = std::max<int64_t>(1, min_chunk);
    // At most 64 chunks: enough to balance 16 threads, few enough that the
    // per-chunk overhead stays invisible.
    const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(64, n / min_chunk));
    run(static_cast<int>(chunks), [&](int c) {
        const int64_t begin = n * c / chunks;
        const int64_t end = n * (c + 1) / chunks;
        body(begin, end);
    });
}
