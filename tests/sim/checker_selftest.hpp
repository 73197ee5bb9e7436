#pragma once

#include <cstdint>
#include <cstdio>

namespace parley::sim {

// Hand-made histories with planted problems; true when every count is exactly right.
bool checker_selftest(std::FILE* out);
// Runs `seeds` simulations with the planted dedupe bug (planted_bug_name()); true when the
// checker reports duplicates.
bool planted_bug_selftest(std::FILE* out, std::uint64_t seeds);

}  // namespace parley::sim
