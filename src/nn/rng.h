// rng.h — a small seeded random generator (SplitMix64) with its own uniform
// and shuffle, so that weights and data order depend only on the seed, not on
// the standard library's unspecified distributions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

class Rng {
public:
    explicit Rng(uint64_t seed) : state_(seed) {}

    uint64_t next_u64() {
        uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    // Uniform in [0, 1), from the top 24 bits (every value exact in float).
    float uniform() { return static_cast<float>(next_u64() >> 40) * (1.0f / 16777216.0f); }
    // Uniform in [lo, hi).
    float uniform(float lo, float hi) { return lo + (hi - lo) * uniform(); }
    // Uniform integer in [0, n), without modulo bias (n > 0).
    uint64_t below(uint64_t n) {
        const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
        uint64_t x;
        do x = next_u64(); while (x >= limit);
        return x % n;
    }
    // Fisher–Yates shuffle of v[0, n).
    template <typename T>
    void shuffle(T* v, size_t n) {
        for (size_t i = n; i > 1; --i) std::swap(v[i - 1], v[below(i)]);
    }
    template <typename T>
    void shuffle(std::vector<T>& v) { shuffle(v.data(), v.size()); }

private:
    uint64_t state_;
};
