// Server configuration: apps (identity secrets, conversational style, bot, business hours),
// agents and limits. Parsed from JSON (docs/server.md) with typed errors.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "parley/hours.hpp"
#include "parley/lifecycle.hpp"
#include "parley/model.hpp"

namespace parley::server {

struct AppConfig {
  std::string id = "demo";
  std::string jwt_secret = "parley-demo-jwt-secret";
  std::string jwt_audience = "parley-demo";
  lifecycle::Policy policy = lifecycle::Policy::defaults(ConversationalStyle::SocialMessaging);
  std::string locale = "en";  // for the ineffectual-phrase rule
  bool bot = true;
  bool has_hours = false;
  hours::Schedule hours;
};

struct AgentConfig {
  std::string id;
  std::string name;
  std::string token;
};

struct Limits {
  // Token bucket per connection. The burst lets a client that comes back online flush a
  // long offline queue at once (1,000 messages in well under a second); the sustained rate
  // bounds what one connection can make the server do.
  double frames_per_second = 100;
  double burst = 2000;
  TimeMs long_poll_ms = 25'000;
};

struct ServerConfig {
  std::vector<AppConfig> apps;
  std::vector<AgentConfig> agents;
  Limits limits;
  TimeMs event_horizon_ms = 30LL * 24 * 60 * 60 * 1000;
  std::string token_secret = "parley-dev-token-secret";

  const AppConfig* app(std::string_view id) const;  // empty id = the first app
  AppConfig* app(std::string_view id) {
    return const_cast<AppConfig*>(static_cast<const ServerConfig*>(this)->app(id));
  }
  static ServerConfig defaults();
};

// Parses the configuration file's JSON. Unknown keys are ignored; bad values are errors
// naming the key.
std::variant<ServerConfig, Error> parse_config(const Json& j);

// A human summary of a schedule ("Mon–Fri 09:00–17:00 (Europe/Oslo)") and the local
// time of an instant ("Monday 09:00"), for the bot and the away message.
std::string describe_hours(const hours::Schedule& s);
std::string describe_local(const hours::Schedule& s, TimeMs utc);
// The local UTC offset function of a schedule's time zone (UTC when unknown or empty).
hours::OffsetFn offset_fn(const std::string& tz);

}  // namespace parley::server
