// The network side of the reference server: restinio (HTTP/1.1 + WebSocket on asio) on one
// thread. It owns no rule; it turns requests and WebSocket messages into Service calls and
// sends what the Service answers and pushes.
#pragma once

#include <cstdint>
#include <string>

#include "config.hpp"

namespace parley::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  std::string db_path = "parley.db";
  bool sync_full = false;
  std::string static_dir;  // served under /dist/ (build/dist)
  std::string demo_dir;    // served at / (demo/)
  ServerConfig config = ServerConfig::defaults();
  bool quiet = false;
};

// Runs until SIGINT/SIGTERM, then shuts down gracefully. Returns the process exit code.
int run_server(const ServerOptions& opts);

}  // namespace parley::server
