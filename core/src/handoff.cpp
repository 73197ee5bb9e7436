// Channel handoff and control ownership rules (see handoff.hpp).
#include "parley/handoff.hpp"

#include <algorithm>
#include <cstddef>
#include <string_view>
#include <utility>

namespace parley::handoff {

namespace {

constexpr std::size_t kMaxEmail = 254;  // RFC 5321 path limit
constexpr std::size_t kMaxEmailLocal = 64;
constexpr std::size_t kMaxId = 128;  // device and Messenger ids
constexpr std::size_t kMinPhoneDigits = 8;
constexpr std::size_t kMaxPhoneDigits = 15;  // E.164

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_control(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}
char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

Error invalid(std::string message) {
  return make_error(ErrorCode::InvalidField, std::move(message));
}

// Phone numbers as typed: spaces and dashes are ignored.
std::string strip_phone(std::string_view address) {
  std::string out;
  out.reserve(address.size());
  for (char c : address) {
    if (c != ' ' && c != '-') out.push_back(c);
  }
  return out;
}

// E.164: '+', a country code that does not start with 0, 8 to 15 digits in all.
std::optional<Error> check_phone(std::string_view address) {
  const std::string phone = strip_phone(address);
  if (phone.empty() || phone.front() != '+') {
    return invalid("phone number must be in international format, starting with +");
  }
  const std::string_view digits = std::string_view(phone).substr(1);
  if (!std::all_of(digits.begin(), digits.end(), is_digit)) {
    return invalid("phone number may contain only digits, spaces and dashes after +");
  }
  if (digits.size() < kMinPhoneDigits || digits.size() > kMaxPhoneDigits) {
    return invalid("phone number must have 8 to 15 digits");
  }
  if (digits.front() == '0') return invalid("phone number country code cannot start with 0");
  return std::nullopt;
}

bool valid_local_char(char c) {
  if (is_alpha(c) || is_digit(c)) return true;
  constexpr std::string_view kAllowed = "!#$%&'*+-/=?^_`{|}~.";
  return kAllowed.find(c) != std::string_view::npos;
}

bool valid_domain_label(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  return std::all_of(label.begin(), label.end(),
                     [](char c) { return is_alpha(c) || is_digit(c) || c == '-'; });
}

// A deliberately simple check: local@domain.tld with an ASCII dot-atom local part and a
// host name of at least two labels whose last one (the TLD) is not numeric.
std::optional<Error> check_email(std::string_view address) {
  if (address.size() > kMaxEmail) return invalid("e-mail address is longer than 254 characters");
  const auto at = address.find('@');
  if (at == std::string_view::npos || address.find('@', at + 1) != std::string_view::npos) {
    return invalid("e-mail address must contain exactly one @");
  }
  const std::string_view local = address.substr(0, at);
  const std::string_view domain = address.substr(at + 1);
  if (local.empty() || local.size() > kMaxEmailLocal ||
      !std::all_of(local.begin(), local.end(), valid_local_char) || local.front() == '.' ||
      local.back() == '.' || local.find("..") != std::string_view::npos) {
    return invalid("e-mail address has an invalid part before @");
  }
  std::size_t labels = 0;
  std::string_view tld;
  for (std::size_t start = 0;;) {
    const auto dot = domain.find('.', start);
    const std::string_view label =
        domain.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!valid_domain_label(label)) return invalid("e-mail address has an invalid domain");
    ++labels;
    tld = label;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (labels < 2 || tld.size() < 2 || std::all_of(tld.begin(), tld.end(), is_digit)) {
    return invalid("e-mail address needs a domain like example.com");
  }
  return std::nullopt;
}

std::optional<Error> check_device(std::string_view address) {
  if (address.empty()) return invalid("device id is empty");
  if (address.size() > kMaxId) return invalid("device id is longer than 128 characters");
  const bool ok = std::all_of(address.begin(), address.end(), [](char c) {
    return is_alpha(c) || is_digit(c) || c == '_' || c == '-';
  });
  if (!ok) return invalid("device id may contain only letters, digits, _ and -");
  return std::nullopt;
}

std::optional<Error> check_messenger(std::string_view address) {
  if (address.empty()) return invalid("Messenger id is empty");
  if (address.size() > kMaxId) return invalid("Messenger id is longer than 128 characters");
  if (std::any_of(address.begin(), address.end(), is_control)) {
    return invalid("Messenger id contains control characters");
  }
  return std::nullopt;
}

// The stored form of an address: phones without spaces and dashes, e-mail domains in lower
// case (they are case-insensitive; the local part is not), web without an address.
std::string normalize_address(Channel channel, std::string_view address) {
  switch (channel) {
    case Channel::Web:
      return {};
    case Channel::Sms:
    case Channel::WhatsApp:
      return strip_phone(address);
    case Channel::Email: {
      std::string out(address);
      const auto at = out.find('@');
      if (at != std::string::npos) {
        std::transform(out.begin() + static_cast<std::ptrdiff_t>(at), out.end(),
                       out.begin() + static_cast<std::ptrdiff_t>(at), ascii_lower);
      }
      return out;
    }
    case Channel::Messenger:
    case Channel::Device:
      break;
  }
  return std::string(address);
}

void activate(ChannelBinding& b, TimeMs now) {
  if (!b.active) {
    b.active = true;
    b.since = now;  // `since` is when the binding last became active
  }
}

// Human wording of a channel for the English timeline line.
std::string continuing_on(const ChannelBinding& b) {
  switch (b.channel) {
    case Channel::Sms:
      return "Continuing by SMS at " + b.address;
    case Channel::WhatsApp:
      return "Continuing on WhatsApp at " + b.address;
    case Channel::Email:
      return "Continuing by email at " + b.address;
    case Channel::Messenger:
      return "Continuing on Messenger";
    case Channel::Device:
      return "Continuing on another device";
    case Channel::Web:
      break;
  }
  return "Continuing on the web";
}

std::string owner_line(const ControlOwner& owner) {
  switch (owner.kind) {
    case ControlOwner::Kind::Agent:
      return owner.agent_name.empty() ? "Conversation handed to an agent"
                                      : "Conversation handed to " + owner.agent_name;
    case ControlOwner::Kind::Queue:
      return "Conversation waiting for the next available agent";
    case ControlOwner::Kind::Bot:
      break;
  }
  return "Conversation handed to the bot";
}

}  // namespace

std::optional<Error> validate_address(Channel channel, std::string_view address) {
  switch (channel) {
    case Channel::Web:
      if (!address.empty()) return invalid("web binding takes no address");
      return std::nullopt;
    case Channel::Sms:
    case Channel::WhatsApp:
      return check_phone(address);
    case Channel::Email:
      return check_email(address);
    case Channel::Device:
      return check_device(address);
    case Channel::Messenger:
      return check_messenger(address);
  }
  return invalid("unknown channel");
}

// Callers validate the address first (validate_address); bind only normalizes it.
std::vector<ChannelBinding> bind(const std::vector<ChannelBinding>& current, Channel channel,
                                 std::string_view address, TimeMs now) {
  std::vector<ChannelBinding> out = current;

  // The web binding always stays, active, so the visitor can come back to the widget.
  bool has_web = false;
  for (ChannelBinding& b : out) {
    if (b.channel == Channel::Web) {
      activate(b, now);
      has_web = true;
    }
  }
  if (!has_web) out.push_back(ChannelBinding{Channel::Web, "", true, now});
  if (channel == Channel::Web) return out;

  // Exactly one non-web binding is active: the requested one (the first match if the list
  // holds duplicates). Existing bindings keep their order; a new one is appended.
  const std::string wanted = normalize_address(channel, address);
  bool found = false;
  for (ChannelBinding& b : out) {
    if (b.channel == Channel::Web) continue;
    if (!found && b.channel == channel && normalize_address(b.channel, b.address) == wanted) {
      activate(b, now);
      b.address = wanted;
      found = true;
    } else {
      b.active = false;
    }
  }
  if (!found) out.push_back(ChannelBinding{channel, wanted, true, now});
  return out;
}

std::variant<ControlOwner, Error> transfer(const ControlOwner& current, ControlRequest to,
                                           std::string_view agent_id, std::string_view agent_name) {
  ControlOwner next;
  switch (to) {
    case ControlRequest::ToBot:
      next.kind = ControlOwner::Kind::Bot;
      return next;
    case ControlRequest::ToQueue:
      // Already queued: keep the known position rather than resetting it to "unknown".
      if (current.kind == ControlOwner::Kind::Queue) return current;
      next.kind = ControlOwner::Kind::Queue;
      next.queue_position = 0;
      return next;
    case ControlRequest::ToAgent:
      break;
  }
  const bool blank =
      std::all_of(agent_id.begin(), agent_id.end(), [](char c) { return c == ' ' || c == '\t'; });
  if (blank) return invalid("transfer to an agent needs an agent id");
  // The same agent again is allowed; without a new name it keeps the one already known.
  if (current.kind == ControlOwner::Kind::Agent && current.agent_id == agent_id &&
      agent_name.empty()) {
    return current;
  }
  next.kind = ControlOwner::Kind::Agent;
  next.agent_id = std::string(agent_id);
  next.agent_name = std::string(agent_name);
  return next;
}

// body.text is an English fallback line; UIs localize from body.event, which carries the
// machine-readable facts:
//   {"type":"handoff",
//    "owner":{"kind":"agent","agent_id":"a1","agent_name":"Ada"[,"queue_position":n]},
//    "channels":[{"channel":"sms","address":"+33…","active":true}, ...],
//    "reason":"..."}
// queue_position is present only for a queue owner.
Body timeline_event(const ControlOwner& owner, const std::vector<ChannelBinding>& channels,
                    std::string_view reason) {
  Json owner_json = Json::object();
  owner_json["kind"] = std::string(to_string(owner.kind));
  owner_json["agent_id"] = owner.agent_id;
  owner_json["agent_name"] = owner.agent_name;
  if (owner.kind == ControlOwner::Kind::Queue) owner_json["queue_position"] = owner.queue_position;

  Json channels_json = Json::array();
  const ChannelBinding* away = nullptr;  // the active non-web binding, if any
  for (const ChannelBinding& b : channels) {
    Json c = Json::object();
    c["channel"] = std::string(to_string(b.channel));
    c["address"] = b.address;
    c["active"] = b.active;
    channels_json.push_back(std::move(c));
    if (away == nullptr && b.active && b.channel != Channel::Web) away = &b;
  }

  Body body;
  body.text = owner_line(owner);
  if (away != nullptr) body.text += ". " + continuing_on(*away);
  body.event = Json::object();
  body.event["type"] = "handoff";
  body.event["owner"] = std::move(owner_json);
  body.event["channels"] = std::move(channels_json);
  body.event["reason"] = std::string(reason);
  return body;
}

}  // namespace parley::handoff
