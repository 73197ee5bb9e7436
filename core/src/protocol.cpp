// Protocol v1 codec. docs/protocol.md is the wire spec; this file must match it exactly.
//
// No exception may escape: JSON is parsed with the non-throwing API, every value's type is
// checked before it is read (get_ptr), and dump() replaces invalid UTF-8 instead of throwing.
#include "parley/protocol.hpp"
#include "enum_names.hpp"

#include <rapidjson/document.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>

namespace parley {

// ------------------------------------------------------------ model.hpp enum strings
namespace {
using detail::name_of;
using detail::value_of;
constexpr std::array<std::string_view, 6> kRichKinds = {"none",     "quick_replies", "buttons",
                                                        "carousel", "form",          "csat"};
constexpr std::array<std::string_view, 3> kOwnerKinds = {"bot", "queue", "agent"};
constexpr std::array<std::string_view, 7> kEventKinds = {
    "message", "message_updated", "read", "status", "handoff", "conversation", "gap"};
constexpr std::array<std::string_view, 3> kRecoverability = {"recoverable", "permanent", "auth"};

}  // namespace

std::string_view to_string(RichKind k) {
  return name_of(kRichKinds, k);
}
std::optional<RichKind> rich_kind_from_string(std::string_view s) {
  return value_of<RichKind>(kRichKinds, s);
}
std::string_view to_string(ControlOwner::Kind k) {
  return name_of(kOwnerKinds, k);
}
std::optional<ControlOwner::Kind> owner_kind_from_string(std::string_view s) {
  return value_of<ControlOwner::Kind>(kOwnerKinds, s);
}

namespace protocol {

std::string_view to_string(EventKind k) {
  return name_of(kEventKinds, k);
}

namespace {

// Limits beyond the public ones (documented in docs/protocol.md, "Limits").
constexpr std::size_t kMaxLabelBytes = 256;   // names, labels, titles, mime, addresses
constexpr std::size_t kMaxUrlBytes = 2048;    // url, image, blob_ref
constexpr std::size_t kMaxTokenBytes = 4096;  // token, resume_token, merge_token
constexpr std::size_t kMaxRichItems = 10;     // options, items, fields, buttons
constexpr std::size_t kMaxSelectOptions = 100;
constexpr std::size_t kMaxChannels = 64;
constexpr std::int64_t kMaxSyncLimit = 1000;
constexpr int kMaxJsonDepth = 10;  // free-form payload / event objects
constexpr std::int64_t kI64Max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kI64Min = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kIntMax = std::numeric_limits<int>::max();
constexpr std::size_t kNoIndex = static_cast<std::size_t>(-1);

std::optional<EventKind> event_kind_from_string(std::string_view s) {
  return value_of<EventKind>(kEventKinds, s);
}
std::optional<Recoverability> recoverability_from_string(std::string_view s) {
  return value_of<Recoverability>(kRecoverability, s);
}

// String field classes: maximum size in bytes, and whether a required one may be empty.
enum class Str { Id, Label, Text, Url, Token, MessageText };
struct StrRule {
  std::size_t max;
  bool nonempty;
  const char* what;
};
StrRule rule_of(Str s) {
  switch (s) {
    case Str::Id:
      return {kMaxIdBytes, true, "expected an identifier of 1..128 bytes"};
    case Str::Label:
      return {kMaxLabelBytes, false, "expected a string of at most 256 bytes"};
    case Str::Url:
      return {kMaxUrlBytes, false, "expected a string of at most 2048 bytes"};
    case Str::Token:
      return {kMaxTokenBytes, false, "expected a string of at most 4096 bytes"};
    case Str::Text:
    case Str::MessageText:
      break;
  }
  return {kMaxTextBytes, false, "expected a string of at most 8192 bytes"};
}

// ------------------------------------------------------------------ JSON value adapters
// The field rules below are written against a small adapter over RapidJSON (parsed into an
// arena: several times faster than building an nlohmann DOM). Frames and stored records both
// go through it; structured values kept verbatim (payload, event) become nlohmann::json.
enum class IntRead { Ok, NotInt, OutOfRange };

using RapidValue = rapidjson::Value;

struct RapidValues {
  using Value = RapidValue;
  static const Value* find(const Value& obj, std::string_view key) {
    const rapidjson::Value k(rapidjson::StringRef(key.data(), key.size()));
    auto it = obj.FindMember(k);
    return it == obj.MemberEnd() ? nullptr : &it->value;
  }
  static bool is_null(const Value& v) { return v.IsNull(); }
  static bool is_object(const Value& v) { return v.IsObject(); }
  static bool is_array(const Value& v) { return v.IsArray(); }
  static bool is_structured(const Value& v) { return v.IsObject() || v.IsArray(); }
  static std::size_t size(const Value& v) {
    return v.IsArray() ? v.Size() : v.IsObject() ? v.MemberCount() : 0;
  }
  static const Value& at(const Value& arr, std::size_t i) {
    return arr[static_cast<rapidjson::SizeType>(i)];
  }
  static std::optional<std::string_view> str(const Value& v) {
    if (!v.IsString()) return std::nullopt;
    return std::string_view(v.GetString(), v.GetStringLength());
  }
  static std::optional<bool> boolean(const Value& v) {
    if (!v.IsBool()) return std::nullopt;
    return v.GetBool();
  }
  static IntRead integer(const Value& v, std::int64_t& out) {
    if (v.IsInt64()) {
      out = v.GetInt64();
      return IntRead::Ok;
    }
    if (v.IsUint64()) return IntRead::OutOfRange;  // above the int64 range
    return IntRead::NotInt;
  }
  template <class F>
  static void each(const Value& v, F&& f) {
    if (v.IsArray()) {
      for (const auto& e : v.GetArray()) f(e);
    } else if (v.IsObject()) {
      for (const auto& m : v.GetObject()) f(m.value);
    }
  }
  // Only called on values already checked by too_deep, so the recursion is bounded.
  static Json to_json(const Value& v) {
    switch (v.GetType()) {
      case rapidjson::kNullType:
        return nullptr;
      case rapidjson::kFalseType:
        return false;
      case rapidjson::kTrueType:
        return true;
      case rapidjson::kStringType:
        return std::string(v.GetString(), v.GetStringLength());
      case rapidjson::kNumberType:
        if (v.IsInt64()) return v.GetInt64();
        if (v.IsUint64()) return v.GetUint64();
        return v.GetDouble();
      case rapidjson::kArrayType: {
        Json out = Json::array();
        for (const auto& e : v.GetArray()) out.push_back(to_json(e));
        return out;
      }
      case rapidjson::kObjectType: {
        Json out = Json::object();
        for (const auto& m : v.GetObject()) {
          out[std::string(m.name.GetString(), m.name.GetStringLength())] = to_json(m.value);
        }
        return out;
      }
    }
    return nullptr;
  }
};

template <class A>
bool too_deep(const typename A::Value& v, int levels_left) {
  if (!A::is_structured(v)) return false;
  if (levels_left == 0) return true;
  bool deep = false;
  A::each(v, [&](const typename A::Value& e) { deep = deep || too_deep<A>(e, levels_left - 1); });
  return deep;
}

// A checked view of one JSON object. The first problem found is recorded in the shared
// `err`; afterwards every read is a no-op returning a default, so parsers read linearly.
// Paths ("events.events[2].message.seq") are only built when an error is recorded.
template <class A>
class BasicReader {
 public:
  using Adapter = A;
  using Value = typename A::Value;

