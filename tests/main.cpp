// tests/main.cpp — the Catch2 runner. Compiles Catch2 once and ends the run
// with the plain line "N passed, M failed" (test cases), which CI reads.
#define CATCH_CONFIG_RUNNER
#include "catch.hpp"

#include <cstdio>

namespace {

Catch::Totals g_totals;

struct CountingListener : Catch::TestEventListenerBase {
    using TestEventListenerBase::TestEventListenerBase;
    void testRunEnded(const Catch::TestRunStats& stats) override { g_totals = stats.totals; }
};

}  // namespace

CATCH_REGISTER_LISTENER(CountingListener)

int main(int argc, char* argv[]) {
    const int failed_assertions = Catch::Session().run(argc, argv);
    std::printf("%llu passed, %llu failed\n",
                static_cast<unsigned long long>(g_totals.testCases.passed),
                static_cast<unsigned long long>(g_totals.testCases.failed));
    return failed_assertions == 0 ? 0 : 1;
}
