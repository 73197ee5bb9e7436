// A minimal test host for the client: carries out effects against a MemoryStore and records
// frames, so tests can play the server by hand.
#pragma once

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "parley/client.hpp"
#include "parley/memory_store.hpp"
#include "parley/protocol.hpp"

namespace parley::testing {

struct Host {
  explicit Host(Config cfg = {}, MemoryStore* shared = nullptr)
      : store(shared ? shared : &own), client(std::make_unique<Client>(cfg)), config(cfg) {}

  MemoryStore own;
  MemoryStore* store;
  std::unique_ptr<Client> client;
  Config config;
  TimeMs now = 1'700'000'000'000;
  bool auto_commit = true;                  // commit batches as they come
  std::vector<records::StorageBatch> held;  // batches waiting when auto_commit is off
  std::vector<records::StorageBatch> committed;
  std::vector<std::string> frames;  // every frame the client sent
  std::map<std::uint64_t, TimeMs> timers;
  std::vector<Error> errors;
  bool connect_requested = false;
  bool auth_required = false;
  bool wiped = false;
  int availability_changes = 0;  // drains whose view said availability() changed
  int connection_changes = 0;    // drains whose view said the connection state changed

  // Boot: restore from the store and, if asked, connect and complete the handshake.
  void boot(bool handshake = true, Cursor head = 0) {
    client->start(now);
    run();
    if (handshake) {
      connect(head);
    }
  }
  void connect(Cursor head = 0) {
    client->on_connected(now);
    run();
    protocol::Welcome w;
    w.user = "u1";
    w.token = "t1";
    w.cursor = head;
    w.server_time = now;
    deliver(w);
  }
  // Crash: drop the client and restart from committed records only.
  void crash_and_restart(std::uint64_t seed) {
    Config c = config;
    c.seed = seed;
    client = std::make_unique<Client>(c);
    held.clear();
    timers.clear();
    frames.clear();
  }

  void deliver(const protocol::ServerFrame& f) {
    client->on_frame(now, protocol::encode(f));
    run();
  }
  void deliver_text(std::string_view text) {
    client->on_frame(now, text);
    run();
  }

  void commit_held(records::CommitResult how = records::CommitResult::Ok) {
    auto batches = std::move(held);
    held.clear();
    for (auto& b : batches) {
      auto r = how == records::CommitResult::Ok ? store->commit(b) : how;
      if (r == records::CommitResult::Ok) committed.push_back(b);
      client->on_commit(now, b.id, r);
      run();
    }
  }

  // Moves time forward, firing due timers in time order with `now` set to each one's time.
  void advance(TimeMs ms) {
    const TimeMs target = now + ms;
    for (;;) {
      auto due = timers.end();
      for (auto it = timers.begin(); it != timers.end(); ++it) {
        if (it->second <= target && (due == timers.end() || it->second < due->second)) due = it;
      }
      if (due == timers.end()) break;
      now = std::max(now, due->second);
      const auto id = due->first;
      timers.erase(due);
      client->on_timer(now, id);
      run();
    }
    now = target;
  }

  void run() {
    for (int guard = 0; guard < 1000; ++guard) {
      Effects fx = client->drain();
      if (fx.empty()) return;
      for (auto id : fx.timers_cancelled) timers.erase(id);
      for (auto& t : fx.timers_set) timers[t.id] = t.at;
      for (auto& f : fx.frames) frames.push_back(f);
      for (auto& e : fx.errors) errors.push_back(e);
      connect_requested = connect_requested || fx.connect;
      auth_required = auth_required || fx.auth_required;
      wiped = wiped || fx.wiped;
      if (fx.view.availability) ++availability_changes;
      if (fx.view.connection) ++connection_changes;
      for (auto& b : fx.batches) {
        if (!auto_commit) {
          held.push_back(std::move(b));
          continue;
        }
        auto r = store->commit(b);
        if (r == records::CommitResult::Ok) committed.push_back(b);
        client->on_commit(now, b.id, r);
      }
      for (auto& rd : fx.reads) {
        if (rd.kind == StorageRead::Kind::Restore) {
          client->on_restored(
              now, Client::Restored{store->meta(), store->conversations(), store->outbox()});
        } else {
          client->on_page_loaded(now, rd.conv, store->page(rd.conv, rd.before, rd.limit));
        }
      }
    }
  }

  // Frames of a given client type sent since index `from`.
  template <class T>
  std::vector<T> sent(std::size_t from = 0) const {
    std::vector<T> out;
    for (std::size_t i = from; i < frames.size(); ++i) {
      auto d = protocol::decode_client(frames[i]);
      if (d.ok()) {
        if (auto* f = std::get_if<T>(&d.frame())) out.push_back(*f);
      }
    }
    return out;
  }

  std::vector<TimelineItem> timeline(const std::string& conv) const {
    return client->timeline(conv);
  }
};

// Builders for server frames.
inline protocol::Ack ack_for(const protocol::Send& s, Seq seq, std::string id = {}) {
  protocol::Ack a;
  a.req = s.req;
  a.cid = s.cid;
  a.conv = s.conv;
  a.id = id.empty() ? "m" + std::to_string(seq) : id;
  a.seq = seq;
  a.ts = 1'700'000'000'000 + seq;
  return a;
}

inline Message server_message(const std::string& conv, Seq seq, Role role, std::string text,
                              std::string cid = {}) {
  Message m;
  m.conv = conv;
  m.seq = seq;
  m.id = "m" + std::to_string(seq);
  m.cid = std::move(cid);
  m.author =
      Participant{role, role == Role::Visitor ? "u1" : "a1", role == Role::Visitor ? "" : "Ada"};
  m.body.text = std::move(text);
  m.ts = 1'700'000'000'000 + seq;
  return m;
}

inline protocol::Event message_event(Cursor cursor, const Message& m) {
  protocol::Event e;
  e.kind = protocol::EventKind::Message;
  e.cursor = cursor;
  e.conv = m.conv;
  e.message = m;
  return e;
}

inline protocol::Events events(Cursor from, std::vector<protocol::Event> evs, bool more = false) {
  protocol::Events f;
  f.from = from;
  f.cursor = evs.empty() ? from : evs.back().cursor;
  f.more = more;
  f.events = std::move(evs);
  return f;
}

inline Body text(std::string t) {
  Body b;
  b.text = std::move(t);
  return b;
}

}  // namespace parley::testing
