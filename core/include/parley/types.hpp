// Shared vocabulary of the Parley core: enums, typed errors and small value types.
// Everything here is plain data; nothing performs I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley {

using TimeMs = std::int64_t;  // milliseconds since the Unix epoch, always supplied by the host
using Seq = std::int64_t;     // per-conversation sequence number assigned by the server
using Cursor = std::int64_t;  // global per-user event cursor assigned by the server

// ---------------------------------------------------------------------------
// Typed errors. No exception ever crosses the core's API; failures are values.
// ---------------------------------------------------------------------------
enum class ErrorCode {
  // protocol / frames
  MalformedFrame,      // not JSON, or JSON of the wrong shape
  UnknownFrameType,    // well-formed, but a type this version does not know
  MissingField,        // a required field is absent
  InvalidField,        // a field has the wrong type or an out-of-range value
  UnsupportedVersion,  // hello/welcome version mismatch
  FrameTooLarge,       // frame exceeds the protocol limit
  MessageTooLong,      // message text exceeds the protocol limit
  // request results reported by the server or the transport
  Unauthorized,  // token missing, expired or rejected (auth)
  Forbidden,     // permanent: not allowed
  NotFound,      // permanent: unknown conversation or message
  RateLimited,   // recoverable
  ServerError,   // recoverable (5xx)
  Timeout,       // recoverable: no answer in time
  Disconnected,  // recoverable: connection lost with the request in flight
  Conflict,      // permanent: e.g. editing a message already sent
  // storage
  StorageQuota,    // QuotaExceededError
  StorageAborted,  // transaction aborted
  StorageCorrupt,  // a stored record could not be decoded
  // commands
  InvalidCommand,  // command refused by the core (unknown id, wrong state)
};

std::string_view to_string(ErrorCode code);
std::optional<ErrorCode> error_code_from_string(std::string_view s);

// Whether retrying the same request later may succeed.
enum class Recoverability { Recoverable, Permanent, Auth };

struct Error {
  ErrorCode code = ErrorCode::MalformedFrame;
  Recoverability recoverability = Recoverability::Permanent;
  std::string message;  // human readable detail, never shown raw as HTML

  bool recoverable() const { return recoverability == Recoverability::Recoverable; }
  bool operator==(const Error&) const = default;
};

// Default recoverability of a code (the server may still say otherwise on the wire).
Recoverability default_recoverability(ErrorCode code);
Error make_error(ErrorCode code, std::string message);

// ---------------------------------------------------------------------------
// Domain enums
// ---------------------------------------------------------------------------
enum class Role { Visitor, Agent, Bot, System };
enum class Channel { Web, Sms, WhatsApp, Email, Messenger, Device };
enum class Status { New, Open, Pending, OnHold, Solved, Closed };
enum class ConversationalStyle { LiveChat, LiveChatReturning, SocialMessaging };

std::string_view to_string(Role r);
std::string_view to_string(Channel c);
std::string_view to_string(Status s);
std::string_view to_string(ConversationalStyle s);
std::optional<Role> role_from_string(std::string_view s);
std::optional<Channel> channel_from_string(std::string_view s);
std::optional<Status> status_from_string(std::string_view s);
std::optional<ConversationalStyle> style_from_string(std::string_view s);

// Local echo state of a message as the visitor sees it. One enum, no scattered booleans.
enum class MessageState {
  Queued,     // durable in the outbox, not yet in flight (e.g. offline)
  Sending,    // in flight
  Sent,       // acknowledged by the server (has a server id and seq)
  Delivered,  // the other side's device received it
  Read,       // the other side read it
  Failed,     // wedged: permanent error, shown with a reason and a retry button
};
std::string_view to_string(MessageState s);

}  // namespace parley
