// Protocol v1 codec: round trips for every frame, one test per error class, the rich payload
// rules, the documented examples, and seeded random mutations that must never crash.
#include <catch2/catch.hpp>

#include <cstddef>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "parley/protocol.hpp"

using namespace parley;
using namespace parley::protocol;

namespace {

// ------------------------------------------------------------ field-wise equality
#define PARLEY_SAME(T, ...)                                         \
  bool same(const T& a, const T& b) {                               \
    auto fields = [](const T& x) { return std::tie(__VA_ARGS__); }; \
    return fields(a) == fields(b);                                  \
  }
PARLEY_SAME(Hello, x.version, x.token, x.cursor, x.device, x.resume_token, x.merge_token)
PARLEY_SAME(Send, x.req, x.conv, x.cid, x.body)
PARLEY_SAME(Upload, x.req, x.conv, x.cid, x.attachment)
PARLEY_SAME(History, x.req, x.conv, x.before, x.after, x.limit)
PARLEY_SAME(Sync, x.req, x.after, x.limit)
PARLEY_SAME(MarkRead, x.conv, x.seq)
PARLEY_SAME(Typing, x.conv, x.on)
PARLEY_SAME(HandoffRequest, x.req, x.conv, x.channel, x.address)
PARLEY_SAME(Engagement, x.level, x.reply_latency_ms, x.present)
PARLEY_SAME(Ping, x.req)
PARLEY_SAME(Welcome, x.version, x.user, x.token, x.cursor, x.server_time, x.availability)
PARLEY_SAME(Ack, x.req, x.cid, x.conv, x.id, x.seq, x.ts, x.url)
PARLEY_SAME(ErrorFrame, x.req, x.error)
PARLEY_SAME(Event, x.kind, x.cursor, x.conv, x.message, x.reader, x.delivered_only, x.seq, x.status,
            x.ticket, x.style, x.owner, x.channels, x.resume_token, x.subject, x.last_seq, x.gap)
PARLEY_SAME(Page, x.req, x.conv, x.messages, x.complete, x.next)
PARLEY_SAME(Signal, x.conv, x.kind, x.who, x.on)
PARLEY_SAME(Pong, x.req, x.server_time)
#undef PARLEY_SAME

bool same(const std::vector<Event>& a, const std::vector<Event>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!same(a[i], b[i])) return false;
  }
  return true;
}
bool same(const Events& a, const Events& b) {
  return std::tie(a.req, a.from, a.cursor, a.more) == std::tie(b.req, b.from, b.cursor, b.more) &&
         same(a.events, b.events);
}
bool same(const Reset& a, const Reset& b) {
  return a.cursor == b.cursor && same(a.conversations, b.conversations);
}

// decode(encode(x)) must give back x, field for field.
template <class F>
void client_round_trip(const F& f) {
  const std::string text = encode(ClientFrame{f});
  INFO(text);
  const auto d = decode_client(text);
  if (!d.ok()) INFO(d.error().message);
  REQUIRE(d.ok());
  const F* back = std::get_if<F>(&d.frame());
  REQUIRE(back != nullptr);
  CHECK(same(*back, f));
  CHECK(encode(ClientFrame{*back}) == text);
}
template <class F>
void server_round_trip(const F& f) {
  const std::string text = encode(ServerFrame{f});
  INFO(text);
  const auto d = decode_server(text);
  if (!d.ok()) INFO(d.error().message);
  REQUIRE(d.ok());
  const F* back = std::get_if<F>(&d.frame());
  REQUIRE(back != nullptr);
  CHECK(same(*back, f));
  CHECK(encode(ServerFrame{*back}) == text);
}

Error client_error(const std::string& text) {
  INFO(text);
  const auto d = decode_client(text);
  REQUIRE_FALSE(d.ok());
  return d.error();
}
Error server_error(const std::string& text) {
  INFO(text);
  const auto d = decode_server(text);
  REQUIRE_FALSE(d.ok());
  return d.error();
}
ErrorCode client_code(const std::string& text) {
  return client_error(text).code;
}
ErrorCode server_code(const std::string& text) {
  return server_error(text).code;
}

// ------------------------------------------------------------ sample values
Json payload_for(RichKind k) {
  switch (k) {
    case RichKind::QuickReplies:
      return Json::parse(
          R"({"options":[{"id":"yes","label":"Yes"},{"id":"no","label":"No","value":"n"}]})");
    case RichKind::Buttons:
      return Json::parse(
          R"({"options":[{"id":"docs","label":"Read the docs","url":"https://example.com/d"}]})");
    case RichKind::Carousel:
      return Json::parse(R"({"items":[{"title":"Plan A","subtitle":"$10/month",
          "image":"https://example.com/a.png","buttons":[{"id":"a","label":"Choose"}]},
          {"title":"Plan B"}]})");
    case RichKind::Form:
      return Json::parse(R"({"fields":[
          {"name":"email","label":"E-mail","type":"email","required":true},
          {"name":"size","label":"Size","type":"select","options":["S","M","L"]}]})");
    case RichKind::Csat:
      return Json::parse(R"({"scale":5,"question":"How did we do?"})");
    case RichKind::None:
      break;
  }
  return Json();
}

Attachment sample_attachment(int i) {
  Attachment a;
  a.id = "a_" + std::to_string(i);
  a.name = "photo " + std::to_string(i) + ".png";
  a.mime = "image/png";
  a.size = 1000 + i;
  if (i % 2 == 0)
    a.url = "https://files.example.com/" + a.id;
  else
    a.blob_ref = "blob:" + a.id;
  return a;
}

Message sample_message(const std::string& conv, Seq seq, RichKind rich = RichKind::None) {
  Message m;
  m.conv = conv;
  m.seq = seq;
  m.id = "m_" + std::to_string(seq);
  m.cid = seq % 2 == 0 ? "k_" + std::to_string(seq) : "";
  m.ticket = 2;
  m.ts = 1700000000000 + seq;
  m.author = Participant{seq % 2 == 0 ? Role::Visitor : Role::Agent, "u_1", "Ada Lovelace"};
  m.body.text = "hello \xC3\xA9t\xC3\xA9 #" + std::to_string(seq);
  m.body.rich = rich;
  m.body.payload = payload_for(rich);
  if (seq == 3) m.body.attachments = {sample_attachment(1), sample_attachment(2)};
  if (seq == 4) {
    m.edited_ts = 1700000000999;
    m.deleted = true;
  }
  return m;
}

ControlOwner agent_owner() {
  ControlOwner o;
  o.kind = ControlOwner::Kind::Agent;
  o.agent_id = "ag_7";
  o.agent_name = "Grace";
  return o;
}

std::vector<ChannelBinding> sample_channels() {
  return {ChannelBinding{Channel::Web, "", false, 1700000000000},
          ChannelBinding{Channel::Sms, "+15551234567", true, 1700000005000}};
}

Event conversation_event(const std::string& conv, Cursor cursor) {
  Event e;
  e.kind = EventKind::Conversation;
  e.cursor = cursor;
  e.conv = conv;
  e.status = Status::Pending;
  e.ticket = 3;
  e.style = ConversationalStyle::LiveChatReturning;
  e.owner = ControlOwner{ControlOwner::Kind::Queue, "", "", 4};
  e.channels = sample_channels();
  e.subject = "Order #123";
  e.last_seq = 42;
  return e;
}

