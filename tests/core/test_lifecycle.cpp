// Lifecycle rules per conversational style (core/src/lifecycle.cpp).
#include <catch2/catch.hpp>

#include "parley/lifecycle.hpp"

#include <optional>
#include <string>

using namespace parley;
using namespace parley::lifecycle;

namespace Catch {
template <>
struct StringMaker<parley::lifecycle::Outcome> {
  static std::string convert(parley::lifecycle::Outcome o) {
    return std::string(parley::lifecycle::to_string(o));
  }
};
}  // namespace Catch

namespace {

constexpr TimeMs kT0 = 1'700'000'000'000;  // an arbitrary epoch time
constexpr TimeMs kHour = 60LL * 60 * 1000;

Ticket ticket(Status status, TimeMs solved_at = 0, std::string assignee = "a1") {
  Ticket t;
  t.status = status;
  t.number = 3;
  t.solved_at = solved_at;
  t.last_customer_activity = kT0 - kHour;
  t.assignee = std::move(assignee);
  return t;
}

Decision say(const Policy& p, const Ticket& t, std::string_view text, TimeMs now) {
  return on_customer_message(p, t, "en", text, now);
}

}  // namespace

// ---------------------------------------------------------------- customer messages

SCENARIO("Customer message: new stays new, open stays open", "[lifecycle][customer]") {
  const Policy p = Policy::defaults(ConversationalStyle::SocialMessaging);
  GIVEN("a new ticket") {
    const Ticket t = ticket(Status::New);
    WHEN("the customer writes") {
      const Decision d = say(p, t, "my order never arrived", kT0);
      THEN("the ticket continues as new and records the activity") {
        CHECK(d.outcome == Outcome::Continued);
        CHECK(d.ticket.status == Status::New);
        CHECK(d.ticket.number == 3);
        CHECK(d.ticket.last_customer_activity == kT0);
      }
    }
  }
  GIVEN("an open ticket") {
    const Ticket t = ticket(Status::Open);
    WHEN("the customer writes") {
      const Decision d = say(p, t, "any news?", kT0);
      THEN("it stays open, same number, same assignee") {
        CHECK(d.outcome == Outcome::Continued);
        CHECK(d.ticket.status == Status::Open);
        CHECK(d.ticket.number == 3);
        CHECK(d.ticket.assignee == "a1");
        CHECK(d.ticket.last_customer_activity == kT0);
      }
    }
  }
}

SCENARIO("Customer message: pending and on-hold go back to open", "[lifecycle][customer]") {
  const Policy p = Policy::defaults(ConversationalStyle::LiveChatReturning);
  for (Status s : {Status::Pending, Status::OnHold}) {
    GIVEN("a ticket in status " << to_string(s)) {
      const Ticket t = ticket(s);
      WHEN("the customer answers") {
        const Decision d = say(p, t, "here is my order number: 1234", kT0);
        THEN("the ticket is open again and continues") {
          CHECK(d.outcome == Outcome::Continued);
          CHECK(d.ticket.status == Status::Open);
          CHECK(d.ticket.number == 3);
          CHECK(d.ticket.assignee == "a1");
          CHECK(d.ticket.last_customer_activity == kT0);
        }
      }
    }
  }
}

SCENARIO("LiveChat: a solved ticket counts as closed, so the customer gets a new ticket",
         "[lifecycle][customer][livechat]") {
  const Policy p = Policy::defaults(ConversationalStyle::LiveChat);
  GIVEN("a live-chat ticket that is (unusually) still marked solved a second ago") {
    const Ticket t = ticket(Status::Solved, kT0 - 1000);
    WHEN("the customer writes right away") {
      const Decision d = say(p, t, "one more question", kT0);
      THEN("a new ticket starts") {
        CHECK(d.outcome == Outcome::NewTicket);
        CHECK(d.ticket.number == 4);
        CHECK(d.ticket.status == Status::New);
        CHECK(d.ticket.assignee.empty());
        CHECK(d.ticket.solved_at == 0);
      }
    }
  }
  GIVEN("a live-chat ticket solved by a server whose clock is ahead of ours") {
    const Ticket t = ticket(Status::Solved, kT0 + 5000);
    WHEN("the customer writes before the server's solve time") {
      THEN("it still starts a new ticket: live chat never reopens") {
        CHECK(say(p, t, "one more question", kT0).outcome == Outcome::NewTicket);
      }
    }
  }
}

