// Conversation lifecycle rules for the three conversational styles.
//
// Pure functions: the server runs them authoritatively; the client runs the same code to
// predict (e.g. that a message into a closed conversation starts a new ticket).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parley/model.hpp"
#include "parley/types.hpp"

namespace parley::lifecycle {

inline constexpr TimeMs kDay = 24LL * 60 * 60 * 1000;
inline constexpr TimeMs kSocialMinClose = 4 * kDay;
inline constexpr TimeMs kSocialMaxClose = 28 * kDay;

struct Policy {
  ConversationalStyle style = ConversationalStyle::SocialMessaging;
  // LiveChatReturning: a customer message within this window after solve reopens the ticket.
  TimeMs reopen_window_ms = 2LL * 60 * 60 * 1000;
  // SocialMessaging: solved -> closed after this delay, clamped to [4, 28] days.
  TimeMs social_close_after_ms = 7 * kDay;
  // A pending conversation with no customer activity for this long becomes inactive.
  TimeMs inactive_after_ms = 3 * kDay;
  // Ineffectual phrases per locale ("thanks", "no, that's all"). Keys are BCP-47 primary
  // tags ("en", "fr", ...). Matching is case-insensitive, ignores punctuation, emoji-free.
  std::map<std::string, std::vector<std::string>> ineffectual;

  static Policy defaults(ConversationalStyle style);
};

// The effective social close delay after clamping.
TimeMs social_close_delay(const Policy& p);

struct Ticket {
  Status status = Status::New;
  int number = 1;
  TimeMs solved_at = 0;               // 0 unless solved
  TimeMs last_customer_activity = 0;  // last effectual customer message
  bool inactive = false;
  std::string assignee;  // agent who holds the ticket (kept across a reopen)
  bool operator==(const Ticket&) const = default;
};

enum class Outcome {
  Unchanged,  // nothing to do (e.g. same status)
  Continued,  // message added to the current ticket
  Reopened,   // solved ticket reopened (same ticket number, same assignee)
  NewTicket,  // closed ticket: a new ticket starts
  Ignored,    // ineffectual message: recorded, but neither reopens nor prolongs
  WokeUp,     // an inactive conversation woke up on the customer's reply
  Closed,     // ticket closed
  StatusSet,  // explicit status change applied
  Rejected,   // transition not allowed (e.g. leaving closed by a status change)
  // on_tick: a pending ticket's customer has been silent for inactive_after_ms; the ticket
  // changed (inactive = true) but its status did not.
  BecameInactive,
};
std::string_view to_string(Outcome o);

struct Decision {
  Ticket ticket;
  Outcome outcome = Outcome::Unchanged;
};

// Whether the text is an ineffectual acknowledgement in the given locale.
bool is_ineffectual(const Policy& p, std::string_view locale, std::string_view text);

// A customer (visitor) message arrives.
Decision on_customer_message(const Policy& p, const Ticket& t, std::string_view locale,
                             std::string_view text, TimeMs now);
// The same for a whole body: a survey answer (is_survey_answer) on a pending, solved or
// closed ticket is ignored like "thanks": rating a solved conversation neither reopens it
// nor, in live chat, starts a new ticket.
Decision on_customer_message(const Policy& p, const Ticket& t, std::string_view locale,
                             const Body& body, TimeMs now);

// A CSAT survey: an agent's or bot's `rich: csat` message. It may follow a close (live chat
// closes at solve), where other agent messages are refused.
bool is_survey(const Body& b);
// A customer's answer to a survey: `event: {"type": "csat", "score": n}`.
bool is_survey_answer(const Body& b);
// An agent or bot message arrives: open/new tickets become pending (waiting on the customer).
Decision on_agent_message(const Policy& p, const Ticket& t, std::string_view agent_id, TimeMs now);
// An explicit status change by an agent. Solved in live chat closes immediately.
Decision on_set_status(const Policy& p, const Ticket& t, Status to, TimeMs now);
// Time passes: closes solved tickets whose window has elapsed and marks inactivity.
Decision on_tick(const Policy& p, const Ticket& t, TimeMs now);
// When the next time-based transition is due, if any (for the host's timer).
std::optional<TimeMs> next_deadline(const Policy& p, const Ticket& t);

}  // namespace parley::lifecycle
