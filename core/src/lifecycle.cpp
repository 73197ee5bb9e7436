// Conversation lifecycle rules (see lifecycle.hpp and DESIGN.md, "conversational styles").
//
// Summary of the rules implemented here:
//
//  * Customer message
//      - ineffectual ("thanks", "no, that's all") while pending, solved or closed: Ignored, the
//        ticket is returned untouched (no activity recorded, no reopen, no new ticket, no
//        prolonged window);
//      - new / open: Continued;
//      - pending / on-hold: back to open, Continued (WokeUp if the ticket was inactive);
//      - solved: Reopened (open, same number, same assignee) while the style's reopen window
//        is running, otherwise the ticket is effectively closed and a NewTicket starts.
//        LiveChat closes on solve, so a solved live-chat ticket always counts as closed;
//      - closed: NewTicket (number + 1, status new, no assignee, not solved).
//  * Agent / bot message: new / open become pending (waiting on the customer); the agent is
//    assigned when nobody holds the ticket. Solved / closed tickets are left alone (notes).
//  * Explicit status change: closed is final (Rejected); the same status is Unchanged;
//    solved stamps solved_at (and closes at once in LiveChat); closed gives Closed.
//  * Tick: solved tickets close when their window elapses; pending tickets whose customer has
//    been silent for inactive_after_ms become inactive (BecameInactive).
//
// Every deadline is inclusive: at exactly `deadline` the transition has happened, 1 ms before
// it has not. next_deadline() returns that same instant, so a host timer that fires on time
// always finds something to do.
#include "parley/lifecycle.hpp"

#include <algorithm>
#include <limits>

namespace parley::lifecycle {

namespace {

// a + b without signed overflow (policies are host-supplied and may be silly).
TimeMs add_saturating(TimeMs a, TimeMs b) {
  constexpr TimeMs kMax = std::numeric_limits<TimeMs>::max();
  constexpr TimeMs kMin = std::numeric_limits<TimeMs>::min();
  if (b > 0 && a > kMax - b) return kMax;
  if (b < 0 && a < kMin - b) return kMin;
  return a + b;
}

TimeMs reopen_window(const Policy& p) {
  return std::max<TimeMs>(0, p.reopen_window_ms);
}
TimeMs inactive_after(const Policy& p) {
  return std::max<TimeMs>(0, p.inactive_after_ms);
}

// When a solved ticket closes by itself under the policy's style.
TimeMs close_deadline(const Policy& p, const Ticket& t) {
  switch (p.style) {
    case ConversationalStyle::LiveChat:
      return t.solved_at;  // solve closes at once
    case ConversationalStyle::LiveChatReturning:
      return add_saturating(t.solved_at, reopen_window(p));
    case ConversationalStyle::SocialMessaging:
      return add_saturating(t.solved_at, social_close_delay(p));
  }
  return t.solved_at;
}

// When a pending ticket becomes inactive, if it can. Measured from the last effectual customer
// message; a ticket with no recorded customer activity (0) never becomes inactive.
std::optional<TimeMs> inactive_deadline(const Policy& p, const Ticket& t) {
  if (t.status != Status::Pending || t.inactive || t.last_customer_activity == 0) {
    return std::nullopt;
  }
  return add_saturating(t.last_customer_activity, inactive_after(p));
}

// Whether the ticket counts as closed at `now` (closed, or solved past its window).
bool effectively_closed(const Policy& p, const Ticket& t, TimeMs now) {
  if (t.status == Status::Closed) return true;
  if (t.status != Status::Solved) return false;
  if (p.style == ConversationalStyle::LiveChat) return true;
  return now >= close_deadline(p, t);
}

char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool is_ascii_alnum(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool starts_with(std::string_view s, std::size_t i, std::string_view prefix) {
  return s.substr(i, prefix.size()) == prefix;
}

// Non-ASCII punctuation and spaces that appear in the supported languages (UTF-8 bytes).
struct Special {
  std::string_view bytes;
  bool separator;  // true: acts as a space; false: dropped (apostrophes inside words)
};
constexpr Special kSpecials[] = {
    {"\xE2\x80\x99", false},  // ’ right single quotation mark (typographic apostrophe)
    {"\xE2\x80\x98", false},  // ‘ left single quotation mark
    {"\xC2\xA0", true},       // no-break space (French "merci !")
    {"\xE2\x80\xAF", true},   // narrow no-break space
    {"\xC2\xA1", true},       // ¡
    {"\xC2\xBF", true},       // ¿
    {"\xC2\xAB", true},       // «
    {"\xC2\xBB", true},       // »
    {"\xE2\x80\xA6", true},   // …
    {"\xE2\x80\x93", true},   // – en dash
    {"\xE2\x80\x94", true},   // — em dash
    {"\xE2\x80\x9C", true},   // “
    {"\xE2\x80\x9D", true},   // ”
};

// Canonical form used for ineffectual matching: ASCII lower-cased, apostrophes dropped
// ("that's" -> "thats"), every other punctuation or whitespace run becomes one space, no
// leading or trailing space. Other non-ASCII bytes (accented letters, emoji) are kept as is.
std::string normalize_phrase(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool separator = false;
  auto put = [&](char c) {
    if (separator && !out.empty()) out.push_back(' ');
    separator = false;
    out.push_back(c);
  };
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (is_ascii_alnum(c)) {
        put(ascii_lower(static_cast<char>(c)));
      } else if (c != '\'') {
        separator = true;  // whitespace, punctuation, symbols, control characters
      }
      ++i;
      continue;
    }
    bool matched = false;
    for (const Special& sp : kSpecials) {
      if (starts_with(s, i, sp.bytes)) {
        if (sp.separator) separator = true;
        i += sp.bytes.size();
        matched = true;
        break;
      }
    }
    if (!matched) {
      put(static_cast<char>(c));
      ++i;
    }
  }
  return out;
}

std::string lower_tag(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) out.push_back(c == '_' ? '-' : ascii_lower(c));
  return out;
}