std::vector<Event> all_event_kinds() {
  std::vector<Event> out;
  Event m;
  m.kind = EventKind::Message;
  m.cursor = 11;
  m.conv = "c_1";
  m.message = sample_message("c_1", 5, RichKind::QuickReplies);
  out.push_back(m);

  Event u = m;
  u.kind = EventKind::MessageUpdated;
  u.cursor = 12;
  u.message = sample_message("c_1", 4);
  out.push_back(u);

  Event r;
  r.kind = EventKind::Read;
  r.cursor = 13;
  r.conv = "c_1";
  r.reader = Role::Agent;
  r.seq = 5;
  r.delivered_only = true;
  out.push_back(r);

  Event s;
  s.kind = EventKind::Status;
  s.cursor = 14;
  s.conv = "c_1";
  s.status = Status::Solved;
  s.ticket = 2;
  out.push_back(s);

  Event h;
  h.kind = EventKind::Handoff;
  h.cursor = 15;
  h.conv = "c_1";
  h.message = sample_message("c_1", 6);
  h.message.author = Participant{Role::System, "", ""};
  h.message.body.text.clear();
  h.message.body.event = Json::parse(R"({"type":"handoff","to":"sms"})");
  h.owner = agent_owner();
  h.channels = sample_channels();
  h.resume_token = "rt_abc";
  out.push_back(h);

  out.push_back(conversation_event("c_2", 16));

  Event g;
  g.kind = EventKind::Gap;
  g.cursor = 17;
  g.conv = "c_1";
  g.gap = Gap{7, 30};
  out.push_back(g);
  return out;
}

// Valid frames of every type, encoded (also the seeds of the mutation test).
std::vector<std::string> valid_client_frames() {
  Send send{"r1", "c_1", "k_1", sample_message("c_1", 3, RichKind::Form).body};
  return {
      encode(ClientFrame{Hello{1, "tok", 10, "d_1", "rt_1", "mt_1"}}),
      encode(ClientFrame{send}),
      encode(ClientFrame{Upload{"r2", "c_1", "a_1", sample_attachment(1)}}),
      encode(ClientFrame{History{"r3", "c_1", 40, 10, 50}}),
      encode(ClientFrame{Sync{"r4", 9, 500}}),
      encode(ClientFrame{MarkRead{"c_1", 7}}),
      encode(ClientFrame{Typing{"c_1", true}}),
      encode(ClientFrame{HandoffRequest{"r5", "c_1", Channel::Email, "ada@example.com"}}),
      encode(ClientFrame{Engagement{"medium", 4200, true}}),
      encode(ClientFrame{Ping{"r6"}}),
  };
}
std::vector<std::string> valid_server_frames() {
  Events ev{"r4", 10, 17, true, all_event_kinds()};
  Page page{"r3", "c_1", {}, false, 2};
  for (Seq s = 2; s <= 6; ++s) {
    page.messages.push_back(sample_message("c_1", s, static_cast<RichKind>(s % 6)));
  }
  return {
      encode(ServerFrame{Welcome{1, "u_1", "tok", 17, 1700000000000, std::nullopt}}),
      encode(ServerFrame{Ack{"r1", "k_1", "c_1", "m_9", 9, 1700000000001, ""}}),
      encode(ServerFrame{ErrorFrame{"r1", make_error(ErrorCode::RateLimited, "slow down")}}),
      encode(ServerFrame{ev}),
      encode(ServerFrame{page}),
      encode(
          ServerFrame{Reset{99, {conversation_event("c_1", 98), conversation_event("c_2", 99)}}}),
      encode(ServerFrame{Signal{"c_1", "typing", Participant{Role::Agent, "ag_7", "Grace"}, true}}),
      encode(ServerFrame{Pong{"r6", 1700000000002}}),
      encode(ServerFrame{Welcome{1, "u_1", "tok", 17, 1700000000000,
                                 hours::Availability{false, 97200000, 1700086400000}}}),
  };
}

std::string repeat(char c, std::size_t n) {
  return std::string(n, c);
}

}  // namespace

// =============================================================== enum strings
TEST_CASE("enum string forms round-trip", "[protocol][types]") {
  for (int i = 0; i <= static_cast<int>(ErrorCode::InvalidCommand); ++i) {
    const auto c = static_cast<ErrorCode>(i);
    REQUIRE_FALSE(to_string(c).empty());
    CHECK(error_code_from_string(to_string(c)) == c);
  }
  CHECK(to_string(ErrorCode::MalformedFrame) == "malformed_frame");
  CHECK(to_string(ErrorCode::UnsupportedVersion) == "unsupported_version");
  CHECK(to_string(ErrorCode::InvalidCommand) == "invalid_command");
  for (int i = 0; i <= static_cast<int>(Role::System); ++i) {
    CHECK(role_from_string(to_string(static_cast<Role>(i))) == static_cast<Role>(i));
  }
  for (int i = 0; i <= static_cast<int>(Channel::Device); ++i) {
    CHECK(channel_from_string(to_string(static_cast<Channel>(i))) == static_cast<Channel>(i));
  }
  for (int i = 0; i <= static_cast<int>(Status::Closed); ++i) {
    CHECK(status_from_string(to_string(static_cast<Status>(i))) == static_cast<Status>(i));
  }
  for (int i = 0; i <= static_cast<int>(ConversationalStyle::SocialMessaging); ++i) {
    const auto s = static_cast<ConversationalStyle>(i);
    CHECK(style_from_string(to_string(s)) == s);
  }
  for (int i = 0; i <= static_cast<int>(RichKind::Csat); ++i) {
    CHECK(rich_kind_from_string(to_string(static_cast<RichKind>(i))) == static_cast<RichKind>(i));
  }
  for (int i = 0; i <= static_cast<int>(ControlOwner::Kind::Agent); ++i) {
    const auto k = static_cast<ControlOwner::Kind>(i);
    CHECK(owner_kind_from_string(to_string(k)) == k);
  }
  CHECK(to_string(Channel::WhatsApp) == "whatsapp");
  CHECK(to_string(Status::OnHold) == "on_hold");
  CHECK(to_string(ConversationalStyle::LiveChatReturning) == "live_chat_returning");
  CHECK(to_string(MessageState::Delivered) == "delivered");
  CHECK(to_string(RichKind::QuickReplies) == "quick_replies");
  CHECK(to_string(EventKind::MessageUpdated) == "message_updated");
  CHECK(to_string(EventKind::Gap) == "gap");
  CHECK_FALSE(role_from_string("Visitor").has_value());
  CHECK_FALSE(channel_from_string("").has_value());
  CHECK_FALSE(error_code_from_string("timeout ").has_value());
}

TEST_CASE("default recoverability and make_error", "[protocol][types]") {
  using R = Recoverability;
  for (auto c : {ErrorCode::RateLimited, ErrorCode::ServerError, ErrorCode::Timeout,
                 ErrorCode::Disconnected, ErrorCode::StorageAborted, ErrorCode::StorageQuota}) {
    CHECK(default_recoverability(c) == R::Recoverable);
  }
  CHECK(default_recoverability(ErrorCode::Unauthorized) == R::Auth);
  for (auto c :
       {ErrorCode::MalformedFrame, ErrorCode::Forbidden, ErrorCode::NotFound, ErrorCode::Conflict,
        ErrorCode::StorageCorrupt, ErrorCode::InvalidCommand, ErrorCode::MessageTooLong}) {
    CHECK(default_recoverability(c) == R::Permanent);
  }
  const Error e = make_error(ErrorCode::Timeout, "no answer");
  CHECK(e.code == ErrorCode::Timeout);
  CHECK(e.recoverable());
  CHECK(e.message == "no answer");
}

