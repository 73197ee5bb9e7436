// parley_server: the reference backend. See docs/server.md.
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "http.hpp"

namespace {

int usage(int code) {
  std::cerr << "usage: parley_server [--host H] [--port N] [--db FILE] [--config FILE.json]\n"
               "                     [--static DIR] [--demo DIR] [--sync normal|full] [--quiet]\n";
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace parley::server;
  ServerOptions opts;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* name) -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "parley_server: " << name << " needs a value\n";
        std::exit(usage(2));
      }
      return argv[++i];
    };
    if (a == "--host") {
      opts.host = value("--host");
    } else if (a == "--port") {
      int p = std::atoi(value("--port").c_str());
      if (p <= 0 || p > 65535) return usage(2);
      opts.port = static_cast<std::uint16_t>(p);
    } else if (a == "--db") {
      opts.db_path = value("--db");
    } else if (a == "--static") {
      opts.static_dir = value("--static");
    } else if (a == "--demo") {
      opts.demo_dir = value("--demo");
    } else if (a == "--sync") {
      std::string s = value("--sync");
      if (s != "normal" && s != "full") return usage(2);
      opts.sync_full = s == "full";
    } else if (a == "--quiet") {
      opts.quiet = true;
    } else if (a == "--config") {
      std::string path = value("--config");
      std::ifstream in(path);
      if (!in) {
        std::cerr << "parley_server: cannot read " << path << "\n";
        return 2;
      }
      std::stringstream ss;
      ss << in.rdbuf();
      auto j = parley::Json::parse(ss.str(), nullptr, false);
      if (j.is_discarded()) {
        std::cerr << "parley_server: " << path << " is not JSON\n";
        return 2;
      }
      auto parsed = parse_config(j);
      if (auto* e = std::get_if<parley::Error>(&parsed)) {
        std::cerr << "parley_server: " << path << ": " << e->message << "\n";
        return 2;
      }
      opts.config = std::get<ServerConfig>(parsed);
    } else if (a == "-h" || a == "--help") {
      return usage(0);
    } else {
      std::cerr << "parley_server: unknown option " << a << "\n";
      return usage(2);
    }
  }
  return run_server(opts);
}
