// Business hours (see hours.hpp). Pure calendar arithmetic on days since the epoch; the
// time zone only enters through the host's offset function.
#include "parley/hours.hpp"

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <set>
#include <string_view>
#include <utility>

namespace parley::hours {
namespace {

constexpr TimeMs kMinuteMs = 60 * 1000;
constexpr TimeMs kDayMs = 24 * 60 * kMinuteMs;
constexpr TimeMs kMaxAbsTime = 1'000'000'000'000'000;  // 10^15 ms, about 31700 years
constexpr TimeMs kMaxAbsOffset = 26 * 60 * kMinuteMs;  // real offsets are within -12h..+14h
constexpr std::size_t kMaxTzBytes = 64;
constexpr std::array<std::string_view, 7> kDayNames = {"mon", "tue", "wed", "thu",
                                                       "fri", "sat", "sun"};

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = floor_div(y, 400);
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// 0 = Monday. 1970-01-01 was a Thursday.
int weekday(std::int64_t day) {
  return static_cast<int>(day - floor_div(day + 3, 7) * 7 + 3);
}

bool leap(std::int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned days_in_month(std::int64_t y, unsigned m) {
  constexpr std::array<unsigned, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

bool digits(std::string_view s, std::size_t from, std::size_t n, unsigned& out) {
  out = 0;
  for (std::size_t i = from; i < from + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + static_cast<unsigned>(s[i] - '0');
  }
  return true;
}

// "YYYY-MM-DD" -> days since the epoch.
std::optional<std::int64_t> parse_date(std::string_view s) {
  unsigned y = 0, m = 0, d = 0;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-' || !digits(s, 0, 4, y) || !digits(s, 5, 2, m) ||
      !digits(s, 8, 2, d)) {
    return std::nullopt;
  }
  if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return std::nullopt;
  return days_from_civil(y, m, d);
}

// "HH:MM" -> minutes since midnight, 00:00..24:00.
std::optional<int> parse_time(std::string_view s) {
  unsigned h = 0, m = 0;
  if (s.size() != 5 || s[2] != ':' || !digits(s, 0, 2, h) || !digits(s, 3, 2, m)) {
    return std::nullopt;
  }
  if (m > 59 || h > 24 || (h == 24 && m != 0)) return std::nullopt;
  return static_cast<int>(h * 60 + m);
}

TimeMs offset_at(const OffsetFn& offset, TimeMs utc) {
  return offset ? std::clamp(offset(utc), -kMaxAbsOffset, kMaxAbsOffset) : 0;
}

// The UTC instant of local time `local`. Tries the offsets in force a day before, at, and a
// day after; a consistent one (offset(utc) == the offset used) wins, the earliest if several
// (a repeated local time). None is consistent in a skipped local time: read it with the
// offset from before the change.
TimeMs to_utc(const OffsetFn& offset, TimeMs local) {
  const TimeMs before = offset_at(offset, local - kDayMs);
  std::optional<TimeMs> best;
  for (const TimeMs o : {before, offset_at(offset, local), offset_at(offset, local + kDayMs)}) {
    const TimeMs utc = local - o;
    if (offset_at(offset, utc) == o && (!best || utc < *best)) best = utc;
  }
  return best ? *best : local - before;
}

TimeMs saturating_add(TimeMs a, TimeMs b) {
  if (b > 0 && a > std::numeric_limits<TimeMs>::max() - b) {
    return std::numeric_limits<TimeMs>::max();
  }
  return a + b;
}

// ------------------------------------------------------------------ parsing
struct Path {
  std::string text;
  Path key(std::string_view k) const {
    Path p{text};
    if (!p.text.empty()) p.text += '.';
    p.text += k;
    return p;
  }
  Path index(std::size_t i) const { return Path{text + "[" + std::to_string(i) + "]"}; }
};

Error invalid(const Path& p, std::string_view why) {
  std::string msg = "invalid field ";
  msg += p.text;
  msg += ": ";
  msg += why;
  return make_error(ErrorCode::InvalidField, std::move(msg));
}

// The member `key` of object `j`, or nullptr when absent or null.
const Json* member(const Json& j, std::string_view key) {
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

std::optional<Error> parse_tz(const Json& v, std::string& out) {
  const auto* s = v.get_ptr<const std::string*>();
  const bool ok = s && s->size() <= kMaxTzBytes && std::all_of(s->begin(), s->end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '/' || c == '_' || c == '+' || c == '-';
                  });
  if (!ok) {
    return invalid(Path{"tz"},
                   "expected an IANA time zone name (at most 64 bytes of A-Z a-z 0-9 / _ + -)");
  }
  out = *s;
  return std::nullopt;
}

std::optional<Error> parse_interval(const Json& v, const Path& p, Interval& out) {
  if (!v.is_array() || v.size() != 2) return invalid(p, R"(expected ["HH:MM","HH:MM"])");
  int mins[2] = {0, 0};
  for (std::size_t i = 0; i < 2; ++i) {
    const auto* s = v[i].get_ptr<const std::string*>();
    const auto t = s ? parse_time(*s) : std::nullopt;
    if (!t) return invalid(p.index(i), "expected a time HH:MM in 00:00..24:00");
    mins[i] = *t;
  }
  if (mins[0] >= mins[1]) return invalid(p, "start must be before end");
  out = Interval{mins[0], mins[1]};
  return std::nullopt;
}

std::optional<Error> parse_weekly(const Json& v, std::array<std::vector<Interval>, 7>& out) {
  const Path weekly{"weekly"};
  if (!v.is_object()) return invalid(weekly, "expected an object");
  bool any = false;
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string& name = it.key();
    const auto day = std::find(kDayNames.begin(), kDayNames.end(), name);
    if (day == kDayNames.end()) {
      const Path p = name.empty() || name.size() > 32 ? weekly : weekly.key(name);
      return invalid(p, "unknown day (expected mon, tue, wed, thu, fri, sat or sun)");
    }
    if (it->is_null()) continue;
    const Path p = weekly.key(name);
    if (!it->is_array()) return invalid(p, "expected an array");
    if (it->size() > kMaxIntervalsPerDay) {
      return invalid(p, "expected 0.." + std::to_string(kMaxIntervalsPerDay) + " elements");
    }
    auto& intervals = out[static_cast<std::size_t>(day - kDayNames.begin())];
    intervals.resize(it->size());
    for (std::size_t i = 0; i < it->size(); ++i) {
      if (auto e = parse_interval((*it)[i], p.index(i), intervals[i])) return e;
    }
    any = any || !intervals.empty();
  }
  if (!v.empty() && !any) {
    return invalid(weekly, "no opening hours on any day (omit weekly to be always open)");
  }
  return std::nullopt;
}

std::optional<Error> parse_holidays(const Json& v, std::vector<std::string>& out) {
  const Path holidays{"holidays"};
  if (!v.is_array()) return invalid(holidays, "expected an array");
  if (v.size() > kMaxHolidays) {
    return invalid(holidays, "expected 0.." + std::to_string(kMaxHolidays) + " elements");
  }
  out.clear();
  for (std::size_t i = 0; i < v.size(); ++i) {
    const auto* s = v[i].get_ptr<const std::string*>();
    if (!s || !parse_date(*s)) return invalid(holidays.index(i), "expected a date YYYY-MM-DD");
    out.push_back(*s);
  }
  return std::nullopt;
}

std::optional<Error> parse_reply_ms(const Json& v, TimeMs& out) {
  std::optional<std::int64_t> n;
  if (const auto* u = v.get_ptr<const Json::number_unsigned_t*>()) {
    if (*u <= static_cast<std::uint64_t>(kMaxReplyMs)) n = static_cast<std::int64_t>(*u);
  } else if (const auto* i = v.get_ptr<const Json::number_integer_t*>()) {
    n = *i;
  }
  if (!n || *n < 0 || *n > kMaxReplyMs) {
    return invalid(Path{"reply_ms_open"},
                   "expected an integer in 0.." + std::to_string(kMaxReplyMs));
  }
  out = *n;
  return std::nullopt;
}

}  // namespace

Availability evaluate(const Schedule& schedule, const OffsetFn& offset, TimeMs now) {
  const TimeMs reply = std::max<TimeMs>(0, schedule.reply_ms_open);
  const bool all_week = std::all_of(schedule.weekly.begin(), schedule.weekly.end(),
                                    [](const auto& day) { return day.empty(); });
  if ((all_week && schedule.holidays.empty()) || now < -kMaxAbsTime || now > kMaxAbsTime) {
    return Availability{true, reply, 0};
  }
  std::set<std::int64_t> holidays;
  for (const auto& h : schedule.holidays) {
    if (auto d = parse_date(h)) holidays.insert(*d);
  }
  static const std::vector<Interval> kAllDay = {Interval{0, kMinutesPerDay}};

  // Openings as UTC spans, from the day before today to a day past the lookahead (so that
  // neither end of the scan, moved by DST, is mistaken for a change).
  const std::int64_t today = floor_div(now + offset_at(offset, now), kDayMs);
  std::vector<std::pair<TimeMs, TimeMs>> spans;
  for (std::int64_t day = today - 1; day <= today + kLookaheadDays + 1; ++day) {
    if (holidays.count(day)) continue;
    const auto& intervals =
        all_week ? kAllDay : schedule.weekly[static_cast<std::size_t>(weekday(day))];
    for (const Interval& iv : intervals) {
      if (iv.start_min < 0 || iv.end_min > kMinutesPerDay || iv.start_min >= iv.end_min) continue;
      const TimeMs start = to_utc(offset, day * kDayMs + iv.start_min * kMinuteMs);
      const TimeMs end = to_utc(offset, day * kDayMs + iv.end_min * kMinuteMs);
      if (start < end) spans.emplace_back(start, end);
    }
  }
  std::sort(spans.begin(), spans.end());
  std::vector<std::pair<TimeMs, TimeMs>> merged;
  for (const auto& s : spans) {
    if (!merged.empty() && s.first <= merged.back().second) {
      merged.back().second = std::max(merged.back().second, s.second);
    } else {
      merged.push_back(s);
    }
  }

  const TimeMs horizon = now + kLookaheadDays * kDayMs;
  for (const auto& [start, end] : merged) {
    if (end <= now) continue;
    if (start <= now) return Availability{true, reply, end <= horizon ? end : 0};
    if (start > horizon) break;
    return Availability{false, saturating_add(start - now, reply), start};
  }
  return Availability{false, 0, 0};
}

std::optional<Error> parse_schedule(const Json& j, Schedule& out) {
  if (!j.is_object()) return invalid(Path{"schedule"}, "expected an object");
  Schedule s;
  if (const Json* v = member(j, "tz")) {
    if (auto e = parse_tz(*v, s.tz)) return e;
  }
  if (const Json* v = member(j, "weekly")) {
    if (auto e = parse_weekly(*v, s.weekly)) return e;
  }
  if (const Json* v = member(j, "holidays")) {
    if (auto e = parse_holidays(*v, s.holidays)) return e;
  }
  if (const Json* v = member(j, "reply_ms_open")) {
    if (auto e = parse_reply_ms(*v, s.reply_ms_open)) return e;
  }
  out = std::move(s);
  return std::nullopt;
}

}  // namespace parley::hours
