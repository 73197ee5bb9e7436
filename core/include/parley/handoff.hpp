// Channel handoff and control ownership rules.
//
// A conversation is bound to one or more channels. Handing it to another channel keeps the
// same conversation (and history); the web binding stays so the visitor can come back.
// Control has one owner at a time: the bot, the agent queue, or a named agent.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "parley/model.hpp"
#include "parley/types.hpp"

namespace parley::handoff {

// Validate a channel address (E.164-ish phone, e-mail, device id). Returns a typed error.
std::optional<Error> validate_address(Channel channel, std::string_view address);

// "Continue on another device" with no address: a request for a link (the server answers
// with a resume token), so there is no address to validate.
inline bool is_link_request(Channel channel, std::string_view address) {
  return channel == Channel::Device && address.empty();
}

// Bind (or re-activate) a channel. Other non-web bindings become inactive; web stays active.
std::vector<ChannelBinding> bind(const std::vector<ChannelBinding>& current, Channel channel,
                                 std::string_view address, TimeMs now);

enum class ControlRequest { ToBot, ToQueue, ToAgent };

// Move control. ToAgent needs a non-empty agent id. Returns the new owner or an error.
std::variant<ControlOwner, Error> transfer(const ControlOwner& current, ControlRequest to,
                                           std::string_view agent_id, std::string_view agent_name);

// The timeline item that records a handoff (role System, body.event set).
Body timeline_event(const ControlOwner& owner, const std::vector<ChannelBinding>& channels,
                    std::string_view reason);

}  // namespace parley::handoff
