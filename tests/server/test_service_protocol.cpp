// Protocol v1 as the reference server speaks it (server/src/service.cpp), on a real SQLite
// file. The conformance tier checks the same over the network against the running binary.
#include <catch2/catch.hpp>

#include <set>

#include "service_fixture.hpp"

using namespace parley;
using namespace parley::server;
using namespace parley::server::test;

TEST_CASE("anonymous hello is idempotent per device", "[service][hello]") {
  Fixture fx;
  auto a = fx.connect();
  auto w1 = fx.hello(a, "", "d_1");
  auto w2 = fx.hello(fx.connect(), "", "d_1");
  auto w3 = fx.hello(fx.connect(), "", "d_2");
  CHECK(w1.user == w2.user);
  CHECK(w1.user != w3.user);
  CHECK(w1.token.rfind("pv1.", 0) == 0);
  // The token identifies the same visitor on a new connection.
  CHECK(fx.hello(fx.connect(), w1.token, "d_9").user == w1.user);
}

TEST_CASE("frames before hello are refused with an auth error", "[service][auth]") {
  Fixture fx;
  auto s = fx.connect();
  protocol::Send send;
  send.req = "r1";
  send.conv = "c_1";
  send.cid = "k_1";
  auto out = fx.frame(s, send);
  REQUIRE(out.size() == 1);
  const auto& e = as<protocol::ErrorFrame>(out[0]);
  CHECK(e.req == "r1");
  CHECK(e.error.code == ErrorCode::Unauthorized);
  CHECK(e.error.recoverability == Recoverability::Auth);
}

TEST_CASE("a bad token is unauthorized with recoverability auth", "[service][auth]") {
  Fixture fx;
  for (std::string token : {"garbage", "pv1.e30.AAAA", "a.b.c"}) {
    protocol::Hello h;
    h.token = token;
    h.device = "d_1";
    auto out = fx.frame(fx.connect(), h);
    REQUIRE(out.size() == 1);
    CHECK(as<protocol::ErrorFrame>(out[0]).error.code == ErrorCode::Unauthorized);
    CHECK(as<protocol::ErrorFrame>(out[0]).error.recoverability == Recoverability::Auth);
  }
}

TEST_CASE("G2: a send is stored once per (user, cid), forever, and acked identically",
          "[service][G2]") {
  Fixture fx;
  auto s = fx.connect();
  auto w = fx.hello(s);
  auto a1 = fx.send(s, "c_1", "k_1", "hello", "r1");
  CHECK(a1.req == "r1");
  CHECK(a1.seq == 1);
  CHECK(a1.ts == fx.now);
  fx.now += 1000;
  auto a2 = fx.send(s, "c_1", "k_1", "hello", "r2");
  CHECK(a2.req == "r2");
  CHECK(std::tie(a2.id, a2.seq, a2.ts, a2.conv) == std::tie(a1.id, a1.seq, a1.ts, a1.conv));

  // After a restart (nothing in memory) the same cid is still known.
  fx.reopen();
  fx.now += 1000;
  auto s2 = fx.connect();
  fx.hello(s2, w.token);
  auto a3 = fx.send(s2, "c_1", "k_1", "hello", "r3");
  CHECK(std::tie(a3.id, a3.seq, a3.ts) == std::tie(a1.id, a1.seq, a1.ts));
  auto page = fx.history(s2, "c_1", 0, -1, 50);
  CHECK(page.messages.size() == 1);
  CHECK(page.complete);
}

TEST_CASE("a failed transaction stores nothing and acks nothing; the retry is clean",
          "[service][G2][G5]") {
  Fixture fx;
  auto s = fx.connect();
  fx.hello(s);
  // A trigger makes the event insert fail inside the send's transaction.
  fx.db->exec(
      "CREATE TRIGGER fail_events BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'boom'); "
      "END");
  protocol::Send send;
  send.req = "r1";
  send.conv = "c_1";
  send.cid = "k_1";
  send.body.text = "hi";
  auto out = fx.frame(s, send);
  REQUIRE(out.size() == 1);
  const auto& e = as<protocol::ErrorFrame>(out[0]);
  CHECK(e.error.code == ErrorCode::ServerError);
  CHECK(e.error.recoverability == Recoverability::Recoverable);
  CHECK(e.req == "r1");
  auto& q = fx.db->prepare(
      "SELECT (SELECT COUNT(*) FROM messages) + (SELECT COUNT(*) FROM "
      "conversations)");
  REQUIRE(q.step());
  CHECK(q.i64(0) == 0);  // the message, its conversation and its seq rolled back together
  q.reset();
  fx.db->exec("DROP TRIGGER fail_events");
  auto ack = fx.send(s, "c_1", "k_1", "hi", "r2");
  CHECK(ack.seq == 1);
}

