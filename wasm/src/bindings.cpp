// The `_raw` surface: one embind class, RawClient, around parley::Client (web/README.md).
//
// Thin by design. Every argument and result is a number, a string or a JSON string; the
// JSON uses the core's own record and protocol shapes, converted with the core's own
// encoders and decoders (records::to_json, protocol::to_json, protocol::body_from_json,
// protocol::encode / decode_server for errors and availability). No conversation rule
// lives here; what is here is argument checking and shape conversion.
//
// Nothing is thrown across the boundary:
//   - JSON arguments are parsed with RapidJSON the way the core's frame decoder parses
//     (strict UTF-8, iterative: the same template instance, so no second JSON parser is
//     linked: nlohmann's parser, lexer and strtod cost 43 KB of wasm, 15 KB gzipped),
//     checked, and converted to the core's Json values. A bad argument gives
//     {"error":{"code":"invalid_command",...}};
//   - numbers from JS (doubles, possibly NaN or huge) are range-checked before they become
//     integers (a wasm float->int conversion of NaN or an out-of-range value traps);
//   - results are serialised with the `replace` UTF-8 error handler (dump() never throws);
//   - when the build has C++ exceptions (-fwasm-exceptions / -fexceptions), every entry
//     point also catches anything thrown below it and returns it as an error result. The
//     default product build has none (-fno-exceptions): the core reports failures as values
//     and has no throw/try of its own.
#include <emscripten/bind.h>
#include <rapidjson/document.h>

#include <cmath>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "parley/client.hpp"
#include "parley/protocol.hpp"
#include "parley/records.hpp"

namespace {

using parley::Error;
using parley::ErrorCode;
using parley::Json;
using parley::TimeMs;
using RValue = rapidjson::Value;

constexpr double kMaxSafeInteger = 9007199254740991.0;  // 2^53 - 1, Number.MAX_SAFE_INTEGER
// The conversion to Json recurses; deeper input is refused rather than risking the stack.
// (Records and frames are far shallower: the protocol caps free-form payloads at 10.)
constexpr int kMaxDepth = 64;

const char* const kNull = "null";

// ----------------------------------------------------------------------------- JSON out
std::string dump(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Error bad_argument(std::string message) {
  return parley::make_error(ErrorCode::InvalidCommand, std::move(message));
}

// ----------------------------------------------------------------------------- JSON in
// Parses like the core's decoder: strict UTF-8, iterative (deep input cannot recurse).
bool parse(std::string_view text, rapidjson::Document& doc) {
  doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(text.data(),
                                                                                    text.size());
  return !doc.HasParseError();
}

// RapidJSON -> the core's Json (integers stay integers). False when nested too deep.
bool to_core_json(const RValue& v, Json& out, int depth = 0) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      out = nullptr;
      return true;
    case rapidjson::kFalseType:
      out = false;
      return true;
    case rapidjson::kTrueType:
      out = true;
      return true;
    case rapidjson::kStringType:
      out = std::string(v.GetString(), v.GetStringLength());
      return true;
    case rapidjson::kNumberType:
      if (v.IsInt64()) {
        out = v.GetInt64();
      } else if (v.IsUint64()) {
        out = v.GetUint64();
      } else {
        out = v.GetDouble();
      }
      return true;
    case rapidjson::kArrayType: {
      if (depth >= kMaxDepth) return false;
      out = Json::array();
      for (const auto& e : v.GetArray()) {
        Json x;
        if (!to_core_json(e, x, depth + 1)) return false;
        out.push_back(std::move(x));
      }
      return true;
    }
    case rapidjson::kObjectType: {
      if (depth >= kMaxDepth) return false;
      out = Json::object();
      for (const auto& m : v.GetObject()) {
        Json x;
        if (!to_core_json(m.value, x, depth + 1)) return false;
        out[std::string(m.name.GetString(), m.name.GetStringLength())] = std::move(x);
      }
      return true;
    }
  }
  out = nullptr;
  return true;
}

// Parses `text` into the core's Json; the problem (for an error result) when it cannot.
std::optional<Error> parse_json(std::string_view text, const char* what, Json& out) {
  rapidjson::Document doc;
  if (!parse(text, doc)) return bad_argument(std::string(what) + ": not valid JSON");
  if (!to_core_json(doc, out)) return bad_argument(std::string(what) + ": nested too deeply");
  return std::nullopt;
}

