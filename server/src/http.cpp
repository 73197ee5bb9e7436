#include "http.hpp"

#include <restinio/all.hpp>
#include <restinio/websocket/websocket.hpp>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <random>

#include "service.hpp"

namespace parley::server {

namespace rws = restinio::websocket::basic;
namespace fs = std::filesystem;

namespace {

using traits_t = restinio::default_single_thread_traits_t;
using request_handle_t = restinio::request_handle_t;

TimeMs now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::uint64_t random_seed() {
  std::random_device rd;
  return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> parts;
  std::size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) {
      auto raw = path.substr(i, j - i);
      auto decoded = restinio::utils::try_unescape_percent_encoding(raw);
      parts.push_back(decoded ? *decoded : std::string(raw));
    }
    i = j;
  }
  return parts;
}

std::string bearer(const request_handle_t& req) {
  std::string h = req->header().get_field_or(restinio::http_field::authorization, "");
  constexpr std::string_view kPrefix = "Bearer ";
  if (h.size() > kPrefix.size() && std::equal(kPrefix.begin(), kPrefix.end(), h.begin())) {
    return h.substr(kPrefix.size());
  }
  return {};
}

std::string content_type_for(const fs::path& p) {
  static const std::map<std::string, std::string> kTypes = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".wasm", "application/wasm"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".map", "application/json"},
      {".txt", "text/plain; charset=utf-8"}};
  auto found = kTypes.find(p.extension().string());
  return found == kTypes.end() ? "application/octet-stream" : found->second;
}

const char* reason_for(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 429:
      return "Too Many Requests";
    case 503:
      return "Service Unavailable";
    default:
      return status >= 500 ? "Internal Server Error" : "OK";
  }
}

class App {
 public:
  App(const ServerOptions& opts, asio::io_context& io)
      : opts_(opts),
        io_(io),
        db_(opts.db_path, opts.sync_full ? Db::Sync::Full : Db::Sync::Normal),
        service_(opts.config, db_, random_seed()),
        tick_timer_(io) {}

  restinio::request_handling_status_t handle(request_handle_t req) {
    if (stopping_) return respond(req, 503, error_body(ErrorCode::ServerError, "shutting down"));
    const auto method = req->header().method();
    const std::string path(req->header().path());
    auto parts = split_path(path);
    if (method == restinio::http_method_options()) return respond(req, 204, "");
    if (parts.size() >= 1 && parts[0] == "healthz") return respond(req, 200, R"({"ok":true})");
    if (parts.size() >= 2 && parts[0] == "v1") {
      try {
        return handle_api(req, method, parts);
      } catch (const std::exception&) {
        return respond(req, 500, error_body(ErrorCode::ServerError, "internal error"));
      }
    }
    if (method != restinio::http_method_get() && method != restinio::http_method_head()) {
      return respond(req, 405, error_body(ErrorCode::NotFound, "method not allowed"));
    }
    return serve_static(req, parts);
  }

  void start_ticks() {
    tick_timer_.expires_after(std::chrono::seconds(1));
    tick_timer_.async_wait([this](const asio::error_code& ec) {
      if (ec || stopping_) return;
      service_.tick(now_ms());
      flush();
      start_ticks();
    });
  }

  // Graceful shutdown: refuse new work, answer waiting long-polls, close WebSockets with
  // 1001 "going away", checkpoint the WAL.
  void stop() {
    if (stopping_) return;
    stopping_ = true;
    tick_timer_.cancel();
    for (auto& [sid, w] : waiters_) {
      w.timer->cancel();
      respond(w.req, 200, empty_events(w.after));
    }
    waiters_.clear();
    for (auto& [sid, ws] : sockets_) {
      ws->send_message(
          rws::final_frame, rws::opcode_t::connection_close_frame,
          rws::status_code_to_bin(rws::status_code_t::going_away) + "server shutting down");
      ws->shutdown();
    }
    sockets_.clear();
    db_.checkpoint();
  }

 private:
  struct Waiter {
    request_handle_t req;
    std::string user;
    Cursor after = 0;
    std::unique_ptr<asio::steady_timer> timer;
  };

