// The server's protocol engine, independent of any transport.
//
// The transport (http.cpp) gives it decoded-or-not frames from sessions it numbers, and
// HTTP requests of the agent and channel APIs; the Service answers, and collects pushes for
// live sessions (WebSocket visitors and agent consoles) that the transport then sends. Every
// call takes `now` from the caller, so tests drive time. All storage goes through one SQLite
// connection; each mutating call is one transaction, and answers (acks) are produced only
// after COMMIT. The rules themselves (lifecycle, handoff, engagement, business hours, the
// codec) are the core's.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config.hpp"
#include "db.hpp"
#include "parley/engagement.hpp"
#include "parley/lifecycle.hpp"
#include "parley/protocol.hpp"
#include "parley/rng.hpp"

namespace parley::server {

using SessionId = std::uint64_t;

struct Push {
  SessionId sid = 0;
  std::string frame;
};

struct HttpResult {
  int status = 200;
  std::string body;  // JSON (empty for 204)
};

// The stored state of a conversation.
struct ConvRow {
  std::string id, app, user;
  ConversationalStyle style = ConversationalStyle::SocialMessaging;
  lifecycle::Ticket ticket;
  ControlOwner owner;
  std::vector<ChannelBinding> channels;
  std::string subject;
  Seq last_seq = 0;
  std::string preview;
  TimeMs created_ts = 0, updated_ts = 0;
  Seq visitor_read_seq = 0, agent_read_seq = 0, agent_delivered_seq = 0;
  std::string waiting_on = "none";  // "agent" | "customer" | "none"
  TimeMs waiting_since = 0;
  std::optional<TimeMs> deadline;
  engagement::Tracker tracker;
  // The visitor's own engagement signal (protocol `engagement` frame), if any.
  std::string signal_level;
  TimeMs signal_latency_ms = 0;
  bool signal_present = false;
  TimeMs away_notice_until = 0;  // an away message was sent; none again before this
};

class Service {
 public:
  Service(ServerConfig cfg, Db& db, std::uint64_t seed);

  const ServerConfig& config() const { return cfg_; }

  // ------------------------------------------------------------ visitor sessions
  // `live` sessions (WebSocket) receive pushed events and signals; others (one HTTP request)
  // only get answers. Returns false for an unknown app.
  bool open_session(SessionId sid, std::string_view app, bool live);
  void close_session(SessionId sid, TimeMs now);
  // HTTP fallback: authenticates the bearer token of a one-request session.
  std::optional<Error> authenticate(SessionId sid, std::string_view token, TimeMs now);
  // One client frame in; the encoded frames to answer on the same connection out.
  std::vector<std::string> on_frame(SessionId sid, std::string_view text, TimeMs now);
  // Long-poll: an `events` frame after `after`, or nullopt when there is nothing yet.
  std::optional<std::string> poll_events(SessionId sid, Cursor after, TimeMs now);
  std::string session_user(SessionId sid) const;
  // True once after a frame that ends the session (a version the server does not speak):
  // the transport closes the WebSocket after sending the answer.
  bool take_close_request(SessionId sid);

  // ------------------------------------------------------------ attachment bytes
  // Uploaded out of band (PUT /v1/files/{id}) before the `upload` frame that acks them.
  static constexpr std::size_t kMaxFileBytes = 10 * 1024 * 1024;
  static bool allowed_mime(std::string_view mime);
  HttpResult put_file(SessionId sid, std::string_view id, std::string_view mime,
                      std::string_view bytes, TimeMs now);
  struct File {
    std::string mime;
    std::string data;
  };
  // The uploader (an authenticated visitor session), any agent, or anyone holding the file's
  // signed URL (file_url: what acks and messages carry) may read a file.
  std::variant<File, HttpResult> get_file(SessionId sid, const AgentConfig* agent,
                                          std::string_view id, std::string_view sig = {});
  // "/v1/files/{id}?sig=…": a capability URL, usable in <img src> and <a href>.
  std::string file_url(std::string_view id) const;

