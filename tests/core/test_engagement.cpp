// Customer responsiveness signals (core/src/engagement.cpp).
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "parley/engagement.hpp"

#include <string>

using namespace parley;
using namespace parley::engagement;

namespace Catch {
template <>
struct StringMaker<parley::engagement::Level> {
  static std::string convert(parley::engagement::Level l) {
    return std::string(parley::engagement::to_string(l));
  }
};
}  // namespace Catch

namespace {
constexpr TimeMs kT0 = 1'700'000'000'000;
constexpr TimeMs kSec = 1000;
constexpr TimeMs kMin = 60 * kSec;
}  // namespace

SCENARIO("Reply latency: the first sample sets the average, later ones blend by EWMA",
         "[engagement][latency]") {
  GIVEN("a fresh tracker") {
    Tracker t;
    WHEN("the agent writes and the customer answers 20 s later") {
      t.on_agent_message(kT0);
      t.on_customer_message(kT0 + 20 * kSec);
      THEN("the average is exactly that sample") {
        CHECK(t.samples == 1);
        CHECK(t.avg_reply_latency_ms == 20 * kSec);
        CHECK(t.awaiting_reply_since == 0);
      }
      AND_WHEN("the next answer takes 120 s") {
        t.on_agent_message(kT0 + kMin);
        t.on_customer_message(kT0 + 3 * kMin);
        THEN("avg = 0.3 * 120 s + 0.7 * 20 s = 50 s") {
          CHECK(t.samples == 2);
          CHECK(t.avg_reply_latency_ms == 50 * kSec);
        }
      }
    }
  }
}

TEST_CASE("Reply latency: the EWMA is rounded to the nearest millisecond",
          "[engagement][latency]") {
  Tracker t;
  t.on_agent_message(kT0);
  t.on_customer_message(kT0 + 1000);
  t.on_agent_message(kT0 + 2000);
  t.on_customer_message(kT0 + 3002);  // 0.3 * 1002 + 0.7 * 1000 = 1000.6
  CHECK(t.avg_reply_latency_ms == 1001);
  t.on_agent_message(kT0 + 4000);
  t.on_customer_message(kT0 + 4000);  // 0.7 * 1001 = 700.7
  CHECK(t.avg_reply_latency_ms == 701);
  CHECK(t.samples == 3);
}

SCENARIO("Reply latency: awaiting starts at the first unanswered agent message",
         "[engagement][latency]") {
  GIVEN("an agent message at T0") {
    Tracker t;
    t.on_agent_message(kT0);
    WHEN("the agent writes again before any reply") {
      t.on_agent_message(kT0 + 30 * kSec);
      THEN("the wait still started at T0") {
        CHECK(t.awaiting_reply_since == kT0);
      }
      AND_WHEN("the customer answers at T0 + 40 s") {
        t.on_customer_message(kT0 + 40 * kSec);
        THEN("the sample is 40 s") {
          CHECK(t.avg_reply_latency_ms == 40 * kSec);
        }
      }
    }
  }
  GIVEN("no agent message") {
    Tracker t;
    WHEN("the customer writes") {
      t.on_customer_message(kT0);
      THEN("no sample is recorded, but the customer was seen") {
        CHECK(t.samples == 0);
        CHECK(t.avg_reply_latency_ms == 0);
        CHECK(t.last_seen_ts == kT0);
      }
    }
  }
  GIVEN("a customer who writes twice in a row after one agent message") {
    Tracker t;
    t.on_agent_message(kT0);
    t.on_customer_message(kT0 + 5 * kSec);
    t.on_customer_message(kT0 + 500 * kSec);
    THEN("only the first reply counts") {
      CHECK(t.samples == 1);
      CHECK(t.avg_reply_latency_ms == 5 * kSec);
    }
  }
}

TEST_CASE("Presence: visible and focused, or visible and recently seen, or typing",
          "[engagement][presence]") {
  Tracker t;
  CHECK_FALSE(t.present(kT0));

  t.on_visibility(true, kT0);
  CHECK(t.present(kT0 + kPresenceIdleMs - 1));
  CHECK_FALSE(t.present(kT0 + kPresenceIdleMs));  // visible but idle for 5 min

  t.on_focus(true, kT0);
  CHECK(t.present(kT0 + 10 * kPresenceIdleMs));  // focused: present however long

  t.on_visibility(false, kT0 + 1);
  CHECK_FALSE(t.focused);  // a hidden page holds no focus
  CHECK_FALSE(t.present(kT0 + 2));

  t.on_typing(kT0 + 100);
  CHECK(t.present(kT0 + 100 + kTypingFreshMs - 1));  // typing counts even when hidden
  CHECK_FALSE(t.present(kT0 + 100 + kTypingFreshMs));
}