// A member of an object; absent and null are the same.
const RValue* member(const RValue& obj, const char* name) {
  auto it = obj.FindMember(name);
  return it == obj.MemberEnd() || it->value.IsNull() ? nullptr : &it->value;
}

// A JS number that must be an integer-valued time, sequence number or id. Fractions are
// truncated (performance.now()-style times); NaN, infinities and values beyond 2^53 are
// refused rather than converted (the conversion would trap).
std::optional<std::int64_t> integer(double d, double min = -kMaxSafeInteger) {
  if (!(d >= min && d <= kMaxSafeInteger)) return std::nullopt;
  return static_cast<std::int64_t>(std::trunc(d));
}

// A JSON number that must be an integer in [min, 2^53).
std::optional<std::int64_t> json_integer(const RValue& v, double min) {
  if (v.IsInt64()) {
    const auto i = v.GetInt64();
    if (static_cast<double>(i) < min || static_cast<double>(i) > kMaxSafeInteger)
      return std::nullopt;
    return i;
  }
  if (v.IsNumber() && !v.IsUint64()) {  // 1e3 and the like: accepted when integral
    const double d = v.GetDouble();
    if (std::trunc(d) != d) return std::nullopt;
    return integer(d, min);
  }
  return std::nullopt;
}

// ----------------------------------------------------------------------------- errors
// An error in its wire shape {"code","recoverable","message"}, by the protocol's own
// encoder (an `error` frame, without "type" and "req").
Json error_json(const Error& e) {
  Json j = Json::object();
  Json frame;
  if (!parse_json(parley::protocol::encode(
                      parley::protocol::ServerFrame{parley::protocol::ErrorFrame{{}, e}}),
                  "error", frame) &&
      frame.is_object()) {
    frame.erase("type");
    frame.erase("req");
    j = std::move(frame);
  }
  return j;
}

std::string error_result(const Error& e) {
  Json j = Json::object();
  j["error"] = error_json(e);
  return dump(j);
}

#if defined(__cpp_exceptions)
std::string internal_error_result(const char* what) {
  return error_result(bad_argument(std::string("internal error: ") + what));
}
#endif

// An error from its wire shape, decoded strictly by the protocol's decoder (as the `error`
// frame it is on the wire). Returns the problem when `text` is not a valid error object.
std::optional<Error> error_from_json(std::string_view text, Error& out) {
  Json j;
  if (auto problem = parse_json(text, "error", j)) return problem;
  if (!j.is_object()) return bad_argument("error: expected an object {code, recoverable, message}");
  j["type"] = "error";
  j.erase("req");
  auto decoded = parley::protocol::decode_server(dump(j));
  if (!decoded.ok()) return bad_argument("error: " + decoded.error().message);
  const auto* ef = std::get_if<parley::protocol::ErrorFrame>(&decoded.frame());
  if (!ef) return bad_argument("error: expected an object {code, recoverable, message}");
  out = ef->error;
  return std::nullopt;
}

// ----------------------------------------------------------------------------- config
std::variant<parley::Config, Error> config_from_json(std::string_view text) {
  rapidjson::Document j;
  if (!parse(text, j)) return bad_argument("config: not valid JSON");
  if (!j.IsObject()) return bad_argument("config: expected an object");
  parley::Config c;

  const RValue* app = member(j, "app_id");
  if (!app || !app->IsString() || app->GetStringLength() == 0)
    return bad_argument("config.app_id: expected a non-empty string");
  c.app_id.assign(app->GetString(), app->GetStringLength());

  const RValue* seed = member(j, "seed");
  auto s = seed ? json_integer(*seed, 0) : std::nullopt;
  if (!s) return bad_argument("config.seed: expected an integer in 0..2^53-1");
  c.seed = static_cast<std::uint64_t>(*s);

  if (const RValue* d = member(j, "device")) {
    if (!d->IsString()) return bad_argument("config.device: expected a string");
    c.device.assign(d->GetString(), d->GetStringLength());
  }
  if (const RValue* l = member(j, "locale")) {
    if (!l->IsString()) return bad_argument("config.locale: expected a string");
    c.locale.assign(l->GetString(), l->GetStringLength());
  }
  if (const RValue* st = member(j, "style")) {
    auto style =
        st->IsString()
            ? parley::style_from_string(std::string_view(st->GetString(), st->GetStringLength()))
            : std::nullopt;
    if (!style) {
      return bad_argument(
          "config.style: expected live_chat, live_chat_returning or social_messaging");
    }
    c.policy = parley::lifecycle::Policy::defaults(*style);
  }
  if (const RValue* p = member(j, "page_size")) {
    auto n = json_integer(*p, 1);
    if (!n || *n > static_cast<std::int64_t>(parley::protocol::kMaxPageLimit)) {
      return bad_argument("config.page_size: expected an integer in 1.." +
                          std::to_string(parley::protocol::kMaxPageLimit));
    }
    c.page_size = static_cast<std::size_t>(*n);
  }
  if (const RValue* cap = member(j, "cache_cap_messages")) {
    auto n = json_integer(*cap, 0);
    if (!n) return bad_argument("config.cache_cap_messages: expected a non-negative integer");
    c.cache_cap_messages = static_cast<std::size_t>(*n);
  }
  return c;
}