  // ------------------------------------------------------------ pushes
  std::vector<Push> take_pushes();
  // Users whose event log advanced since the last call (wakes long-poll waiters).
  std::vector<std::string> take_advanced_users();

  // ------------------------------------------------------------ agents
  const AgentConfig* agent_for_token(std::string_view token) const;
  bool open_agent_session(SessionId sid, std::string_view app, const AgentConfig& agent);
  HttpResult agent_list(const AgentConfig& a, std::string_view app, TimeMs now);
  HttpResult agent_get(const AgentConfig& a, std::string_view conv, TimeMs now);
  HttpResult agent_messages(const AgentConfig& a, std::string_view conv, Seq before, Seq after,
                            int limit);
  HttpResult agent_post(const AgentConfig& a, std::string_view conv, std::string_view body,
                        TimeMs now);
  HttpResult agent_typing(const AgentConfig& a, std::string_view conv, std::string_view body,
                          TimeMs now);
  HttpResult agent_read(const AgentConfig& a, std::string_view conv, std::string_view body,
                        TimeMs now);
  HttpResult agent_status(const AgentConfig& a, std::string_view conv, std::string_view body,
                          TimeMs now);
  HttpResult agent_handoff(const AgentConfig& a, std::string_view conv, std::string_view body,
                           TimeMs now);

  // Every agent of the configuration with its presence (a live console): for handoffs.
  HttpResult agent_directory() const;

  // ------------------------------------------------------------ demo controls
  // Only reachable when the server runs the demo (--demo); see docs/server.md.
  // State: {"style","hours":"none"|"open"|"closed","availability"}.
  HttpResult demo_state(std::string_view app, TimeMs now) const;
  // Body {"style"?: live_chat|live_chat_returning|social_messaging, "hours"?: none|open|closed}.
  // A style applies to conversations created afterwards (a conversation keeps its own).
  HttpResult demo_configure(std::string_view app, std::string_view body, TimeMs now);
  // Deletes every user, conversation, message, event, file and binding. The transport closes
  // every connection first.
  void demo_reset();
  // The store's sign-in, standing in for a customer's backend: an HS256 JWT for `sub` and
  // `name`, signed with the app's secret, valid for a day. Body {"sub","name"}.
  HttpResult demo_login(std::string_view app, std::string_view body, TimeMs now) const;

  // ------------------------------------------------------------ simulated channels
  HttpResult channel_outbox(std::string_view channel, std::string_view address);
  HttpResult channel_inbound(std::string_view channel, std::string_view body, TimeMs now);

  // ------------------------------------------------------------ time
  // Runs due lifecycle deadlines (solved -> closed, inactivity) and drops events older
  // than the catch-up horizon. Returns when it next needs to run (0 = nothing scheduled).
  TimeMs tick(TimeMs now);

  // Encoded error body for HTTP answers.
  static HttpResult http_error(int status, const Error& e);

 private:
  struct Session {
    SessionId id = 0;
    std::string app;
    bool live = false;
    bool agent = false;
    std::string agent_id;
    std::string user;   // empty until authenticated
    Cursor pushed = 0;  // live sessions: cursor of the last pushed event
    double bucket = 0;
    TimeMs bucket_ts = 0;
  };

  ServerConfig cfg_;
  Db& db_;
  Rng rng_;
  std::map<SessionId, Session> sessions_;
  std::map<std::string, std::set<SessionId>> live_by_user_;
  std::vector<Push> pushes_;
  std::set<std::string> advanced_;  // users with new events in the current transaction
  std::vector<std::string> advanced_out_;
  std::vector<std::pair<std::string, std::string>> agent_pushes_;  // (app, frame)
  TimeMs next_compaction_ = 0;
  std::set<SessionId> close_requested_;
  std::map<std::string, int> agents_online_;    // agent id -> live agent sessions
  std::map<std::string, int> consoles_by_app_;  // app -> live agent sessions

