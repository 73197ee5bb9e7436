// Business hours: open/closed, the next change over weekends, holidays and DST (with a fake
// offset function standing in for the host's time zone database), hours across midnight,
// the always-open schedule, and the config parser's typed errors.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "parley/hours.hpp"

namespace Catch {
template <>
struct StringMaker<parley::hours::Availability> {
  static std::string convert(const parley::hours::Availability& a) {
    return std::string(a.open ? "{open" : "{closed") +
           ", reply_ms=" + std::to_string(a.expected_reply_ms) +
           ", next_change=" + std::to_string(a.next_change_ts) + "}";
  }
};
}  // namespace Catch

using namespace parley;
using namespace parley::hours;

namespace {

constexpr TimeMs kMinute = 60'000;
constexpr TimeMs kHour = 60 * kMinute;
constexpr TimeMs kDay = 24 * kHour;

// Days since 1970-01-01 (an independent copy of the civil-date formula, for the tests).
std::int64_t civil_days(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

TimeMs utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0) {
  return civil_days(y, m, d) * kDay + hh * kHour + mm * kMinute;
}

// Europe/Oslo in 2026: CET (+1 h), and CEST (+2 h) from 29 March 01:00 UTC to 25 October
// 01:00 UTC. The host would answer this from the tz database.
const TimeMs kDstStart = utc(2026, 3, 29, 1);
const TimeMs kDstEnd = utc(2026, 10, 25, 1);
TimeMs oslo_offset(TimeMs t) {
  return t >= kDstStart && t < kDstEnd ? 2 * kHour : kHour;
}
const OffsetFn kOslo = oslo_offset;
const OffsetFn kUtc = [](TimeMs) { return TimeMs{0}; };

// A local Oslo wall-clock time as a UTC instant (not for times in the DST gap/overlap).
TimeMs oslo(int y, unsigned m, unsigned d, int hh = 0, int mm = 0) {
  const TimeMs wall = utc(y, m, d, hh, mm);
  return oslo_offset(wall - kHour) == kHour ? wall - kHour : wall - 2 * kHour;
}

Interval iv(int start_h, int end_h) {
  return Interval{start_h * 60, end_h * 60};
}

// Monday to Friday, 09:00-17:00.
Schedule office() {
  Schedule s;
  for (std::size_t d = 0; d < 5; ++d) s.weekly[d] = {iv(9, 17)};
  s.tz = "Europe/Oslo";
  return s;
}

constexpr TimeMs kReply = 2 * kHour;  // Schedule's default reply_ms_open

Availability open_until(TimeMs close) {
  return Availability{true, kReply, close};
}
Availability closed_until(TimeMs now, TimeMs opening) {
  return Availability{false, opening - now + kReply, opening};
}

Json json(const char* text) {
  return Json::parse(text);
}
Error parse_error(const char* text) {
  Schedule s;
  auto e = parse_schedule(json(text), s);
  INFO(text);
  REQUIRE(e.has_value());
  CHECK(e->code == ErrorCode::InvalidField);
  return *e;
}

}  // namespace

TEST_CASE("the test's Oslo clock is right", "[hours]") {
  CHECK(oslo(2026, 1, 14, 10) == utc(2026, 1, 14, 9));
  CHECK(oslo(2026, 7, 1, 10) == utc(2026, 7, 1, 8));
  CHECK(oslo(2026, 3, 30, 9) == utc(2026, 3, 30, 7));
}

TEST_CASE("open during the day's hours, closed outside them", "[hours]") {
  const Schedule s = office();
  // Wednesday 14 January 2026
  SECTION("open: the next change is today's closing") {
    const TimeMs now = oslo(2026, 1, 14, 10);
    CHECK(evaluate(s, kOslo, now) == open_until(oslo(2026, 1, 14, 17)));
  }
  SECTION("opening time is open, closing time is closed") {
    CHECK(evaluate(s, kOslo, oslo(2026, 1, 14, 9)).open);
    const TimeMs at_close = oslo(2026, 1, 14, 17);
    CHECK(evaluate(s, kOslo, at_close) == closed_until(at_close, oslo(2026, 1, 15, 9)));
    CHECK(evaluate(s, kOslo, at_close - 1) == open_until(at_close));
  }
  SECTION("before opening: the reply is expected after the opening") {
    const TimeMs now = oslo(2026, 1, 14, 8);
    const Availability a = evaluate(s, kOslo, now);
    CHECK(a == closed_until(now, oslo(2026, 1, 14, 9)));
    CHECK(a.expected_reply_ms == kHour + kReply);
  }
  SECTION("reply_ms_open is what an open team promises") {
    Schedule fast = s;
    fast.reply_ms_open = 5 * kMinute;
    const TimeMs now = oslo(2026, 1, 14, 16);
    CHECK(evaluate(fast, kOslo, now).expected_reply_ms == 5 * kMinute);
    const TimeMs evening = oslo(2026, 1, 14, 20);
    CHECK(evaluate(fast, kOslo, evening).expected_reply_ms == 13 * kHour + 5 * kMinute);
  }
}