// ----------------------------------------------------------------------------- effects
const char* op_name(parley::records::StorageOp::Kind k) {
  using K = parley::records::StorageOp::Kind;
  switch (k) {
    case K::Put:
      return "put";
    case K::Delete:
      return "delete";
    case K::DeleteRange:
      return "delete_range";
    case K::Clear:
      return "clear";
  }
  return "put";
}

// One op exactly as in tests/contract/storage_contract.json: "key" on every op but
// clear, "seq" on every messages op but clear, "value" on put.
Json op_json(const parley::records::StorageOp& op) {
  using K = parley::records::StorageOp::Kind;
  Json j = Json::object();
  j["op"] = op_name(op.kind);
  j["store"] = parley::records::to_string(op.store);
  if (op.kind != K::Clear) {
    j["key"] = op.key;
    if (op.store == parley::records::Store::Messages) j["seq"] = op.seq;
  }
  if (op.kind == K::Put) j["value"] = op.value;
  return j;
}

std::string effects_json(const parley::Effects& fx, const std::vector<Error>& extra_errors) {
  Json batches = Json::array();
  for (const auto& b : fx.batches) {
    Json ops = Json::array();
    for (const auto& op : b.ops) ops.push_back(op_json(op));
    Json bj = Json::object();
    bj["id"] = b.id;
    bj["ops"] = std::move(ops);
    batches.push_back(std::move(bj));
  }
  Json reads = Json::array();
  for (const auto& r : fx.reads) {
    Json rj = Json::object();
    if (r.kind == parley::StorageRead::Kind::Restore) {
      rj["kind"] = "restore";
    } else {
      rj["kind"] = "page";
      rj["conv"] = r.conv;
      rj["before"] = r.before;
      rj["limit"] = r.limit;
    }
    reads.push_back(std::move(rj));
  }
  Json timers_set = Json::array();
  for (const auto& t : fx.timers_set) {
    Json tj = Json::object();
    tj["id"] = t.id;
    tj["at"] = t.at;
    timers_set.push_back(std::move(tj));
  }
  Json view = Json::object();
  Json changed = Json::array();
  for (const auto& c : fx.view.conversations) changed.push_back(c);
  view["conversations"] = std::move(changed);
  view["connection"] = fx.view.connection;
  view["unread"] = fx.view.unread;
  view["availability"] = fx.view.availability;
  Json errors = Json::array();
  for (const auto& e : extra_errors) errors.push_back(error_json(e));
  for (const auto& e : fx.errors) errors.push_back(error_json(e));
  Json frames = Json::array();
  for (const auto& f : fx.frames) frames.push_back(f);
  Json cancelled = Json::array();
  for (const auto id : fx.timers_cancelled) cancelled.push_back(id);

  Json j = Json::object();
  j["batches"] = std::move(batches);
  j["reads"] = std::move(reads);
  j["connect"] = fx.connect;
  j["disconnect"] = fx.disconnect;
  j["frames"] = std::move(frames);
  j["timers_set"] = std::move(timers_set);
  j["timers_cancelled"] = std::move(cancelled);
  j["view"] = std::move(view);
  j["errors"] = std::move(errors);
  j["auth_required"] = fx.auth_required;
  j["wiped"] = fx.wiped;
  return dump(j);
}

