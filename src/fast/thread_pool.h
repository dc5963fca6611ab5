// thread_pool.h — one pool of std::thread workers, made once, that runs
// "task i for i in [0, n)" jobs. Every parallel kernel in the program (GEMM,
// im2col, col2im, pooling, Adam) goes through ThreadPool::run.
//
// Leaves out: nested jobs (a task must not call run again), task priorities,
// futures. Work is split by what it writes, so no task needs a lock.
//
// Idle workers spin for a short while (a training step issues jobs back to
// back, and waking a sleeping thread costs tens of microseconds), then sleep
// on a condition variable, so an idle program uses no CPU.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

class ThreadPool {
public:
    // num_threads counts the calling thread: a pool of 1 runs everything inline.
    explicit ThreadPool(int num_threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return static_cast<int>(workers_.size()) + 1; }

    // Runs task(i) for every i in [0, num_tasks), on the workers and the
    // calling thread together, and returns when all have finished. Thread t of
    // T runs the contiguous share [t*n/T, (t+1)*n/T), the calling thread
    // being thread 0, so tasks should be of similar size.
    void run(int num_tasks, const std::function<void(int)>& task);

    // Splits [0, n) into contiguous chunks of at least min_chunk items and
    // calls body(begin, end) for each. The chunk bounds depend only on n and
    // min_chunk, never on the number of threads, so a reduction done per chunk
    // and then added in chunk order gives the same bits on any pool size.
    void parallel_for(int64_t n, int64_t min_chunk,
                      const std::function<void(int64_t, int64_t)>& body);

    // A pool of one thread, shared: run() on it simply loops on the calling
    // thread, so any thread may use it, e.g. for a serial GEMM inside a task.
    static ThreadPool& serial();

    // The contiguous share [*first, *first + *count) of `items` that task t
    // of `tasks` takes: items * t / tasks up to items * (t + 1) / tasks.
    static void share(int items, int tasks, int t, int* first, int* count) {
        *first = static_cast<int>(static_cast<int64_t>(items) * t / tasks);
        *count = static_cast<int>(static_cast<int64_t>(items) * (t + 1) / tasks) - *first;
    }

    // The hardware thread count, at least 1.
    static int hardware_threads();

    // Jobs handed to the workers so far (a job the calling thread runs alone
    // does not count): each one costs a wake-up and a wait for the slowest.
    uint64_t handoffs() const { return handoffs_.load(std::memory_order_relaxed); }

private:
    void worker_loop(int thread);
    void work_on_current_job(int thread);

    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable job_posted_;    // workers sleep here between jobs
    std::condition_variable job_finished_;  // run() sleeps here for stragglers

    // The current job: written by run() before generation_ is bumped, read by
    // workers after they see the new generation.
    const std::function<void(int)>* job_ = nullptr;
    int job_tasks_ = 0;
    std::atomic<int> workers_finished_{0}; // workers done with this job
    std::atomic<uint64_t> generation_{0};  // bumped once per job
    bool stopping_ = false;                // guarded by mutex_
    std::atomic<uint64_t> handoffs_{0};
};