  BasicReader(const Value& obj, std::optional<Error>& err, std::string_view name,
              const BasicReader* parent = nullptr, std::size_t index = kNoIndex)
      : j_(obj), err_(err), name_(name), parent_(parent), index_(index) {}

  bool ok() const { return !err_.has_value(); }
  BasicReader child(const Value& obj, std::string_view key, std::size_t index = kNoIndex) const {
    return BasicReader(obj, err_, key, this, index);
  }

  void fail(ErrorCode code, std::string_view field, std::string_view why,
            std::size_t index = kNoIndex) const {
    if (err_) return;
    std::string msg;
    if (code == ErrorCode::MissingField) {
      msg = "missing field ";
    } else if (code == ErrorCode::InvalidField) {
      msg = "invalid field ";
    }
    msg += path(field, index);
    if (!why.empty()) {
      msg += ": ";
      msg += why;
    }
    err_ = make_error(code, std::move(msg));
  }

  // The field's value, or nullptr when absent or null (null counts as absent).
  const Value* get(std::string_view key, bool required) const {
    if (!ok()) return nullptr;
    const Value* v = A::find(j_, key);
    if (!v || A::is_null(*v)) {
      if (required) fail(ErrorCode::MissingField, key, {});
      return nullptr;
    }
    return v;
  }

  std::string str(std::string_view key, Str kind, bool required = true) const {
    const Value* v = get(key, required);
    if (!v) return {};
    const auto s = A::str(*v);
    if (!s) {
      fail(ErrorCode::InvalidField, key, "expected a string");
      return {};
    }
    const StrRule rule = rule_of(kind);
    if (kind == Str::MessageText && s->size() > rule.max) {
      fail(ErrorCode::MessageTooLong, key, "longer than 8192 bytes");
      return {};
    }
    if (s->size() > rule.max || (required && rule.nonempty && s->empty())) {
      fail(ErrorCode::InvalidField, key, rule.what);
      return {};
    }
    return std::string(*s);
  }

  std::int64_t num(std::string_view key, std::int64_t min, std::int64_t max, bool required = true,
                   std::int64_t def = 0) const {
    const Value* v = get(key, required);
    if (!v) return def;
    std::int64_t n = 0;
    switch (A::integer(*v, n)) {
      case IntRead::Ok:
        break;
      case IntRead::OutOfRange:
        fail(ErrorCode::InvalidField, key, "integer out of range");
        return def;
      case IntRead::NotInt:
        fail(ErrorCode::InvalidField, key, "expected an integer");
        return def;
    }
    if (n < min || n > max) {
      std::string why = "expected an integer in ";
      why += std::to_string(min) + ".." + std::to_string(max);
      fail(ErrorCode::InvalidField, key, why);
      return def;
    }
    return n;
  }
  int small(std::string_view key, std::int64_t min, bool required = true, int def = 0) const {
    return static_cast<int>(num(key, min, kIntMax, required, def));
  }

  bool flag(std::string_view key, bool required = true) const {
    const Value* v = get(key, required);
    if (!v) return false;
    const auto b = A::boolean(*v);
    if (!b) {
      fail(ErrorCode::InvalidField, key, "expected a boolean");
      return false;
    }
    return *b;
  }

  template <class E>
  E enm(std::string_view key, std::optional<E> (*from)(std::string_view), E def,
        bool required = true) const {
    const Value* v = get(key, required);
    if (!v) return def;
    const auto s = A::str(*v);
    if (!s) {
      fail(ErrorCode::InvalidField, key, "expected a string");
      return def;
    }
    if (auto e = from(*s)) return *e;
    fail(ErrorCode::InvalidField, key, "unknown value");
    return def;
  }

