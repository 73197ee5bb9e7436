// Customer responsiveness signals.
//
// Tracks reply latency (time from an agent/bot message to the customer's next message) as an
// exponentially weighted average, plus presence from visibility, focus and typing. Derives an
// engagement level that the backend uses to prioritise (adaptive response timer).
#pragma once

#include <optional>
#include <string_view>

#include "parley/types.hpp"

namespace parley::engagement {

enum class Level { High, Medium, Low, Away };
std::string_view to_string(Level l);

struct Tracker {
  TimeMs avg_reply_latency_ms = 0;  // EWMA; 0 = no sample yet
  int samples = 0;
  TimeMs awaiting_reply_since = 0;  // agent message not yet answered (0 = none)
  bool visible = false;
  bool focused = false;
  TimeMs last_typing_ts = 0;
  TimeMs last_seen_ts = 0;  // last visibility/focus/typing/message activity

  void on_agent_message(TimeMs now);
  void on_customer_message(TimeMs now);
  void on_visibility(bool visible, TimeMs now);
  void on_focus(bool focused, TimeMs now);
  void on_typing(TimeMs now);

  bool present(TimeMs now) const;
  Level level(TimeMs now) const;
};

// The agent queue's order (an adaptive response timer): conversations waiting for an agent
// come first, then those waiting for the customer, then solved, then closed. Among those
// waiting for an agent, the more engaged customer first (high, medium, low, away), then the
// faster replier (an unknown latency last), then the longest waiting. Others: the most
// recently updated first. Ties keep their input order (use a stable sort).
struct QueueEntry {
  enum class Waiting { Agent, Customer, Solved, Closed };
  Waiting waiting = Waiting::Customer;
  Level level = Level::Away;
  TimeMs reply_latency_ms = 0;  // 0 = unknown
  TimeMs waiting_since = 0;
  TimeMs updated_ts = 0;
};
bool serve_first(const QueueEntry& a, const QueueEntry& b);
std::optional<Level> level_from_string(std::string_view s);

inline constexpr TimeMs kTypingFreshMs = 10'000;
inline constexpr TimeMs kPresenceIdleMs = 5 * 60'000;
inline constexpr double kEwmaAlpha = 0.3;

}  // namespace parley::engagement