  const ServerOptions& opts_;
  asio::io_context& io_;
  Db db_;
  Service service_;
  asio::steady_timer tick_timer_;
  bool stopping_ = false;
  SessionId next_sid_ = 1;
  std::map<SessionId, rws::ws_handle_t> sockets_;
  std::map<SessionId, Waiter> waiters_;

  static std::string error_body(ErrorCode code, const std::string& msg) {
    return Service::http_error(0, make_error(code, msg)).body;
  }

  static std::string empty_events(Cursor after) {
    return R"({"type":"events","from":)" + std::to_string(after) +
           ",\"cursor\":" + std::to_string(after) + R"(,"more":false,"events":[]})";
  }

  restinio::request_handling_status_t respond(const request_handle_t& req, int status,
                                              std::string body,
                                              const char* type = "application/json") {
    auto resp = req->create_response(restinio::http_status_line_t{
        restinio::http_status_code_t{static_cast<std::uint16_t>(status)}, reason_for(status)});
    resp.append_header(restinio::http_field::access_control_allow_origin, "*");
    resp.append_header(restinio::http_field::access_control_allow_headers,
                       "Authorization, Content-Type");
    resp.append_header(restinio::http_field::access_control_allow_methods,
                       "GET, POST, PUT, OPTIONS");
    resp.append_header(restinio::http_field::cache_control, "no-store");
    // Browsers may reuse a preflight for 10 minutes (the long-poll and POST fallback
    // would otherwise pay one per request).
    resp.append_header(restinio::http_field::access_control_max_age, "600");
    if (status != 204) resp.append_header(restinio::http_field::content_type, type);
    resp.set_body(std::move(body));
    return resp.done();
  }

  restinio::request_handling_status_t respond(const request_handle_t& req, const HttpResult& r) {
    return respond(req, r.status, r.body);
  }

  // Sends everything the service wants pushed, and wakes long-polls of advanced users.
  void flush() {
    for (auto& p : service_.take_pushes()) {
      auto found = sockets_.find(p.sid);
      if (found == sockets_.end()) continue;
      found->second->send_message(rws::final_frame, rws::opcode_t::text_frame, std::move(p.frame));
    }
    for (const auto& user : service_.take_advanced_users()) {
      for (auto it = waiters_.begin(); it != waiters_.end();) {
        if (it->second.user != user) {
          ++it;
          continue;
        }
        auto frame = service_.poll_events(it->first, it->second.after, now_ms());
        if (!frame) {
          ++it;
          continue;
        }
        it->second.timer->cancel();
        respond(it->second.req, 200, *frame);
        service_.close_session(it->first, now_ms());
        it = waiters_.erase(it);
      }
    }
  }

  std::string app_param(const request_handle_t& req) {
    auto qp = restinio::parse_query(req->header().query());
    auto v = qp.get_param("app");
    return v ? std::string(*v) : std::string();
  }

