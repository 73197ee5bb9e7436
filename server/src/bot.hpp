// The reference server's rule-based bot (docs/server.md, "Bot"). Pure: text in, reply out.
//
// Matching is on whole words of the visitor's text, case-insensitive (ASCII) and tolerant of
// punctuation (ASCII and common Unicode punctuation, symbols and emoji separate words), so
// "Hi!!" is a greeting and "this" is not. When several intents match, the first of
// Human, Hours, Faq, Thanks, Greeting wins ("hi, can I talk to a human?" goes to the queue).
#pragma once

#include <string>
#include <string_view>

#include "parley/model.hpp"

namespace parley::server {

enum class Intent { Greeting, Hours, Faq, Human, Thanks, Other };
std::string_view to_string(Intent i);

struct BotReply {
  Intent intent = Intent::Other;
  Body body;              // plain text; the greeting also carries quick replies
  bool to_queue = false;  // hand the conversation to the agent queue
};

struct BotContext {
  bool open = true;
  std::string hours_text;      // e.g. "Mon–Fri 09:00–17:00 (Europe/Oslo)"; may be empty
  std::string next_open_text;  // e.g. "Monday 09:00"; empty when open
};

// Quick-reply option ids of the greeting; tapping one posts its label, which the bot
// understands again (and the bare ids "hours", "shipping", "human" match too).
inline constexpr std::string_view kQuickHours = "hours";
inline constexpr std::string_view kQuickShipping = "shipping";
inline constexpr std::string_view kQuickHuman = "human";

BotReply answer(std::string_view text, const BotContext& ctx);

}  // namespace parley::server
