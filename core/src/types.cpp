// String forms of the shared enums and the typed-error helpers (see types.hpp).
#include "parley/types.hpp"
#include "enum_names.hpp"

#include <array>
#include <cstddef>
#include <utility>

namespace parley {
namespace {
using detail::name_of;
using detail::value_of;

// Each enum's string table is indexed by the enumerator's value; the tables list every
// enumerator in declaration order.
constexpr std::array<std::string_view, 19> kErrorCodes = {
    "malformed_frame",  "unknown_frame_type",  "missing_field",
    "invalid_field",    "unsupported_version", "frame_too_large",
    "message_too_long", "unauthorized",        "forbidden",
    "not_found",        "rate_limited",        "server_error",
    "timeout",          "disconnected",        "conflict",
    "storage_quota",    "storage_aborted",     "storage_corrupt",
    "invalid_command"};
constexpr std::array<std::string_view, 4> kRoles = {"visitor", "agent", "bot", "system"};
constexpr std::array<std::string_view, 6> kChannels = {"web",   "sms",       "whatsapp",
                                                       "email", "messenger", "device"};
constexpr std::array<std::string_view, 6> kStatuses = {"new",     "open",   "pending",
                                                       "on_hold", "solved", "closed"};
constexpr std::array<std::string_view, 3> kStyles = {"live_chat", "live_chat_returning",
                                                     "social_messaging"};
constexpr std::array<std::string_view, 6> kMessageStates = {"queued",    "sending", "sent",
                                                            "delivered", "read",    "failed"};

static_assert(static_cast<std::size_t>(ErrorCode::InvalidCommand) + 1 == kErrorCodes.size());
static_assert(static_cast<std::size_t>(Role::System) + 1 == kRoles.size());
static_assert(static_cast<std::size_t>(Channel::Device) + 1 == kChannels.size());
static_assert(static_cast<std::size_t>(Status::Closed) + 1 == kStatuses.size());
static_assert(static_cast<std::size_t>(ConversationalStyle::SocialMessaging) + 1 == kStyles.size());
static_assert(static_cast<std::size_t>(MessageState::Failed) + 1 == kMessageStates.size());

}  // namespace

std::string_view to_string(ErrorCode code) {
  return name_of(kErrorCodes, code);
}
std::optional<ErrorCode> error_code_from_string(std::string_view s) {
  return value_of<ErrorCode>(kErrorCodes, s);
}

std::string_view to_string(Role r) {
  return name_of(kRoles, r);
}
std::string_view to_string(Channel c) {
  return name_of(kChannels, c);
}
std::string_view to_string(Status s) {
  return name_of(kStatuses, s);
}
std::string_view to_string(ConversationalStyle s) {
  return name_of(kStyles, s);
}
std::string_view to_string(MessageState s) {
  return name_of(kMessageStates, s);
}

std::optional<Role> role_from_string(std::string_view s) {
  return value_of<Role>(kRoles, s);
}
std::optional<Channel> channel_from_string(std::string_view s) {
  return value_of<Channel>(kChannels, s);
}
std::optional<Status> status_from_string(std::string_view s) {
  return value_of<Status>(kStatuses, s);
}
std::optional<ConversationalStyle> style_from_string(std::string_view s) {
  return value_of<ConversationalStyle>(kStyles, s);
}

Recoverability default_recoverability(ErrorCode code) {
  switch (code) {
    case ErrorCode::RateLimited:
    case ErrorCode::ServerError:
    case ErrorCode::Timeout:
    case ErrorCode::Disconnected:
    case ErrorCode::StorageAborted:
    case ErrorCode::StorageQuota:
      return Recoverability::Recoverable;
    case ErrorCode::Unauthorized:
      return Recoverability::Auth;
    default:
      return Recoverability::Permanent;
  }
}

Error make_error(ErrorCode code, std::string message) {
  return Error{code, default_recoverability(code), std::move(message)};
}

}  // namespace parley
