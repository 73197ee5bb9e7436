#include "config.hpp"

#include <date/tz.h>

#include <array>
#include <chrono>

namespace parley::server {

namespace {

Error bad(const std::string& key, const std::string& what) {
  return make_error(ErrorCode::InvalidField, "config " + key + ": " + what);
}

std::optional<Error> get_string(const Json& j, const char* key, std::string& out,
                                const std::string& path) {
  if (!j.contains(key)) return std::nullopt;
  if (!j[key].is_string()) return bad(path + "." + key, "expected a string");
  out = j[key].get<std::string>();
  return std::nullopt;
}

std::optional<Error> get_int(const Json& j, const char* key, TimeMs& out, const std::string& path) {
  if (!j.contains(key)) return std::nullopt;
  if (!j[key].is_number_integer() || j[key].get<std::int64_t>() < 0) {
    return bad(path + "." + key, "expected a non-negative integer");
  }
  out = j[key].get<std::int64_t>();
  return std::nullopt;
}

}  // namespace

const AppConfig* ServerConfig::app(std::string_view id) const {
  if (apps.empty()) return nullptr;
  if (id.empty()) return &apps.front();
  for (const auto& a : apps) {
    if (a.id == id) return &a;
  }
  return nullptr;
}

ServerConfig ServerConfig::defaults() {
  ServerConfig c;
  c.apps.emplace_back();
  c.agents.push_back({"ag_grace", "Grace", "agent-dev-token"});
  return c;
}

std::variant<ServerConfig, Error> parse_config(const Json& j) {
  if (!j.is_object()) return bad("", "expected an object");
  ServerConfig c;
  if (auto e = get_string(j, "token_secret", c.token_secret, "")) return *e;
  if (auto e = get_int(j, "event_horizon_ms", c.event_horizon_ms, "")) return *e;
  if (j.contains("limits")) {
    const Json& l = j["limits"];
    if (!l.is_object()) return bad("limits", "expected an object");
    for (auto [key, dst] : {std::pair{"frames_per_second", &c.limits.frames_per_second},
                            std::pair{"burst", &c.limits.burst}}) {
      if (!l.contains(key)) continue;
      if (!l[key].is_number() || l[key].get<double>() <= 0) {
        return bad(std::string("limits.") + key, "expected a positive number");
      }
      *dst = l[key].get<double>();
    }
    if (auto e = get_int(l, "long_poll_ms", c.limits.long_poll_ms, "limits")) return *e;
  }
  if (j.contains("agents")) {
    if (!j["agents"].is_array()) return bad("agents", "expected an array");
    for (std::size_t i = 0; i < j["agents"].size(); ++i) {
      const Json& a = j["agents"][i];
      std::string path = "agents[" + std::to_string(i) + "]";
      if (!a.is_object()) return bad(path, "expected an object");
      AgentConfig ag;
      if (auto e = get_string(a, "id", ag.id, path)) return *e;
      if (auto e = get_string(a, "name", ag.name, path)) return *e;
      if (auto e = get_string(a, "token", ag.token, path)) return *e;
      if (ag.id.empty() || ag.token.size() < 8) {
        return bad(path, "needs an id and a token of at least 8 characters");
      }
      c.agents.push_back(ag);
    }
  }
  if (j.contains("apps")) {
    if (!j["apps"].is_array()) return bad("apps", "expected an array");
    for (std::size_t i = 0; i < j["apps"].size(); ++i) {
      const Json& a = j["apps"][i];
      std::string path = "apps[" + std::to_string(i) + "]";
      if (!a.is_object()) return bad(path, "expected an object");
      AppConfig app;
      if (auto e = get_string(a, "id", app.id, path)) return *e;
      if (app.id.empty()) return bad(path + ".id", "must not be empty");
      if (auto e = get_string(a, "jwt_secret", app.jwt_secret, path)) return *e;
      if (auto e = get_string(a, "jwt_audience", app.jwt_audience, path)) return *e;
      if (auto e = get_string(a, "locale", app.locale, path)) return *e;
      std::string style = "social_messaging";
      if (auto e = get_string(a, "style", style, path)) return *e;
      auto st = style_from_string(style);
      if (!st) return bad(path + ".style", "unknown conversational style \"" + style + "\"");
      app.policy = lifecycle::Policy::defaults(*st);
      if (auto e = get_int(a, "reopen_window_ms", app.policy.reopen_window_ms, path)) return *e;
      if (auto e = get_int(a, "social_close_after_ms", app.policy.social_close_after_ms, path)) {
        return *e;
      }
      if (auto e = get_int(a, "inactive_after_ms", app.policy.inactive_after_ms, path)) return *e;
      if (a.contains("bot")) {
        if (!a["bot"].is_boolean()) return bad(path + ".bot", "expected true or false");
        app.bot = a["bot"].get<bool>();
      }
      if (a.contains("hours") && !a["hours"].is_null()) {
        if (auto e = hours::parse_schedule(a["hours"], app.hours)) {
          return bad(path + ".hours", e->message);
        }
        if (!app.hours.tz.empty()) {
          try {
            (void)date::locate_zone(app.hours.tz);
          } catch (const std::exception&) {
            return bad(path + ".hours.tz", "unknown time zone \"" + app.hours.tz + "\"");
          }
        }
        app.has_hours = true;
      }
      c.apps.push_back(std::move(app));
    }
  }
  if (c.apps.empty()) c.apps.emplace_back();
  if (!j.contains("agents")) c.agents = ServerConfig::defaults().agents;
  return c;
}

hours::OffsetFn offset_fn(const std::string& tz) {
  const date::time_zone* zone = nullptr;
  if (!tz.empty()) {
    try {
      zone = date::locate_zone(tz);
    } catch (const std::exception&) {
      zone = nullptr;
    }
  }
  return [zone](TimeMs utc) -> TimeMs {
    if (zone == nullptr) return 0;
    auto info =
        zone->get_info(date::sys_time<std::chrono::milliseconds>{std::chrono::milliseconds{utc}});
    return std::chrono::duration_cast<std::chrono::milliseconds>(info.offset).count();
  };
}

namespace {
constexpr std::array<const char*, 7> kDayNames = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                  "Friday", "Saturday", "Sunday"};
constexpr std::array<const char*, 7> kDayShort = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

std::string hhmm(int minutes) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d:%02d", (minutes / 60) % 100, minutes % 60);
  return buf;
}
}  // namespace

