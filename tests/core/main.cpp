// Catch2 v2 entry point for parley_core_tests (native and wasm). Test cases live in the
// other tests/core/*.cpp files.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