SCENARIO("LiveChatReturning: reopen inside the window, new ticket after it",
         "[lifecycle][customer][returning]") {
  Policy p = Policy::defaults(ConversationalStyle::LiveChatReturning);
  p.reopen_window_ms = 2 * kHour;
  GIVEN("a ticket solved by agent a1 at T0") {
    const Ticket t = ticket(Status::Solved, kT0, "a1");
    WHEN("the customer writes 1 ms before the window ends") {
      const Decision d = say(p, t, "actually it broke again", kT0 + 2 * kHour - 1);
      THEN("the same ticket reopens with the same agent") {
        CHECK(d.outcome == Outcome::Reopened);
        CHECK(d.ticket.status == Status::Open);
        CHECK(d.ticket.number == 3);
        CHECK(d.ticket.assignee == "a1");
        CHECK(d.ticket.solved_at == 0);
        CHECK(d.ticket.last_customer_activity == kT0 + 2 * kHour - 1);
      }
    }
    WHEN("the customer writes exactly when the window ends") {
      const Decision d = say(p, t, "actually it broke again", kT0 + 2 * kHour);
      THEN("the ticket is effectively closed: a new ticket starts without the agent") {
        CHECK(d.outcome == Outcome::NewTicket);
        CHECK(d.ticket.status == Status::New);
        CHECK(d.ticket.number == 4);
        CHECK(d.ticket.assignee.empty());
        CHECK(d.ticket.solved_at == 0);
        CHECK(d.ticket.last_customer_activity == kT0 + 2 * kHour);
      }
    }
  }
}

SCENARIO("SocialMessaging: reopen before the clamped close deadline, new ticket after",
         "[lifecycle][customer][social]") {
  GIVEN("a social policy asking to close after 1 day (clamped up to 4 days)") {
    Policy p = Policy::defaults(ConversationalStyle::SocialMessaging);
    p.social_close_after_ms = kDay;
    const Ticket t = ticket(Status::Solved, kT0);
    WHEN("the customer writes after 2 days") {
      const Decision d = say(p, t, "it happened again", kT0 + 2 * kDay);
      THEN("the ticket reopens (the 1-day setting was clamped)") {
        CHECK(d.outcome == Outcome::Reopened);
        CHECK(d.ticket.number == 3);
        CHECK(d.ticket.assignee == "a1");
      }
    }
    WHEN("the customer writes 1 ms before 4 days") {
      CHECK(say(p, t, "hello?", kT0 + 4 * kDay - 1).outcome == Outcome::Reopened);
    }
    WHEN("the customer writes at exactly 4 days") {
      const Decision d = say(p, t, "hello?", kT0 + 4 * kDay);
      THEN("a new ticket starts") {
        CHECK(d.outcome == Outcome::NewTicket);
        CHECK(d.ticket.number == 4);
        CHECK(d.ticket.assignee.empty());
      }
    }
  }
  GIVEN("a social policy asking to close after 60 days (clamped down to 28 days)") {
    Policy p = Policy::defaults(ConversationalStyle::SocialMessaging);
    p.social_close_after_ms = 60 * kDay;
    const Ticket t = ticket(Status::Solved, kT0);
    THEN("28 days - 1 ms still reopens and 28 days starts a new ticket") {
      CHECK(say(p, t, "hello?", kT0 + 28 * kDay - 1).outcome == Outcome::Reopened);
      CHECK(say(p, t, "hello?", kT0 + 28 * kDay).outcome == Outcome::NewTicket);
    }
  }
}

SCENARIO("Closed ticket: a customer message starts a new ticket", "[lifecycle][customer]") {
  for (auto style : {ConversationalStyle::LiveChat, ConversationalStyle::LiveChatReturning,
                     ConversationalStyle::SocialMessaging}) {
    const Policy p = Policy::defaults(style);
    GIVEN("a closed ticket number 3 held by a1, style " << to_string(style)) {
      Ticket t = ticket(Status::Closed, kT0 - 10, "a1");
      t.inactive = true;
      WHEN("the customer writes") {
        const Decision d = say(p, t, "new problem", kT0);
        THEN("ticket 4 starts fresh") {
          CHECK(d.outcome == Outcome::NewTicket);
          CHECK(d.ticket.number == 4);
          CHECK(d.ticket.status == Status::New);
          CHECK(d.ticket.solved_at == 0);
          CHECK(d.ticket.assignee.empty());
          CHECK_FALSE(d.ticket.inactive);
          CHECK(d.ticket.last_customer_activity == kT0);
        }
      }
    }
  }
}

// ---------------------------------------------------------------- ineffectual messages