TEST_CASE("the weekend is closed and the next opening is Monday", "[hours]") {
  const Schedule s = office();
  SECTION("Saturday noon") {
    const TimeMs now = oslo(2026, 1, 17, 12);
    const Availability a = evaluate(s, kOslo, now);
    CHECK(a == closed_until(now, oslo(2026, 1, 19, 9)));
    CHECK(a.expected_reply_ms == 45 * kHour + kReply);
  }
  SECTION("Friday after closing") {
    const TimeMs now = oslo(2026, 1, 16, 18);
    CHECK(evaluate(s, kOslo, now) == closed_until(now, oslo(2026, 1, 19, 9)));
  }
  SECTION("Sunday just before midnight") {
    const TimeMs now = oslo(2026, 1, 18, 23, 59);
    CHECK(evaluate(s, kOslo, now) == closed_until(now, oslo(2026, 1, 19, 9)));
  }
}

TEST_CASE("holidays close the whole local day", "[hours]") {
  Schedule s = office();
  s.holidays = {"2026-12-25", "not a date", "2026-12-31"};  // malformed entries are ignored
  SECTION("on the holiday (a Friday)") {
    const TimeMs now = oslo(2026, 12, 25, 12);
    CHECK(evaluate(s, kOslo, now) == closed_until(now, oslo(2026, 12, 28, 9)));
  }
  SECTION("the evening before skips the holiday and the weekend") {
    const TimeMs now = oslo(2026, 12, 24, 18);
    CHECK(evaluate(s, kOslo, now) == closed_until(now, oslo(2026, 12, 28, 9)));
  }
  SECTION("the day before is a normal day") {
    CHECK(evaluate(s, kOslo, oslo(2026, 12, 24, 16)) == open_until(oslo(2026, 12, 24, 17)));
  }
  SECTION("holidays are local dates: 23:30 UTC on the 24th is already the 25th in Oslo") {
    Schedule late = s;
    for (auto& day : late.weekly) day = {Interval{0, kMinutesPerDay}};
    const TimeMs now = utc(2026, 12, 24, 23, 30);
    CHECK(evaluate(late, kOslo, now) == closed_until(now, oslo(2026, 12, 26, 0)));
    CHECK(evaluate(late, kUtc, now) == open_until(utc(2026, 12, 25)));
  }
}

TEST_CASE("DST: each boundary is converted with the offset in force at that instant",
          "[hours][dst]") {
  const Schedule s = office();
  SECTION("Friday evening before spring forward: Monday 09:00 is in summer time") {
    const TimeMs now = oslo(2026, 3, 27, 18);
    REQUIRE(now == utc(2026, 3, 27, 17));
    const Availability a = evaluate(s, kOslo, now);
    CHECK(a.next_change_ts == utc(2026, 3, 30, 7));  // 09:00 CEST, not 08:00 UTC
    CHECK(a == closed_until(now, utc(2026, 3, 30, 7)));
  }
  SECTION("Friday evening before fall back: Monday 09:00 is in winter time") {
    const TimeMs now = oslo(2026, 10, 23, 18);
    CHECK(evaluate(s, kOslo, now) == closed_until(now, utc(2026, 10, 26, 8)));
  }
  SECTION("the spring-forward Sunday has 23 hours") {
    Schedule sunday;
    sunday.weekly[6] = {Interval{0, kMinutesPerDay}};
    const TimeMs now = oslo(2026, 3, 29, 12);
    CHECK(evaluate(sunday, kOslo, now) == open_until(utc(2026, 3, 29, 22)));
    const TimeMs saturday = oslo(2026, 3, 28, 12);
    CHECK(evaluate(sunday, kOslo, saturday) == closed_until(saturday, utc(2026, 3, 28, 23)));
  }
  SECTION("a skipped local time is read with the offset from before the change") {
    Schedule night;
    night.weekly[6] = {Interval{2 * 60 + 30, 5 * 60}};  // Sunday 02:30-05:00
    const TimeMs now = oslo(2026, 3, 28, 12);
    // 02:30 does not exist that night: it is 03:30 CEST, 01:30 UTC.
    CHECK(evaluate(night, kOslo, now) == closed_until(now, utc(2026, 3, 29, 1, 30)));
    const TimeMs open_now = utc(2026, 3, 29, 2);
    CHECK(evaluate(night, kOslo, open_now) == open_until(utc(2026, 3, 29, 3)));
  }
  SECTION("a repeated local time is its first occurrence") {
    Schedule night;
    night.weekly[6] = {Interval{2 * 60 + 30, 5 * 60}};
    const TimeMs now = oslo(2026, 10, 24, 12);
    // 02:30 happens twice that night: first at 00:30 UTC (CEST).
    CHECK(evaluate(night, kOslo, now) == closed_until(now, utc(2026, 10, 25, 0, 30)));
    CHECK(evaluate(night, kOslo, utc(2026, 10, 25, 1)) == open_until(utc(2026, 10, 25, 4)));
  }
}

