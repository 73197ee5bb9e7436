// Wasm bench module (embind) for tests/bench/wasm_bench.js. Built by the emscripten CMake
// build as build/wasm/parley_bench_wasm.js (+ .wasm). This is a benchmark harness, not the
// product module: its size says nothing about the product build.
//
// JS API:
//   makeFrames(total, perFrame) -> string   `events` frames joined with "\n" (JSON never
//                                            contains a raw newline), made by the core's own
//                                            encoder from the same generator as the native bench
//   new Session(withStore, uncapped)         a Client behind a bench host; withStore = commit
//                                            batches to a MemoryStore, else a no-op commit that
//                                            still reports Ok; uncapped = cache cap raised so
//                                            nothing is evicted (else the product Config)
//   session.connect()                        restore (empty) + handshake, outside any timing
//   session.applyFrame(text) -> errors       Client::on_frame + drain + commit, like a host does
//                                            for every WebSocket message
//   session.cursor(), loadedCount(), storedCount(), errors(), cacheCap()
//   session.delete()                         free it (embind objects are not garbage collected)
//   parseOnly(text) -> events                nlohmann DOM parse only (where the time goes)
//   decodeOnly(text) -> events               protocol::decode_server only
#include <emscripten/bind.h>

#include <string>

#include "../bench_common.hpp"

namespace {

using namespace parley;
using namespace parley::bench;

std::string make_frames(int total, int per_frame) {
  if (total <= 0 || per_frame <= 0) return {};
  const auto data =
      make_event_frames(static_cast<std::size_t>(total), static_cast<std::size_t>(per_frame));
  std::string out;
  out.reserve(data.frame_bytes + data.frames.size());
  for (std::size_t i = 0; i < data.frames.size(); ++i) {
    if (i) out.push_back('\n');
    out += data.frames[i];
  }
  return out;
}

double parse_only(const std::string& text) {
  const Json doc = Json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("events")) return -1;
  return static_cast<double>(doc["events"].size());
}

double decode_only(const std::string& text) {
  const auto d = protocol::decode_server(text);
  if (!d.ok()) return -1;
  const auto* ev = std::get_if<protocol::Events>(&d.frame());
  return ev ? static_cast<double>(ev->events.size()) : -1;
}

class Session {
 public:
  Session(bool with_store, bool uncapped)
      : cap_(config(uncapped).cache_cap_messages),
        store_(with_store ? std::make_unique<MemoryStore>() : nullptr),
        host_(config(uncapped), store_.get()) {}

  void connect() { host_.boot_and_connect(); }

  double applyFrame(const std::string& text) {
    host_.client->on_frame(host_.now, text);
    host_.run();
    host_.frames.clear();
    return static_cast<double>(host_.errors);
  }

  double cursor() const { return static_cast<double>(host_.client->cursor()); }
  double loadedCount() const { return static_cast<double>(host_.client->loaded_message_count()); }
  double storedCount() const { return store_ ? static_cast<double>(store_->message_count()) : -1; }
  double errors() const { return static_cast<double>(host_.errors); }
  double cacheCap() const { return static_cast<double>(cap_); }

 private:
  static Config config(bool uncapped) {
    Config c;
    if (uncapped) c.cache_cap_messages = 100'000'000;
    return c;
  }
  std::size_t cap_;
  std::unique_ptr<MemoryStore> store_;
  BenchHost host_;
};

}  // namespace

EMSCRIPTEN_BINDINGS(parley_bench) {
  emscripten::function("makeFrames", &make_frames);
  emscripten::function("parseOnly", &parse_only);
  emscripten::function("decodeOnly", &decode_only);
  emscripten::class_<Session>("Session")
      .constructor<bool, bool>()
      .function("connect", &Session::connect)
      .function("applyFrame", &Session::applyFrame)
      .function("cursor", &Session::cursor)
      .function("loadedCount", &Session::loadedCount)
      .function("storedCount", &Session::storedCount)
      .function("errors", &Session::errors)
      .function("cacheCap", &Session::cacheCap);
}