TEST_CASE("seqs ascend per conversation and cursors chain without gaps in the pull",
          "[service][G5]") {
  Fixture fx;
  auto s = fx.connect();
  fx.hello(s);
  for (int i = 0; i < 30; ++i) {
    auto a = fx.send(s, i % 2 ? "c_b" : "c_a", "k_" + std::to_string(i), "m" + std::to_string(i));
    CHECK(a.seq == i / 2 + 1);
    fx.now += 10;
  }
  auto events = fx.sync_all(s);
  std::set<Cursor> cursors;
  Cursor last = 0;
  int messages = 0;
  for (const auto& e : events) {
    CHECK(e.cursor > last);
    last = e.cursor;
    cursors.insert(e.cursor);
    if (e.kind == protocol::EventKind::Message) ++messages;
  }
  CHECK(messages == 30);
  CHECK(cursors.size() == events.size());
}

TEST_CASE("live sessions get pushed events chained by from; other users get nothing",
          "[service][push]") {
  Fixture fx;
  auto a = fx.connect();
  auto w = fx.hello(a);
  auto a2 = fx.connect();  // the same visitor on a second device
  fx.hello(a2, w.token, "d_2");
  auto b = fx.connect();
  fx.hello(b, "", "d_other");
  fx.svc->take_pushes();
  fx.send(a, "c_1", "k_1", "one");
  auto p = fx.pushes(a2);
  REQUIRE(p.size() == 1);
  const auto& ev = as<protocol::Events>(p[0]);
  CHECK(ev.from == w.cursor);
  bool has_message = false;
  for (const auto& e : ev.events) has_message |= e.kind == protocol::EventKind::Message;
  CHECK(has_message);
  fx.send(a, "c_1", "k_2", "two");
  auto all = fx.svc->take_pushes();
  for (const auto& push : all) CHECK(push.sid != b);
}

TEST_CASE("history pages back from the newest and forward from a bound", "[service][paging]") {
  Fixture fx;
  auto s = fx.connect();
  fx.hello(s);
  for (int i = 1; i <= 25; ++i) fx.send(s, "c_1", "k_" + std::to_string(i), std::to_string(i));
  // Back from the newest, 10 at a time.
  std::vector<Seq> seen;
  Seq before = 0;
  for (int round = 0; round < 10; ++round) {
    auto p = fx.history(s, "c_1", before, -1, 10);
    for (auto it = p.messages.rbegin(); it != p.messages.rend(); ++it) seen.push_back(it->seq);
    if (p.complete) break;
    CHECK(p.next == p.messages.front().seq);
    before = p.next;
  }
  REQUIRE(seen.size() == 25);
  for (std::size_t i = 0; i < seen.size(); ++i) CHECK(seen[i] == static_cast<Seq>(25 - i));
  // Forward backfill of a range (a gap 5..12): after 4, before 13.
  auto p = fx.history(s, "c_1", 13, 4, 5);
  REQUIRE(p.messages.size() == 5);
  CHECK(p.messages.front().seq == 5);
  CHECK_FALSE(p.complete);
  CHECK(p.next == 9);
  auto rest = fx.history(s, "c_1", 13, p.next, 5);
  REQUIRE(rest.messages.size() == 3);
  CHECK(rest.messages.back().seq == 12);
  CHECK(rest.complete);
  // Another visitor cannot read it.
  auto other = fx.connect();
  fx.hello(other, "", "d_x");
  protocol::History h{"h", "c_1", 0, -1, 10};
  auto out = fx.frame(other, h);
  CHECK(as<protocol::ErrorFrame>(out[0]).error.code == ErrorCode::NotFound);
}

TEST_CASE("a conversation id that belongs to another visitor is forbidden", "[service]") {
  Fixture fx;
  auto a = fx.connect();
  fx.hello(a, "", "d_a");
  fx.send(a, "c_1", "k_1", "mine");
  auto b = fx.connect();
  fx.hello(b, "", "d_b");
  protocol::Send s{"r", "c_1", "k_2", {}};
  auto out = fx.frame(b, s);
  CHECK(as<protocol::ErrorFrame>(out[0]).error.code == ErrorCode::Forbidden);
}

TEST_CASE("G6: read markers only move forward", "[service][G6]") {
  Fixture fx;
  auto s = fx.connect();
  fx.hello(s);
  for (int i = 1; i <= 3; ++i) fx.send(s, "c_1", "k_" + std::to_string(i), "x");
  auto before = fx.sync_all(s).size();
  fx.frame(s, protocol::MarkRead{"c_1", 2});
  fx.frame(s, protocol::MarkRead{"c_1", 1});   // backwards: ignored
  fx.frame(s, protocol::MarkRead{"c_1", 2});   // same: ignored
  fx.frame(s, protocol::MarkRead{"c_1", 99});  // beyond the end: clamped to 3
  auto events = fx.sync_all(s);
  std::vector<Seq> reads;
  for (std::size_t i = before; i < events.size(); ++i) {
    if (events[i].kind == protocol::EventKind::Read) reads.push_back(events[i].seq);
  }
  CHECK(reads == std::vector<Seq>{2, 3});
}

