// tests/test_memory.cpp — the model's memory estimate against what its
// constructor really allocates. This file replaces the global operator new
// of the test program with one that can count bytes, so the check is
// independent of the plan it checks.
#include <atomic>
#include <cstdlib>
#include <new>

#include "catch.hpp"
#include "nn/model.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<int64_t> g_allocated{0};
}  // namespace

// Every plain form of new and delete, so that all of them pair malloc with
// free (a sanitizer checks that they match); the aligned forms stay the
// library's own, pairs of their own.
void* operator new(std::size_t bytes) {
    if (g_counting) g_allocated += static_cast<int64_t>(bytes);
    if (void* p = std::malloc(bytes ? bytes : 1)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t bytes) { return operator new(bytes); }
void* operator new(std::size_t bytes, const std::nothrow_t&) noexcept {
    if (g_counting) g_allocated += static_cast<int64_t>(bytes);
    return std::malloc(bytes ? bytes : 1);
}
void* operator new[](std::size_t bytes, const std::nothrow_t& tag) noexcept { return operator new(bytes, tag); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace {

// Bytes that constructing Model(config, batch) allocates on the heap.
int64_t allocated_by_constructor(const ModelConfig& config, int batch) {
    g_allocated = 0;
    g_counting = true;
    {
        const Model model(config, batch);
        g_counting = false;
    }
    return g_allocated;
}

}  // namespace

TEST_CASE("the memory estimate is what the constructor allocates, for any layers and batch", "[model][memory]") {
    ModelConfig lrn_3x3{3, 57, 3, 10};
    lrn_3x3.lrn = true;
    lrn_3x3.pool_window = 3;
    for (const ModelConfig& config : {ModelConfig{}, ModelConfig{2, 39, 1, 10}, lrn_3x3, ModelConfig{4, 72, 1, 10}}) {
        INFO("filters " << config.filters << ", image " << config.image_size << ", lrn " << config.lrn);
        const int64_t at1 = allocated_by_constructor(config, 1), at7 = allocated_by_constructor(config, 7);
        const int64_t estimate1 = model_memory_bytes(config, 1), estimate7 = model_memory_bytes(config, 7);
        // What grows with the batch is exactly the estimate's growth ...
        CHECK(at7 - at1 == estimate7 - estimate1);
        // ... and the rest is the estimate plus a little bookkeeping (names,
        // shapes, the parameter list), never less than the estimate.
        CHECK(at1 >= estimate1);
        CHECK(at1 - estimate1 < 16 * 1024);
    }
}

TEST_CASE("a model larger than the machine, or than 2^31 floats, is refused before anything is allocated",
          "[model][memory]") {
    // filters 64 at 320 x 320, batch 256: about 17 GiB, more than 2^31 floats.
    const ModelConfig big{64, 320, 1, 10};
    const int64_t need = model_memory_bytes(big, 256);
    REQUIRE(need > int64_t{4} * INT32_MAX);
    g_allocated = 0;
    g_counting = true;
    const std::string message = [&] {
        try {
            Model model(big, 256);
        } catch (const std::runtime_error& e) {
            return std::string(e.what());
        }
        return std::string("(no error)");
    }();
    g_counting = false;
    INFO(message);
    CHECK(message.find("filters 64, image size 320 and batch 256 need " + std::to_string(need >> 20) + " MiB") == 0);
    CHECK(g_allocated < 1024 * 1024);  // the plan's shapes and names, not the buffers
    // Just below the limit is accepted (planned only, so nothing is allocated here either).
    CHECK(model_memory_bytes(ModelConfig{8, 56, 1, 10}, 4096) < int64_t{4} * INT32_MAX);
    CHECK_NOTHROW(Model(ModelConfig{8, 56, 1, 10}, 4096, ModelBuffers::Training, /*allocate=*/false));
}