const std::vector<std::string>* find_list(const Policy& p, std::string_view tag) {
  for (const auto& [key, phrases] : p.ineffectual) {
    if (lower_tag(key) == tag) return &phrases;
  }
  return nullptr;
}

// The phrase list for a locale: the full tag ("en-gb") if configured, then its primary tag
// ("en"), then English.
const std::vector<std::string>* phrases_for(const Policy& p, std::string_view locale) {
  const std::string tag = lower_tag(locale);
  if (!tag.empty()) {
    if (const auto* list = find_list(p, tag)) return list;
    const std::string primary = tag.substr(0, tag.find('-'));
    if (const auto* list = find_list(p, primary)) return list;
  }
  return find_list(p, "en");
}

// The ticket a customer message opens after a closed one: new, unassigned, not solved.
Ticket fresh_ticket(const Ticket& previous, TimeMs now) {
  Ticket t;  // status New, solved_at 0, not inactive, no assignee
  t.number = previous.number + 1;
  t.last_customer_activity = now;
  return t;
}

}  // namespace

Policy Policy::defaults(ConversationalStyle style) {
  Policy p;
  p.style = style;
  // Stored as written; matching normalizes both sides the same way (see normalize_phrase).
  p.ineffectual["en"] = {
      // thanks
      "thanks",
      "thank you",
      "thanks a lot",
      "thanks so much",
      "thank you so much",
      "thank you very much",
      "many thanks",
      "thx",
      "ty",
      "cheers",
      // acknowledgements
      "ok",
      "okay",
      "ok thanks",
      "ok thank you",
      "okay thanks",
      "great thanks",
      "perfect thanks",
      "got it",
      "got it, thanks",
      "great",
      "perfect",
      "awesome",
      "cool",
      // nothing more to ask
      "no thanks",
      "no thank you",
      "that's all",
      "no, that's all",
      "that's all, thanks",
      "no, that's all, thanks",
      "nothing else",
      "no, nothing else",
      // goodbyes
      "bye",
      "goodbye",
      "bye bye",
  };
  p.ineffectual["fr"] = {
      // remerciements
      "merci",
      "merci beaucoup",
      "merci bien",
      "merci à vous",
      "mille mercis",
      // accusés de réception
      "ok merci",
      "d'accord",
      "d'accord, merci",
      "super, merci",
      "parfait, merci",
      "parfait",
      "top merci",
      // rien d'autre
      "c'est tout",
      "non, c'est tout",
      "c'est tout, merci",
      "non merci",
      "rien d'autre",
      "non, rien d'autre",
      // au revoir
      "au revoir",
      "bonne journée",
  };
  p.ineffectual["es"] = {
      // agradecimientos
      "gracias",
      "muchas gracias",
      "mil gracias",
      "muchísimas gracias",
      // acuses de recibo
      "ok gracias",
      "vale",
      "vale, gracias",
      "perfecto",
      "perfecto, gracias",
      "genial, gracias",
      // nada más
      "eso es todo",
      "no, eso es todo",
      "eso es todo, gracias",
      "nada más",
      "no, nada más",
      "no gracias",
      // despedidas
      "adiós",
      "adios",
      "hasta luego",
  };
  return p;
}

TimeMs social_close_delay(const Policy& p) {
  return std::clamp(p.social_close_after_ms, kSocialMinClose, kSocialMaxClose);
}