std::string maybe_error(const std::optional<Error>& e) {
  return e ? error_result(*e) : kNull;
}

// ----------------------------------------------------------------------------- guards
// With C++ exceptions compiled in, anything thrown below an entry point becomes an error
// result (or the fallback value of a query); without them these are plain calls.
template <class F>
std::string guard(F&& f) {
#if defined(__cpp_exceptions)
  try {
    return f();
  } catch (const std::exception& e) {
    return internal_error_result(e.what());
  } catch (...) {
    return internal_error_result("unknown exception");
  }
#else
  return f();
#endif
}

template <class R, class F>
R guard_value(R fallback, F&& f) {
#if defined(__cpp_exceptions)
  try {
    return f();
  } catch (...) {
    return fallback;
  }
#else
  (void)fallback;
  return f();
#endif
}

}  // namespace

// ============================================================================= RawClient
class RawClient {
 public:
  explicit RawClient(const std::string& config_json) {
    guard([&] {
      auto c = config_from_json(config_json);
      if (auto* e = std::get_if<Error>(&c)) {
        config_error_ = *e;
        pending_errors_.push_back(*e);  // also reported by the first drain()
      } else {
        client_ = std::make_unique<parley::Client>(std::move(std::get<parley::Config>(c)));
      }
      return std::string();
    });
    if (!client_ && !config_error_) config_error_ = bad_argument("config: not accepted");
  }

  // ------------------------------------------------------------- lifecycle / storage
  std::string start(double now) {
    return guard([&] {
      TimeMs t;
      if (auto e = check(now, t)) return *e;
      client_->start(t);
      return std::string(kNull);
    });
  }

  std::string onRestored(double now, const std::string& json) {
    return guard([&] {
      TimeMs t;
      if (auto e = check(now, t)) return *e;
      rapidjson::Document doc;
      if (!parse(json, doc) || !doc.IsObject()) {
        return error_result(
            bad_argument("onRestored: expected a JSON object {meta, conversations, outbox}"));
      }
      parley::Client::Restored r;
      if (const RValue* m = member(doc, "meta")) {
        if (!to_core_json(*m, r.meta))
          return error_result(bad_argument("onRestored.meta: nested too deeply"));
      }
      const char* names[] = {"conversations", "outbox"};
      std::vector<Json>* lists[] = {&r.conversations, &r.outbox};
      for (int i = 0; i < 2; ++i) {
        const RValue* list = member(doc, names[i]);
        if (!list) continue;
        if (!list->IsArray()) {
          return error_result(
              bad_argument(std::string("onRestored.") + names[i] + ": expected an array"));
        }
        for (const auto& rec : list->GetArray()) {
          Json x;
          if (!to_core_json(rec, x)) {
            return error_result(
                bad_argument(std::string("onRestored.") + names[i] + ": nested too deeply"));
          }
          lists[i]->push_back(std::move(x));
        }
      }
      client_->on_restored(t, r);
      return std::string(kNull);
    });
  }

  std::string onPageLoaded(double now, const std::string& conv, const std::string& json) {
    return guard([&] {
      TimeMs t;
      if (auto e = check(now, t)) return *e;
      Json page;
      if (auto problem = parse_json(json, "onPageLoaded", page)) return error_result(*problem);
      if (!page.is_array())
        return error_result(bad_argument("onPageLoaded: expected an array of message records"));
      std::vector<Json> messages;
      messages.reserve(page.size());
      for (auto& m : page) messages.push_back(std::move(m));
      client_->on_page_loaded(t, conv, messages);
      return std::string(kNull);
    });
  }

  std::string onCommit(double now, double batch_id, const std::string& result) {
    return guard([&] {
      TimeMs t;
      if (auto e = check(now, t)) return *e;
      auto id = integer(batch_id, 0);
      if (!id)
        return error_result(bad_argument("onCommit: batch id must be a non-negative integer"));
      using parley::records::CommitResult;
      CommitResult r;
      if (result == "ok") {
        r = CommitResult::Ok;
      } else if (result == "aborted") {
        r = CommitResult::Aborted;
      } else if (result == "quota" || result == "quota_exceeded") {
        r = CommitResult::QuotaExceeded;
      } else {
        return error_result(
            bad_argument("onCommit: result must be \"ok\", \"aborted\" or \"quota\""));
      }
      client_->on_commit(t, static_cast<std::uint64_t>(*id), r);
      return std::string(kNull);
    });
  }