// =============================================================== round trips
TEST_CASE("client frames round-trip field by field", "[protocol]") {
  SECTION("hello") {
    client_round_trip(Hello{1, "tok.abc", 123, "d_1", "rt_9", ""});
    client_round_trip(Hello{1, "", 0, "d_1", "", ""});
    client_round_trip(Hello{1, "tok.signed_in", 0, "d_1", "", "tok.anonymous"});
    client_round_trip(Hello{1, "tok", 5, "d_1", "rt_9", std::string(4096, 'm')});
  }
  SECTION("send with every rich kind") {
    for (int k = 0; k <= static_cast<int>(RichKind::Csat); ++k) {
      Body b = sample_message("c", 2, static_cast<RichKind>(k)).body;
      client_round_trip(Send{"r1", "c_1", "k_1", b});
    }
    Body b;
    b.attachments = {sample_attachment(1), sample_attachment(2), sample_attachment(3)};
    client_round_trip(Send{"r1", "c_1", "k_1", b});
    client_round_trip(Send{"r1", "c_1", "k_1", Body{}});
  }
  SECTION("upload") {
    client_round_trip(Upload{"r2", "c_1", "a_1", sample_attachment(1)});
  }
  SECTION("history") {
    client_round_trip(History{"r3", "c_1", 0, 0, 50});
    client_round_trip(History{"r3", "c_1", 100, 0, 200});
    client_round_trip(History{"r3", "c_1", 31, 6, 1});
  }
  SECTION("sync") {
    client_round_trip(Sync{"r4", 0, 500});
    client_round_trip(Sync{"r4", 77, 1});
  }
  SECTION("read") {
    client_round_trip(MarkRead{"c_1", 12});
  }
  SECTION("typing") {
    client_round_trip(Typing{"c_1", true});
    client_round_trip(Typing{"c_1", false});
  }
  SECTION("handoff") {
    for (int c = 0; c <= static_cast<int>(Channel::Device); ++c) {
      client_round_trip(HandoffRequest{"r5", "c_1", static_cast<Channel>(c), "+4415550000"});
    }
    client_round_trip(HandoffRequest{"r5", "c_1", Channel::Web, ""});
  }
  SECTION("engagement") {
    for (const char* level : {"high", "medium", "low", "away"}) {
      client_round_trip(Engagement{level, 3000, true});
    }
    client_round_trip(Engagement{"away", 0, false});
  }
  SECTION("ping") {
    client_round_trip(Ping{"r6"});
  }
}

TEST_CASE("server frames round-trip field by field", "[protocol]") {
  SECTION("welcome") {
    server_round_trip(Welcome{1, "u_1", "tok", 17, 1700000000000, std::nullopt});
    server_round_trip(
        Welcome{1, "u_1", "tok", 17, 1700000000000, hours::Availability{true, 7200000, 1}});
    server_round_trip(Welcome{1, "u_1", "tok", 17, 1700000000000,
                              hours::Availability{false, 97200000, 1700086400000}});
    // open with no change in sight; and an all-default availability is still present
    server_round_trip(Welcome{1, "u_1", "tok", 0, 0, hours::Availability{true, 7200000, 0}});
    server_round_trip(Welcome{1, "u_1", "tok", 0, 0, hours::Availability{}});
  }
  SECTION("ack") {
    server_round_trip(Ack{"r1", "k_1", "c_1", "m_9", 9, 1700000000001, ""});
    server_round_trip(Ack{"r2", "a_1", "c_1", "", 0, 5, "https://files.example.com/a_1"});
    server_round_trip(Ack{"r5", "", "c_1", "", 0, 5, ""});
  }
  SECTION("error") {
    server_round_trip(ErrorFrame{"r1", make_error(ErrorCode::RateLimited, "slow down")});
    server_round_trip(ErrorFrame{"", make_error(ErrorCode::Unauthorized, "")});
    // The wire's recoverability wins over the code's default.
    server_round_trip(
        ErrorFrame{"r2", Error{ErrorCode::NotFound, Recoverability::Recoverable, "not yet"}});
  }
  SECTION("events of every kind") {
    server_round_trip(Events{"", 10, 17, false, all_event_kinds()});
    server_round_trip(Events{"r4", 10, 20, true, all_event_kinds()});
    server_round_trip(Events{"", 5, 5, false, {}});
  }
  SECTION("page") {
    Page p{"r3", "c_1", {}, true, 0};
    server_round_trip(p);
    for (Seq s = 1; s <= 6; ++s) {
      p.messages.push_back(sample_message("c_1", s, static_cast<RichKind>(s % 6)));
    }
    p.complete = false;
    p.next = 1;
    server_round_trip(p);
  }
  SECTION("reset") {
    server_round_trip(Reset{99, {conversation_event("c_1", 98), conversation_event("c_2", 99)}});
    Event bare;
    bare.kind = EventKind::Conversation;
    bare.cursor = 1;
    bare.conv = "c_3";
    server_round_trip(Reset{1, {bare}});
    server_round_trip(Reset{0, {}});
  }
  SECTION("signal") {
    server_round_trip(Signal{"c_1", "typing", Participant{Role::Agent, "ag_7", "Grace"}, true});
    server_round_trip(Signal{"c_1", "presence", Participant{Role::Bot, "", ""}, false});
  }
  SECTION("pong") {
    server_round_trip(Pong{"r6", 1700000000002});
  }
}

TEST_CASE("model JSON helpers round-trip", "[protocol]") {
  for (int k = 0; k <= static_cast<int>(RichKind::Csat); ++k) {
    const Message m = sample_message("c_1", 3, static_cast<RichKind>(k));
    const auto back = message_from_json(to_json(m));
    REQUIRE(std::get_if<Message>(&back) != nullptr);
    CHECK(*std::get_if<Message>(&back) == m);
    const auto body = body_from_json(to_json(m.body));
    REQUIRE(std::get_if<Body>(&body) != nullptr);
    CHECK(*std::get_if<Body>(&body) == m.body);
  }
  for (const auto& o :
       {agent_owner(), ControlOwner{}, ControlOwner{ControlOwner::Kind::Queue, "", "", 3}}) {
    const auto back = owner_from_json(to_json(o));
    REQUIRE(std::get_if<ControlOwner>(&back) != nullptr);
    CHECK(*std::get_if<ControlOwner>(&back) == o);
  }
  for (const auto& c : sample_channels()) {
    const auto back = binding_from_json(to_json(c));
    REQUIRE(std::get_if<ChannelBinding>(&back) != nullptr);
    CHECK(*std::get_if<ChannelBinding>(&back) == c);
  }
  const auto bad = message_from_json(Json::array());
  REQUIRE(std::get_if<Error>(&bad) != nullptr);
  CHECK(std::get_if<Error>(&bad)->code == ErrorCode::InvalidField);
  const auto missing = owner_from_json(Json::object());
  REQUIRE(std::get_if<Error>(&missing) != nullptr);
  CHECK(std::get_if<Error>(&missing)->code == ErrorCode::MissingField);
  CHECK(std::get_if<Error>(&missing)->message == "missing field owner.kind");
}