SCENARIO("Ineffectual message on pending, solved or closed is ignored",
         "[lifecycle][ineffectual]") {
  const Policy p = Policy::defaults(ConversationalStyle::LiveChatReturning);
  GIVEN("a pending ticket") {
    const Ticket t = ticket(Status::Pending);
    WHEN("the customer says \"Thanks!\"") {
      const Decision d = say(p, t, "Thanks!", kT0);
      THEN("it is ignored: not reopened, activity not recorded") {
        CHECK(d.outcome == Outcome::Ignored);
        CHECK(d.ticket == t);
      }
    }
  }
  GIVEN("a ticket solved at T0") {
    const Ticket t = ticket(Status::Solved, kT0);
    WHEN("the customer says \"no, that's all\" inside the window") {
      const Decision d = say(p, t, "No, that's all.", kT0 + 10);
      THEN("it neither reopens nor prolongs") {
        CHECK(d.outcome == Outcome::Ignored);
        CHECK(d.ticket == t);
      }
    }
    WHEN("the customer says \"thanks\" after the window") {
      const Decision d = say(p, t, "thanks", kT0 + p.reopen_window_ms);
      THEN("no new ticket starts") {
        CHECK(d.outcome == Outcome::Ignored);
        CHECK(d.ticket == t);
      }
    }
  }
  GIVEN("a closed ticket") {
    const Ticket t = ticket(Status::Closed, kT0);
    WHEN("the customer says \"bye\"") {
      const Decision d = say(p, t, "bye", kT0 + kDay);
      THEN("no new ticket starts") {
        CHECK(d.outcome == Outcome::Ignored);
        CHECK(d.ticket == t);
      }
    }
  }
}

SCENARIO("Ineffectual message does not prolong the reopen window", "[lifecycle][ineffectual]") {
  const Policy p = Policy::defaults(ConversationalStyle::LiveChatReturning);
  GIVEN("a ticket solved at T0 and a \"thank you\" just before the window ends") {
    const Ticket solved = ticket(Status::Solved, kT0);
    const Decision thanks = say(p, solved, "thank you", kT0 + p.reopen_window_ms - 1);
    REQUIRE(thanks.outcome == Outcome::Ignored);
    WHEN("time reaches the end of the original window") {
      const Decision tick = on_tick(p, thanks.ticket, kT0 + p.reopen_window_ms);
      THEN("the ticket closes on schedule") {
        CHECK(tick.outcome == Outcome::Closed);
      }
    }
    WHEN("a real question arrives at the end of the original window") {
      const Decision d = say(p, thanks.ticket, "wait, one more thing", kT0 + p.reopen_window_ms);
      THEN("it starts a new ticket") {
        CHECK(d.outcome == Outcome::NewTicket);
      }
    }
  }
}

SCENARIO("Ineffectual message on new, open or on-hold is an ordinary message",
         "[lifecycle][ineffectual]") {
  const Policy p = Policy::defaults(ConversationalStyle::SocialMessaging);
  GIVEN("an open ticket") {
    WHEN("the customer says thanks") {
      const Decision d = say(p, ticket(Status::Open), "thanks", kT0);
      THEN("it continues and counts as activity") {
        CHECK(d.outcome == Outcome::Continued);
        CHECK(d.ticket.last_customer_activity == kT0);
      }
    }
  }
  GIVEN("an on-hold ticket") {
    WHEN("the customer says thanks") {
      const Decision d = say(p, ticket(Status::OnHold), "thanks", kT0);
      THEN("it goes back to open as any message would") {
        CHECK(d.outcome == Outcome::Continued);
        CHECK(d.ticket.status == Status::Open);
      }
    }
  }
}

TEST_CASE("Ineffectual matching ignores case, punctuation and extra spaces",
          "[lifecycle][ineffectual]") {
  const Policy p = Policy::defaults(ConversationalStyle::SocialMessaging);
  CHECK(is_ineffectual(p, "en", "thanks"));
  CHECK(is_ineffectual(p, "en", "THANKS!!!"));
  CHECK(is_ineffectual(p, "en", "  Thank   you.  "));
  CHECK(is_ineffectual(p, "en", "ok, thanks"));
  CHECK(is_ineffectual(p, "en", "No, that's all"));
  CHECK(is_ineffectual(p, "en", "no thats all"));
  CHECK(is_ineffectual(p, "en", "no \xE2\x80\x94 that\xE2\x80\x99s all!"));  // em dash, ’
  CHECK(is_ineffectual(p, "en", "that's all :)"));
  CHECK(is_ineffectual(p, "en", "Bye"));
}

