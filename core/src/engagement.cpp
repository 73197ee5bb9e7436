// Customer responsiveness signals (see engagement.hpp).
//
// Reply latency: an agent/bot message starts a wait (awaiting_reply_since, kept if a wait is
// already running, so several agent messages in a row measure from the first); the customer's
// next message ends it and records one sample, now - awaiting_reply_since. The average is an
// EWMA, avg = alpha * sample + (1 - alpha) * avg with alpha = kEwmaAlpha, rounded to the
// millisecond; the first sample sets it.
//
// Presence: the visitor is present when
//     (visible && (focused || now - last_seen_ts < kPresenceIdleMs))
//  || now - last_typing_ts < kTypingFreshMs
// where a timestamp of 0 means "never". A hidden page cannot hold focus, and a focused page is
// visible, so on_visibility(false) clears focus and on_focus(true) sets visibility.
//
// Level (first rule that applies):
//   Away    not present;
//   High    typing right now, or replies on average within 60 s, or no reply measured yet but
//           the widget has focus;
//   Medium  no reply measured yet, or replies on average within 10 min;
//   Low     otherwise (present but slow to reply).
#include "parley/engagement.hpp"

#include <algorithm>
#include <cmath>

namespace parley::engagement {

namespace {

constexpr TimeMs kHighLatencyMs = 60'000;
constexpr TimeMs kMediumLatencyMs = 10 * 60'000;

// Whether `ts` (0 = never) is less than `window` before `now`.
bool within(TimeMs ts, TimeMs window, TimeMs now) {
  return ts != 0 && now - ts < window;
}

}  // namespace

std::string_view to_string(Level l) {
  switch (l) {
    case Level::High:
      return "high";
    case Level::Medium:
      return "medium";
    case Level::Low:
      return "low";
    case Level::Away:
      return "away";
  }
  return "away";
}

void Tracker::on_agent_message(TimeMs now) {
  if (awaiting_reply_since == 0) awaiting_reply_since = now;
}

void Tracker::on_customer_message(TimeMs now) {
  last_seen_ts = now;
  if (awaiting_reply_since == 0) return;
  const TimeMs sample = std::max<TimeMs>(0, now - awaiting_reply_since);
  awaiting_reply_since = 0;
  if (samples == 0) {
    avg_reply_latency_ms = sample;
  } else {
    const double blended = kEwmaAlpha * static_cast<double>(sample) +
                           (1.0 - kEwmaAlpha) * static_cast<double>(avg_reply_latency_ms);
    avg_reply_latency_ms = static_cast<TimeMs>(std::llround(blended));
  }
  ++samples;
}

void Tracker::on_visibility(bool is_visible, TimeMs now) {
  visible = is_visible;
  if (!is_visible) focused = false;
  last_seen_ts = now;
}

void Tracker::on_focus(bool is_focused, TimeMs now) {
  focused = is_focused;
  if (is_focused) visible = true;
  last_seen_ts = now;
}

void Tracker::on_typing(TimeMs now) {
  last_typing_ts = now;
  last_seen_ts = now;
}

bool Tracker::present(TimeMs now) const {
  const bool looking = visible && (focused || within(last_seen_ts, kPresenceIdleMs, now));
  return looking || within(last_typing_ts, kTypingFreshMs, now);
}

Level Tracker::level(TimeMs now) const {
  if (!present(now)) return Level::Away;
  const bool typing = within(last_typing_ts, kTypingFreshMs, now);
  if (typing || (samples > 0 && avg_reply_latency_ms < kHighLatencyMs) ||
      (samples == 0 && focused)) {
    return Level::High;
  }
  if (samples == 0 || avg_reply_latency_ms < kMediumLatencyMs) return Level::Medium;
  return Level::Low;
}

bool serve_first(const QueueEntry& a, const QueueEntry& b) {
  if (a.waiting != b.waiting) return a.waiting < b.waiting;
  if (a.waiting == QueueEntry::Waiting::Agent) {
    if (a.level != b.level) return a.level < b.level;  // High < Medium < Low < Away
    const bool a_known = a.reply_latency_ms > 0, b_known = b.reply_latency_ms > 0;
    if (a_known != b_known) return a_known;
    if (a.reply_latency_ms != b.reply_latency_ms) return a.reply_latency_ms < b.reply_latency_ms;
    return a.waiting_since < b.waiting_since;
  }
  return a.updated_ts > b.updated_ts;
}

std::optional<Level> level_from_string(std::string_view s) {
  for (Level l : {Level::High, Level::Medium, Level::Low, Level::Away}) {
    if (to_string(l) == s) return l;
  }
  return std::nullopt;
}

}  // namespace parley::engagement