TEST_CASE("malformed frames get typed errors; the session and the data survive",
          "[service][errors]") {
  Fixture fx;
  auto s = fx.connect();
  fx.hello(s);
  auto ack = fx.send(s, "c_1", "k_1", "keep me");
  struct Case {
    std::string text;
    ErrorCode code;
  };
  std::vector<Case> cases = {
      {"not json", ErrorCode::MalformedFrame},
      {"[1,2]", ErrorCode::MalformedFrame},
      {R"({"req":"r"})", ErrorCode::MissingField},
      {R"({"type":"bogus"})", ErrorCode::UnknownFrameType},
      {R"({"type":"send","req":"r1","conv":"c_1","body":{"text":"hi"}})", ErrorCode::MissingField},
      {R"({"type":"read","conv":"c","seq":-1})", ErrorCode::InvalidField},
      {R"({"type":"send","req":"r","conv":"c_1","cid":"k_9","body":{"text":")" +
           std::string(8193, 'x') + "\"}}",
       ErrorCode::MessageTooLong},
      {std::string(300 * 1024, ' '), ErrorCode::FrameTooLarge},
  };
  for (const auto& c : cases) {
    auto out = fx.raw(s, c.text);
    REQUIRE(out.size() == 1);
    INFO(c.text.substr(0, 80));
    CHECK(as<protocol::ErrorFrame>(out[0]).error.code == c.code);
  }
  // The request id is echoed when the frame has one.
  auto out = fx.raw(s, R"({"type":"send","req":"r1","conv":"c_1","body":{"text":"hi"}})");
  CHECK(as<protocol::ErrorFrame>(out[0]).req == "r1");
  auto pong = fx.frame(s, protocol::Ping{"p1"});
  CHECK(as<protocol::Pong>(pong[0]).req == "p1");
  auto page = fx.history(s, "c_1", 0, -1, 10);
  REQUIRE(page.messages.size() == 1);
  CHECK(page.messages[0].id == ack.id);
}

TEST_CASE("a connection over its rate is told rate_limited, recoverable", "[service][limits]") {
  auto cfg = ServerConfig::defaults();
  cfg.limits.frames_per_second = 5;
  cfg.limits.burst = 5;
  Fixture fx(cfg);
  auto s = fx.connect();
  int limited = 0;
  for (int i = 0; i < 8; ++i) {
    auto out = fx.frame(s, protocol::Ping{"p" + std::to_string(i)});
    if (auto* e = std::get_if<protocol::ErrorFrame>(&out[0])) {
      CHECK(e->error.code == ErrorCode::RateLimited);
      CHECK(e->error.recoverability == Recoverability::Recoverable);
      CHECK(e->req == "p" + std::to_string(i));  // tied to the refused request
      ++limited;
    }
  }
  CHECK(limited == 3);
  fx.now += 1000;  // the bucket refills
  CHECK(std::holds_alternative<protocol::Pong>(fx.frame(s, protocol::Ping{"later"})[0]));
}

TEST_CASE("G5: beyond the catch-up horizon sync answers reset", "[service][G5]") {
  auto cfg = Fixture::no_bot();
  cfg.event_horizon_ms = 60'000;
  Fixture fx(cfg);
  auto s = fx.connect();
  auto w = fx.hello(s);
  fx.send(s, "c_1", "k_1", "old");
  fx.now += 120'000;
  fx.svc->tick(fx.now);
  fx.send(s, "c_1", "k_2", "new");
  protocol::Sync sync{"s", 0, 100};
  auto out = fx.frame(s, sync);
  const auto& reset = as<protocol::Reset>(out[0]);
  REQUIRE(reset.conversations.size() == 1);
  CHECK(reset.conversations[0].last_seq == 2);
  // From the reset's cursor the chain continues normally.
  auto after = fx.sync_all(s, reset.cursor);
  CHECK(after.empty());
  (void)w;
}

TEST_CASE("a hello with a cursor ahead of the server gets a reset after the welcome",
          "[service][G5]") {
  Fixture fx;
  auto s = fx.connect();
  auto w = fx.hello(s);
  fx.send(s, "c_1", "k_1", "x");
  protocol::Hello h;
  h.token = w.token;
  h.cursor = 10'000;
  h.device = "d_1";
  auto out = fx.frame(fx.connect(), h);
  REQUIRE(out.size() == 2);
  CHECK(std::holds_alternative<protocol::Welcome>(out[0]));
  CHECK(std::holds_alternative<protocol::Reset>(out[1]));
}