TEST_CASE("Ineffectual matching is exact: real content is never ineffectual",
          "[lifecycle][ineffectual]") {
  const Policy p = Policy::defaults(ConversationalStyle::SocialMessaging);
  CHECK_FALSE(is_ineffectual(p, "en", "thanks, but it still does not work"));
  CHECK_FALSE(is_ineffectual(p, "en", "no"));
  CHECK_FALSE(is_ineffectual(p, "en", "that is all wrong"));
  CHECK_FALSE(is_ineffectual(p, "en", ""));    // attachment-only message
  CHECK_FALSE(is_ineffectual(p, "en", "?!"));  // a bare question mark is a question
  CHECK_FALSE(is_ineffectual(p, "en", "thanksgiving"));
}

TEST_CASE("Ineffectual lists exist for English, French and Spanish", "[lifecycle][ineffectual]") {
  const Policy p = Policy::defaults(ConversationalStyle::LiveChat);
  CHECK(p.style == ConversationalStyle::LiveChat);
  CHECK(p.ineffectual.count("en") == 1);
  CHECK(p.ineffectual.count("fr") == 1);
  CHECK(p.ineffectual.count("es") == 1);
  CHECK(is_ineffectual(p, "fr", "Merci !"));
  CHECK(is_ineffectual(p, "fr", "Merci\xC2\xA0!"));  // French no-break space before "!"
  CHECK(is_ineffectual(p, "fr", "C'est tout"));
  CHECK(is_ineffectual(p, "fr",
                       "non, c\xE2\x80\x99"
                       "est tout."));
  CHECK(is_ineffectual(p, "fr", "merci à vous"));
  CHECK(is_ineffectual(p, "es", "\xC2\xA1Gracias!"));  // ¡Gracias!
  CHECK(is_ineffectual(p, "es", "Eso es todo"));
  CHECK(is_ineffectual(p, "es", "no, nada más"));
  CHECK_FALSE(is_ineffectual(p, "fr", "merci mais j'ai toujours le problème"));
}

TEST_CASE("Ineffectual locale fallback: region to primary tag, unknown to English",
          "[lifecycle][ineffectual]") {
  const Policy p = Policy::defaults(ConversationalStyle::SocialMessaging);
  CHECK(is_ineffectual(p, "en-GB", "cheers"));
  CHECK(is_ineffectual(p, "fr-CA", "merci"));
  CHECK(is_ineffectual(p, "es_MX", "gracias"));
  CHECK(is_ineffectual(p, "xx", "thanks"));
  CHECK(is_ineffectual(p, "", "thanks"));
  // A known locale uses its own list only.
  CHECK_FALSE(is_ineffectual(p, "fr", "thanks"));
  CHECK_FALSE(is_ineffectual(p, "xx", "merci"));
}

TEST_CASE("Ineffectual lists are configurable", "[lifecycle][ineffectual]") {
  Policy p = Policy::defaults(ConversationalStyle::SocialMessaging);
  p.ineffectual["de"] = {"Danke!", "Das war's"};
  CHECK(is_ineffectual(p, "de-AT", "danke"));
  CHECK(is_ineffectual(p, "de", "das wars"));
  p.ineffectual["en"] = {"ta"};
  CHECK(is_ineffectual(p, "en", "Ta!"));
  CHECK_FALSE(is_ineffectual(p, "en", "thanks"));
  p.ineffectual.clear();
  CHECK_FALSE(is_ineffectual(p, "en", "ta"));
  const Ticket t = ticket(Status::Pending);
  CHECK(on_customer_message(p, t, "en", "thanks", kT0).outcome == Outcome::Continued);
}

// ---------------------------------------------------------------- inactivity

SCENARIO("Inactive: a pending ticket with a silent customer becomes inactive on tick",
         "[lifecycle][inactive]") {
  Policy p = Policy::defaults(ConversationalStyle::SocialMessaging);
  p.inactive_after_ms = 3 * kDay;
  GIVEN("a pending ticket whose customer last wrote at T0") {
    Ticket t = ticket(Status::Pending);
    t.last_customer_activity = kT0;
    WHEN("time reaches 1 ms before the inactivity deadline") {
      const Decision d = on_tick(p, t, kT0 + 3 * kDay - 1);
      THEN("nothing changes") {
        CHECK(d.outcome == Outcome::Unchanged);
        CHECK(d.ticket == t);
      }
    }
    WHEN("time reaches the inactivity deadline exactly") {
      const Decision d = on_tick(p, t, kT0 + 3 * kDay);
      THEN("the ticket becomes inactive, status unchanged") {
        CHECK(d.outcome == Outcome::BecameInactive);
        CHECK(d.ticket.inactive);
        CHECK(d.ticket.status == Status::Pending);
        AND_WHEN("time passes further") {
          const Decision again = on_tick(p, d.ticket, kT0 + 10 * kDay);
          THEN("it does not report again") {
            CHECK(again.outcome == Outcome::Unchanged);
          }
        }
      }
    }
  }
  GIVEN("a pending ticket with no recorded customer activity") {
    Ticket t = ticket(Status::Pending);
    t.last_customer_activity = 0;
    THEN("it never becomes inactive") {
      CHECK(on_tick(p, t, kT0 + 100 * kDay).outcome == Outcome::Unchanged);
      CHECK_FALSE(next_deadline(p, t).has_value());
    }
  }
  GIVEN("an open ticket with an old customer message") {
    Ticket t = ticket(Status::Open);
    t.last_customer_activity = kT0;
    THEN("only pending tickets become inactive") {
      CHECK(on_tick(p, t, kT0 + 100 * kDay).outcome == Outcome::Unchanged);
    }
  }
}

