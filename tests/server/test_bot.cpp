// The rule-based bot (server/src/bot.hpp).
#include <catch2/catch.hpp>

#include <string>

#include "bot.hpp"
#include "parley/protocol.hpp"

using namespace parley;
using namespace parley::server;

namespace {

BotContext open_ctx() {
  return BotContext{true, "Mon–Fri 09:00–17:00 (Europe/Oslo)", ""};
}
BotContext closed_ctx() {
  return BotContext{false, "Mon–Fri 09:00–17:00 (Europe/Oslo)", "Monday 09:00"};
}

Intent intent_of(std::string_view text) {
  return answer(text, open_ctx()).intent;
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("bot: greetings carry quick replies") {
  for (std::string_view t :
       {"hi", "Hi!", "HELLO", "hey there", "Hey!!!", "good morning", "Good evening :)", "hiya",
        "Hello…", "¡hola! hi", "hi 👋", "  hello  ", "Hei!", "greetings."}) {
    INFO(t);
    const auto r = answer(t, open_ctx());
    CHECK(r.intent == Intent::Greeting);
    CHECK_FALSE(r.to_queue);
    CHECK_FALSE(r.body.text.empty());
    CHECK(r.body.rich == RichKind::QuickReplies);
  }
  const auto r = answer("hello", open_ctx());
  CHECK(r.body.payload == Json::parse(R"({"options":[{"id":"hours","label":"Opening hours"},
      {"id":"shipping","label":"Shipping"},{"id":"human","label":"Talk to a human"}]})"));
  CHECK(r.body.attachments.empty());
  CHECK(r.body.event.is_null());
}

TEST_CASE("bot: the greeting's payload passes the core codec") {
  const auto r = answer("hi", open_ctx());
  const protocol::Send send{"r1", "c_1", "k_1", r.body};
  const auto wire = protocol::encode(protocol::ClientFrame{send});
  const auto decoded = protocol::decode_client(wire);
  if (!decoded.ok()) FAIL("decode failed: " << decoded.error().message);
  const auto* back = std::get_if<protocol::Send>(&decoded.frame());
  REQUIRE(back != nullptr);
  CHECK(back->body == r.body);

  // Every reply the bot can make is a valid body (text within limits, no stray payload).
  for (std::string_view t : {"hours?", "shipping", "returns", "price", "agent", "thanks", "??"}) {
    for (const auto& ctx : {open_ctx(), closed_ctx()}) {
      INFO(t << " open=" << ctx.open);
      const auto b = answer(t, ctx).body;
      CHECK(b.rich == RichKind::None);
      CHECK(b.payload.is_null());
      CHECK(protocol::decode_client(
                protocol::encode(protocol::ClientFrame{protocol::Send{"r", "c", "k", b}}))
                .ok());
    }
  }
}

TEST_CASE("bot: quick replies lead back to the bot's own intents") {
  // Tapping a quick reply posts its label; the bare ids work too.
  CHECK(intent_of("Opening hours") == Intent::Hours);
  CHECK(intent_of("Shipping") == Intent::Faq);
  CHECK(intent_of("Talk to a human") == Intent::Human);
  CHECK(intent_of(kQuickHours) == Intent::Hours);
  CHECK(intent_of(kQuickShipping) == Intent::Faq);
  CHECK(intent_of(kQuickHuman) == Intent::Human);
}

TEST_CASE("bot: hours") {
  for (std::string_view t : {"opening hours", "What are your opening hours?", "HOURS",
                             "when are you open", "When are you open??", "are you open today",
                             "Business hours, please", "when do you close?"}) {
    INFO(t);
    const auto r = answer(t, open_ctx());
    CHECK(r.intent == Intent::Hours);
    CHECK_FALSE(r.to_queue);
    CHECK(r.body.rich == RichKind::None);
  }
  SECTION("open") {
    const auto r = answer("hours?", open_ctx());
    CHECK(contains(r.body.text, "Mon–Fri 09:00–17:00 (Europe/Oslo)"));
    CHECK(contains(r.body.text, "open right now"));
    CHECK_FALSE(contains(r.body.text, "Monday"));
  }
  SECTION("closed mentions the next opening") {
    const auto r = answer("hours?", closed_ctx());
    CHECK(r.body.text ==
          "We're closed right now. Our opening hours are Mon–Fri 09:00–17:00 (Europe/Oslo). "
          "We're back Monday 09:00.");
  }
  SECTION("no hours text") {
    CHECK(answer("hours", BotContext{}).body.text == "We're open right now.");
  }
}

TEST_CASE("bot: FAQ") {
  SECTION("shipping / delivery") {
    for (std::string_view t : {"shipping", "Do you ship to Norway?", "delivery time?",
                               "How long does DELIVERY take", "where's my tracking number"}) {
      INFO(t);
      const auto r = answer(t, open_ctx());
      CHECK(r.intent == Intent::Faq);
      CHECK_FALSE(r.to_queue);
      CHECK(contains(r.body.text, "ship"));
    }
  }
  SECTION("returns / refund") {
    for (std::string_view t :
         {"returns", "Can I return this?", "I want a refund!", "refund policy"}) {
      INFO(t);
      const auto r = answer(t, open_ctx());
      CHECK(r.intent == Intent::Faq);
      CHECK(contains(r.body.text, "30 days"));
    }
  }
  SECTION("prices") {
    for (std::string_view t :
         {"price", "Prices?", "pricing", "what does it cost", "how much is it"}) {
      INFO(t);
      const auto r = answer(t, open_ctx());
      CHECK(r.intent == Intent::Faq);
      CHECK(contains(r.body.text, "pricing page"));
    }
  }
  SECTION("several topics answer all of them, answers are fixed") {
    const auto r = answer("how much does shipping cost?", open_ctx());
    CHECK(r.intent == Intent::Faq);
    CHECK(contains(r.body.text, "tracking link"));
    CHECK(contains(r.body.text, "pricing page"));
    CHECK(answer("shipping", open_ctx()).body == answer("SHIPPING!", closed_ctx()).body);
  }
}

TEST_CASE("bot: asking for a person goes to the queue") {
  for (std::string_view t :
       {"talk to a human", "Talk to a human!", "human", "HUMAN please", "agent", "Agent?",
        "I want a real person", "operator", "can I speak to someone", "hi, can I talk to a human?",
        "Is there an agent for my hours question?"}) {
    INFO(t);
    const auto r = answer(t, open_ctx());
    CHECK(r.intent == Intent::Human);
    CHECK(r.to_queue);
    CHECK(r.body.text == "Connecting you to an agent…");
    CHECK(r.body.rich == RichKind::None);
  }
  SECTION("away text when closed") {
    const auto r = answer("talk to a human", closed_ctx());
    CHECK(r.intent == Intent::Human);
    CHECK(r.to_queue);
    CHECK(r.body.text == "We're away now; an agent will reply when we're back, Monday 09:00.");
  }
  SECTION("closed without a known next opening") {
    BotContext ctx = closed_ctx();
    ctx.next_open_text.clear();
    CHECK(answer("agent", ctx).body.text == "We're away now; an agent will reply when we're back.");
  }
}

TEST_CASE("bot: thanks") {
  for (std::string_view t :
       {"thanks", "Thanks!", "thank you", "Thank you so much :)", "thx", "thanks, hello again"}) {
    INFO(t);
    const auto r = answer(t, open_ctx());
    CHECK(r.intent == Intent::Thanks);
    CHECK_FALSE(r.to_queue);
    CHECK_FALSE(r.body.text.empty());
    CHECK(r.body.rich == RichKind::None);
  }
}

TEST_CASE("bot: anything else is passed on to the team") {
  for (std::string_view t : {"my order is broken", "this", "", "   ", "?!", "🙂", "asdf qwerty",
                             "\xff\xfe garbage bytes"}) {
    INFO(t);
    const auto r = answer(t, open_ctx());
    CHECK(r.intent == Intent::Other);
    CHECK(r.to_queue);
    CHECK(r.body.text == "I'll pass this on to the team.");
  }
  SECTION("outside business hours it also says when the team is back") {
    const auto r = answer("my order is broken", closed_ctx());
    CHECK(r.intent == Intent::Other);
    CHECK(r.to_queue);
    CHECK(r.body.text ==
          "I'll pass this on to the team. We're away now; an agent will reply when we're back, "
          "Monday 09:00.");
  }
}

TEST_CASE("bot: matching is on whole words") {
  // Substrings of keywords inside other words do not count.
  CHECK(intent_of("this") == Intent::Other);
  CHECK(intent_of("which one?") == Intent::Other);
  CHECK(intent_of("philosophy") == Intent::Other);
  CHECK(intent_of("they") == Intent::Other);
  CHECK(intent_of("shipment relationship") == Intent::Other);
  CHECK(intent_of("humanity") == Intent::Other);
  CHECK(intent_of("agents' desk") == Intent::Other);
  CHECK(intent_of("agency") == Intent::Other);
  CHECK(intent_of("showhours") == Intent::Other);
  CHECK(intent_of("priceless") == Intent::Other);
  CHECK(intent_of("thankful") == Intent::Other);
  CHECK(intent_of("good") == Intent::Other);
  CHECK(intent_of("morning") == Intent::Other);
  // ...but punctuation, including Unicode punctuation, separates words.
  CHECK(intent_of("hi,there") == Intent::Greeting);
  CHECK(intent_of("(hello)") == Intent::Greeting);
  CHECK(intent_of("“hi”") == Intent::Greeting);
  CHECK(intent_of("hi—how are you?") == Intent::Greeting);
  CHECK(intent_of("human’s help") == Intent::Human);
  CHECK(intent_of("shipping/returns") == Intent::Faq);
  CHECK(intent_of("Good\u00a0Morning") == Intent::Greeting);  // no-break space
  CHECK(intent_of("good\tmorning\n") == Intent::Greeting);
  // Letters outside ASCII stay inside their word.
  CHECK(intent_of("hié") == Intent::Other);
  CHECK(intent_of("øhi") == Intent::Other);
}

TEST_CASE("bot: intent precedence") {
  CHECK(intent_of("hello, what are your opening hours?") == Intent::Hours);
  CHECK(intent_of("hi! do you ship to Sweden?") == Intent::Faq);
  CHECK(intent_of("thanks! and what about refunds?") == Intent::Faq);
  CHECK(intent_of("hello and thanks") == Intent::Thanks);
  CHECK(intent_of("hours? actually, just get me an agent") == Intent::Human);
  CHECK(to_string(Intent::Greeting) == "greeting");
  CHECK(to_string(Intent::Other) == "other");
}
