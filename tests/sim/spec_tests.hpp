#pragma once

#include <cstdio>

namespace parley::sim {

// Scripted reproductions of behaviours the simulation found; true when all pass.
bool spec_tests(std::FILE* out);

}  // namespace parley::sim
