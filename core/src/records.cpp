#include "parley/records.hpp"

#include "parley/protocol.hpp"

namespace parley::records {
namespace {

Error corrupt(std::string what) {
  return make_error(ErrorCode::StorageCorrupt, std::move(what));
}

// Small non-throwing accessors over a JSON object.
const Json* field(const Json& j, const char* name) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(name);
  return it == j.end() ? nullptr : &*it;
}
std::string str(const Json& j, const char* name) {
  const Json* f = field(j, name);
  return f && f->is_string() ? f->get<std::string>() : std::string();
}
std::int64_t num(const Json& j, const char* name, std::int64_t dflt = 0) {
  const Json* f = field(j, name);
  return f && f->is_number_integer() ? f->get<std::int64_t>() : dflt;
}
bool flag(const Json& j, const char* name) {
  const Json* f = field(j, name);
  return f && f->is_boolean() && f->get<bool>();
}

}  // namespace

std::string_view to_string(Store s) {
  switch (s) {
    case Store::Meta:
      return "meta";
    case Store::Conversations:
      return "conversations";
    case Store::Messages:
      return "messages";
    case Store::Outbox:
      return "outbox";
    case Store::Blobs:
      return "blobs";
  }
  return "meta";
}

// ------------------------------------------------------------------ encoders
Json to_json(const Meta& m) {
  return Json{{"v", kSchemaVersion},
              {"user", m.user},
              {"device", m.device},
              {"token", m.token},
              {"cursor", m.cursor},
              {"open_conv", m.open_conv},
              {"outbox_counter", m.outbox_counter},
              {"identity_pending", m.identity_pending},
              {"merge_token", m.merge_token}};
}

Json to_json(const Conversation& c) {
  Json gaps = Json::array();
  for (const auto& g : c.gaps) gaps.push_back(Json::array({g.from, g.to}));
  Json channels = Json::array();
  for (const auto& b : c.channels) channels.push_back(protocol::to_json(b));
  return Json{{"v", kSchemaVersion},
              {"id", c.id},
              {"status", to_string(c.status)},
              {"style", to_string(c.style)},
              {"ticket", c.ticket},
              {"subject", c.subject},
              {"owner", protocol::to_json(c.owner)},
              {"channels", std::move(channels)},
              {"created_ts", c.created_ts},
              {"updated_ts", c.updated_ts},
              {"last_seq", c.last_seq},
              {"first_stored_seq", c.first_stored_seq},
              {"stored_count", c.stored_count},
              {"history_complete", c.history_complete},
              {"read_seq", c.read_seq},
              {"agent_read_seq", c.agent_read_seq},
              {"agent_delivered_seq", c.agent_delivered_seq},
              {"gaps", std::move(gaps)},
              {"last_activity_ts", c.last_activity_ts},
              {"unread", c.unread},
              {"preview", c.preview}};
}

Json to_json(const Message& m) {
  Json j = protocol::to_json(m);
  j["v"] = kSchemaVersion;
  return j;
}

Json to_json(const OutboxRecord& o) {
  Json j{{"v", kSchemaVersion},
         {"kind", o.kind == OutboxRecord::Kind::Message ? "message" : "upload"},
         {"cid", o.cid},
         {"conv", o.conv},
         {"order", o.order},
         {"body", protocol::to_json(o.body)},
         {"created_ts", o.created_ts},
         {"attempts", o.attempts},
         {"attempted", o.attempted},
         {"state", o.state == OutboxRecord::State::Pending ? "pending" : "wedged"},
         {"depends_on", o.depends_on}};
  if (o.error) {
    j["error"] = Json{{"code", to_string(o.error->code)},
                      {"recoverable", o.error->recoverable()},
                      {"message", o.error->message}};
  }
  return j;
}

// ------------------------------------------------------------------ migrations
Json migrate_v1_to_v2(Store store, Json r) {
  switch (store) {
    case Store::Messages: {
      // v1: "author" was a role string with "author_id"/"author_name" beside it; no ticket.
      if (r.contains("author") && r["author"].is_string()) {
        Json author{{"role", r["author"]}, {"id", str(r, "author_id")}};
        if (r.contains("author_name")) author["name"] = r["author_name"];
        r["author"] = std::move(author);
        r.erase("author_id");
        r.erase("author_name");
      }
      if (!r.contains("ticket")) r["ticket"] = 1;
      if (r.contains("cid") && r["cid"] == "") r.erase("cid");  // v1 wrote "" for "no cid"
      break;
    }
    case Store::Conversations:
      if (!r.contains("gaps")) r["gaps"] = Json::array();
      if (!r.contains("stored_count")) r["stored_count"] = 0;
      break;
    case Store::Outbox:
      if (!r.contains("depends_on")) r["depends_on"] = Json::array();
      break;
    case Store::Meta:
    case Store::Blobs:
      break;
  }
  r["v"] = 2;
  return r;
}

std::variant<Json, Error> migrate(Store store, Json record) {
  if (!record.is_object()) return corrupt(std::string(to_string(store)) + ": not an object");
  const std::int64_t v = num(record, "v", 1);  // v1 records predate the "v" field
  if (v < 1 || v > kSchemaVersion) {
    return corrupt(std::string(to_string(store)) + ": unknown schema version " + std::to_string(v));
  }
  if (v < 2) record = migrate_v1_to_v2(store, std::move(record));
  return record;
}