TEST_CASE("hours across midnight are one opening", "[hours]") {
  Schedule s;
  s.weekly[0] = {iv(22, 24)};  // Monday 22:00-24:00
  s.weekly[1] = {iv(0, 2)};    // Tuesday 00:00-02:00
  SECTION("Monday 23:00 closes on Tuesday at 02:00, not at midnight") {
    CHECK(evaluate(s, kOslo, oslo(2026, 1, 12, 23)) == open_until(oslo(2026, 1, 13, 2)));
  }
  SECTION("Tuesday 01:00 is still open") {
    CHECK(evaluate(s, kOslo, oslo(2026, 1, 13, 1)) == open_until(oslo(2026, 1, 13, 2)));
  }
  SECTION("Tuesday 03:00 waits for next Monday night") {
    const TimeMs now = oslo(2026, 1, 13, 3);
    CHECK(evaluate(s, kOslo, now) == closed_until(now, oslo(2026, 1, 19, 22)));
  }
  SECTION("a whole weekend open closes on Monday at 00:00") {
    Schedule weekend;
    weekend.weekly[5] = {Interval{0, kMinutesPerDay}};
    weekend.weekly[6] = {Interval{0, kMinutesPerDay}};
    CHECK(evaluate(weekend, kOslo, oslo(2026, 1, 17, 10)) == open_until(oslo(2026, 1, 19, 0)));
  }
  SECTION("overlapping intervals merge") {
    Schedule overlap;
    overlap.weekly[2] = {iv(13, 18), iv(9, 14), Interval{-5, 3000},
                         iv(12, 12)};  // bad ones ignored
    CHECK(evaluate(overlap, kOslo, oslo(2026, 1, 14, 10)) == open_until(oslo(2026, 1, 14, 18)));
  }
}

