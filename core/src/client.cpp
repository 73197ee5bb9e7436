// The sans-I/O conversation client. See client.hpp for the input/effect contract and
// docs/ARCHITECTURE.md for how the pieces (outbox, sync, storage, lifecycle) fit together.
#include "parley/client.hpp"

#include <algorithm>
#include <limits>

#include "parley/handoff.hpp"

namespace parley {

using records::CommitResult;
using records::OutboxRecord;
using records::StorageOp;
using records::Store;

std::string_view to_string(ConnectionState s) {
  switch (s) {
    case ConnectionState::Offline:
      return "offline";
    case ConnectionState::Connecting:
      return "connecting";
    case ConnectionState::Handshaking:
      return "handshaking";
    case ConnectionState::Ready:
      return "ready";
    case ConnectionState::Backoff:
      return "backoff";
  }
  return "offline";
}

namespace {
// Whether a stored record is already in the current schema version (never throws on
// records of the wrong shape: those are decoded, or reported corrupt, elsewhere).
// FNV-1a: a portable string hash (std::hash differs between the native and wasm builds,
// and the same inputs must give the same outputs on both).
std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

bool current_version(const Json& j) {
  if (!j.is_object()) return false;
  auto it = j.find("v");
  return it != j.end() && it->is_number_integer() &&
         it->get<std::int64_t>() == records::kSchemaVersion;
}
}  // namespace

bool Effects::empty() const {
  return batches.empty() && reads.empty() && !connect && !disconnect && frames.empty() &&
         timers_set.empty() && timers_cancelled.empty() && view.conversations.empty() &&
         !view.connection && !view.unread && !view.availability && errors.empty() &&
         !auth_required && !wiped;
}

namespace {

// An outbox record plus its runtime-only state.
struct OutboxEntry {
  OutboxRecord rec;
  bool committed = false;  // the record is durable; only then is it shown and sent
  bool inflight = false;
  std::string req;
  TimeMs next_attempt = 0;
  std::string wire_cid;  // the cid on the wire (differs only under the planted bug)
  // An edit or a cancel takes effect only once committed, like a send: until then the
  // record is not sent, and if the commit fails the change is undone visibly.
  std::optional<Body> edit_undo;  // the body before an uncommitted edit
  bool cancel_pending = false;    // an uncommitted cancel
  bool attempt_unsaved = false;   // `attempted` is set but not yet committed
  bool awaiting_commit() const {
    return !committed || edit_undo.has_value() || cancel_pending || attempt_unsaved;
  }
  // May the visitor still change it? Only if the server cannot have it.
  bool changeable() const {
    return !inflight && (!rec.attempted || rec.state == OutboxRecord::State::Wedged);
  }
};

struct ConvState {
  Conversation c;
  std::map<Seq, Message> msgs;  // the loaded window
  bool page_read_pending = false;
  int page_read_generation = 0;  // the store generation the read was issued in
  std::uint64_t trims = 0;       // times the in-memory window was trimmed
  std::uint64_t page_read_trims = 0;
  Seq page_read_before = 0;
  TimeMs history_retry_at = 0;  // history requests back off after failures
  int history_failures = 0;
  bool older_wanted = false;  // the UI asked for older history
  Seq older_before_hint = 0;  // where an empty "more" page said to continue from
  std::string backfill_req;   // history request in flight for a gap
  std::string older_req;      // history request in flight for older messages
  Seq read_sent = 0;          // highest read marker sent on this connection
  bool typing = false;        // other side typing
  std::string resume_token;   // latest "continue on another device" token (not persisted)
};

enum class RequestKind { Send, Upload, HistoryGap, HistoryOlder, Sync, Handoff };
struct Request {
  RequestKind kind = RequestKind::Send;
  std::string cid;   // Send / Upload
  std::string conv;  // Send / Upload / History / Handoff
  std::uint64_t timer = 0;
  Seq before = 0;  // HistoryGap: the exclusive bounds that were asked for
  Seq after = 0;
};

enum class TimerKind { RequestTimeout, SendRetry, Reconnect, StorageRetry, Handshake };
struct Timer {
  TimerKind kind = TimerKind::SendRetry;
  std::string req;
};

// Pending storage writes. Message records are captured as JSON when dirtied.
struct Dirty {
  std::vector<StorageOp> pre_ops;  // clears and deletes, applied before puts
  bool meta = false;
  std::set<std::string> convs;
  std::map<std::pair<std::string, Seq>, Json> msgs;
  std::set<std::string> outbox_put;
  std::set<std::string> outbox_del;
  std::set<std::string> blob_del;
  int generation = 0;  // bumped by reset/logout: older message puts are stale
  bool empty() const {
    return pre_ops.empty() && !meta && convs.empty() && msgs.empty() && outbox_put.empty() &&
           outbox_del.empty() && blob_del.empty();
  }
};

struct InflightBatch {
  std::uint64_t id = 0;
  Dirty contents;
  std::set<std::string> new_sends;  // cids whose first commit is this batch
  std::set<std::string> edits;      // cids with an uncommitted edit in this batch
  std::set<std::string> cancels;    // cids with an uncommitted cancel in this batch
  std::set<std::string> attempts;   // cids whose `attempted` mark is in this batch
};

// Where a confirmed message comes from: this decides whether it may extend the window of
// history held locally (which must stay contiguous, apart from explicit gaps).
enum class Source { Live, OlderPage, GapPage };

}  // namespace

struct Client::State {
  explicit State(Config c) : cfg(std::move(c)), rng(cfg.seed) {}

  Config cfg;
  Rng rng;
  Effects fx;
  bool started = false;
  bool is_restored = false;
  bool logged_out = false;
  records::Meta meta;

  // connection
  bool online = true;
  ConnectionState conn = ConnectionState::Offline;
  int reconnect_attempts = 0;
  bool auth_blocked = false;
  std::uint64_t reconnect_timer = 0;
  std::uint64_t handshake_timer = 0;
  bool identity_change = false;              // identify()/resume() may bring another identity
  std::optional<std::string> pending_token;  // a token given before the restore finished
  std::string resume_token;                  // sent with hello until a welcome arrives
  std::string merge_token;                   // identify(): the token held before, ditto
  bool merge_on_restore = false;             // identify() before the restore finished
  std::optional<hours::Availability> availability;  // from the latest welcome

  // data
  std::map<std::string, ConvState> convs;
  std::map<std::string, OutboxEntry> outbox;  // by cid
  // Per-conversation FIFO index over the outbox: conv -> order -> cid. Kept in step with
  // `outbox` by add_outbox/erase_outbox so pump() does not sort the outbox on every input.
  std::map<std::string, std::map<std::uint64_t, std::string>> fifo;

  void add_outbox(OutboxEntry e) {
    erase_outbox(e.rec.cid);  // never two index entries for one cid
    fifo[e.rec.conv][e.rec.order] = e.rec.cid;
    const std::string cid = e.rec.cid;
    outbox[cid] = std::move(e);
  }
  void erase_outbox(std::map<std::string, OutboxEntry>::iterator it) {
    auto f = fifo.find(it->second.rec.conv);
    if (f != fifo.end()) {
      f->second.erase(it->second.rec.order);
      if (f->second.empty()) fifo.erase(f);
    }
    outbox.erase(it);
  }
  void erase_outbox(const std::string& cid) {
    if (auto it = outbox.find(cid); it != outbox.end()) erase_outbox(it);
  }
  std::map<std::string, std::string> inflight_by_conv;
  std::map<std::string, Request> requests;
  std::uint64_t req_counter = 0;
  std::string sync_req;
  Cursor server_head = 0;    // the highest cursor the server is known to hold
  Cursor seen_head = 0;      // the highest cursor of an event actually received
  TimeMs sync_retry_at = 0;  // a sync that timed out is asked again with backoff
  int sync_failures = 0;

  // storage
  Dirty dirty;
  std::optional<InflightBatch> batch;
  std::uint64_t batch_counter = 0;
  int storage_failures = 0;
  std::uint64_t storage_timer = 0;
  int generation = 0;

  // timers
  std::map<std::uint64_t, Timer> timers;
  std::uint64_t timer_counter = 0;

  engagement::Tracker engagement;
  std::optional<engagement::Level> engagement_sent;

  // ------------------------------------------------------------------ helpers
  void error(ErrorCode code, std::string msg) {
    fx.errors.push_back(make_error(code, std::move(msg)));
  }
  void changed(const std::string& conv) { fx.view.conversations.insert(conv); }

  TimeMs backoff(int attempt) {
    const int shift = std::clamp(attempt - 1, 0, 20);
    const TimeMs cap = std::min(cfg.backoff_max_ms, cfg.backoff_min_ms << shift);
    // Equal jitter: uniform in [cap/2, cap], never under the floor.
    return std::clamp(rng.between(cap / 2, cap), cfg.backoff_min_ms, cfg.backoff_max_ms);
  }

  std::uint64_t set_timer(TimeMs at, TimerKind kind, std::string req = {}) {
    const auto id = ++timer_counter;
    timers[id] = Timer{kind, std::move(req)};
    fx.timers_set.push_back(TimerSet{id, at});
    return id;
  }
  void cancel_timer(std::uint64_t id) {
    if (id != 0 && timers.erase(id)) fx.timers_cancelled.push_back(id);
  }

  std::string next_req() { return "r" + std::to_string(++req_counter); }

  void send_frame(const protocol::ClientFrame& f) { fx.frames.push_back(protocol::encode(f)); }

  std::string track(TimeMs now, RequestKind kind, std::string conv, std::string cid = {},
                    TimeMs extra_timeout_ms = 0) {
    auto req = next_req();
    Request r{kind, std::move(cid), std::move(conv), 0};
    r.timer =
        set_timer(now + cfg.request_timeout_ms + extra_timeout_ms, TimerKind::RequestTimeout, req);
    requests[req] = std::move(r);
    return req;
  }
  std::optional<Request> untrack(const std::string& req) {
    auto it = requests.find(req);
    if (it == requests.end()) return std::nullopt;
    Request r = std::move(it->second);
    requests.erase(it);
    cancel_timer(r.timer);
    return r;
  }