  std::optional<std::int64_t> int_param(const request_handle_t& req, const char* name) {
    auto qp = restinio::parse_query(req->header().query());
    auto v = qp.get_param(name);
    if (!v) return std::nullopt;
    try {
      std::size_t used = 0;
      std::string s(*v);
      long long n = std::stoll(s, &used);
      if (used != s.size()) return std::nullopt;
      return n;
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }

  restinio::request_handling_status_t handle_api(const request_handle_t& req,
                                                 const restinio::http_method_id_t& method,
                                                 const std::vector<std::string>& parts) {
    const bool get = method == restinio::http_method_get();
    const bool post = method == restinio::http_method_post();
    const std::string& what = parts[1];
    const bool visitor = what == "ws" || what == "frames" || what == "events" || what == "files";
    if (visitor && !visitor_network_) {
      return respond(req, 503, error_body(ErrorCode::ServerError, "demo: the network is off"));
    }
    if (what == "demo" && !opts_.demo_dir.empty()) return demo_api(req, get, post, parts);
    if (what == "ws" && get) return upgrade_visitor(req);
    if (what == "frames" && post) return post_frame(req);
    if (what == "events" && get) return long_poll(req);
    if (what == "files" && parts.size() == 3) {
      if (method == restinio::http_method_put()) return put_file(req, parts[2]);
      if (get) return get_file(req, parts[2]);
    }
    if (what == "agent") return agent_api(req, get, post, parts);
    if (what == "channels") return channel_api(req, get, post, parts);
    return respond(req, 404, error_body(ErrorCode::NotFound, "no such endpoint"));
  }

  // -------------------------------------------------------------- visitor WebSocket
  restinio::request_handling_status_t upgrade_visitor(const request_handle_t& req) {
    if (restinio::http_connection_header_t::upgrade != req->header().connection()) {
      return respond(req, 400,
                     error_body(ErrorCode::MalformedFrame, "expected a WebSocket upgrade"));
    }
    const SessionId sid = next_sid_++;
    if (!service_.open_session(sid, app_param(req), /*live=*/true)) {
      return respond(req, 404, error_body(ErrorCode::NotFound, "no such app"));
    }
    auto ws = rws::upgrade<traits_t>(
        *req, rws::activation_t::immediate,
        [this, sid](rws::ws_handle_t wsh, rws::message_handle_t m) { on_ws(sid, wsh, m, false); });
    sockets_[sid] = ws;
    visitor_sockets_.insert(sid);
    return restinio::request_accepted();
  }

  void close_ws(SessionId sid, const rws::ws_handle_t& wsh, rws::status_code_t code,
                const std::string& reason) {
    wsh->send_message(rws::final_frame, rws::opcode_t::connection_close_frame,
                      rws::status_code_to_bin(code) + reason);
    wsh->shutdown();
    forget(sid);
  }

  void forget(SessionId sid) {
    sockets_.erase(sid);
    visitor_sockets_.erase(sid);
    pending_agent_app_.erase(sid);
    service_.close_session(sid, now_ms());
  }

  void on_ws(SessionId sid, const rws::ws_handle_t& wsh, const rws::message_handle_t& m,
             bool agent) {
    switch (m->opcode()) {
      case rws::opcode_t::text_frame:
        if (m->final_flag() != rws::final_frame) {
          close_ws(sid, wsh, rws::status_code_t::cant_accept_data,
                   "fragmented messages are not supported");
          return;
        }
        if (agent) {
          on_agent_ws_text(sid, wsh, m->payload());
        } else {
          for (auto& out : service_.on_frame(sid, m->payload(), now_ms())) {
            wsh->send_message(rws::final_frame, rws::opcode_t::text_frame, std::move(out));
          }
          if (service_.take_close_request(sid)) {
            close_ws(sid, wsh, rws::status_code_t::protocol_error, "unsupported protocol version");
            return;
          }
        }
        flush();
        return;
      case rws::opcode_t::ping_frame:
        wsh->send_message(rws::final_frame, rws::opcode_t::pong_frame, m->payload());
        return;
      case rws::opcode_t::pong_frame:
        return;
      case rws::opcode_t::connection_close_frame:
        if (sockets_.count(sid)) {
          wsh->send_message(rws::final_frame, rws::opcode_t::connection_close_frame,
                            m->payload().substr(0, 2));
          wsh->shutdown();
        }
        forget(sid);
        return;
      default:
        close_ws(sid, wsh, rws::status_code_t::cant_accept_data,
                 "protocol v1 uses text frames only");
        return;
    }
  }

  // -------------------------------------------------------------- HTTP fallback
  restinio::request_handling_status_t post_frame(const request_handle_t& req) {
    const SessionId sid = next_sid_++;
    if (!service_.open_session(sid, app_param(req), /*live=*/false)) {
      return respond(req, 404, error_body(ErrorCode::NotFound, "no such app"));
    }
    const TimeMs now = now_ms();
    const std::string token = bearer(req);
    // The answer is always 200 with the protocol's answer frames, errors included, as on
    // the WebSocket: a bad token is an `unauthorized` error frame (recoverable "auth").
    std::string out = "[";
    bool auth_failed = false;
    if (!token.empty()) {
      if (auto e = service_.authenticate(sid, token, now)) {
        out += Service::http_error(401, *e).body;
        auth_failed = true;
      }
    }
    if (!auth_failed) {
      bool first = true;
      for (auto& f : service_.on_frame(sid, req->body(), now)) {
        if (!first) out += ",";
        first = false;
        out += f;
      }
    }
    out += "]";
    service_.close_session(sid, now);
    flush();
    return respond(req, 200, out);
  }

  restinio::request_handling_status_t long_poll(const request_handle_t& req) {
    const SessionId sid = next_sid_++;
    if (!service_.open_session(sid, app_param(req), /*live=*/false)) {
      return respond(req, 404, error_body(ErrorCode::NotFound, "no such app"));
    }
    const TimeMs now = now_ms();
    if (auto e = service_.authenticate(sid, bearer(req), now)) {
      service_.close_session(sid, now);
      return respond(req, 401, Service::http_error(401, *e).body);
    }
    auto after = int_param(req, "after");
    if (!after || *after < 0) {
      service_.close_session(sid, now);
      return respond(req, 400, error_body(ErrorCode::InvalidField, "after: expected a cursor"));
    }
    if (auto frame = service_.poll_events(sid, *after, now)) {
      service_.close_session(sid, now);
      return respond(req, 200, *frame);
    }
    Waiter w;
    w.req = req;
    w.user = service_.session_user(sid);
    w.after = *after;
    w.timer = std::make_unique<asio::steady_timer>(io_);
    w.timer->expires_after(std::chrono::milliseconds(opts_.config.limits.long_poll_ms));
    w.timer->async_wait([this, sid](const asio::error_code& ec) {
      if (ec) return;
      auto found = waiters_.find(sid);
      if (found == waiters_.end()) return;
      respond(found->second.req, 200, empty_events(found->second.after));
      service_.close_session(sid, now_ms());
      waiters_.erase(found);
    });
    waiters_[sid] = std::move(w);
    return restinio::request_accepted();
  }

  // -------------------------------------------------------------- attachment bytes
  restinio::request_handling_status_t put_file(const request_handle_t& req, const std::string& id) {
    const SessionId sid = next_sid_++;
    if (!service_.open_session(sid, app_param(req), /*live=*/false)) {
      return respond(req, 404, error_body(ErrorCode::NotFound, "no such app"));
    }
    const TimeMs now = now_ms();
    HttpResult r;
    if (auto e = service_.authenticate(sid, bearer(req), now)) {
      r = Service::http_error(401, *e);
    } else {
      r = service_.put_file(sid, id,
                            req->header().get_field_or(restinio::http_field::content_type, ""),
                            req->body(), now);
    }
    service_.close_session(sid, now);
    return respond(req, r);
  }

  restinio::request_handling_status_t get_file(const request_handle_t& req, const std::string& id) {
    const SessionId sid = next_sid_++;
    if (!service_.open_session(sid, app_param(req), /*live=*/false)) {
      return respond(req, 404, error_body(ErrorCode::NotFound, "no such app"));
    }
    const TimeMs now = now_ms();
    const std::string token = bearer(req);
    const AgentConfig* agent = service_.agent_for_token(token);
    if (agent == nullptr) (void)service_.authenticate(sid, token, now);
    auto qp = restinio::parse_query(req->header().query());
    const auto sig = qp.get_param("sig");
    auto got = service_.get_file(sid, agent, id, sig ? std::string_view(*sig) : std::string_view());
    service_.close_session(sid, now);
    if (auto* err = std::get_if<HttpResult>(&got)) return respond(req, *err);
    auto& file = std::get<Service::File>(got);
    // Uploaded bytes are never interpreted by the browser: no sniffing, a sandboxing CSP,
    // and anything but an image is a download.
    auto resp = req->create_response();
    resp.append_header(restinio::http_field::access_control_allow_origin, "*");
    resp.append_header(restinio::http_field::content_type, file.mime);
    resp.append_header("X-Content-Type-Options", "nosniff");
    resp.append_header("Content-Security-Policy", "default-src 'none'; sandbox");
    resp.append_header(restinio::http_field::cache_control, "private, max-age=31536000, immutable");
    if (file.mime.rfind("image/", 0) != 0) {
      resp.append_header(restinio::http_field::content_disposition, "attachment");
    }
    resp.set_body(std::move(file.data));
    return resp.done();
  }

  // -------------------------------------------------------------- agent API
  restinio::request_handling_status_t agent_api(const request_handle_t& req, bool get, bool post,
                                                const std::vector<std::string>& parts) {
    if (parts.size() == 3 && parts[2] == "ws" && get) return upgrade_agent(req);
    const AgentConfig* agent = service_.agent_for_token(bearer(req));
    if (agent == nullptr) {
      return respond(req, 401, error_body(ErrorCode::Unauthorized, "agent token required"));
    }
    const TimeMs now = now_ms();
    if (parts.size() == 3 && parts[2] == "agents" && get) {
      return respond(req, service_.agent_directory());
    }
    if (parts.size() < 3 || parts[2] != "conversations") {
      return respond(req, 404, error_body(ErrorCode::NotFound, "no such endpoint"));
    }
    HttpResult r{404, error_body(ErrorCode::NotFound, "no such endpoint")};
    if (parts.size() == 3 && get) {
      r = service_.agent_list(*agent, app_param(req), now);
    } else if (parts.size() == 4 && get) {
      r = service_.agent_get(*agent, parts[3], now);
    } else if (parts.size() == 5) {
      const std::string& op = parts[4];
      const std::string& conv = parts[3];
      if (op == "messages" && get) {
        auto before = int_param(req, "before").value_or(0);
        auto after = int_param(req, "after").value_or(-1);
        auto limit = int_param(req, "limit").value_or(50);
        r = service_.agent_messages(*agent, conv, before, after, static_cast<int>(limit));
      } else if (post && op == "messages") {
        r = service_.agent_post(*agent, conv, req->body(), now);
      } else if (post && op == "typing") {
        r = service_.agent_typing(*agent, conv, req->body(), now);
      } else if (post && op == "read") {
        r = service_.agent_read(*agent, conv, req->body(), now);
      } else if (post && op == "status") {
        r = service_.agent_status(*agent, conv, req->body(), now);
      } else if (post && op == "handoff") {
        r = service_.agent_handoff(*agent, conv, req->body(), now);
      }
    }
    flush();
    return respond(req, r);
  }

  restinio::request_handling_status_t upgrade_agent(const request_handle_t& req) {
    if (restinio::http_connection_header_t::upgrade != req->header().connection()) {
      return respond(req, 400,
                     error_body(ErrorCode::MalformedFrame, "expected a WebSocket upgrade"));
    }
    const SessionId sid = next_sid_++;
    std::string app = app_param(req);
    if (opts_.config.app(app) == nullptr) {
      return respond(req, 404, error_body(ErrorCode::NotFound, "no such app"));
    }
    pending_agent_app_[sid] = app;
    auto ws = rws::upgrade<traits_t>(
        *req, rws::activation_t::immediate,
        [this, sid](rws::ws_handle_t wsh, rws::message_handle_t m) { on_ws(sid, wsh, m, true); });
    sockets_[sid] = ws;
    return restinio::request_accepted();
  }

  std::map<SessionId, std::string> pending_agent_app_;

  void on_agent_ws_text(SessionId sid, const rws::ws_handle_t& wsh, const std::string& text) {
    auto pending = pending_agent_app_.find(sid);
    if (pending == pending_agent_app_.end()) return;  // authenticated: agents only listen
    Json j = Json::parse(text, nullptr, false);
    const AgentConfig* agent = nullptr;
    if (j.is_object() && j.value("type", "") == "auth" && j.contains("token") &&
        j["token"].is_string()) {
      agent = service_.agent_for_token(j["token"].get<std::string>());
    }
    if (agent == nullptr) {
      wsh->send_message(rws::final_frame, rws::opcode_t::text_frame,
                        error_body(ErrorCode::Unauthorized, "agent token required"));
      close_ws(sid, wsh, rws::status_code_t::policy_violation, "unauthorized");
      pending_agent_app_.erase(sid);
      return;
    }
    service_.open_agent_session(sid, pending->second, *agent);
    pending_agent_app_.erase(pending);
    wsh->send_message(rws::final_frame, rws::opcode_t::text_frame,
                      Json{{"type", "ready"}, {"agent", agent->id}}.dump());
  }

  // -------------------------------------------------------------- demo controls
  // Only with --demo, and with an agent token (docs/server.md, "Demo controls").
  restinio::request_handling_status_t demo_api(const request_handle_t& req, bool get, bool post,
                                               const std::vector<std::string>& parts) {
    if (service_.agent_for_token(bearer(req)) == nullptr) {
      return respond(req, 401, error_body(ErrorCode::Unauthorized, "agent token required"));
    }
    const TimeMs now = now_ms();
    const std::string op = parts.size() == 3 ? parts[2] : "";
    const std::string app = app_param(req);
    if (op == "network" && post) {
      const Json j = Json::parse(req->body(), nullptr, false);
      if (!j.is_object() || !j.contains("online") || !j["online"].is_boolean()) {
        return respond(req, 400,
                       error_body(ErrorCode::InvalidField, "expected {\"online\": bool}"));
      }
      visitor_network_ = j["online"].get<bool>();
      if (!visitor_network_) drop_visitors();
    } else if (op == "settings" && post) {
      HttpResult r = service_.demo_configure(app, req->body(), now);
      if (r.status != 200) return respond(req, r);
    } else if (op == "login" && post) {
      return respond(req, service_.demo_login(app, req->body(), now));
    } else if (op == "reset" && post) {
      drop_visitors();
      for (auto& [sid, ws] : sockets_) {  // agent consoles: they reconnect and re-read
        ws->shutdown();
        service_.close_session(sid, now);
      }
      sockets_.clear();
      pending_agent_app_.clear();
      service_.demo_reset();
    } else if (!(op == "state" && get)) {
      return respond(req, 404, error_body(ErrorCode::NotFound, "no such endpoint"));
    }
    HttpResult r = service_.demo_state(app, now);
    if (r.status != 200) return respond(req, r);
    Json j = Json::parse(r.body);
    j["online"] = visitor_network_;
    return respond(req, 200, j.dump());
  }

  // The widget's network drops: its WebSockets end without a close frame and its waiting
  // long-polls get no answer they could use, as when a phone loses its signal.
  void drop_visitors() {
    const TimeMs now = now_ms();
    for (SessionId sid : std::set<SessionId>(visitor_sockets_)) {
      auto it = sockets_.find(sid);
      if (it != sockets_.end()) it->second->kill();
      forget(sid);
    }
    for (auto& [sid, w] : waiters_) {
      w.timer->cancel();
      respond(w.req, 503, error_body(ErrorCode::ServerError, "demo: the network is off"));
      service_.close_session(sid, now);
    }
    waiters_.clear();
  }

  bool visitor_network_ = true;
  std::set<SessionId> visitor_sockets_;

  // -------------------------------------------------------------- channels
  restinio::request_handling_status_t channel_api(const request_handle_t& req, bool get, bool post,
                                                  const std::vector<std::string>& parts) {
    if (service_.agent_for_token(bearer(req)) == nullptr) {
      return respond(req, 401, error_body(ErrorCode::Unauthorized, "agent token required"));
    }
    HttpResult r{404, error_body(ErrorCode::NotFound, "no such endpoint")};
    if (get && parts.size() == 5 && parts[4] == "outbox") {
      r = service_.channel_outbox(parts[2], parts[3]);
    } else if (post && parts.size() == 4 && parts[3] == "inbound") {
      r = service_.channel_inbound(parts[2], req->body(), now_ms());
    }
    flush();
    return respond(req, r);
  }

  // -------------------------------------------------------------- static files
  restinio::request_handling_status_t serve_static(const request_handle_t& req,
                                                   const std::vector<std::string>& parts) {
    fs::path root;
    std::size_t skip = 0;
    if (!parts.empty() && parts[0] == "dist" && !opts_.static_dir.empty()) {
      root = opts_.static_dir;
      skip = 1;
    } else if (!opts_.demo_dir.empty()) {
      root = opts_.demo_dir;
    } else {
      return respond(req, 404, error_body(ErrorCode::NotFound, "not found"));
    }
    fs::path p = root;
    for (std::size_t i = skip; i < parts.size(); ++i) {
      // Segments are percent-decoded, so "%2f" may have put a slash inside one: refuse any
      // segment that is not a plain name (no separators, no NUL, no dot files, no "..").
      const std::string& seg = parts[i];
      if (seg.empty() || seg[0] == '.' ||
          seg.find_first_of(std::string("/\\\0", 3)) != std::string::npos) {
        return respond(req, 404, error_body(ErrorCode::NotFound, "not found"));
      }
      p /= seg;
    }
    std::error_code ec;
    if (fs::is_directory(p, ec)) p /= "index.html";
    // Belt and braces: what is served must lie under the root (symlinks resolved).
    const auto real = fs::weakly_canonical(p, ec);
    const auto real_root = fs::weakly_canonical(root, ec);
    const auto rel = real.lexically_relative(real_root);
    if (ec || rel.empty() || *rel.begin() == ".." || !fs::is_regular_file(real, ec)) {
      return respond(req, 404, error_body(ErrorCode::NotFound, "not found"));
    }
    p = real;
    try {
      auto resp = req->create_response();
      resp.append_header(restinio::http_field::content_type, content_type_for(p));
      resp.append_header(restinio::http_field::cache_control, "no-cache");
      resp.set_body(restinio::sendfile(p.string()));
      return resp.done();
    } catch (const std::exception&) {
      return respond(req, 404, error_body(ErrorCode::NotFound, "not found"));
    }
  }
};

}  // namespace