std::string_view to_string(Outcome o) {
  switch (o) {
    case Outcome::Unchanged:
      return "unchanged";
    case Outcome::Continued:
      return "continued";
    case Outcome::Reopened:
      return "reopened";
    case Outcome::NewTicket:
      return "new_ticket";
    case Outcome::Ignored:
      return "ignored";
    case Outcome::WokeUp:
      return "woke_up";
    case Outcome::Closed:
      return "closed";
    case Outcome::StatusSet:
      return "status_set";
    case Outcome::Rejected:
      return "rejected";
    case Outcome::BecameInactive:
      return "became_inactive";
  }
  return "unknown";
}

bool is_ineffectual(const Policy& p, std::string_view locale, std::string_view text) {
  const std::string needle = normalize_phrase(text);
  if (needle.empty()) return false;  // attachments only, or "?": never an acknowledgement
  const auto* list = phrases_for(p, locale);
  if (list == nullptr) return false;
  return std::any_of(list->begin(), list->end(),
                     [&](const std::string& phrase) { return normalize_phrase(phrase) == needle; });
}

Decision on_customer_message(const Policy& p, const Ticket& t, std::string_view locale,
                             std::string_view text, TimeMs now) {
  const bool waiting_or_done =
      t.status == Status::Pending || t.status == Status::Solved || t.status == Status::Closed;
  if (waiting_or_done && is_ineffectual(p, locale, text)) {
    return {t, Outcome::Ignored};
  }

  if (effectively_closed(p, t, now)) {
    return {fresh_ticket(t, now), Outcome::NewTicket};
  }

  Ticket next = t;
  next.last_customer_activity = now;
  next.inactive = false;
  switch (t.status) {
    case Status::Solved:  // inside the window: same number, same assignee
      next.status = Status::Open;
      next.solved_at = 0;
      return {next, Outcome::Reopened};
    case Status::Pending:
    case Status::OnHold:
      next.status = Status::Open;
      break;
    case Status::New:
    case Status::Open:
    case Status::Closed:  // handled above
      break;
  }
  return {next, t.inactive ? Outcome::WokeUp : Outcome::Continued};
}

Decision on_customer_message(const Policy& p, const Ticket& t, std::string_view locale,
                             const Body& body, TimeMs now) {
  const bool waiting_or_done =
      t.status == Status::Pending || t.status == Status::Solved || t.status == Status::Closed;
  if (waiting_or_done && is_survey_answer(body)) return {t, Outcome::Ignored};
  return on_customer_message(p, t, locale, body.text, now);
}

bool is_survey(const Body& b) {
  return b.rich == RichKind::Csat;
}

bool is_survey_answer(const Body& b) {
  if (!b.event.is_object()) return false;
  const auto type = b.event.find("type");
  return type != b.event.end() && type->is_string() && type->get<std::string>() == "csat";
}

Decision on_agent_message(const Policy&, const Ticket& t, std::string_view agent_id, TimeMs) {
  if (t.status == Status::Solved || t.status == Status::Closed) {
    return {t, Outcome::Unchanged};  // a note after solve neither reopens nor prolongs
  }
  Ticket next = t;
  if (next.status == Status::New || next.status == Status::Open) next.status = Status::Pending;
  if (next.assignee.empty() && !agent_id.empty()) next.assignee = std::string(agent_id);
  return {next, Outcome::Continued};
}

Decision on_set_status(const Policy& p, const Ticket& t, Status to, TimeMs now) {
  if (to == t.status) return {t, Outcome::Unchanged};
  if (t.status == Status::Closed) return {t, Outcome::Rejected};  // closed is final

  Ticket next = t;
  // The inactive flag is about the customer's silence, which a status change does not end;
  // only an effectual customer message (or a new ticket) clears it.
  if (to == Status::Closed) {
    next.status = Status::Closed;
    return {next, Outcome::Closed};
  }
  if (to == Status::Solved) {
    next.solved_at = now;
    if (p.style == ConversationalStyle::LiveChat) {
      next.status = Status::Closed;
      return {next, Outcome::Closed};
    }
    next.status = Status::Solved;
    return {next, Outcome::StatusSet};
  }
  next.status = to;
  next.solved_at = 0;  // leaving solved (an agent reopens it by hand)
  return {next, Outcome::StatusSet};
}

Decision on_tick(const Policy& p, const Ticket& t, TimeMs now) {
  if (t.status == Status::Solved && now >= close_deadline(p, t)) {
    Ticket next = t;
    next.status = Status::Closed;
    return {next, Outcome::Closed};
  }
  if (const auto deadline = inactive_deadline(p, t); deadline && now >= *deadline) {
    Ticket next = t;
    next.inactive = true;
    return {next, Outcome::BecameInactive};
  }
  return {t, Outcome::Unchanged};
}

std::optional<TimeMs> next_deadline(const Policy& p, const Ticket& t) {
  if (t.status == Status::Solved) return close_deadline(p, t);
  return inactive_deadline(p, t);
}

}  // namespace parley::lifecycle