SCENARIO("WokeUp: an inactive conversation wakes up on the customer's reply",
         "[lifecycle][inactive]") {
  const Policy p = Policy::defaults(ConversationalStyle::SocialMessaging);
  GIVEN("an inactive pending ticket") {
    Ticket t = ticket(Status::Pending);
    t.inactive = true;
    WHEN("the customer sends a real message") {
      const Decision d = say(p, t, "sorry, I was away. Here is the photo", kT0);
      THEN("it wakes up: open, active again") {
        CHECK(d.outcome == Outcome::WokeUp);
        CHECK(d.ticket.status == Status::Open);
        CHECK_FALSE(d.ticket.inactive);
        CHECK(d.ticket.last_customer_activity == kT0);
        CHECK(d.ticket.number == 3);
      }
    }
    WHEN("the customer only says thanks") {
      const Decision d = say(p, t, "thanks", kT0);
      THEN("it stays asleep") {
        CHECK(d.outcome == Outcome::Ignored);
        CHECK(d.ticket.inactive);
        CHECK(d.ticket.status == Status::Pending);
      }
    }
  }
}

// ---------------------------------------------------------------- agent messages

SCENARIO("Agent message: new and open become pending and the agent is assigned",
         "[lifecycle][agent]") {
  const Policy p = Policy::defaults(ConversationalStyle::LiveChatReturning);
  for (Status s : {Status::New, Status::Open}) {
    GIVEN("an unassigned ticket in status " << to_string(s)) {
      const Ticket t = ticket(s, 0, "");
      WHEN("agent a2 answers") {
        const Decision d = on_agent_message(p, t, "a2", kT0);
        THEN("it waits on the customer, held by a2") {
          CHECK(d.outcome == Outcome::Continued);
          CHECK(d.ticket.status == Status::Pending);
          CHECK(d.ticket.assignee == "a2");
          CHECK(d.ticket.last_customer_activity == t.last_customer_activity);
        }
      }
      WHEN("the bot answers with no agent id") {
        const Decision d = on_agent_message(p, t, "", kT0);
        THEN("it is pending and still unassigned") {
          CHECK(d.ticket.status == Status::Pending);
          CHECK(d.ticket.assignee.empty());
        }
      }
    }
  }
  GIVEN("a ticket already held by a1") {
    const Ticket t = ticket(Status::Open, 0, "a1");
    WHEN("agent a2 writes") {
      const Decision d = on_agent_message(p, t, "a2", kT0);
      THEN("a1 keeps it") {
        CHECK(d.ticket.assignee == "a1");
      }
    }
  }
  GIVEN("an on-hold ticket") {
    WHEN("the agent writes") {
      const Decision d = on_agent_message(p, ticket(Status::OnHold), "a1", kT0);
      THEN("it stays on hold") {
        CHECK(d.ticket.status == Status::OnHold);
      }
    }
  }
}

SCENARIO("Agent message after solve or close changes nothing", "[lifecycle][agent]") {
  const Policy p = Policy::defaults(ConversationalStyle::SocialMessaging);
  for (Status s : {Status::Solved, Status::Closed}) {
    GIVEN("a ticket in status " << to_string(s)) {
      const Ticket t = ticket(s, kT0, "");
      WHEN("an agent adds a note") {
        const Decision d = on_agent_message(p, t, "a2", kT0 + 5);
        THEN("the ticket is unchanged") {
          CHECK(d.outcome == Outcome::Unchanged);
          CHECK(d.ticket == t);
        }
      }
    }
  }
}

// ---------------------------------------------------------------- explicit status changes

