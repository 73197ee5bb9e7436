// Shared by the native benchmarks (bench_core.cpp) and the wasm bench module
// (wasm/bench_wasm.cpp): a small bench host that carries out the client's effects, and a
// deterministic generator of realistic server `events` frames.
//
// The host follows the pattern of tests/core/host.hpp (kept separate on purpose: the bench
// tier does not depend on the unit-test tree). It commits every storage batch at once, either
// to a MemoryStore or to nothing (a no-op commit that still reports Ok), answers storage
// reads from the store, and collects the frames the client sends. Timers are not run: the
// benchmarks never advance time.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "parley/client.hpp"
#include "parley/memory_store.hpp"
#include "parley/protocol.hpp"

namespace parley::bench {

inline constexpr TimeMs kT0 = 1'700'000'000'000;

// ------------------------------------------------------------------------------- host
struct BenchHost {
  // store == nullptr: no-op commits (every batch is dropped and reported Ok); storage reads
  // are then answered with "nothing stored".
  explicit BenchHost(Config cfg, MemoryStore* store_ = nullptr)
      : store(store_), client(std::make_unique<Client>(std::move(cfg))) {}

  MemoryStore* store;
  std::unique_ptr<Client> client;
  TimeMs now = kT0;
  std::vector<std::string> frames;  // frames the client sent, in order (host clears them)
  std::size_t batches = 0;          // storage batches committed
  std::size_t ops = 0;              // storage ops committed
  std::size_t errors = 0;           // typed errors the client reported
  bool connect_requested = false;

  void run() {
    for (int guard = 0; guard < 1000; ++guard) {
      Effects fx = client->drain();
      if (fx.empty()) return;
      for (auto& f : fx.frames) frames.push_back(std::move(f));
      errors += fx.errors.size();
      connect_requested = connect_requested || fx.connect;
      for (auto& b : fx.batches) {
        const auto r = store ? store->commit(b) : records::CommitResult::Ok;
        ++batches;
        ops += b.ops.size();
        client->on_commit(now, b.id, r);
      }
      for (auto& rd : fx.reads) {
        if (rd.kind == StorageRead::Kind::Restore) {
          if (store) {
            client->on_restored(
                now, Client::Restored{store->meta(), store->conversations(), store->outbox()});
          } else {
            client->on_restored(now, Client::Restored{});
          }
        } else {
          client->on_page_loaded(
              now, rd.conv,
              store ? store->page(rd.conv, rd.before, rd.limit) : std::vector<Json>{});
        }
      }
    }
    throw std::runtime_error("bench host: effects did not settle after 1000 rounds");
  }

  void deliver(std::string_view text) {
    client->on_frame(now, text);
    run();
  }