int run_server(const ServerOptions& opts) {
  asio::io_context io;
  std::unique_ptr<App> app;
  try {
    app = std::make_unique<App>(opts, io);
  } catch (const std::exception& e) {
    std::cerr << "parley_server: " << e.what() << "\n";
    return 1;
  }
  using server_t = restinio::http_server_t<traits_t>;
  auto limits = restinio::incoming_http_msg_limits_t{};
  // Attachment bytes are the largest bodies; frames are capped at 256 KiB by the codec.
  limits.max_body_size(Service::kMaxFileBytes + 4096);
  server_t server{
      restinio::external_io_context(io), [&](auto& settings) {
        settings.port(opts.port)
            .address(opts.host)
            .incoming_http_msg_limits(limits)
            .handle_request_timeout(std::chrono::seconds(60))
            // Small frames (acks, pushes) must not wait for Nagle's algorithm.
            .socket_options_setter([](auto& o) { o.set_option(asio::ip::tcp::no_delay{true}); })
            .request_handler([&app](request_handle_t req) { return app->handle(req); });
      }};
  try {
    server.open_sync();
  } catch (const std::exception& e) {
    std::cerr << "parley_server: cannot listen on " << opts.host << ":" << opts.port << ": "
              << e.what() << "\n";
    return 1;
  }
  app->start_ticks();
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const asio::error_code& ec, int) {
    if (ec) return;
    if (!opts.quiet) std::cerr << "parley_server: shutting down\n";
    app->stop();
    server.close_async([]() noexcept {}, [](std::exception_ptr) noexcept {});
    // Let the close frames and last answers go out, then stop.
    auto t = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(200));
    t->async_wait([&io, t](const asio::error_code&) { io.stop(); });
  });
  if (!opts.quiet) {
    std::cerr << "parley_server: listening on http://" << opts.host << ":" << opts.port << " (db "
              << opts.db_path << ")\n";
  }
  io.run();
  app.reset();
  return 0;
}

}  // namespace parley::server