SCENARIO("Set status: closed is final", "[lifecycle][status]") {
  const Policy p = Policy::defaults(ConversationalStyle::SocialMessaging);
  GIVEN("a closed ticket") {
    const Ticket t = ticket(Status::Closed, kT0);
    for (Status to : {Status::New, Status::Open, Status::Pending, Status::OnHold, Status::Solved}) {
      WHEN("an agent sets status " << to_string(to)) {
        const Decision d = on_set_status(p, t, to, kT0 + 1);
        THEN("it is rejected and the ticket unchanged") {
          CHECK(d.outcome == Outcome::Rejected);
          CHECK(d.ticket == t);
        }
      }
    }
    WHEN("an agent sets closed again") {
      THEN("it is unchanged, not rejected") {
        CHECK(on_set_status(p, t, Status::Closed, kT0 + 1).outcome == Outcome::Unchanged);
      }
    }
  }
}

SCENARIO("Set status: the same status is unchanged", "[lifecycle][status]") {
  const Policy p = Policy::defaults(ConversationalStyle::LiveChatReturning);
  GIVEN("a solved ticket") {
    const Ticket t = ticket(Status::Solved, kT0);
    WHEN("it is solved again later") {
      const Decision d = on_set_status(p, t, Status::Solved, kT0 + kHour);
      THEN("solved_at is not moved (the window is not prolonged)") {
        CHECK(d.outcome == Outcome::Unchanged);
        CHECK(d.ticket.solved_at == kT0);
      }
    }
  }
}

SCENARIO("Set status: solving stamps solved_at; LiveChat closes at once", "[lifecycle][status]") {
  GIVEN("an open ticket in a returning live chat") {
    const Policy p = Policy::defaults(ConversationalStyle::LiveChatReturning);
    WHEN("the agent solves it") {
      const Decision d = on_set_status(p, ticket(Status::Open), Status::Solved, kT0);
      THEN("it is solved at now") {
        CHECK(d.outcome == Outcome::StatusSet);
        CHECK(d.ticket.status == Status::Solved);
        CHECK(d.ticket.solved_at == kT0);
        CHECK(d.ticket.assignee == "a1");
      }
    }
  }
  GIVEN("an open ticket in live chat") {
    const Policy p = Policy::defaults(ConversationalStyle::LiveChat);
    WHEN("the agent solves it") {
      const Decision d = on_set_status(p, ticket(Status::Open), Status::Solved, kT0);
      THEN("it is closed immediately") {
        CHECK(d.outcome == Outcome::Closed);
        CHECK(d.ticket.status == Status::Closed);
        CHECK(d.ticket.solved_at == kT0);
        AND_WHEN("the customer comes back one second later") {
          const Decision back = say(p, d.ticket, "hi again", kT0 + 1000);
          THEN("they get a new ticket") {
            CHECK(back.outcome == Outcome::NewTicket);
          }
        }
      }
    }
  }
}

SCENARIO("Set status: closing directly and other transitions", "[lifecycle][status]") {
  const Policy p = Policy::defaults(ConversationalStyle::SocialMessaging);
  GIVEN("an open ticket") {
    const Ticket t = ticket(Status::Open);
    WHEN("the agent closes it directly") {
      const Decision d = on_set_status(p, t, Status::Closed, kT0);
      THEN("it is closed") {
        CHECK(d.outcome == Outcome::Closed);
        CHECK(d.ticket.status == Status::Closed);
      }
    }
    WHEN("the agent puts it on hold") {
      const Decision d = on_set_status(p, t, Status::OnHold, kT0);
      THEN("the status is set") {
        CHECK(d.outcome == Outcome::StatusSet);
        CHECK(d.ticket.status == Status::OnHold);
      }
    }
  }
  GIVEN("a solved ticket") {
    WHEN("the agent reopens it by hand") {
      const Decision d = on_set_status(p, ticket(Status::Solved, kT0), Status::Open, kT0 + 1);
      THEN("it is open and no longer carries a solve time") {
        CHECK(d.outcome == Outcome::StatusSet);
        CHECK(d.ticket.status == Status::Open);
        CHECK(d.ticket.solved_at == 0);
        CHECK_FALSE(next_deadline(p, d.ticket).has_value());
      }
    }
  }
}

// ---------------------------------------------------------------- time

SCENARIO("Tick: a solved live-chat ticket closes", "[lifecycle][tick][livechat]") {
  const Policy p = Policy::defaults(ConversationalStyle::LiveChat);
  GIVEN("a live-chat ticket left solved") {
    const Ticket t = ticket(Status::Solved, kT0);
    THEN("the next tick closes it and the deadline is the solve time") {
      CHECK(next_deadline(p, t) == std::optional<TimeMs>(kT0));
      const Decision d = on_tick(p, t, kT0);
      CHECK(d.outcome == Outcome::Closed);
      CHECK(d.ticket.status == Status::Closed);
    }
  }
}