TEST_CASE("encoding writes required fields and omits empty optional ones", "[protocol]") {
  CHECK(encode(ClientFrame{Ping{"r1"}}) == R"({"req":"r1","type":"ping"})");
  CHECK(encode(ClientFrame{Hello{1, "", 0, "d_1", "", ""}}) ==
        R"({"cursor":0,"device":"d_1","token":"","type":"hello","v":1})");
  CHECK(
      encode(ClientFrame{Hello{1, "t_new", 0, "d_1", "", "t_old"}}) ==
      R"({"cursor":0,"device":"d_1","merge_token":"t_old","token":"t_new","type":"hello","v":1})");
  CHECK(encode(ServerFrame{Welcome{1, "u", "t", 0, 5, std::nullopt}}) ==
        R"({"cursor":0,"server_time":5,"token":"t","type":"welcome","user":"u","v":1})");
  CHECK(encode(ServerFrame{Welcome{1, "u", "t", 0, 5, hours::Availability{true, 60000, 0}}}) ==
        R"({"availability":{"open":true,"reply_ms":60000},"cursor":0,"server_time":5,)"
        R"("token":"t","type":"welcome","user":"u","v":1})");
  CHECK(encode(ServerFrame{Welcome{1, "u", "t", 0, 5, hours::Availability{false, 0, 9}}}) ==
        R"({"availability":{"next_change":9,"open":false,"reply_ms":0},"cursor":0,)"
        R"("server_time":5,"token":"t","type":"welcome","user":"u","v":1})");
  CHECK(encode(ClientFrame{Send{"r", "c", "k", Body{}}}) ==
        R"({"body":{},"cid":"k","conv":"c","req":"r","type":"send"})");
  CHECK(encode(ClientFrame{History{"r", "c", 0, -1, 50}}) ==
        R"({"conv":"c","limit":50,"req":"r","type":"history"})");
  // `after: 0` is a real lower bound (backfill from the first message), so it is written.
  CHECK(encode(ClientFrame{History{"r", "c", 5, 0, 50}}) ==
        R"({"after":0,"before":5,"conv":"c","limit":50,"req":"r","type":"history"})");
  CHECK(encode(ServerFrame{Ack{"r", "", "c", "", 0, 5, ""}}) ==
        R"({"conv":"c","req":"r","ts":5,"type":"ack"})");
  CHECK(encode(ServerFrame{ErrorFrame{"", make_error(ErrorCode::Timeout, "")}}) ==
        R"({"code":"timeout","message":"","recoverable":"recoverable","type":"error"})");
  CHECK(encode(ServerFrame{Events{"", 3, 3, false, {}}}) ==
        R"({"cursor":3,"events":[],"from":3,"more":false,"type":"events"})");
  CHECK(encode(ServerFrame{Page{"r", "c", {}, true, 0}}) ==
        R"({"complete":true,"conv":"c","messages":[],"req":"r","type":"page"})");
  Message m;
  m.conv = "c";
  m.seq = 1;
  m.id = "m";
  CHECK(to_json(m).dump() ==
        R"({"author":{"role":"visitor"},"body":{},"conv":"c","id":"m","seq":1,"ticket":1,"ts":0})");
  CHECK(to_json(ControlOwner{}).dump() == R"({"kind":"bot"})");
  // A payload is only written with its rich kind.
  Body b;
  b.payload = Json::parse(R"({"scale":5})");
  CHECK(to_json(b).dump() == "{}");
}

// =============================================================== errors, by class
TEST_CASE("frame_too_large is checked before parsing", "[protocol][errors]") {
  const std::string ping = encode(ClientFrame{Ping{"r1"}});
  std::string exact = ping;
  exact.insert(1, kMaxFrameBytes - ping.size(), ' ');
  REQUIRE(exact.size() == kMaxFrameBytes);
  CHECK(decode_client(exact).ok());
  const std::string over = exact + " ";
  CHECK(client_code(over) == ErrorCode::FrameTooLarge);
  CHECK(server_code(repeat('x', kMaxFrameBytes + 1)) == ErrorCode::FrameTooLarge);
}

TEST_CASE("malformed_frame: not JSON or not an object", "[protocol][errors]") {
  for (const std::string& bad :
       {std::string(), std::string("hello"), std::string("{"), std::string("[]"),
        std::string("[{\"type\":\"ping\",\"req\":\"r\"}]"), std::string("\"ping\""),
        std::string("null"), std::string("42"), std::string("{\"type\":\"ping\",}"),
        std::string("{\"type\":\"ping\",\"req\":\"r\"} {}"), std::string("{\"type\":\"p\xff\"}"),
        std::string("{\"type\":\"ping\",\"req\":\"\\ud800\"}"), std::string("\x00{}", 3),
        std::string("{\"type\":\"ping\",\"req\":\"r\",\"n\":1e999}"), repeat('[', 200000),
        std::string("{\"type\":\"ping\",\"req\":\"r\"} // comment")}) {
    CHECK(client_code(bad) == ErrorCode::MalformedFrame);
    CHECK(server_code(bad) == ErrorCode::MalformedFrame);
  }
  // Every strict prefix of a valid frame is malformed.
  const std::string frame = valid_server_frames()[3];
  for (std::size_t n = 0; n < frame.size(); n += 7) {
    CHECK(server_code(frame.substr(0, n)) == ErrorCode::MalformedFrame);
  }
}

TEST_CASE("type: missing, wrong type, unknown", "[protocol][errors]") {
  CHECK(client_code("{}") == ErrorCode::MissingField);
  CHECK(client_code(R"({"type":null})") == ErrorCode::MissingField);
  CHECK(client_code(R"({"type":7})") == ErrorCode::InvalidField);
  CHECK(server_code(R"({"type":["ack"]})") == ErrorCode::InvalidField);
  CHECK(client_code(R"({"type":"bogus"})") == ErrorCode::UnknownFrameType);
  CHECK(client_code(R"({"type":"Ping","req":"r"})") == ErrorCode::UnknownFrameType);
  CHECK(client_code(R"({"type":""})") == ErrorCode::UnknownFrameType);
  // Frames of the other direction are unknown on this side.
  CHECK(client_code(R"({"type":"pong","req":"r","server_time":1})") == ErrorCode::UnknownFrameType);
  CHECK(server_code(R"({"type":"ping","req":"r"})") == ErrorCode::UnknownFrameType);
  CHECK(client_error(R"({"type":"bogus"})").message == "unknown client frame type \"bogus\"");
  CHECK(client_code(R"({"type":")" + repeat('t', 5000) + "\"}") == ErrorCode::UnknownFrameType);
}

TEST_CASE("missing_field names the field", "[protocol][errors]") {
  auto e = client_error(R"({"type":"send","req":"r1","conv":"c_1","body":{"text":"hi"}})");
  CHECK(e.code == ErrorCode::MissingField);
  CHECK(e.message == "missing field send.cid");
  CHECK(e.recoverability == Recoverability::Permanent);

  e = client_error(R"({"type":"send","req":"r1","conv":"c_1","cid":"k","body":null})");
  CHECK(e.code == ErrorCode::MissingField);
  CHECK(e.message == "missing field send.body");

  e = server_error(R"({"type":"events","from":0,"cursor":1,"more":false,"events":[
      {"kind":"message","cursor":1,"conv":"c","message":{"conv":"c","id":"m","ticket":1,"ts":1,
       "author":{"role":"agent"},"body":{}}}]})");
  CHECK(e.code == ErrorCode::MissingField);
  CHECK(e.message == "missing field events.events[0].message.seq");

  e = server_error(R"({"type":"page","req":"r","conv":"c","complete":true,"messages":[
      {"conv":"c","seq":1,"id":"m","ticket":1,"ts":1,"author":{"role":"agent"},
       "body":{"attachments":[{"id":"a","name":"n","size":1}]}}]})");
  CHECK(e.code == ErrorCode::MissingField);
  CHECK(e.message == "missing field page.messages[0].body.attachments[0].mime");

  CHECK(client_code(R"({"type":"hello","v":1,"cursor":0})") == ErrorCode::MissingField);
  CHECK(client_code(R"({"type":"history","req":"r","conv":"c"})") == ErrorCode::MissingField);
  CHECK(client_code(R"({"type":"typing","conv":"c"})") == ErrorCode::MissingField);
  CHECK(client_code(R"({"type":"handoff","req":"r","conv":"c","channel":"sms"})") ==
        ErrorCode::MissingField);
  CHECK(server_code(R"({"type":"welcome","v":1,"user":"u","cursor":0,"server_time":0})") ==
        ErrorCode::MissingField);
  CHECK(server_code(R"({"type":"error","code":"timeout","message":""})") ==
        ErrorCode::MissingField);
  CHECK(server_code(R"({"type":"events","from":0,"cursor":0,"events":[]})") ==
        ErrorCode::MissingField);
  CHECK(server_code(R"({"type":"reset","cursor":3})") == ErrorCode::MissingField);
  CHECK(server_code(R"({"type":"events","from":0,"cursor":1,"more":false,
      "events":[{"kind":"read","cursor":1,"conv":"c","reader":"agent","seq":1}]})") ==
        ErrorCode::MissingField);
}

