// Rule-based bot. See bot.hpp.
#include "bot.hpp"

#include <array>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace parley::server {
namespace {

using Words = std::vector<std::string>;
using Phrase = std::initializer_list<std::string_view>;

// Non-ASCII code points that separate words like ASCII punctuation does: Latin-1 punctuation
// and symbols (incl. NBSP, « » ¡ ¿), × ÷, general punctuation (’ “ ” … – —, zero-width
// characters), arrows, dingbats and other symbol blocks, CJK punctuation, variation
// selectors, the BOM and emoji.
bool separator(std::uint32_t cp) {
  return (cp >= 0x80 && cp <= 0xBF) || cp == 0xD7 || cp == 0xF7 || (cp >= 0x2000 && cp <= 0x2BFF) ||
         (cp >= 0x3000 && cp <= 0x303F) || (cp >= 0xFE00 && cp <= 0xFE0F) || cp == 0xFEFF ||
         (cp >= 0x1F000 && cp <= 0x1FAFF);
}

// Length of the UTF-8 sequence at s[i] and its code point; 0 for an invalid sequence.
std::size_t utf8_decode(std::string_view s, std::size_t i, std::uint32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  std::size_t len = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    cp = b0 & 0x0F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  return len;
}

// Lower-cased words. ASCII letters and digits and non-separator non-ASCII characters (é, ø,
// CJK...) form words; everything else (including invalid UTF-8) separates them.
Words split_words(std::string_view text) {
  Words out;
  std::string cur;
  const auto flush = [&] {
    if (!cur.empty()) out.push_back(std::move(cur));
    cur.clear();
  };
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (c >= 'A' && c <= 'Z') {
        cur.push_back(static_cast<char>(c - 'A' + 'a'));
      } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
        cur.push_back(static_cast<char>(c));
      } else {
        flush();
      }
      ++i;
      continue;
    }
    std::uint32_t cp = 0;
    const std::size_t len = utf8_decode(text, i, cp);
    if (len == 0) {
      flush();
      ++i;
    } else {
      if (separator(cp)) {
        flush();
      } else {
        cur.append(text.substr(i, len));
      }
      i += len;
    }
  }
  flush();
  return out;
}

bool has_phrase(const Words& words, Phrase phrase) {
  const std::size_t n = phrase.size();
  if (n == 0 || n > words.size()) return false;
  for (std::size_t i = 0; i + n <= words.size(); ++i) {
    std::size_t k = 0;
    for (const auto& w : phrase) {
      if (words[i + k] != w) break;
      ++k;
    }
    if (k == n) return true;
  }
  return false;
}

bool has_any(const Words& words, std::initializer_list<Phrase> phrases) {
  for (const auto& p : phrases) {
    if (has_phrase(words, p)) return true;
  }
  return false;
}

bool wants_human(const Words& w) {
  return has_any(w, {{"human"},
                     {"humans"},
                     {"agent"},
                     {"operator"},
                     {"representative"},
                     {"real", "person"},
                     {"live", "person"},
                     {"a", "person"},
                     {"talk", "to", "someone"},
                     {"speak", "to", "someone"}});
}

bool asks_hours(const Words& w) {
  return has_any(w, {{"hours"},
                     {"opening", "time"},
                     {"opening", "times"},
                     {"closing", "time"},
                     {"are", "you", "open"},
                     {"when", "do", "you", "open"},
                     {"when", "do", "you", "close"},
                     {"open", "today"},
                     {"open", "tomorrow"},
                     {"open", "now"}});
}

bool asks_shipping(const Words& w) {
  return has_any(w, {{"ship"},
                     {"ships"},
                     {"shipping"},
                     {"shipped"},
                     {"delivery"},
                     {"deliveries"},
                     {"deliver"},
                     {"delivered"},
                     {"tracking"}});
}

bool asks_returns(const Words& w) {
  return has_any(w, {{"return"},
                     {"returns"},
                     {"returning"},
                     {"refund"},
                     {"refunds"},
                     {"exchange"},
                     {"money", "back"}});
}

bool asks_prices(const Words& w) {
  return has_any(w, {{"price"}, {"prices"}, {"pricing"}, {"cost"}, {"costs"}, {"how", "much"}});
}

bool says_thanks(const Words& w) {
  return has_any(w, {{"thanks"}, {"thank"}, {"thx"}, {"cheers"}, {"much", "appreciated"}});
}

