// The simulated world of one seed.
//
//   - Scheduler: every action is an event at (time, sequence); nothing reads a clock.
//   - Node: one device store (MemoryStore) and the Client currently running on it. Storage
//     transactions are queued and committed in order after a small delay, with injected aborts,
//     quota spells and crashes (after a commit, or while an ack's outbox delete is pending).
//     A crash drops the Client and boots a new one (fresh seed) from the committed records.
//   - Network: per connection, frames in both directions may be lost, duplicated, delayed and
//     reordered; connections die silently (the host notices later); connects fail; offline
//     spells, some longer than the server's catch-up horizon.
//   - SimServer: protocol v1 with its own faults (gaps, seq holes, short pages, 5xx, 403,
//     expiring tokens, horizon resets).
//   - The user types unique texts, edits, cancels, marks read, scrolls back; the agent posts,
//     edits, deletes and reads. Topologies: one device; two devices of one user; two tabs
//     sharing one store, where the follower routes commands to the leader.
//   - Healing: faults off, everyone online and reconnected, wedged messages cancelled, full
//     history loaded; then the checker compares queued messages, the server and every store.
#include "simulation.hpp"

#include <algorithm>
#include <cstdio>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "parley/client.hpp"
#include "parley/memory_store.hpp"
#include "parley/records.hpp"
#include "parley/rng.hpp"
#include "scheduler.hpp"
#include "sim_server.hpp"

namespace parley::sim {
namespace {

// Trace lines are only built when the trace is kept: a failing seed is run again with it on.
#define SIM_TRACE(node, ...)                  \
  do {                                        \
    if (opt_.trace) trace(node, __VA_ARGS__); \
  } while (0)

constexpr TimeMs kStart = 1'700'000'000'000;
constexpr TimeMs kSec = 1000;
constexpr TimeMs kMin = 60 * kSec;
constexpr TimeMs kHealBudget = 4 * 60 * kMin;   // simulated time allowed to heal
constexpr std::uint64_t kMaxSteps = 3'000'000;  // scheduler events per seed (runaway guard)
constexpr int kMaxHistoryRounds = 400;

enum class Topology { OneDevice, TwoDevices, TwoTabs };

const char* name(Topology t) {
  switch (t) {
    case Topology::OneDevice:
      return "one-device";
    case Topology::TwoDevices:
      return "two-devices";
    case Topology::TwoTabs:
      return "two-tabs";
  }
  return "?";
}

// Fault intensities of one scenario. A zero turns the fault off.
struct Profile {
  double p_drop = 0;  // a frame is lost (either direction)
  double p_dup = 0;   // a frame is delivered twice
  double p_slow = 0;  // a frame is delayed by up to 5 s (reorders it)
  TimeMs lat_min = 1, lat_max = 40;
  double p_connect_fail = 0;
  TimeMs conn_drop_every = 0;  // a connection dies silently (no close)
  TimeMs offline_every = 0;
  TimeMs offline_max = 0;
  double p_abort = 0;      // a storage transaction aborts
  TimeMs quota_every = 0;  // a spell where the store is full
  double p_crash_after_commit = 0;
  double p_crash_before_persist = 0;  // crash while an ack's outbox delete is uncommitted
  TimeMs crash_every = 0;
  TimeMs token_expiry_every = 0;
};

Profile make_profile(Rng& r) {
  Profile p;
  auto pct = [&](int lo, int hi) { return static_cast<double>(r.between(lo, hi)) / 100.0; };
  if (r.chance(0.5)) p.p_drop = pct(1, 8);
  if (r.chance(0.4)) p.p_dup = pct(1, 10);
  if (r.chance(0.4)) p.p_slow = pct(1, 10);
  p.lat_max = r.between(2, 150);
  p.lat_min = r.between(1, p.lat_max);
  if (r.chance(0.3)) p.p_connect_fail = pct(5, 40);
  if (r.chance(0.5)) p.conn_drop_every = r.between(20, 600) * kSec;
  if (r.chance(0.6)) {
    p.offline_every = r.between(1, 20) * kMin;
    p.offline_max = r.chance(0.35) ? r.between(20, 120) * kMin : r.between(5, 300) * kSec;
  }
  if (r.chance(0.4)) p.p_abort = pct(1, 8);
  if (r.chance(0.2)) p.quota_every = r.between(2, 20) * kMin;
  if (r.chance(0.3)) p.p_crash_after_commit = static_cast<double>(r.between(1, 20)) / 1000.0;
  if (r.chance(0.3)) p.p_crash_before_persist = pct(5, 30);
  if (r.chance(0.3)) p.crash_every = r.between(1, 20) * kMin;
  if (r.chance(0.3)) p.token_expiry_every = r.between(1, 30) * kMin;
  return p;
}

ServerFaults make_server_faults(Rng& r) {
  ServerFaults f;
  auto pct = [&](int lo, int hi) { return static_cast<double>(r.between(lo, hi)) / 100.0; };
  if (r.chance(0.4)) f.p_gap = pct(5, 30);
  if (r.chance(0.3)) f.p_hidden = pct(5, 30);
  if (r.chance(0.3)) f.p_short_scan = pct(10, 50);
  if (r.chance(0.3)) f.p_forbidden = pct(1, 8);
  if (r.chance(0.4)) f.p_5xx = pct(2, 20);
  f.p_ack_first = pct(0, 100);
  f.events_page = r.chance(0.5) ? static_cast<std::size_t>(r.between(1, 5)) : 50;
  f.horizon_ms = r.between(5, 40) * kMin;
  return f;
}

std::string brief(const std::string& frame) {
  return frame.size() <= 150 ? frame : frame.substr(0, 150) + "...";
}

std::string err_str(const Error& e) {
  return std::string(to_string(e.code)) + (e.message.empty() ? "" : " (" + e.message + ")");
}

const char* commit_str(records::CommitResult r) {
  switch (r) {
    case records::CommitResult::Ok:
      return "ok";
    case records::CommitResult::Aborted:
      return "ABORTED";
    case records::CommitResult::QuotaExceeded:
      return "QUOTA";
  }
  return "?";
}

std::string op_str(const records::StorageOp& o) {
  static const char* kinds[] = {"put", "delete", "delete-range", "clear"};
  std::string s = std::string(kinds[static_cast<int>(o.kind)]) + " " +
                  std::string(records::to_string(o.store)) + " " + o.key;
  if (o.store == records::Store::Messages && o.kind != records::StorageOp::Kind::Clear) {
    s += "#" + std::to_string(o.seq);
  }
  if (o.kind == records::StorageOp::Kind::Put && o.store != records::Store::Messages) {
    s += " " + brief(o.value.dump());
  }
  return s;
}

// A timeline item as the checker sees it.
HeldMessage held(const TimelineItem& t) {
  HeldMessage h;
  h.id = t.message.id;
  h.cid = t.message.cid.empty() && t.message.id.empty() ? t.key : t.message.cid;
  h.seq = t.message.seq;
  h.text = t.message.body.text;
  h.deleted = t.message.deleted;
  return h;
}

// The planted bug for the checker's self-test. The brief asked for receive-side dedupe off
// (Config::debug_disable_receive_dedupe); the core ships a switch that defeats dedupe on the
// send side instead (a fresh cid per retry, so the server stores a retried message twice).
// Whichever the core has is used.
template <class C>
const char* plant_dedupe_bug(C& cfg) {
  if constexpr (requires { cfg.debug_disable_receive_dedupe; }) {
    cfg.debug_disable_receive_dedupe = true;
    return "receive-side dedupe disabled (Config::debug_disable_receive_dedupe)";
  } else {
    cfg.debug_fresh_cid_per_attempt = true;
    return "fresh cid per retry (Config::debug_fresh_cid_per_attempt)";
  }
}

struct Pending {  // a send() that returned a cid
  std::string conv;
  std::uint64_t order = 0;
  bool resolved = false;  // its first commit result was checked
};

// A device: one store and the client that currently runs on it. In the two-tab topology the
// client is the leader tab's; the follower tab routes its commands to it.
struct Node {
  std::string name;
  bool tabs = false;
  bool identified = false;  // the host page supplies an identity token (two-device topology)
  std::string token;
  MemoryStore store;
  std::unique_ptr<Client> client;
  std::uint64_t epoch = 0;  // bumps whenever the client instance dies or is replaced
  bool online = true;
  std::uint64_t conn = 0;        // current connection as the host believes (0 = none)
  std::uint64_t connecting = 0;  // pending connection attempt
  std::map<std::uint64_t, std::uint64_t> timers;  // timer id -> generation
  struct StorageOp {
    bool read = false;
    records::StorageBatch batch;
    StorageRead rd;
  };
  std::deque<StorageOp> storage;  // transactions in order
  bool storage_scheduled = false;
  // user model
  int budget = 0;
  std::uint64_t sends = 0;  // enqueue order
  std::uint64_t texts = 0;  // unique text counter
  std::map<std::string, Pending> pending;
  std::set<std::string> cancel_pending;
  std::set<std::string> seen_dups;
  std::vector<std::string> observed_dups;
};

class World {
 public:
  World(std::uint64_t seed, const Options& opt)
      : seed_(seed),
        opt_(opt),
        rng_(seed * 0x2545F4914F6CDD1DULL + 17),
        sched_(kStart),
        server_(seed ^ 0xA5A5A5A5DEADBEEFULL,
                [this](const std::string& s) { SIM_TRACE(nullptr, s); }) {}