  // ------------------------------------------------------------- user commands
  std::string send(double now, const std::string& conv, const std::string& body_json) {
    return guard([&] {
      TimeMs t;
      if (auto e = check(now, t)) return *e;
      parley::Body body;
      if (auto problem = body_from(body_json, body)) return error_result(*problem);
      auto r = client_->send(t, conv, std::move(body));
      if (auto* e = std::get_if<Error>(&r)) return error_result(*e);
      Json out = Json::object();
      out["cid"] = std::get<std::string>(r);
      return dump(out);
    });
  }

  std::string retry(double now, const std::string& cid) {
    return guard([&] {
      TimeMs t;
      if (auto e = check(now, t)) return *e;
      return maybe_error(client_->retry(t, cid));
    });
  }

  std::string cancel(double now, const std::string& cid) {
    return guard([&] {
      TimeMs t;
      if (auto e = check(now, t)) return *e;
      return maybe_error(client_->cancel(t, cid));
    });
  }

  std::string editQueued(double now, const std::string& cid, const std::string& body_json) {
    return guard([&] {
      TimeMs t;
      if (auto e = check(now, t)) return *e;
      parley::Body body;
      if (auto problem = body_from(body_json, body)) return error_result(*problem);
      return maybe_error(client_->edit_queued(t, cid, std::move(body)));
    });
  }

  std::string markRead(double now, const std::string& conv, double seq) {
    return guard([&] {
      TimeMs t;
      if (auto e = check(now, t)) return *e;
      auto s = integer(seq, 0);
      if (!s) return error_result(bad_argument("markRead: seq must be a non-negative integer"));
      client_->mark_read(t, conv, *s);
      return std::string(kNull);
    });
  }

  std::string typing(double now, const std::string& conv, bool on) {
    return guard([&] {
      TimeMs t;
      if (auto e = check(now, t)) return *e;
      client_->typing(t, conv, on);
      return std::string(kNull);
    });
  }

  // The new conversation's id (a plain string, as in web/README.md). When the command
  // cannot run (no client after a bad config, a bad `now`) it is "" and the reason is
  // reported by the next drain() in "errors".
  std::string startConversation(double now, const std::string& subject) {
    return guard([&] {
      TimeMs t;
      if (auto e = check(now, t, /*report=*/true)) return std::string();
      return client_->start_conversation(t, subject);
    });
  }

  std::string requestHandoff(double now, const std::string& conv, const std::string& channel,
                             const std::string& address) {
    return guard([&] {
      TimeMs t;
      if (auto e = check(now, t)) return *e;
      auto ch = parley::channel_from_string(channel);
      if (!ch) {
        return error_result(bad_argument("requestHandoff: unknown channel '" + channel + "'"));
      }
      return maybe_error(client_->request_handoff(t, conv, *ch, address));
    });
  }

  std::string identify(double now, const std::string& token) {
    return guard([&] {
      TimeMs t;
      if (auto e = check(now, t)) return *e;
      client_->identify(t, token);
      return std::string(kNull);
    });
  }
  std::string resume(double now, const std::string& token) {
    return guard([&] {
      TimeMs t;
      if (auto e = check(now, t)) return *e;
      client_->resume(t, token);
      return std::string(kNull);
    });
  }
  std::string logout(double now) {
    return guard([&] {
      TimeMs t;
      if (auto e = check(now, t)) return *e;
      client_->logout(t);
      return std::string(kNull);
    });
  }
  std::string openConversation(double now, const std::string& conv) {
    return guard([&] {
      TimeMs t;
      if (auto e = check(now, t)) return *e;
      client_->open_conversation(t, conv);
      return std::string(kNull);
    });
  }
  std::string loadOlder(double now, const std::string& conv) {
    return guard([&] {
      TimeMs t;
      if (auto e = check(now, t)) return *e;
      client_->load_older(t, conv);
      return std::string(kNull);
    });
  }

