// The agent API, lifecycle run authoritatively from core/, bot, business hours, identity
// merge, device resume and the simulated channels (server/src/service.cpp).
#include <catch2/catch.hpp>

#include "auth.hpp"
#include "service_fixture.hpp"

using namespace parley;
using namespace parley::server;
using namespace parley::server::test;

namespace {

std::vector<protocol::Event> of_kind(const std::vector<protocol::Event>& evs,
                                     protocol::EventKind k) {
  std::vector<protocol::Event> out;
  for (const auto& e : evs) {
    if (e.kind == k) out.push_back(e);
  }
  return out;
}

Json post(Fixture& fx, const std::string& conv, const Json& body) {
  return fx.agent_json(fx.svc->agent_post(fx.agent(), conv, body.dump(), fx.now), 201);
}

std::string status_of(Fixture& fx, const std::string& conv) {
  return fx.agent_json(fx.svc->agent_get(fx.agent(), conv, fx.now), 200)["status"];
}

}  // namespace

SCENARIO("live chat: solved closes at once, and the next message starts a new ticket",
         "[service][lifecycle]") {
  Fixture fx(config_with_style("live_chat"));
  auto s = fx.connect("app");
  fx.hello(s);
  fx.send(s, "c_1", "k_1", "my order is late");
  CHECK(status_of(fx, "c_1") == "new");
  post(fx, "c_1", {{"text", "Let me check"}});
  CHECK(status_of(fx, "c_1") == "pending");
  auto r =
      fx.agent_json(fx.svc->agent_status(fx.agent(), "c_1", R"({"status":"solved"})", fx.now), 200);
  CHECK(r["status"] == "closed");
  // The agent cannot write into a closed conversation; the customer can.
  CHECK(fx.svc->agent_post(fx.agent(), "c_1", R"({"text":"hello?"})", fx.now).status == 409);
  fx.now += 60'000;
  auto ack = fx.send(s, "c_1", "k_2", "one more thing");
  auto page = fx.history(s, "c_1", 0, -1, 50);
  CHECK(page.messages.back().ticket == 2);
  CHECK(page.messages.back().seq == ack.seq);
  auto statuses = of_kind(fx.sync_all(s), protocol::EventKind::Status);
  REQUIRE(!statuses.empty());
  CHECK(statuses.back().ticket == 2);
}

SCENARIO("live chat with returning customer: reopen inside the window, close after it",
         "[service][lifecycle]") {
  Fixture fx(config_with_style("live_chat_returning"));
  auto s = fx.connect("app");
  fx.hello(s);
  fx.send(s, "c_1", "k_1", "question");
  post(fx, "c_1", {{"text", "answer"}});
  fx.agent_json(fx.svc->agent_status(fx.agent(), "c_1", R"({"status":"solved"})", fx.now), 200);
  CHECK(status_of(fx, "c_1") == "solved");
  fx.now += 60'000;
  fx.send(s, "c_1", "k_2", "thanks");  // ineffectual: does not reopen
  CHECK(status_of(fx, "c_1") == "solved");
  fx.send(s, "c_1", "k_3", "actually, one more question");
  CHECK(status_of(fx, "c_1") == "open");
  auto summary = fx.agent_json(fx.svc->agent_get(fx.agent(), "c_1", fx.now), 200);
  CHECK(summary["ticket"] == 1);
  // Solved again, then the window passes: the server's tick closes it.
  fx.agent_json(fx.svc->agent_status(fx.agent(), "c_1", R"({"status":"solved"})", fx.now), 200);
  fx.now += fx.cfg.apps[0].policy.reopen_window_ms + 1;
  fx.svc->tick(fx.now);
  CHECK(status_of(fx, "c_1") == "closed");
}

