// Catch2 v2 entry point for parley_server_tests. Test cases live in the other
// tests/server/*.cpp files.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
