// tests/test_reference.cpp — alexnet against another framework: PyTorch's
// logits, loss, gradients and one Adam step for the same small model, the
// same weights and the same batch, written once by
// `python3 scripts/pytorch_reference.py reference` and committed in
// tests/data/pytorch_reference.bin (llm.c's test_gpt2.c does the same with
// its reference states). No PyTorch is needed to run it.
#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "catch.hpp"
#include "fast/thread_pool.h"
#include "helpers.h"
#include "nn/adam.h"
#include "nn/model.h"
#include "nn/train_step.h"

namespace {

struct Reference {
    ModelConfig config;
    int batch = 0;
    std::map<std::string, std::vector<float>> tensors;  // by name, values in row-major order

    const std::vector<float>& operator[](const std::string& name) const {
        const auto it = tensors.find(name);
        if (it == tensors.end()) FAIL("the reference file has no tensor " << name);
        return it->second;
    }
};

// The format is in scripts/pytorch_reference.py ("reference").
Reference read_reference(const std::string& path) {
    const std::string bytes = read_file(path);
    REQUIRE(bytes.size() > 28);
    REQUIRE(bytes.compare(0, 8, "ALXREF01") == 0);
    size_t pos = 8;
    auto u32 = [&] {
        REQUIRE(pos + 4 <= bytes.size());
        uint32_t v;
        std::memcpy(&v, bytes.data() + pos, 4);
        pos += 4;
        return v;
    };
    Reference r;
    r.config.filters = static_cast<int>(u32());
    r.config.image_size = static_cast<int>(u32());
    r.config.channels = static_cast<int>(u32());
    r.batch = static_cast<int>(u32());
    const uint32_t count = u32();
    for (uint32_t t = 0; t < count; ++t) {
        const uint32_t name_length = u32();
        REQUIRE(pos + name_length <= bytes.size());
        const std::string name = bytes.substr(pos, name_length);
        pos += name_length;
        const uint32_t rank = u32();
        size_t n = 1;
        for (uint32_t d = 0; d < rank; ++d) n *= u32();
        REQUIRE(pos + 4 * n <= bytes.size());
        std::vector<float> values(n);
        std::memcpy(values.data(), bytes.data() + pos, 4 * n);
        pos += 4 * n;
        r.tensors[name] = std::move(values);
    }
    REQUIRE(pos == bytes.size());
    return r;
}

// max |a - b| over a tensor, against its largest reference value.
void check_close(const std::string& what, const float* ours, const std::vector<float>& theirs, double rel,
                 double abs_floor) {
    double largest = 0.0;
    for (float v : theirs) largest = std::max(largest, static_cast<double>(std::fabs(v)));
    const MaxDiff d = max_abs_diff(ours, theirs.data(), theirs.size());
    INFO(what << ": max |alexnet - pytorch| = " << d.diff << " at " << d.index << " (alexnet " << ours[d.index]
              << ", pytorch " << theirs[d.index] << "), largest |pytorch| " << largest);
    CHECK(d.diff <= rel * largest + abs_floor);
}

// Loads the reference's weights into our model, takes one training step on
// its batch and compares everything PyTorch wrote down.
void check_against_reference(const std::string& path, bool lrn, int pool_window, KernelSet kernels) {
    Reference ref = read_reference(path);
    ref.config.lrn = lrn;
    ref.config.pool_window = pool_window;
    ThreadPool pool(2);
    Model model(ref.config, ref.batch);
    model.kernels = kernels;
    for (const ParamInfo& p : model.param_info) {
        const std::vector<float>& values = ref[p.name];
        REQUIRE(static_cast<int64_t>(values.size()) == p.size);
        std::copy(values.begin(), values.end(), model.params.begin() + p.offset);
    }
    const std::vector<float>& input = ref["input"];
    std::vector<uint8_t> labels;
    for (float l : ref["labels"]) labels.push_back(static_cast<uint8_t>(l));
    REQUIRE(static_cast<int>(labels.size()) == ref.batch);

    OptimizerState state(model.parameter_count());
    OptimizerConfig adam;
    adam.adam.lr = 1e-3;
    const StepResult step = train_step(model, input.data(), labels.data(), ref.batch, state, adam, pool);
    CHECK(state.step == 1);

    check_close("logits", model.dense[kDenseLayers - 1].out.ptr(), ref["logits"], 1e-5, 1e-6);
    CHECK(step.loss == Approx(ref["loss"][0]).epsilon(1e-5));
    for (const ParamInfo& p : model.param_info)
        check_close(p.name + " gradient", model.grads.data() + p.offset, ref[p.name + ".grad"], 1e-4, 1e-9);
    // One Adam step moves each weight by lr * g / (|g| + eps), about lr
    // whatever |g|: where g is not 0 but at float-rounding level, the two
    // frameworks may round it to opposite signs, so those few entries are left
    // out. (A gradient of exactly 0, behind a dead ReLU, moves nothing.)
    for (const ParamInfo& p : model.param_info) {
        const std::vector<float>& grad = ref[p.name + ".grad"];
        const std::vector<float>& after = ref[p.name + ".after_adam"];
        int compared = 0;
        double worst = 0.0;
        for (int64_t i = 0; i < p.size; ++i) {
            if (grad[i] != 0.0f && std::fabs(grad[i]) < 1e-6f) continue;
            worst = std::max(worst, std::fabs(static_cast<double>(model.params[p.offset + i]) - after[i]));
            ++compared;
        }
        INFO(p.name << " after Adam: " << compared << " of " << p.size << " compared, max diff " << worst);
        CHECK(compared >= p.size * 9 / 10);
        CHECK(worst <= 1e-6);
    }
}

}  // namespace

TEST_CASE("logits, loss, every gradient and one Adam step match PyTorch's for the same weights",
          "[model][reference]") {
    SECTION("fast kernels") { check_against_reference("tests/data/pytorch_reference.bin", false, 2, KernelSet::Fast); }
    SECTION("reference kernels") {
        check_against_reference("tests/data/pytorch_reference.bin", false, 2, KernelSet::Reference);
    }
}

// PyTorch's LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2) and
// max_pool2d(3, 2, ceil_mode=True), on an input scaled so that conv1's
// outputs reach tens and LRN's alpha term changes them by several percent.
TEST_CASE("with LRN and 3x3/2 pooling, the same match PyTorch's", "[model][reference][lrn][pool]") {
    SECTION("fast kernels") {
        check_against_reference("tests/data/pytorch_reference_paper.bin", true, 3, KernelSet::Fast);
    }
    SECTION("reference kernels") {
        check_against_reference("tests/data/pytorch_reference_paper.bin", true, 3, KernelSet::Reference);
    }
}