SCENARIO("social messaging: solved closes after the configured delay", "[service][lifecycle]") {
  Fixture fx(config_with_style("social_messaging"));
  auto s = fx.connect("app");
  fx.hello(s);
  fx.send(s, "c_1", "k_1", "hi");
  fx.agent_json(fx.svc->agent_status(fx.agent(), "c_1", R"({"status":"solved"})", fx.now), 200);
  fx.now += 3 * lifecycle::kDay;
  fx.svc->tick(fx.now);
  CHECK(status_of(fx, "c_1") == "solved");
  fx.now += 5 * lifecycle::kDay;
  auto next = fx.svc->tick(fx.now);
  CHECK(status_of(fx, "c_1") == "closed");
  CHECK(next == 0);  // nothing else scheduled
}

TEST_CASE("agent list puts waiting-for-agent first, engaged and responsive first",
          "[service][agent]") {
  Fixture fx(config_with_style("social_messaging"));
  auto mk = [&](const std::string& device, const std::string& conv) {
    auto s = fx.connect("app");
    fx.hello(s, "", device);
    fx.send(s, conv, "k_" + conv, "help");
    fx.now += 1000;
    return s;
  };
  auto a = mk("d_a", "c_waiting_customer");
  post(fx, "c_waiting_customer", {{"text", "done?"}});
  auto b = mk("d_b", "c_low");
  auto c = mk("d_c", "c_high_slow");
  auto d = mk("d_d", "c_high_fast");
  fx.frame(b, protocol::Engagement{"low", 5'000, true});
  fx.frame(c, protocol::Engagement{"high", 90'000, true});
  fx.frame(d, protocol::Engagement{"high", 20'000, true});
  auto list = fx.agent_json(fx.svc->agent_list(fx.agent(), "app", fx.now), 200);
  std::vector<std::string> order;
  for (const auto& s : list["conversations"]) order.push_back(s["conv"]);
  CHECK(order ==
        std::vector<std::string>{"c_high_fast", "c_high_slow", "c_low", "c_waiting_customer"});
  CHECK(list["conversations"][0]["engagement"]["reply_latency_ms"] == 20'000);
  (void)a;
}

TEST_CASE("agent replies reach the visitor as events, with typing as a signal",
          "[service][agent]") {
  Fixture fx(ServerConfig::defaults());
  auto s = fx.connect();
  auto w = fx.hello(s);
  fx.send(s, "c_1", "k_1", "talk to a human");  // the bot hands over to the queue
  fx.svc->take_pushes();
  CHECK(fx.svc->agent_typing(fx.agent(), "c_1", R"({"on":true})", fx.now).status == 204);
  auto p = fx.pushes(s);
  REQUIRE(p.size() == 1);
  CHECK(as<protocol::Signal>(p[0]).who.role == Role::Agent);
  auto m = post(fx, "c_1", {{"text", "Hi, Grace here"}, {"cid", "a_1"}});
  auto again = post(fx, "c_1", {{"text", "Hi, Grace here"}, {"cid", "a_1"}});
  CHECK(again["message"]["id"] == m["message"]["id"]);  // agent posts are idempotent too
  auto events = fx.sync_all(s);
  auto handoffs = of_kind(events, protocol::EventKind::Handoff);
  REQUIRE(handoffs.size() == 2);  // bot -> queue, queue -> agent
  CHECK(handoffs[0].owner.kind == ControlOwner::Kind::Queue);
  CHECK(handoffs[1].owner.kind == ControlOwner::Kind::Agent);
  CHECK(handoffs[1].owner.agent_name == "Grace");
  int agent_messages = 0;
  for (const auto& e : of_kind(events, protocol::EventKind::Message)) {
    agent_messages += e.message.author.role == Role::Agent;
  }
  CHECK(agent_messages == 1);
  // Agent read marker: forward only.
  CHECK(fx.svc->agent_read(fx.agent(), "c_1", R"({"seq":1})", fx.now).status == 204);
  CHECK(fx.svc->agent_read(fx.agent(), "c_1", R"({"seq":0})", fx.now).status == 204);
  auto reads = of_kind(fx.sync_all(s, events.back().cursor), protocol::EventKind::Read);
  REQUIRE(reads.size() == 1);
  CHECK(reads[0].reader == Role::Agent);
  (void)w;
}

TEST_CASE("agent API bad input gets typed errors", "[service][agent][errors]") {
  Fixture fx;
  auto s = fx.connect();
  fx.hello(s);
  fx.send(s, "c_1", "k_1", "hi");
  auto code = [&](const HttpResult& r) { return Json::parse(r.body)["code"].get<std::string>(); };
  CHECK(code(fx.svc->agent_post(fx.agent(), "c_1", "nope", fx.now)) == "malformed_frame");
  CHECK(code(fx.svc->agent_post(fx.agent(), "c_1", R"({"text":5})", fx.now)) == "invalid_field");
  CHECK(code(fx.svc->agent_post(fx.agent(), "c_x", R"({"text":"a"})", fx.now)) == "not_found");
  auto too_long = Json{{"text", std::string(9000, 'x')}}.dump();
  CHECK(code(fx.svc->agent_post(fx.agent(), "c_1", too_long, fx.now)) == "message_too_long");
  CHECK(fx.svc->agent_status(fx.agent(), "c_1", R"({"status":"nope"})", fx.now).status == 400);
  CHECK(fx.svc->agent_handoff(fx.agent(), "c_1", R"({"to":"agent"})", fx.now).status == 400);
  CHECK(fx.svc->agent_for_token("wrong-token") == nullptr);
  CHECK(fx.svc->agent_for_token("agent-dev-token") != nullptr);
}

TEST_CASE("bot: greeting with quick replies, FAQ, and a person on request", "[service][bot]") {
  Fixture fx(ServerConfig::defaults());
  auto s = fx.connect();
  fx.hello(s);
  fx.send(s, "c_1", "k_1", "Hello!");
  auto page = fx.history(s, "c_1", 0, -1, 50);
  REQUIRE(page.messages.size() == 2);
  CHECK(page.messages[1].author.role == Role::Bot);
  CHECK(page.messages[1].body.rich == RichKind::QuickReplies);
  auto summary = fx.agent_json(fx.svc->agent_get(fx.agent(), "c_1", fx.now), 200);
  CHECK(summary["owner"]["kind"] == "bot");
  CHECK(summary["waiting_on"] == "customer");
  fx.send(s, "c_1", "k_2", "I want to talk to a human");
  summary = fx.agent_json(fx.svc->agent_get(fx.agent(), "c_1", fx.now), 200);
  CHECK(summary["owner"]["kind"] == "queue");
  CHECK(summary["owner"]["queue_position"] == 1);
  CHECK(summary["waiting_on"] == "agent");
  auto n = fx.history(s, "c_1", 0, -1, 50).messages.size();
  fx.send(s, "c_1", "k_3", "hello?");  // the bot stays silent once people own it
  CHECK(fx.history(s, "c_1", 0, -1, 50).messages.size() == n + 1);
}

TEST_CASE(
    "business hours: the welcome carries availability and closed hours send an away "
    "message once",
    "[service][hours]") {
  auto parsed = parse_config(Json::parse(R"({"apps":[{"id":"shop","bot":false,"hours":{
      "tz":"Europe/Oslo","weekly":{"mon":[["09:00","17:00"]],"tue":[["09:00","17:00"]]}}}]})"));
  REQUIRE(std::holds_alternative<ServerConfig>(parsed));
  Fixture fx(std::get<ServerConfig>(parsed));
  fx.now = 1'700'000'000'000;  // Tuesday 23:13 in Oslo: closed until Monday 09:00
  auto s = fx.connect("shop");
  auto w = fx.hello(s);
  REQUIRE(w.availability.has_value());
  CHECK_FALSE(w.availability->open);
  // Monday 2023-11-20 09:00 Oslo (UTC+1) = 08:00 UTC.
  CHECK(w.availability->next_change_ts == 1'700'467'200'000);
  fx.send(s, "c_1", "k_1", "are you there?");
  fx.send(s, "c_1", "k_2", "hello?");
  auto msgs = fx.history(s, "c_1", 0, -1, 50).messages;
  REQUIRE(msgs.size() == 3);  // one away notice, not two
  CHECK(msgs[1].author.role == Role::System);
  CHECK(msgs[1].body.text.find("Monday 09:00") != std::string::npos);
  CHECK(msgs[1].body.event["type"] == "away");
}

TEST_CASE("sign-in merges the anonymous visitor's conversations, announced with gaps",
          "[service][identity]") {
  Fixture fx;
  auto anon = fx.connect();
  auto w = fx.hello(anon, "", "d_1");
  fx.send(anon, "c_1", "k_1", "before sign-in");
  const auto& app = fx.cfg.apps[0];
  std::string jwt = sign_jwt_hs256(
      app.jwt_secret,
      {{"sub", "customer-7"}, {"aud", app.jwt_audience}, {"exp", fx.now / 1000 + 3600}});
  auto s = fx.connect();
  auto w2 = fx.hello(s, jwt, "d_1", 0, w.token);
  CHECK(w2.user != w.user);
  auto events = fx.sync_all(s);
  auto gaps = of_kind(events, protocol::EventKind::Gap);
  REQUIRE(gaps.size() == 1);
  CHECK(gaps[0].conv == "c_1");
  CHECK(gaps[0].gap.from == 1);
  auto page = fx.history(s, "c_1", gaps[0].gap.to + 1, gaps[0].gap.from - 1, 50);
  CHECK(page.complete);
  CHECK(page.messages.size() == static_cast<std::size_t>(gaps[0].gap.to));
  // The outbox retry of a message sent before sign-in is still deduped.
  auto again = fx.send(s, "c_1", "k_1", "before sign-in");
  CHECK(again.seq == 1);
  // The anonymous token no longer works; the same sub is the same user next time.
  auto out = fx.frame(fx.connect(), [&] {
    protocol::Hello h;
    h.token = w.token;
    h.device = "d_1";
    return h;
  }());
  CHECK(as<protocol::ErrorFrame>(out[0]).error.code == ErrorCode::Unauthorized);
  CHECK(fx.hello(fx.connect(), jwt, "d_3").user == w2.user);
}

TEST_CASE("an expired or foreign JWT is refused", "[service][identity]") {
  Fixture fx;
  const auto& app = fx.cfg.apps[0];
  auto expired = sign_jwt_hs256(
      app.jwt_secret, {{"sub", "x"}, {"aud", app.jwt_audience}, {"exp", fx.now / 1000 - 10}});
  auto foreign = sign_jwt_hs256(
      "another secret", {{"sub", "x"}, {"aud", app.jwt_audience}, {"exp", fx.now / 1000 + 10}});
  for (const auto& t : {expired, foreign}) {
    protocol::Hello h;
    h.token = t;
    h.device = "d";
    auto out = fx.frame(fx.connect(), h);
    CHECK(as<protocol::ErrorFrame>(out[0]).error.code == ErrorCode::Unauthorized);
  }
}

TEST_CASE("continue on another device: a single-use resume token", "[service][handoff]") {
  Fixture fx;
  auto desk = fx.connect();
  auto w = fx.hello(desk, "", "d_desk");
  fx.send(desk, "c_1", "k_1", "hi");
  auto out = fx.frame(desk, protocol::HandoffRequest{"h1", "c_1", Channel::Device, ""});
  CHECK(as<protocol::Ack>(out[0]).req == "h1");
  auto handoffs = of_kind(fx.sync_all(desk), protocol::EventKind::Handoff);
  REQUIRE(handoffs.size() == 1);
  std::string resume = handoffs[0].resume_token;
  REQUIRE(!resume.empty());
  auto phone = fx.connect();
  auto wp = fx.hello(phone, "", "d_phone", 0, "", resume);
  CHECK(wp.user == w.user);  // the phone is now the same visitor
  CHECK(fx.history(phone, "c_1", 0, -1, 50).messages.size() >= 1);
  // Used once: a second device gets its own identity and a typed notice.
  auto other = fx.connect();
  protocol::Hello h;
  h.device = "d_other";
  h.resume_token = resume;
  auto frames = fx.frame(other, h);
  REQUIRE(frames.size() == 2);
  CHECK(as<protocol::Welcome>(frames[0]).user != w.user);
  CHECK(as<protocol::ErrorFrame>(frames[1]).error.code == ErrorCode::NotFound);
}

TEST_CASE("web -> SMS -> web: one conversation, one history", "[service][channels]") {
  Fixture fx(ServerConfig::defaults());
  auto s = fx.connect();
  fx.hello(s);
  fx.send(s, "c_1", "k_1", "talk to a human");
  auto bad = fx.frame(s, protocol::HandoffRequest{"h0", "c_1", Channel::Sms, "not a phone"});
  CHECK(as<protocol::ErrorFrame>(bad[0]).error.code == ErrorCode::InvalidField);
  auto ok = fx.frame(s, protocol::HandoffRequest{"h1", "c_1", Channel::Sms, "+15551234567"});
  CHECK(std::holds_alternative<protocol::Ack>(ok[0]));
  post(fx, "c_1", {{"text", "We'll text you"}});
  auto outbox = fx.agent_json(fx.svc->channel_outbox("sms", "+15551234567"), 200);
  REQUIRE(outbox["messages"].size() == 1);
  CHECK(outbox["messages"][0]["text"] == "We'll text you");
  auto in =
      fx.agent_json(fx.svc->channel_inbound(
                        "sms", R"({"address":"+15551234567","text":"Got it, thanks!"})", fx.now),
                    201);
  CHECK(in["conv"] == "c_1");
  CHECK(fx.svc->channel_inbound("sms", R"({"address":"+15550000000","text":"?"})", fx.now).status ==
        404);
  // Back on the web, the history holds every channel's messages in order.
  auto msgs = fx.history(s, "c_1", 0, -1, 50).messages;
  CHECK(msgs.back().body.text == "Got it, thanks!");
  CHECK(msgs.back().author.role == Role::Visitor);
  for (std::size_t i = 1; i < msgs.size(); ++i) CHECK(msgs[i].seq == msgs[i - 1].seq + 1);
}

TEST_CASE("agent presence reaches the visitors of the agent's conversations",
          "[service][agent][presence]") {
  Fixture fx;
  auto v = fx.connect();
  auto w = fx.hello(v);
  fx.send(v, "c_1", "k_1", "hello");
  post(fx, "c_1", {{"text", "Grace here"}});  // Grace takes the conversation
  auto presence = [&](SessionId sid) {
    std::vector<protocol::Signal> out;
    for (const auto& f : fx.pushes(sid)) {
      if (const auto* s = std::get_if<protocol::Signal>(&f); s && s->kind == "presence") {
        out.push_back(*s);
      }
    }
    return out;
  };
  auto p0 = presence(v);
  REQUIRE(p0.size() == 1);  // taken by an agent who is not connected: away
  CHECK_FALSE(p0[0].on);
  CHECK(p0[0].who.id == "ag_grace");
  const SessionId console = 900;
  REQUIRE(fx.svc->open_agent_session(console, "", fx.agent()));
  auto p1 = presence(v);
  REQUIRE(p1.size() == 1);
  CHECK(p1[0].on);
  CHECK(p1[0].conv == "c_1");
  // A visitor connecting later learns it at once.
  auto v2 = fx.connect();
  fx.hello(v2, w.token, "d_2");
  auto p2 = presence(v2);
  REQUIRE(p2.size() == 1);
  CHECK(p2[0].on);
  fx.svc->close_session(console, fx.now);
  auto p3 = presence(v);
  REQUIRE(p3.size() == 1);
  CHECK_FALSE(p3[0].on);
}
