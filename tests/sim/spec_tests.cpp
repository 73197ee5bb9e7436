// Spec tests (Firestore style): scripted, minimal reproductions of behaviours the randomized
// simulation found wrong. Each scripts the server side by hand, so every interleaving is
// explicit. Run with `parley_sim --spec`; they are not part of the seeded runs.
#include "spec_tests.hpp"

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "parley/client.hpp"
#include "parley/memory_store.hpp"
#include "parley/protocol.hpp"
#include "parley/records.hpp"

namespace parley::sim {
namespace {

namespace pp = parley::protocol;

// A synchronous host: commits batches, answers reads, records frames and timers.
struct Harness {
  MemoryStore store;
  std::unique_ptr<Client> client;
  TimeMs now = 1'700'000'000'000;
  std::vector<pp::ClientFrame> sent;
  std::map<std::uint64_t, TimeMs> timers;
  bool auto_storage = true;
  std::vector<StorageRead> held_reads;
  std::vector<records::StorageBatch> held_batches;

  void boot(std::uint64_t seed) {
    Config cfg;
    cfg.app_id = "spec";
    cfg.seed = seed;
    client = std::make_unique<Client>(cfg);
    client->start(now);
    pump();
  }
  // Boots, connects and completes the handshake as `user`.
  void ready(std::uint64_t seed, const std::string& user = "u1", Cursor head = 0) {
    boot(seed);
    client->on_connected(now);
    pump();
    deliver(pp::Welcome{pp::kVersion, user, "t." + user, head, now, std::nullopt});
  }

  void answer(const StorageRead& r) {
    if (r.kind == StorageRead::Kind::Restore) {
      client->on_restored(now,
                          Client::Restored{store.meta(), store.conversations(), store.outbox()});
    } else {
      client->on_page_loaded(now, r.conv, store.page(r.conv, r.before, r.limit));
    }
  }
  void commit(const records::StorageBatch& b) { client->on_commit(now, b.id, store.commit(b)); }

