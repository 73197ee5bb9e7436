// Fuzz target: every parser of untrusted input in the reference server.
//
// The first byte picks the entry point, the rest is the input:
//   0  a client frame on an authenticated visitor session (decode + the whole handler)
//   1  a frame on a session that has not said hello
//   2  an identity token (verify_token) and a JWT (verify_jwt)
//   3  an agent API message body          4  a channel inbound body
//   5  an agent status / handoff body     6  a server configuration file
// Invariants: nothing crashes or throws out; every frame the server answers decodes with
// the client's decoder (protocol::decode_server); stored data stays readable.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "auth.hpp"
#include "config.hpp"
#include "db.hpp"
#include "parley/protocol.hpp"
#include "service.hpp"

namespace {

using namespace parley;
using namespace parley::server;

constexpr TimeMs kNow = 1'700'000'000'000;

struct World {
  std::unique_ptr<Db> db;
  std::unique_ptr<Service> svc;
  const AgentConfig* agent = nullptr;
  SessionId next = 10;
  World() {
    db = std::make_unique<Db>(":memory:");
    svc = std::make_unique<Service>(ServerConfig::defaults(), *db, 7);
    agent = svc->agent_for_token("agent-dev-token");
    svc->open_session(1, "", true);
    protocol::Hello h;
    h.device = "d_fuzz";
    svc->on_frame(1, protocol::encode(protocol::ClientFrame{h}), kNow);
    protocol::Send s;
    s.req = "r";
    s.conv = "c_fuzz";
    s.cid = "k_fuzz";
    s.body.text = "hello";
    svc->on_frame(1, protocol::encode(protocol::ClientFrame{s}), kNow);
  }
};

World& world() {
  static World w;
  return w;
}

void check_frames(const std::vector<std::string>& frames) {
  for (const auto& f : frames) {
    if (!protocol::decode_server(f).ok()) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
  World& w = world();
  switch (data[0] % 7) {
    case 0:
      check_frames(w.svc->on_frame(1, input, kNow));
      break;
    case 1: {
      SessionId sid = w.next++;
      w.svc->open_session(sid, "", false);
      check_frames(w.svc->on_frame(sid, input, kNow));
      w.svc->close_session(sid, kNow);
      break;
    }
    case 2:
      (void)verify_token("parley-dev-token-secret", input);
      (void)verify_jwt("parley-demo-jwt-secret", "parley-demo", input, kNow);
      (void)looks_like_jwt(input);
      break;
    case 3:
      (void)w.svc->agent_post(*w.agent, "c_fuzz", input, kNow);
      break;
    case 4:
      (void)w.svc->channel_inbound("sms", input, kNow);
      break;
    case 5:
      (void)w.svc->agent_status(*w.agent, "c_fuzz", input, kNow);
      (void)w.svc->agent_handoff(*w.agent, "c_fuzz", input, kNow);
      break;
    case 6: {
      Json j = Json::parse(input, nullptr, false);
      if (!j.is_discarded()) (void)parse_config(j);
      break;
    }
  }
  w.svc->take_pushes();
  w.svc->take_advanced_users();
  // The stored conversation is still there and readable.
  auto page = w.svc->agent_messages(*w.agent, "c_fuzz", 0, -1, 1);
  if (page.status != 200) std::abort();
  return 0;
}
