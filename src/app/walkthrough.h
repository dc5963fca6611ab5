// walkthrough.h — ./alexnet walkthrough [SECTION]: the worked numbers of
// docs/walkthrough.md, printed by the reference kernels (walkthrough.cpp).
#pragma once

#include <string>

// The sections, for the usage text: "sizes, backward, pool, conv, adam".
extern const char* const kWalkthroughSections;

// Prints one section, or every section for "". Throws
// std::invalid_argument(section) for an unknown name.
void run_walkthrough(const std::string& section);