TEST_CASE("always open, and nothing within the lookahead", "[hours]") {
  SECTION("an empty schedule is always open and never changes") {
    const Schedule s;
    const TimeMs now = oslo(2026, 1, 17, 3);
    CHECK(evaluate(s, kOslo, now) == Availability{true, kReply, 0});
    int calls = 0;
    const OffsetFn counting = [&](TimeMs) {
      ++calls;
      return TimeMs{0};
    };
    CHECK(evaluate(s, counting, now).open);
    CHECK(calls == 0);  // no time zone needed
  }
  SECTION("an empty weekly schedule with holidays is open except on them") {
    Schedule s;
    s.holidays = {"2026-05-17"};
    CHECK(evaluate(s, kOslo, oslo(2026, 5, 16, 20)) == open_until(oslo(2026, 5, 17)));
    const TimeMs now = oslo(2026, 5, 17, 9);
    CHECK(evaluate(s, kOslo, now) == closed_until(now, oslo(2026, 5, 18)));
    // A holiday more than 14 days away: no change within the lookahead.
    CHECK(evaluate(s, kOslo, oslo(2026, 4, 1)) == Availability{true, kReply, 0});
  }
  SECTION("an empty offset function is UTC") {
    const TimeMs now = utc(2026, 1, 14, 8, 30);
    CHECK(evaluate(office(), OffsetFn{}, now) == closed_until(now, utc(2026, 1, 14, 9)));
  }
  SECTION("open around the clock every day: no change within 14 days") {
    Schedule s;
    for (auto& day : s.weekly) day = {Interval{0, kMinutesPerDay}};
    CHECK(evaluate(s, kOslo, oslo(2026, 3, 25, 23, 30)) == Availability{true, kReply, 0});
  }
  SECTION("closed with no opening within 14 days: the wait is unknown (0)") {
    Schedule s;
    s.weekly[0] = {iv(9, 17)};
    s.holidays = {"2026-01-19", "2026-01-26"};
    CHECK(evaluate(s, kOslo, oslo(2026, 1, 13, 12)) == Availability{false, 0, 0});
    // The Monday after is 20 days away; one holiday fewer and it is found.
    s.holidays.pop_back();
    const TimeMs now = oslo(2026, 1, 13, 12);
    CHECK(evaluate(s, kOslo, now) == closed_until(now, oslo(2026, 1, 26, 9)));
  }
  SECTION("a closing more than 14 days away is not reported") {
    Schedule s;
    for (auto& day : s.weekly) day = {Interval{0, kMinutesPerDay}};
    s.holidays = {"2026-02-10"};
    CHECK(evaluate(s, kOslo, oslo(2026, 1, 20)) == Availability{true, kReply, 0});
    CHECK(evaluate(s, kOslo, oslo(2026, 1, 28)) == open_until(oslo(2026, 2, 10)));
  }
}

TEST_CASE("parse_schedule reads the config format", "[hours][parse]") {
  Schedule s;
  const auto err = parse_schedule(json(R"({"tz":"Europe/Oslo",
      "weekly":{"mon":[["09:00","17:00"]],"tue":[["09:00","12:00"],["13:00","17:30"]],
                "sat":[["22:00","24:00"]],"sun":[],"fri":null},
      "holidays":["2026-12-25","2028-02-29"],"reply_ms_open":7200000,"future_field":1})"),
                                  s);
  REQUIRE_FALSE(err.has_value());
  CHECK(s.tz == "Europe/Oslo");
  CHECK(s.weekly[0] == std::vector<Interval>{Interval{540, 1020}});
  CHECK(s.weekly[1] == std::vector<Interval>{Interval{540, 720}, Interval{780, 1050}});
  CHECK(s.weekly[2].empty());
  CHECK(s.weekly[4].empty());
  CHECK(s.weekly[5] == std::vector<Interval>{Interval{1320, 1440}});
  CHECK(s.weekly[6].empty());
  CHECK(s.holidays == std::vector<std::string>{"2026-12-25", "2028-02-29"});
  CHECK(s.reply_ms_open == 7200000);
  // Tuesday at 12:30 (lunch): closed until 13:00.
  const TimeMs now = oslo(2026, 1, 13, 12, 30);
  CHECK(evaluate(s, kOslo, now) ==
        Availability{false, 30 * kMinute + 2 * kHour, oslo(2026, 1, 13, 13)});

  SECTION("everything is optional: {} is always open") {
    Schedule d;
    d.tz = "x";
    REQUIRE_FALSE(parse_schedule(json("{}"), d).has_value());
    CHECK(d == Schedule{});
    REQUIRE_FALSE(
        parse_schedule(json(R"({"tz":null,"weekly":{},"holidays":[],"reply_ms_open":0})"), d)
            .has_value());
    CHECK(d.reply_ms_open == 0);
    CHECK(evaluate(d, kOslo, now) == Availability{true, 0, 0});
  }
}

