// A simulated protocol v1 server (docs/protocol.md), built on the core codec.
//
// It keeps, per user, an event log with a global cursor, conversations with per-conversation
// seq, a permanent dedupe index on (user, cid), read markers and identity tokens. It speaks to
// sessions through a sink callback (the simulated network decides what arrives). Its fault
// knobs (gaps, seq holes, short history pages, 5xx, permanent refusals, the catch-up horizon)
// come from ServerFaults and a seeded Rng, so a run is a pure function of the seed.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "checker.hpp"
#include "parley/protocol.hpp"
#include "parley/rng.hpp"

namespace parley::sim {

struct ServerFaults {
  double p_gap = 0;              // a new message event is replaced by an explicit gap event
  double p_hidden = 0;           // an internal note takes a seq (a silent hole in seq)
  double p_short_scan = 0;       // a history page scans only a few seqs (may be empty, !complete)
  double p_forbidden = 0;        // a never-seen cid is refused permanently (not applied)
  double p_5xx = 0;              // a request is answered server_error 1..3 times, not applied
  double p_ack_first = 0.5;      // the ack precedes the echo event (else follows it)
  std::size_t events_page = 50;  // catch-up page size after hello
  TimeMs horizon_ms = 0;         // event log horizon (0 = keep forever)
};

class SimServer {
 public:
  using Sink = std::function<void(std::string)>;
  using Log = std::function<void(const std::string&)>;

  SimServer(std::uint64_t seed, Log log);

  ServerFaults faults;
  bool faults_on = true;

  // ---------------------------------------------------------------- sessions
  void open_session(std::uint64_t sid, Sink sink);
  void close_session(std::uint64_t sid);
  void on_frame(TimeMs now, std::uint64_t sid, std::string_view text);

  // ---------------------------------------------------------------- identity
  std::string create_user();
  std::string issue_token(const std::string& user);
  void expire_tokens(const std::string& user);  // every current token of the user stops working
  std::string user_of_token(const std::string& token) const;

  // ---------------------------------------------------------------- the agent side
  std::vector<std::string> conversations_of(const std::string& user) const;
  std::vector<std::string> all_conversations() const;
  // Posts `count` agent messages; as one run they may be replaced by a single gap event.
  void agent_post(TimeMs now, const std::string& conv, int count, const std::string& text);
  void agent_edit(TimeMs now, const std::string& conv);
  void agent_delete(TimeMs now, const std::string& conv);
  void agent_read(TimeMs now, const std::string& conv, bool delivered_only);
  void agent_status(TimeMs now, const std::string& conv, Status status);
  // Drops events older than the horizon from every log.
  void compact(TimeMs now);

  // ---------------------------------------------------------------- queries
  Cursor head(const std::string& user) const;
  std::vector<ServerConversation> snapshot() const;  // visible messages, for the checker
  const std::vector<std::string>& anomalies() const { return anomalies_; }
  // How often each server-side fault and path fired (coverage report).
  const std::map<std::string, std::int64_t>& counters() const { return counters_; }
  std::size_t message_count() const { return next_msg_id_ - 1; }

 private:
  struct StoredMessage {
    Message m;
    bool hidden = false;  // internal note: takes a seq, never shown to the visitor
  };
  struct Conv {
    std::string id;
    std::string user;
    std::vector<StoredMessage> msgs;  // index = seq - 1
    Status status = Status::Open;
    int ticket = 1;
    ControlOwner owner;
    std::vector<ChannelBinding> channels;
    Seq visitor_read = 0;
    Seq agent_read = 0;
    Seq last_visible = 0;
    TimeMs created = 0;
  };
  struct Logged {
    TimeMs at = 0;
    protocol::Event ev;
  };
  struct User {
    std::string id;
    std::deque<Logged> log;
    Cursor head = 0;
    Cursor floor = 0;                           // highest cursor dropped by the horizon
    std::map<std::string, protocol::Ack> acks;  // permanent dedupe on cid
    std::set<std::string> forbidden;            // cids refused permanently
    std::map<std::string, int> failing;         // cid/req -> server errors still to answer
    std::vector<std::string> convs;             // creation order
  };
  struct Session {
    Sink sink;
    std::string user;
    std::string token;
    bool authed = false;
  };
  struct Token {
    std::string user;
    bool expired = false;
  };

  Rng rng_;
  Log log_;
  std::map<std::string, User> users_;
  std::map<std::string, Conv> convs_;
  std::map<std::string, Token> tokens_;
  std::map<std::string, std::string> anonymous_by_device_;  // device -> anonymous user
  std::map<std::uint64_t, Session> sessions_;
  std::vector<std::string> anomalies_;
  std::map<std::string, std::int64_t> counters_;
  std::uint64_t next_user_ = 1, next_token_ = 1, next_msg_id_ = 1;

  void send(Session& s, const protocol::ServerFrame& f);
  void error(Session& s, const std::string& req, ErrorCode code, Recoverability r,
             const std::string& msg);
  bool authorized(TimeMs now, Session& s, const std::string& req);
  bool inject_5xx(Session& s, const std::string& key, const std::string& req);

  void on_hello(TimeMs now, Session& s, const protocol::Hello& h);
  void on_send(TimeMs now, Session& s, const protocol::Send& f);
  void on_history(Session& s, const protocol::History& f);
  void on_sync(Session& s, const protocol::Sync& f);
  void on_read(TimeMs now, Session& s, const protocol::MarkRead& f);

  void send_events_after(Session& s, User& u, Cursor after, std::size_t limit, bool all,
                         const std::string& req);
  void send_reset(Session& s, User& u);
  protocol::Event summary(const Conv& c, Cursor cursor) const;
  Conv& create_conv(TimeMs now, User& u, const std::string& conv);
  // Allocates the next seq of `c` (sometimes after silent internal notes).
  Message& add_message(TimeMs now, Conv& c, Participant author, const std::string& text,
                       const std::string& cid);
  void append(TimeMs now, User& u, std::vector<protocol::Event> evs);
  const Message* pick_agent_message(const Conv& c);
  void publish_update(TimeMs now, const Conv& c, const Message& m);
};

}  // namespace parley::sim
