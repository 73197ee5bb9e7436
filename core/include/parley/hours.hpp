// Business hours: whether the team is open at an instant, when that changes, and how long a
// reply is expected to take. Pure: the host supplies the time zone as an offset function
// (the server from the tz database, the browser from Intl); the core never reads the OS
// time zone or the clock.
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "parley/model.hpp"
#include "parley/types.hpp"

namespace parley::hours {

inline constexpr int kMinutesPerDay = 24 * 60;
inline constexpr int kLookaheadDays = 14;  // how far evaluate() looks for the next change
inline constexpr std::size_t kMaxIntervalsPerDay = 24;
inline constexpr std::size_t kMaxHolidays = 1000;
inline constexpr TimeMs kMaxReplyMs = 30LL * 24 * 60 * 60 * 1000;  // 30 days

// Opening hours of one local day, in minutes since local midnight: [start_min, end_min).
// 0 <= start_min < end_min <= 1440; an end of 1440 is the next midnight, so hours that run
// past midnight are written as two intervals (22:00-24:00, then 00:00-02:00 the next day).
struct Interval {
  int start_min = 0;
  int end_min = 0;
  bool operator==(const Interval&) const = default;
};

// A team's business hours, in the team's local time.
//
// An empty `weekly` (no interval on any day) means open around the clock; `holidays` still
// close their days. So an empty schedule with no holidays is "always open".
struct Schedule {
  std::array<std::vector<Interval>, 7> weekly;  // 0 = Monday ... 6 = Sunday
  std::vector<std::string> holidays;            // "YYYY-MM-DD" local dates, closed all day
  TimeMs reply_ms_open = 2 * 60 * 60 * 1000;    // expected reply time while open
  std::string tz;  // IANA name (e.g. "Europe/Oslo"); only carried, the host converts
  bool operator==(const Schedule&) const = default;
};

// The local time's offset from UTC, in milliseconds (local = utc + offset), at the UTC
// instant `utc_ms`. Supplied by the host for Schedule::tz; an empty function means UTC.
using OffsetFn = std::function<TimeMs(TimeMs utc_ms)>;

struct Availability {
  bool open = true;
  // Open: Schedule::reply_ms_open. Closed: the time until the next opening plus
  // reply_ms_open; 0 when closed with no opening within kLookaheadDays (unknown).
  TimeMs expected_reply_ms = 0;
  // UTC ms of the next closing (when open) or opening (when closed); 0 = none within
  // kLookaheadDays.
  TimeMs next_change_ts = 0;
  bool operator==(const Availability&) const = default;
};

// Availability at `now` (UTC ms). Scans local days from the day before `now` up to
// kLookaheadDays ahead; intervals that touch or overlap (including across midnight) are one
// opening. Each local boundary is converted to UTC by asking `offset` around that instant,
// so DST changes are honoured. A local time skipped by a DST change is read with the offset
// from before the change (02:30 on a 02:00 -> 03:00 night is 03:30); a repeated local time
// is its first occurrence. Intervals that are out of range or empty, and malformed holiday
// strings, are ignored. `now` must be within +-10^15 ms of the epoch (about 31000 years);
// outside that the result is "open", with no change.
Availability evaluate(const Schedule& schedule, const OffsetFn& offset, TimeMs now);

// Parses a schedule from configuration JSON:
//   {"tz": "Europe/Oslo",
//    "weekly": {"mon": [["09:00","17:00"]], "sat": [["10:00","14:00"]], ...},
//    "holidays": ["2026-12-25"], "reply_ms_open": 7200000}
// Every field is optional; unknown fields are ignored, `null` is the same as absent.
//   tz             string, at most 64 bytes of A-Z a-z 0-9 / _ + -
//   weekly         object keyed by mon, tue, wed, thu, fri, sat, sun; each day an array (at
//                  most kMaxIntervalsPerDay) of ["HH:MM","HH:MM"] pairs, times 00:00..24:00,
//                  start before end. Days not listed are closed. Absent or {} = always open;
//                  a weekly object that lists days but no interval at all is an error.
//   holidays       array (at most kMaxHolidays) of "YYYY-MM-DD" calendar dates
//   reply_ms_open  integer 0..kMaxReplyMs (default 2 h)
// Errors are ErrorCode::InvalidField with the field's path, as the protocol reports them
// (e.g. "invalid field weekly.mon[0][1]: expected a time HH:MM in 00:00..24:00"). On error
// `out` is left unchanged.
std::optional<Error> parse_schedule(const Json& j, Schedule& out);

}  // namespace parley::hours