  void pump() {
    for (int guard = 0; guard < 1000; ++guard) {
      Effects fx = client->drain();
      if (fx.empty()) return;
      for (const auto& f : fx.frames) {
        auto d = pp::decode_client(f);
        if (d.ok()) sent.push_back(d.frame());
      }
      for (const auto& t : fx.timers_set) timers[t.id] = t.at;
      for (auto id : fx.timers_cancelled) timers.erase(id);
      if (!auto_storage) {
        held_batches.insert(held_batches.end(), fx.batches.begin(), fx.batches.end());
        held_reads.insert(held_reads.end(), fx.reads.begin(), fx.reads.end());
        continue;
      }
      for (const auto& b : fx.batches) commit(b);
      for (const auto& r : fx.reads) answer(r);
    }
  }
  void deliver(const pp::ServerFrame& f) {
    client->on_frame(now, pp::encode(f));
    pump();
  }
  // Advances time and fires every timer due.
  void advance(TimeMs ms) {
    now += ms;
    for (bool fired = true; fired;) {
      fired = false;
      for (auto it = timers.begin(); it != timers.end(); ++it) {
        if (it->second <= now) {
          const auto id = it->first;
          timers.erase(it);
          client->on_timer(now, id);
          pump();
          fired = true;
          break;
        }
      }
    }
  }
  template <class T>
  std::vector<T> sent_of() const {
    std::vector<T> out;
    for (const auto& f : sent) {
      if (auto* x = std::get_if<T>(&f)) out.push_back(*x);
    }
    return out;
  }
  std::vector<Seq> stored_seqs(const std::string& conv) const {
    std::vector<Seq> out;
    for (const auto& j : store.all_messages(conv)) out.push_back(j.value("seq", Seq{0}));
    return out;
  }
};

Message msg(const std::string& conv, Seq seq, const std::string& text, Role role = Role::Agent) {
  Message m;
  m.conv = conv;
  m.seq = seq;
  m.id = "m" + std::to_string(seq);
  m.author =
      Participant{role, role == Role::Agent ? "a1" : "u1", role == Role::Agent ? "Agent" : ""};
  m.body.text = text;
  m.ts = 1'700'000'000'000 + seq;
  return m;
}

pp::Event message_event(Cursor cursor, const Message& m,
                        pp::EventKind kind = pp::EventKind::Message) {
  pp::Event e;
  e.kind = kind;
  e.cursor = cursor;
  e.conv = m.conv;
  e.message = m;
  return e;
}

pp::Event summary(Cursor cursor, const std::string& conv, Seq last_seq) {
  pp::Event e;
  e.kind = pp::EventKind::Conversation;
  e.cursor = cursor;
  e.conv = conv;
  e.status = Status::Open;
  e.last_seq = last_seq;
  return e;
}

pp::Events events(Cursor from, std::vector<pp::Event> evs) {
  pp::Events f;
  f.from = from;
  f.cursor = evs.empty() ? from : evs.back().cursor;
  f.events = std::move(evs);
  return f;
}

// Answers one history request the way docs/protocol.md says, from `all` (ascending seq).
pp::Page history_page(const pp::History& h, const std::vector<Message>& all) {
  pp::Page p;
  p.req = h.req;
  p.conv = h.conv;
  std::vector<Message> range;
  for (const auto& m : all) {
    if (m.seq > h.after && (h.before == 0 || m.seq < h.before)) range.push_back(m);
  }
  const auto limit = static_cast<std::size_t>(h.limit);
  if (range.size() <= limit) {
    p.messages = range;
    p.complete = true;
  } else if (h.after >= 0) {  // backfill (after given, 0 included): the oldest of the range
    p.messages.assign(range.begin(), range.begin() + static_cast<std::ptrdiff_t>(limit));
    p.next = p.messages.back().seq;
  } else {  // only `before`: scrolling back, the newest of the range
    p.messages.assign(range.end() - static_cast<std::ptrdiff_t>(limit), range.end());
    p.next = p.messages.front().seq;
  }
  return p;
}

// Answers every history request the client sends until it stops asking (at most `rounds`).
void serve_history(Harness& h, const std::vector<Message>& all, int rounds = 50) {
  std::size_t done = 0;
  for (int i = 0; i < rounds; ++i) {
    auto reqs = h.sent_of<pp::History>();
    if (done == reqs.size()) {
      for (const auto& v : h.client->conversations()) {
        if (!v.conv.history_complete) h.client->load_older(h.now, v.conv.id);
      }
      h.pump();
      reqs = h.sent_of<pp::History>();
      if (done == reqs.size()) return;
    }
    for (; done < reqs.size(); ++done) h.deliver(history_page(reqs[done], all));
  }
}

std::string seqs_str(const std::vector<Seq>& v) {
  std::string s;
  for (auto q : v) s += (s.empty() ? "" : ",") + std::to_string(q);
  return "[" + s + "]";
}

using Spec = std::function<std::optional<std::string>()>;

struct NamedSpec {
  const char* name;
  Spec run;
};

std::vector<NamedSpec> specs() {
  return {
      {"reset: conversation summaries' last_seq lets older history load",
       []() -> std::optional<std::string> {
         Harness h;
         h.ready(1, "u1", 10);
         pp::Reset r;
         r.cursor = 10;
         r.conversations = {summary(10, "c1", 5)};
         h.deliver(r);
         std::vector<Message> all;
         for (Seq s = 1; s <= 5; ++s) all.push_back(msg("c1", s, "a" + std::to_string(s)));
         serve_history(h, all);
         auto got = h.stored_seqs("c1");
         if (got.size() != 5) {
           return "after a reset announcing c1 with last_seq 5 and loading older history, the "
                  "store holds " +
                  seqs_str(got) + " (the summary's last_seq was ignored: history_complete " +
                  "was set without asking the server)";
         }
         return std::nullopt;
       }},
      {"an update of an old message does not hide the messages in between",
       []() -> std::optional<std::string> {
         Harness h;
         h.ready(2, "u1", 0);
         std::vector<Message> all;
         for (Seq s = 1; s <= 12; ++s) all.push_back(msg("c1", s, "a" + std::to_string(s)));
         // The client knows c1 from a reset (last_seq 9), then receives 10..12 live.
         pp::Reset r;
         r.cursor = 1;
         r.conversations = {summary(1, "c1", 9)};
         h.deliver(r);
         h.deliver(events(
             1, {message_event(2, all[9]), message_event(3, all[10]), message_event(4, all[11])}));
         // The agent edits message 2, long before the loaded window.
         Message edited = all[1];
         edited.body.text = "a2 edited";
         edited.edited_ts = h.now;
         h.deliver(events(4, {message_event(5, edited, pp::EventKind::MessageUpdated)}));
         all[1] = edited;
         serve_history(h, all);
         auto got = h.stored_seqs("c1");
         if (got.size() != 12) {
           return "store holds " + seqs_str(got) +
                  " of c1#1..12: inserting the updated #2 moved first_stored_seq below a hole "
                  "(#3..#9), so history loading never asks for it";
         }
         std::vector<Seq> shown;
         for (const auto& t : h.client->timeline("c1")) shown.push_back(t.message.seq);
         if (shown.size() != 12) return "timeline shows " + seqs_str(shown) + " of c1#1..12";
         return std::nullopt;
       }},
      {"edit_queued is refused once a send attempt may have reached the server",
       []() -> std::optional<std::string> {
         Harness h;
         h.ready(3);
         const std::string conv = h.client->start_conversation(h.now, "s");
         h.pump();
         auto res =
             h.client->send(h.now, conv, Body{"original", RichKind::None, nullptr, {}, nullptr});
         h.pump();
         const std::string cid = std::get<std::string>(res);
         if (h.sent_of<pp::Send>().empty()) return "the send was not attempted";
         // The server stores it and acks; the ack is lost; the request times out.
         h.advance(20'000);
         auto err = h.client->edit_queued(h.now, cid,
                                          Body{"edited", RichKind::None, nullptr, {}, nullptr});
         h.pump();
         if (!err) {
           return "edit accepted after an attempt with unknown outcome: the retry carries the "
                  "same cid, the server answers with the original ack, and the visitor sees "
                  "'edited' while the agent has 'original'";
         }
         return std::nullopt;
       }},
      {"cancel is refused once a send attempt may have reached the server",
       []() -> std::optional<std::string> {
         Harness h;
         h.ready(4);
         const std::string conv = h.client->start_conversation(h.now, "s");
         h.pump();
         auto res =
             h.client->send(h.now, conv, Body{"original", RichKind::None, nullptr, {}, nullptr});
         h.pump();
         const std::string cid = std::get<std::string>(res);
         h.advance(20'000);  // the ack was lost; the request timed out
         auto err = h.client->cancel(h.now, cid);
         h.pump();
         if (!err) {
           return "cancel accepted after an attempt with unknown outcome: the server may "
                  "already hold the message, which then appears although the visitor "
                  "cancelled it";
         }
         return std::nullopt;
       }},
      {"identify() before the restore completes keeps the stored cursor and device",
       []() -> std::optional<std::string> {
         Harness first;
         first.ready(5, "u1", 0);
         Message m = msg("c1", 1, "hello");
         first.deliver(events(0, {message_event(1, m), message_event(2, msg("c1", 2, "x")),
                                  message_event(3, msg("c1", 3, "y"))}));
         const Json before = first.store.meta();
         // A new page load on the same store: the host identifies right after start().
         Harness h;
         h.store = first.store;
         h.auto_storage = false;
         Config cfg;
         cfg.seed = 6;
         h.client = std::make_unique<Client>(cfg);
         h.client->start(h.now);
         h.pump();
         h.client->identify(h.now, "t.u1");
         h.pump();
         // The restore read was issued first, so it is answered first; then the batches.
         for (const auto& r : h.held_reads) h.answer(r);
         for (const auto& b : h.held_batches) h.commit(b);
         h.held_reads.clear(), h.held_batches.clear();
         h.auto_storage = true;
         h.pump();
         const Json after = h.store.meta();
         if (after.value("cursor", Cursor{-1}) != before.value("cursor", Cursor{-2}) ||
             after.value("device", std::string("?")) != before.value("device", std::string("!"))) {
           return "stored meta was " + before.dump() + ", after identify() + restore it is " +
                  after.dump() + " (a meta put built before the restore clobbered it)";
         }
         return std::nullopt;
       }},
      {"an edit is sent only once it is durable",
       []() -> std::optional<std::string> {
         Harness h;
         h.boot(9);
         h.client->on_online(h.now, false);
         h.pump();
         const std::string conv = h.client->start_conversation(h.now, "s");
         h.pump();
         auto res =
             h.client->send(h.now, conv, Body{"original", RichKind::None, nullptr, {}, nullptr});
         h.pump();
         const std::string cid = std::get<std::string>(res);
         // The store is full: the edit cannot be committed.
         h.store.set_quota_bytes(1);
         auto err = h.client->edit_queued(h.now, cid,
                                          Body{"edited", RichKind::None, nullptr, {}, nullptr});
         h.pump();
         h.store.set_quota_bytes(0);
         if (err) return std::nullopt;  // refused outright: fine
         h.client->on_online(h.now, true);
         h.pump();
         h.client->on_connected(h.now);
         h.pump();
         h.deliver(pp::Welcome{pp::kVersion, "u1", "t.u1", 0, h.now, std::nullopt});
         std::string durable;
         for (const auto& j : h.store.outbox()) {
           if (j.value("cid", std::string()) == cid)
             durable = j["body"].value("text", std::string());
         }
         for (const auto& f : h.sent_of<pp::Send>()) {
           if (f.cid == cid && f.body.text != durable) {
             return "sent '" + f.body.text + "' while the durable outbox record says '" + durable +
                    "' (the edit's commit failed); a crash now resends '" + durable +
                    "' under the same cid and the visitor's copy diverges from the server's";
           }
         }
         return std::nullopt;
       }},
      {"a cancel that is not yet durable does not let later messages overtake",
       []() -> std::optional<std::string> {
         Harness h;
         h.boot(10);
         h.client->on_online(h.now, false);
         h.pump();
         const std::string conv = h.client->start_conversation(h.now, "s");
         h.pump();
         const Body a{"A", RichKind::None, nullptr, {}, nullptr};
         const Body b{"B", RichKind::None, nullptr, {}, nullptr};
         const std::string cid_a = std::get<std::string>(h.client->send(h.now, conv, a));
         h.pump();
         const std::string cid_b = std::get<std::string>(h.client->send(h.now, conv, b));
         h.pump();
         h.store.set_quota_bytes(1);                               // the cancel cannot be committed
         if (h.client->cancel(h.now, cid_a)) return std::nullopt;  // refused: fine
         h.pump();
         h.store.set_quota_bytes(0);
         h.client->on_online(h.now, true);
         h.pump();
         h.client->on_connected(h.now);
         h.pump();
         h.deliver(pp::Welcome{pp::kVersion, "u1", "t.u1", 0, h.now, std::nullopt});
         // The server stores whatever arrives, in arrival order.
         std::vector<std::string> order;
         for (const auto& f : h.sent_of<pp::Send>()) order.push_back(f.cid);
         // The app dies before the cancel is committed; the next page load restores A.
         const bool a_durable_cancel = [&] {
           for (const auto& j : h.store.outbox()) {
             if (j.value("cid", std::string()) == cid_a) return false;
           }
           return true;
         }();
         if (!a_durable_cancel && !order.empty() && order.front() == cid_b) {
           return "B was sent while A's cancel was not durable; after a crash A is restored "
                  "and sent after B (server order B, A; queued A, B), and the visitor's cancel "
                  "is undone";
         }
         return std::nullopt;
       }},
      {"a stray welcome for another user does not reuse this user's cursor",
       []() -> std::optional<std::string> {
         Harness h;
         h.boot(7);
         h.client->on_connected(h.now);
         h.pump();
         // The anonymous hello was delivered twice: the server made two users.
         h.deliver(pp::Welcome{pp::kVersion, "u2", "t.u2", 0, h.now, std::nullopt});
         h.deliver(
             events(0, {message_event(1, msg("c1", 1, "a")), message_event(2, msg("c1", 2, "b"))}));
         h.deliver(pp::Welcome{pp::kVersion, "u1", "t.u1", 0, h.now, std::nullopt});
         if (h.client->user() == "u1" && h.client->cursor() != 0) {
           return "client switched from u2 to u1 and kept u2's cursor " +
                  std::to_string(h.client->cursor()) + " and data";
         }
         return std::nullopt;
       }},
      {"a gap that grows while its backfill is in flight is backfilled completely",
       []() -> std::optional<std::string> {
         Harness h;
         h.ready(11, "u1", 0);
         std::vector<Message> all;
         for (Seq s = 1; s <= 8; ++s) all.push_back(msg("c1", s, "a" + std::to_string(s)));
         auto gap = [](Cursor cursor, Seq from, Seq to) {
           pp::Event e;
           e.kind = pp::EventKind::Gap;
           e.cursor = cursor;
           e.conv = "c1";
           e.gap = Gap{from, to};
           return e;
         };
         h.deliver(events(0, {message_event(1, all[0]), message_event(2, all[1]),
                              message_event(3, all[2]), message_event(4, all[3]), gap(5, 5, 5)}));
         // The backfill {after:4, before:6} is in flight when the next gap arrives.
         h.deliver(events(5, {gap(6, 6, 8)}));
         std::size_t done = 0;
         for (int i = 0; i < 20; ++i) {
           auto reqs = h.sent_of<pp::History>();
           if (done == reqs.size()) break;
           for (; done < reqs.size(); ++done) h.deliver(history_page(reqs[done], all));
         }
         auto got = h.stored_seqs("c1");
         if (got.size() != 8) {
           return "store holds " + seqs_str(got) +
                  ": the new gap 6..8 merged into the pending 5..5, and the page that "
                  "completed {after:4, before:6} dropped the whole merged gap";
         }
         return std::nullopt;
       }},
      {"a gap starting at seq 1 is backfilled completely",
       []() -> std::optional<std::string> {
         Harness h;
         h.ready(8, "u1", 0);
         std::vector<Message> all;
         for (Seq s = 1; s <= 120; ++s) all.push_back(msg("c1", s, "a" + std::to_string(s)));
         pp::Event gap;
         gap.kind = pp::EventKind::Gap;
         gap.cursor = 2;
         gap.conv = "c1";
         gap.gap = Gap{1, 120};
         h.deliver(events(0, {summary(1, "c1", 120), gap}));
         // Answer only the gap backfill requests (no scrolling by the user).
         std::size_t done = 0;
         for (int i = 0; i < 20; ++i) {
           auto reqs = h.sent_of<pp::History>();
           if (done == reqs.size()) break;
           for (; done < reqs.size(); ++done) h.deliver(history_page(reqs[done], all));
         }
         auto got = h.stored_seqs("c1");
         if (got.size() != 120) {
           return "after backfilling gap 1..120 the store holds " + std::to_string(got.size()) +
                  " messages from #" + (got.empty() ? "-" : std::to_string(got.front())) +
                  ": the backfill request {after:0, before:121} reads as a scroll-back "
                  "(`after` 0 means none), so the newest page came back and the client took "
                  "the whole gap as done";
         }
         return std::nullopt;
       }},
  };
}

}  // namespace

bool spec_tests(std::FILE* out) {
  int failed = 0, n = 0;
  for (const auto& s : specs()) {
    ++n;
    auto err = s.run();
    std::fprintf(out, "%s spec: %s\n", err ? "FAIL" : "ok  ", s.name);
    if (err) {
      ++failed;
      std::fprintf(out, "      %s\n", err->c_str());
    }
  }
  std::fprintf(out, "spec: %d of %d passed\n", n - failed, n);
  return failed == 0;
}

}  // namespace parley::sim