TEST_CASE("invalid_field: wrong types and out-of-range values", "[protocol][errors]") {
  const auto bad = [](const std::string& text) { return client_code(text); };
  // negative / non-integer numbers
  CHECK(bad(R"({"type":"read","conv":"c","seq":-1})") == ErrorCode::InvalidField);
  CHECK(bad(R"({"type":"read","conv":"c","seq":1.5})") == ErrorCode::InvalidField);
  CHECK(bad(R"({"type":"read","conv":"c","seq":1.0})") == ErrorCode::InvalidField);
  CHECK(bad(R"({"type":"read","conv":"c","seq":"1"})") == ErrorCode::InvalidField);
  CHECK(bad(R"({"type":"read","conv":"c","seq":18446744073709551615})") == ErrorCode::InvalidField);
  CHECK(decode_client(R"({"type":"read","conv":"c","seq":9223372036854775807})").ok());
  CHECK(bad(R"({"type":"hello","v":1,"cursor":-5,"device":"d"})") == ErrorCode::InvalidField);
  // identifiers: non-empty, at most 128 bytes
  CHECK(bad(R"({"type":"ping","req":""})") == ErrorCode::InvalidField);
  CHECK(bad(R"({"type":"ping","req":5})") == ErrorCode::InvalidField);
  CHECK(decode_client(R"({"type":"ping","req":")" + repeat('r', 128) + "\"}").ok());
  CHECK(bad(R"({"type":"ping","req":")" + repeat('r', 129) + "\"}") == ErrorCode::InvalidField);
  // limits
  CHECK(bad(R"({"type":"history","req":"r","conv":"c","limit":0})") == ErrorCode::InvalidField);
  CHECK(bad(R"({"type":"history","req":"r","conv":"c","limit":201})") == ErrorCode::InvalidField);
  CHECK(decode_client(R"({"type":"history","req":"r","conv":"c","limit":200})").ok());
  CHECK(bad(R"({"type":"sync","req":"r","after":0,"limit":1001})") == ErrorCode::InvalidField);
  CHECK(bad(R"({"type":"sync","req":"r","after":0,"limit":0})") == ErrorCode::InvalidField);
  // unknown enum strings
  CHECK(bad(R"({"type":"handoff","req":"r","conv":"c","channel":"pigeon","address":""})") ==
        ErrorCode::InvalidField);
  CHECK(bad(R"({"type":"engagement","level":"ecstatic","reply_latency_ms":0,"present":true})") ==
        ErrorCode::InvalidField);
  CHECK(bad(R"({"type":"send","req":"r","conv":"c","cid":"k","body":{"rich":"video"}})") ==
        ErrorCode::InvalidField);
  // wrong container / scalar types
  CHECK(bad(R"({"type":"typing","conv":"c","on":1})") == ErrorCode::InvalidField);
  CHECK(bad(R"({"type":"send","req":"r","conv":"c","cid":"k","body":"hi"})") ==
        ErrorCode::InvalidField);
  CHECK(bad(R"({"type":"send","req":"r","conv":"c","cid":"k","body":{"attachments":{}}})") ==
        ErrorCode::InvalidField);
  CHECK(bad(R"({"type":"send","req":"r","conv":"c","cid":"k","body":{"attachments":[1]}})") ==
        ErrorCode::InvalidField);
  CHECK(bad(R"({"type":"send","req":"r","conv":"c","cid":"k","body":{"event":"handoff"}})") ==
        ErrorCode::InvalidField);
  CHECK(bad(R"({"type":"upload","req":"r","conv":"c","cid":"a","attachment":{"id":"a",
      "name":"n","mime":"text/plain","size":-1}})") == ErrorCode::InvalidField);

  const auto e = client_error(R"({"type":"read","conv":"c","seq":-1})");
  CHECK(e.message == "invalid field read.seq: expected an integer in 0..9223372036854775807");

  const auto server = [](const std::string& text) { return server_code(text); };
  CHECK(server(R"({"type":"error","code":"oops","recoverable":"permanent","message":""})") ==
        ErrorCode::InvalidField);
  CHECK(server(R"({"type":"error","code":"timeout","recoverable":"maybe","message":""})") ==
        ErrorCode::InvalidField);
  CHECK(
      server(R"({"type":"signal","conv":"c","kind":"waving","who":{"role":"agent"},"on":true})") ==
      ErrorCode::InvalidField);
  CHECK(server(R"({"type":"signal","conv":"c","kind":"typing","who":{"role":"cat"},"on":true})") ==
        ErrorCode::InvalidField);
  CHECK(server(R"({"type":"events","from":0,"cursor":1,"more":false,
      "events":[{"kind":"dance","cursor":1,"conv":"c"}]})") == ErrorCode::InvalidField);
  CHECK(server(R"({"type":"events","from":0,"cursor":1,"more":false,
      "events":[{"kind":"status","cursor":1,"conv":"c","status":"done","ticket":1}]})") ==
        ErrorCode::InvalidField);
  CHECK(server(R"({"type":"events","from":0,"cursor":1,"more":false,
      "events":[{"kind":"status","cursor":1,"conv":"c","status":"open","ticket":0}]})") ==
        ErrorCode::InvalidField);
}