bool greets(const Words& w) {
  return has_any(w, {{"hi"},
                     {"hello"},
                     {"hey"},
                     {"heya"},
                     {"hiya"},
                     {"howdy"},
                     {"greetings"},
                     {"hei"},
                     {"hallo"},
                     {"good", "morning"},
                     {"good", "afternoon"},
                     {"good", "evening"},
                     {"good", "day"}});
}

constexpr std::string_view kShippingAnswer =
    "We ship within 1–2 business days. Delivery takes 2–5 business days, and you get a "
    "tracking link by e-mail as soon as your order leaves us.";
constexpr std::string_view kReturnsAnswer =
    "You can return unused items within 30 days for a full refund. Start a return from your "
    "order page; the refund reaches you within 5–10 business days after we receive the item.";
constexpr std::string_view kPricesAnswer =
    "All prices are listed on our pricing page and include VAT. Shipping costs are shown at "
    "checkout before you pay.";
constexpr std::string_view kGreetingText =
    "Hi! I'm the Parley assistant. I can tell you our opening hours, answer questions about "
    "shipping, or connect you to a person.";
constexpr std::string_view kThanksText = "You're welcome! Anything else I can help with?";
constexpr std::string_view kConnectingText = "Connecting you to an agent…";
constexpr std::string_view kPassOnText = "I'll pass this on to the team.";

std::string sentence(std::string_view s) {
  std::string out(s);
  if (!out.empty() && out.back() != '.' && out.back() != '!' && out.back() != '?') out += '.';
  return out;
}

std::string away_text(const BotContext& ctx) {
  if (ctx.next_open_text.empty()) return "We're away now; an agent will reply when we're back.";
  return "We're away now; an agent will reply when we're back, " + sentence(ctx.next_open_text);
}

std::string hours_text(const BotContext& ctx) {
  std::string out = ctx.open ? "We're open right now." : "We're closed right now.";
  if (!ctx.hours_text.empty()) out += " Our opening hours are " + sentence(ctx.hours_text);
  if (!ctx.open && !ctx.next_open_text.empty()) {
    out += " We're back " + sentence(ctx.next_open_text);
  }
  return out;
}

Json quick_replies() {
  return Json{{"options", Json::array({
                              Json{{"id", kQuickHours}, {"label", "Opening hours"}},
                              Json{{"id", kQuickShipping}, {"label", "Shipping"}},
                              Json{{"id", kQuickHuman}, {"label", "Talk to a human"}},
                          })}};
}

BotReply reply(Intent intent, std::string text, bool to_queue) {
  BotReply r;
  r.intent = intent;
  r.body.text = std::move(text);
  r.to_queue = to_queue;
  return r;
}

}  // namespace

std::string_view to_string(Intent i) {
  switch (i) {
    case Intent::Greeting:
      return "greeting";
    case Intent::Hours:
      return "hours";
    case Intent::Faq:
      return "faq";
    case Intent::Human:
      return "human";
    case Intent::Thanks:
      return "thanks";
    case Intent::Other:
      return "other";
  }
  return "other";
}

BotReply answer(std::string_view text, const BotContext& ctx) {
  const Words w = split_words(text);

  if (wants_human(w)) {
    return reply(Intent::Human, ctx.open ? std::string(kConnectingText) : away_text(ctx), true);
  }
  if (asks_hours(w)) return reply(Intent::Hours, hours_text(ctx), false);

  std::string faq;
  const auto add = [&faq](std::string_view a) {
    if (!faq.empty()) faq += "\n";
    faq += a;
  };
  if (asks_shipping(w)) add(kShippingAnswer);
  if (asks_returns(w)) add(kReturnsAnswer);
  if (asks_prices(w)) add(kPricesAnswer);
  if (!faq.empty()) return reply(Intent::Faq, std::move(faq), false);

  if (says_thanks(w)) return reply(Intent::Thanks, std::string(kThanksText), false);
  if (greets(w)) {
    BotReply r = reply(Intent::Greeting, std::string(kGreetingText), false);
    r.body.rich = RichKind::QuickReplies;
    r.body.payload = quick_replies();
    return r;
  }
  // Anything else goes to the team; outside business hours, say when they are back.
  std::string other(kPassOnText);
  if (!ctx.open) other += " " + away_text(ctx);
  return reply(Intent::Other, std::move(other), true);
}

}  // namespace parley::server
