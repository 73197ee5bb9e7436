// Demo controls (parley_server --demo): the style switch, business hours, reset, and the
// agent directory used by the console's "hand off to another agent".
#include "auth.hpp"
#include "service_fixture.hpp"

using namespace parley;
using namespace parley::server;
using namespace parley::server::test;

namespace {
Json state_of(Fixture& fx, const HttpResult& r) {
  return fx.agent_json(r, 200);
}
}  // namespace

TEST_CASE("a conversation keeps the style it was created under when the app's style changes",
          "[service][demo][lifecycle]") {
  Fixture fx(config_with_style("live_chat"));
  auto s = fx.connect("app");
  fx.hello(s);
  fx.send(s, "c_live", "k_1", "hello");
  auto st = state_of(fx, fx.svc->demo_configure("app", R"({"style":"social_messaging"})", fx.now));
  CHECK(st["style"] == "social_messaging");
  fx.send(s, "c_social", "k_2", "hello again");

  // The live-chat conversation still follows live chat: solved closes it at once.
  auto live = fx.agent_json(
      fx.svc->agent_status(fx.agent(), "c_live", R"({"status":"solved"})", fx.now), 200);
  CHECK(live["status"] == "closed");
  CHECK(fx.agent_json(fx.svc->agent_get(fx.agent(), "c_live", fx.now), 200)["style"] ==
        "live_chat");
  // The new one follows social messaging: solved stays solved (closed days later).
  auto social = fx.agent_json(
      fx.svc->agent_status(fx.agent(), "c_social", R"({"status":"solved"})", fx.now), 200);
  CHECK(social["status"] == "solved");
  CHECK(fx.agent_json(fx.svc->agent_get(fx.agent(), "c_social", fx.now), 200)["style"] ==
        "social_messaging");
}

TEST_CASE("demo business hours: open, closed until the next weekday 09:00, or none",
          "[service][demo][hours]") {
  Fixture fx;
  auto st = state_of(fx, fx.svc->demo_state("", fx.now));
  CHECK(st["hours"] == "none");
  CHECK_FALSE(st.contains("availability"));

  st = state_of(fx, fx.svc->demo_configure("", R"({"hours":"closed"})", fx.now));
  CHECK(st["hours"] == "closed");
  CHECK(st["availability"]["open"] == false);
  // fx.now is Tuesday 2023-11-14 22:13:20 UTC: today is a holiday, so back Wednesday 09:00.
  CHECK(st["availability"]["next_change"] == 1'700'038'800'000);
  auto s = fx.connect();
  CHECK(fx.hello(s).availability.has_value());
  CHECK_FALSE(fx.hello(s).availability->open);

  st = state_of(fx, fx.svc->demo_configure("", R"({"hours":"open"})", fx.now));
  CHECK(st["availability"]["open"] == true);
  st = state_of(fx, fx.svc->demo_configure("", R"({"hours":"none"})", fx.now));
  CHECK_FALSE(st.contains("availability"));
}

TEST_CASE("demo settings reject bad input with typed errors and change nothing",
          "[service][demo][errors]") {
  Fixture fx;
  auto code = [](const HttpResult& r) { return Json::parse(r.body)["code"].get<std::string>(); };
  CHECK(code(fx.svc->demo_configure("", "nope", fx.now)) == "malformed_frame");
  CHECK(code(fx.svc->demo_configure("", R"({"style":"chatty"})", fx.now)) == "invalid_field");
  CHECK(code(fx.svc->demo_configure("", R"({"style":"live_chat","hours":"sometimes"})", fx.now)) ==
        "invalid_field");
  CHECK(fx.svc->demo_configure("nope", "{}", fx.now).status == 404);
  auto st = state_of(fx, fx.svc->demo_state("", fx.now));
  CHECK(st["style"] == "social_messaging");
  CHECK(st["hours"] == "none");
}

TEST_CASE("demo reset deletes every conversation and visitor", "[service][demo]") {
  Fixture fx;
  auto s = fx.connect();
  auto w = fx.hello(s);
  fx.send(s, "c_1", "k_1", "hi");
  REQUIRE(fx.agent_json(fx.svc->agent_list(fx.agent(), "", fx.now), 200)["conversations"].size() ==
          1);
  fx.svc->close_session(s, fx.now);
  fx.svc->demo_reset();
  CHECK(fx.agent_json(fx.svc->agent_list(fx.agent(), "", fx.now), 200)["conversations"].empty());
  CHECK(fx.svc->agent_get(fx.agent(), "c_1", fx.now).status == 404);
  // The old visitor is gone: its token is refused, and a new visitor starts from nothing.
  auto s2 = fx.connect();
  protocol::Hello again;
  again.token = w.token;
  again.device = "d_1";
  auto out = fx.frame(s2, again);
  REQUIRE(out.size() == 1);
  CHECK(as<protocol::ErrorFrame>(out[0]).error.code == ErrorCode::Unauthorized);
  auto s3 = fx.connect();
  auto fresh = fx.hello(s3);
  CHECK(fresh.user != w.user);
  CHECK(fx.sync_all(s3).empty());
}