TEST_CASE("attachments: bytes first, then an idempotent upload ack with the file's url",
          "[service][upload]") {
  Fixture fx;
  auto s = fx.connect();
  fx.hello(s);
  protocol::Upload up;
  up.req = "u1";
  up.conv = "c_1";
  up.cid = "a_1";
  up.attachment = Attachment{"a_1", "photo.png", "image/png", 4, "", ""};
  // Before the bytes: recoverable, so the client retries with backoff.
  auto early = fx.frame(s, up);
  const auto& e = as<protocol::ErrorFrame>(early[0]);
  CHECK(e.error.code == ErrorCode::NotFound);
  CHECK(e.error.recoverability == Recoverability::Recoverable);
  CHECK(fx.svc->put_file(s, "a_1", "image/png", "\x89PNG", fx.now).status == 201);
  CHECK(fx.svc->put_file(s, "a_1", "image/png", "\x89PNG", fx.now).status == 200);  // again
  auto ack1 = as<protocol::Ack>(fx.frame(s, up)[0]);
  fx.now += 5000;
  auto ack2 = as<protocol::Ack>(fx.frame(s, up)[0]);
  // A signed URL: it works where no Authorization header can go (<img src>, <a href>).
  REQUIRE(ack1.url.rfind("/v1/files/a_1?sig=", 0) == 0);
  const std::string sig = ack1.url.substr(ack1.url.find("sig=") + 4);
  CHECK(std::holds_alternative<Service::File>(fx.svc->get_file(0, nullptr, "a_1", sig)));
  CHECK(std::get<HttpResult>(fx.svc->get_file(0, nullptr, "a_1", "forged")).status == 401);
  CHECK(std::get<HttpResult>(fx.svc->get_file(0, nullptr, "a_1", sig + "x")).status == 401);
  CHECK(std::get<HttpResult>(fx.svc->get_file(0, nullptr, "a_1")).status == 401);
  CHECK(std::tie(ack1.url, ack1.ts) == std::tie(ack2.url, ack2.ts));
  // The uploader and agents can read it; another visitor cannot.
  auto mine = fx.svc->get_file(s, nullptr, "a_1");
  REQUIRE(std::holds_alternative<Service::File>(mine));
  CHECK(std::get<Service::File>(mine).data == "\x89PNG");
  CHECK(std::holds_alternative<Service::File>(fx.svc->get_file(0, &fx.agent(), "a_1")));
  auto other = fx.connect();
  fx.hello(other, "", "d_other");
  CHECK(std::get<HttpResult>(fx.svc->get_file(other, nullptr, "a_1")).status == 404);
  CHECK(fx.svc->put_file(other, "a_1", "image/png", "\x89PNG", fx.now).status == 403);
  // A file's signature opens that file only.
  CHECK(fx.svc->put_file(other, "a_2", "image/png", "\x89PNG", fx.now).status == 201);
  CHECK(std::get<HttpResult>(fx.svc->get_file(0, nullptr, "a_2", sig)).status == 401);
}

TEST_CASE("attachments: size, type and id limits are typed errors", "[service][upload]") {
  Fixture fx;
  auto s = fx.connect();
  fx.hello(s);
  auto code = [](const HttpResult& r) { return Json::parse(r.body)["code"].get<std::string>(); };
  auto html = fx.svc->put_file(s, "a_1", "text/html", "<script>alert(1)</script>", fx.now);
  CHECK(html.status == 415);
  CHECK(code(html) == "invalid_field");
  auto big =
      fx.svc->put_file(s, "a_2", "image/png", std::string(Service::kMaxFileBytes + 1, 'x'), fx.now);
  CHECK(big.status == 413);
  CHECK(code(big) == "frame_too_large");
  CHECK(fx.svc->put_file(s, "../etc", "image/png", "x", fx.now).status == 400);
  CHECK(fx.svc->put_file(s, "a_3", "text/plain; charset=utf-8", "ok", fx.now).status == 201);
  auto anon = fx.connect(/*app=*/"", /*live=*/false);
  CHECK(fx.svc->put_file(anon, "a_4", "text/plain", "x", fx.now).status == 401);
  // A size that does not match the upload frame is a conflict.
  protocol::Upload up;
  up.req = "u";
  up.conv = "c_1";
  up.cid = "a_3";
  up.attachment = Attachment{"a_3", "n.txt", "text/plain", 99, "", ""};
  CHECK(as<protocol::ErrorFrame>(fx.frame(s, up)[0]).error.code == ErrorCode::Conflict);
}
