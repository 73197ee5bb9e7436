#include "sim_server.hpp"

#include <algorithm>
#include <utility>

namespace parley::sim {

namespace pp = parley::protocol;

SimServer::SimServer(std::uint64_t seed, Log log) : rng_(seed), log_(std::move(log)) {}

// ------------------------------------------------------------------ sessions

void SimServer::open_session(std::uint64_t sid, Sink sink) {
  sessions_[sid] = Session{std::move(sink), "", "", false};
}

void SimServer::close_session(std::uint64_t sid) {
  sessions_.erase(sid);
}

void SimServer::send(Session& s, const pp::ServerFrame& f) {
  s.sink(pp::encode(f));
}

void SimServer::error(Session& s, const std::string& req, ErrorCode code, Recoverability r,
                      const std::string& msg) {
  send(s, pp::ErrorFrame{req, Error{code, r, msg}});
}

bool SimServer::authorized(TimeMs, Session& s, const std::string& req) {
  if (s.authed) {
    auto t = tokens_.find(s.token);
    if (t != tokens_.end() && !t->second.expired) return true;
  }
  ++counters_["401"];
  error(s, req, ErrorCode::Unauthorized, Recoverability::Auth,
        s.authed ? "token expired" : "no session");
  return false;
}

// "5xx N times then success": the first time a key is seen it may be given 1..3 failures.
bool SimServer::inject_5xx(Session& s, const std::string& key, const std::string& req) {
  if (!faults_on) return false;
  auto& u = users_.at(s.user);
  auto it = u.failing.find(key);
  if (it == u.failing.end()) {
    if (!rng_.chance(faults.p_5xx)) return false;
    it = u.failing.emplace(key, static_cast<int>(rng_.between(1, 3))).first;
  }
  if (it->second <= 0) return false;
  --it->second;
  ++counters_["5xx"];
  error(s, req, ErrorCode::ServerError, Recoverability::Recoverable, "injected 5xx");
  return true;
}

void SimServer::on_frame(TimeMs now, std::uint64_t sid, std::string_view text) {
  auto sit = sessions_.find(sid);
  if (sit == sessions_.end()) return;
  Session& s = sit->second;
  auto d = pp::decode_client(text);
  if (!d.ok()) {
    anomalies_.push_back("server could not decode a client frame (" +
                         std::string(to_string(d.error().code)) + ": " + d.error().message +
                         "): " + std::string(text.substr(0, 200)));
    send(s, pp::ErrorFrame{"", d.error()});
    return;
  }
  const pp::ClientFrame& f = d.frame();
  if (auto* h = std::get_if<pp::Hello>(&f)) return on_hello(now, s, *h);
  if (auto* x = std::get_if<pp::Send>(&f)) {
    if (authorized(now, s, x->req)) on_send(now, s, *x);
  } else if (auto* x = std::get_if<pp::History>(&f)) {
    if (authorized(now, s, x->req)) on_history(s, *x);
  } else if (auto* x = std::get_if<pp::Sync>(&f)) {
    if (authorized(now, s, x->req)) on_sync(s, *x);
  } else if (auto* x = std::get_if<pp::MarkRead>(&f)) {
    if (authorized(now, s, "")) on_read(now, s, *x);
  } else if (auto* x = std::get_if<pp::Ping>(&f)) {
    if (authorized(now, s, x->req)) send(s, pp::Pong{x->req, now});
  } else if (auto* x = std::get_if<pp::Upload>(&f)) {
    error(s, x->req, ErrorCode::InvalidCommand, Recoverability::Permanent, "no uploads here");
  } else if (auto* x = std::get_if<pp::HandoffRequest>(&f)) {
    error(s, x->req, ErrorCode::InvalidCommand, Recoverability::Permanent, "no handoff here");
  }
  // Typing and Engagement have no answer.
}

// ------------------------------------------------------------------ identity

std::string SimServer::create_user() {
  std::string id = "u" + std::to_string(next_user_++);
  users_[id].id = id;
  return id;
}

std::string SimServer::issue_token(const std::string& user) {
  std::string t = "t" + std::to_string(next_token_++) + "." + user;
  tokens_[t] = Token{user, false};
  return t;
}

void SimServer::expire_tokens(const std::string& user) {
  for (auto& [t, tok] : tokens_) {
    if (tok.user == user) tok.expired = true;
  }
}

std::string SimServer::user_of_token(const std::string& token) const {
  auto it = tokens_.find(token);
  return it == tokens_.end() ? "" : it->second.user;
}

void SimServer::on_hello(TimeMs now, Session& s, const pp::Hello& h) {
  if (h.version != pp::kVersion) {
    anomalies_.push_back("hello with version " + std::to_string(h.version));
    return error(s, "", ErrorCode::UnsupportedVersion, Recoverability::Permanent, "v1 only");
  }
  std::string token = h.token;
  if (token.empty()) {
    // Anonymous hello is idempotent per device (protocol.md): a repeated tokenless hello
    // from the same device gets the same visitor, never a second one.
    auto [it, fresh] = anonymous_by_device_.try_emplace(h.device);
    if (fresh) it->second = create_user();
    token = issue_token(it->second);
  } else {
    auto it = tokens_.find(token);
    if (it == tokens_.end() || it->second.expired) {
      s.authed = false;
      ++counters_["401"];
      return error(s, "", ErrorCode::Unauthorized, Recoverability::Auth,
                   it == tokens_.end() ? "unknown token" : "token expired");
    }
  }
  s.authed = true;
  s.token = token;
  s.user = tokens_.at(token).user;
  User& u = users_.at(s.user);
  send(s, pp::Welcome{pp::kVersion, u.id, token, u.head, now, std::nullopt});
  // Catch-up is pulled by the client with `sync` (which answers `reset` beyond the horizon).
  if (h.cursor > u.head) {
    anomalies_.push_back("hello cursor " + std::to_string(h.cursor) + " ahead of head " +
                         std::to_string(u.head) + " for " + u.id);
    send_reset(s, u);
  }
}

// ------------------------------------------------------------------ requests

void SimServer::on_send(TimeMs now, Session& s, const pp::Send& f) {
  User& u = users_.at(s.user);
  if (auto a = u.acks.find(f.cid); a != u.acks.end()) {  // permanent dedupe: the same ack
    pp::Ack ack = a->second;
    ack.req = f.req;
    ++counters_["dedupe_hit"];
    return send(s, ack);
  }
  if (inject_5xx(s, "send:" + f.cid, f.req)) return;
  if (u.forbidden.count(f.cid) ||
      (faults_on && faults.p_forbidden > 0 && rng_.chance(faults.p_forbidden))) {
    u.forbidden.insert(f.cid);
    ++counters_["403"];
    return error(s, f.req, ErrorCode::Forbidden, Recoverability::Permanent, "injected 403");
  }
  auto cit = convs_.find(f.conv);
  if (cit != convs_.end() && cit->second.user != u.id) {
    anomalies_.push_back("send into another user's conversation " + f.conv);
    return error(s, f.req, ErrorCode::Forbidden, Recoverability::Permanent, "not yours");
  }
  std::vector<pp::Event> evs;
  Conv& c = cit != convs_.end() ? cit->second : create_conv(now, u, f.conv);
  if (cit == convs_.end()) evs.push_back(summary(c, 0));
  Message& m = add_message(now, c, Participant{Role::Visitor, u.id, ""}, f.body.text, f.cid);
  m.body = f.body;
  pp::Ack ack{f.req, f.cid, c.id, m.id, m.seq, m.ts, ""};
  u.acks[f.cid] = ack;
  pp::Event ev;
  ev.conv = c.id;
  if (faults_on && rng_.chance(faults.p_gap)) {
    ev.kind = pp::EventKind::Gap;
    ev.gap = Gap{m.seq, m.seq};
    ++counters_["gap"];
  } else {
    ev.kind = pp::EventKind::Message;
    ev.message = m;
  }
  evs.push_back(std::move(ev));
  const bool ack_first = rng_.chance(faults.p_ack_first);
  if (ack_first) send(s, ack);
  append(now, u, std::move(evs));
  if (!ack_first) send(s, ack);
}

void SimServer::on_history(Session& s, const pp::History& f) {
  if (inject_5xx(s, "history:" + f.req, f.req)) return;
  pp::Page page;
  page.req = f.req;
  page.conv = f.conv;
  auto cit = convs_.find(f.conv);
  if (cit == convs_.end() || cit->second.user != s.user) {
    page.complete = true;  // nothing stored yet (a conversation started offline)
    return send(s, page);
  }
  const Conv& c = cit->second;
  const Seq top = static_cast<Seq>(c.msgs.size());
  const std::size_t limit =
      static_cast<std::size_t>(std::clamp<int>(f.limit, 1, static_cast<int>(pp::kMaxPageLimit)));
  Seq budget = top + 1;
  if (faults_on && rng_.chance(faults.p_short_scan)) {
    budget = rng_.between(1, 3);
    ++counters_["short_page"];
  }
  const bool ascending = f.after >= 0;  // after: 0 is a real bound (from the first message)
  const Seq lo = std::max<Seq>(f.after + 1, 1);
  const Seq hi = f.before > 0 ? std::min<Seq>(f.before - 1, top) : top;
  auto visible = [&](Seq q) { return !c.msgs[static_cast<std::size_t>(q - 1)].hidden; };
  Seq scanned = 0, last = 0;
  std::vector<Message> got;
  if (ascending) {
    for (Seq q = lo; q <= hi && got.size() < limit && scanned < budget; ++q, ++scanned) {
      last = q;
      if (visible(q)) got.push_back(c.msgs[static_cast<std::size_t>(q - 1)].m);
    }
    bool rest = false;
    for (Seq q = (last ? last + 1 : lo); q <= hi && !rest; ++q) rest = visible(q);
    page.complete = !rest;
    if (rest) page.next = last;
  } else {
    for (Seq q = hi; q >= lo && got.size() < limit && scanned < budget; --q, ++scanned) {
      last = q;
      if (visible(q)) got.push_back(c.msgs[static_cast<std::size_t>(q - 1)].m);
    }
    bool rest = false;
    for (Seq q = (last ? last - 1 : hi); q >= lo && !rest; --q) rest = visible(q);
    page.complete = !rest;
    if (rest) page.next = last;
    std::reverse(got.begin(), got.end());
  }
  page.messages = std::move(got);
  send(s, page);
}

void SimServer::on_sync(Session& s, const pp::Sync& f) {
  if (inject_5xx(s, "sync:" + f.req, f.req)) return;
  User& u = users_.at(s.user);
  if (f.after < u.floor || f.after > u.head) {
    if (f.after > u.head) {
      anomalies_.push_back("sync after " + std::to_string(f.after) + " ahead of head " +
                           std::to_string(u.head) + " for " + u.id);
    }
    return send_reset(s, u);
  }
  std::size_t limit = static_cast<std::size_t>(std::max(f.limit, 1));
  if (faults_on) limit = std::min(limit, faults.events_page);
  send_events_after(s, u, f.after, limit, false, f.req);
}

void SimServer::on_read(TimeMs now, Session& s, const pp::MarkRead& f) {
  auto cit = convs_.find(f.conv);
  if (cit == convs_.end() || cit->second.user != s.user) return;
  Conv& c = cit->second;
  const Seq seq = std::min(f.seq, c.last_visible);
  if (seq <= c.visitor_read) return;  // read markers only move forward
  c.visitor_read = seq;
  pp::Event ev;
  ev.kind = pp::EventKind::Read;
  ev.conv = c.id;
  ev.reader = Role::Visitor;
  ev.seq = seq;
  append(now, users_.at(s.user), {ev});
}

// ------------------------------------------------------------------ the event log

void SimServer::send_events_after(Session& s, User& u, Cursor after, std::size_t limit, bool all,
                                  const std::string& req) {
  auto it = std::lower_bound(u.log.begin(), u.log.end(), after + 1,
                             [](const Logged& l, Cursor c) { return l.ev.cursor < c; });
  do {
    pp::Events evs;
    evs.req = req;
    evs.from = after;
    while (it != u.log.end() && evs.events.size() < limit) evs.events.push_back((it++)->ev);
    evs.cursor = evs.events.empty() ? after : evs.events.back().cursor;
    evs.more = it != u.log.end();
    after = evs.cursor;
    send(s, evs);
  } while (all && it != u.log.end());
}

void SimServer::send_reset(Session& s, User& u) {
  ++counters_["reset"];
  pp::Reset r;
  r.cursor = u.head;
  for (const auto& id : u.convs) r.conversations.push_back(summary(convs_.at(id), u.head));
  send(s, r);
}

pp::Event SimServer::summary(const Conv& c, Cursor cursor) const {
  pp::Event ev;
  ev.kind = pp::EventKind::Conversation;
  ev.cursor = cursor;
  ev.conv = c.id;
  ev.status = c.status;
  ev.ticket = c.ticket;
  ev.style = ConversationalStyle::SocialMessaging;
  ev.owner = c.owner;
  ev.channels = c.channels;
  ev.last_seq = c.last_visible;
  return ev;
}

SimServer::Conv& SimServer::create_conv(TimeMs now, User& u, const std::string& conv) {
  Conv& c = convs_[conv];
  c.id = conv;
  c.user = u.id;
  c.created = now;
  c.channels.push_back(ChannelBinding{Channel::Web, "", true, now});
  u.convs.push_back(conv);
  return c;
}

Message& SimServer::add_message(TimeMs now, Conv& c, Participant author, const std::string& text,
                                const std::string& cid) {
  while (faults_on && faults.p_hidden > 0 && rng_.chance(faults.p_hidden)) {
    StoredMessage note;
    ++counters_["seq_hole"];
    note.hidden = true;
    note.m.conv = c.id;
    note.m.seq = static_cast<Seq>(c.msgs.size()) + 1;
    note.m.id = "n" + std::to_string(next_msg_id_++);
    note.m.author = Participant{Role::Agent, "a1", "Agent"};
    note.m.body.text = "internal note";
    note.m.ts = now;
    c.msgs.push_back(std::move(note));
  }
  StoredMessage sm;
  Message& m = sm.m;
  m.conv = c.id;
  m.seq = static_cast<Seq>(c.msgs.size()) + 1;
  m.id = "m" + std::to_string(next_msg_id_++);
  m.cid = cid;
  m.author = std::move(author);
  m.body.text = text;
  m.ts = now;
  m.ticket = c.ticket;
  c.last_visible = m.seq;
  c.msgs.push_back(std::move(sm));
  return c.msgs.back().m;
}

void SimServer::append(TimeMs now, User& u, std::vector<pp::Event> evs) {
  if (evs.empty()) return;
  pp::Events frame;
  frame.from = u.head;
  for (auto& ev : evs) {
    ev.cursor = ++u.head;
    u.log.push_back(Logged{now, ev});
  }
  frame.cursor = u.head;
  frame.events = std::move(evs);
  for (auto& [sid, s] : sessions_) {
    if (s.authed && s.user == u.id) send(s, frame);
  }
}

void SimServer::compact(TimeMs now) {
  if (faults.horizon_ms <= 0) return;
  for (auto& [id, u] : users_) {
    while (!u.log.empty() && u.log.front().at < now - faults.horizon_ms) {
      u.floor = u.log.front().ev.cursor;
      u.log.pop_front();
    }
  }
}

// ------------------------------------------------------------------ the agent side

std::vector<std::string> SimServer::conversations_of(const std::string& user) const {
  auto it = users_.find(user);
  return it == users_.end() ? std::vector<std::string>{} : it->second.convs;
}

std::vector<std::string> SimServer::all_conversations() const {
  std::vector<std::string> out;
  for (const auto& [id, c] : convs_) out.push_back(id);
  return out;
}

void SimServer::agent_post(TimeMs now, const std::string& conv, int count,
                           const std::string& text) {
  Conv& c = convs_.at(conv);
  User& u = users_.at(c.user);
  const bool gap = faults_on && rng_.chance(faults.p_gap);
  std::vector<pp::Event> evs;
  Seq first = 0, last = 0;
  for (int i = 0; i < count; ++i) {
    Message& m = add_message(now, c, Participant{Role::Agent, "a1", "Agent"},
                             text + "." + std::to_string(i), "");
    if (!first) first = m.seq;
    last = m.seq;
    if (!gap) {
      pp::Event ev;
      ev.kind = pp::EventKind::Message;
      ev.conv = conv;
      ev.message = m;
      evs.push_back(std::move(ev));
    }
  }
  if (gap) {
    pp::Event ev;
    ev.kind = pp::EventKind::Gap;
    ev.conv = conv;
    ev.gap = Gap{first, last};
    evs.push_back(std::move(ev));
    ++counters_["gap"];
    log_("agent gap " + conv + " " + std::to_string(first) + ".." + std::to_string(last));
  }
  append(now, u, std::move(evs));
}

const Message* SimServer::pick_agent_message(const Conv& c) {
  std::vector<const Message*> mine;
  for (const auto& sm : c.msgs) {
    if (!sm.hidden && !sm.m.deleted && sm.m.author.role == Role::Agent) mine.push_back(&sm.m);
  }
  if (mine.empty()) return nullptr;
  return mine[static_cast<std::size_t>(
      rng_.between(0, static_cast<std::int64_t>(mine.size()) - 1))];
}

void SimServer::agent_edit(TimeMs now, const std::string& conv) {
  Conv& c = convs_.at(conv);
  const Message* pick = pick_agent_message(c);
  if (!pick) return;
  Message& m = c.msgs[static_cast<std::size_t>(pick->seq - 1)].m;
  m.body.text += "~";
  m.edited_ts = now;
  publish_update(now, c, m);
}

// Logs a message_updated event for an edited or deleted message.
void SimServer::publish_update(TimeMs now, const Conv& c, const Message& m) {
  pp::Event ev;
  ev.kind = pp::EventKind::MessageUpdated;
  ev.conv = c.id;
  ev.message = m;
  append(now, users_.at(c.user), {ev});
}

void SimServer::agent_delete(TimeMs now, const std::string& conv) {
  Conv& c = convs_.at(conv);
  const Message* pick = pick_agent_message(c);
  if (!pick) return;
  Message& m = c.msgs[static_cast<std::size_t>(pick->seq - 1)].m;
  m.body = Body{};
  m.deleted = true;
  m.edited_ts = now;
  publish_update(now, c, m);
}

void SimServer::agent_read(TimeMs now, const std::string& conv, bool delivered_only) {
  Conv& c = convs_.at(conv);
  if (c.last_visible <= c.agent_read) return;
  c.agent_read = c.last_visible;
  pp::Event ev;
  ev.kind = pp::EventKind::Read;
  ev.conv = conv;
  ev.reader = Role::Agent;
  ev.delivered_only = delivered_only;
  ev.seq = c.last_visible;
  append(now, users_.at(c.user), {ev});
}

void SimServer::agent_status(TimeMs now, const std::string& conv, Status status) {
  Conv& c = convs_.at(conv);
  if (c.status == status) return;
  c.status = status;
  pp::Event ev;
  ev.kind = pp::EventKind::Status;
  ev.conv = conv;
  ev.status = status;
  ev.ticket = c.ticket;
  append(now, users_.at(c.user), {ev});
}

// ------------------------------------------------------------------ queries

Cursor SimServer::head(const std::string& user) const {
  auto it = users_.find(user);
  return it == users_.end() ? 0 : it->second.head;
}

std::vector<ServerConversation> SimServer::snapshot() const {
  std::vector<ServerConversation> out;
  for (const auto& [id, c] : convs_) {
    ServerConversation sc{c.user, id, {}};
    for (const auto& sm : c.msgs) {
      if (sm.hidden) continue;
      sc.messages.push_back(
          ServerMessage{sm.m.id, sm.m.cid, sm.m.seq, sm.m.body.text, sm.m.deleted});
    }
    out.push_back(std::move(sc));
  }
  return out;
}

}  // namespace parley::sim
