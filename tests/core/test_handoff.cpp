// Channel handoff and control ownership (core/src/handoff.cpp).
#include <catch2/catch.hpp>

#include "parley/handoff.hpp"

#include <string>
#include <variant>
#include <vector>

using namespace parley;
using namespace parley::handoff;
// Note: `bind` is always qualified here; unqualified, argument-dependent lookup on
// std::vector also finds std::bind, which wins overload resolution.

namespace {

constexpr TimeMs kT0 = 1'700'000'000'000;

bool valid(Channel c, std::string_view address) {
  return !validate_address(c, address);
}

const ChannelBinding* find_binding(const std::vector<ChannelBinding>& v, Channel c) {
  for (const auto& b : v) {
    if (b.channel == c) return &b;
  }
  return nullptr;
}

int active_non_web(const std::vector<ChannelBinding>& v) {
  int n = 0;
  for (const auto& b : v) n += (b.active && b.channel != Channel::Web) ? 1 : 0;
  return n;
}

}  // namespace

// ---------------------------------------------------------------- validate_address

TEST_CASE("validate_address: phones are E.164 with spaces and dashes ignored",
          "[handoff][address]") {
  for (Channel c : {Channel::Sms, Channel::WhatsApp}) {
    CHECK(valid(c, "+33612345678"));
    CHECK(valid(c, "+33 6 12 34 56 78"));
    CHECK(valid(c, "+1-415-555-0100"));
    CHECK(valid(c, "+12345678"));                // 8 digits: shortest accepted
    CHECK(valid(c, "+123456789012345"));         // 15 digits: longest accepted
    CHECK_FALSE(valid(c, "+1234567"));           // 7 digits
    CHECK_FALSE(valid(c, "+1234567890123456"));  // 16 digits
    CHECK_FALSE(valid(c, "0612345678"));         // national format, no +
    CHECK_FALSE(valid(c, "+0612345678"));        // country codes never start with 0
    CHECK_FALSE(valid(c, "+33 6 12 34 56 7x"));
    CHECK_FALSE(valid(c, "+33.6.12.34.56.78"));
    CHECK_FALSE(valid(c, "33+612345678"));
    CHECK_FALSE(valid(c, "+"));
    CHECK_FALSE(valid(c, ""));
  }
}

TEST_CASE("validate_address: e-mail is a simple local@domain.tld", "[handoff][address]") {
  CHECK(valid(Channel::Email, "ada@example.com"));
  CHECK(valid(Channel::Email, "Ada.Lovelace+support@mail.Example.co.uk"));
  CHECK(valid(Channel::Email, "a@b.io"));
  CHECK_FALSE(valid(Channel::Email, ""));
  CHECK_FALSE(valid(Channel::Email, "ada"));
  CHECK_FALSE(valid(Channel::Email, "ada@"));
  CHECK_FALSE(valid(Channel::Email, "@example.com"));
  CHECK_FALSE(valid(Channel::Email, "ada@example"));    // no TLD
  CHECK_FALSE(valid(Channel::Email, "ada@example.c"));  // 1-letter TLD
  CHECK_FALSE(valid(Channel::Email, "ada@127.0.0.1"));  // numeric TLD
  CHECK_FALSE(valid(Channel::Email, "ada@@example.com"));
  CHECK_FALSE(valid(Channel::Email, "a@b@example.com"));
  CHECK_FALSE(valid(Channel::Email, "ada lovelace@example.com"));
  CHECK_FALSE(valid(Channel::Email, "ada@exa mple.com"));
  CHECK_FALSE(valid(Channel::Email, "ada@.example.com"));
  CHECK_FALSE(valid(Channel::Email, "ada@example..com"));
  CHECK_FALSE(valid(Channel::Email, "ada@-example.com"));
  CHECK_FALSE(valid(Channel::Email, ".ada@example.com"));
  CHECK_FALSE(valid(Channel::Email, "ada..l@example.com"));
  CHECK_FALSE(valid(Channel::Email, "<ada@example.com>"));
  CHECK(valid(Channel::Email, std::string(64, 'a') + "@example.com"));
  CHECK_FALSE(valid(Channel::Email, std::string(65, 'a') + "@example.com"));  // local > 64
}