TEST_CASE("Presence: focusing the widget makes it visible", "[engagement][presence]") {
  Tracker t;
  t.on_focus(true, kT0);
  CHECK(t.visible);
  CHECK(t.present(kT0 + kPresenceIdleMs * 3));
  t.on_focus(false, kT0 + 1);
  CHECK(t.visible);
  CHECK(t.present(kT0 + kPresenceIdleMs));  // seen at blur, idle not yet elapsed
  CHECK_FALSE(t.present(kT0 + 1 + kPresenceIdleMs));
}

TEST_CASE("Level: Away when not present", "[engagement][level]") {
  Tracker t;
  t.samples = 3;
  t.avg_reply_latency_ms = 5 * kSec;  // fast, but gone
  CHECK(t.level(kT0) == Level::Away);
}

TEST_CASE("Level: High when typing, fast on average, or focused without samples",
          "[engagement][level]") {
  SECTION("typing") {
    Tracker t;
    t.samples = 4;
    t.avg_reply_latency_ms = 30 * kMin;  // slow on average
    t.on_typing(kT0);
    CHECK(t.level(kT0 + kTypingFreshMs - 1) == Level::High);
  }
  SECTION("fast replier, visible") {
    Tracker t;
    t.on_visibility(true, kT0);
    t.on_agent_message(kT0);
    t.on_customer_message(kT0 + 60 * kSec - 1);
    CHECK(t.level(kT0 + 60 * kSec) == Level::High);
  }
  SECTION("a 60 s average is no longer High") {
    Tracker t;
    t.on_visibility(true, kT0);
    t.on_agent_message(kT0);
    t.on_customer_message(kT0 + 60 * kSec);
    CHECK(t.level(kT0 + 60 * kSec) == Level::Medium);
  }
  SECTION("focused with no sample yet") {
    Tracker t;
    t.on_focus(true, kT0);
    CHECK(t.level(kT0) == Level::High);
  }
}

TEST_CASE("Level: Medium when present with no sample or a reply under 10 min",
          "[engagement][level]") {
  Tracker t;
  t.on_visibility(true, kT0);
  CHECK(t.level(kT0) == Level::Medium);  // visible, unfocused, no sample

  t.on_agent_message(kT0);
  t.on_customer_message(kT0 + 10 * kMin - 1);
  CHECK(t.level(kT0 + 10 * kMin) == Level::Medium);
}

TEST_CASE("Level: Low when present but slow to reply", "[engagement][level]") {
  Tracker t;
  t.on_focus(true, kT0);
  t.on_agent_message(kT0);
  t.on_customer_message(kT0 + 10 * kMin);  // exactly 10 min: no longer Medium
  CHECK(t.level(kT0 + 10 * kMin) == Level::Low);
  t.on_typing(kT0 + 11 * kMin);
  CHECK(t.level(kT0 + 11 * kMin) == Level::High);  // typing now beats history
  CHECK(t.level(kT0 + 11 * kMin + kTypingFreshMs) == Level::Low);
}

TEST_CASE("Level names", "[engagement]") {
  CHECK(to_string(Level::High) == "high");
  CHECK(to_string(Level::Medium) == "medium");
  CHECK(to_string(Level::Low) == "low");
  CHECK(to_string(Level::Away) == "away");
}

TEST_CASE("Queue order: waiting for an agent first; engaged, responsive, long-waiting first",
          "[engagement][queue]") {
  using W = QueueEntry::Waiting;
  auto entry = [](W w, Level l, TimeMs latency, TimeMs since, TimeMs updated) {
    QueueEntry e;
    e.waiting = w;
    e.level = l;
    e.reply_latency_ms = latency;
    e.waiting_since = since;
    e.updated_ts = updated;
    return e;
  };
  std::vector<std::pair<std::string, QueueEntry>> q = {
      {"closed", entry(W::Closed, Level::High, 1, 0, 900)},
      {"customer_old", entry(W::Customer, Level::High, 1, 0, 100)},
      {"agent_low", entry(W::Agent, Level::Low, 1'000, 10, 0)},
      {"agent_high_unknown", entry(W::Agent, Level::High, 0, 1, 0)},
      {"agent_high_slow", entry(W::Agent, Level::High, 90'000, 5, 0)},
      {"solved", entry(W::Solved, Level::High, 1, 0, 800)},
      {"agent_high_fast_late", entry(W::Agent, Level::High, 20'000, 50, 0)},
      {"agent_high_fast_early", entry(W::Agent, Level::High, 20'000, 40, 0)},
      {"customer_new", entry(W::Customer, Level::Away, 0, 0, 200)},
  };
  std::stable_sort(q.begin(), q.end(),
                   [](const auto& a, const auto& b) { return serve_first(a.second, b.second); });
  std::vector<std::string> order;
  for (const auto& [name, e] : q) order.push_back(name);
  CHECK(order == std::vector<std::string>{"agent_high_fast_early", "agent_high_fast_late",
                                          "agent_high_slow", "agent_high_unknown", "agent_low",
                                          "customer_new", "customer_old", "solved", "closed"});
  CHECK(level_from_string("medium") == Level::Medium);
  CHECK_FALSE(level_from_string("busy").has_value());
}
