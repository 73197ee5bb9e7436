// Reads test fixtures from the source tree (natively, and in Node through NODERAWFS).
#pragma once

#include <fstream>
#include <sstream>
#include <string>

#include "parley/model.hpp"

#ifndef PARLEY_SOURCE_DIR
#error "PARLEY_SOURCE_DIR must point at the repository root"
#endif

namespace parley::testing {

inline std::string read_fixture(const std::string& relative) {
  std::ifstream in(std::string(PARLEY_SOURCE_DIR) + "/tests/" + relative);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline Json fixture_json(const std::string& relative) {
  return Json::parse(read_fixture(relative), nullptr, false);
}

}  // namespace parley::testing