  SeedResult run() {
    setup();
    while (fault_phase_ && sched_.steps() < kMaxSteps && sched_.step()) {
    }
    if (fault_phase_) {
      failures_.push_back("fault phase did not end (runaway at " + std::to_string(sched_.steps()) +
                          " steps)");
    } else {
      heal();
    }
    return collect();
  }

 private:
  std::uint64_t seed_;
  Options opt_;
  Rng rng_;
  Scheduler sched_;
  SimServer server_;
  Profile prof_;
  Topology topo_ = Topology::OneDevice;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::map<std::uint64_t, Node*> conns_;  // live connections
  std::uint64_t next_conn_ = 1;
  std::uint64_t timer_gen_ = 0;
  bool faults_on_ = true;
  bool fault_phase_ = true;
  TimeMs fault_end_ = 0;
  std::size_t max_convs_ = 1;
  int agent_budget_ = 0;
  int agent_texts_ = 0;
  TimeMs think_ms_ = 10 * kSec;
  std::map<std::string, QueuedMessage> queued_;  // by cid
  std::vector<std::string> failures_;
  std::deque<std::string> trace_;
  std::map<std::string, std::int64_t> cov_;

  TimeMs now() const { return sched_.now(); }

  // ---------------------------------------------------------------- trace
  void trace(const Node* n, const std::string& s) {
    const TimeMs t = now() - kStart;
    char head[48];
    std::snprintf(head, sizeof head, "%6lld.%03lld %s ", static_cast<long long>(t / 1000),
                  static_cast<long long>(t % 1000), n ? n->name.c_str() : "srv");
    std::string line = head + s;
    if (opt_.verbose) std::printf("%s\n", line.c_str());
    trace_.push_back(std::move(line));
    if (trace_.size() > opt_.trace_keep) trace_.pop_front();
  }
  void invariant(Node& n, const std::string& what) {
    failures_.push_back(n.name + ": " + what);
    SIM_TRACE(&n, "INVARIANT " + what);
  }