SCENARIO("Tick: LiveChatReturning closes when the reopen window elapses",
         "[lifecycle][tick][returning]") {
  Policy p = Policy::defaults(ConversationalStyle::LiveChatReturning);
  p.reopen_window_ms = 30 * 60 * 1000;
  GIVEN("a ticket solved at T0") {
    const Ticket t = ticket(Status::Solved, kT0);
    THEN("the deadline is T0 + window") {
      CHECK(next_deadline(p, t) == std::optional<TimeMs>(kT0 + p.reopen_window_ms));
    }
    WHEN("1 ms before the window ends") {
      const Decision d = on_tick(p, t, kT0 + p.reopen_window_ms - 1);
      THEN("still solved") {
        CHECK(d.outcome == Outcome::Unchanged);
        CHECK(d.ticket == t);
      }
    }
    WHEN("exactly at the end of the window") {
      const Decision d = on_tick(p, t, kT0 + p.reopen_window_ms);
      THEN("closed, keeping number and solve time") {
        CHECK(d.outcome == Outcome::Closed);
        CHECK(d.ticket.status == Status::Closed);
        CHECK(d.ticket.number == 3);
        CHECK(d.ticket.solved_at == kT0);
        CHECK_FALSE(next_deadline(p, d.ticket).has_value());
      }
    }
  }
}

SCENARIO("Tick: SocialMessaging closes after the clamped delay", "[lifecycle][tick][social]") {
  GIVEN("the default 7-day social policy and a ticket solved at T0") {
    const Policy p = Policy::defaults(ConversationalStyle::SocialMessaging);
    const Ticket t = ticket(Status::Solved, kT0);
    THEN("it closes at exactly 7 days, not 1 ms before") {
      CHECK(next_deadline(p, t) == std::optional<TimeMs>(kT0 + 7 * kDay));
      CHECK(on_tick(p, t, kT0 + 7 * kDay - 1).outcome == Outcome::Unchanged);
      CHECK(on_tick(p, t, kT0 + 7 * kDay).outcome == Outcome::Closed);
    }
  }
  GIVEN("a policy of 1 hour, below the minimum") {
    Policy p = Policy::defaults(ConversationalStyle::SocialMessaging);
    p.social_close_after_ms = kHour;
    const Ticket t = ticket(Status::Solved, kT0);
    THEN("it closes at 4 days") {
      CHECK(on_tick(p, t, kT0 + kHour).outcome == Outcome::Unchanged);
      CHECK(on_tick(p, t, kT0 + 4 * kDay - 1).outcome == Outcome::Unchanged);
      CHECK(on_tick(p, t, kT0 + 4 * kDay).outcome == Outcome::Closed);
    }
  }
  GIVEN("a policy of 90 days, above the maximum") {
    Policy p = Policy::defaults(ConversationalStyle::SocialMessaging);
    p.social_close_after_ms = 90 * kDay;
    const Ticket t = ticket(Status::Solved, kT0);
    THEN("it closes at 28 days") {
      CHECK(next_deadline(p, t) == std::optional<TimeMs>(kT0 + 28 * kDay));
      CHECK(on_tick(p, t, kT0 + 28 * kDay - 1).outcome == Outcome::Unchanged);
      CHECK(on_tick(p, t, kT0 + 28 * kDay).outcome == Outcome::Closed);
    }
  }
}

TEST_CASE("social_close_delay clamps to [4, 28] days", "[lifecycle][social]") {
  Policy p;
  p.social_close_after_ms = 0;
  CHECK(social_close_delay(p) == kSocialMinClose);
  p.social_close_after_ms = kSocialMinClose - 1;
  CHECK(social_close_delay(p) == kSocialMinClose);
  p.social_close_after_ms = 10 * kDay;
  CHECK(social_close_delay(p) == 10 * kDay);
  p.social_close_after_ms = kSocialMaxClose + 1;
  CHECK(social_close_delay(p) == kSocialMaxClose);
  p.social_close_after_ms = -kDay;
  CHECK(social_close_delay(p) == kSocialMinClose);
  CHECK(kSocialMinClose == 4 * kDay);
  CHECK(kSocialMaxClose == 28 * kDay);
}