TEST_CASE("the agent directory lists every agent with its presence", "[service][agent]") {
  auto cfg = Fixture::no_bot();
  cfg.agents.push_back({"ag_alan", "Alan", "alan-token"});
  Fixture fx(cfg);
  auto list = fx.agent_json(fx.svc->agent_directory(), 200)["agents"];
  REQUIRE(list.size() == 2);
  CHECK(list[1]["id"] == "ag_alan");
  CHECK(list[1]["name"] == "Alan");
  CHECK(list[1]["present"] == false);
  REQUIRE(fx.svc->open_agent_session(100, "", cfg.agents[1]));
  list = fx.agent_json(fx.svc->agent_directory(), 200)["agents"];
  CHECK(list[0]["present"] == false);
  CHECK(list[1]["present"] == true);
}

TEST_CASE("the conversation summary names a signed-in customer", "[service][agent]") {
  Fixture fx;
  const auto& app = fx.cfg.apps.front();
  const std::string jwt = sign_jwt_hs256(app.jwt_secret, Json{{"sub", "alex"},
                                                              {"name", "Alex Morgan"},
                                                              {"aud", app.jwt_audience},
                                                              {"exp", fx.now / 1000 + 3600}});
  auto s = fx.connect();
  fx.hello(s, jwt);
  fx.send(s, "c_1", "k_1", "hi");
  CHECK(fx.agent_json(fx.svc->agent_get(fx.agent(), "c_1", fx.now), 200)["user_name"] ==
        "Alex Morgan");
  auto anon = fx.connect();
  fx.hello(anon, "", "d_2");
  fx.send(anon, "c_2", "k_2", "hi");
  CHECK(fx.agent_json(fx.svc->agent_get(fx.agent(), "c_2", fx.now), 200)["user_name"] == "");
}

TEST_CASE("live chat: a survey may follow the close, and its answer starts no new ticket",
          "[service][lifecycle][csat]") {
  Fixture fx(config_with_style("live_chat"));
  auto s = fx.connect("app");
  fx.hello(s);
  fx.send(s, "c_1", "k_1", "hello");
  CHECK(fx.agent_json(fx.svc->agent_status(fx.agent(), "c_1", R"({"status":"solved"})", fx.now),
                      200)["status"] == "closed");
  // Another message is refused after the close; the survey is not.
  CHECK(fx.svc->agent_post(fx.agent(), "c_1", R"({"text":"one more thing"})", fx.now).status ==
        409);
  fx.agent_json(fx.svc->agent_post(
                    fx.agent(), "c_1",
                    R"({"text":"How did we do?","rich":"csat","payload":{"scale":5}})", fx.now),
                201);
  protocol::Send rate;
  rate.req = "r";
  rate.conv = "c_1";
  rate.cid = "k_rate";
  rate.body.text = "5";
  rate.body.event = Json{{"type", "csat"}, {"score", 5}, {"scale", 5}};
  auto out = fx.frame(s, rate);
  REQUIRE(out.size() == 1);
  CHECK(as<protocol::Ack>(out[0]).cid == "k_rate");
  auto summary = fx.agent_json(fx.svc->agent_get(fx.agent(), "c_1", fx.now), 200);
  CHECK(summary["status"] == "closed");
  CHECK(summary["ticket"] == 1);
  // A question after the rating does start the next ticket.
  fx.send(s, "c_1", "k_2", "actually, one more question");
  CHECK(fx.agent_json(fx.svc->agent_get(fx.agent(), "c_1", fx.now), 200)["ticket"] == 2);
}

TEST_CASE("demo login signs a JWT the app accepts; the visitor's conversations merge into it",
          "[service][demo][identity]") {
  Fixture fx;
  auto s = fx.connect();
  auto anon = fx.hello(s);
  fx.send(s, "c_1", "k_1", "hi, before signing in");
  auto r =
      fx.agent_json(fx.svc->demo_login("", R"({"sub":"alex","name":"Alex Morgan"})", fx.now), 200);
  const std::string jwt = r["token"];
  auto s2 = fx.connect();
  auto w = fx.hello(s2, jwt, "d_1", 0, anon.token);
  CHECK(w.user != anon.user);
  auto summary = fx.agent_json(fx.svc->agent_get(fx.agent(), "c_1", fx.now), 200);
  CHECK(summary["user"] == w.user);
  CHECK(summary["user_name"] == "Alex Morgan");
  CHECK(fx.svc->demo_login("", R"({"name":"no sub"})", fx.now).status == 400);
  CHECK(fx.svc->demo_login("", "nope", fx.now).status == 400);
  CHECK(fx.svc->demo_login("other", R"({"sub":"a"})", fx.now).status == 404);
}