  ConvState* find_conv(const std::string& id) {
    auto it = convs.find(id);
    return it == convs.end() ? nullptr : &it->second;
  }
  ConvState& ensure_conv(const std::string& id, TimeMs now) {
    auto [it, inserted] = convs.try_emplace(id);
    if (inserted) {
      it->second.c.id = id;
      it->second.c.style = cfg.policy.style;
      it->second.c.created_ts = now;
      it->second.c.updated_ts = now;
      dirty.convs.insert(id);
    }
    return it->second;
  }
  void touch_conv(ConvState& cs) {
    dirty.convs.insert(cs.c.id);
    changed(cs.c.id);
  }

  // ------------------------------------------------------------------ storage
  void flush() {
    // Nothing is written before the restore: it would overwrite records not yet read.
    if (batch || dirty.empty() || logged_out || !is_restored) return;
    // After a failed commit, writes wait for the storage retry timer; a change by the user
    // (send, edit, cancel) still gets its own immediate attempt (a failure is shown).
    if (storage_timer != 0 && !has_user_change()) return;
    evict(false);
    records::StorageBatch b;
    b.id = ++batch_counter;
    b.ops = dirty.pre_ops;
    if (dirty.meta) {
      b.ops.push_back(
          StorageOp{StorageOp::Kind::Put, Store::Meta, "meta", 0, records::to_json(meta)});
    }
    for (const auto& id : dirty.convs) {
      if (auto* cs = find_conv(id)) {
        b.ops.push_back(
            StorageOp{StorageOp::Kind::Put, Store::Conversations, id, 0, records::to_json(cs->c)});
      }
    }
    for (const auto& [key, value] : dirty.msgs) {
      b.ops.push_back(
          StorageOp{StorageOp::Kind::Put, Store::Messages, key.first, key.second, value});
    }
    InflightBatch inflight;
    for (const auto& cid : dirty.outbox_put) {
      auto it = outbox.find(cid);
      if (it == outbox.end()) continue;
      b.ops.push_back(
          StorageOp{StorageOp::Kind::Put, Store::Outbox, cid, 0, records::to_json(it->second.rec)});
      if (!it->second.committed) inflight.new_sends.insert(cid);
      if (it->second.edit_undo) inflight.edits.insert(cid);
      if (it->second.attempt_unsaved) inflight.attempts.insert(cid);
    }
    for (const auto& cid : dirty.outbox_del) {
      b.ops.push_back(StorageOp{StorageOp::Kind::Delete, Store::Outbox, cid, 0, Json()});
      if (auto it = outbox.find(cid); it != outbox.end() && it->second.cancel_pending) {
        inflight.cancels.insert(cid);
      }
    }
    for (const auto& ref : dirty.blob_del) {
      b.ops.push_back(StorageOp{StorageOp::Kind::Delete, Store::Blobs, ref, 0, Json()});
    }
    inflight.id = b.id;
    inflight.contents = std::move(dirty);
    dirty = Dirty{};
    dirty.generation = generation;
    batch = std::move(inflight);
    fx.batches.push_back(std::move(b));
  }

  // The newest uncommitted write of a message record, if any (dirty, else in flight).
  const Json* pending_message(const std::string& conv, Seq seq) const {
    if (auto it = dirty.msgs.find({conv, seq}); it != dirty.msgs.end()) return &it->second;
    if (batch) {
      if (auto it = batch->contents.msgs.find({conv, seq}); it != batch->contents.msgs.end()) {
        return &it->second;
      }
    }
    return nullptr;
  }

  // Uncommitted writes of `conv` with lo <= seq < hi (dirty ones win over in-flight ones).
  std::map<Seq, const Json*> pending_messages(const std::string& conv, Seq lo, Seq hi) const {
    std::map<Seq, const Json*> out;
    auto collect = [&](const std::map<std::pair<std::string, Seq>, Json>& m) {
      for (auto it = m.lower_bound({conv, lo}); it != m.end() && it->first.first == conv; ++it) {
        if (it->first.second >= hi) break;
        out[it->first.second] = &it->second;
      }
    };
    if (batch) collect(batch->contents.msgs);
    collect(dirty.msgs);
    return out;
  }

  bool has_user_change() const {
    auto pending = [&](const std::string& cid) {
      auto it = outbox.find(cid);
      return it != outbox.end() &&
             (!it->second.committed || it->second.edit_undo || it->second.cancel_pending);
    };
    return std::any_of(dirty.outbox_put.begin(), dirty.outbox_put.end(), pending) ||
           std::any_of(dirty.outbox_del.begin(), dirty.outbox_del.end(), pending);
  }

  void on_commit(TimeMs now, std::uint64_t id, CommitResult result) {
    if (!batch || batch->id != id) return;  // stale (e.g. after logout)
    InflightBatch done = std::move(*batch);
    batch.reset();
    if (result == CommitResult::Ok) {
      storage_failures = 0;
      for (const auto& cid : done.new_sends) {
        if (auto it = outbox.find(cid); it != outbox.end()) {
          it->second.committed = true;
          changed(it->second.rec.conv);
        }
      }
      for (const auto& cid : done.edits) {
        if (auto it = outbox.find(cid); it != outbox.end()) it->second.edit_undo.reset();
      }
      for (const auto& cid : done.attempts) {
        if (auto it = outbox.find(cid); it != outbox.end()) it->second.attempt_unsaved = false;
      }
      for (const auto& cid : done.cancels) {
        if (auto it = outbox.find(cid); it != outbox.end() && it->second.cancel_pending) {
          changed(it->second.rec.conv);
          erase_outbox(it);
        }
      }
      flush();
      return;
    }
    // Failed: every op of the batch is lost. Sends whose first commit failed are rejected
    // visibly (guarantee 1); everything else is written again later.
    const ErrorCode code =
        result == CommitResult::QuotaExceeded ? ErrorCode::StorageQuota : ErrorCode::StorageAborted;
    for (const auto& cid : done.new_sends) {
      auto it = outbox.find(cid);
      if (it == outbox.end() || it->second.committed) continue;
      reject_send(it->second.rec, code);
      done.contents.outbox_put.erase(cid);
    }
    // Edits and cancels that were not saved are undone, visibly.
    for (const auto& cid : done.edits) {
      auto it = outbox.find(cid);
      if (it == outbox.end() || !it->second.edit_undo) continue;
      it->second.rec.body = std::move(*it->second.edit_undo);
      it->second.edit_undo.reset();
      fx.errors.push_back(make_error(code, "edit not saved (" + cid + ")"));
      changed(it->second.rec.conv);
    }
    for (const auto& cid : done.cancels) {
      auto it = outbox.find(cid);
      if (it == outbox.end() || !it->second.cancel_pending) continue;
      it->second.cancel_pending = false;
      done.contents.outbox_del.erase(cid);
      for (const auto& a : it->second.rec.body.attachments)
        done.contents.blob_del.erase(a.blob_ref);
      fx.errors.push_back(make_error(code, "cancel not saved (" + cid + ")"));
      changed(it->second.rec.conv);
    }
    merge_back(std::move(done.contents));
    error(code, result == CommitResult::QuotaExceeded ? "storage quota exceeded"
                                                      : "storage transaction aborted");
    if (result == CommitResult::QuotaExceeded) evict(/*aggressive=*/true);
    ++storage_failures;
    cancel_timer(storage_timer);
    storage_timer = set_timer(now + backoff(storage_failures), TimerKind::StorageRetry);
  }

  void reject_send(const OutboxRecord& rec, ErrorCode code) {
    Error e = make_error(code, "message not saved; not sent");
    e.message += " (" + rec.cid + ")";
    fx.errors.push_back(std::move(e));
    changed(rec.conv);
    // Dependent uploads of a rejected message go with it.
    for (const auto& dep : rec.depends_on) {
      if (auto it = outbox.find(dep); it != outbox.end() && !it->second.committed) erase_outbox(it);
    }
    erase_outbox(std::string(rec.cid));  // copy: rec dies with the entry
  }

  void merge_back(Dirty old) {
    const bool stale = old.generation != generation;
    if (!stale) {
      old.pre_ops.insert(old.pre_ops.end(), dirty.pre_ops.begin(), dirty.pre_ops.end());
      dirty.pre_ops = std::move(old.pre_ops);
      dirty.msgs.merge(old.msgs);  // newer dirty values win
      dirty.convs.merge(old.convs);
    }
    dirty.meta = dirty.meta || old.meta;
    for (const auto& cid : old.outbox_put) {
      if (!dirty.outbox_del.count(cid)) dirty.outbox_put.insert(cid);
    }
    for (const auto& cid : old.outbox_del) {
      if (!outbox.count(cid)) dirty.outbox_del.insert(cid);
    }
    dirty.blob_del.merge(old.blob_del);
  }

  // Cap the cache: evict history per conversation, least recently active first. The
  // outbox is a separate store and is never evicted.
  void evict(bool aggressive) {
    std::int64_t total = 0;
    for (const auto& [id, cs] : convs) total += cs.c.stored_count;
    const auto cap = static_cast<std::int64_t>(cfg.cache_cap_messages);
    const std::int64_t target = aggressive ? total / 2 : cap;
    if (total <= target) return;
    std::vector<ConvState*> order;
    for (auto& [id, cs] : convs) order.push_back(&cs);
    std::sort(order.begin(), order.end(), [&](const ConvState* a, const ConvState* b) {
      const bool ao = a->c.id == meta.open_conv, bo = b->c.id == meta.open_conv;
      if (ao != bo) return bo;  // the open conversation goes last
      return a->c.last_activity_ts != b->c.last_activity_ts
                 ? a->c.last_activity_ts < b->c.last_activity_ts
                 : a->c.id < b->c.id;
    });
    const auto keep_min = static_cast<std::int64_t>(cfg.page_size);
    for (ConvState* cs : order) {
      if (total <= target) break;
      auto& c = cs->c;
      if (c.stored_count <= keep_min) continue;
      const std::int64_t drop = std::min(c.stored_count - keep_min, total - target);
      const Seq new_first = std::max(c.first_stored_seq, c.last_seq - (c.stored_count - drop) + 1);
      dirty.pre_ops.push_back(
          StorageOp{StorageOp::Kind::DeleteRange, Store::Messages, c.id, new_first, Json()});
      for (auto it = dirty.msgs.begin(); it != dirty.msgs.end();) {
        it = (it->first.first == c.id && it->first.second < new_first) ? dirty.msgs.erase(it)
                                                                       : std::next(it);
      }
      cs->msgs.erase(cs->msgs.begin(), cs->msgs.lower_bound(new_first));
      total -= c.stored_count - (c.last_seq - new_first + 1);
      c.stored_count = c.last_seq - new_first + 1;
      c.first_stored_seq = new_first;
      c.history_complete = false;
      touch_conv(*cs);
    }
  }