std::string describe_local(const hours::Schedule& s, TimeMs utc) {
  TimeMs local = utc + offset_fn(s.tz)(utc);
  auto days = date::floor<date::days>(
      date::sys_time<std::chrono::milliseconds>{std::chrono::milliseconds{local}});
  date::weekday wd{days};
  unsigned idx = (wd.c_encoding() + 6) % 7;  // Monday = 0
  auto minutes =
      static_cast<int>((local - days.time_since_epoch().count() * lifecycle::kDay) / 60'000);
  return std::string(kDayNames[idx]) + " " + hhmm(minutes);
}

std::string describe_hours(const hours::Schedule& s) {
  std::string out;
  // Group consecutive days with identical intervals: "Mon–Fri 09:00–17:00".
  std::size_t d = 0;
  while (d < 7) {
    std::size_t e = d;
    while (e + 1 < 7 && s.weekly[e + 1].size() == s.weekly[d].size() &&
           std::equal(s.weekly[d].begin(), s.weekly[d].end(), s.weekly[e + 1].begin(),
                      [](const auto& a, const auto& b) {
                        return a.start_min == b.start_min && a.end_min == b.end_min;
                      })) {
      ++e;
    }
    if (!s.weekly[d].empty()) {
      if (!out.empty()) out += ", ";
      out += kDayShort[d];
      if (e > d) out += std::string("–") + kDayShort[e];
      for (std::size_t i = 0; i < s.weekly[d].size(); ++i) {
        out += (i ? " and " : " ") + hhmm(s.weekly[d][i].start_min) + "–" +
               hhmm(s.weekly[d][i].end_min);
      }
    }
    d = e + 1;
  }
  if (out.empty()) return "around the clock";
  if (!s.tz.empty()) out += " (" + s.tz + ")";
  return out;
}

}  // namespace parley::server
