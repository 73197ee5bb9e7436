#include "service.hpp"

#include <date/date.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

#include <openssl/crypto.h>

#include "auth.hpp"
#include "bot.hpp"
#include "parley/handoff.hpp"
#include "parley/hours.hpp"

namespace parley::server {

namespace {

constexpr int kPushLimit = 500;
constexpr TimeMs kResumeTokenTtl = 15 * 60'000;
constexpr TimeMs kCompactionEvery = 60'000;

Json parse_or_null(std::string_view text) {
  return Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
}

// The JSON of one event exactly as the codec writes it inside an `events` frame.
std::string event_json(const protocol::Event& ev) {
  return protocol::to_json(ev).dump(-1, ' ', false, Json::error_handler_t::replace);
}

template <class T>
const T* get_if_ok(const std::variant<T, Error>& v) {
  return std::get_if<T>(&v);
}
template <class T>
const T* get_if_ok(std::variant<T, Error>&&) = delete;  // would dangle

std::string owner_json(const ControlOwner& o) {
  return protocol::to_json(o).dump();
}

std::string channels_json(const std::vector<ChannelBinding>& cs) {
  Json a = Json::array();
  for (const auto& c : cs) a.push_back(protocol::to_json(c));
  return a.dump();
}

}  // namespace

Service::Service(ServerConfig cfg, Db& db, std::uint64_t seed)
    : cfg_(std::move(cfg)), db_(db), rng_(seed) {
  if (cfg_.apps.empty()) cfg_.apps.emplace_back();
  migrate(db_);
}

std::string Service::new_id(std::string_view prefix) {
  return rng_.id(std::string(prefix).c_str());
}

const AppConfig& Service::app_named(std::string_view id) const {
  const AppConfig* a = cfg_.app(id);
  return a ? *a : cfg_.apps.front();
}

lifecycle::Policy Service::policy_for(const ConvRow& c) const {
  lifecycle::Policy p = app_named(c.app).policy;
  p.style = c.style;
  return p;
}

const AppConfig& Service::app_of(const Session& s) const {
  return app_named(s.app);
}

HttpResult Service::http_error(int status, const Error& e) {
  return {status, error_frame("", e)};
}

// Runs an HTTP handler's storage work: a storage failure rolls back (the handler's
// transaction is gone), drops what was about to be pushed, and answers 500, recoverable.
template <class F>
HttpResult Service::guarded(F&& handler) {
  try {
    return handler();
  } catch (const DbError&) {
    discard();
    return http_error(500, make_error(ErrorCode::ServerError, "storage error; retry"));
  }
}

std::string Service::error_frame(const std::string& req, const Error& e) {
  protocol::ErrorFrame f;
  f.req = req;
  f.error = e;
  if (f.error.message.size() > protocol::kMaxTextBytes) {
    f.error.message.resize(protocol::kMaxTextBytes);
  }
  return protocol::encode(protocol::ServerFrame{f});
}

// ------------------------------------------------------------------------ sessions

bool Service::open_session(SessionId sid, std::string_view app, bool live) {
  if (cfg_.app(app) == nullptr) return false;
  Session s;
  s.id = sid;
  s.app = app.empty() ? cfg_.apps.front().id : std::string(app);
  s.live = live;
  s.bucket = cfg_.limits.burst;
  sessions_[sid] = std::move(s);
  return true;
}

bool Service::open_agent_session(SessionId sid, std::string_view app, const AgentConfig& agent) {
  if (cfg_.app(app) == nullptr) return false;
  Session s;
  s.id = sid;
  s.app = app.empty() ? cfg_.apps.front().id : std::string(app);
  s.live = true;
  s.agent = true;
  s.agent_id = agent.id;
  sessions_[sid] = std::move(s);
  ++consoles_by_app_[sessions_[sid].app];
  if (++agents_online_[agent.id] == 1) agent_presence_changed(agent.id);
  return true;
}

void Service::push_presence(const ConvRow& c, const std::set<SessionId>& to) {
  if (c.owner.kind != ControlOwner::Kind::Agent || c.ticket.status == Status::Closed) return;
  protocol::Signal sig;
  sig.conv = c.id;
  sig.kind = "presence";
  sig.who = Participant{Role::Agent, c.owner.agent_id, c.owner.agent_name};
  sig.on = agents_online_.count(c.owner.agent_id) > 0;
  std::string frame = protocol::encode(protocol::ServerFrame{sig});
  for (SessionId sid : to) pushes_.push_back({sid, frame});
}

void Service::agent_presence_changed(const std::string& agent_id) {
  std::vector<std::string> ids;
  auto& q = db_.prepare(
      "SELECT id FROM conversations WHERE json_extract(owner, '$.agent_id') = ? AND status != "
      "'closed'");
  q.args(agent_id);
  while (q.step()) ids.push_back(q.str(0));
  q.reset();
  for (const auto& id : ids) {
    auto c = load_conv(id);
    if (!c) continue;
    auto live = live_by_user_.find(c->user);
    if (live != live_by_user_.end()) push_presence(*c, live->second);
  }
}

void Service::close_session(SessionId sid, TimeMs now) {
  auto found = sessions_.find(sid);
  if (found == sessions_.end()) return;
  if (!found->second.user.empty()) {
    auto& set = live_by_user_[found->second.user];
    set.erase(sid);
    if (set.empty()) live_by_user_.erase(found->second.user);
  }
  (void)now;
  close_requested_.erase(sid);
  std::string agent_gone;
  if (found->second.agent) {
    auto consoles = consoles_by_app_.find(found->second.app);
    if (consoles != consoles_by_app_.end() && --consoles->second <= 0)
      consoles_by_app_.erase(consoles);
    auto online = agents_online_.find(found->second.agent_id);
    if (online != agents_online_.end() && --online->second <= 0) {
      agents_online_.erase(online);
      agent_gone = found->second.agent_id;
    }
  }
  sessions_.erase(found);
  if (!agent_gone.empty()) agent_presence_changed(agent_gone);
}

bool Service::take_close_request(SessionId sid) {
  return close_requested_.erase(sid) > 0;
}

std::string Service::session_user(SessionId sid) const {
  auto found = sessions_.find(sid);
  return found == sessions_.end() ? std::string() : found->second.user;
}

std::optional<Error> Service::authenticate(SessionId sid, std::string_view token, TimeMs now) {
  auto found = sessions_.find(sid);
  if (found == sessions_.end()) return make_error(ErrorCode::ServerError, "no session");
  Identity id;
  if (auto e = resolve_token(app_of(found->second), token, id, now, /*allow_jwt=*/false)) {
    return e;
  }
  found->second.user = id.user;
  return std::nullopt;
}

bool Service::rate_ok(Session& s, TimeMs now) {
  if (s.bucket_ts == 0) s.bucket_ts = now;
  double elapsed = static_cast<double>(std::max<TimeMs>(0, now - s.bucket_ts)) / 1000.0;
  s.bucket = std::min(cfg_.limits.burst, s.bucket + elapsed * cfg_.limits.frames_per_second);
  s.bucket_ts = now;
  if (s.bucket < 1.0) return false;
  s.bucket -= 1.0;
  return true;
}

std::vector<Push> Service::take_pushes() {
  std::vector<Push> out;
  out.swap(pushes_);
  return out;
}

std::vector<std::string> Service::take_advanced_users() {
  std::vector<std::string> out;
  out.swap(advanced_out_);
  return out;
}

void Service::publish() {
  for (const std::string& user : advanced_) {
    advanced_out_.push_back(user);
    auto live = live_by_user_.find(user);
    if (live == live_by_user_.end()) continue;
    for (SessionId sid : live->second) {
      auto& s = sessions_.at(sid);
      bool more = false;
      Cursor last = s.pushed;
      std::string frame = events_frame(user, s.pushed, kPushLimit, "", &more, &last);
      if (last == s.pushed) continue;
      s.pushed = last;
      pushes_.push_back({sid, std::move(frame)});
    }
  }
  advanced_.clear();
  for (auto& [app, frame] : agent_pushes_) {
    for (auto& [sid, s] : sessions_) {
      if (s.agent && s.app == app) pushes_.push_back({sid, frame});
    }
  }
  agent_pushes_.clear();
}

void Service::discard() {
  advanced_.clear();
  agent_pushes_.clear();
}

// ------------------------------------------------------------------------ storage

std::optional<ConvRow> Service::load_conv(std::string_view id) {
  auto& q = db_.prepare(
      "SELECT id, app, user, style, status, ticket, solved_at, last_customer_activity, "
      "inactive, assignee, owner, channels, subject, last_seq, preview, created_ts, "
      "updated_ts, visitor_read_seq, agent_read_seq, agent_delivered_seq, waiting_on, "
      "waiting_since, deadline, engagement FROM conversations WHERE id = ?");
  q.args(id);
  if (!q.step()) return std::nullopt;
  ConvRow c;
  c.id = q.str(0);
  c.app = q.str(1);
  c.user = q.str(2);
  c.style = style_from_string(q.str(3)).value_or(ConversationalStyle::SocialMessaging);
  c.ticket.status = status_from_string(q.str(4)).value_or(Status::Open);
  c.ticket.number = static_cast<int>(q.i64(5));
  c.ticket.solved_at = q.i64(6);
  c.ticket.last_customer_activity = q.i64(7);
  c.ticket.inactive = q.i64(8) != 0;
  c.ticket.assignee = q.str(9);
  auto owner = protocol::owner_from_json(parse_or_null(q.str(10)));
  if (const auto* o = get_if_ok(owner)) c.owner = *o;
  Json chans = parse_or_null(q.str(11));
  if (chans.is_array()) {
    for (const auto& b : chans) {
      auto binding = protocol::binding_from_json(b);
      if (const auto* cb = get_if_ok(binding)) c.channels.push_back(*cb);
    }
  }
  c.subject = q.str(12);
  c.last_seq = q.i64(13);
  c.preview = q.str(14);
  c.created_ts = q.i64(15);
  c.updated_ts = q.i64(16);
  c.visitor_read_seq = q.i64(17);
  c.agent_read_seq = q.i64(18);
  c.agent_delivered_seq = q.i64(19);
  c.waiting_on = q.str(20);
  c.waiting_since = q.i64(21);
  if (!q.is_null(22)) c.deadline = q.i64(22);
  Json e = parse_or_null(q.str(23));
  if (e.is_object()) {
    c.tracker.avg_reply_latency_ms = e.value("avg", TimeMs{0});
    c.tracker.samples = e.value("samples", 0);
    c.tracker.awaiting_reply_since = e.value("awaiting", TimeMs{0});
    c.tracker.visible = e.value("visible", false);
    c.tracker.focused = e.value("focused", false);
    c.tracker.last_typing_ts = e.value("typing", TimeMs{0});
    c.tracker.last_seen_ts = e.value("seen", TimeMs{0});
    c.signal_level = e.value("level", std::string());
    c.signal_latency_ms = e.value("latency", TimeMs{0});
    c.signal_present = e.value("present", false);
    c.away_notice_until = e.value("away_until", TimeMs{0});
  }
  q.reset();
  return c;
}

void Service::save_conv(const ConvRow& c) {
  Json e = {{"avg", c.tracker.avg_reply_latency_ms},
            {"samples", c.tracker.samples},
            {"awaiting", c.tracker.awaiting_reply_since},
            {"visible", c.tracker.visible},
            {"focused", c.tracker.focused},
            {"typing", c.tracker.last_typing_ts},
            {"seen", c.tracker.last_seen_ts},
            {"level", c.signal_level},
            {"latency", c.signal_latency_ms},
            {"present", c.signal_present},
            {"away_until", c.away_notice_until}};
  auto& q = db_.prepare(
      "INSERT INTO conversations (id, app, user, style, status, ticket, solved_at, "
      "last_customer_activity, inactive, assignee, owner, channels, subject, last_seq, preview, "
      "created_ts, updated_ts, visitor_read_seq, agent_read_seq, agent_delivered_seq, "
      "waiting_on, waiting_since, deadline, engagement) VALUES "
      "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
      "user=excluded.user, style=excluded.style, status=excluded.status, "
      "ticket=excluded.ticket, solved_at=excluded.solved_at, "
      "last_customer_activity=excluded.last_customer_activity, inactive=excluded.inactive, "
      "assignee=excluded.assignee, owner=excluded.owner, channels=excluded.channels, "
      "subject=excluded.subject, last_seq=excluded.last_seq, preview=excluded.preview, "
      "updated_ts=excluded.updated_ts, visitor_read_seq=excluded.visitor_read_seq, "
      "agent_read_seq=excluded.agent_read_seq, "
      "agent_delivered_seq=excluded.agent_delivered_seq, waiting_on=excluded.waiting_on, "
      "waiting_since=excluded.waiting_since, deadline=excluded.deadline, "
      "engagement=excluded.engagement");
  q.args(c.id, c.app, c.user, to_string(c.style), to_string(c.ticket.status), c.ticket.number,
         c.ticket.solved_at, c.ticket.last_customer_activity, c.ticket.inactive, c.ticket.assignee,
         owner_json(c.owner), channels_json(c.channels), c.subject, c.last_seq, c.preview,
         c.created_ts, c.updated_ts, c.visitor_read_seq, c.agent_read_seq, c.agent_delivered_seq,
         c.waiting_on, c.waiting_since);
  if (c.deadline) {
    q.bind(23, *c.deadline);
  } else {
    q.bind_null(23);
  }
  q.bind(24, e.dump());
  q.run();
}

Cursor Service::head(const std::string& user) {
  auto& q = db_.prepare(
      "SELECT MAX(COALESCE((SELECT MAX(cursor) FROM events WHERE user = ?1), 0), "
      "(SELECT log_floor FROM users WHERE id = ?1))");
  q.args(user);
  Cursor h = q.step() ? q.i64(0) : 0;
  q.reset();
  return h;
}

Cursor Service::append_event(const std::string& user, protocol::Event ev, TimeMs now) {
  auto& ins = db_.prepare("INSERT INTO events (user, ts, json) VALUES (?, ?, '')");
  ins.args(user, now).run();
  ev.cursor = db_.last_rowid();
  auto& upd = db_.prepare("UPDATE events SET json = ? WHERE cursor = ?");
  upd.args(event_json(ev), ev.cursor).run();
  advanced_.insert(user);
  return ev.cursor;
}

std::optional<Message> Service::find_dedupe(const std::string& user, const std::string& dedupe) {
  auto& q = db_.prepare("SELECT json FROM messages WHERE user = ? AND dedupe = ?");
  q.args(user, dedupe);
  if (!q.step()) return std::nullopt;
  auto m = protocol::message_from_json(parse_or_null(q.str(0)));
  q.reset();
  if (const auto* ok = get_if_ok(m)) return *ok;
  return std::nullopt;
}

Message Service::add_message(ConvRow& c, Participant author, Body body, const std::string& dedupe,
                             const std::string& cid, TimeMs now) {
  Message m;
  m.conv = c.id;
  m.seq = ++c.last_seq;
  m.id = new_id("m_");
  m.cid = cid;
  m.author = std::move(author);
  m.body = std::move(body);
  m.ts = now;
  m.ticket = c.ticket.number;
  auto& q = db_.prepare(
      "INSERT INTO messages (conv, seq, id, user, dedupe, json, ts) VALUES (?,?,?,?,?,?,?)");
  q.args(m.conv, m.seq, m.id, c.user);
  if (dedupe.empty()) {
    q.bind_null(5);
  } else {
    q.bind(5, dedupe);
  }
  q.bind(6, protocol::to_json(m).dump());
  q.bind(7, now);
  q.run();
  if (!m.body.text.empty()) c.preview = m.body.text.substr(0, 140);
  c.updated_ts = now;

  protocol::Event ev;
  ev.kind = protocol::EventKind::Message;
  ev.conv = c.id;
  ev.message = m;
  append_event(c.user, ev, now);
  return m;
}

protocol::Event Service::summary_event(const ConvRow& c) const {
  protocol::Event ev;
  ev.kind = protocol::EventKind::Conversation;
  ev.conv = c.id;
  ev.status = c.ticket.status;
  ev.ticket = c.ticket.number;
  ev.style = c.style;
  ev.owner = c.owner;
  ev.channels = c.channels;
  ev.subject = c.subject;
  ev.last_seq = c.last_seq;
  return ev;
}

Json Service::summary_json(const ConvRow& c, TimeMs now) const {
  std::string level = c.signal_level;
  if (level.empty()) level = std::string(engagement::to_string(c.tracker.level(now)));
  TimeMs latency = c.signal_latency_ms ? c.signal_latency_ms : c.tracker.avg_reply_latency_ms;
  bool present = c.signal_level.empty() ? c.tracker.present(now) : c.signal_present;
  Json chans = Json::array();
  for (const auto& b : c.channels) chans.push_back(protocol::to_json(b));
  auto& q = db_.prepare("SELECT name FROM users WHERE id = ?");
  q.args(c.user);
  const std::string user_name = q.step() ? q.str(0) : std::string();
  q.reset();
  return Json{
      {"conv", c.id},
      {"app", c.app},
      {"user", c.user},
      {"user_name", user_name},
      {"status", to_string(c.ticket.status)},
      {"ticket", c.ticket.number},
      {"style", to_string(c.style)},
      {"owner", protocol::to_json(c.owner)},
      {"channels", chans},
      {"subject", c.subject},
      {"last_seq", c.last_seq},
      {"preview", c.preview},
      {"waiting_on", c.waiting_on},
      {"waiting_since", c.waiting_since},
      {"visitor_read_seq", c.visitor_read_seq},
      {"agent_read_seq", c.agent_read_seq},
      {"inactive", c.ticket.inactive},
      {"updated_ts", c.updated_ts},
      {"engagement", {{"level", level}, {"reply_latency_ms", latency}, {"present", present}}}};
}

void Service::notify_agents(const ConvRow& c, const Message* m, TimeMs now) {
  // Nothing to build when no console of this app is connected.
  if (consoles_by_app_.count(c.app) == 0) return;
  agent_pushes_.emplace_back(
      c.app, Json{{"type", "conversation"}, {"conversation", summary_json(c, now)}}.dump());
  if (m != nullptr) {
    agent_pushes_.emplace_back(
        c.app,
        Json{{"type", "message"}, {"conv", c.id}, {"message", protocol::to_json(*m)}}.dump());
  }
}

void Service::refresh_deadline(ConvRow& c) {
  c.deadline = lifecycle::next_deadline(policy_for(c), c.ticket);
}

// Appends a status event when the ticket's status or number changed.
void Service::apply_status_change(ConvRow& c, const lifecycle::Ticket& before, TimeMs now) {
  refresh_deadline(c);
  if (c.ticket.status == before.status && c.ticket.number == before.number) return;
  protocol::Event ev;
  ev.kind = protocol::EventKind::Status;
  ev.conv = c.id;
  ev.status = c.ticket.status;
  ev.ticket = c.ticket.number;
  append_event(c.user, ev, now);
  if (c.ticket.status == Status::Solved || c.ticket.status == Status::Closed) {
    c.waiting_on = "none";
    c.waiting_since = now;
  }
}

void Service::handoff_event(ConvRow& c, std::string_view reason, const std::string& resume_token,
                            TimeMs now) {
  Participant system;
  system.role = Role::System;
  Message m;
  m.conv = c.id;
  m.seq = ++c.last_seq;
  m.id = new_id("m_");
  m.author = system;
  m.body = handoff::timeline_event(c.owner, c.channels, reason);
  m.ts = now;
  m.ticket = c.ticket.number;
  auto& q = db_.prepare(
      "INSERT INTO messages (conv, seq, id, user, dedupe, json, ts) VALUES (?,?,?,?,NULL,?,?)");
  q.args(m.conv, m.seq, m.id, c.user, protocol::to_json(m).dump(), now).run();
  c.updated_ts = now;

  protocol::Event ev;
  ev.kind = protocol::EventKind::Handoff;
  ev.conv = c.id;
  ev.message = m;
  ev.owner = c.owner;
  ev.channels = c.channels;
  ev.resume_token = resume_token;
  append_event(c.user, ev, now);
  notify_agents(c, &m, now);
}

void Service::fan_out_to_channels(const ConvRow& c, const Message& m, TimeMs now) {
  for (const auto& b : c.channels) {
    if (!b.active) continue;
    if (b.channel != Channel::Sms && b.channel != Channel::WhatsApp &&
        b.channel != Channel::Email) {
      continue;
    }
    Json j = {{"id", m.id},
              {"conv", m.conv},
              {"seq", m.seq},
              {"text", m.body.text},
              {"author", protocol::to_json(m.author)},
              {"ts", m.ts}};
    auto& q = db_.prepare(
        "INSERT INTO channel_outbox (channel, address, conv, seq, json, ts) VALUES (?,?,?,?,?,?)");
    q.args(to_string(b.channel), b.address, c.id, m.seq, j.dump(), now).run();
  }
}

std::optional<hours::Availability> Service::availability(const AppConfig& app, TimeMs now) const {
  if (!app.has_hours) return std::nullopt;
  return hours::evaluate(app.hours, offset_fn(app.hours.tz), now);
}

ConvRow Service::create_conv(const AppConfig& app, const std::string& id, const std::string& user,
                             TimeMs now) {
  ConvRow c;
  c.id = id;
  c.app = app.id;
  c.user = user;
  c.style = app.policy.style;
  c.ticket.status = Status::New;
  c.owner.kind = app.bot ? ControlOwner::Kind::Bot : ControlOwner::Kind::Queue;
  c.channels = handoff::bind({}, Channel::Web, "", now);
  c.created_ts = now;
  c.updated_ts = now;
  return c;
}

// ------------------------------------------------------------------------ message paths

Message Service::visitor_message(ConvRow& c, const AppConfig& app, Body body,
                                 const std::string& dedupe, const std::string& cid, TimeMs now) {
  const lifecycle::Ticket before = c.ticket;
  auto d = lifecycle::on_customer_message(policy_for(c), c.ticket, app.locale, body, now);
  c.ticket = d.ticket;
  const bool new_ticket = d.outcome == lifecycle::Outcome::NewTicket;
  if (new_ticket) {
    // A returning visitor after a close: a fresh ticket starts with the first responder.
    c.owner = ControlOwner{};
    c.owner.kind = app.bot ? ControlOwner::Kind::Bot : ControlOwner::Kind::Queue;
  }
  Participant author{Role::Visitor, c.user, ""};
  Message m = add_message(c, author, std::move(body), dedupe, cid, now);
  apply_status_change(c, before, now);
  if (d.outcome != lifecycle::Outcome::Ignored) {
    if (c.waiting_on != "agent") c.waiting_since = now;
    c.waiting_on = "agent";
    c.tracker.on_customer_message(now);
  }
  if (c.subject.empty() && !m.body.text.empty()) c.subject = m.body.text.substr(0, 80);
  save_conv(c);
  notify_agents(c, &m, now);
  bot_and_away(c, app, m, d.outcome, now);
  return m;
}

void Service::bot_and_away(ConvRow& c, const AppConfig& app, const Message& m,
                           lifecycle::Outcome outcome, TimeMs now) {
  if (outcome == lifecycle::Outcome::Ignored) return;
  const auto avail = availability(app, now);
  if (c.owner.kind == ControlOwner::Kind::Bot && app.bot) {
    if (m.body.text.empty()) return;
    BotContext ctx;
    ctx.open = !avail || avail->open;
    ctx.hours_text = app.has_hours ? describe_hours(app.hours) : "around the clock";
    if (avail && !avail->open && avail->next_change_ts > 0) {
      ctx.next_open_text = describe_local(app.hours, avail->next_change_ts);
    }
    BotReply reply = answer(m.body.text, ctx);
    Participant bot{Role::Bot, "bot", "Parley Bot"};
    if (!reply.to_queue) {
      agent_message(c, bot, std::move(reply.body), "", now);
      return;
    }
    add_message(c, bot, std::move(reply.body), "", "", now);
    auto moved = handoff::transfer(c.owner, handoff::ControlRequest::ToQueue, "", "");
    if (const auto* owner = std::get_if<ControlOwner>(&moved)) {
      c.owner = *owner;
      auto& q = db_.prepare(
          "SELECT COUNT(*) FROM conversations WHERE app = ? AND id != ? AND "
          "json_extract(owner, '$.kind') = 'queue' AND waiting_on = 'agent'");
      q.args(c.app, c.id);
      c.owner.queue_position = q.step() ? static_cast<int>(q.i64(0)) + 1 : 1;
      q.reset();
      handoff_event(c, "visitor asked for a person", "", now);
    }
    save_conv(c);
    return;
  }
  // A person answers this conversation: outside business hours, say when we are back.
  if (avail && !avail->open && now >= c.away_notice_until) {
    Body body;
    std::string back = avail->next_change_ts > 0 ? describe_local(app.hours, avail->next_change_ts)
                                                 : std::string("soon");
    body.text = "We're away right now and back " + back +
                ". We'll answer here, and you'll see it next time you visit.";
    body.event = Json{{"type", "away"}, {"next_open", avail->next_change_ts}};
    add_message(c, Participant{Role::System, "", ""}, std::move(body), "", "", now);
    c.away_notice_until = avail->next_change_ts > 0 ? avail->next_change_ts : now + lifecycle::kDay;
    save_conv(c);
  }
}

Message Service::agent_message(ConvRow& c, Participant author, Body body, const std::string& dedupe,
                               TimeMs now) {
  const lifecycle::Ticket before = c.ticket;
  auto d = lifecycle::on_agent_message(policy_for(c), c.ticket, author.id, now);
  c.ticket = d.ticket;
  Message m = add_message(c, std::move(author), std::move(body), dedupe, "", now);
  apply_status_change(c, before, now);
  c.waiting_on = "customer";
  c.waiting_since = now;
  c.tracker.on_agent_message(now);
  fan_out_to_channels(c, m, now);
  save_conv(c);
  notify_agents(c, &m, now);
  return m;
}

// ------------------------------------------------------------------------ identity

std::string Service::create_user(const AppConfig& app, bool anonymous, const std::string& external,
                                 const std::string& name, TimeMs now) {
  std::string id = new_id("u_");
  auto& q = db_.prepare(
      "INSERT INTO users (id, app, anonymous, external_id, name, created_ts) VALUES (?,?,?,?,?,?)");
  q.args(id, app.id, anonymous);
  if (external.empty()) {
    q.bind_null(4);
  } else {
    q.bind(4, external);
  }
  q.bind(5, name);
  q.bind(6, now);
  q.run();
  return id;
}

std::optional<Error> Service::resolve_token(const AppConfig& app, std::string_view token,
                                            Identity& out, TimeMs now, bool allow_jwt) {
  if (token.rfind("pv1.", 0) == 0) {
    auto v = verify_token(cfg_.token_secret, token);
    if (const auto* e = std::get_if<Error>(&v)) return *e;
    const auto& claims = std::get<TokenClaims>(v);
    if (claims.app != app.id) {
      return make_error(ErrorCode::Unauthorized, "the token belongs to another app");
    }
    auto& q = db_.prepare("SELECT anonymous, merged_into FROM users WHERE id = ?");
    q.args(claims.user);
    if (!q.step()) return make_error(ErrorCode::Unauthorized, "unknown user");
    bool merged = !q.is_null(1);
    out.anonymous = q.i64(0) != 0;
    q.reset();
    if (merged) {
      return make_error(ErrorCode::Unauthorized, "this visitor was merged into a signed-in user");
    }
    out.user = claims.user;
    return std::nullopt;
  }
  if (allow_jwt && looks_like_jwt(token)) {
    auto v = verify_jwt(app.jwt_secret, app.jwt_audience, token, now);
    if (const auto* e = std::get_if<Error>(&v)) return *e;
    const auto& claims = std::get<JwtClaims>(v);
    auto& q = db_.prepare("SELECT id FROM users WHERE app = ? AND external_id = ?");
    q.args(app.id, claims.sub);
    if (q.step()) {
      out.user = q.str(0);
      q.reset();
    } else {
      q.reset();
      out.user = create_user(app, false, claims.sub, claims.name, now);
    }
    out.anonymous = false;
    return std::nullopt;
  }
  return make_error(ErrorCode::Unauthorized, "unrecognised token");
}

std::string Service::token_for(const AppConfig& app, const Identity& id, TimeMs now) {
  TokenClaims c;
  c.app = app.id;
  c.user = id.user;
  c.anonymous = id.anonymous;
  c.issued = now;
  c.nonce = new_id("");
  return issue_token(cfg_.token_secret, c);
}

std::optional<Error> Service::merge_users(const std::string& from, const std::string& into,
                                          TimeMs now) {
  if (from == into) return std::nullopt;
  db_.prepare("UPDATE users SET merged_into = ? WHERE id = ?").args(into, from).run();
  db_.prepare("DELETE FROM devices WHERE user = ?").args(from).run();
  db_.prepare("UPDATE files SET user = ? WHERE user = ?").args(into, from).run();
  std::vector<std::string> convs;
  {
    auto& q = db_.prepare("SELECT id FROM conversations WHERE user = ? ORDER BY created_ts");
    q.args(from);
    while (q.step()) convs.push_back(q.str(0));
    q.reset();
  }
  for (const auto& id : convs) {
    db_.prepare("UPDATE conversations SET user = ? WHERE id = ?").args(into, id).run();
    db_.prepare("UPDATE messages SET user = ? WHERE conv = ?").args(into, id).run();
    auto c = load_conv(id);
    if (!c) continue;
    // The new owner's log learns the conversation exists and that its messages are to be
    // fetched with history: an explicit gap, never an inferred one.
    append_event(into, summary_event(*c), now);
    if (c->last_seq > 0) {
      protocol::Event gap;
      gap.kind = protocol::EventKind::Gap;
      gap.conv = id;
      gap.gap = Gap{1, c->last_seq};
      append_event(into, gap, now);
    }
    notify_agents(*c, nullptr, now);
  }
  return std::nullopt;
}

// ------------------------------------------------------------------------ frames

std::vector<std::string> Service::on_frame(SessionId sid, std::string_view text, TimeMs now) {
  auto found = sessions_.find(sid);
  if (found == sessions_.end() || found->second.agent) {
    return {error_frame("", make_error(ErrorCode::ServerError, "no such session"))};
  }
  Session& s = found->second;
  auto decoded = protocol::decode_client(text);
  if (!rate_ok(s, now)) {
    // Not applied. The request id is echoed so the client retries that request (with
    // backoff) instead of waiting for its timeout.
    std::string req;
    if (decoded.ok()) {
      std::visit(
          [&](const auto& f) {
            if constexpr (requires { f.req; }) req = f.req;
          },
          decoded.frame());
    }
    return {error_frame(req, make_error(ErrorCode::RateLimited, "too many frames; slow down"))};
  }
  if (!decoded.ok()) {
    // Echo the request id when the frame is JSON with a usable one, so the client can tie
    // the error to its request.
    std::string req;
    if (text.size() <= protocol::kMaxFrameBytes) {
      Json j = parse_or_null(text);
      if (j.is_object() && j.contains("req") && j["req"].is_string()) {
        req = j["req"].get<std::string>();
        if (req.size() > protocol::kMaxIdBytes) req.clear();
      }
    }
    if (decoded.error().code == ErrorCode::UnsupportedVersion) close_requested_.insert(sid);
    return {error_frame(req, decoded.error())};
  }
  try {
    return std::visit(
        [&](const auto& f) -> std::vector<std::string> {
          using T = std::decay_t<decltype(f)>;
          if constexpr (std::is_same_v<T, protocol::Hello>) {
            return on_hello(s, f, now);
          } else if constexpr (std::is_same_v<T, protocol::Ping>) {
            protocol::Pong p{f.req, now};
            return {protocol::encode(protocol::ServerFrame{p})};
          } else {
            if (s.user.empty()) {
              std::string req;
              if constexpr (requires { f.req; }) req = f.req;
              return {error_frame(req, make_error(ErrorCode::Unauthorized,
                                                  "say hello (or send a bearer token) first"))};
            }
            if constexpr (std::is_same_v<T, protocol::Send>) return on_send(s, f, now);
            if constexpr (std::is_same_v<T, protocol::Upload>) return on_upload(s, f, now);
            if constexpr (std::is_same_v<T, protocol::History>) return on_history(s, f);
            if constexpr (std::is_same_v<T, protocol::Sync>) return on_sync(s, f);
            if constexpr (std::is_same_v<T, protocol::MarkRead>) return on_read(s, f, now);
            if constexpr (std::is_same_v<T, protocol::Typing>) return on_typing(s, f, now);
            if constexpr (std::is_same_v<T, protocol::HandoffRequest>) {
              return on_handoff(s, f, now);
            }
            if constexpr (std::is_same_v<T, protocol::Engagement>) {
              return on_engagement(s, f, now);
            }
            return {};
          }
        },
        decoded.frame());
  } catch (const std::exception& e) {
    discard();
    std::string req;
    std::visit(
        [&](const auto& f) {
          if constexpr (requires { f.req; }) req = f.req;
        },
        decoded.frame());
    return {error_frame(req, make_error(ErrorCode::ServerError, "storage error; retry"))};
  }
}

std::vector<std::string> Service::on_hello(Session& s, const protocol::Hello& h, TimeMs now) {
  const AppConfig& app = app_of(s);
  Identity id;
  std::vector<std::string> extra;
  Db::Txn txn(db_);
  if (h.token.empty()) {
    auto& q = db_.prepare(
        "SELECT u.id FROM devices d JOIN users u ON u.id = d.user WHERE d.app = ? AND "
        "d.device = ? AND u.anonymous = 1 AND u.merged_into IS NULL");
    q.args(app.id, h.device);
    if (q.step()) {
      id.user = q.str(0);
      q.reset();
    } else {
      q.reset();
      id.user = create_user(app, true, "", "", now);
      db_.prepare("INSERT OR REPLACE INTO devices (app, device, user) VALUES (?,?,?)")
          .args(app.id, h.device, id.user)
          .run();
    }
    id.anonymous = true;
  } else if (auto e = resolve_token(app, h.token, id, now, /*allow_jwt=*/true)) {
    return {error_frame("", *e)};
  }
  if (!h.merge_token.empty() && !id.anonymous) {
    Identity prev;
    if (!resolve_token(app, h.merge_token, prev, now, false) && prev.anonymous &&
        prev.user != id.user) {
      merge_users(prev.user, id.user, now);
    }
  }
  if (!h.resume_token.empty()) {
    auto& q = db_.prepare(
        "SELECT r.user, u.anonymous FROM resume_tokens r JOIN users u ON u.id = r.user "
        "WHERE r.token = ? AND r.used = 0 AND r.expires > ? AND u.merged_into IS NULL");
    q.args(h.resume_token, now);
    if (!q.step()) {
      q.reset();
      extra.push_back(error_frame(
          "", make_error(ErrorCode::NotFound, "this continue link has expired or was used")));
    } else {
      std::string owner = q.str(0);
      bool owner_anonymous = q.i64(1) != 0;
      q.reset();
      db_.prepare("UPDATE resume_tokens SET used = 1 WHERE token = ?").args(h.resume_token).run();
      if (owner != id.user) {
        if (id.anonymous) {
          merge_users(id.user, owner, now);
          id = Identity{owner, owner_anonymous};
          if (owner_anonymous) {
            db_.prepare("INSERT OR REPLACE INTO devices (app, device, user) VALUES (?,?,?)")
                .args(app.id, h.device, owner)
                .run();
          }
        } else if (owner_anonymous) {
          merge_users(owner, id.user, now);
        } else {
          return {error_frame("", make_error(ErrorCode::Forbidden,
                                             "this conversation belongs to another account"))};
        }
      }
    }
  }
  txn.commit();
  publish();

  if (!s.user.empty() && s.user != id.user) {
    auto live = live_by_user_.find(s.user);
    if (live != live_by_user_.end()) {
      live->second.erase(s.id);
      if (live->second.empty()) live_by_user_.erase(live);
    }
  }
  s.user = id.user;
  Cursor h_cursor = head(id.user);
  s.pushed = h_cursor;
  if (s.live) live_by_user_[id.user].insert(s.id);
  protocol::Welcome w;
  w.user = id.user;
  w.token = token_for(app, id, now);
  w.cursor = h_cursor;
  w.server_time = now;
  w.availability = availability(app, now);
  std::vector<std::string> out{protocol::encode(protocol::ServerFrame{w})};
  if (h.cursor > h_cursor) out.push_back(reset_frame(id.user));
  if (s.live) {
    // Who is answering, and whether they are here now.
    std::vector<std::string> ids;
    auto& q = db_.prepare(
        "SELECT id FROM conversations WHERE user = ? AND json_extract(owner, '$.kind') = "
        "'agent' AND status != 'closed'");
    q.args(id.user);
    while (q.step()) ids.push_back(q.str(0));
    q.reset();
    for (const auto& conv : ids) {
      if (auto c = load_conv(conv)) push_presence(*c, {s.id});
    }
  }
  for (auto& e : extra) out.push_back(std::move(e));
  return out;
}

std::vector<std::string> Service::on_send(Session& s, const protocol::Send& f, TimeMs now) {
  auto ack_of = [&](const Message& m) {
    protocol::Ack a;
    a.req = f.req;
    a.cid = f.cid;
    a.conv = m.conv;
    a.id = m.id;
    a.seq = m.seq;
    a.ts = m.ts;
    return protocol::encode(protocol::ServerFrame{a});
  };
  Db::Txn txn(db_);
  if (auto known = find_dedupe(s.user, f.cid)) return {ack_of(*known)};
  const AppConfig& app = app_of(s);
  auto c = load_conv(f.conv);
  if (c && (c->user != s.user || c->app != app.id)) {
    return {error_frame(
        f.req, make_error(ErrorCode::Forbidden, "that conversation id belongs to someone else"))};
  }
  if (!c) {
    c = create_conv(app, f.conv, s.user, now);
    save_conv(*c);
    append_event(c->user, summary_event(*c), now);
  }
  Message m = visitor_message(*c, app, f.body, f.cid, f.cid, now);
  txn.commit();
  publish();
  return {ack_of(m)};
}

std::vector<std::string> Service::on_upload(Session& s, const protocol::Upload& f, TimeMs now) {
  // The bytes must already be here (PUT /v1/files/{id}); until they are, the client retries
  // with backoff, so the error is recoverable.
  auto& q = db_.prepare("SELECT size, created_ts FROM files WHERE id = ? AND user = ?");
  q.args(f.cid, s.user);
  if (!q.step()) {
    q.reset();
    return {error_frame(f.req, Error{ErrorCode::NotFound, Recoverability::Recoverable,
                                     "upload the bytes first: PUT /v1/files/" + f.cid})};
  }
  const std::int64_t size = q.i64(0);
  const TimeMs stored = q.i64(1);
  q.reset();
  if (size != f.attachment.size) {
    return {error_frame(
        f.req, make_error(ErrorCode::Conflict, "the uploaded file has " + std::to_string(size) +
                                                   " bytes, the attachment says " +
                                                   std::to_string(f.attachment.size)))};
  }
  (void)now;
  protocol::Ack a;
  a.req = f.req;
  a.cid = f.cid;
  a.conv = f.conv;
  a.ts = stored;  // the same answer every time: the upload is idempotent
  a.url = file_url(f.cid);
  return {protocol::encode(protocol::ServerFrame{a})};
}

bool Service::allowed_mime(std::string_view mime) {
  for (std::string_view ok :
       {"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"}) {
    if (mime == ok) return true;
  }
  return false;
}

namespace {
bool valid_file_id(std::string_view id) {
  if (id.empty() || id.size() > protocol::kMaxIdBytes) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}
}  // namespace

HttpResult Service::put_file(SessionId sid, std::string_view id, std::string_view mime,
                             std::string_view bytes, TimeMs now) {
  auto found = sessions_.find(sid);
  if (found == sessions_.end() || found->second.user.empty()) {
    return http_error(401, make_error(ErrorCode::Unauthorized, "a visitor token is required"));
  }
  if (!valid_file_id(id)) {
    return http_error(
        400, make_error(ErrorCode::InvalidField, "file id: 1..128 letters, digits, '_' or '-'"));
  }
  std::string type(mime.substr(0, mime.find(';')));
  if (!allowed_mime(type)) {
    return http_error(
        415, make_error(ErrorCode::InvalidField, "file type not allowed: " + type.substr(0, 100) +
                                                     " (images, PDF and plain text are)"));
  }
  if (bytes.size() > kMaxFileBytes) {
    return http_error(413, make_error(ErrorCode::FrameTooLarge, "files are limited to 10 MiB"));
  }
  return guarded([&]() -> HttpResult {
    Db::Txn txn(db_);
    auto& q = db_.prepare("SELECT user, size FROM files WHERE id = ?");
    q.args(id);
    if (q.step()) {
      const bool mine = q.str(0) == found->second.user;
      const bool same = q.i64(1) == static_cast<std::int64_t>(bytes.size());
      q.reset();
      if (!mine) return http_error(403, make_error(ErrorCode::Forbidden, "not your file"));
      if (!same) {
        return http_error(409, make_error(ErrorCode::Conflict, "a different file has this id"));
      }
      return {200, Json{{"id", id}, {"url", file_url(id)}}.dump()};
    }
    q.reset();
    db_.prepare(
           "INSERT INTO files (id, app, user, mime, size, data, created_ts) VALUES "
           "(?,?,?,?,?,?,?)")
        .args(id, found->second.app, found->second.user, type,
              static_cast<std::int64_t>(bytes.size()))
        .bind_blob(6, bytes)
        .bind(7, now)
        .run();
    txn.commit();
    return {201, Json{{"id", id}, {"url", file_url(id)}}.dump()};
  });
}

std::string Service::file_url(std::string_view id) const {
  return "/v1/files/" + std::string(id) + "?sig=" + sign_capability(cfg_.token_secret, id);
}

std::variant<Service::File, HttpResult> Service::get_file(SessionId sid, const AgentConfig* agent,
                                                          std::string_view id,
                                                          std::string_view sig) {
  const bool signed_url = check_capability(cfg_.token_secret, id, sig);
  std::string viewer;
  if (auto found = sessions_.find(sid); found != sessions_.end()) viewer = found->second.user;
  if (!signed_url && agent == nullptr && viewer.empty()) {
    return http_error(401, make_error(ErrorCode::Unauthorized, "a token is required"));
  }
  auto& q = db_.prepare("SELECT user, mime, data FROM files WHERE id = ?");
  q.args(id);
  if (!q.step() || (!signed_url && agent == nullptr && q.str(0) != viewer)) {
    q.reset();
    return http_error(404, make_error(ErrorCode::NotFound, "no such file"));
  }
  File f{q.str(1), q.blob(2)};
  q.reset();
  return f;
}

protocol::Page Service::page(const std::string& conv, Seq before, Seq after, int limit,
                             const std::string& req) {
  protocol::Page p;
  p.req = req;
  p.conv = conv;
  const Seq upper = before > 0 ? before : std::numeric_limits<Seq>::max();
  const bool forward = after >= 0;
  auto& q = db_.prepare(forward ? "SELECT json FROM messages WHERE conv = ? AND seq > ? AND "
                                  "seq < ? ORDER BY seq ASC LIMIT ?"
                                : "SELECT json FROM messages WHERE conv = ? AND seq > ? AND "
                                  "seq < ? ORDER BY seq DESC LIMIT ?");
  q.args(conv, forward ? after : Seq{0}, upper, limit + 1);
  while (q.step()) {
    auto parsed = protocol::message_from_json(parse_or_null(q.str(0)));
    if (const auto* m = get_if_ok(parsed)) {
      p.messages.push_back(*m);
    }
  }
  q.reset();
  p.complete = p.messages.size() <= static_cast<std::size_t>(limit);
  if (!p.complete) p.messages.pop_back();
  if (!forward) std::reverse(p.messages.begin(), p.messages.end());
  if (!p.complete && !p.messages.empty()) {
    p.next = forward ? p.messages.back().seq : p.messages.front().seq;
  }
  return p;
}

std::vector<std::string> Service::on_history(Session& s, const protocol::History& f) {
  auto c = load_conv(f.conv);
  if (!c || c->user != s.user) {
    return {error_frame(f.req, make_error(ErrorCode::NotFound, "no such conversation"))};
  }
  return {protocol::encode(protocol::ServerFrame{page(f.conv, f.before, f.after, f.limit, f.req)})};
}

std::string Service::events_frame(const std::string& user, Cursor after, int limit,
                                  const std::string& req, bool* more_out, Cursor* last_out) {
  auto& q = db_.prepare(
      "SELECT cursor, json FROM events WHERE user = ? AND cursor > ? ORDER BY cursor LIMIT ?");
  q.args(user, after, limit + 1);
  std::string events;
  Cursor last = after;
  int n = 0;
  bool more = false;
  while (q.step()) {
    if (n == limit) {
      more = true;
      break;
    }
    if (n++) events += ',';
    events += q.str(1);
    last = q.i64(0);
  }
  q.reset();
  if (more_out) *more_out = more;
  if (last_out) *last_out = last;
  std::string out = R"({"type":"events",)";
  if (!req.empty()) out += "\"req\":" + Json(req).dump() + ",";
  out += "\"from\":" + std::to_string(after) + ",\"cursor\":" + std::to_string(last) +
         ",\"more\":" + (more ? "true" : "false") + ",\"events\":[" + events + "]}";
  return out;
}

std::string Service::reset_frame(const std::string& user) {
  protocol::Reset r;
  r.cursor = head(user);
  auto& q = db_.prepare("SELECT id FROM conversations WHERE user = ? ORDER BY created_ts");
  q.args(user);
  std::vector<std::string> ids;
  while (q.step()) ids.push_back(q.str(0));
  q.reset();
  for (const auto& id : ids) {
    if (auto c = load_conv(id)) {
      auto ev = summary_event(*c);
      ev.cursor = r.cursor;
      r.conversations.push_back(std::move(ev));
    }
  }
  return protocol::encode(protocol::ServerFrame{r});
}

// A cursor the log cannot continue from: older than what the horizon kept, or ahead of the
// head (the store was restored from a backup). The answer is a reset.
bool Service::beyond_horizon(const std::string& user, Cursor after) {
  auto& q = db_.prepare("SELECT log_floor FROM users WHERE id = ?");
  q.args(user);
  Cursor floor = q.step() ? q.i64(0) : 0;
  q.reset();
  return after < floor || after > head(user);
}

std::vector<std::string> Service::on_sync(Session& s, const protocol::Sync& f) {
  if (beyond_horizon(s.user, f.after)) return {reset_frame(s.user)};
  return {events_frame(s.user, f.after, f.limit, f.req)};
}

std::optional<std::string> Service::poll_events(SessionId sid, Cursor after, TimeMs now) {
  (void)now;
  auto found = sessions_.find(sid);
  if (found == sessions_.end() || found->second.user.empty()) return std::nullopt;
  bool more = false;
  Cursor last = after;
  if (beyond_horizon(found->second.user, after)) return reset_frame(found->second.user);
  std::string frame = events_frame(found->second.user, after, kPushLimit, "", &more, &last);
  if (last == after) return std::nullopt;
  return frame;
}

std::vector<std::string> Service::on_read(Session& s, const protocol::MarkRead& f, TimeMs now) {
  Db::Txn txn(db_);
  auto c = load_conv(f.conv);
  if (!c || c->user != s.user) {
    return {error_frame("", make_error(ErrorCode::NotFound, "no such conversation"))};
  }
  Seq seq = std::min(f.seq, c->last_seq);
  if (seq <= c->visitor_read_seq) return {};  // markers only move forward
  c->visitor_read_seq = seq;
  c->tracker.last_seen_ts = now;
  save_conv(*c);
  protocol::Event ev;
  ev.kind = protocol::EventKind::Read;
  ev.conv = c->id;
  ev.reader = Role::Visitor;
  ev.seq = seq;
  append_event(c->user, ev, now);
  notify_agents(*c, nullptr, now);
  txn.commit();
  publish();
  return {};
}

std::vector<std::string> Service::on_typing(Session& s, const protocol::Typing& f, TimeMs now) {
  auto c = load_conv(f.conv);
  if (!c || c->user != s.user) {
    return {error_frame("", make_error(ErrorCode::NotFound, "no such conversation"))};
  }
  (void)now;
  Json sig = {{"type", "signal"},
              {"conv", c->id},
              {"kind", "typing"},
              {"who", {{"role", "visitor"}, {"id", s.user}}},
              {"on", f.on}};
  agent_pushes_.emplace_back(c->app, sig.dump());
  publish();
  return {};
}

std::vector<std::string> Service::on_handoff(Session& s, const protocol::HandoffRequest& f,
                                             TimeMs now) {
  if (!handoff::is_link_request(f.channel, f.address)) {
    if (auto e = handoff::validate_address(f.channel, f.address)) return {error_frame(f.req, *e)};
  }
  Db::Txn txn(db_);
  auto c = load_conv(f.conv);
  if (!c || c->user != s.user) {
    return {error_frame(f.req, make_error(ErrorCode::NotFound, "no such conversation"))};
  }
  std::string resume;
  if (f.channel == Channel::Device) {
    resume = new_id("r_");
    db_.prepare("INSERT INTO resume_tokens (token, user, conv, expires) VALUES (?,?,?,?)")
        .args(resume, c->user, c->id, now + kResumeTokenTtl)
        .run();
    handoff_event(*c, "continue on another device", resume, now);
  } else {
    c->channels = handoff::bind(c->channels, f.channel, f.address, now);
    handoff_event(*c, "visitor continues by " + std::string(to_string(f.channel)), "", now);
  }
  save_conv(*c);
  txn.commit();
  publish();
  protocol::Ack a;
  a.req = f.req;
  a.conv = f.conv;
  a.ts = now;
  return {protocol::encode(protocol::ServerFrame{a})};
}

std::vector<std::string> Service::on_engagement(Session& s, const protocol::Engagement& f,
                                                TimeMs now) {
  Db::Txn txn(db_);
  db_.prepare(
         "UPDATE conversations SET engagement = json_set(engagement, '$.level', ?, "
         "'$.latency', ?, '$.present', json(?), '$.seen', ?) WHERE user = ? AND status != "
         "'closed'")
      .args(f.level, f.reply_latency_ms, std::string(f.present ? "true" : "false"), now, s.user)
      .run();
  txn.commit();
  return {};
}

// ------------------------------------------------------------------------ agent API

const AgentConfig* Service::agent_for_token(std::string_view token) const {
  if (token.empty()) return nullptr;
  for (const auto& a : cfg_.agents) {
    if (a.token.size() == token.size() &&
        CRYPTO_memcmp(a.token.data(), token.data(), token.size()) == 0) {
      return &a;
    }
  }
  return nullptr;
}

namespace {

Json parse_body(std::string_view body, std::optional<Error>& err) {
  Json j = parse_or_null(body);
  if (j.is_discarded() || !j.is_object()) {
    err = make_error(ErrorCode::MalformedFrame, "the body must be a JSON object");
  }
  return j;
}

int status_for(const Error& e) {
  switch (e.code) {
    case ErrorCode::NotFound:
      return 404;
    case ErrorCode::Conflict:
      return 409;
    case ErrorCode::Unauthorized:
      return 401;
    case ErrorCode::Forbidden:
      return 403;
    case ErrorCode::RateLimited:
      return 429;
    case ErrorCode::ServerError:
      return 500;
    default:
      return 400;
  }
}

HttpResult json_result(int status, const Json& j) {
  return {status, j.dump()};
}

}  // namespace

HttpResult Service::agent_list(const AgentConfig& a, std::string_view app_id, TimeMs now) {
  (void)a;
  const AppConfig* app = cfg_.app(app_id);
  if (app == nullptr) return http_error(404, make_error(ErrorCode::NotFound, "no such app"));
  std::vector<std::string> ids;
  auto& q =
      db_.prepare("SELECT id FROM conversations WHERE app = ? ORDER BY updated_ts DESC LIMIT 500");
  q.args(app->id);
  while (q.step()) ids.push_back(q.str(0));
  q.reset();
  std::vector<ConvRow> rows;
  for (const auto& id : ids) {
    if (auto c = load_conv(id)) rows.push_back(std::move(*c));
  }
  // The order is the core's rule (engagement::serve_first).
  std::vector<std::pair<engagement::QueueEntry, Json>> queue;
  for (const auto& c : rows) {
    Json summary = summary_json(c, now);
    engagement::QueueEntry e;
    using W = engagement::QueueEntry::Waiting;
    if (c.ticket.status == Status::Closed) {
      e.waiting = W::Closed;
    } else if (c.ticket.status == Status::Solved) {
      e.waiting = W::Solved;
    } else {
      e.waiting = c.waiting_on == "agent" ? W::Agent : W::Customer;
    }
    e.level = engagement::level_from_string(summary["engagement"]["level"].get<std::string>())
                  .value_or(engagement::Level::Away);
    e.reply_latency_ms = summary["engagement"]["reply_latency_ms"].get<TimeMs>();
    e.waiting_since = c.waiting_since;
    e.updated_ts = c.updated_ts;
    queue.emplace_back(e, std::move(summary));
  }
  std::stable_sort(queue.begin(), queue.end(), [](const auto& x, const auto& y) {
    return engagement::serve_first(x.first, y.first);
  });
  std::vector<Json> summaries;
  for (auto& [e, summary] : queue) summaries.push_back(std::move(summary));
  Json out = {{"conversations", Json::array()}};
  for (auto& s : summaries) out["conversations"].push_back(std::move(s));
  return json_result(200, out);
}

HttpResult Service::agent_get(const AgentConfig& a, std::string_view conv, TimeMs now) {
  (void)a;
  auto c = load_conv(conv);
  if (!c) return http_error(404, make_error(ErrorCode::NotFound, "no such conversation"));
  return json_result(200, summary_json(*c, now));
}

HttpResult Service::agent_messages(const AgentConfig& a, std::string_view conv, Seq before,
                                   Seq after, int limit) {
  (void)a;
  auto c = load_conv(conv);
  if (!c) return http_error(404, make_error(ErrorCode::NotFound, "no such conversation"));
  if (limit < 1 || limit > static_cast<int>(protocol::kMaxPageLimit) || before < 0) {
    return http_error(400, make_error(ErrorCode::InvalidField, "limit must be 1..200"));
  }
  auto p = page(c->id, before, after, limit, "agent");
  Json msgs = Json::array();
  for (const auto& m : p.messages) msgs.push_back(protocol::to_json(m));
  return json_result(200, {{"messages", msgs}, {"complete", p.complete}, {"next", p.next}});
}

HttpResult Service::agent_post(const AgentConfig& a, std::string_view conv, std::string_view body,
                               TimeMs now) {
  std::optional<Error> err;
  Json j = parse_body(body, err);
  if (err) return http_error(400, *err);
  Json b = Json::object();
  for (const char* k : {"text", "rich", "payload", "attachments"}) {
    if (j.contains(k)) b[k] = j[k];
  }
  auto parsed = protocol::body_from_json(b);
  if (const auto* e = std::get_if<Error>(&parsed)) return http_error(status_for(*e), *e);
  std::string cid;
  if (j.contains("cid")) {
    if (!j["cid"].is_string() || j["cid"].get<std::string>().empty() ||
        j["cid"].get<std::string>().size() > protocol::kMaxIdBytes) {
      return http_error(400, make_error(ErrorCode::InvalidField, "cid: expected an id"));
    }
    cid = j["cid"].get<std::string>();
  }
  return guarded([&]() -> HttpResult {
    Db::Txn txn(db_);
    auto c = load_conv(conv);
    if (!c) return http_error(404, make_error(ErrorCode::NotFound, "no such conversation"));
    std::string dedupe = cid.empty() ? std::string() : "agent:" + a.id + ":" + cid;
    if (!dedupe.empty()) {
      if (auto known = find_dedupe(c->user, dedupe)) {
        return json_result(201, {{"message", protocol::to_json(*known)}});
      }
    }
    if (c->ticket.status == Status::Closed && !lifecycle::is_survey(std::get<Body>(parsed))) {
      return http_error(409, make_error(ErrorCode::Conflict,
                                        "the conversation is closed; the customer starts a new "
                                        "ticket by writing again"));
    }
    if (c->owner.kind != ControlOwner::Kind::Agent || c->owner.agent_id != a.id) {
      auto moved = handoff::transfer(c->owner, handoff::ControlRequest::ToAgent, a.id, a.name);
      if (const auto* owner = std::get_if<ControlOwner>(&moved)) {
        c->owner = *owner;
        c->ticket.assignee = a.id;
        handoff_event(*c, "agent joined", "", now);
        auto live = live_by_user_.find(c->user);
        if (live != live_by_user_.end()) push_presence(*c, live->second);
      }
    }
    Message m = agent_message(*c, Participant{Role::Agent, a.id, a.name}, std::get<Body>(parsed),
                              dedupe, now);
    txn.commit();
    publish();
    return json_result(201, {{"message", protocol::to_json(m)}});
  });
}

HttpResult Service::agent_typing(const AgentConfig& a, std::string_view conv, std::string_view body,
                                 TimeMs now) {
  (void)now;
  std::optional<Error> err;
  Json j = parse_body(body, err);
  if (err) return http_error(400, *err);
  if (!j.contains("on") || !j["on"].is_boolean()) {
    return http_error(400, make_error(ErrorCode::InvalidField, "on: expected true or false"));
  }
  auto c = load_conv(conv);
  if (!c) return http_error(404, make_error(ErrorCode::NotFound, "no such conversation"));
  protocol::Signal sig;
  sig.conv = c->id;
  sig.kind = "typing";
  sig.who = Participant{Role::Agent, a.id, a.name};
  sig.on = j["on"].get<bool>();
  std::string frame = protocol::encode(protocol::ServerFrame{sig});
  auto live = live_by_user_.find(c->user);
  if (live != live_by_user_.end()) {
    for (SessionId sid : live->second) pushes_.push_back({sid, frame});
  }
  return {204, ""};
}

HttpResult Service::agent_read(const AgentConfig& a, std::string_view conv, std::string_view body,
                               TimeMs now) {
  (void)a;
  std::optional<Error> err;
  Json j = parse_body(body, err);
  if (err) return http_error(400, *err);
  if (!j.contains("seq") || !j["seq"].is_number_integer() || j["seq"].get<Seq>() < 0) {
    return http_error(400, make_error(ErrorCode::InvalidField, "seq: expected an integer >= 0"));
  }
  return guarded([&]() -> HttpResult {
    Db::Txn txn(db_);
    auto c = load_conv(conv);
    if (!c) return http_error(404, make_error(ErrorCode::NotFound, "no such conversation"));
    Seq seq = std::min(j["seq"].get<Seq>(), c->last_seq);
    if (seq > c->agent_read_seq) {
      c->agent_read_seq = seq;
      c->agent_delivered_seq = std::max(c->agent_delivered_seq, seq);
      save_conv(*c);
      protocol::Event ev;
      ev.kind = protocol::EventKind::Read;
      ev.conv = c->id;
      ev.reader = Role::Agent;
      ev.seq = seq;
      append_event(c->user, ev, now);
      notify_agents(*c, nullptr, now);
    }
    txn.commit();
    publish();
    return {204, ""};
  });
}

HttpResult Service::agent_status(const AgentConfig& a, std::string_view conv, std::string_view body,
                                 TimeMs now) {
  (void)a;
  std::optional<Error> err;
  Json j = parse_body(body, err);
  if (err) return http_error(400, *err);
  std::optional<Status> to;
  if (j.contains("status") && j["status"].is_string()) {
    to = status_from_string(j["status"].get<std::string>());
  }
  if (!to || *to == Status::New) {
    return http_error(400, make_error(ErrorCode::InvalidField,
                                      "status: expected open, pending, on_hold, solved or closed"));
  }
  return guarded([&]() -> HttpResult {
    Db::Txn txn(db_);
    auto c = load_conv(conv);
    if (!c) return http_error(404, make_error(ErrorCode::NotFound, "no such conversation"));
    const auto before = c->ticket;
    auto d = lifecycle::on_set_status(policy_for(*c), c->ticket, *to, now);
    if (d.outcome == lifecycle::Outcome::Rejected) {
      return http_error(409, make_error(ErrorCode::Conflict,
                                        "cannot go from " + std::string(to_string(before.status)) +
                                            " to " + std::string(to_string(*to))));
    }
    c->ticket = d.ticket;
    apply_status_change(*c, before, now);
    c->updated_ts = now;
    save_conv(*c);
    notify_agents(*c, nullptr, now);
    txn.commit();
    publish();
    return json_result(200, {{"status", to_string(c->ticket.status)},
                             {"ticket", c->ticket.number},
                             {"outcome", lifecycle::to_string(d.outcome)}});
  });
}

HttpResult Service::agent_handoff(const AgentConfig& a, std::string_view conv,
                                  std::string_view body, TimeMs now) {
  std::optional<Error> err;
  Json j = parse_body(body, err);
  if (err) return http_error(400, *err);
  std::string to = j.value("to", std::string());
  return guarded([&]() -> HttpResult {
    Db::Txn txn(db_);
    auto c = load_conv(conv);
    if (!c) return http_error(404, make_error(ErrorCode::NotFound, "no such conversation"));
    std::string reason;
    if (to == "channel") {
      auto ch = channel_from_string(j.value("channel", std::string()));
      if (!ch) return http_error(400, make_error(ErrorCode::InvalidField, "channel: unknown"));
      std::string address = j.value("address", std::string());
      if (auto e = handoff::validate_address(*ch, address)) return http_error(400, *e);
      c->channels = handoff::bind(c->channels, *ch, address, now);
      reason = "agent moved the conversation to " + std::string(to_string(*ch));
    } else {
      handoff::ControlRequest req;
      std::string agent_id, agent_name;
      if (to == "bot") {
        req = handoff::ControlRequest::ToBot;
      } else if (to == "queue") {
        req = handoff::ControlRequest::ToQueue;
      } else if (to == "agent") {
        req = handoff::ControlRequest::ToAgent;
        agent_id = j.value("agent_id", std::string());
        agent_name = agent_id;
        for (const auto& ag : cfg_.agents) {
          if (ag.id == agent_id) agent_name = ag.name;
        }
      } else {
        return http_error(
            400, make_error(ErrorCode::InvalidField, "to: expected bot, queue, agent or channel"));
      }
      auto moved = handoff::transfer(c->owner, req, agent_id, agent_name);
      if (const auto* e = std::get_if<Error>(&moved)) return http_error(status_for(*e), *e);
      c->owner = std::get<ControlOwner>(moved);
      if (req == handoff::ControlRequest::ToAgent) c->ticket.assignee = agent_id;
      if (req == handoff::ControlRequest::ToQueue) {
        c->waiting_on = "agent";
        c->waiting_since = now;
      }
      reason = a.name + " handed the conversation to " + to;
    }
    handoff_event(*c, reason, "", now);
    save_conv(*c);
    txn.commit();
    publish();
    return json_result(200, summary_json(*c, now));
  });
}

// ------------------------------------------------------------------------ channels

HttpResult Service::channel_outbox(std::string_view channel, std::string_view address) {
  auto ch = channel_from_string(channel);
  if (!ch || (*ch != Channel::Sms && *ch != Channel::WhatsApp && *ch != Channel::Email)) {
    return http_error(404, make_error(ErrorCode::NotFound, "no such channel"));
  }
  auto& q =
      db_.prepare("SELECT json FROM channel_outbox WHERE channel = ? AND address = ? ORDER BY id");
  q.args(channel, address);
  Json out = {{"messages", Json::array()}};
  while (q.step()) out["messages"].push_back(parse_or_null(q.str(0)));
  q.reset();
  return json_result(200, out);
}

HttpResult Service::channel_inbound(std::string_view channel, std::string_view body, TimeMs now) {
  auto ch = channel_from_string(channel);
  if (!ch || (*ch != Channel::Sms && *ch != Channel::WhatsApp && *ch != Channel::Email)) {
    return http_error(404, make_error(ErrorCode::NotFound, "no such channel"));
  }
  std::optional<Error> err;
  Json j = parse_body(body, err);
  if (err) return http_error(400, *err);
  if (!j.contains("address") || !j["address"].is_string() || !j.contains("text") ||
      !j["text"].is_string()) {
    return http_error(400, make_error(ErrorCode::MissingField, "address and text are required"));
  }
  Json b = {{"text", j["text"]}};
  auto parsed = protocol::body_from_json(b);
  if (const auto* e = std::get_if<Error>(&parsed)) return http_error(status_for(*e), *e);
  std::string address = j["address"].get<std::string>();
  std::string dedupe;
  if (j.contains("id") && j["id"].is_string()) {
    dedupe = "channel:" + std::string(channel) + ":" + j["id"].get<std::string>();
  }
  return guarded([&]() -> HttpResult {
    Db::Txn txn(db_);
    auto& q = db_.prepare(
        "SELECT c.id FROM conversations c WHERE EXISTS (SELECT 1 FROM json_each(c.channels) b "
        "WHERE json_extract(b.value, '$.channel') = ? AND json_extract(b.value, '$.address') = ? "
        "AND json_extract(b.value, '$.active')) ORDER BY c.updated_ts DESC LIMIT 1");
    q.args(channel, address);
    std::string id = q.step() ? q.str(0) : std::string();
    q.reset();
    if (id.empty()) {
      return http_error(
          404, make_error(ErrorCode::NotFound, "no conversation continues on that address"));
    }
    auto c = load_conv(id);
    if (!dedupe.empty()) {
      if (auto known = find_dedupe(c->user, dedupe)) {
        return json_result(201, {{"conv", known->conv}, {"seq", known->seq}, {"id", known->id}});
      }
    }
    Message m = visitor_message(*c, app_named(c->app), std::get<Body>(parsed), dedupe, "", now);
    txn.commit();
    publish();
    return json_result(201, {{"conv", m.conv}, {"seq", m.seq}, {"id", m.id}});
  });
}

// ------------------------------------------------------------------------ time

TimeMs Service::tick(TimeMs now) {
  std::vector<std::string> due;
  {
    auto& q = db_.prepare(
        "SELECT id FROM conversations WHERE deadline IS NOT NULL AND deadline <= ? LIMIT 200");
    q.args(now);
    while (q.step()) due.push_back(q.str(0));
    q.reset();
  }
  for (const auto& id : due) {
    try {
      Db::Txn txn(db_);
      auto c = load_conv(id);
      if (!c) continue;
      const auto before = c->ticket;
      auto d = lifecycle::on_tick(policy_for(*c), c->ticket, now);
      c->ticket = d.ticket;
      apply_status_change(*c, before, now);
      if (c->deadline && *c->deadline <= now) c->deadline.reset();  // never spin on a deadline
      save_conv(*c);
      if (!(before == c->ticket)) notify_agents(*c, nullptr, now);
      txn.commit();
      publish();
    } catch (const DbError&) {
      discard();
    }
  }
  if (cfg_.event_horizon_ms > 0 && now >= next_compaction_) {
    next_compaction_ = now + kCompactionEvery;
    const TimeMs cutoff = now - cfg_.event_horizon_ms;
    try {
      Db::Txn txn(db_);
      db_.prepare(
             "UPDATE users SET log_floor = MAX(log_floor, (SELECT MAX(cursor) FROM events e "
             "WHERE e.user = users.id AND e.ts < ?1)) WHERE id IN (SELECT DISTINCT user FROM "
             "events WHERE ts < ?1)")
          .args(cutoff)
          .run();
      db_.prepare("DELETE FROM events WHERE ts < ?").args(cutoff).run();
      txn.commit();
    } catch (const DbError&) {
    }
  }
  auto& q = db_.prepare("SELECT MIN(deadline) FROM conversations WHERE deadline IS NOT NULL");
  TimeMs next = (q.step() && !q.is_null(0)) ? q.i64(0) : 0;
  q.reset();
  return next;
}

// ------------------------------------------------------------------ agent directory
HttpResult Service::agent_directory() const {
  Json list = Json::array();
  for (const auto& a : cfg_.agents) {
    auto it = agents_online_.find(a.id);
    list.push_back({{"id", a.id},
                    {"name", a.name},
                    {"present", it != agents_online_.end() && it->second > 0}});
  }
  return {200, Json{{"agents", list}}.dump()};
}

// ------------------------------------------------------------------ demo controls
namespace {
const char* demo_hours_name(const AppConfig& app) {
  if (!app.has_hours) return "none";
  return app.hours.holidays.empty() ? "open" : "closed";
}
}  // namespace

HttpResult Service::demo_state(std::string_view app_id, TimeMs now) const {
  const AppConfig* app = cfg_.app(app_id);
  if (app == nullptr) return http_error(404, make_error(ErrorCode::NotFound, "no such app"));
  Json j = {{"style", to_string(app->policy.style)}, {"hours", demo_hours_name(*app)}};
  if (auto av = availability(*app, now)) j["availability"] = protocol::to_json(*av);
  return {200, j.dump()};
}

HttpResult Service::demo_configure(std::string_view app_id, std::string_view body, TimeMs now) {
  AppConfig* app = cfg_.app(app_id);
  if (app == nullptr) return http_error(404, make_error(ErrorCode::NotFound, "no such app"));
  const Json j = Json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return http_error(400, make_error(ErrorCode::MalformedFrame, "expected a JSON object"));
  }
  std::optional<ConversationalStyle> style;
  if (auto it = j.find("style"); it != j.end()) {
    style = it->is_string() ? style_from_string(it->get<std::string>()) : std::nullopt;
    if (!style) {
      return http_error(400, make_error(ErrorCode::InvalidField,
                                        "invalid field style: expected live_chat, "
                                        "live_chat_returning or social_messaging"));
    }
  }
  std::string hours_mode;
  if (auto it = j.find("hours"); it != j.end()) {
    hours_mode = it->is_string() ? it->get<std::string>() : "";
    if (hours_mode != "none" && hours_mode != "open" && hours_mode != "closed") {
      return http_error(400, make_error(ErrorCode::InvalidField,
                                        "invalid field hours: expected none, open or closed"));
    }
  }
  if (style) {
    const lifecycle::Policy old = app->policy;
    app->policy = lifecycle::Policy::defaults(*style);
    app->policy.reopen_window_ms = old.reopen_window_ms;
    app->policy.social_close_after_ms = old.social_close_after_ms;
    app->policy.inactive_after_ms = old.inactive_after_ms;
  }
  if (!hours_mode.empty()) {
    // "open": Monday to Friday 09:00-17:00 UTC... would depend on the clock, so "open" is
    // around the clock and "closed" is the same office hours with today a holiday: closed
    // now, back at the next weekday's 09:00 (UTC).
    app->has_hours = hours_mode != "none";
    app->hours = hours::Schedule{};
    app->hours.tz = "UTC";
    app->hours.reply_ms_open = 5 * 60 * 1000;
    if (hours_mode == "closed") {
      for (int d = 0; d < 5; ++d) app->hours.weekly[d] = {hours::Interval{9 * 60, 17 * 60}};
      const auto day = date::floor<date::days>(
          date::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(now)));
      app->hours.holidays = {date::format("%F", day)};
    }
  }
  return demo_state(app->id, now);
}