  // --- helpers (service.cpp)
  std::string new_id(std::string_view prefix);
  const AppConfig& app_of(const Session& s) const;
  const AppConfig& app_named(std::string_view id) const;
  // The lifecycle policy of a conversation: its app's, with the style it was created under.
  lifecycle::Policy policy_for(const ConvRow& c) const;
  bool rate_ok(Session& s, TimeMs now);
  void publish();  // after COMMIT: turn advanced users into pushes
  void discard();  // after a rollback
  template <class F>
  HttpResult guarded(F&& handler);
  bool beyond_horizon(const std::string& user, Cursor after);

  std::optional<ConvRow> load_conv(std::string_view id);
  void save_conv(const ConvRow& c);
  Cursor head(const std::string& user);
  Cursor append_event(const std::string& user, protocol::Event ev, TimeMs now);
  Message add_message(ConvRow& c, Participant author, Body body, const std::string& dedupe,
                      const std::string& cid, TimeMs now);
  std::optional<Message> find_dedupe(const std::string& user, const std::string& dedupe);
  protocol::Event summary_event(const ConvRow& c) const;
  Json summary_json(const ConvRow& c, TimeMs now) const;
  void notify_agents(const ConvRow& c, const Message* m, TimeMs now);
  // Agent presence (`signal` kind presence) to the visitors of the agent's conversations.
  void push_presence(const ConvRow& c, const std::set<SessionId>& to);
  void agent_presence_changed(const std::string& agent_id);
  void apply_status_change(ConvRow& c, const lifecycle::Ticket& before, TimeMs now);
  void refresh_deadline(ConvRow& c);
  void handoff_event(ConvRow& c, std::string_view reason, const std::string& resume_token,
                     TimeMs now);
  void fan_out_to_channels(const ConvRow& c, const Message& m, TimeMs now);
  std::optional<hours::Availability> availability(const AppConfig& app, TimeMs now) const;

  // Visitor message path shared by `send` and channel inbound.
  Message visitor_message(ConvRow& c, const AppConfig& app, Body body, const std::string& dedupe,
                          const std::string& cid, TimeMs now);
  void bot_and_away(ConvRow& c, const AppConfig& app, const Message& m, lifecycle::Outcome outcome,
                    TimeMs now);
  Message agent_message(ConvRow& c, Participant author, Body body, const std::string& dedupe,
                        TimeMs now);
  ConvRow create_conv(const AppConfig& app, const std::string& id, const std::string& user,
                      TimeMs now);

  // Identity
  struct Identity {
    std::string user;
    bool anonymous = true;
  };
  std::optional<Error> resolve_token(const AppConfig& app, std::string_view token, Identity& out,
                                     TimeMs now, bool allow_jwt);
  std::string create_user(const AppConfig& app, bool anonymous, const std::string& external,
                          const std::string& name, TimeMs now);
  std::optional<Error> merge_users(const std::string& from, const std::string& into, TimeMs now);
  std::string token_for(const AppConfig& app, const Identity& id, TimeMs now);

  // Frames
  std::vector<std::string> on_hello(Session& s, const protocol::Hello& h, TimeMs now);
  std::vector<std::string> on_send(Session& s, const protocol::Send& f, TimeMs now);
  std::vector<std::string> on_upload(Session& s, const protocol::Upload& f, TimeMs now);
  std::vector<std::string> on_history(Session& s, const protocol::History& f);
  std::vector<std::string> on_sync(Session& s, const protocol::Sync& f);
  std::vector<std::string> on_read(Session& s, const protocol::MarkRead& f, TimeMs now);
  std::vector<std::string> on_typing(Session& s, const protocol::Typing& f, TimeMs now);
  std::vector<std::string> on_handoff(Session& s, const protocol::HandoffRequest& f, TimeMs now);
  std::vector<std::string> on_engagement(Session& s, const protocol::Engagement& f, TimeMs now);

  std::string events_frame(const std::string& user, Cursor after, int limit, const std::string& req,
                           bool* more_out = nullptr, Cursor* last_out = nullptr);
  std::string reset_frame(const std::string& user);
  protocol::Page page(const std::string& conv, Seq before, Seq after, int limit,
                      const std::string& req);
  static std::string error_frame(const std::string& req, const Error& e);
};

}  // namespace parley::server