  // ------------------------------------------------------------- transport
  std::string onConnected(double now) {
    return guard([&] {
      TimeMs t;
      if (auto e = check(now, t)) return *e;
      client_->on_connected(t);
      return std::string(kNull);
    });
  }
  std::string onDisconnected(double now) {
    return guard([&] {
      TimeMs t;
      if (auto e = check(now, t)) return *e;
      client_->on_disconnected(t);
      return std::string(kNull);
    });
  }
  // A malformed frame is not an argument error: the core reports it (typed) in the next
  // drain()'s errors, as it does for any bad frame from the server.
  std::string onFrame(double now, const std::string& text) {
    return guard([&] {
      TimeMs t;
      if (auto e = check(now, t)) return *e;
      client_->on_frame(t, text);
      return std::string(kNull);
    });
  }
  std::string onRequestFailed(double now, const std::string& req, const std::string& error) {
    return guard([&] {
      TimeMs t;
      if (auto e = check(now, t)) return *e;
      Error err;
      if (auto problem = error_from_json(error, err)) return error_result(*problem);
      client_->on_request_failed(t, req, std::move(err));
      return std::string(kNull);
    });
  }
  std::string onToken(double now, const std::string& token) {
    return guard([&] {
      TimeMs t;
      if (auto e = check(now, t)) return *e;
      client_->on_token(t, token);
      return std::string(kNull);
    });
  }

  // ------------------------------------------------------------- time / environment
  std::string onTimer(double now, double id) {
    return guard([&] {
      TimeMs t;
      if (auto e = check(now, t)) return *e;
      auto i = integer(id, 0);
      if (!i) return error_result(bad_argument("onTimer: id must be a non-negative integer"));
      client_->on_timer(t, static_cast<std::uint64_t>(*i));
      return std::string(kNull);
    });
  }
  std::string onOnline(double now, bool b) {
    return guard([&] {
      TimeMs t;
      if (auto e = check(now, t)) return *e;
      client_->on_online(t, b);
      return std::string(kNull);
    });
  }
  std::string onVisibility(double now, bool b) {
    return guard([&] {
      TimeMs t;
      if (auto e = check(now, t)) return *e;
      client_->on_visibility(t, b);
      return std::string(kNull);
    });
  }
  std::string onFocus(double now, bool b) {
    return guard([&] {
      TimeMs t;
      if (auto e = check(now, t)) return *e;
      client_->on_focus(t, b);
      return std::string(kNull);
    });
  }

  // Always a full effects object (every key present); errors the binding itself holds (a
  // bad config, a refused startConversation) come first in "errors".
  std::string drain() {
#if defined(__cpp_exceptions)
    try {
      return drain_unguarded();
    } catch (const std::exception& e) {
      return after_throw(e.what());
    } catch (...) {
      return after_throw("unknown exception");
    }
#else
    return drain_unguarded();
#endif
  }

  // ------------------------------------------------------------- queries
  std::string conversations() const {
    if (!client_) return "[]";
    return guard([&] {
      Json out = Json::array();
      for (const auto& v : client_->conversations()) {
        Json j = Json::object();
        j["conv"] = parley::records::to_json(v.conv);
        j["unread"] = v.unread;
        j["preview"] = v.preview;
        j["typing"] = v.typing;
        if (!v.resume_token.empty()) j["resume_token"] = v.resume_token;
        out.push_back(std::move(j));
      }
      return dump(out);
    });
  }

  // Messages in the protocol's message shape (local echoes have seq 0 and no id).
  std::string timeline(const std::string& conv) const {
    if (!client_) return "[]";
    return guard([&] {
      Json out = Json::array();
      for (const auto& item : client_->timeline(conv)) {
        Json j = Json::object();
        j["key"] = item.key;
        j["state"] = parley::to_string(item.state);
        j["message"] = parley::protocol::to_json(item.message);
        if (item.error) j["error"] = error_json(*item.error);
        out.push_back(std::move(j));
      }
      return dump(out);
    });
  }

