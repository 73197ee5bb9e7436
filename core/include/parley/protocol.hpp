// Protocol v1 codec (docs/protocol.md owns the wire details).
//
// Both directions live here so the reference server and the client share one codec:
// the client encodes ClientFrame and decodes ServerFrame; the server does the reverse.
// Decoding is strict: any deviation yields a typed Error, never an exception or abort.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "parley/hours.hpp"
#include "parley/model.hpp"
#include "parley/types.hpp"

namespace parley::protocol {

inline constexpr int kVersion = 1;
inline constexpr std::size_t kMaxFrameBytes = 256 * 1024;  // whole frame
inline constexpr std::size_t kMaxTextBytes = 8 * 1024;     // message text (UTF-8 bytes)
inline constexpr std::size_t kMaxAttachments = 10;
inline constexpr std::size_t kMaxPageLimit = 200;
inline constexpr std::size_t kMaxIdBytes = 128;

// ---------------------------------------------------------------- client -> server
struct Hello {
  int version = kVersion;
  std::string token;         // identity token; empty = ask for an anonymous one
  Cursor cursor = 0;         // resume cursor: events after this one are wanted
  std::string device;        // device id (stable per store)
  std::string resume_token;  // optional: continue a conversation from another device
  // optional: the identity token held before a sign-in (identify), so the server can merge
  // that anonymous visitor's conversations into the identified user
  std::string merge_token;
};
struct Send {
  std::string req;
  std::string conv;
  std::string cid;  // client id; the idempotency key, unique per user, forever
  Body body;
};
struct Upload {  // attachment upload; the host transport moves the blob bytes
  std::string req;
  std::string conv;
  std::string cid;  // equals the attachment id
  Attachment attachment;
};
struct History {
  std::string req;
  std::string conv;
  Seq before = 0;  // exclusive upper bound; 0 = newest
  Seq after = -1;  // exclusive lower bound; -1 (absent on the wire) = none, newest first
  int limit = 50;
};
struct Sync {  // ask for events after a cursor (catch-up, or re-request after a break)
  std::string req;
  Cursor after = 0;
  int limit = 500;
};
struct MarkRead {
  std::string conv;
  Seq seq = 0;
};
struct Typing {
  std::string conv;
  bool on = false;
};
struct HandoffRequest {
  std::string req;
  std::string conv;
  Channel channel = Channel::Web;
  std::string address;
};
struct Engagement {
  std::string level;  // "high" | "medium" | "low" | "away"
  TimeMs reply_latency_ms = 0;
  bool present = false;
};
struct Ping {
  std::string req;
};
using ClientFrame = std::variant<Hello, Send, Upload, History, Sync, MarkRead, Typing,
                                 HandoffRequest, Engagement, Ping>;

// ---------------------------------------------------------------- server -> client
struct Welcome {
  int version = kVersion;
  std::string user;
  std::string token;  // (re)issued identity token, e.g. anonymous visitor token
  Cursor cursor = 0;  // server head cursor for this user
  TimeMs server_time = 0;
  std::optional<hours::Availability> availability;  // business hours, when the server has them
};
struct Ack {
  std::string req;
  std::string cid;
  std::string conv;
  std::string id;  // server id
  Seq seq = 0;
  TimeMs ts = 0;
  std::string url;  // for uploads: the attachment's server reference
};
struct ErrorFrame {
  std::string req;  // empty when not tied to a request
  Error error;
};

// Events in the ordered per-user log. Each carries the global cursor.
enum class EventKind { Message, MessageUpdated, Read, Status, Handoff, Conversation, Gap };
std::string_view to_string(EventKind k);

struct Event {
  EventKind kind = EventKind::Message;
  Cursor cursor = 0;
  std::string conv;
  // Message / MessageUpdated / Handoff (timeline item)
  Message message;
  // Read
  Role reader = Role::Agent;
  bool delivered_only = false;  // "delivered" marker instead of "read"
  Seq seq = 0;
  // Status / Conversation
  Status status = Status::New;
  int ticket = 1;
  ConversationalStyle style = ConversationalStyle::SocialMessaging;
  // Handoff / Conversation
  ControlOwner owner;
  std::vector<ChannelBinding> channels;
  std::string resume_token;  // for Channel::Device handoffs
  // Conversation
  std::string subject;
  Seq last_seq = 0;
  // Gap
  Gap gap;
};
struct Events {
  std::string req;    // set when answering a Sync
  Cursor from = 0;    // the cursor these events follow (explicit chain)
  Cursor cursor = 0;  // cursor of the last event (== from when empty)
  bool more = false;  // more events are immediately available after `cursor`
  std::vector<Event> events;
};
struct Page {
  std::string req;
  std::string conv;
  std::vector<Message> messages;  // ascending seq
  bool complete = false;          // nothing further in the requested direction/range
  Seq next = 0;                   // where to continue when !complete (exclusive bound)
};
struct Reset {  // the client's cursor is beyond the catch-up horizon
  Cursor cursor = 0;
  std::vector<Event> conversations;  // EventKind::Conversation summaries
};
struct Signal {  // ephemeral: typing, presence; never stored, no cursor
  std::string conv;
  std::string kind;  // "typing" | "presence"
  Participant who;
  bool on = false;
};
struct Pong {
  std::string req;
  TimeMs server_time = 0;
};
using ServerFrame = std::variant<Welcome, Ack, ErrorFrame, Events, Page, Reset, Signal, Pong>;

// ---------------------------------------------------------------- codec
template <class T>
struct Decoded {
  std::variant<T, Error> value;
  bool ok() const { return value.index() == 0; }
  const T& frame() const { return std::get<0>(value); }
  const Error& error() const { return std::get<1>(value); }
};

std::string encode(const ClientFrame& f);
std::string encode(const ServerFrame& f);
Decoded<ClientFrame> decode_client(std::string_view text);
Decoded<ServerFrame> decode_server(std::string_view text);

// JSON helpers shared by the codec and the record format.
Json to_json(const Message& m);
Json to_json(const Body& b);
Json to_json(const Participant& p);
Json to_json(const Attachment& a);
Json to_json(const ChannelBinding& c);
Json to_json(const ControlOwner& o);
// One event object exactly as it appears inside an `events` frame (the server stores these).
Json to_json(const Event& e);
// `welcome.availability`: {"open","reply_ms","next_change"?}.
Json to_json(const hours::Availability& a);
// Strict parsers: return an Error describing the first problem.
std::variant<Message, Error> message_from_json(const Json& j);
std::variant<Body, Error> body_from_json(const Json& j);
std::variant<ControlOwner, Error> owner_from_json(const Json& j);
std::variant<ChannelBinding, Error> binding_from_json(const Json& j);

}  // namespace parley::protocol