TEST_CASE("hello.merge_token and welcome.availability: optional, checked in table order",
          "[protocol][errors]") {
  // merge_token: an optional token
  auto c = decode_client(
      R"({"type":"hello","v":1,"token":"t_new","cursor":0,"device":"d","merge_token":"t_old"})");
  REQUIRE(c.ok());
  CHECK(std::get<Hello>(c.frame()).merge_token == "t_old");
  c = decode_client(R"({"type":"hello","v":1,"cursor":0,"device":"d","merge_token":null})");
  REQUIRE(c.ok());
  CHECK(std::get<Hello>(c.frame()).merge_token.empty());
  CHECK(client_error(R"({"type":"hello","v":1,"cursor":0,"device":"d","merge_token":5})").message ==
        "invalid field hello.merge_token: expected a string");
  CHECK(client_error(R"({"type":"hello","v":1,"cursor":0,"device":"d","merge_token":")" +
                     repeat('m', 4097) + "\"}")
            .message == "invalid field hello.merge_token: expected a string of at most 4096 bytes");
  // after resume_token in table order; the version is checked first of all
  CHECK(client_error(
            R"({"type":"hello","v":1,"cursor":0,"device":"d","resume_token":1,"merge_token":2})")
            .message == "invalid field hello.resume_token: expected a string");
  CHECK(client_code(R"({"type":"hello","v":2,"cursor":0,"device":"d","merge_token":2})") ==
        ErrorCode::UnsupportedVersion);

  // availability: an optional object; open and reply_ms required inside it
  const std::string head = R"({"type":"welcome","v":1,"user":"u","token":"t","cursor":0,)";
  auto w = decode_server(head + R"("server_time":1,"availability":null})");
  REQUIRE(w.ok());
  CHECK_FALSE(std::get<Welcome>(w.frame()).availability.has_value());
  w = decode_server(head + R"("server_time":1,"availability":{"open":true,"reply_ms":0}})");
  REQUIRE(w.ok());
  CHECK(std::get<Welcome>(w.frame()).availability == hours::Availability{true, 0, 0});
  w = decode_server(head + R"("server_time":1,"availability":{"reply_ms":5,"open":false,"x":[],)"
                           R"("next_change":null}})");
  REQUIRE(w.ok());
  CHECK(std::get<Welcome>(w.frame()).availability == hours::Availability{false, 5, 0});
  const auto bad = [&](const std::string& availability) {
    return server_error(head + R"("server_time":1,"availability":)" + availability + "}");
  };
  CHECK(bad("true").message == "invalid field welcome.availability: expected an object");
  CHECK(bad("[]").message == "invalid field welcome.availability: expected an object");
  CHECK(bad(R"({"reply_ms":0})").message == "missing field welcome.availability.open");
  CHECK(bad(R"({"open":true})").message == "missing field welcome.availability.reply_ms");
  CHECK(bad(R"({"open":1,"reply_ms":0})").message ==
        "invalid field welcome.availability.open: expected a boolean");
  CHECK(bad(R"({"open":true,"reply_ms":-1})").message ==
        "invalid field welcome.availability.reply_ms: expected an integer in "
        "0..9223372036854775807");
  CHECK(bad(R"({"open":true,"reply_ms":1.5})").message ==
        "invalid field welcome.availability.reply_ms: expected an integer");
  CHECK(bad(R"({"open":false,"reply_ms":0,"next_change":"soon"})").message ==
        "invalid field welcome.availability.next_change: expected an integer");
  // open before reply_ms before next_change; server_time before availability
  CHECK(bad(R"({"next_change":-1,"reply_ms":-1,"open":"no"})").message ==
        "invalid field welcome.availability.open: expected a boolean");
  CHECK(bad(R"({"next_change":-1,"reply_ms":-1,"open":false})").message ==
        "invalid field welcome.availability.reply_ms: expected an integer in "
        "0..9223372036854775807");
  CHECK(server_error(head + R"("server_time":-1,"availability":7})").message ==
        "invalid field welcome.server_time: expected an integer in 0..9223372036854775807");
}

TEST_CASE("attachments are capped at kMaxAttachments", "[protocol][errors]") {
  Body b;
  for (int i = 0; i < static_cast<int>(kMaxAttachments); ++i) {
    b.attachments.push_back(sample_attachment(i));
  }
  CHECK(decode_client(encode(ClientFrame{Send{"r", "c", "k", b}})).ok());
  b.attachments.push_back(sample_attachment(99));
  const auto e = client_error(encode(ClientFrame{Send{"r", "c", "k", b}}));
  CHECK(e.code == ErrorCode::InvalidField);
  CHECK(e.message == "invalid field send.body.attachments: expected 0..10 elements");
}

TEST_CASE("message_too_long at 8 KiB of UTF-8", "[protocol][errors]") {
  Body b;
  b.text = repeat('x', kMaxTextBytes - 1) + "\xC3\xA9";  // 8193 bytes, 8192 characters
  const auto e = client_error(encode(ClientFrame{Send{"r", "c", "k", b}}));
  CHECK(e.code == ErrorCode::MessageTooLong);
  CHECK(e.recoverability == Recoverability::Permanent);
  b.text = repeat('x', kMaxTextBytes);
  CHECK(decode_client(encode(ClientFrame{Send{"r", "c", "k", b}})).ok());
  // Also in server frames.
  Page p{"r", "c_1", {sample_message("c_1", 1)}, true, 0};
  p.messages[0].body.text = repeat('y', kMaxTextBytes + 1);
  CHECK(server_code(encode(ServerFrame{p})) == ErrorCode::MessageTooLong);
}

TEST_CASE("unsupported_version", "[protocol][errors]") {
  auto e = client_error(R"({"type":"hello","v":2,"token":"","cursor":0,"device":"d"})");
  CHECK(e.code == ErrorCode::UnsupportedVersion);
  CHECK(client_code(R"({"type":"hello","v":0,"cursor":0,"device":"d"})") ==
        ErrorCode::UnsupportedVersion);
  // The version is checked before the rest of the frame.
  CHECK(client_code(R"({"type":"hello","v":2})") == ErrorCode::UnsupportedVersion);
  CHECK(server_code(R"({"type":"welcome","v":3,"user":"u","token":"t","cursor":0,
      "server_time":0})") == ErrorCode::UnsupportedVersion);
  CHECK(client_code(R"({"type":"hello","v":"1","cursor":0,"device":"d"})") ==
        ErrorCode::InvalidField);
  CHECK(client_code(R"({"type":"hello","cursor":0,"device":"d"})") == ErrorCode::MissingField);
  CHECK(decode_client(R"({"type":"hello","v":1,"cursor":0,"device":"d"})").ok());
}