  // ------------------------------------------------------------------ connection
  bool want_connection() const { return is_restored && online && !logged_out; }

  void ensure_connection(TimeMs) {
    if (want_connection() && conn == ConnectionState::Offline) {
      conn = ConnectionState::Connecting;
      fx.connect = true;
      fx.view.connection = true;
    }
  }

  void lose_requests(TimeMs now) {
    // Every request in flight is now in doubt: sends are retried with the same cid.
    std::vector<std::string> reqs;
    for (const auto& [req, r] : requests) reqs.push_back(req);
    for (const auto& req : reqs) {
      auto r = untrack(req);
      if (r) request_failed(now, *r, make_error(ErrorCode::Disconnected, "connection lost"));
    }
    sync_req.clear();
  }

  // Adopt a token (refresh or sign-in) and say hello again on the current connection.
  void use_token(TimeMs now, const std::string& token) {
    if (!is_restored) {  // applied by on_restored, so the stored meta is not overwritten
      pending_token = token;
      return;
    }
    meta.token = token;
    dirty.meta = true;
    auth_blocked = false;
    fx.view.connection = true;
    if (conn == ConnectionState::Ready || conn == ConnectionState::Handshaking) {
      conn = ConnectionState::Handshaking;
      hello(now);
    }
    ensure_connection(now);
  }

  void schedule_reconnect(TimeMs now) {
    conn = ConnectionState::Backoff;
    cancel_timer(reconnect_timer);
    reconnect_timer = set_timer(now + backoff(++reconnect_attempts), TimerKind::Reconnect);
  }

  // identify(): the sign-in survives a reload until its welcome (see records::Meta).
  void persist_sign_in() {
    meta.identity_pending = true;
    meta.merge_token = merge_token;
    dirty.meta = true;
  }

  void hello(TimeMs now) {
    cancel_timer(handshake_timer);
    handshake_timer = set_timer(now + cfg.request_timeout_ms, TimerKind::Handshake);
    protocol::Hello h;
    h.token = meta.token;
    h.cursor = meta.cursor;
    h.device = meta.device;
    h.resume_token = resume_token;
    h.merge_token = merge_token;
    send_frame(h);
  }

  // ------------------------------------------------------------------ outbox
  void pump(TimeMs now) {
    if (conn != ConnectionState::Ready || auth_blocked || logged_out) return;
    // Sends: per conversation, FIFO, one in flight; wedged records are skipped.
    for (const auto& [conv, order] : fifo) {
      if (inflight_by_conv.count(conv)) continue;
      for (const auto& [pos, cid] : order) {
        auto found = outbox.find(cid);
        if (found == outbox.end()) continue;
        OutboxEntry& e = found->second;
        if (e.rec.state == OutboxRecord::State::Wedged) continue;
        if (e.awaiting_commit()) break;  // FIFO: its change must be durable first
        if (blocked_by_dependency(e)) continue;
        if (e.next_attempt > now) break;  // FIFO: wait for the head's backoff
        if (!e.rec.attempted) {
          // Make "may have reached the server" durable before it can become true.
          e.rec.attempted = true;
          e.attempt_unsaved = true;
          dirty.outbox_put.insert(e.rec.cid);
          break;
        }
        start_send(now, e);
        break;
      }
    }
    // Catch-up: keep asking while behind what the server is known to hold.
    if (meta.cursor < server_head) request_sync(now);
    // Gaps: backfill explicitly signalled holes until complete.
    for (auto& [id, cs] : convs) {
      if (cs.history_retry_at > now) continue;  // backing off after a failed history request
      if (!cs.c.gaps.empty() && cs.backfill_req.empty()) {
        const Gap& g = cs.c.gaps.front();
        protocol::History h;
        h.conv = id;
        h.after = g.from - 1;
        h.before = g.to + 1;
        h.limit = static_cast<int>(cfg.page_size);
        h.req = cs.backfill_req = track(now, RequestKind::HistoryGap, id);
        requests[h.req].before = h.before;
        requests[h.req].after = h.after;
        send_frame(h);
      }
      if (cs.older_wanted && cs.older_req.empty() && !cs.page_read_pending) request_older(now, cs);
      if (cs.c.read_seq > cs.read_sent) {
        send_frame(protocol::MarkRead{id, cs.c.read_seq});
        cs.read_sent = cs.c.read_seq;
      }
    }
    // Engagement level for the backend's prioritisation.
    const auto level = engagement.level(now);
    if (!engagement_sent || *engagement_sent != level) {
      engagement_sent = level;
      send_frame(protocol::Engagement{std::string(engagement::to_string(level)),
                                      engagement.avg_reply_latency_ms, engagement.present(now)});
    }
  }

  // A message waits for its attachments' uploads. If one of them is wedged, so is it.
  bool blocked_by_dependency(OutboxEntry& e) {
    for (const auto& dep : e.rec.depends_on) {
      auto it = outbox.find(dep);
      if (it == outbox.end()) continue;  // uploaded
      if (it->second.rec.state == OutboxRecord::State::Wedged) {
        wedge(e, make_error(ErrorCode::InvalidCommand, "an attachment could not be uploaded"));
      }
      return true;
    }
    return false;
  }

  void start_send(TimeMs now, OutboxEntry& e) {
    const auto& rec = e.rec;
    if (e.wire_cid.empty() || cfg.debug_fresh_cid_per_attempt) {
      e.wire_cid = cfg.debug_fresh_cid_per_attempt && rec.attempts > 0 ? rng.id("k_") : rec.cid;
    }
    e.inflight = true;
    ++e.rec.attempts;
    inflight_by_conv[rec.conv] = rec.cid;
    changed(rec.conv);
    if (rec.kind == OutboxRecord::Kind::Upload) {
      protocol::Upload u;
      u.conv = rec.conv;
      u.cid = e.wire_cid;
      if (!rec.body.attachments.empty()) u.attachment = rec.body.attachments.front();
      const TimeMs transfer_ms =
          cfg.upload_min_bytes_per_s > 0
              ? std::max<std::int64_t>(0, u.attachment.size) * 1000 / cfg.upload_min_bytes_per_s
              : 0;
      u.req = e.req = track(now, RequestKind::Upload, rec.conv, rec.cid, transfer_ms);
      send_frame(u);
      return;
    }
    protocol::Send s;
    s.conv = rec.conv;
    s.cid = e.wire_cid;
    s.body = rec.body;
    s.req = e.req = track(now, RequestKind::Send, rec.conv, rec.cid);
    send_frame(s);
  }

  void finish_inflight(OutboxEntry& e) {
    if (!e.inflight) return;
    e.inflight = false;
    untrack(e.req);
    e.req.clear();
    auto it = inflight_by_conv.find(e.rec.conv);
    if (it != inflight_by_conv.end() && it->second == e.rec.cid) inflight_by_conv.erase(it);
  }

  void wedge(OutboxEntry& e, Error why) {
    finish_inflight(e);
    e.rec.state = OutboxRecord::State::Wedged;
    e.rec.error = std::move(why);
    dirty.outbox_put.insert(e.rec.cid);
    changed(e.rec.conv);
  }

  void remove_outbox(const std::string& cid) {
    auto it = outbox.find(cid);
    if (it == outbox.end()) return;
    finish_inflight(it->second);
    for (const auto& a : it->second.rec.body.attachments) {
      if (!a.blob_ref.empty() && it->second.rec.kind == OutboxRecord::Kind::Upload) {
        dirty.blob_del.insert(a.blob_ref);
      }
    }
    changed(it->second.rec.conv);
    dirty.outbox_put.erase(cid);
    dirty.outbox_del.insert(cid);
    erase_outbox(it);
  }

  // Handles a failed request (already untracked by the caller).
  void request_failed(TimeMs now, const Request& r, const Error& err) {
    switch (r.kind) {
      case RequestKind::Send:
      case RequestKind::Upload: {
        auto it = outbox.find(r.cid);
        if (it == outbox.end()) return;
        OutboxEntry& e = it->second;
        if (!e.inflight) return;
        e.inflight = false;
        e.req.clear();
        if (auto f = inflight_by_conv.find(e.rec.conv);
            f != inflight_by_conv.end() && f->second == e.rec.cid) {
          inflight_by_conv.erase(f);
        }
        changed(e.rec.conv);
        if (err.recoverability == Recoverability::Permanent) {
          wedge(e, err);
        } else if (err.recoverability == Recoverability::Auth) {
          --e.rec.attempts;  // not the message's fault
          e.next_attempt = now;
          need_token();
        } else if (err.code == ErrorCode::Disconnected) {
          e.next_attempt = now;  // resend at once on the next connection
        } else {
          e.rec.error = err;
          e.next_attempt = now + backoff(e.rec.attempts);
          set_timer(e.next_attempt, TimerKind::SendRetry);
        }
        return;
      }
      case RequestKind::HistoryGap:
      case RequestKind::HistoryOlder:
        if (auto* cs = find_conv(r.conv)) {
          (r.kind == RequestKind::HistoryGap ? cs->backfill_req : cs->older_req).clear();
          if (err.recoverability == Recoverability::Permanent) {
            // The server will not serve it: stop asking (the error is shown below).
            if (r.kind == RequestKind::HistoryGap && !cs->c.gaps.empty()) {
              cs->c.gaps.erase(cs->c.gaps.begin());
              touch_conv(*cs);
            }
            cs->older_wanted = false;
          } else if (err.code != ErrorCode::Disconnected) {
            cs->history_retry_at = now + backoff(++cs->history_failures);
            set_timer(cs->history_retry_at, TimerKind::SendRetry);
          }
        }
        break;
      case RequestKind::Sync:
        sync_req.clear();
        if (err.code != ErrorCode::Disconnected) {              // a new connection syncs anyway
          if (sync_failures++ == 0) fx.view.connection = true;  // out of sync, retrying
          sync_retry_at = now + backoff(sync_failures);
          set_timer(sync_retry_at, TimerKind::SendRetry);  // pump() asks again then
        }
        break;
      case RequestKind::Handoff:
        fx.errors.push_back(err);
        break;
    }
    if (err.recoverability == Recoverability::Auth) need_token();
    if (err.recoverability == Recoverability::Permanent) fx.errors.push_back(err);
  }

