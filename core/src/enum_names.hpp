// Internal: enum <-> wire-name tables shared by the codec's translation units.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace parley::detail {

// The name of enum value `e` in a table indexed by the enum's underlying value.
template <class E, std::size_t N>
std::string_view name_of(const std::array<std::string_view, N>& table, E e) {
  const auto i = static_cast<std::size_t>(e);
  return i < N ? table[i] : std::string_view{};
}

// The enum value named `s` in the table, if any.
template <class E, std::size_t N>
std::optional<E> value_of(const std::array<std::string_view, N>& table, std::string_view s) {
  for (std::size_t i = 0; i < N; ++i) {
    if (table[i] == s) return static_cast<E>(i);
  }
  return std::nullopt;
}

}  // namespace parley::detail