TEST_CASE("validate_address: e-mail is at most 254 characters", "[handoff][address]") {
  // local (64) + "@" + domain made of 63-character labels, sized to the exact limit.
  const std::string local(64, 'a');
  const std::string label(63, 'b');
  const std::string domain = label + "." + label + ".";
  REQUIRE(local.size() + 1 + domain.size() + 2 <= 254);
  const std::size_t tld = 254 - local.size() - 1 - domain.size();  // 61, a valid label
  const std::string at_limit = local + "@" + domain + std::string(tld, 'c');
  REQUIRE(at_limit.size() == 254);
  CHECK(valid(Channel::Email, at_limit));
  const std::string over = local + "@" + domain + std::string(tld + 1, 'c');
  REQUIRE(over.size() == 255);
  CHECK_FALSE(valid(Channel::Email, over));
}

TEST_CASE("validate_address: device ids are 1..128 of [A-Za-z0-9_-]", "[handoff][address]") {
  CHECK(valid(Channel::Device, "d"));
  CHECK(valid(Channel::Device, "dev_01-AbC"));
  CHECK(valid(Channel::Device, std::string(128, 'x')));
  CHECK_FALSE(valid(Channel::Device, std::string(129, 'x')));
  CHECK_FALSE(valid(Channel::Device, ""));
  CHECK_FALSE(valid(Channel::Device, "dev 01"));
  CHECK_FALSE(valid(Channel::Device, "dev/01"));
  CHECK_FALSE(valid(Channel::Device, "dév"));
}

TEST_CASE("validate_address: web takes no address, Messenger a non-empty id",
          "[handoff][address]") {
  CHECK(valid(Channel::Web, ""));
  CHECK_FALSE(valid(Channel::Web, "https://example.com"));
  CHECK(valid(Channel::Messenger, "1234567890"));
  CHECK(valid(Channel::Messenger, std::string(128, '9')));
  CHECK_FALSE(valid(Channel::Messenger, std::string(129, '9')));
  CHECK_FALSE(valid(Channel::Messenger, ""));
  CHECK_FALSE(valid(Channel::Messenger, "12\n34"));
}

TEST_CASE("validate_address: failures are permanent InvalidField errors", "[handoff][address]") {
  const auto err = validate_address(Channel::Sms, "not a number");
  REQUIRE(err.has_value());
  CHECK(err->code == ErrorCode::InvalidField);
  CHECK(err->recoverability == Recoverability::Permanent);
  CHECK_FALSE(err->recoverable());
  CHECK_FALSE(err->message.empty());
}

// ---------------------------------------------------------------- bind

SCENARIO("Bind: the web binding always stays active", "[handoff][bind]") {
  GIVEN("a conversation with no bindings yet") {
    const std::vector<ChannelBinding> none;
    WHEN("it is handed to SMS") {
      const auto out = handoff::bind(none, Channel::Sms, "+33 6 12-34-56-78", kT0);
      THEN("web is added, active, then the SMS binding") {
        REQUIRE(out.size() == 2);
        CHECK(out[0] == ChannelBinding{Channel::Web, "", true, kT0});
        CHECK(out[1] == ChannelBinding{Channel::Sms, "+33612345678", true, kT0});
      }
    }
    WHEN("web is bound") {
      const auto out = handoff::bind(none, Channel::Web, "", kT0);
      THEN("there is exactly one active web binding") {
        REQUIRE(out.size() == 1);
        CHECK(out[0] == ChannelBinding{Channel::Web, "", true, kT0});
      }
    }
  }
  GIVEN("a web binding that was (wrongly) inactive") {
    const std::vector<ChannelBinding> cur{{Channel::Web, "", false, kT0 - 100}};
    WHEN("another channel is bound") {
      const auto out = handoff::bind(cur, Channel::Email, "ada@example.com", kT0);
      THEN("web is active again and not duplicated") {
        REQUIRE(out.size() == 2);
        CHECK(out[0].channel == Channel::Web);
        CHECK(out[0].active);
        CHECK(out[0].since == kT0);
      }
    }
  }
}

