// A Service on a real SQLite file in a fresh temporary directory, with a fake clock and
// helpers that speak protocol v1 through the core codec. Every frame the service emits is
// decoded with protocol::decode_server, so the tests also prove the server only ever sends
// frames the client's decoder accepts.
#pragma once

#include <catch2/catch.hpp>

#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "db.hpp"
#include "parley/protocol.hpp"
#include "service.hpp"

namespace parley::server::test {

namespace fs = std::filesystem;

inline fs::path temp_dir() {
  std::random_device rd;
  fs::path p = fs::temp_directory_path() / ("parley-server-test-" + std::to_string(rd()));
  fs::create_directories(p);
  return p;
}

template <class T>
const T& as(const protocol::ServerFrame& f) {
  const T* p = std::get_if<T>(&f);
  INFO("frame index " << f.index());
  REQUIRE(p != nullptr);
  return *p;
}

struct Fixture {
  fs::path dir = temp_dir();
  fs::path db_path = dir / "parley.db";
  ServerConfig cfg;
  std::unique_ptr<Db> db;
  std::unique_ptr<Service> svc;
  TimeMs now = 1'700'000'000'000;  // Tue 2023-11-14 22:13:20 UTC
  SessionId next_sid = 1;
  std::uint64_t seed = 42;

  // Default: the default config without the bot, so only the test's own messages exist.
  explicit Fixture(ServerConfig c = no_bot()) : cfg(std::move(c)) { open(); }
  static ServerConfig no_bot() {
    auto c = ServerConfig::defaults();
    c.apps[0].bot = false;
    return c;
  }
  ~Fixture() {
    svc.reset();
    db.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  void open() {
    db = std::make_unique<Db>(db_path.string());
    svc = std::make_unique<Service>(cfg, *db, ++seed);
  }
  // Simulates a restart: everything in memory is gone, the file stays.
  void reopen() {
    svc.reset();
    db.reset();
    open();
  }

  SessionId connect(const std::string& app = "", bool live = true) {
    SessionId sid = next_sid++;
    REQUIRE(svc->open_session(sid, app, live));
    return sid;
  }

  static std::vector<protocol::ServerFrame> decode_all(const std::vector<std::string>& raw) {
    std::vector<protocol::ServerFrame> out;
    for (const auto& s : raw) {
      auto d = protocol::decode_server(s);
      INFO(s);
      REQUIRE(d.ok());
      out.push_back(d.frame());
    }
    return out;
  }

  std::vector<protocol::ServerFrame> frame(SessionId sid, const protocol::ClientFrame& f) {
    return decode_all(svc->on_frame(sid, protocol::encode(f), now));
  }
  std::vector<protocol::ServerFrame> raw(SessionId sid, std::string_view text) {
    return decode_all(svc->on_frame(sid, text, now));
  }

  protocol::Welcome hello(SessionId sid, const std::string& token = "",
                          const std::string& device = "d_1", Cursor cursor = 0,
                          const std::string& merge = "", const std::string& resume = "") {
    protocol::Hello h;
    h.token = token;
    h.device = device;
    h.cursor = cursor;
    h.merge_token = merge;
    h.resume_token = resume;
    auto out = frame(sid, h);
    REQUIRE(!out.empty());
    return as<protocol::Welcome>(out[0]);
  }

  protocol::Ack send(SessionId sid, const std::string& conv, const std::string& cid,
                     const std::string& text, const std::string& req = "q") {
    protocol::Send s;
    s.req = req;
    s.conv = conv;
    s.cid = cid;
    s.body.text = text;
    auto out = frame(sid, s);
    REQUIRE(out.size() == 1);
    return as<protocol::Ack>(out[0]);
  }

  // Pushed frames per session since the last call.
  std::vector<protocol::ServerFrame> pushes(SessionId sid) {
    std::vector<std::string> raw;
    for (auto& p : svc->take_pushes()) {
      if (p.sid == sid) raw.push_back(p.frame);
    }
    return decode_all(raw);
  }

  // All events of the user from `after`, pulled with sync until more:false.
  std::vector<protocol::Event> sync_all(SessionId sid, Cursor after = 0) {
    std::vector<protocol::Event> out;
    for (int i = 0; i < 100; ++i) {
      protocol::Sync s;
      s.req = "s";
      s.after = after;
      s.limit = 50;
      auto f = frame(sid, s);
      REQUIRE(f.size() == 1);
      const auto& ev = as<protocol::Events>(f[0]);
      REQUIRE(ev.from == after);
      for (const auto& e : ev.events) out.push_back(e);
      after = ev.cursor;
      if (!ev.more) return out;
    }
    FAIL("sync did not finish");
    return out;
  }

  protocol::Page history(SessionId sid, const std::string& conv, Seq before, Seq after, int limit) {
    protocol::History h;
    h.req = "h";
    h.conv = conv;
    h.before = before;
    h.after = after;
    h.limit = limit;
    auto f = frame(sid, h);
    REQUIRE(f.size() == 1);
    return as<protocol::Page>(f[0]);
  }

  const AgentConfig& agent() const { return cfg.agents.front(); }

  Json agent_json(const HttpResult& r, int status) {
    INFO(r.body);
    REQUIRE(r.status == status);
    return r.body.empty() ? Json() : Json::parse(r.body);
  }
};

inline ServerConfig config_with_style(const std::string& style, bool bot = false) {
  auto parsed = parse_config(Json{{"apps", {{{"id", "app"}, {"style", style}, {"bot", bot}}}}});
  REQUIRE(std::holds_alternative<ServerConfig>(parsed));
  return std::get<ServerConfig>(parsed);
}

}  // namespace parley::server::test