// ------------------------------------------------------------------ decoders
std::variant<Meta, Error> meta_from_json(const Json& in) {
  auto mig = migrate(Store::Meta, in);
  if (auto* e = std::get_if<Error>(&mig)) return *e;
  const Json& j = std::get<Json>(mig);
  Meta m;
  m.user = str(j, "user");
  m.device = str(j, "device");
  m.token = str(j, "token");
  m.cursor = num(j, "cursor");
  m.open_conv = str(j, "open_conv");
  m.outbox_counter = static_cast<std::uint64_t>(num(j, "outbox_counter"));
  // Added without a version bump: absent in older records means "no sign-in pending".
  m.identity_pending = j.contains("identity_pending") && j["identity_pending"].is_boolean() &&
                       j["identity_pending"].get<bool>();
  m.merge_token = str(j, "merge_token");
  if (m.cursor < 0) return corrupt("meta: negative cursor");
  return m;
}

std::variant<Conversation, Error> conversation_from_json(const Json& in) {
  auto mig = migrate(Store::Conversations, in);
  if (auto* e = std::get_if<Error>(&mig)) return *e;
  const Json& j = std::get<Json>(mig);
  Conversation c;
  c.id = str(j, "id");
  if (c.id.empty()) return corrupt("conversation: missing id");
  auto status = status_from_string(str(j, "status"));
  auto style = style_from_string(str(j, "style"));
  if (!status || !style) return corrupt("conversation " + c.id + ": bad status or style");
  c.status = *status;
  c.style = *style;
  c.ticket = static_cast<int>(num(j, "ticket", 1));
  c.subject = str(j, "subject");
  if (const Json* o = field(j, "owner")) {
    auto owner = protocol::owner_from_json(*o);
    if (auto* e = std::get_if<Error>(&owner)) return corrupt("conversation owner: " + e->message);
    c.owner = std::get<ControlOwner>(owner);
  }
  if (const Json* ch = field(j, "channels"); ch && ch->is_array()) {
    for (const auto& b : *ch) {
      auto binding = protocol::binding_from_json(b);
      if (auto* e = std::get_if<Error>(&binding))
        return corrupt("conversation channel: " + e->message);
      c.channels.push_back(std::get<ChannelBinding>(binding));
    }
  }
  c.created_ts = num(j, "created_ts");
  c.updated_ts = num(j, "updated_ts");
  c.last_seq = num(j, "last_seq");
  c.first_stored_seq = num(j, "first_stored_seq");
  c.stored_count = num(j, "stored_count");
  c.history_complete = flag(j, "history_complete");
  c.read_seq = num(j, "read_seq");
  c.agent_read_seq = num(j, "agent_read_seq");
  c.agent_delivered_seq = num(j, "agent_delivered_seq");
  c.last_activity_ts = num(j, "last_activity_ts");
  c.unread = static_cast<int>(num(j, "unread"));
  c.preview = str(j, "preview");
  if (const Json* gaps = field(j, "gaps"); gaps && gaps->is_array()) {
    for (const auto& g : *gaps) {
      if (!g.is_array() || g.size() != 2 || !g[0].is_number_integer() ||
          !g[1].is_number_integer()) {
        return corrupt("conversation " + c.id + ": bad gap");
      }
      c.gaps.push_back(Gap{g[0].get<Seq>(), g[1].get<Seq>()});
    }
  }
  return c;
}

std::variant<Message, Error> message_from_json(const Json& in) {
  auto mig = migrate(Store::Messages, in);
  if (auto* e = std::get_if<Error>(&mig)) return *e;
  auto m = protocol::message_from_json(std::get<Json>(mig));
  if (auto* e = std::get_if<Error>(&m)) return corrupt("message: " + e->message);
  return std::get<Message>(m);
}

std::variant<OutboxRecord, Error> outbox_from_json(const Json& in) {
  auto mig = migrate(Store::Outbox, in);
  if (auto* e = std::get_if<Error>(&mig)) return *e;
  const Json& j = std::get<Json>(mig);
  OutboxRecord o;
  o.kind = str(j, "kind") == "upload" ? OutboxRecord::Kind::Upload : OutboxRecord::Kind::Message;
  o.cid = str(j, "cid");
  o.conv = str(j, "conv");
  if (o.cid.empty() || o.conv.empty()) return corrupt("outbox: missing cid or conv");
  o.order = static_cast<std::uint64_t>(num(j, "order"));
  const Json* body = field(j, "body");
  if (!body) return corrupt("outbox " + o.cid + ": missing body");
  auto b = protocol::body_from_json(*body);
  if (auto* e = std::get_if<Error>(&b)) return corrupt("outbox " + o.cid + ": " + e->message);
  o.body = std::get<Body>(b);
  o.created_ts = num(j, "created_ts");
  o.attempts = static_cast<int>(num(j, "attempts"));
  o.attempted = flag(j, "attempted") || o.attempts > 0;
  o.state =
      str(j, "state") == "wedged" ? OutboxRecord::State::Wedged : OutboxRecord::State::Pending;
  if (const Json* err = field(j, "error"); err && err->is_object()) {
    Error e;
    e.code = error_code_from_string(str(*err, "code")).value_or(ErrorCode::ServerError);
    e.recoverability =
        flag(*err, "recoverable") ? Recoverability::Recoverable : Recoverability::Permanent;
    e.message = str(*err, "message");
    o.error = e;
  }
  if (const Json* deps = field(j, "depends_on"); deps && deps->is_array()) {
    for (const auto& d : *deps) {
      if (d.is_string()) o.depends_on.push_back(d.get<std::string>());
    }
  }
  return o;
}

}  // namespace parley::records