  // ---------------------------------------------------------------- setup
  void setup() {
    const auto r = rng_.between(0, 99);
    topo_ = r < 50 ? Topology::OneDevice : r < 75 ? Topology::TwoDevices : Topology::TwoTabs;
    prof_ = make_profile(rng_);
    // Two tabs: the leader tab closing (and the follower taking over) is the point.
    if (topo_ == Topology::TwoTabs && prof_.crash_every == 0) {
      prof_.crash_every = rng_.between(1, 10) * kMin;
    }
    server_.faults = make_server_faults(rng_);
    max_convs_ = static_cast<std::size_t>(rng_.between(1, 3));
    const int total = static_cast<int>(max_convs_) * static_cast<int>(rng_.between(5, 40));
    const int nnodes = topo_ == Topology::TwoDevices ? 2 : 1;
    fault_end_ = kStart + rng_.between(2, 60) * kMin;
    think_ms_ = std::max<TimeMs>(200, (fault_end_ - kStart) / (2 * total / nnodes + 1));
    agent_budget_ = static_cast<int>(rng_.between(0, 12)) * static_cast<int>(max_convs_);
    std::string user;
    if (topo_ == Topology::TwoDevices) user = server_.create_user();
    for (int i = 0; i < nnodes; ++i) {
      auto n = std::make_unique<Node>();
      n->name = "d" + std::to_string(i);
      n->tabs = topo_ == Topology::TwoTabs;
      n->budget = total / nnodes;
      if (!user.empty()) n->identified = true, n->token = server_.issue_token(user);
      nodes_.push_back(std::move(n));
    }
    SIM_TRACE(nullptr, std::string("seed ") + std::to_string(seed_) + " " + name(topo_) +
                           " convs<=" + std::to_string(max_convs_) + " sends=" +
                           std::to_string(total) + " agent=" + std::to_string(agent_budget_) +
                           " heal_at=" + std::to_string((fault_end_ - kStart) / 1000) + "s");
    for (auto& up : nodes_) {
      Node* n = up.get();
      sched_.after(rng_.between(0, 2000), [this, n] { boot(*n); });
      sched_.after(rng_.between(500, 5000), [this, n] { user_tick(*n); });
    }
    sched_.after(rng_.between(5, 60) * kSec, [this] { agent_tick(); });
    every(30 * kSec, [this] { server_.compact(now()); });
    every(prof_.conn_drop_every, [this] {
      Node& n = pick_node();
      if (n.conn && conns_.count(n.conn)) drop_silently(n, rng_.between(0, 20'000));
    });
    every(prof_.offline_every,
          [this] { go_offline(pick_node(), rng_.between(kSec, prof_.offline_max)); });
    every(prof_.crash_every, [this] {
      Node& n = pick_node();
      if (n.client) crash(n, n.tabs ? "leader tab closed" : "process killed");
    });
    every(prof_.quota_every, [this] {
      Node& n = pick_node();
      n.store.set_quota_bytes(
          std::max<std::size_t>(1, n.store.byte_size() + rng_.between(0, 2000)));
      SIM_TRACE(&n, "storage quota spell begins");
      sched_.after(rng_.between(kSec, 3 * kMin), [this, np = &n] {
        np->store.set_quota_bytes(0);
        SIM_TRACE(np, "storage quota spell ends");
      });
    });
    every(prof_.token_expiry_every, [this] {
      Node& n = pick_node();
      if (!n.client || n.client->user().empty()) return;
      server_.expire_tokens(n.client->user());
      SIM_TRACE(&n, "tokens of " + n.client->user() + " expire");
    });
    sched_.at(fault_end_, [this] { fault_phase_ = false; });
  }

  Node& pick_node() {
    return *nodes_[static_cast<std::size_t>(
        rng_.between(0, static_cast<std::int64_t>(nodes_.size()) - 1))];
  }
  template <class T>
  const T& pick(const std::vector<T>& v) {
    return v[static_cast<std::size_t>(rng_.between(0, static_cast<std::int64_t>(v.size()) - 1))];
  }

  // Runs `fn` every ~`mean` ms while faults are on.
  void every(TimeMs mean, std::function<void()> fn) {
    if (mean <= 0) return;
    sched_.after(rng_.between(mean / 2, mean * 3 / 2), [this, mean, fn] {
      if (!faults_on_) return;
      fn();
      every(mean, fn);
    });
  }

  // ---------------------------------------------------------------- host: client lifecycle
  void boot(Node& n) {
    Config cfg;
    cfg.app_id = "sim";
    cfg.seed = rng_.next();
    if (opt_.plant_dedupe_bug) plant_dedupe_bug(cfg);
    n.client = std::make_unique<Client>(cfg);
    ++n.epoch;
    SIM_TRACE(&n, std::string(n.tabs ? "leader tab" : "client") +
                      " starts (online=" + (n.online ? "1" : "0") + ")");
    const TimeMs t = now();
    input(n, [&](Client& c) { c.start(t); });
    if (n.identified) input(n, [&](Client& c) { c.identify(t, n.token); });
    input(n, [&](Client& c) { c.on_online(t, n.online); });
    input(n, [&](Client& c) { c.on_visibility(t, true); });
  }

  void crash(Node& n, const std::string& why) {
    ++cov_["crash"];
    SIM_TRACE(&n, "CRASH: " + why + " (" + std::to_string(n.storage.size()) +
                      " storage ops uncommitted)");
    n.client.reset();
    ++n.epoch;
    if (n.conn) {
      conns_.erase(n.conn);
      server_.close_session(n.conn);
    }
    n.conn = n.connecting = 0;
    n.timers.clear();
    n.storage.clear();
    n.storage_scheduled = false;
    n.pending.clear();
    n.cancel_pending.clear();
    TimeMs delay = n.tabs ? rng_.between(100, 5000) : rng_.between(10, 30'000);
    if (!faults_on_) delay = 100;
    sched_.after(delay, [this, np = &n, ep = n.epoch] {
      if (np->epoch == ep) boot(*np);
    });
  }

  // Calls one input on the node's client, then carries out its effects.
  template <class F>
  void input(Node& n, F&& f) {
    if (!n.client) return;
    f(*n.client);
    apply(n, n.client->drain());
  }

  void apply(Node& n, Effects e) {
    for (auto& b : e.batches) n.storage.push_back(Node::StorageOp{false, std::move(b), {}});
    for (auto& r : e.reads) n.storage.push_back(Node::StorageOp{true, {}, r});
    kick_storage(n);
    if (e.disconnect) {
      SIM_TRACE(&n, "client closes the connection");
      close(n);
    }
    if (e.connect) connect(n);
    for (auto& f : e.frames) to_server(n, std::move(f));
    for (const auto& t : e.timers_set) set_timer(n, t);
    for (auto id : e.timers_cancelled) n.timers.erase(id);
    for (const auto& err : e.errors) SIM_TRACE(&n, "ui error: " + err_str(err));
    if (e.auth_required) refresh_token(n);
    if (!e.view.conversations.empty() && rng_.chance(0.05)) {
      sample_duplicates(n, *e.view.conversations.begin());
    }
  }

  void set_timer(Node& n, const TimerSet& t) {
    const auto gen = ++timer_gen_;
    n.timers[t.id] = gen;
    sched_.at(t.at, [this, np = &n, ep = n.epoch, id = t.id, gen] {
      if (np->epoch != ep) return;
      auto it = np->timers.find(id);
      if (it == np->timers.end() || it->second != gen) return;
      np->timers.erase(it);
      input(*np, [&](Client& c) { c.on_timer(now(), id); });
    });
  }

  void refresh_token(Node& n) {
    SIM_TRACE(&n, "auth required");
    sched_.after(rng_.between(10, 2000), [this, np = &n, ep = n.epoch] {
      if (np->epoch != ep || !np->client) return;
      std::string user = np->client->user();
      if (user.empty()) user = server_.user_of_token(np->token);
      if (user.empty()) {
        SIM_TRACE(np, "auth required, but no user is known to refresh");
        return;
      }
      const std::string token = server_.issue_token(user);
      if (np->identified) np->token = token;
      ++cov_["token_refresh"];
      SIM_TRACE(np, "host supplies a fresh token for " + user);
      input(*np, [&](Client& c) { c.on_token(now(), token); });
    });
  }

  // A UI check: the timeline never shows a message twice.
  void sample_duplicates(Node& n, const std::string& conv) {
    std::set<std::string> seen;
    for (const auto& item : n.client->timeline(conv)) {
      const HeldMessage h = held(item);
      for (const auto* key : {&h.id, &h.cid}) {
        if (key->empty()) continue;
        if (!seen.insert(*key).second && n.seen_dups.insert(*key).second) {
          n.observed_dups.push_back(*key);
          SIM_TRACE(&n, "timeline shows " + *key + " twice");
        }
      }
    }
  }

  // ---------------------------------------------------------------- host: storage
  void kick_storage(Node& n) {
    if (n.storage_scheduled || n.storage.empty()) return;
    n.storage_scheduled = true;
    sched_.after(rng_.between(0, 3), [this, np = &n, ep = n.epoch] {
      if (np->epoch != ep) return;
      np->storage_scheduled = false;
      storage_step(*np);
      kick_storage(*np);
    });
  }

  void storage_step(Node& n) {
    Node::StorageOp op = std::move(n.storage.front());
    n.storage.pop_front();
    const TimeMs t = now();
    if (op.read) {
      ++cov_[op.rd.kind == StorageRead::Kind::Restore ? "restore" : "page_read"];
      if (op.rd.kind == StorageRead::Kind::Restore) {
        Client::Restored r{n.store.meta(), n.store.conversations(), n.store.outbox()};
        SIM_TRACE(&n, "restore: " + std::to_string(r.conversations.size()) + " convs, " +
                          std::to_string(r.outbox.size()) + " outbox");
        input(n, [&](Client& c) { c.on_restored(t, r); });
      } else {
        auto page = n.store.page(op.rd.conv, op.rd.before, op.rd.limit);
        SIM_TRACE(&n, "page read " + op.rd.conv + " before " + std::to_string(op.rd.before) + ": " +
                          std::to_string(page.size()) + " messages");
        input(n, [&](Client& c) { c.on_page_loaded(t, op.rd.conv, page); });
      }
      return;
    }
    const records::StorageBatch& b = op.batch;
    bool ack_delete = false;
    for (const auto& o : b.ops) {
      if (o.store == records::Store::Outbox && o.kind == records::StorageOp::Kind::Delete &&
          !n.cancel_pending.count(o.key)) {
        ack_delete = true;
      }
    }
    if (faults_on_ && ack_delete && rng_.chance(prof_.p_crash_before_persist)) {
      ++cov_["crash_before_ack_persisted"];
      return crash(n, "before batch #" + std::to_string(b.id) + " (an outbox delete) committed");
    }
    if (faults_on_ && rng_.chance(prof_.p_abort)) {
      n.store.fail_next_commits(1, records::CommitResult::Aborted);
    }
    const auto result = n.store.commit(b);
    SIM_TRACE(&n, "commit #" + std::to_string(b.id) + " (" + std::to_string(b.ops.size()) +
                      " ops) " + commit_str(result));
    if (opt_.verbose) {
      for (const auto& o : b.ops) SIM_TRACE(&n, "   op " + op_str(o));
    }
    if (result != records::CommitResult::Ok) ++cov_["commit_failed"];
    note_commit(n, b, result);
    if (faults_on_ && result == records::CommitResult::Ok &&
        rng_.chance(prof_.p_crash_after_commit)) {
      ++cov_["crash_after_commit"];
      return crash(n, "right after commit #" + std::to_string(b.id));
    }
    input(n, [&](Client& c) { c.on_commit(t, b.id, result); });
    check_shown_after_commit(n, b, result);
  }

  // Records what became durable: queued messages, their last committed text, cancels.
  void note_commit(Node& n, const records::StorageBatch& b, records::CommitResult result) {
    const bool ok = result == records::CommitResult::Ok;
    for (const auto& o : b.ops) {
      if (o.store != records::Store::Outbox) continue;
      if (o.kind == records::StorageOp::Kind::Put) {
        auto rec = records::outbox_from_json(o.value);
        if (rec.index() != 0) {
          invariant(n, "outbox record does not decode: " + err_str(std::get<1>(rec)));
          continue;
        }
        const auto& r = std::get<0>(rec);
        if (r.kind != records::OutboxRecord::Kind::Message || !ok) continue;
        auto q = queued_.find(r.cid);
        if (q != queued_.end()) {
          if (q->second.text != r.body.text) q->second.versions.push_back(r.body.text);
          q->second.text = r.body.text;
          continue;
        }
        auto p = n.pending.find(r.cid);
        if (p == n.pending.end()) {
          invariant(n, "outbox put of a message the user never sent: " + r.cid);
          continue;
        }
        queued_[r.cid] = QueuedMessage{n.name,        r.conv,          r.cid, r.body.text,
                                       {r.body.text}, p->second.order, false};
        ++cov_["queued"];
        SIM_TRACE(&n, "queued (durable) " + r.cid + " '" + r.body.text + "'");
      } else if (o.kind == records::StorageOp::Kind::Delete && !ok) {
        // A cancel whose commit failed is undone by the client (and reported to the user).
        if (n.cancel_pending.erase(o.key)) SIM_TRACE(&n, "cancel not durable " + o.key);
      } else if (o.kind == records::StorageOp::Kind::Delete && ok) {
        if (n.cancel_pending.erase(o.key) && queued_.count(o.key)) {
          queued_[o.key].cancelled = true;
          ++cov_["cancelled"];
          SIM_TRACE(&n, "cancel durable " + o.key);
        }
      } else if (o.kind == records::StorageOp::Kind::Clear && ok) {
        SIM_TRACE(&n, "outbox cleared");
      }
    }
  }

  bool shown(Client& c, const std::string& conv, const std::string& cid) {
    for (const auto& item : c.timeline(conv)) {
      if (item.key == cid || item.message.cid == cid) return true;
    }
    return false;
  }

  // Guarantee 1: a message is shown as queued only once its outbox record is committed, and a
  // send whose commit failed is rejected visibly (not shown).
  void check_shown_after_commit(Node& n, const records::StorageBatch& b,
                                records::CommitResult result) {
    if (!n.client) return;
    for (const auto& o : b.ops) {
      if (o.store != records::Store::Outbox || o.kind != records::StorageOp::Kind::Put) continue;
      auto p = n.pending.find(o.key);
      if (p == n.pending.end() || p->second.resolved) continue;
      p->second.resolved = true;
      const bool is_shown = shown(*n.client, p->second.conv, o.key);
      if (result == records::CommitResult::Ok && !is_shown) {
        invariant(n, "message " + o.key + " not shown after its outbox commit");
      } else if (result != records::CommitResult::Ok && is_shown) {
        invariant(n, "message " + o.key + " still shown after its outbox commit failed");
      }
      if (result != records::CommitResult::Ok) {
        ++cov_["send_rejected"];
        SIM_TRACE(&n, "send rejected visibly " + o.key);
      }
    }
  }

  // ---------------------------------------------------------------- host: network
  TimeMs latency() {
    if (!faults_on_) return prof_.lat_min;
    TimeMs d = rng_.between(prof_.lat_min, prof_.lat_max);
    if (rng_.chance(prof_.p_slow)) d += rng_.between(100, 5000);
    return d;
  }

  void close(Node& n) {
    if (n.conn) {
      conns_.erase(n.conn);
      server_.close_session(n.conn);
    }
    n.conn = n.connecting = 0;
  }

  // The connection dies without a close; the host notices after `detect_ms`.
  void drop_silently(Node& n, TimeMs detect_ms) {
    const auto id = n.conn;
    conns_.erase(id);
    server_.close_session(id);
    ++cov_["silent_drop"];
    SIM_TRACE(&n, "connection #" + std::to_string(id) + " dies silently");
    sched_.after(detect_ms, [this, np = &n, ep = n.epoch, id] {
      if (np->epoch != ep || np->conn != id) return;
      np->conn = 0;
      SIM_TRACE(np, "host notices the connection is gone");
      input(*np, [&](Client& c) { c.on_disconnected(now()); });
    });
  }

  void connect(Node& n) {
    close(n);
    const auto attempt = next_conn_++;
    n.connecting = attempt;
    const bool fail = faults_on_ && rng_.chance(prof_.p_connect_fail);
    sched_.after(2 * latency() + 1, [this, np = &n, ep = n.epoch, attempt, fail] {
      if (np->epoch != ep || np->connecting != attempt) return;
      np->connecting = 0;
      if (fail || !np->online) {
        SIM_TRACE(np, "connect fails");
        return input(*np, [&](Client& c) { c.on_disconnected(now()); });
      }
      np->conn = attempt;
      conns_[attempt] = np;
      server_.open_session(attempt,
                           [this, attempt](std::string f) { to_client(attempt, std::move(f)); });
      SIM_TRACE(np, "connected #" + std::to_string(attempt));
      input(*np, [&](Client& c) { c.on_connected(now()); });
    });
  }

  void to_server(Node& n, std::string frame) {
    const auto id = n.conn;
    if (!id || !conns_.count(id)) {
      SIM_TRACE(&n, "-x " + brief(frame) + " (no connection)");
      return;
    }
    if (faults_on_ && rng_.chance(prof_.p_drop)) {
      ++cov_["frame_lost"];
      SIM_TRACE(&n, "-x " + brief(frame) + " (lost)");
      return;
    }
    const int copies = faults_on_ && rng_.chance(prof_.p_dup) ? 2 : 1;
    SIM_TRACE(&n, "-> " + brief(frame) + (copies > 1 ? " (x2)" : ""));
    for (int i = 0; i < copies; ++i) {
      sched_.after(latency(), [this, id, frame] {
        if (conns_.count(id)) server_.on_frame(now(), id, frame);
      });
    }
  }

  void to_client(std::uint64_t id, std::string frame) {
    auto it = conns_.find(id);
    if (it == conns_.end()) return;
    Node* np = it->second;
    if (faults_on_ && rng_.chance(prof_.p_drop)) {
      ++cov_["frame_lost"];
      SIM_TRACE(np, "x- " + brief(frame) + " (lost)");
      return;
    }
    const int copies = faults_on_ && rng_.chance(prof_.p_dup) ? 2 : 1;
    for (int i = 0; i < copies; ++i) {
      sched_.after(latency(), [this, id, np, frame] {
        if (!conns_.count(id)) return;
        SIM_TRACE(np, "<- " + brief(frame));
        input(*np, [&](Client& c) { c.on_frame(now(), frame); });
      });
    }
  }

  void go_offline(Node& n, TimeMs duration) {
    if (!n.online) return;
    n.online = false;
    ++cov_[duration > server_.faults.horizon_ms ? "offline_past_horizon" : "offline"];
    SIM_TRACE(&n, "goes offline for " + std::to_string(duration / 1000) + "s");
    if (n.conn && conns_.count(n.conn)) drop_silently(n, rng_.between(0, 5000));
    input(n, [&](Client& c) { c.on_online(now(), false); });
    sched_.after(duration, [this, np = &n] { go_online(*np); });
  }

  void go_online(Node& n) {
    if (n.online) return;
    n.online = true;
    SIM_TRACE(&n, "back online");
    input(n, [&](Client& c) { c.on_online(now(), true); });
  }

  // ---------------------------------------------------------------- the user
  void user_tick(Node& n) {
    if (!fault_phase_) return;
    sched_.after(rng_.between(think_ms_ / 2, think_ms_ * 3 / 2),
                 [this, np = &n] { user_tick(*np); });
    if (!n.client) return;  // the tab is gone; nobody types
    const auto r = rng_.between(0, 99);
    std::function<void(Node&)> act;
    std::string what;
    if (r < 50) {
      if (n.budget <= 0) return;
      --n.budget;
      const std::string text =
          "s" + std::to_string(seed_) + "-" + n.name + "-" + std::to_string(++n.texts);
      what = "send '" + text + "'";
      act = [this, text](Node& x) { user_send(x, text); };
    } else if (r < 58) {
      what = "edit";
      act = [this](Node& x) { user_edit(x); };
    } else if (r < 63) {
      what = "cancel";
      act = [this](Node& x) { user_cancel(x); };
    } else if (r < 73) {
      what = "mark read";
      act = [this](Node& x) { user_conv_action(x, 0); };
    } else if (r < 82) {
      what = "load older";
      act = [this](Node& x) { user_conv_action(x, 1); };
    } else if (r < 87) {
      what = "open conversation";
      act = [this](Node& x) { user_conv_action(x, 2); };
    } else if (r < 93) {
      what = "typing";
      act = [this](Node& x) { user_conv_action(x, 3); };
    } else {
      what = "visibility/focus";
      act = [this](Node& x) {
        const bool on = rng_.chance(0.5);
        if (rng_.chance(0.5)) {
          input(x, [&](Client& c) { c.on_visibility(now(), on); });
        } else {
          input(x, [&](Client& c) { c.on_focus(now(), on); });
        }
      };
    }
    if (n.tabs && rng_.chance(0.5)) {  // issued in the follower tab: routed to the leader
      SIM_TRACE(&n, "follower tab routes: " + what);
      sched_.after(rng_.between(1, 30), [this, np = &n, ep = n.epoch, act, what] {
        if (np->epoch != ep || !np->client) {
          ++cov_["routed_lost"];
          SIM_TRACE(np, "routed command lost: " + what);
          return;
        }
        act(*np);
      });
    } else {
      act(n);
    }
  }

  void user_send(Node& n, const std::string& text) {
    Client& c = *n.client;
    const auto convs = c.conversations();
    std::string conv;
    if (convs.empty() || (convs.size() < max_convs_ && rng_.chance(0.15))) {
      conv = c.start_conversation(now(), "subject of " + text);
      SIM_TRACE(&n, "start_conversation -> " + conv);
      apply(n, c.drain());
      if (!n.client) return;
    } else {
      conv = pick(convs).conv.id;
    }
    auto res = n.client->send(now(), conv, Body{text, RichKind::None, nullptr, {}, nullptr});
    if (auto* cid = std::get_if<std::string>(&res)) {
      n.pending[*cid] = Pending{conv, ++n.sends, false};
      SIM_TRACE(&n, "send " + conv + " " + *cid + " '" + text + "'");
      if (shown(*n.client, conv, *cid)) {
        invariant(n, "message " + *cid + " shown before its outbox record is committed");
      }
    } else {
      SIM_TRACE(&n, "send refused: " + err_str(std::get<Error>(res)));
    }
    apply(n, n.client->drain());
  }

  // A local echo the user may act on: queued or failed (or, sometimes, any message, to check
  // that the core refuses commands that are not allowed).
  const TimelineItem* pick_local(Node& n, std::vector<TimelineItem>& items) {
    const auto convs = n.client->conversations();
    if (convs.empty()) return nullptr;
    items = n.client->timeline(pick(convs).conv.id);
    const bool any = rng_.chance(0.2);
    std::vector<const TimelineItem*> c;
    for (const auto& it : items) {
      const bool local = it.state == MessageState::Queued || it.state == MessageState::Failed;
      if ((local || any) && !held(it).cid.empty()) c.push_back(&it);
    }
    return c.empty() ? nullptr : pick(c);
  }

  void user_edit(Node& n) {
    std::vector<TimelineItem> items;
    const TimelineItem* it = pick_local(n, items);
    if (!it) return;
    const std::string cid = held(*it).cid;
    const std::string text = it->message.body.text + "~e" + std::to_string(++n.texts);
    auto err = n.client->edit_queued(now(), cid, Body{text, RichKind::None, nullptr, {}, nullptr});
    SIM_TRACE(&n, "edit " + cid + " (" + std::string(to_string(it->state)) + ") -> '" + text +
                      "': " + (err ? "refused " + err_str(*err) : "accepted"));
    apply(n, n.client->drain());
  }

  void user_cancel(Node& n) {
    std::vector<TimelineItem> items;
    const TimelineItem* it = pick_local(n, items);
    if (!it) return;
    const std::string cid = held(*it).cid;
    auto err = n.client->cancel(now(), cid);
    SIM_TRACE(&n, "cancel " + cid + " (" + std::string(to_string(it->state)) +
                      "): " + (err ? "refused " + err_str(*err) : "accepted"));
    if (!err) n.cancel_pending.insert(cid);
    apply(n, n.client->drain());
  }

  void user_conv_action(Node& n, int which) {
    const auto convs = n.client->conversations();
    if (convs.empty()) return;
    const auto& v = pick(convs);
    const std::string& conv = v.conv.id;
    input(n, [&](Client& c) {
      switch (which) {
        case 0:
          SIM_TRACE(&n, "mark_read " + conv + " " + std::to_string(v.conv.last_seq));
          return c.mark_read(now(), conv, v.conv.last_seq);
        case 1:
          SIM_TRACE(&n, "load_older " + conv);
          return c.load_older(now(), conv);
        case 2:
          SIM_TRACE(&n, "open " + conv);
          return c.open_conversation(now(), conv);
        default:
          return c.typing(now(), conv, rng_.chance(0.5));
      }
    });
  }

  // ---------------------------------------------------------------- the agent
  void agent_tick() {
    if (!fault_phase_) return;
    sched_.after(rng_.between(5 * kSec, 3 * kMin), [this] { agent_tick(); });
    const auto convs = server_.all_conversations();
    if (convs.empty()) return;
    const std::string& conv = pick(convs);
    const auto r = rng_.between(0, 99);
    if (r < 55) {
      if (agent_budget_ <= 0) return;
      const int count = rng_.chance(0.25) ? static_cast<int>(rng_.between(2, 4)) : 1;
      agent_budget_ -= count;
      const std::string text =
          "s" + std::to_string(seed_) + "-agent-" + std::to_string(++agent_texts_);
      SIM_TRACE(nullptr,
                "agent posts " + std::to_string(count) + " into " + conv + " '" + text + "'");
      server_.agent_post(now(), conv, count, text);
    } else if (r < 65) {
      SIM_TRACE(nullptr, "agent edits a message in " + conv);
      server_.agent_edit(now(), conv);
    } else if (r < 70) {
      SIM_TRACE(nullptr, "agent deletes a message in " + conv);
      server_.agent_delete(now(), conv);
    } else if (r < 85) {
      server_.agent_read(now(), conv, rng_.chance(0.3));
    } else {
      server_.agent_status(now(), conv, rng_.chance(0.5) ? Status::Pending : Status::Open);
    }
  }

  // ---------------------------------------------------------------- healing
  bool quiet(const Node& n) const {
    if (!n.client || !n.storage.empty() || n.storage_scheduled) return false;
    const Client& c = *n.client;
    return c.restored() && c.settled() && c.connection() == ConnectionState::Ready &&
           !c.user().empty() && c.cursor() == server_.head(c.user());
  }
  bool all_quiet() const {
    return std::all_of(nodes_.begin(), nodes_.end(), [&](const auto& n) { return quiet(*n); });
  }

  std::string why_not_quiet(const Node& n) const {
    if (!n.client) return "no client";
    const Client& c = *n.client;
    std::string s = "restored=" + std::to_string(c.restored()) +
                    " settled=" + std::to_string(c.settled()) +
                    " connection=" + std::string(to_string(c.connection())) + " user=" + c.user() +
                    " cursor=" + std::to_string(c.cursor()) +
                    " head=" + std::to_string(server_.head(c.user())) +
                    " outbox=" + std::to_string(c.outbox_size()) +
                    " storage_ops=" + std::to_string(n.storage.size());
    return s;
  }

  void heal() {
    SIM_TRACE(nullptr, "=== healing: faults off, everyone online and reconnecting ===");
    faults_on_ = false;
    server_.faults_on = false;
    for (auto& up : nodes_) {
      Node& n = *up;
      n.store.set_quota_bytes(0);
      go_online(n);
      if (n.conn && conns_.count(n.conn)) drop_silently(n, 100);
    }
    const TimeMs deadline = now() + kHealBudget;
    int stage = 0, rounds = 0;
    while (true) {
      if (all_quiet()) {
        if (stage == 0) {
          stage = 1;
          if (cancel_wedged()) continue;
        }
        if (stage == 1) {
          SIM_TRACE(nullptr, "=== settled: loading full history ===");
          stage = 2;
        }
        if (++rounds > kMaxHistoryRounds) {
          failures_.push_back("liveness: history still incomplete after " +
                              std::to_string(kMaxHistoryRounds) + " load_older rounds");
          break;
        }
        if (!load_history_round()) break;  // done: everything settled and complete
        continue;
      }
      if (now() > deadline || sched_.steps() >= kMaxSteps || !sched_.step()) {
        std::string why = "liveness: not quiescent after healing for " +
                          std::to_string((now() - fault_end_) / 1000) + "s (" +
                          std::to_string(sched_.steps()) + " steps)";
        for (const auto& up : nodes_) {
          if (!quiet(*up)) why += "; " + up->name + ": " + why_not_quiet(*up);
        }
        failures_.push_back(why);
        SIM_TRACE(nullptr, why);
        break;
      }
    }
    for (const auto& up : nodes_) {
      if (up->client && up->client->outbox_size() != 0) {
        failures_.push_back(up->name + ": outbox still holds " +
                            std::to_string(up->client->outbox_size()) + " records after healing");
      }
    }
  }

  // Cancels every wedged (failed) message. Returns whether any cancel was issued.
  bool cancel_wedged() {
    bool any = false;
    for (auto& up : nodes_) {
      Node& n = *up;
      for (const auto& v : n.client->conversations()) {
        for (const auto& it : n.client->timeline(v.conv.id)) {
          if (it.state != MessageState::Failed) continue;
          const std::string cid = held(it).cid;
          auto err = n.client->cancel(now(), cid);
          ++cov_["wedged"];
          SIM_TRACE(
              &n, "heal: cancel wedged " + cid + ": " + (err ? "refused " + err_str(*err) : "ok"));
          if (!err) n.cancel_pending.insert(cid);
          apply(n, n.client->drain());
          any = true;
        }
      }
    }
    return any;
  }

  // Lowest seq in the loaded timeline window (max when nothing is loaded).
  Seq loaded_from(Node& n, const std::string& conv) {
    Seq lowest = std::numeric_limits<Seq>::max();
    for (const auto& item : n.client->timeline(conv)) {
      if (item.message.seq > 0) lowest = std::min(lowest, item.message.seq);
    }
    return lowest;
  }

  // Asks for older history wherever it is incomplete. Returns whether anything was asked.
  bool load_history_round() {
    bool any = false;
    for (auto& up : nodes_) {
      Node& n = *up;
      for (const auto& v : n.client->conversations()) {
        const Seq first = v.conv.first_stored_seq;
        if (v.conv.history_complete && (first == 0 || loaded_from(n, v.conv.id) <= first)) {
          continue;
        }
        any = true;
        SIM_TRACE(&n, "heal: load_older " + v.conv.id);
        input(n, [&](Client& c) { c.load_older(now(), v.conv.id); });
      }
    }
    return any;
  }

  // ---------------------------------------------------------------- results
  SeedResult collect() {
    SeedResult res;
    res.seed = seed_;
    res.topology = name(topo_);
    ++cov_[std::string("topology_") + name(topo_)];
    History h;
    h.server = server_.snapshot();
    for (const auto& [cid, q] : queued_) h.queued.push_back(q);
    for (const auto& up : nodes_) {
      Node& n = *up;
      DeviceFinal d;
      d.device = n.name;
      d.user = n.client ? n.client->user() : "";
      std::set<std::string> convs;
      for (const auto& c : server_.conversations_of(d.user)) convs.insert(c);
      for (const auto& j : n.store.conversations()) {
        auto c = records::conversation_from_json(j);
        if (c.index() == 0) {
          convs.insert(std::get<0>(c).id);
        } else {
          failures_.push_back(n.name +
                              ": stored conversation does not decode: " + err_str(std::get<1>(c)));
        }
      }
      for (const auto& conv : convs) {
        auto& out = d.store[conv];
        for (const auto& j : n.store.all_messages(conv)) {
          auto m = records::message_from_json(j);
          if (m.index() != 0) {
            failures_.push_back(n.name +
                                ": stored message does not decode: " + err_str(std::get<1>(m)));
            continue;
          }
          const Message& msg = std::get<0>(m);
          out.push_back(HeldMessage{msg.id, msg.cid, msg.seq, msg.body.text, msg.deleted});
        }
      }
      if (n.client) {
        d.has_timeline = true;
        for (const auto& v : n.client->conversations()) convs.insert(v.conv.id);
        for (const auto& conv : convs) {
          auto& out = d.timeline[conv];
          for (const auto& item : n.client->timeline(conv)) out.push_back(held(item));
        }
      }
      d.observed_duplicates = n.observed_dups;
      h.devices.push_back(std::move(d));
    }
    for (const auto& a : server_.anomalies()) failures_.push_back("protocol: " + a);
    res.verdict = check(h);
    res.failures = failures_;
    res.trace.assign(trace_.begin(), trace_.end());
    res.steps = sched_.steps();
    res.sim_ms = now() - kStart;
    res.queued = queued_.size();
    res.server_messages = server_.message_count();
    res.coverage = cov_;
    for (const auto& [k, v] : server_.counters()) res.coverage["server_" + k] += v;
    return res;
  }
};

}  // namespace

SeedResult run_seed(std::uint64_t seed, const Options& opt) {
  return World(seed, opt).run();
}

const char* planted_bug_name() {
  Config cfg;
  return plant_dedupe_bug(cfg);
}

}  // namespace parley::sim