  void need_token() {
    if (auth_blocked) return;
    auth_blocked = true;
    fx.auth_required = true;
    fx.view.connection = true;
  }

  // ------------------------------------------------------------------ receiving
  // Insert a server-confirmed message. Dedupes by (conv, seq) and server id; resolves a
  // local echo by client id (covers the echo arriving before the ack).
  // Insert a server-confirmed message. Dedupes by (conv, seq) and server id; resolves a
  // local echo by client id (covers the echo arriving before the ack).
  //
  // The history held locally is one contiguous window [first_stored_seq, last_seq] apart
  // from explicit gaps, and the loaded window in memory is a suffix of it. A live message
  // below the window (an update of an old message, a late ack after a reset) is therefore
  // not stored: storing it would create a hole that paging never fills. The server serves
  // its current version when history is paged back.
  void insert_message(TimeMs now, const Message& m, Source src) {
    ConvState& cs = ensure_conv(m.conv, now);
    if (!m.cid.empty()) {
      auto it = outbox.find(m.cid);
      if (it == outbox.end()) {
        for (auto& [cid, e] : outbox) {  // under the planted bug the wire cid differs
          if (e.wire_cid == m.cid && !e.wire_cid.empty()) {
            it = outbox.find(cid);
            break;
          }
        }
      }
      if (it != outbox.end() && it->second.rec.conv == m.conv && !it->second.cancel_pending) {
        remove_outbox(it->first);
      }
    }
    auto& c = cs.c;
    const bool nothing_stored = c.first_stored_seq == 0;
    const bool newest = m.seq > c.last_seq;
    const bool in_window = !nothing_stored && m.seq >= c.first_stored_seq && m.seq <= c.last_seq;
    if (src == Source::Live && !newest && !in_window) return;
    const Seq lowest_loaded = cs.msgs.empty() ? 0 : cs.msgs.begin()->first;
    const bool in_memory =
        newest || src == Source::OlderPage || (lowest_loaded != 0 && m.seq >= lowest_loaded);
    if (in_memory) {
      auto it = cs.msgs.find(m.seq);
      if (it != cs.msgs.end() && it->second == m) return;  // exact duplicate
      cs.msgs[m.seq] = m;
    }
    dirty.msgs[{m.conv, m.seq}] = records::to_json(m);
    if (!in_window || in_gap(c, m.seq)) ++c.stored_count;  // not held before
    if (nothing_stored || (src == Source::OlderPage && m.seq < c.first_stored_seq)) {
      c.first_stored_seq = m.seq;
    }
    if (newest && src == Source::Live) trim_memory(cs);
    if (newest) {
      const bool from_other = m.author.role != Role::Visitor;
      c.last_seq = m.seq;
      c.preview = m.body.text;
      c.last_activity_ts = std::max(c.last_activity_ts, m.ts);
      c.updated_ts = std::max(c.updated_ts, m.ts);
      c.ticket = std::max(c.ticket, m.ticket);
      if (from_other && m.seq > c.read_seq && m.body.event.is_null()) {
        ++c.unread;
        fx.view.unread = true;
        engagement.on_agent_message(now);
      }
    }
    touch_conv(cs);
  }

  // Drop the oldest loaded messages beyond the window (they stay in storage and page back
  // in on scroll), so memory does not grow with history.
  void trim_memory(ConvState& cs) {
    const std::size_t keep = cs.c.id == meta.open_conv
                                 ? std::max(cfg.memory_window_messages, cfg.page_size)
                                 : cfg.page_size;
    if (cs.msgs.size() <= keep) return;
    while (cs.msgs.size() > keep) cs.msgs.erase(cs.msgs.begin());
    ++cs.trims;
  }

  static bool in_gap(const Conversation& c, Seq s) {
    return std::any_of(c.gaps.begin(), c.gaps.end(),
                       [s](const Gap& g) { return s >= g.from && s <= g.to; });
  }

  void apply_event(TimeMs now, const protocol::Event& ev) {
    using K = protocol::EventKind;
    switch (ev.kind) {
      case K::Message:
      case K::MessageUpdated:
        insert_message(now, ev.message, Source::Live);
        break;
      case K::Read: {
        ConvState& cs = ensure_conv(ev.conv, now);
        auto& c = cs.c;
        if (ev.reader == Role::Visitor) {  // another device of this visitor read it
          if (ev.seq > c.read_seq) {
            c.read_seq = ev.seq;
            recount_unread(cs);
            cs.read_sent = std::max(cs.read_sent, ev.seq);
          }
        } else if (ev.delivered_only) {
          c.agent_delivered_seq = std::max(c.agent_delivered_seq, ev.seq);
        } else {
          c.agent_read_seq = std::max(c.agent_read_seq, ev.seq);
          c.agent_delivered_seq = std::max(c.agent_delivered_seq, ev.seq);
        }
        touch_conv(cs);
        break;
      }
      case K::Status: {
        ConvState& cs = ensure_conv(ev.conv, now);
        cs.c.status = ev.status;
        cs.c.ticket = ev.ticket;
        touch_conv(cs);
        break;
      }
      case K::Handoff: {
        ConvState& cs = ensure_conv(ev.conv, now);
        cs.c.owner = ev.owner;
        if (!ev.channels.empty()) cs.c.channels = ev.channels;
        if (!ev.resume_token.empty()) cs.resume_token = ev.resume_token;
        touch_conv(cs);
        if (ev.message.seq > 0) insert_message(now, ev.message, Source::Live);
        break;
      }
      case K::Conversation:
        apply_summary(now, ev);
        break;
      case K::Gap: {
        ConvState& cs = ensure_conv(ev.conv, now);
        add_gap(cs.c, ev.gap);
        touch_conv(cs);
        break;
      }
    }
  }

  void apply_summary(TimeMs now, const protocol::Event& ev) {
    ConvState& cs = ensure_conv(ev.conv, now);
    auto& c = cs.c;
    c.status = ev.status;
    c.ticket = ev.ticket;
    c.style = ev.style;
    c.owner = ev.owner;
    if (!ev.channels.empty()) c.channels = ev.channels;
    c.last_seq = std::max(c.last_seq, ev.last_seq);
    if (!ev.subject.empty()) c.subject = ev.subject;
    touch_conv(cs);
  }

  static void add_gap(Conversation& c, Gap g) {
    if (g.from > g.to || g.from < 1) return;
    // Entirely below the stored window and not touching it: paging back fetches those.
    if (c.first_stored_seq != 0 && g.to + 1 < c.first_stored_seq) return;
    c.gaps.push_back(g);
    std::sort(c.gaps.begin(), c.gaps.end(),
              [](const Gap& a, const Gap& b) { return a.from < b.from; });
    std::vector<Gap> merged;
    for (const auto& x : c.gaps) {
      if (!merged.empty() && x.from <= merged.back().to + 1) {
        merged.back().to = std::max(merged.back().to, x.to);
      } else {
        merged.push_back(x);
      }
    }
    c.gaps = std::move(merged);
  }

  void recount_unread(ConvState& cs) {
    int n = 0;
    for (auto it = cs.msgs.upper_bound(cs.c.read_seq); it != cs.msgs.end(); ++it) {
      if (it->second.author.role != Role::Visitor && it->second.body.event.is_null()) ++n;
    }
    // Exact when the loaded window covers everything after the marker; otherwise the
    // stored count can only shrink, bounded by the number of messages after the marker.
    const bool covered = !cs.msgs.empty() && cs.msgs.begin()->first <= cs.c.read_seq + 1;
    const auto after_marker = static_cast<int>(std::max<Seq>(0, cs.c.last_seq - cs.c.read_seq));
    cs.c.unread = covered ? n : std::min(cs.c.unread, after_marker);
    fx.view.unread = true;
  }

  void on_events(TimeMs now, const protocol::Events& f) {
    const bool answer = !f.req.empty() && f.req == sync_req;
    if (answer) {
      untrack(sync_req);
      sync_req.clear();
      sync_answered();
    }
    // What the server is known to hold: `more` says there is something after f.cursor; the
    // answer to our own sync with `more: false` says where the head is now.
    // `seen_head` only grows from cursors of events that exist: the answer to our own sync
    // may be older than a push we already saw, and must not make us forget it.
    if (!f.events.empty()) seen_head = std::max(seen_head, f.cursor);
    if (f.more) server_head = std::max(server_head, f.cursor + 1);
    if (answer && !f.more) server_head = std::max(f.cursor, seen_head);
    if (f.cursor <= meta.cursor && !f.events.empty()) {  // duplicate frame
      if (meta.cursor < server_head) request_sync(now);
      return;
    }
    if (f.from > meta.cursor) {  // something is missing before this frame: ask again
      server_head = std::max(server_head, f.cursor);
      request_sync(now);
      return;
    }
    for (const auto& ev : f.events) {
      if (ev.cursor > meta.cursor) apply_event(now, ev);
    }
    if (f.cursor > meta.cursor) {
      meta.cursor = f.cursor;
      dirty.meta = true;  // committed in the same batch as the records above
    }
    if (f.more || meta.cursor < server_head) request_sync(now);
  }