SCENARIO("Bind: a non-web channel deactivates the other non-web channels", "[handoff][bind]") {
  GIVEN("web and an active SMS binding") {
    const std::vector<ChannelBinding> cur{{Channel::Web, "", true, kT0 - 1000},
                                          {Channel::Sms, "+33612345678", true, kT0 - 500}};
    WHEN("the visitor continues by e-mail") {
      const auto out = handoff::bind(cur, Channel::Email, "ada@Example.COM", kT0);
      THEN("e-mail is appended and active, SMS inactive, web untouched") {
        REQUIRE(out.size() == 3);
        CHECK(out[0] == cur[0]);
        CHECK(out[1] == ChannelBinding{Channel::Sms, "+33612345678", false, kT0 - 500});
        CHECK(out[2] == ChannelBinding{Channel::Email, "ada@example.com", true, kT0});
        CHECK(active_non_web(out) == 1);
      }
      AND_WHEN("they switch back to the same SMS number, typed differently") {
        const auto back = handoff::bind(out, Channel::Sms, "+33 6 12 34 56 78", kT0 + 10);
        THEN("the existing SMS binding is re-activated, not duplicated") {
          REQUIRE(back.size() == 3);
          CHECK(back[1] == ChannelBinding{Channel::Sms, "+33612345678", true, kT0 + 10});
          CHECK_FALSE(back[2].active);
          CHECK(back[0].active);
          CHECK(active_non_web(back) == 1);
        }
      }
    }
    WHEN("the visitor binds a different SMS number") {
      const auto out = handoff::bind(cur, Channel::Sms, "+447700900123", kT0);
      THEN("the new number is appended and the old one deactivated") {
        REQUIRE(out.size() == 3);
        CHECK_FALSE(out[1].active);
        CHECK(out[2] == ChannelBinding{Channel::Sms, "+447700900123", true, kT0});
      }
    }
    WHEN("the same SMS binding is bound again") {
      const auto out = handoff::bind(cur, Channel::Sms, "+33612345678", kT0);
      THEN("nothing changes, not even the since time") {
        CHECK(out == cur);
      }
    }
    WHEN("web is bound") {
      const auto out = handoff::bind(cur, Channel::Web, "", kT0);
      THEN("web stays active and SMS is left alone") {
        CHECK(out == cur);
      }
    }
  }
}

SCENARIO("Bind: order is deterministic, existing order kept, new bindings appended",
         "[handoff][bind]") {
  GIVEN("bindings where web is not first") {
    const std::vector<ChannelBinding> cur{{Channel::Device, "dev1", false, 1},
                                          {Channel::Web, "", true, 2},
                                          {Channel::WhatsApp, "+15555550100", true, 3}};
    WHEN("a device is bound") {
      const auto a = handoff::bind(cur, Channel::Device, "dev1", kT0);
      const auto b = handoff::bind(cur, Channel::Device, "dev1", kT0);
      THEN("the order is kept and the result is reproducible") {
        CHECK(a == b);
        REQUIRE(a.size() == 3);
        CHECK(a[0] == ChannelBinding{Channel::Device, "dev1", true, kT0});
        CHECK(a[1] == cur[1]);
        CHECK(a[2] == ChannelBinding{Channel::WhatsApp, "+15555550100", false, 3});
        CHECK(find_binding(a, Channel::Web)->active);
      }
    }
  }
}

// ---------------------------------------------------------------- transfer

TEST_CASE("Transfer: ToBot and ToQueue", "[handoff][transfer]") {
  ControlOwner agent{ControlOwner::Kind::Agent, "a1", "Ada", 0};
  const auto to_bot = transfer(agent, ControlRequest::ToBot, "", "");
  REQUIRE(std::holds_alternative<ControlOwner>(to_bot));
  CHECK(std::get<ControlOwner>(to_bot) == ControlOwner{ControlOwner::Kind::Bot, "", "", 0});

  const auto to_queue = transfer(agent, ControlRequest::ToQueue, "", "");
  REQUIRE(std::holds_alternative<ControlOwner>(to_queue));
  CHECK(std::get<ControlOwner>(to_queue) == ControlOwner{ControlOwner::Kind::Queue, "", "", 0});

  // Already queued: the known position is kept.
  ControlOwner queued{ControlOwner::Kind::Queue, "", "", 4};
  const auto again = transfer(queued, ControlRequest::ToQueue, "", "");
  REQUIRE(std::holds_alternative<ControlOwner>(again));
  CHECK(std::get<ControlOwner>(again) == queued);
}

TEST_CASE("Transfer: ToAgent requires an agent id", "[handoff][transfer]") {
  const ControlOwner bot;
  for (std::string_view id : {std::string_view(""), std::string_view("  ")}) {
    const auto r = transfer(bot, ControlRequest::ToAgent, id, "Ada");
    REQUIRE(std::holds_alternative<Error>(r));
    CHECK(std::get<Error>(r).code == ErrorCode::InvalidField);
    CHECK(std::get<Error>(r).recoverability == Recoverability::Permanent);
  }
  const auto ok = transfer(bot, ControlRequest::ToAgent, "a1", "Ada");
  REQUIRE(std::holds_alternative<ControlOwner>(ok));
  CHECK(std::get<ControlOwner>(ok) == ControlOwner{ControlOwner::Kind::Agent, "a1", "Ada", 0});
}