TEST_CASE("next_deadline: the first instant on_tick changes something", "[lifecycle][tick]") {
  for (auto style : {ConversationalStyle::LiveChat, ConversationalStyle::LiveChatReturning,
                     ConversationalStyle::SocialMessaging}) {
    const Policy p = Policy::defaults(style);
    Ticket pending = ticket(Status::Pending);
    pending.last_customer_activity = kT0;
    Ticket solved = ticket(Status::Solved, kT0);
    for (const Ticket& t : {pending, solved}) {
      const auto due = next_deadline(p, t);
      REQUIRE(due.has_value());
      CHECK(on_tick(p, t, *due).outcome != Outcome::Unchanged);
      if (*due > kT0) CHECK(on_tick(p, t, *due - 1).outcome == Outcome::Unchanged);
    }
    CHECK(next_deadline(p, pending) == std::optional<TimeMs>(kT0 + p.inactive_after_ms));
  }
  const Policy p = Policy::defaults(ConversationalStyle::SocialMessaging);
  CHECK_FALSE(next_deadline(p, ticket(Status::New)).has_value());
  CHECK_FALSE(next_deadline(p, ticket(Status::Open)).has_value());
  CHECK_FALSE(next_deadline(p, ticket(Status::OnHold)).has_value());
  CHECK_FALSE(next_deadline(p, ticket(Status::Closed, kT0)).has_value());
  Ticket inactive = ticket(Status::Pending);
  inactive.inactive = true;
  CHECK_FALSE(next_deadline(p, inactive).has_value());
}

TEST_CASE("Tick leaves tickets with nothing due unchanged", "[lifecycle][tick]") {
  const Policy p = Policy::defaults(ConversationalStyle::SocialMessaging);
  for (Status s : {Status::New, Status::Open, Status::OnHold, Status::Closed}) {
    const Ticket t = ticket(s, kT0);
    const Decision d = on_tick(p, t, kT0 + 365 * kDay);
    CHECK(d.outcome == Outcome::Unchanged);
    CHECK(d.ticket == t);
  }
}

TEST_CASE("Outcome names", "[lifecycle]") {
  CHECK(to_string(Outcome::Unchanged) == "unchanged");
  CHECK(to_string(Outcome::Continued) == "continued");
  CHECK(to_string(Outcome::Reopened) == "reopened");
  CHECK(to_string(Outcome::NewTicket) == "new_ticket");
  CHECK(to_string(Outcome::Ignored) == "ignored");
  CHECK(to_string(Outcome::WokeUp) == "woke_up");
  CHECK(to_string(Outcome::Closed) == "closed");
  CHECK(to_string(Outcome::StatusSet) == "status_set");
  CHECK(to_string(Outcome::Rejected) == "rejected");
  CHECK(to_string(Outcome::BecameInactive) == "became_inactive");
}

// ---------------------------------------------------------------- satisfaction surveys
SCENARIO("A survey answer belongs to the solved ticket: it neither reopens nor starts one",
         "[lifecycle][csat]") {
  Body answer;
  answer.text = "5";
  answer.event = Json{{"type", "csat"}, {"score", 5}, {"scale", 5}};
  Body plain;
  plain.text = "5";
  CHECK(is_survey_answer(answer));
  CHECK_FALSE(is_survey_answer(plain));
  Body handoff_line;
  handoff_line.event = Json{{"type", "handoff"}};
  CHECK_FALSE(is_survey_answer(handoff_line));

  GIVEN("a social-messaging ticket solved a minute ago") {
    const Policy p = Policy::defaults(ConversationalStyle::SocialMessaging);
    const Ticket t = ticket(Status::Solved, kT0 - 60'000);
    THEN("the rating is ignored; the same words without the survey event reopen it") {
      const Decision d = on_customer_message(p, t, "en", answer, kT0);
      CHECK(d.outcome == Outcome::Ignored);
      CHECK(d.ticket.status == Status::Solved);
      CHECK(on_customer_message(p, t, "en", plain, kT0).outcome == Outcome::Reopened);
    }
  }
  GIVEN("a live-chat ticket closed at solve") {
    const Policy p = Policy::defaults(ConversationalStyle::LiveChat);
    const Ticket t = ticket(Status::Closed, kT0 - 60'000);
    THEN("the rating starts no new ticket; a question does") {
      CHECK(on_customer_message(p, t, "en", answer, kT0).outcome == Outcome::Ignored);
      CHECK(on_customer_message(p, t, "en", plain, kT0).outcome == Outcome::NewTicket);
    }
  }
  GIVEN("an open ticket") {
    const Policy p = Policy::defaults(ConversationalStyle::SocialMessaging);
    THEN("a rating is an ordinary message") {
      CHECK(on_customer_message(p, ticket(Status::Open), "en", answer, kT0).outcome ==
            Outcome::Continued);
    }
  }
}

TEST_CASE("A survey is a rich csat message", "[lifecycle][csat]") {
  Body survey;
  survey.rich = RichKind::Csat;
  survey.payload = Json{{"scale", 5}};
  CHECK(is_survey(survey));
  CHECK_FALSE(is_survey(Body{}));
}