  // Restore from the store, connect, and complete the handshake (welcome at `head`).
  void boot_and_connect(Cursor head = 0) {
    client->start(now);
    run();
    client->on_connected(now);
    run();
    protocol::Welcome w;
    w.user = "u_bench";
    w.token = "t_bench";
    w.cursor = head;
    w.server_time = now;
    deliver(protocol::encode(protocol::ServerFrame{w}));
    if (client->connection() != ConnectionState::Ready) {
      throw std::runtime_error("bench host: handshake did not reach Ready");
    }
  }
};

// ------------------------------------------------------------------------------- data
// splitmix64: deterministic, independent of the client's own seed.
struct BenchRng {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
  std::string hex_id(const char* prefix) {  // same shape as the client's ids: prefix + 32 hex
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(prefix);
    for (int w = 0; w < 2; ++w) {
      const auto v = next();
      for (int i = 0; i < 16; ++i) out.push_back(kHex[(v >> (60 - 4 * i)) & 0xF]);
    }
    return out;
  }
};

// A chat-like sentence of 60..120 UTF-8 bytes (mostly ASCII, some accents and emoji).
inline std::string chat_text(BenchRng& rng) {
  static const char* const kWords[] = {
      "hi",      "hello",    "thanks",  "order",        "refund",  "delivery", "tracking",
      "number",  "please",   "could",   "you",          "check",   "my",       "account",
      "the",     "package",  "arrived", "yesterday",    "but",     "it",       "was",
      "damaged", "and",      "I",       "would",        "like",    "a",        "replacement",
      "sure",    "let",      "me",      "look",         "into",    "that",     "for",
      "one",     "moment",   "invoice", "payment",      "card",    "declined", "again",
      "today",   "tomorrow", "morning", "address",      "changed", "café",     "naïve",
      "résumé",  "👍",        "🙂",    "is",           "there",   "anything", "else",
      "no",      "that's",   "all",     "subscription", "plan",    "upgrade",  "password",
      "reset",   "email",    "link",    "expired",      "works",   "now",      "great"};
  constexpr std::size_t kN = sizeof(kWords) / sizeof(kWords[0]);
  const std::size_t target = 60 + rng.below(61);  // 60..120 bytes
  std::string s;
  while (s.size() < target) {
    std::string w = kWords[rng.below(kN)];
    if (s.size() + 1 + w.size() > 120) break;
    if (!s.empty()) s.push_back(' ');
    if (s.empty()) w[0] = static_cast<char>(w[0] >= 'a' && w[0] <= 'z' ? w[0] - 32 : w[0]);
    s += w;
  }
  while (s.size() < 60) s += ".";  // keep the floor
  return s;
}

struct EventFrames {
  std::vector<std::string> frames;  // encoded `events` frames, in cursor order
  std::vector<std::string> convs;   // conversation ids used
  std::size_t events = 0;           // message events in all frames
  std::size_t text_bytes = 0;       // sum of message text bytes (UTF-8)
  std::size_t frame_bytes = 0;      // sum of frame sizes
  std::size_t max_frame_bytes = 0;  // largest frame (must stay under kMaxFrameBytes)
};

// `total` message events spread over `n_convs` conversations, `per_frame` per frame, cursors
// 1..total, every frame chained on the previous one (from = previous cursor, more = false).
// Authors: agent 45 %, visitor (another device of this user, with a cid) 45 %, bot 10 %.
inline EventFrames make_event_frames(std::size_t total, std::size_t per_frame,
                                     std::size_t n_convs = 8, std::uint64_t seed = 42) {
  if (per_frame == 0 || n_convs == 0) throw std::invalid_argument("make_event_frames");
  BenchRng rng{seed};
  EventFrames out;
  for (std::size_t c = 0; c < n_convs; ++c) out.convs.push_back(rng.hex_id("c_"));
  std::vector<Seq> seq(n_convs, 0);
  Cursor cursor = 0;
  while (out.events < total) {
    protocol::Events f;
    f.from = cursor;
    const std::size_t n = std::min(per_frame, total - out.events);
    f.events.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t c = rng.below(n_convs);
      protocol::Event e;
      e.kind = protocol::EventKind::Message;
      e.cursor = ++cursor;
      e.conv = out.convs[c];
      Message& m = e.message;
      m.conv = e.conv;
      m.seq = ++seq[c];
      m.id = rng.hex_id("m_");
      const auto who = rng.below(20);
      if (who < 9) {
        m.author = Participant{Role::Agent, "a_1042", "Ada Lovelace"};
      } else if (who < 18) {
        m.author = Participant{Role::Visitor, "u_bench", ""};
        m.cid = rng.hex_id("k_");
      } else {
        m.author = Participant{Role::Bot, "b_1", "Parley Bot"};
      }
      m.body.text = chat_text(rng);
      m.ts = kT0 + cursor * 1000;
      out.text_bytes += m.body.text.size();
      f.events.push_back(std::move(e));
    }
    f.cursor = cursor;
    f.more = false;
    out.events += n;
    std::string text = protocol::encode(protocol::ServerFrame{std::move(f)});
    out.frame_bytes += text.size();
    out.max_frame_bytes = std::max(out.max_frame_bytes, text.size());
    out.frames.push_back(std::move(text));
  }
  if (out.max_frame_bytes > protocol::kMaxFrameBytes) {
    throw std::runtime_error("make_event_frames: frame larger than the protocol limit");
  }
  return out;
}

}  // namespace parley::bench