  void request_sync(TimeMs now) {
    if (!sync_req.empty() || conn != ConnectionState::Ready || now < sync_retry_at) return;
    protocol::Sync s;
    s.after = meta.cursor;
    s.limit = static_cast<int>(cfg.sync_limit);
    s.req = sync_req = track(now, RequestKind::Sync, {});
    send_frame(s);
  }

  void on_page(TimeMs now, const protocol::Page& p) {
    auto r = untrack(p.req);
    if (!r) return;  // late answer to a request we gave up on
    if ((r->kind != RequestKind::HistoryGap && r->kind != RequestKind::HistoryOlder) ||
        p.conv != r->conv) {
      request_failed(now, *r,
                     make_error(ErrorCode::ServerError, "a page answered another request"));
      return;
    }
    ConvState* cs = find_conv(r->conv);
    if (!cs) return;
    cs->history_failures = 0;
    const Source src = r->kind == RequestKind::HistoryGap ? Source::GapPage : Source::OlderPage;
    for (const auto& m : p.messages) {
      if (m.conv == p.conv) insert_message(now, m, src);
    }
    auto& c = cs->c;
    if (r->kind == RequestKind::HistoryGap) {
      cs->backfill_req.clear();
      // The gap asked about may have grown meanwhile (merged with a newer one): only the
      // range that was requested, below r->before, is settled by this page.
      auto g = std::find_if(c.gaps.begin(), c.gaps.end(), [&](const Gap& x) {
        return x.from <= r->after + 1 && r->after + 1 <= x.to;
      });
      if (g == c.gaps.end()) return;
      const Gap asked = *g;
      Seq progressed = g->from;
      for (const auto& m : p.messages) progressed = std::max(progressed, m.seq + 1);
      if (!p.complete && p.next > 0) progressed = std::max(progressed, p.next + 1);
      if (p.complete) progressed = std::max(progressed, r->before);
      g->from = progressed;
      if (g->from > g->to) {
        c.gaps.erase(g);
        // A filled gap just below the stored window extends it.
        if (c.first_stored_seq == 0 ||
            (asked.from < c.first_stored_seq && asked.to + 1 >= c.first_stored_seq)) {
          c.first_stored_seq =
              c.first_stored_seq == 0 ? asked.from : std::min(c.first_stored_seq, asked.from);
        }
      }
      touch_conv(*cs);
    } else if (r->kind == RequestKind::HistoryOlder) {
      cs->older_req.clear();
      Seq lowest = c.first_stored_seq;
      for (const auto& m : p.messages) lowest = lowest == 0 ? m.seq : std::min(lowest, m.seq);
      c.first_stored_seq = lowest;
      if (p.complete) {
        c.history_complete = true;
        cs->older_wanted = false;
      } else if (p.messages.empty() && p.next > 0) {
        cs->older_before_hint = p.next;  // an empty page that still says "more": go on
        cs->older_wanted = true;
      } else {
        cs->older_wanted = false;  // one page per request from the UI
      }
      touch_conv(*cs);
    }
  }
  void request_older(TimeMs now, ConvState& cs) {
    auto& c = cs.c;
    const Seq lowest_loaded = cs.msgs.empty() ? 0 : cs.msgs.begin()->first;
    // Older messages still in local storage: read them from there first.
    if (c.first_stored_seq != 0 && (lowest_loaded == 0 || lowest_loaded > c.first_stored_seq)) {
      read_page(c.id, lowest_loaded);
      return;
    }
    if (c.history_complete || conn != ConnectionState::Ready) return;
    protocol::History h;
    h.conv = c.id;
    Seq before = c.first_stored_seq != 0 ? c.first_stored_seq : c.last_seq + 1;
    if (cs.older_before_hint != 0) {
      before = std::min(before, cs.older_before_hint);
      cs.older_before_hint = 0;
    }
    if (before <= 1) {
      c.history_complete = true;
      cs.older_wanted = false;
      touch_conv(cs);
      return;
    }
    h.before = before;
    h.limit = static_cast<int>(cfg.page_size);
    h.req = cs.older_req = track(now, RequestKind::HistoryOlder, c.id);
    send_frame(h);
  }

  void read_page(const std::string& conv, Seq before) {
    auto* cs = find_conv(conv);
    if (!cs || cs->page_read_pending) return;
    cs->page_read_pending = true;
    cs->page_read_generation = generation;
    cs->page_read_trims = cs->trims;
    cs->page_read_before = before;
    fx.reads.push_back(StorageRead{StorageRead::Kind::Page, conv, before, cfg.page_size});
  }

  void sync_answered() {
    if (sync_failures) fx.view.connection = true;  // back in sync
    sync_failures = 0;
  }