TEST_CASE("rich payloads are validated per kind", "[protocol][errors]") {
  const auto send = [](const std::string& body) {
    return R"({"type":"send","req":"r","conv":"c","cid":"k","body":)" + body + "}";
  };
  const auto code = [&](const std::string& body) { return client_code(send(body)); };
  const auto ok = [&](const std::string& body) { return decode_client(send(body)).ok(); };
  const std::string opt = R"({"id":"o","label":"L"})";
  std::string ten = opt;
  for (int i = 1; i < 10; ++i) ten += "," + opt;

  SECTION("none") {
    CHECK(ok(R"({"text":"hi","rich":"none","payload":null})"));
    CHECK(code(R"({"text":"hi","payload":{}})") == ErrorCode::InvalidField);
    CHECK(code(R"({"text":"hi","rich":"none","payload":{"options":[]}})") ==
          ErrorCode::InvalidField);
  }
  SECTION("quick_replies and buttons") {
    for (const std::string kind : {"quick_replies", "buttons"}) {
      const std::string r = R"({"rich":")" + kind + R"(","payload":)";
      CHECK(ok(r + R"({"options":[)" + ten + "]}}"));
      CHECK(ok(r + R"({"options":[{"id":"o","label":"L","value":"v","url":"https://x","x":1}]}})"));
      CHECK(code(R"({"rich":")" + kind + "\"}") == ErrorCode::MissingField);
      CHECK(code(r + "[]}") == ErrorCode::InvalidField);
      CHECK(code(r + "{}}") == ErrorCode::MissingField);
      CHECK(code(r + R"({"options":[]}})") == ErrorCode::InvalidField);
      CHECK(code(r + R"({"options":[)" + ten + "," + opt + "]}}") == ErrorCode::InvalidField);
      CHECK(code(r + R"({"options":[{"id":"o"}]}})") == ErrorCode::MissingField);
      CHECK(code(r + R"({"options":[{"id":"","label":"L"}]}})") == ErrorCode::InvalidField);
      CHECK(code(r + R"({"options":["yes"]}})") == ErrorCode::InvalidField);
      CHECK(code(r + R"({"options":[{"id":"o","label":")" + repeat('l', 257) + "\"}]}}") ==
            ErrorCode::InvalidField);
      CHECK(ok(r + R"({"options":[{"id":"o","label":")" + repeat('l', 256) + "\"}]}}"));
      CHECK(code(r + R"({"options":[{"id":"o","label":"L","url":7}]}})") ==
            ErrorCode::InvalidField);
    }
  }
  SECTION("carousel") {
    const std::string r = R"({"rich":"carousel","payload":)";
    CHECK(ok(r + R"({"items":[{"title":"T"}]}})"));
    CHECK(ok(r + R"({"items":[{"title":"T","subtitle":"s","image":"i","buttons":[]}]}})"));
    CHECK(code(r + R"({"items":[]}})") == ErrorCode::InvalidField);
    CHECK(code(r + R"({"items":[{"subtitle":"s"}]}})") == ErrorCode::MissingField);
    CHECK(code(r + R"({"items":[{"title":")" + repeat('t', 257) + "\"}]}}") ==
          ErrorCode::InvalidField);
    CHECK(code(r + R"({"items":[{"title":"T","buttons":[{"label":"x"}]}]}})") ==
          ErrorCode::MissingField);
    CHECK(code(r + R"({"items":[{"title":"T","buttons":[)" + ten + "," + opt + "]}]}}") ==
          ErrorCode::InvalidField);
    const auto e = client_error(send(r + R"({"items":[{"title":"T"},{"title":1}]}})"));
    CHECK(e.message == "invalid field send.body.payload.items[1].title: expected a string");
  }
  SECTION("form") {
    const std::string r = R"({"rich":"form","payload":)";
    CHECK(ok(r + R"({"fields":[{"name":"n","label":"N","type":"text"}]}})"));
    CHECK(ok(r + R"({"fields":[{"name":"n","label":"N","type":"number","required":false}]}})"));
    CHECK(ok(r + R"({"fields":[{"name":"n","label":"N","type":"select","options":["a"]}]}})"));
    CHECK(code(r + R"({"fields":[]}})") == ErrorCode::InvalidField);
    CHECK(code(r + R"({"fields":[{"name":"n","label":"N","type":"date"}]}})") ==
          ErrorCode::InvalidField);
    CHECK(code(r + R"({"fields":[{"name":"n","label":"N"}]}})") == ErrorCode::MissingField);
    CHECK(code(r + R"({"fields":[{"name":"n","label":"N","type":"select"}]}})") ==
          ErrorCode::MissingField);
    CHECK(code(r + R"({"fields":[{"name":"n","label":"N","type":"select","options":[]}]}})") ==
          ErrorCode::InvalidField);
    CHECK(code(r + R"({"fields":[{"name":"n","label":"N","type":"select","options":[1]}]}})") ==
          ErrorCode::InvalidField);
    CHECK(code(r + R"({"fields":[{"name":"n","label":"N","type":"text","required":"yes"}]}})") ==
          ErrorCode::InvalidField);
  }
  SECTION("csat") {
    const std::string r = R"({"rich":"csat","payload":)";
    CHECK(ok(r + R"({"scale":3}})"));
    CHECK(ok(r + R"({"scale":5,"question":"Q?"}})"));
    CHECK(code(r + R"({"scale":4}})") == ErrorCode::InvalidField);
    CHECK(code(r + R"({"scale":10}})") == ErrorCode::InvalidField);
    CHECK(code(r + R"({"scale":"5"}})") == ErrorCode::InvalidField);
    CHECK(code(r + R"({}})") == ErrorCode::MissingField);
    CHECK(code(r + R"({"scale":5,"question":false}})") == ErrorCode::InvalidField);
  }
  SECTION("free-form JSON is depth-limited") {
    std::string deep = "1";  // 9 levels: with the enclosing object, exactly the limit of 10
    for (int i = 0; i < 9; ++i) deep = "[" + deep + "]";
    CHECK(ok(R"({"event":{"x":)" + deep + "}}"));
    CHECK(code(R"({"event":{"x":[)" + deep + "]}}") == ErrorCode::InvalidField);
    CHECK(code(R"({"rich":"csat","payload":{"scale":3,"x":[)" + deep + "]}}") ==
          ErrorCode::InvalidField);
  }
}

TEST_CASE("event stream consistency is checked", "[protocol][errors]") {
  const auto events = [](const std::string& from_cursor, const std::string& list) {
    return R"({"type":"events",)" + from_cursor + R"(,"more":false,"events":[)" + list + "]}";
  };
  const std::string gap = R"({"kind":"gap","conv":"c","from":2,"to":3,"cursor":)";
  CHECK(decode_server(events(R"("from":4,"cursor":6)", gap + "5}," + gap + "6}")).ok());
  // cursor must exceed from and strictly increase
  CHECK(server_code(events(R"("from":4,"cursor":6)", gap + "4}")) == ErrorCode::InvalidField);
  CHECK(server_code(events(R"("from":4,"cursor":6)", gap + "6}," + gap + "6}")) ==
        ErrorCode::InvalidField);
  // and never exceed the frame's cursor
  CHECK(server_code(events(R"("from":4,"cursor":6)", gap + "7}")) == ErrorCode::InvalidField);
  CHECK(server_code(events(R"("from":4,"cursor":3)", "")) == ErrorCode::InvalidField);
  // gaps are 1 <= from <= to
  CHECK(server_code(events(R"("from":0,"cursor":1)",
                           R"({"kind":"gap","conv":"c","cursor":1,"from":5,"to":4})")) ==
        ErrorCode::InvalidField);
  CHECK(server_code(events(R"("from":0,"cursor":1)",
                           R"({"kind":"gap","conv":"c","cursor":1,"from":0,"to":4})")) ==
        ErrorCode::InvalidField);
  // a message event's message belongs to the event's conversation
  Events ev{"", 10, 11, false, {all_event_kinds()[0]}};
  ev.events[0].message.conv = "c_other";
  const auto e = server_error(encode(ServerFrame{ev}));
  CHECK(e.code == ErrorCode::InvalidField);
  CHECK(e.message == "invalid field events.events[0].message.conv: differs from the event's conv");
  // pages hold ascending messages of their own conversation
  Page p{"r", "c_1", {sample_message("c_1", 2), sample_message("c_1", 2)}, true, 0};
  CHECK(server_code(encode(ServerFrame{p})) == ErrorCode::InvalidField);
  p.messages[1] = sample_message("c_2", 3);
  CHECK(server_code(encode(ServerFrame{p})) == ErrorCode::InvalidField);
  // message seqs are positive
  p.messages = {sample_message("c_1", 0)};
  CHECK(server_code(encode(ServerFrame{p})) == ErrorCode::InvalidField);
  // a reset carries conversation summaries only
  Reset reset{20, {conversation_event("c_1", 5), all_event_kinds()[3]}};
  CHECK(server_code(encode(ServerFrame{reset})) == ErrorCode::InvalidField);
}

TEST_CASE("unknown fields are ignored and null means absent", "[protocol]") {
  auto d = decode_client(
      R"({"type":"ping","req":"r","future":{"deep":[1,2,{"x":null}]},"v2_flag":true})");
  REQUIRE(d.ok());
  CHECK(std::get_if<Ping>(&d.frame())->req == "r");
  d = decode_client(R"({"type":"history","req":"r","conv":"c","limit":5,"before":null})");
  REQUIRE(d.ok());
  CHECK(std::get_if<History>(&d.frame())->before == 0);
  // Optional identifiers may be empty.
  auto s = decode_server(R"({"type":"error","req":"","code":"not_found","recoverable":"permanent",
      "message":"no such conversation","detail":{"a":1}})");
  REQUIRE(s.ok());
  const auto* ef = std::get_if<ErrorFrame>(&s.frame());
  REQUIRE(ef != nullptr);
  CHECK(ef->req.empty());
  CHECK(ef->error.code == ErrorCode::NotFound);
  CHECK(ef->error.message == "no such conversation");
  // Fields of other event kinds are ignored, not copied.
  s = decode_server(R"({"type":"events","from":0,"cursor":1,"more":false,"events":[
      {"kind":"status","cursor":1,"conv":"c","status":"open","ticket":2,"seq":9,"subject":"x"}]})");
  REQUIRE(s.ok());
  const Event& ev = std::get_if<Events>(&s.frame())->events.at(0);
  CHECK(ev.status == Status::Open);
  CHECK(ev.seq == 0);
  CHECK(ev.subject.empty());
}