  int unreadTotal() const {
    if (!client_) return 0;
    return guard_value(0, [&] { return client_->unread_total(); });
  }
  std::string connection() const {
    if (!client_) return "offline";
    return guard_value(std::string("offline"),
                       [&] { return std::string(parley::to_string(client_->connection())); });
  }
  // Connected but out of sync: catch-up is failing and being retried.
  bool syncRetrying() const {
    if (!client_) return false;
    return guard_value(false, [&] { return client_->sync_retrying(); });
  }
  double cursor() const {
    if (!client_) return 0;
    return guard_value(0.0, [&] { return static_cast<double>(client_->cursor()); });
  }
  std::string user() const {
    if (!client_) return std::string();
    return guard_value(std::string(), [&] { return client_->user(); });
  }
  std::string device() const {
    if (!client_) return std::string();
    return guard_value(std::string(), [&] { return client_->device(); });
  }
  // {"open","reply_ms","next_change"?} exactly as in the welcome frame (by the protocol's
  // encoder), or null before a welcome that carried business hours.
  std::string availability() const {
    if (!client_) return kNull;
    return guard([&]() -> std::string {
      auto a = client_->availability();
      return a ? dump(parley::protocol::to_json(*a)) : kNull;
    });
  }

 private:
  std::unique_ptr<parley::Client> client_;
  std::optional<Error> config_error_;
  std::vector<Error> pending_errors_;  // reported by the next drain()

  // Checks that there is a client and that `now` is a usable time. Returns the error result
  // JSON when not (with `report`, the error is also kept for the next drain()).
  std::optional<std::string> check(double now, TimeMs& t, bool report = false) {
    std::optional<Error> problem;
    if (!client_) {
      problem = bad_argument("no client: " +
                             (config_error_ ? config_error_->message : std::string("bad config")));
    } else if (auto i = integer(now)) {
      t = *i;
      return std::nullopt;
    } else {
      problem = bad_argument("now must be a finite number (ms since the epoch)");
    }
    if (report) pending_errors_.push_back(*problem);
    return error_result(*problem);
  }

  static std::optional<Error> body_from(const std::string& text, parley::Body& out) {
    Json j;
    if (auto problem = parse_json(text, "body", j)) return problem;
    auto body = parley::protocol::body_from_json(j);
    if (auto* e = std::get_if<Error>(&body)) return *e;
    out = std::move(std::get<parley::Body>(body));
    return std::nullopt;
  }

  std::string drain_unguarded() {
    parley::Effects fx;
    if (client_) fx = client_->drain();
    std::string out = effects_json(fx, pending_errors_);
    pending_errors_.clear();
    return out;
  }

  std::string after_throw(const char* what) {
    pending_errors_.clear();
    return effects_json(parley::Effects{}, {bad_argument(std::string("internal error: ") + what)});
  }
};

EMSCRIPTEN_BINDINGS(parley_raw) {
  using emscripten::class_;
  class_<RawClient>("RawClient")
      .constructor<std::string>()
      .function("start", &RawClient::start)
      .function("onRestored", &RawClient::onRestored)
      .function("onPageLoaded", &RawClient::onPageLoaded)
      .function("onCommit", &RawClient::onCommit)
      .function("send", &RawClient::send)
      .function("retry", &RawClient::retry)
      .function("cancel", &RawClient::cancel)
      .function("editQueued", &RawClient::editQueued)
      .function("markRead", &RawClient::markRead)
      .function("typing", &RawClient::typing)
      .function("startConversation", &RawClient::startConversation)
      .function("requestHandoff", &RawClient::requestHandoff)
      .function("identify", &RawClient::identify)
      .function("resume", &RawClient::resume)
      .function("logout", &RawClient::logout)
      .function("openConversation", &RawClient::openConversation)
      .function("loadOlder", &RawClient::loadOlder)
      .function("onConnected", &RawClient::onConnected)
      .function("onDisconnected", &RawClient::onDisconnected)
      .function("onFrame", &RawClient::onFrame)
      .function("onRequestFailed", &RawClient::onRequestFailed)
      .function("onToken", &RawClient::onToken)
      .function("onTimer", &RawClient::onTimer)
      .function("onOnline", &RawClient::onOnline)
      .function("onVisibility", &RawClient::onVisibility)
      .function("onFocus", &RawClient::onFocus)
      .function("drain", &RawClient::drain)
      .function("conversations", &RawClient::conversations)
      .function("timeline", &RawClient::timeline)
      .function("unreadTotal", &RawClient::unreadTotal)
      .function("connection", &RawClient::connection)
      .function("syncRetrying", &RawClient::syncRetrying)
      .function("cursor", &RawClient::cursor)
      .function("user", &RawClient::user)
      .function("device", &RawClient::device)
      .function("availability", &RawClient::availability);
}