  void on_reset(TimeMs now, const protocol::Reset& r) {
    if (!sync_req.empty()) {  // a reset is the answer to our sync
      untrack(sync_req);
      sync_req.clear();
      sync_answered();
    }
    server_head = r.cursor;
    seen_head = r.cursor;
    // Beyond the catch-up horizon: drop cached history and conversations, keep the outbox.
    ++generation;
    dirty.msgs.clear();
    dirty.convs.clear();
    dirty.generation = generation;
    dirty.pre_ops.push_back(StorageOp{StorageOp::Kind::Clear, Store::Messages, "", 0, Json()});
    dirty.pre_ops.push_back(StorageOp{StorageOp::Kind::Clear, Store::Conversations, "", 0, Json()});
    std::map<std::string, ConvState> kept;
    for (auto& [id, cs] : convs) {
      bool has_outbox = std::any_of(outbox.begin(), outbox.end(), [&, &id = id](const auto& kv) {
        return kv.second.rec.conv == id;
      });
      if (has_outbox) {
        ConvState fresh;
        fresh.c = cs.c;
        fresh.c.first_stored_seq = 0;
        fresh.c.stored_count = 0;
        fresh.c.history_complete = false;
        fresh.c.gaps.clear();
        fresh.older_wanted = cs.older_wanted;
        kept[id] = std::move(fresh);
        dirty.convs.insert(id);
      }
      changed(id);
    }
    for (auto& [id, cs] : convs) {
      if (!cs.backfill_req.empty()) untrack(cs.backfill_req);
      if (!cs.older_req.empty()) untrack(cs.older_req);
    }
    std::map<std::string, std::array<Seq, 3>> markers;  // read markers only move forward
    for (const auto& [id, cs] : convs) {
      markers[id] = {cs.c.read_seq, cs.c.agent_read_seq, cs.c.agent_delivered_seq};
    }
    convs = std::move(kept);
    for (const auto& ev : r.conversations) apply_summary(now, ev);
    for (auto& [id, cs] : convs) {
      if (auto m = markers.find(id); m != markers.end()) {
        cs.c.read_seq = std::max(cs.c.read_seq, m->second[0]);
        cs.c.agent_read_seq = std::max(cs.c.agent_read_seq, m->second[1]);
        cs.c.agent_delivered_seq = std::max(cs.c.agent_delivered_seq, m->second[2]);
        cs.read_sent = cs.c.read_seq;
      }
    }
    meta.cursor = r.cursor;
    dirty.meta = true;
    fx.view.unread = true;
    if (!meta.open_conv.empty()) {
      if (auto* cs = find_conv(meta.open_conv)) cs->older_wanted = true;
    }
  }
};

// ====================================================================== public API
Client::Client(Config config) : s_(std::make_unique<State>(std::move(config))) {}
Client::~Client() = default;

void Client::start(TimeMs) {
  if (s_->started) return;
  s_->started = true;
  s_->fx.reads.push_back(StorageRead{StorageRead::Kind::Restore, {}, 0, 0});
}

void Client::on_restored(TimeMs now, const Restored& r) {
  auto& s = *s_;
  if (s.is_restored || s.logged_out) return;
  if (!r.meta.is_null()) {
    auto m = records::meta_from_json(r.meta);
    if (auto* e = std::get_if<Error>(&m)) {
      s.fx.errors.push_back(*e);
      s.dirty.meta = true;
    } else {
      s.meta = std::get<records::Meta>(m);
      if (!current_version(r.meta)) s.dirty.meta = true;
    }
  } else {
    s.dirty.meta = true;
  }
  if (s.meta.device.empty()) {
    s.meta.device = s.cfg.device.empty() ? s.rng.id("d_") : s.cfg.device;
    s.dirty.meta = true;
  }
  for (const auto& j : r.conversations) {
    auto c = records::conversation_from_json(j);
    if (auto* e = std::get_if<Error>(&c)) {
      s.fx.errors.push_back(*e);  // skip the corrupt record; nothing else is lost
      continue;
    }
    auto& conv = std::get<Conversation>(c);
    const std::string id = conv.id;
    s.convs[id].c = std::move(conv);
    if (!current_version(j)) s.dirty.convs.insert(id);
  }
  for (const auto& j : r.outbox) {
    auto o = records::outbox_from_json(j);
    if (auto* e = std::get_if<Error>(&o)) {
      s.fx.errors.push_back(*e);
      continue;
    }
    OutboxEntry e;
    e.rec = std::get<OutboxRecord>(o);
    e.committed = true;
    e.next_attempt = now;
    s.meta.outbox_counter = std::max(s.meta.outbox_counter, e.rec.order);
    if (!s.convs.count(e.rec.conv)) s.ensure_conv(e.rec.conv, now);
    if (!current_version(j)) s.dirty.outbox_put.insert(e.rec.cid);
    s.add_outbox(std::move(e));
  }
  // Mix persisted state into the random stream, so a host that reuses a seed across starts
  // still gets fresh client ids (the host should pass a fresh random seed every start).
  s.rng = Rng(s.cfg.seed ^ (s.meta.outbox_counter * 0x9E3779B97F4A7C15ULL) ^ fnv1a(s.meta.device));
  s.is_restored = true;
  // A sign-in that a reload interrupted is still waiting for its welcome.
  if (s.meta.identity_pending) s.identity_change = true;
  if (s.merge_token.empty()) s.merge_token = s.meta.merge_token;
  if (s.pending_token) {
    if (s.merge_on_restore && s.merge_token.empty() && s.meta.token != *s.pending_token) {
      s.merge_token = s.meta.token;  // the stored token is the one identify() replaces
    }
    if (s.merge_on_restore) s.persist_sign_in();
    s.meta.token = *s.pending_token;
    s.pending_token.reset();
    s.dirty.meta = true;
  }
  s.merge_on_restore = false;
  if (!s.meta.open_conv.empty() && s.find_conv(s.meta.open_conv)) s.read_page(s.meta.open_conv, 0);
  s.fx.view.connection = true;
  s.fx.view.unread = true;
  for (const auto& [id, cs] : s.convs) s.changed(id);
  s.ensure_connection(now);
  s.flush();
}

void Client::on_page_loaded(TimeMs now, const std::string& conv,
                            const std::vector<Json>& messages) {
  auto& s = *s_;
  auto* cs = s.find_conv(conv);
  // Not asked for (any more): a reset or logout happened while the read was in flight.
  if (!cs || !cs->page_read_pending || cs->page_read_generation != s.generation) return;
  cs->page_read_pending = false;
  std::vector<Message> page;
  for (const auto& stored : messages) {
    auto m = records::message_from_json(stored);
    if (auto* e = std::get_if<Error>(&m)) {
      s.fx.errors.push_back(*e);
      continue;
    }
    Message msg = std::move(std::get<Message>(m));
    if (msg.conv != conv) continue;
    bool upgrade = !current_version(stored);
    // A write still waiting to be committed is newer than what storage returned.
    if (const Json* pending = s.pending_message(conv, msg.seq)) {
      auto p = records::message_from_json(*pending);
      if (auto* fresh = std::get_if<Message>(&p)) msg = std::move(*fresh);
      upgrade = false;
    }
    // Below the window: evicted while this read was in flight (the range delete is not
    // committed yet). Showing it would reopen a hole below the window.
    if (cs->c.first_stored_seq != 0 && msg.seq < cs->c.first_stored_seq) continue;
    // Lazy migration: a record read in an old version is written back upgraded.
    if (upgrade) s.dirty.msgs[{conv, msg.seq}] = records::to_json(msg);
    page.push_back(std::move(msg));
  }
  // Storage may not hold yet what is still waiting to be committed: add those records.
  {
    const Seq hi =
        cs->page_read_before == 0 ? std::numeric_limits<Seq>::max() : cs->page_read_before;
    Seq lo = cs->c.first_stored_seq;  // a short read: everything below `hi`
    if (messages.size() >= s.cfg.page_size && !page.empty()) {
      lo = page.front().seq;  // a full page: only its own range (older ones come next)
      for (const auto& m : page) lo = std::min(lo, m.seq);
    }
    std::set<Seq> have;
    for (const auto& m : page) have.insert(m.seq);
    for (const auto& [seq, j] : s.pending_messages(conv, lo, hi)) {
      if (have.count(seq)) continue;
      auto m = records::message_from_json(*j);
      if (auto* msg = std::get_if<Message>(&m)) page.push_back(std::move(*msg));
    }
  }
  // The loaded window must stay contiguous: if it moved up while the read was in flight
  // (live messages trimmed it), this page no longer touches it and is dropped; the next
  // scroll reads again from the new edge. (Seq numbers may have holes: never judge by them.)
  const bool contiguous = cs->trims == cs->page_read_trims;
  if (contiguous) {
    for (auto& m : page) cs->msgs.try_emplace(m.seq, std::move(m));
    // A short read means storage holds nothing older than what is now loaded: correct the
    // bookkeeping so the next scroll asks the server instead of reading storage again.
    const Seq lowest_after = cs->msgs.empty() ? 0 : cs->msgs.begin()->first;
    if (lowest_after != 0 && messages.size() < s.cfg.page_size &&
        lowest_after > cs->c.first_stored_seq) {
      cs->c.first_stored_seq = lowest_after;
      s.touch_conv(*cs);
    }
  }
  s.changed(conv);
  s.pump(now);
  s.flush();
}

void Client::on_commit(TimeMs now, std::uint64_t batch_id, CommitResult result) {
  s_->on_commit(now, batch_id, result);
  s_->pump(now);
  s_->flush();
}

SendResult Client::send(TimeMs now, const std::string& conv, Body body) {
  auto& s = *s_;
  if (!s.is_restored || s.logged_out)
    return make_error(ErrorCode::InvalidCommand, "client not ready");
  if (body.text.empty() && body.attachments.empty() && body.rich == RichKind::None) {
    return make_error(ErrorCode::InvalidCommand, "empty message");
  }
  if (body.text.size() > protocol::kMaxTextBytes) {
    return make_error(ErrorCode::MessageTooLong,
                      "message longer than " + std::to_string(protocol::kMaxTextBytes) + " bytes");
  }
  if (body.attachments.size() > protocol::kMaxAttachments) {
    return make_error(ErrorCode::InvalidField, "too many attachments");
  }
  ConvState* cs = s.find_conv(conv);
  if (!cs) return make_error(ErrorCode::NotFound, "unknown conversation " + conv);
  for (std::size_t i = 0; i < body.attachments.size(); ++i) {
    const auto& id = body.attachments[i].id;
    if (id.empty()) continue;
    bool dup = s.outbox.count(id) > 0;
    for (std::size_t k = 0; k < i; ++k) dup = dup || body.attachments[k].id == id;
    if (dup) return make_error(ErrorCode::InvalidField, "duplicate attachment id " + id);
  }
  // Attachments with a pending blob are uploaded first, as their own outbox records.
  OutboxRecord rec;
  rec.kind = OutboxRecord::Kind::Message;
  rec.conv = conv;
  rec.created_ts = now;
  for (auto& a : body.attachments) {
    if (a.id.empty()) a.id = s.rng.id("a_");
    if (a.url.empty() && !a.blob_ref.empty()) {
      OutboxEntry up;
      up.rec.kind = OutboxRecord::Kind::Upload;
      up.rec.cid = a.id;
      up.rec.conv = conv;
      up.rec.order = ++s.meta.outbox_counter;
      up.rec.created_ts = now;
      up.rec.body.attachments.push_back(a);
      up.next_attempt = now;
      rec.depends_on.push_back(a.id);
      s.dirty.outbox_put.insert(a.id);
      s.add_outbox(std::move(up));
    }
  }
  do {
    rec.cid = s.rng.id("k_");
  } while (s.outbox.count(rec.cid));
  rec.order = ++s.meta.outbox_counter;
  rec.body = std::move(body);
  // Predict the lifecycle outcome with the same rules the server runs.
  // Only a closed ticket is predicted here: a solved one depends on the solve time, which
  // only the server knows, and its status event settles it.
  lifecycle::Ticket t{cs->c.status, cs->c.ticket, 0, 0, false, {}};
  auto d = lifecycle::on_customer_message(s.cfg.policy, t, s.cfg.locale, rec.body, now);
  if (cs->c.status == Status::Closed && d.outcome == lifecycle::Outcome::NewTicket) {
    cs->c.status = Status::New;
    cs->c.ticket = d.ticket.number;
    s.touch_conv(*cs);
  }
  s.engagement.on_customer_message(now);
  OutboxEntry e;
  e.rec = rec;
  e.next_attempt = now;
  s.dirty.outbox_put.insert(rec.cid);
  s.dirty.meta = true;
  s.add_outbox(std::move(e));
  cs->c.last_activity_ts = now;
  s.flush();
  return rec.cid;
}

std::optional<Error> Client::retry(TimeMs now, const std::string& cid) {
  auto& s = *s_;
  auto it = s.outbox.find(cid);
  if (it == s.outbox.end() || !it->second.committed) {
    return make_error(ErrorCode::InvalidCommand, "no queued message " + cid);
  }
  auto& e = it->second;
  if (e.inflight) return std::nullopt;  // already going
  e.rec.state = OutboxRecord::State::Pending;
  e.rec.error.reset();
  e.rec.attempts = 0;
  e.next_attempt = now;
  s.dirty.outbox_put.insert(cid);
  for (const auto& dep : e.rec.depends_on) {  // a failed upload is retried with its message
    if (auto d = s.outbox.find(dep); d != s.outbox.end() && !d->second.inflight) {
      d->second.rec.state = OutboxRecord::State::Pending;
      d->second.rec.error.reset();
      d->second.next_attempt = now;
      s.dirty.outbox_put.insert(dep);
    }
  }
  s.changed(e.rec.conv);
  s.pump(now);
  s.flush();
  return std::nullopt;
}

std::optional<Error> Client::cancel(TimeMs now, const std::string& cid) {
  auto& s = *s_;
  auto it = s.outbox.find(cid);
  if (it == s.outbox.end() || !it->second.committed || it->second.cancel_pending) {
    return make_error(ErrorCode::InvalidCommand, "no queued message " + cid);
  }
  if (!it->second.changeable()) {
    return make_error(ErrorCode::Conflict, "message may already have been delivered");
  }
  // The cancel, like a send, takes effect once committed (see on_commit).
  auto cancel_one = [&s](OutboxEntry& e) {
    if (e.edit_undo) {  // the cancel supersedes an uncommitted edit
      e.rec.body = std::move(*e.edit_undo);
      e.edit_undo.reset();
    }
    e.cancel_pending = true;
    s.dirty.outbox_put.erase(e.rec.cid);
    s.dirty.outbox_del.insert(e.rec.cid);
    if (e.rec.kind == OutboxRecord::Kind::Upload) {
      for (const auto& a : e.rec.body.attachments) {
        if (!a.blob_ref.empty()) s.dirty.blob_del.insert(a.blob_ref);
      }
    }
    s.changed(e.rec.conv);
  };
  cancel_one(it->second);
  for (const auto& dep : it->second.rec.depends_on) {
    if (auto d = s.outbox.find(dep); d != s.outbox.end() && d->second.changeable())
      cancel_one(d->second);
  }
  s.pump(now);
  s.flush();
  return std::nullopt;
}

std::optional<Error> Client::edit_queued(TimeMs now, const std::string& cid, Body body) {
  auto& s = *s_;
  auto it = s.outbox.find(cid);
  if (it == s.outbox.end() || !it->second.committed ||
      it->second.rec.kind != OutboxRecord::Kind::Message) {
    return make_error(ErrorCode::InvalidCommand, "no queued message " + cid);
  }
  if (it->second.cancel_pending) return make_error(ErrorCode::InvalidCommand, "message cancelled");
  if (!it->second.changeable()) {
    return make_error(ErrorCode::Conflict, "message may already have been delivered");
  }
  if (body.text.size() > protocol::kMaxTextBytes) {
    return make_error(ErrorCode::MessageTooLong, "message too long");
  }
  body.attachments = it->second.rec.body.attachments;  // attachments are kept
  // The edit takes effect once committed; until then the record is not sent.
  if (!it->second.edit_undo) it->second.edit_undo = it->second.rec.body;
  it->second.rec.body = std::move(body);
  s.dirty.outbox_put.insert(cid);
  s.changed(it->second.rec.conv);
  s.pump(now);
  s.flush();
  return std::nullopt;
}

void Client::mark_read(TimeMs now, const std::string& conv, Seq seq) {
  auto& s = *s_;
  auto* cs = s.find_conv(conv);
  if (!cs) return;
  seq = std::min(seq, cs->c.last_seq);
  if (seq <= cs->c.read_seq) return;  // read markers only move forward
  cs->c.read_seq = seq;
  s.recount_unread(*cs);
  s.touch_conv(*cs);
  s.pump(now);
  s.flush();
}

void Client::typing(TimeMs now, const std::string& conv, bool on) {
  auto& s = *s_;
  if (on) s.engagement.on_typing(now);
  if (s.conn == ConnectionState::Ready && s.find_conv(conv))
    s.send_frame(protocol::Typing{conv, on});
  s.pump(now);
}

std::string Client::start_conversation(TimeMs now, const std::string& subject) {
  auto& s = *s_;
  const std::string id = s.rng.id("c_");
  ConvState& cs = s.ensure_conv(id, now);
  cs.c.subject = subject;
  cs.c.history_complete = true;  // a new conversation has no older history
  cs.c.channels = handoff::bind({}, Channel::Web, "", now);
  cs.c.last_activity_ts = now;
  s.meta.open_conv = id;
  s.dirty.meta = true;
  s.touch_conv(cs);
  s.flush();
  return id;
}

std::optional<Error> Client::request_handoff(TimeMs now, const std::string& conv, Channel channel,
                                             const std::string& address) {
  auto& s = *s_;
  if (!s.find_conv(conv)) return make_error(ErrorCode::NotFound, "unknown conversation " + conv);
  if (!handoff::is_link_request(channel, address)) {
    if (auto err = handoff::validate_address(channel, address)) return err;
  }
  if (s.conn != ConnectionState::Ready) {
    return make_error(ErrorCode::Disconnected, "handoff needs a connection; try again when online");
  }
  protocol::HandoffRequest h;
  h.conv = conv;
  h.channel = channel;
  h.address = address;
  h.req = s.track(now, RequestKind::Handoff, conv);
  s.send_frame(h);
  return std::nullopt;
}

void Client::identify(TimeMs now, const std::string& token) {
  auto& s = *s_;
  s.identity_change = true;
  // The first identify() since the last welcome names the identity to merge from; before
  // the restore the held token is not known yet, so on_restored names it.
  if (!s.is_restored) {
    s.merge_on_restore = true;
  } else if (s.merge_token.empty() && s.meta.token != token) {
    s.merge_token = s.meta.token;
  }
  if (s.is_restored) s.persist_sign_in();
  s.use_token(now, token);
  s.flush();
}

void Client::resume(TimeMs now, const std::string& resume_token) {
  auto& s = *s_;
  s.resume_token = resume_token;
  // The server may welcome the visitor who handed off: this device becomes that visitor.
  s.identity_change = true;
  if (s.conn == ConnectionState::Ready || s.conn == ConnectionState::Handshaking) {
    s.conn = ConnectionState::Handshaking;
    s.hello(now);
  }
  s.ensure_connection(now);
}

void Client::logout(TimeMs) {
  auto& s = *s_;
  if (s.logged_out) return;
  s.logged_out = true;
  // Wipe every trace of the user: the host deletes the namespace; this batch clears the
  // stores for hosts that keep the database.
  records::StorageBatch b;
  b.id = ++s.batch_counter;
  for (Store st :
       {Store::Meta, Store::Conversations, Store::Messages, Store::Outbox, Store::Blobs}) {
    b.ops.push_back(StorageOp{StorageOp::Kind::Clear, st, "", 0, Json()});
  }
  s.fx.batches.push_back(std::move(b));
  s.batch.reset();
  s.dirty = Dirty{};
  s.convs.clear();
  s.outbox.clear();
  s.fifo.clear();
  s.inflight_by_conv.clear();
  for (const auto& [id, t] : s.timers) s.fx.timers_cancelled.push_back(id);
  s.timers.clear();
  s.requests.clear();
  s.meta = records::Meta{};
  s.merge_token.clear();
  if (s.availability) {
    s.availability.reset();
    s.fx.view.availability = true;
  }
  if (s.conn != ConnectionState::Offline) s.fx.disconnect = true;
  s.conn = ConnectionState::Offline;
  s.fx.wiped = true;
  s.fx.view.connection = true;
  s.fx.view.unread = true;
}

void Client::open_conversation(TimeMs now, const std::string& conv) {
  auto& s = *s_;
  auto* cs = s.find_conv(conv);
  if (!cs) return;
  if (s.meta.open_conv != conv) {
    s.meta.open_conv = conv;
    s.dirty.meta = true;
  }
  // Fill the first screen: from storage when it holds more than is loaded, else from the
  // server when history is incomplete and nothing is held.
  const Seq lowest_loaded = cs->msgs.empty() ? 0 : cs->msgs.begin()->first;
  if (cs->msgs.size() < s.cfg.page_size) {
    if (cs->c.first_stored_seq != 0 &&
        (lowest_loaded == 0 || lowest_loaded > cs->c.first_stored_seq)) {
      s.read_page(conv, lowest_loaded);
    } else if (cs->msgs.empty() && !cs->c.history_complete && cs->c.last_seq > 0) {
      cs->older_wanted = true;
    }
  }
  s.pump(now);
  s.flush();
}

void Client::load_older(TimeMs now, const std::string& conv) {
  auto& s = *s_;
  auto* cs = s.find_conv(conv);
  if (!cs || cs->page_read_pending || !cs->older_req.empty()) return;
  cs->older_wanted = true;
  s.request_older(now, *cs);
  if (!cs->older_req.empty() || cs->page_read_pending) cs->older_wanted = false;
  s.flush();
}

void Client::on_connected(TimeMs now) {
  auto& s = *s_;
  if (s.logged_out) return;
  s.conn = ConnectionState::Handshaking;
  s.fx.view.connection = true;
  s.hello(now);
}

void Client::on_disconnected(TimeMs now) {
  auto& s = *s_;
  s.conn = ConnectionState::Offline;  // first: losing requests must not emit frames
  s.lose_requests(now);
  for (auto& [id, cs] : s.convs) {
    cs.read_sent = 0;
    cs.typing = false;
  }
  s.engagement_sent.reset();
  s.fx.view.connection = true;
  s.cancel_timer(s.handshake_timer);
  s.handshake_timer = 0;
  if (!s.want_connection()) {
    s.conn = ConnectionState::Offline;
  } else {
    s.schedule_reconnect(now);
  }
  s.flush();
}

void Client::on_frame(TimeMs now, std::string_view text) {
  auto& s = *s_;
  if (s.logged_out) return;
  auto decoded = protocol::decode_server(text);
  if (!decoded.ok()) {
    s.fx.errors.push_back(decoded.error());  // typed; nothing stored is touched
    return;
  }
  std::visit(
      [&](const auto& f) {
        using T = std::decay_t<decltype(f)>;
        // Until this connection has welcomed us, data frames may belong to another session
        // (e.g. a welcome for another identity that we refused): never apply them.
        constexpr bool data_frame = !std::is_same_v<T, protocol::Welcome> &&
                                    !std::is_same_v<T, protocol::ErrorFrame> &&
                                    !std::is_same_v<T, protocol::Pong>;
        if (data_frame && s.conn != ConnectionState::Ready) return;
        if constexpr (std::is_same_v<T, protocol::Welcome>) {
          if (!s.meta.user.empty() && f.user != s.meta.user && !s.identity_change) {
            // An identity we did not ask for (e.g. the answer to a duplicated anonymous
            // hello): never mix two users' data. Keep ours and rebind the connection.
            s.fx.errors.push_back(
                make_error(ErrorCode::Conflict, "ignored a welcome for another identity"));
            s.conn = ConnectionState::Handshaking;
            s.hello(now);
            return;
          }
          s.cancel_timer(s.handshake_timer);
          s.handshake_timer = 0;
          s.conn = ConnectionState::Ready;
          s.reconnect_attempts = 0;
          s.auth_blocked = false;
          s.fx.view.connection = true;
          if (s.identity_change && !s.meta.user.empty() && f.user != s.meta.user) {
            s.meta.cursor = 0;  // signed in as another user: that user's log from the start
          }
          s.identity_change = false;
          s.resume_token.clear();  // the server has attached the handed-off conversation
          s.merge_token.clear();   // and merged the anonymous visitor, if it could
          if (s.meta.identity_pending || !s.meta.merge_token.empty()) {
            s.meta.identity_pending = false;
            s.meta.merge_token.clear();
            s.dirty.meta = true;
          }
          if (s.availability != f.availability) {
            s.availability = f.availability;
            s.fx.view.availability = true;
          }
          if (f.token != s.meta.token || f.user != s.meta.user) {
            s.meta.token = f.token;
            s.meta.user = f.user;
            s.dirty.meta = true;
          }
          // Catch-up is pulled: ask for what happened since our cursor.
          s.server_head = f.cursor;
          s.seen_head = 0;  // a new session (maybe another identity): only its frames count
          if (f.cursor != s.meta.cursor) s.request_sync(now);
        } else if constexpr (std::is_same_v<T, protocol::Ack>) {
          auto r = s.untrack(f.req);
          if (r && r->kind == RequestKind::Handoff) return;
          if (r && r->kind != RequestKind::Send && r->kind != RequestKind::Upload) {
            s.request_failed(now, *r,
                             make_error(ErrorCode::ServerError, "an ack answered another request"));
            return;
          }
          // Resolve by client id, so an ack that outlived its request still counts.
          std::string cid = r ? r->cid : std::string();
          if (cid.empty() || !s.outbox.count(cid)) {
            for (const auto& [k, e] : s.outbox) {
              if (e.wire_cid == f.cid || k == f.cid) cid = k;
            }
          }
          auto it = s.outbox.find(cid);
          if (it == s.outbox.end()) return;  // already resolved by the echo
          OutboxEntry& e = it->second;
          if (e.rec.kind == OutboxRecord::Kind::Upload) {
            // Point the waiting messages at the uploaded attachment.
            for (auto& [k, other] : s.outbox) {
              for (auto& a : other.rec.body.attachments) {
                if (a.id == e.rec.cid && other.rec.kind == OutboxRecord::Kind::Message) {
                  a.url = f.url;
                  a.blob_ref.clear();
                  s.dirty.outbox_put.insert(k);
                }
              }
            }
            s.remove_outbox(cid);
            return;
          }
          Message m;
          m.conv = f.conv.empty() ? e.rec.conv : f.conv;
          m.seq = f.seq;
          m.id = f.id;
          m.cid = f.cid;
          m.author = Participant{Role::Visitor, s.meta.user, {}};
          m.body = e.rec.body;
          m.ts = f.ts;
          m.ticket = s.find_conv(m.conv) ? s.find_conv(m.conv)->c.ticket : 1;
          s.remove_outbox(cid);
          if (m.seq > 0) s.insert_message(now, m, Source::Live);
        } else if constexpr (std::is_same_v<T, protocol::ErrorFrame>) {
          if (auto r = s.untrack(f.req)) {
            s.request_failed(now, *r, f.error);
          } else if (f.error.recoverability == Recoverability::Auth) {
            s.need_token();
          } else {
            s.fx.errors.push_back(f.error);
          }
        } else if constexpr (std::is_same_v<T, protocol::Events>) {
          s.on_events(now, f);
        } else if constexpr (std::is_same_v<T, protocol::Page>) {
          s.on_page(now, f);
        } else if constexpr (std::is_same_v<T, protocol::Reset>) {
          s.on_reset(now, f);
        } else if constexpr (std::is_same_v<T, protocol::Signal>) {
          if (auto* cs = s.find_conv(f.conv);
              cs && f.kind == "typing" && f.who.role != Role::Visitor) {
            cs->typing = f.on;
            s.changed(f.conv);
          }
        } else if constexpr (std::is_same_v<T, protocol::Pong>) {
          // keep-alive only
        }
      },
      decoded.frame());
  s.pump(now);
  s.flush();
}

void Client::on_request_failed(TimeMs now, const std::string& req, Error error) {
  auto& s = *s_;
  if (auto r = s.untrack(req)) s.request_failed(now, *r, error);
  s.pump(now);
  s.flush();
}

void Client::on_token(TimeMs now, const std::string& token) {
  s_->use_token(now, token);
  s_->flush();
}

void Client::on_timer(TimeMs now, std::uint64_t timer_id) {
  auto& s = *s_;
  auto it = s.timers.find(timer_id);
  if (it == s.timers.end()) return;  // cancelled or stale
  Timer t = it->second;
  s.timers.erase(it);
  switch (t.kind) {
    case TimerKind::RequestTimeout: {
      auto r = s.requests.find(t.req);
      if (r != s.requests.end()) {
        Request req = std::move(r->second);
        s.requests.erase(r);
        s.request_failed(now, req, make_error(ErrorCode::Timeout, "no answer in time"));
      }
      break;
    }
    case TimerKind::SendRetry:
      break;  // pump below
    case TimerKind::Reconnect:
      s.reconnect_timer = 0;
      if (s.conn == ConnectionState::Backoff) {
        s.conn = ConnectionState::Offline;
        s.ensure_connection(now);
      }
      break;
    case TimerKind::StorageRetry:
      s.storage_timer = 0;
      break;  // flush below
    case TimerKind::Handshake:
      s.handshake_timer = 0;
      if (s.conn == ConnectionState::Handshaking) {  // no welcome: drop and reconnect
        s.conn = ConnectionState::Backoff;
        s.lose_requests(now);
        s.fx.disconnect = true;
        s.fx.view.connection = true;
        s.schedule_reconnect(now);
      }
      break;
  }
  s.pump(now);
  s.flush();
}

void Client::on_online(TimeMs now, bool online) {
  auto& s = *s_;
  if (s.online == online) return;
  s.online = online;
  s.fx.view.connection = true;
  if (!online) {
    if (s.conn != ConnectionState::Offline) s.fx.disconnect = true;
    s.conn = ConnectionState::Offline;
    s.lose_requests(now);
    s.cancel_timer(s.reconnect_timer);
    s.reconnect_timer = 0;
    s.conn = ConnectionState::Offline;
    s.engagement_sent.reset();
    for (auto& [id, cs] : s.convs) cs.read_sent = 0;
  } else {
    s.reconnect_attempts = 0;
    s.ensure_connection(now);
  }
  s.flush();
}

void Client::on_visibility(TimeMs now, bool visible) {
  s_->engagement.on_visibility(visible, now);
  s_->pump(now);
}

void Client::on_focus(TimeMs now, bool focused) {
  s_->engagement.on_focus(focused, now);
  s_->pump(now);
}

Effects Client::drain() {
  Effects out = std::move(s_->fx);
  s_->fx = Effects{};
  return out;
}

// ---------------------------------------------------------------------- queries
bool Client::restored() const {
  return s_->is_restored;
}
ConnectionState Client::connection() const {
  return s_->conn;
}
bool Client::sync_retrying() const {
  return s_->sync_failures > 0;
}
Cursor Client::cursor() const {
  return s_->meta.cursor;
}
std::string Client::user() const {
  return s_->meta.user;
}
std::string Client::device() const {
  return s_->meta.device;
}
std::size_t Client::outbox_size() const {
  return s_->outbox.size();
}

std::size_t Client::loaded_message_count() const {
  std::size_t n = 0;
  for (const auto& [id, cs] : s_->convs) n += cs.msgs.size();
  return n;
}

int Client::unread_total() const {
  int n = 0;
  for (const auto& [id, cs] : s_->convs) n += cs.c.unread;
  return n;
}

engagement::Level Client::engagement_level(TimeMs now) const {
  return s_->engagement.level(now);
}

std::optional<hours::Availability> Client::availability() const {
  return s_->availability;
}

std::vector<ConversationView> Client::conversations() const {
  std::vector<ConversationView> out;
  for (const auto& [id, cs] : s_->convs) {
    ConversationView v;
    v.conv = cs.c;
    v.unread = cs.c.unread;
    v.preview = cs.c.preview;
    v.typing = cs.typing;
    v.resume_token = cs.resume_token;
    out.push_back(std::move(v));
  }
  std::sort(out.begin(), out.end(), [](const ConversationView& a, const ConversationView& b) {
    return a.conv.last_activity_ts != b.conv.last_activity_ts
               ? a.conv.last_activity_ts > b.conv.last_activity_ts
               : a.conv.id < b.conv.id;
  });
  return out;
}

std::vector<TimelineItem> Client::timeline(const std::string& conv) const {
  std::vector<TimelineItem> out;
  auto it = s_->convs.find(conv);
  if (it == s_->convs.end()) return out;
  const auto& cs = it->second;
  for (const auto& [seq, m] : cs.msgs) {
    TimelineItem t;
    t.key = m.cid.empty() ? m.id : m.cid;
    t.message = m;
    t.state = MessageState::Sent;
    if (m.author.role == Role::Visitor) {
      if (seq <= cs.c.agent_read_seq) {
        t.state = MessageState::Read;
      } else if (seq <= cs.c.agent_delivered_seq) {
        t.state = MessageState::Delivered;
      }
    }
    out.push_back(std::move(t));
  }
  std::vector<const OutboxEntry*> local;
  for (const auto& [cid, e] : s_->outbox) {
    if (e.rec.conv == conv && e.committed && !e.cancel_pending &&
        e.rec.kind == OutboxRecord::Kind::Message)
      local.push_back(&e);
  }
  std::sort(local.begin(), local.end(),
            [](auto* a, auto* b) { return a->rec.order < b->rec.order; });
  for (const auto* e : local) {
    TimelineItem t;
    t.key = e->rec.cid;
    t.message.conv = conv;
    t.message.cid = e->rec.cid;
    t.message.author = Participant{Role::Visitor, s_->meta.user, {}};
    t.message.body = e->rec.body;
    t.message.ts = e->rec.created_ts;
    if (e->rec.state == OutboxRecord::State::Wedged) {
      t.state = MessageState::Failed;
      t.error = e->rec.error;
    } else {
      t.state = e->inflight ? MessageState::Sending : MessageState::Queued;
    }
    out.push_back(std::move(t));
  }
  return out;
}

bool Client::settled() const {
  const auto& s = *s_;
  if (!s.is_restored || s.batch || !s.dirty.empty() || !s.requests.empty()) return false;
  if (s.conn != ConnectionState::Ready || s.meta.cursor < s.server_head) return false;
  for (const auto& [cid, e] : s.outbox) {
    if (e.rec.state != OutboxRecord::State::Wedged) return false;
  }
  for (const auto& [id, cs] : s.convs) {
    if (!cs.c.gaps.empty() || cs.page_read_pending) return false;
  }
  return true;
}

}  // namespace parley