TEST_CASE("Transfer: the same agent again is allowed and keeps the owner", "[handoff][transfer]") {
  const ControlOwner ada{ControlOwner::Kind::Agent, "a1", "Ada", 0};
  const auto same = transfer(ada, ControlRequest::ToAgent, "a1", "Ada");
  REQUIRE(std::holds_alternative<ControlOwner>(same));
  CHECK(std::get<ControlOwner>(same) == ada);
  const auto no_name = transfer(ada, ControlRequest::ToAgent, "a1", "");
  REQUIRE(std::holds_alternative<ControlOwner>(no_name));
  CHECK(std::get<ControlOwner>(no_name) == ada);
  const auto other = transfer(ada, ControlRequest::ToAgent, "a2", "Grace");
  REQUIRE(std::holds_alternative<ControlOwner>(other));
  CHECK(std::get<ControlOwner>(other) == ControlOwner{ControlOwner::Kind::Agent, "a2", "Grace", 0});
}

// ---------------------------------------------------------------- timeline_event

TEST_CASE("Timeline event: handoff to a named agent while continuing by SMS",
          "[handoff][timeline]") {
  const ControlOwner ada{ControlOwner::Kind::Agent, "a1", "Ada", 0};
  const std::vector<ChannelBinding> channels{{Channel::Web, "", true, 1},
                                             {Channel::Sms, "+33612345678", true, 2}};
  const Body b = timeline_event(ada, channels, "customer asked for a human");
  CHECK(b.text == "Conversation handed to Ada. Continuing by SMS at +33612345678");
  CHECK(b.rich == RichKind::None);
  CHECK(b.payload.is_null());
  CHECK(b.attachments.empty());
  const Json expected = {
      {"type", "handoff"},
      {"owner", {{"kind", "agent"}, {"agent_id", "a1"}, {"agent_name", "Ada"}}},
      {"channels",
       Json::array({{{"channel", "web"}, {"address", ""}, {"active", true}},
                    {{"channel", "sms"}, {"address", "+33612345678"}, {"active", true}}})},
      {"reason", "customer asked for a human"},
  };
  CHECK(b.event == expected);
}

TEST_CASE("Timeline event: text for each owner and channel", "[handoff][timeline]") {
  const std::vector<ChannelBinding> web_only{{Channel::Web, "", true, 1}};
  const ControlOwner bot;
  const ControlOwner queue{ControlOwner::Kind::Queue, "", "", 2};
  const ControlOwner nameless{ControlOwner::Kind::Agent, "a9", "", 0};
  CHECK(timeline_event(bot, web_only, "").text == "Conversation handed to the bot");
  CHECK(timeline_event(nameless, web_only, "").text == "Conversation handed to an agent");
  const Body q = timeline_event(queue, web_only, "");
  CHECK(q.text == "Conversation waiting for the next available agent");
  CHECK(q.event["owner"]["kind"] == "queue");
  CHECK(q.event["owner"]["queue_position"] == 2);
  CHECK(q.event["reason"] == "");

  const std::vector<ChannelBinding> email{{Channel::Web, "", true, 1},
                                          {Channel::Sms, "+33612345678", false, 2},
                                          {Channel::Email, "ada@example.com", true, 3}};
  const Body e = timeline_event(bot, email, "");
  CHECK(e.text == "Conversation handed to the bot. Continuing by email at ada@example.com");
  REQUIRE(e.event["channels"].size() == 3);
  CHECK(e.event["channels"][1]["active"] == false);
  CHECK(e.event["channels"][2]["channel"] == "email");
  CHECK(e.event["owner"].contains("queue_position") == false);

  const std::vector<ChannelBinding> device{{Channel::Web, "", true, 1},
                                           {Channel::Device, "dev1", true, 2}};
  CHECK(timeline_event(bot, device, "").text ==
        "Conversation handed to the bot. Continuing on another device");
  // Should two non-web bindings both be active (bind never does that), the first is named.
  const std::vector<ChannelBinding> two{{Channel::Email, "ada@example.com", true, 1},
                                        {Channel::Sms, "+33612345678", true, 2}};
  CHECK(timeline_event(bot, two, "").text ==
        "Conversation handed to the bot. Continuing by email at ada@example.com");
  const std::vector<ChannelBinding> wa{{Channel::WhatsApp, "+15555550100", true, 2}};
  CHECK(timeline_event(bot, wa, "").text ==
        "Conversation handed to the bot. Continuing on WhatsApp at +15555550100");
}