TEST_CASE("parse_schedule: typed errors name the field", "[hours][parse]") {
  SECTION("times") {
    CHECK(parse_error(R"({"weekly":{"mon":[["25:00","26:00"]]}})").message ==
          "invalid field weekly.mon[0][0]: expected a time HH:MM in 00:00..24:00");
    CHECK(parse_error(R"({"weekly":{"mon":[["09:00","17:00"],["18:00","24:30"]]}})").message ==
          "invalid field weekly.mon[1][1]: expected a time HH:MM in 00:00..24:00");
    for (const char* bad : {R"("9:00")", R"("09:60")", R"("09-00")", R"("0900")", R"(" 09:00")",
                            R"(540)", R"(null)"}) {
      const std::string text = std::string(R"({"weekly":{"wed":[[)") + bad + R"(,"17:00"]]}})";
      CHECK(parse_error(text.c_str()).message ==
            "invalid field weekly.wed[0][0]: expected a time HH:MM in 00:00..24:00");
    }
  }
  SECTION("start must be before end") {
    CHECK(parse_error(R"({"weekly":{"tue":[["17:00","09:00"]]}})").message ==
          "invalid field weekly.tue[0]: start must be before end");
    CHECK(parse_error(R"({"weekly":{"tue":[["09:00","09:00"]]}})").message ==
          "invalid field weekly.tue[0]: start must be before end");
    CHECK(parse_error(R"({"weekly":{"tue":[["24:00","24:00"]]}})").message ==
          "invalid field weekly.tue[0]: start must be before end");
  }
  SECTION("interval and day shapes") {
    CHECK(parse_error(R"({"weekly":{"thu":[["09:00"]]}})").message ==
          R"(invalid field weekly.thu[0]: expected ["HH:MM","HH:MM"])");
    CHECK(parse_error(R"({"weekly":{"thu":["09:00-17:00"]}})").message ==
          R"(invalid field weekly.thu[0]: expected ["HH:MM","HH:MM"])");
    CHECK(parse_error(R"({"weekly":{"thu":{"from":"09:00"}}})").message ==
          "invalid field weekly.thu: expected an array");
    CHECK(parse_error(R"({"weekly":[["09:00","17:00"]]})").message ==
          "invalid field weekly: expected an object");
    std::string many = R"({"weekly":{"fri":[)";
    for (int i = 0; i < 25; ++i) many += std::string(i ? "," : "") + R"(["09:00","10:00"])";
    many += "]}}";
    CHECK(parse_error(many.c_str()).message == "invalid field weekly.fri: expected 0..24 elements");
  }
  SECTION("day names") {
    CHECK(
        parse_error(R"({"weekly":{"funday":[["09:00","17:00"]]}})").message ==
        "invalid field weekly.funday: unknown day (expected mon, tue, wed, thu, fri, sat or sun)");
    CHECK(parse_error(R"({"weekly":{"Mon":[["09:00","17:00"]]}})").message ==
          "invalid field weekly.Mon: unknown day (expected mon, tue, wed, thu, fri, sat or sun)");
    CHECK(parse_error(R"({"weekly":{"monday":[["09:00","17:00"]]}})").code ==
          ErrorCode::InvalidField);
  }
  SECTION("a weekly schedule without any hours is refused, not read as always open") {
    CHECK(parse_error(R"({"weekly":{"sat":[],"sun":null}})").message ==
          "invalid field weekly: no opening hours on any day (omit weekly to be always open)");
  }
  SECTION("dates") {
    for (const char* bad : {R"("2026-02-29")", R"("2026-13-01")", R"("2026-00-10")",
                            R"("2026-04-31")", R"("26-12-25")", R"("2026-1-5")", R"("2026/12/25")",
                            R"(20261225)", R"("2026-12-25T00:00")"}) {
      const std::string text = std::string(R"({"holidays":["2026-12-24",)") + bad + "]}";
      CHECK(parse_error(text.c_str()).message ==
            "invalid field holidays[1]: expected a date YYYY-MM-DD");
    }
    CHECK(parse_error(R"({"holidays":"2026-12-25"})").message ==
          "invalid field holidays: expected an array");
  }
  SECTION("reply_ms_open and tz") {
    for (const char* bad :
         {"-1", "1.5", "\"7200000\"", "true", "2592000001", "18446744073709551615"}) {
      const std::string text = std::string(R"({"reply_ms_open":)") + bad + "}";
      CHECK(parse_error(text.c_str()).message ==
            "invalid field reply_ms_open: expected an integer in 0..2592000000");
    }
    CHECK(parse_error(R"({"tz":"Europe/Oslo; DROP"})").message ==
          "invalid field tz: expected an IANA time zone name (at most 64 bytes of A-Z a-z 0-9 / "
          "_ + -)");
    CHECK(parse_error(R"({"tz":7})").code == ErrorCode::InvalidField);
    CHECK(parse_error("[]").message == "invalid field schedule: expected an object");
  }
  SECTION("on error the output is left as it was") {
    Schedule s = office();
    const Schedule before = s;
    REQUIRE(parse_schedule(json(R"({"tz":"UTC","weekly":{"mon":[["10:00","09:00"]]}})"), s)
                .has_value());
    CHECK(s == before);
  }
}