HttpResult Service::demo_login(std::string_view app_id, std::string_view body, TimeMs now) const {
  const AppConfig* app = cfg_.app(app_id);
  if (app == nullptr) return http_error(404, make_error(ErrorCode::NotFound, "no such app"));
  const Json j = Json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  const auto text = [&j](const char* key) {
    auto it = j.is_object() ? j.find(key) : j.end();
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const std::string sub = text("sub");
  const std::string name = text("name");
  if (sub.empty() || sub.size() > protocol::kMaxIdBytes || name.size() > 256) {
    return http_error(
        400, make_error(ErrorCode::InvalidField, "expected {\"sub\": id, \"name\"?: text}"));
  }
  Json claims = {{"sub", sub}, {"aud", app->jwt_audience}, {"exp", now / 1000 + 24 * 60 * 60}};
  if (!name.empty()) claims["name"] = name;
  return {200, Json{{"token", sign_jwt_hs256(app->jwt_secret, claims)}}.dump()};
}

void Service::demo_reset() {
  Db::Txn txn(db_);
  for (const char* table : {"files", "resume_tokens", "channel_outbox", "events", "messages",
                            "conversations", "devices", "users"}) {
    db_.exec(std::string("DELETE FROM ") + table);
  }
  txn.commit();
  pushes_.clear();
  agent_pushes_.clear();
  advanced_.clear();
  advanced_out_.clear();
}

}  // namespace parley::server