  const Value* object(std::string_view key, bool required = true) const {
    const Value* v = get(key, required);
    if (v && !A::is_object(*v)) {
      fail(ErrorCode::InvalidField, key, "expected an object");
      return nullptr;
    }
    return v;
  }

  const Value* array(std::string_view key, std::size_t min, std::size_t max,
                     bool required = true) const {
    const Value* v = get(key, required);
    if (!v) return nullptr;
    if (!A::is_array(*v)) {
      fail(ErrorCode::InvalidField, key, "expected an array");
      return nullptr;
    }
    if (A::size(*v) < min || A::size(*v) > max) {
      std::string why = "expected " + std::to_string(min) + ".." + std::to_string(max);
      fail(ErrorCode::InvalidField, key, why + " elements");
      return nullptr;
    }
    return v;
  }

  // Calls f(Reader, index) for each element of the array field `key`; elements must be objects.
  template <class F>
  void each_object(std::string_view key, const Value& arr, F&& f) const {
    const std::size_t n = A::size(arr);
    for (std::size_t i = 0; i < n; ++i) {
      if (!ok()) return;
      const Value& e = A::at(arr, i);
      if (!A::is_object(e)) {
        fail(ErrorCode::InvalidField, key, "expected an object", i);
        return;
      }
      f(child(e, key, i), i);
    }
  }

  // Structured values kept verbatim (payload, event): depth-checked, then as nlohmann::json.
  static bool too_deep(const Value& v, int levels) {
    return parley::protocol::too_deep<A>(v, levels);
  }
  static bool is_object(const Value& v) { return A::is_object(v); }
  static std::size_t size(const Value& v) { return A::size(v); }
  static const Value& at(const Value& arr, std::size_t i) { return A::at(arr, i); }
  static std::optional<std::string_view> as_str(const Value& v) { return A::str(v); }
  static Json to_json(const Value& v) { return A::to_json(v); }

 private:
  static void append_segment(std::string& out, std::string_view name, std::size_t index) {
    if (name.empty() && index == kNoIndex) return;
    if (!out.empty()) out += '.';
    out += name;
    if (index != kNoIndex) out += "[" + std::to_string(index) + "]";
  }
  std::string path(std::string_view field, std::size_t index) const {
    std::string prefix;
    if (parent_)
      prefix = parent_->path(name_, index_);
    else
      append_segment(prefix, name_, index_);
    append_segment(prefix, field, index);
    return prefix;
  }