TEST_CASE("documented examples decode as documented", "[protocol][docs]") {
  // Keep in sync with docs/protocol.md "Examples".
  auto c = decode_client(R"({"type":"hello","v":1,"token":"","cursor":0,"device":"d_5f2c"})");
  REQUIRE(c.ok());
  CHECK(std::get_if<Hello>(&c.frame())->device == "d_5f2c");

  c = decode_client(R"({"type":"hello","v":1,"token":"t_signed_in","cursor":0,"device":"d_5f2c",
      "merge_token":"t_anonymous"})");
  REQUIRE(c.ok());
  CHECK(std::get_if<Hello>(&c.frame())->merge_token == "t_anonymous");

  auto w = decode_server(R"({"type":"welcome","v":1,"user":"u_42","token":"t_signed_in",
      "cursor":0,"server_time":1768647600000,
      "availability":{"open":false,"reply_ms":169200000,"next_change":1768809600000}})");
  REQUIRE(w.ok());
  CHECK(std::get_if<Welcome>(&w.frame())->availability ==
        hours::Availability{false, 169200000, 1768809600000});

  c = decode_client(R"({"type":"send","req":"q_17","conv":"c_8h2k","cid":"k_a91f",
      "body":{"text":"Do you ship to Norway?"}})");
  REQUIRE(c.ok());
  CHECK(std::get_if<Send>(&c.frame())->body.text == "Do you ship to Norway?");

  c = decode_client(R"({"type":"history","req":"q_18","conv":"c_8h2k","before":120,"limit":50})");
  REQUIRE(c.ok());
  CHECK(std::get_if<History>(&c.frame())->before == 120);

  auto s = decode_server(R"({"type":"ack","req":"q_17","cid":"k_a91f","conv":"c_8h2k",
      "id":"m_3001","seq":12,"ts":1700000000000})");
  REQUIRE(s.ok());
  CHECK(std::get_if<Ack>(&s.frame())->seq == 12);

  s = decode_server(R"({"type":"events","from":40,"cursor":42,"more":false,"events":[
    {"kind":"message","cursor":41,"conv":"c_8h2k","message":{"conv":"c_8h2k","seq":13,
     "id":"m_3002","ticket":1,"ts":1700000004000,"author":{"role":"agent","id":"ag_7",
     "name":"Grace"},"body":{"text":"Yes! Pick one:","rich":"quick_replies",
     "payload":{"options":[{"id":"std","label":"Standard"},{"id":"exp","label":"Express"}]}}}},
    {"kind":"read","cursor":42,"conv":"c_8h2k","reader":"agent","seq":12,"delivered":false}]})");
  REQUIRE(s.ok());
  const auto* ev = std::get_if<Events>(&s.frame());
  REQUIRE(ev != nullptr);
  REQUIRE(ev->events.size() == 2);
  CHECK(ev->events[0].message.body.rich == RichKind::QuickReplies);
  CHECK(ev->events[1].reader == Role::Agent);

  s = decode_server(R"({"type":"events","from":42,"cursor":44,"more":false,"events":[
    {"kind":"handoff","cursor":43,"conv":"c_8h2k","message":{"conv":"c_8h2k","seq":14,
     "id":"m_3003","ticket":1,"ts":1700000009000,"author":{"role":"system"},
     "body":{"event":{"type":"channel","channel":"sms"}}},"owner":{"kind":"agent",
     "agent_id":"ag_7","agent_name":"Grace"},"channels":[{"channel":"web","address":"",
     "active":false,"since":1700000000000},{"channel":"sms","address":"+15551234567",
     "active":true,"since":1700000009000}]},
    {"kind":"gap","cursor":44,"conv":"c_8h2k","from":3,"to":9}]})");
  REQUIRE(s.ok());
  CHECK(std::get_if<Events>(&s.frame())->events[1].gap == Gap{3, 9});

  s = decode_server(R"({"type":"page","req":"q_18","conv":"c_8h2k","messages":[],
      "complete":false,"next":70})");
  REQUIRE(s.ok());
  CHECK(std::get_if<Page>(&s.frame())->next == 70);

  s = decode_server(R"({"type":"reset","cursor":900,"conversations":[{"kind":"conversation",
      "cursor":900,"conv":"c_8h2k","status":"open","ticket":1,"style":"social_messaging",
      "owner":{"kind":"queue","queue_position":2},"channels":[],"last_seq":14}]})");
  REQUIRE(s.ok());
  CHECK(std::get_if<Reset>(&s.frame())->conversations[0].owner.queue_position == 2);

  s = decode_server(R"({"type":"error","req":"q_17","code":"rate_limited",
      "recoverable":"recoverable","message":"too many requests"})");
  REQUIRE(s.ok());
  CHECK(std::get_if<ErrorFrame>(&s.frame())->error.recoverable());
}

// =============================================================== robustness
TEST_CASE("200 seeded random mutations never crash and always give ok or a typed error",
          "[protocol][fuzz]") {
  std::vector<std::string> seeds = valid_client_frames();
  for (auto& s : valid_server_frames()) seeds.push_back(std::move(s));
  std::mt19937 rng(20240611);
  const std::string alphabet = "{}[]\":,0123456789-.eEtrufalsn \\\xff\x80";
  int ok = 0;
  int errors = 0;
  int rejected = 0;
  for (int round = 0; round < 200; ++round) {
    std::string text = seeds[rng() % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits && !text.empty(); ++k) {
      const std::size_t pos = rng() % text.size();
      switch (rng() % 4) {
        case 0:  // flip bits
          text[pos] = static_cast<char>(text[pos] ^ static_cast<char>(1u << (rng() % 8)));
          break;
        case 1:  // truncate
          text.resize(pos);
          break;
        case 2:  // delete
          text.erase(pos, 1);
          break;
        default:  // insert a JSON-significant byte
          text.insert(pos, 1, alphabet[rng() % alphabet.size()]);
          break;
      }
    }
    INFO("round " << round << ": " << text);
    const auto check = [&](const auto& decoded, auto decode) {
      if (!decoded.ok()) {
        CHECK_FALSE(to_string(decoded.error().code).empty());
        CHECK_FALSE(decoded.error().message.empty());
        ++errors;
        return;
      }
      ++ok;
      const std::string again = encode(decoded.frame());
      const auto redecoded = decode(again);
      REQUIRE(redecoded.ok());
      CHECK(encode(redecoded.frame()) == again);
    };
    const int errors_before = errors;
    check(decode_client(text), decode_client);
    check(decode_server(text), decode_server);
    if (errors == errors_before + 2) ++rejected;
  }
  CHECK(ok + errors == 400);
  CHECK(rejected > 150);  // most mutations are caught on both sides
}

TEST_CASE("to_json(Event) is the event object of an events frame", "[protocol]") {
  protocol::Event e;
  e.kind = protocol::EventKind::Read;
  e.cursor = 7;
  e.conv = "c_1";
  e.reader = Role::Agent;
  e.seq = 3;
  protocol::Events f;
  f.from = 6;
  f.cursor = 7;
  f.events.push_back(e);
  Json frame = Json::parse(protocol::encode(protocol::ServerFrame{f}));
  CHECK(protocol::to_json(e) == frame["events"][0]);
}
