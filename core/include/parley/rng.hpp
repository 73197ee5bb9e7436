// Deterministic randomness from a host-provided seed (client ids, jitter). Never reads entropy.
#pragma once

#include <cstdint>
#include <string>

namespace parley {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed ? seed : 0x9E3779B97F4A7C15ULL) {}
  std::uint64_t next() {  // splitmix64
    std::uint64_t z = (s_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [lo, hi] (inclusive); lo <= hi.
  std::int64_t between(std::int64_t lo, std::int64_t hi) {
    const auto span = static_cast<std::uint64_t>(hi - lo) + 1;
    return lo + static_cast<std::int64_t>(span ? next() % span : next());
  }
  bool chance(double p) { return static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }
  // 128-bit random identifier, hex encoded, with a prefix.
  std::string id(const char* prefix) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(prefix);
    for (int w = 0; w < 2; ++w) {
      auto v = next();
      for (int i = 0; i < 16; ++i) out.push_back(kHex[(v >> (60 - 4 * i)) & 0xF]);
    }
    return out;
  }

 private:
  std::uint64_t s_;
};

}  // namespace parley