  const Value& j_;
  std::optional<Error>& err_;
  std::string_view name_;
  const BasicReader* parent_;
  std::size_t index_;
};

using WireReader = BasicReader<RapidValues>;  // frames, and stored records (read_root)

// ------------------------------------------------------------------ model parsers
template <class Reader>
void read_participant(const Reader& r, Participant& p) {
  p.role = r.enm("role", role_from_string, Role::Visitor);
  p.id = r.str("id", Str::Id, false);
  p.name = r.str("name", Str::Label, false);
}

template <class Reader>
void read_attachment(const Reader& r, Attachment& a) {
  a.id = r.str("id", Str::Id);
  a.name = r.str("name", Str::Label);
  a.mime = r.str("mime", Str::Label);
  a.size = r.num("size", 0, kI64Max);
  a.blob_ref = r.str("blob_ref", Str::Url, false);
  a.url = r.str("url", Str::Url, false);
}

template <class Reader>
void read_owner(const Reader& r, ControlOwner& o) {
  o.kind = r.enm("kind", owner_kind_from_string, ControlOwner::Kind::Bot);
  o.agent_id = r.str("agent_id", Str::Id, false);
  o.agent_name = r.str("agent_name", Str::Label, false);
  o.queue_position = r.small("queue_position", 0, false);
}

template <class Reader>
void read_binding(const Reader& r, ChannelBinding& c) {
  c.channel = r.enm("channel", channel_from_string, Channel::Web);
  c.address = r.str("address", Str::Label);
  c.active = r.flag("active");
  c.since = r.num("since", 0, kI64Max);
}

// Rich payloads: validated per kind, then kept verbatim (unknown extra fields included).
template <class Reader>
void read_options(const Reader& r, std::string_view key, std::size_t min, bool required) {
  if (const auto* a = r.array(key, min, kMaxRichItems, required)) {
    r.each_object(key, *a, [](const Reader& o, std::size_t) {
      o.str("id", Str::Id);
      o.str("label", Str::Label);
      o.str("value", Str::Text, false);
      o.str("url", Str::Url, false);
    });
  }
}

template <class Reader>
void read_form_field(const Reader& f) {
  f.str("name", Str::Id);
  f.str("label", Str::Label);
  const std::string type = f.str("type", Str::Label);
  const bool select = type == "select";
  if (f.ok() && !select && type != "text" && type != "email" && type != "number") {
    f.fail(ErrorCode::InvalidField, "type", "expected text, email, number or select");
  }
  if (const auto* opts = f.array("options", select ? 1 : 0, kMaxSelectOptions, select)) {
    const std::size_t n = Reader::size(*opts);
    for (std::size_t i = 0; i < n; ++i) {
      const auto s = Reader::as_str(Reader::at(*opts, i));
      if (!s || s->size() > kMaxLabelBytes) {
        f.fail(ErrorCode::InvalidField, "options", "expected a string of at most 256 bytes", i);
        break;
      }
    }
  }
  f.flag("required", false);
}

template <class Reader>
void check_payload(const Reader& p, RichKind kind) {
  switch (kind) {
    case RichKind::None:
      break;
    case RichKind::QuickReplies:
    case RichKind::Buttons:
      read_options(p, "options", 1, true);
      break;
    case RichKind::Carousel:
      if (const auto* items = p.array("items", 1, kMaxRichItems)) {
        p.each_object("items", *items, [](const Reader& it, std::size_t) {
          it.str("title", Str::Label);
          it.str("subtitle", Str::Text, false);
          it.str("image", Str::Url, false);
          read_options(it, "buttons", 0, false);
        });
      }
      break;
    case RichKind::Form:
      if (const auto* fields = p.array("fields", 1, kMaxRichItems)) {
        p.each_object("fields", *fields, [](const Reader& f, std::size_t) { read_form_field(f); });
      }
      break;
    case RichKind::Csat:
      if (p.num("scale", 3, 5) == 4) p.fail(ErrorCode::InvalidField, "scale", "expected 3 or 5");
      p.str("question", Str::Text, false);
      break;
  }
}

template <class Reader>
void read_body(const Reader& r, Body& b) {
  b.text = r.str("text", Str::MessageText, false);
  b.rich = r.enm("rich", rich_kind_from_string, RichKind::None, false);
  const auto* payload = r.get("payload", false);
  if (b.rich == RichKind::None) {
    if (payload) r.fail(ErrorCode::InvalidField, "payload", "must be absent when rich is none");
  } else if (!payload) {
    r.fail(ErrorCode::MissingField, "payload", {});
  } else if (!Reader::is_object(*payload)) {
    r.fail(ErrorCode::InvalidField, "payload", "expected an object");
  } else {
    check_payload(r.child(*payload, "payload"), b.rich);
    if (r.ok() && Reader::too_deep(*payload, kMaxJsonDepth)) {
      r.fail(ErrorCode::InvalidField, "payload", "nested too deeply");
    }
    if (r.ok()) b.payload = Reader::to_json(*payload);
  }
  if (const auto* atts = r.array("attachments", 0, kMaxAttachments, false)) {
    b.attachments.resize(Reader::size(*atts));
    r.each_object("attachments", *atts,
                  [&b](const Reader& a, std::size_t i) { read_attachment(a, b.attachments[i]); });
  }
  if (const auto* ev = r.object("event", false)) {
    if (Reader::too_deep(*ev, kMaxJsonDepth)) {
      r.fail(ErrorCode::InvalidField, "event", "nested too deeply");
    } else {
      b.event = Reader::to_json(*ev);
    }
  }
}

template <class Reader>
void read_message(const Reader& r, Message& m) {
  m.conv = r.str("conv", Str::Id);
  m.seq = r.num("seq", 1, kI64Max);
  m.id = r.str("id", Str::Id);
  m.cid = r.str("cid", Str::Id, false);
  m.ticket = r.small("ticket", 1);
  m.ts = r.num("ts", 0, kI64Max);
  if (const auto* a = r.object("author")) read_participant(r.child(*a, "author"), m.author);
  if (const auto* b = r.object("body")) read_body(r.child(*b, "body"), m.body);
  m.edited_ts = r.num("edited_ts", 0, kI64Max, false);
  m.deleted = r.flag("deleted", false);
}

template <class Reader>
void read_channels(const Reader& r, std::vector<ChannelBinding>& out) {
  if (const auto* a = r.array("channels", 0, kMaxChannels)) {
    out.resize(Reader::size(*a));
    r.each_object("channels", *a,
                  [&out](const Reader& c, std::size_t i) { read_binding(c, out[i]); });
  }
}

template <class Reader>
void read_event_message(const Reader& r, Event& e) {
  if (const auto* m = r.object("message")) {
    read_message(r.child(*m, "message"), e.message);
    if (r.ok() && e.message.conv != e.conv) {
      r.fail(ErrorCode::InvalidField, "message.conv", "differs from the event's conv");
    }
  }
}

template <class Reader>
void read_event(const Reader& r, Event& e) {
  e.kind = r.enm("kind", event_kind_from_string, EventKind::Message);
  e.cursor = r.num("cursor", 0, kI64Max);
  e.conv = r.str("conv", Str::Id);
  if (!r.ok()) return;
  switch (e.kind) {
    case EventKind::Message:
    case EventKind::MessageUpdated:
      read_event_message(r, e);
      break;
    case EventKind::Read:
      e.reader = r.enm("reader", role_from_string, Role::Agent);
      e.seq = r.num("seq", 0, kI64Max);
      e.delivered_only = r.flag("delivered");
      break;
    case EventKind::Status:
      e.status = r.enm("status", status_from_string, Status::New);
      e.ticket = r.small("ticket", 1, true, 1);
      break;
    case EventKind::Handoff:
      read_event_message(r, e);
      if (const auto* o = r.object("owner")) read_owner(r.child(*o, "owner"), e.owner);
      read_channels(r, e.channels);
      e.resume_token = r.str("resume_token", Str::Token, false);
      break;
    case EventKind::Conversation:
      e.status = r.enm("status", status_from_string, Status::New);
      e.ticket = r.small("ticket", 1, true, 1);
      e.style = r.enm("style", style_from_string, ConversationalStyle::SocialMessaging);
      if (const auto* o = r.object("owner")) read_owner(r.child(*o, "owner"), e.owner);
      read_channels(r, e.channels);
      e.subject = r.str("subject", Str::Text, false);
      e.last_seq = r.num("last_seq", 0, kI64Max);
      break;
    case EventKind::Gap:
      e.gap.from = r.num("from", 1, kI64Max);
      e.gap.to = r.num("to", e.gap.from > 0 ? e.gap.from : 1, kI64Max);
      break;
  }
}

// ------------------------------------------------------------------ frame parsers
template <class Reader>
int read_version(const Reader& r) {
  const std::int64_t v = r.num("v", kI64Min, kI64Max);
  if (r.ok() && v != kVersion) {
    r.fail(ErrorCode::UnsupportedVersion, "v", "this side speaks protocol version 1 only");
  }
  return kVersion;
}

template <class Reader>
ClientFrame read_hello(const Reader& r) {
  Hello h;
  h.version = read_version(r);
  h.token = r.str("token", Str::Token, false);
  h.cursor = r.num("cursor", 0, kI64Max);
  h.device = r.str("device", Str::Id);
  h.resume_token = r.str("resume_token", Str::Token, false);
  h.merge_token = r.str("merge_token", Str::Token, false);
  return h;
}
template <class Reader>
ClientFrame read_send(const Reader& r) {
  Send s;
  s.req = r.str("req", Str::Id);
  s.conv = r.str("conv", Str::Id);
  s.cid = r.str("cid", Str::Id);
  if (const auto* b = r.object("body")) read_body(r.child(*b, "body"), s.body);
  return s;
}
template <class Reader>
ClientFrame read_upload(const Reader& r) {
  Upload u;
  u.req = r.str("req", Str::Id);
  u.conv = r.str("conv", Str::Id);
  u.cid = r.str("cid", Str::Id);
  if (const auto* a = r.object("attachment")) {
    read_attachment(r.child(*a, "attachment"), u.attachment);
  }
  return u;
}
template <class Reader>
ClientFrame read_history(const Reader& r) {
  History h;
  h.req = r.str("req", Str::Id);
  h.conv = r.str("conv", Str::Id);
  h.before = r.num("before", 0, kI64Max, false);
  h.after = r.num("after", 0, kI64Max, false, -1);  // absent: no lower bound
  h.limit = static_cast<int>(r.num("limit", 1, static_cast<std::int64_t>(kMaxPageLimit)));
  return h;
}
template <class Reader>
ClientFrame read_sync(const Reader& r) {
  Sync s;
  s.req = r.str("req", Str::Id);
  s.after = r.num("after", 0, kI64Max);
  s.limit = static_cast<int>(r.num("limit", 1, kMaxSyncLimit));
  return s;
}
template <class Reader>
ClientFrame read_mark_read(const Reader& r) {
  MarkRead m;
  m.conv = r.str("conv", Str::Id);
  m.seq = r.num("seq", 0, kI64Max);
  return m;
}
template <class Reader>
ClientFrame read_typing(const Reader& r) {
  Typing t;
  t.conv = r.str("conv", Str::Id);
  t.on = r.flag("on");
  return t;
}
template <class Reader>
ClientFrame read_handoff(const Reader& r) {
  HandoffRequest h;
  h.req = r.str("req", Str::Id);
  h.conv = r.str("conv", Str::Id);
  h.channel = r.enm("channel", channel_from_string, Channel::Web);
  h.address = r.str("address", Str::Label);
  return h;
}
template <class Reader>
ClientFrame read_engagement(const Reader& r) {
  Engagement e;
  e.level = r.str("level", Str::Label);
  if (r.ok() && e.level != "high" && e.level != "medium" && e.level != "low" && e.level != "away") {
    r.fail(ErrorCode::InvalidField, "level", "expected high, medium, low or away");
  }
  e.reply_latency_ms = r.num("reply_latency_ms", 0, kI64Max);
  e.present = r.flag("present");
  return e;
}
template <class Reader>
ClientFrame read_ping(const Reader& r) {
  return Ping{r.str("req", Str::Id)};
}

template <class Reader>
ServerFrame read_welcome(const Reader& r) {
  Welcome w;
  w.version = read_version(r);
  w.user = r.str("user", Str::Id);
  w.token = r.str("token", Str::Token);
  w.cursor = r.num("cursor", 0, kI64Max);
  w.server_time = r.num("server_time", 0, kI64Max);
  if (const auto* a = r.object("availability", false)) {
    const Reader av = r.child(*a, "availability");
    hours::Availability out;
    out.open = av.flag("open");
    out.expected_reply_ms = av.num("reply_ms", 0, kI64Max);
    out.next_change_ts = av.num("next_change", 0, kI64Max, false);
    w.availability = out;
  }
  return w;
}
template <class Reader>
ServerFrame read_ack(const Reader& r) {
  Ack a;
  a.req = r.str("req", Str::Id);
  a.cid = r.str("cid", Str::Id, false);
  a.conv = r.str("conv", Str::Id);
  a.id = r.str("id", Str::Id, false);
  a.seq = r.num("seq", 0, kI64Max, false);
  a.ts = r.num("ts", 0, kI64Max);
  a.url = r.str("url", Str::Url, false);
  return a;
}
template <class Reader>
ServerFrame read_error(const Reader& r) {
  ErrorFrame e;
  e.req = r.str("req", Str::Id, false);
  e.error.code = r.enm("code", error_code_from_string, ErrorCode::ServerError);
  e.error.recoverability =
      r.enm("recoverable", recoverability_from_string, Recoverability::Permanent);
  e.error.message = r.str("message", Str::Text);
  return e;
}
template <class Reader>
ServerFrame read_events(const Reader& r) {
  Events ev;
  ev.req = r.str("req", Str::Id, false);
  ev.from = r.num("from", 0, kI64Max);
  ev.cursor = r.num("cursor", ev.from, kI64Max);
  ev.more = r.flag("more");
  if (const auto* a = r.array("events", 0, std::numeric_limits<std::size_t>::max())) {
    ev.events.resize(Reader::size(*a));
    Cursor prev = ev.from;
    r.each_object("events", *a, [&](const Reader& e, std::size_t i) {
      read_event(e, ev.events[i]);
      const Cursor c = ev.events[i].cursor;
      if (e.ok() && (c <= prev || c > ev.cursor)) {
        e.fail(ErrorCode::InvalidField, "cursor", "must increase after from, up to cursor");
      }
      prev = c;
    });
  }
  return ev;
}
template <class Reader>
ServerFrame read_page(const Reader& r) {
  Page p;
  p.req = r.str("req", Str::Id);
  p.conv = r.str("conv", Str::Id);
  if (const auto* a = r.array("messages", 0, std::numeric_limits<std::size_t>::max())) {
    p.messages.resize(Reader::size(*a));
    r.each_object("messages", *a, [&p](const Reader& m, std::size_t i) {
      read_message(m, p.messages[i]);
      if (m.ok() && p.messages[i].conv != p.conv) {
        m.fail(ErrorCode::InvalidField, "conv", "differs from the page's conv");
      } else if (m.ok() && i > 0 && p.messages[i].seq <= p.messages[i - 1].seq) {
        m.fail(ErrorCode::InvalidField, "seq", "messages must ascend by seq");
      }
    });
  }
  p.complete = r.flag("complete");
  p.next = r.num("next", 0, kI64Max, false);
  return p;
}
template <class Reader>
ServerFrame read_reset(const Reader& r) {
  Reset s;
  s.cursor = r.num("cursor", 0, kI64Max);
  if (const auto* a = r.array("conversations", 0, std::numeric_limits<std::size_t>::max())) {
    s.conversations.resize(Reader::size(*a));
    r.each_object("conversations", *a, [&s](const Reader& e, std::size_t i) {
      read_event(e, s.conversations[i]);
      if (e.ok() && s.conversations[i].kind != EventKind::Conversation) {
        e.fail(ErrorCode::InvalidField, "kind", "expected conversation");
      }
    });
  }
  return s;
}
template <class Reader>
ServerFrame read_signal(const Reader& r) {
  Signal s;
  s.conv = r.str("conv", Str::Id);
  s.kind = r.str("kind", Str::Label);
  if (r.ok() && s.kind != "typing" && s.kind != "presence") {
    r.fail(ErrorCode::InvalidField, "kind", "expected typing or presence");
  }
  if (const auto* w = r.object("who")) read_participant(r.child(*w, "who"), s.who);
  s.on = r.flag("on");
  return s;
}
template <class Reader>
ServerFrame read_pong(const Reader& r) {
  Pong p;
  p.req = r.str("req", Str::Id);
  p.server_time = r.num("server_time", 0, kI64Max);
  return p;
}

template <class Frame>
struct FrameType {
  std::string_view name;
  Frame (*read)(const WireReader&);
};
constexpr std::array<FrameType<ClientFrame>, 10> kClientFrames = {{
    {"hello", read_hello<WireReader>},
    {"send", read_send<WireReader>},
    {"upload", read_upload<WireReader>},
    {"history", read_history<WireReader>},
    {"sync", read_sync<WireReader>},
    {"read", read_mark_read<WireReader>},
    {"typing", read_typing<WireReader>},
    {"handoff", read_handoff<WireReader>},
    {"engagement", read_engagement<WireReader>},
    {"ping", read_ping<WireReader>},
}};
constexpr std::array<FrameType<ServerFrame>, 8> kServerFrames = {{
    {"welcome", read_welcome<WireReader>},
    {"ack", read_ack<WireReader>},
    {"error", read_error<WireReader>},
    {"events", read_events<WireReader>},
    {"page", read_page<WireReader>},
    {"reset", read_reset<WireReader>},
    {"signal", read_signal<WireReader>},
    {"pong", read_pong<WireReader>},
}};

template <class Frame>
Decoded<Frame> failed(Error e) {
  return Decoded<Frame>{std::variant<Frame, Error>(std::in_place_index<1>, std::move(e))};
}

template <class Frame, std::size_t N>
Decoded<Frame> decode_frame(std::string_view text, const std::array<FrameType<Frame>, N>& table,
                            const char* side) {
  if (text.size() > kMaxFrameBytes) {
    return failed<Frame>(make_error(ErrorCode::FrameTooLarge,
                                    "frame of " + std::to_string(text.size()) + " bytes exceeds " +
                                        std::to_string(kMaxFrameBytes)));
  }
  // RapidJSON into an arena; strict UTF-8, iterative (no recursion on deep input).
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(text.data(),
                                                                                    text.size());
  if (doc.HasParseError()) return failed<Frame>(make_error(ErrorCode::MalformedFrame, "not JSON"));
  if (!doc.IsObject()) {
    return failed<Frame>(make_error(ErrorCode::MalformedFrame, "a frame must be a JSON object"));
  }
  const RapidValue* type_v = RapidValues::find(doc, "type");
  if (!type_v || type_v->IsNull()) {
    return failed<Frame>(make_error(ErrorCode::MissingField, "missing field type"));
  }
  const auto type_s = RapidValues::str(*type_v);
  if (!type_s) {
    return failed<Frame>(
        make_error(ErrorCode::InvalidField, "invalid field type: expected a string"));
  }
  const std::string_view type = *type_s;
  std::optional<Error> err;
  for (const auto& t : table) {
    if (t.name != type) continue;
    Frame f = t.read(WireReader(doc, err, t.name));
    if (err) return failed<Frame>(std::move(*err));
    return Decoded<Frame>{std::variant<Frame, Error>(std::in_place_index<0>, std::move(f))};
  }
  std::string msg = "unknown ";
  msg += side;
  msg += " frame type";
  if (!type.empty() && type.size() <= 32) {
    msg += " \"";
    msg += type;
    msg += '"';
  }
  return failed<Frame>(make_error(ErrorCode::UnknownFrameType, std::move(msg)));
}

// ------------------------------------------------------------------ encoders
std::string str_of(std::string_view s) {
  return std::string(s);
}
void put_opt(Json& j, const char* key, const std::string& s) {
  if (!s.empty()) j[key] = s;
}
void put_opt(Json& j, const char* key, std::int64_t n) {
  if (n != 0) j[key] = n;
}
template <class T>
Json array_of(const std::vector<T>& items) {
  Json a = Json::array();
  for (const auto& x : items) a.push_back(to_json(x));
  return a;
}
std::string dump(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json typed(const char* type) {
  Json j = Json::object();
  j["type"] = type;
  return j;
}

Json event_json(const Event& e) {
  Json j = Json::object();
  j["kind"] = str_of(to_string(e.kind));
  j["cursor"] = e.cursor;
  j["conv"] = e.conv;
  switch (e.kind) {
    case EventKind::Message:
    case EventKind::MessageUpdated:
      j["message"] = to_json(e.message);
      break;
    case EventKind::Read:
      j["reader"] = str_of(to_string(e.reader));
      j["seq"] = e.seq;
      j["delivered"] = e.delivered_only;
      break;
    case EventKind::Status:
      j["status"] = str_of(to_string(e.status));
      j["ticket"] = e.ticket;
      break;
    case EventKind::Handoff:
      j["message"] = to_json(e.message);
      j["owner"] = to_json(e.owner);
      j["channels"] = array_of(e.channels);
      put_opt(j, "resume_token", e.resume_token);
      break;
    case EventKind::Conversation:
      j["status"] = str_of(to_string(e.status));
      j["ticket"] = e.ticket;
      j["style"] = str_of(to_string(e.style));
      j["owner"] = to_json(e.owner);
      j["channels"] = array_of(e.channels);
      put_opt(j, "subject", e.subject);
      j["last_seq"] = e.last_seq;
      break;
    case EventKind::Gap:
      j["from"] = e.gap.from;
      j["to"] = e.gap.to;
      break;
  }
  return j;
}
Json events_json(const std::vector<Event>& events) {
  Json a = Json::array();
  for (const auto& e : events) a.push_back(event_json(e));
  return a;
}

Json frame_json(const Hello& f) {
  Json j = typed("hello");
  j["v"] = f.version;
  j["token"] = f.token;  // always written, may be empty (= ask for an anonymous token)
  j["cursor"] = f.cursor;
  j["device"] = f.device;
  put_opt(j, "resume_token", f.resume_token);
  put_opt(j, "merge_token", f.merge_token);
  return j;
}
Json frame_json(const Send& f) {
  Json j = typed("send");
  j["req"] = f.req;
  j["conv"] = f.conv;
  j["cid"] = f.cid;
  j["body"] = to_json(f.body);
  return j;
}
Json frame_json(const Upload& f) {
  Json j = typed("upload");
  j["req"] = f.req;
  j["conv"] = f.conv;
  j["cid"] = f.cid;
  j["attachment"] = to_json(f.attachment);
  return j;
}
Json frame_json(const History& f) {
  Json j = typed("history");
  j["req"] = f.req;
  j["conv"] = f.conv;
  put_opt(j, "before", f.before);
  if (f.after >= 0) j["after"] = f.after;  // 0 is a real bound: "from the first message"
  j["limit"] = f.limit;
  return j;
}
Json frame_json(const Sync& f) {
  Json j = typed("sync");
  j["req"] = f.req;
  j["after"] = f.after;
  j["limit"] = f.limit;
  return j;
}
Json frame_json(const MarkRead& f) {
  Json j = typed("read");
  j["conv"] = f.conv;
  j["seq"] = f.seq;
  return j;
}
Json frame_json(const Typing& f) {
  Json j = typed("typing");
  j["conv"] = f.conv;
  j["on"] = f.on;
  return j;
}
Json frame_json(const HandoffRequest& f) {
  Json j = typed("handoff");
  j["req"] = f.req;
  j["conv"] = f.conv;
  j["channel"] = str_of(to_string(f.channel));
  j["address"] = f.address;
  return j;
}
Json frame_json(const Engagement& f) {
  Json j = typed("engagement");
  j["level"] = f.level;
  j["reply_latency_ms"] = f.reply_latency_ms;
  j["present"] = f.present;
  return j;
}
Json frame_json(const Ping& f) {
  Json j = typed("ping");
  j["req"] = f.req;
  return j;
}

Json frame_json(const Welcome& f) {
  Json j = typed("welcome");
  j["v"] = f.version;
  j["user"] = f.user;
  j["token"] = f.token;
  j["cursor"] = f.cursor;
  j["server_time"] = f.server_time;
  if (f.availability) j["availability"] = to_json(*f.availability);
  return j;
}
Json frame_json(const Ack& f) {
  Json j = typed("ack");
  j["req"] = f.req;
  put_opt(j, "cid", f.cid);
  j["conv"] = f.conv;
  put_opt(j, "id", f.id);
  put_opt(j, "seq", f.seq);
  j["ts"] = f.ts;
  put_opt(j, "url", f.url);
  return j;
}
Json frame_json(const ErrorFrame& f) {
  Json j = typed("error");
  put_opt(j, "req", f.req);
  j["code"] = str_of(to_string(f.error.code));
  j["recoverable"] = str_of(name_of(kRecoverability, f.error.recoverability));
  j["message"] = f.error.message;
  return j;
}
Json frame_json(const Events& f) {
  Json j = typed("events");
  put_opt(j, "req", f.req);
  j["from"] = f.from;
  j["cursor"] = f.cursor;
  j["more"] = f.more;
  j["events"] = events_json(f.events);
  return j;
}
Json frame_json(const Page& f) {
  Json j = typed("page");
  j["req"] = f.req;
  j["conv"] = f.conv;
  j["messages"] = array_of(f.messages);
  j["complete"] = f.complete;
  put_opt(j, "next", f.next);
  return j;
}
Json frame_json(const Reset& f) {
  Json j = typed("reset");
  j["cursor"] = f.cursor;
  j["conversations"] = events_json(f.conversations);
  return j;
}
Json frame_json(const Signal& f) {
  Json j = typed("signal");
  j["conv"] = f.conv;
  j["kind"] = f.kind;
  j["who"] = to_json(f.who);
  j["on"] = f.on;
  return j;
}
Json frame_json(const Pong& f) {
  Json j = typed("pong");
  j["req"] = f.req;
  j["server_time"] = f.server_time;
  return j;
}

// Parses a standalone object (e.g. a stored record) with the frame parsers.
template <class T, class F>
std::variant<T, Error> read_root(const Json& j, std::string_view name, F read) {
  if (!j.is_object()) {
    return make_error(ErrorCode::InvalidField,
                      "invalid field " + std::string(name) + ": expected an object");
  }
  // The same RapidJSON reader as frames: one instantiation of every field rule (about 2 KB
  // less wasm). Records are small and read on restore and paging only.
  const std::string text = j.dump();
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  std::optional<Error> err;
  T out;
  read(WireReader(doc, err, name), out);
  if (err) return std::move(*err);
  return out;
}

}  // namespace

// ------------------------------------------------------------------ public API
std::string encode(const ClientFrame& f) {
  return dump(std::visit([](const auto& x) { return frame_json(x); }, f));
}
std::string encode(const ServerFrame& f) {
  return dump(std::visit([](const auto& x) { return frame_json(x); }, f));
}
Decoded<ClientFrame> decode_client(std::string_view text) {
  return decode_frame(text, kClientFrames, "client");
}
Decoded<ServerFrame> decode_server(std::string_view text) {
  return decode_frame(text, kServerFrames, "server");
}

Json to_json(const Message& m) {
  Json j = Json::object();
  j["conv"] = m.conv;
  j["seq"] = m.seq;
  j["id"] = m.id;
  put_opt(j, "cid", m.cid);
  j["ticket"] = m.ticket;
  j["ts"] = m.ts;
  j["author"] = to_json(m.author);
  j["body"] = to_json(m.body);
  put_opt(j, "edited_ts", m.edited_ts);
  if (m.deleted) j["deleted"] = true;
  return j;
}
Json to_json(const Body& b) {
  Json j = Json::object();
  put_opt(j, "text", b.text);
  if (b.rich != RichKind::None) {
    j["rich"] = str_of(to_string(b.rich));
    j["payload"] = b.payload;
  }
  if (!b.attachments.empty()) j["attachments"] = array_of(b.attachments);
  if (!b.event.is_null()) j["event"] = b.event;
  return j;
}
Json to_json(const Participant& p) {
  Json j = Json::object();
  j["role"] = str_of(to_string(p.role));
  put_opt(j, "id", p.id);
  put_opt(j, "name", p.name);
  return j;
}
Json to_json(const Attachment& a) {
  Json j = Json::object();
  j["id"] = a.id;
  j["name"] = a.name;
  j["mime"] = a.mime;
  j["size"] = a.size;
  put_opt(j, "blob_ref", a.blob_ref);
  put_opt(j, "url", a.url);
  return j;
}
Json to_json(const ChannelBinding& c) {
  Json j = Json::object();
  j["channel"] = str_of(to_string(c.channel));
  j["address"] = c.address;
  j["active"] = c.active;
  j["since"] = c.since;
  return j;
}
Json to_json(const Event& e) {
  return event_json(e);
}

Json to_json(const hours::Availability& av) {
  Json a = Json::object();
  a["open"] = av.open;
  a["reply_ms"] = av.expected_reply_ms;
  put_opt(a, "next_change", av.next_change_ts);
  return a;
}

Json to_json(const ControlOwner& o) {
  Json j = Json::object();
  j["kind"] = str_of(to_string(o.kind));
  put_opt(j, "agent_id", o.agent_id);
  put_opt(j, "agent_name", o.agent_name);
  put_opt(j, "queue_position", o.queue_position);
  return j;
}

std::variant<Message, Error> message_from_json(const Json& j) {
  return read_root<Message>(j, "message", read_message<WireReader>);
}
std::variant<Body, Error> body_from_json(const Json& j) {
  return read_root<Body>(j, "body", read_body<WireReader>);
}
std::variant<ControlOwner, Error> owner_from_json(const Json& j) {
  return read_root<ControlOwner>(j, "owner", read_owner<WireReader>);
}
std::variant<ChannelBinding, Error> binding_from_json(const Json& j) {
  return read_root<ChannelBinding>(j, "binding", read_binding<WireReader>);
}

}  // namespace protocol
}  // namespace parley
