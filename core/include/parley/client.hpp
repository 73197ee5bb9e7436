// The sans-I/O conversation client.
//
// Inputs are method calls that each carry `now` from the host (`on_*` for events, verbs for
// user commands). After any input the host calls drain() and carries out the Effects:
//   - commit each StorageBatch atomically and feed the result back with on_commit();
//   - answer each StorageRead with on_restored() / on_page_loaded();
//   - open/close the connection, send frames, set/cancel timers;
//   - refresh the view for the changed conversations, show errors.
// The same inputs always produce the same effects: randomness comes from Config::seed.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "parley/engagement.hpp"
#include "parley/hours.hpp"
#include "parley/lifecycle.hpp"
#include "parley/model.hpp"
#include "parley/protocol.hpp"
#include "parley/records.hpp"
#include "parley/rng.hpp"

namespace parley {

struct Config {
  std::string app_id;
  std::string device;  // stable per store; generated from the seed if empty on first run
  std::uint64_t seed = 1;
  std::string locale = "en";
  lifecycle::Policy policy = lifecycle::Policy::defaults(ConversationalStyle::SocialMessaging);
  std::size_t page_size = 50;
  std::size_t cache_cap_messages = 20'000;  // history cap across conversations (not outbox)
  // History lives in storage; memory holds a window. Live messages trim the in-memory
  // window of the open conversation to this many, and of the others to one page.
  std::size_t memory_window_messages = 1'000;
  TimeMs request_timeout_ms = 15'000;
  // An upload's request also covers moving its bytes (the host uploads them before the
  // frame goes out): its timeout adds the attachment's size at this slowest expected rate.
  std::int64_t upload_min_bytes_per_s = 32 * 1024;
  TimeMs backoff_min_ms = 500;
  TimeMs backoff_max_ms = 60'000;
  std::size_t sync_limit = 500;
  // Test-only planted bugs, used to prove that the simulator's checker catches a broken
  // client. Never set them in production.
  // debug_fresh_cid_per_attempt breaks guarantee 2: every retry carries a new client id, so
  // a retry after a lost response is stored twice by the server.
  bool debug_fresh_cid_per_attempt = false;
};

enum class ConnectionState { Offline, Connecting, Handshaking, Ready, Backoff };
std::string_view to_string(ConnectionState s);

// A storage read the host must answer.
struct StorageRead {
  enum class Kind { Restore, Page };
  Kind kind = Kind::Restore;
  std::string conv;  // Page
  Seq before = 0;    // Page: seq < before (0 = newest)
  std::size_t limit = 0;
};

struct TimerSet {
  std::uint64_t id = 0;
  TimeMs at = 0;  // absolute time
};

struct ViewChange {
  std::set<std::string> conversations;  // conversations whose list entry or timeline changed
  bool connection = false;              // connection/banner state changed
  bool unread = false;                  // unread total changed
  bool availability = false;            // availability() changed (business hours)
};

struct Effects {
  std::vector<records::StorageBatch> batches;
  std::vector<StorageRead> reads;
  bool connect = false;
  bool disconnect = false;
  std::vector<std::string> frames;  // encoded client frames, in order
  std::vector<TimerSet> timers_set;
  std::vector<std::uint64_t> timers_cancelled;
  ViewChange view;
  std::vector<Error> errors;   // typed errors for the UI
  bool auth_required = false;  // host must supply a fresh token via on_token()
  bool wiped = false;          // logout: host deletes the whole namespace
  bool empty() const;
};

// What the UI renders for one timeline entry: a confirmed message or a local echo.
struct TimelineItem {
  std::string key;  // stable UI key: cid if any, else server id
  MessageState state = MessageState::Sent;
  Message message;             // seq/id are 0/empty for local echoes
  std::optional<Error> error;  // reason when Failed
};

struct ConversationView {
  Conversation conv;
  int unread = 0;
  std::string preview;  // last message text
  bool typing = false;  // the other side is typing
  // The latest "continue on another device" token from a handoff event, for a link or QR
  // code; kept in memory only (ask again after a reload).
  std::string resume_token;
};

// Result of a send: the client id, or the reason it was refused outright.
using SendResult = std::variant<std::string, Error>;

class Client {
 public:
  explicit Client(Config config);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // ------------------------------------------------------------- lifecycle / storage
  void start(TimeMs now);  // asks the host to restore
  struct Restored {
    Json meta;  // null if none
    std::vector<Json> conversations;
    std::vector<Json> outbox;
  };
  void on_restored(TimeMs now, const Restored& r);
  void on_page_loaded(TimeMs now, const std::string& conv, const std::vector<Json>& messages);
  void on_commit(TimeMs now, std::uint64_t batch_id, records::CommitResult result);

  // ------------------------------------------------------------- user commands
  SendResult send(TimeMs now, const std::string& conv, Body body);
  std::optional<Error> retry(TimeMs now, const std::string& cid);
  std::optional<Error> cancel(TimeMs now, const std::string& cid);
  std::optional<Error> edit_queued(TimeMs now, const std::string& cid, Body body);
  void mark_read(TimeMs now, const std::string& conv, Seq seq);
  void typing(TimeMs now, const std::string& conv, bool on);
  std::string start_conversation(TimeMs now, const std::string& subject);
  std::optional<Error> request_handoff(TimeMs now, const std::string& conv, Channel channel,
                                       const std::string& address);
  // Sign in: adopt `token` and say hello with it. Until the next welcome, the hellos also
  // carry the token held before (merge_token), so the server can merge that anonymous
  // visitor's conversations into the identified user. A welcome for another user is
  // accepted (its log is read from cursor 0).
  void identify(TimeMs now, const std::string& token);
  // Continue a conversation handed off from another device or channel (QR code / link):
  // the resume token goes with the next hello, and the server attaches that conversation,
  // with its history, to this visitor. The server may instead welcome the visitor who
  // handed off (this device becomes that visitor): like identify(), a welcome for another
  // user is then accepted and read from cursor 0.
  void resume(TimeMs now, const std::string& resume_token);
  void logout(TimeMs now);
  void open_conversation(TimeMs now, const std::string& conv);
  void load_older(TimeMs now, const std::string& conv);

  // ------------------------------------------------------------- transport
  void on_connected(TimeMs now);
  void on_disconnected(TimeMs now);
  void on_frame(TimeMs now, std::string_view text);
  // A request failed below the protocol (HTTP status, lost socket write).
  void on_request_failed(TimeMs now, const std::string& req, Error error);
  void on_token(TimeMs now, const std::string& token);

  // ------------------------------------------------------------- time / environment
  void on_timer(TimeMs now, std::uint64_t timer_id);
  void on_online(TimeMs now, bool online);
  void on_visibility(TimeMs now, bool visible);
  void on_focus(TimeMs now, bool focused);

  Effects drain();

  // ------------------------------------------------------------- queries (the view)
  bool restored() const;
  ConnectionState connection() const;
  // Connected but out of sync: catch-up (`sync`) has failed and is being retried with
  // backoff; false again once a sync is answered. A change sets Effects::view.connection.
  bool sync_retrying() const;
  std::vector<ConversationView> conversations() const;
  std::vector<TimelineItem> timeline(const std::string& conv) const;
  int unread_total() const;
  Cursor cursor() const;
  std::string user() const;
  std::string device() const;
  std::size_t outbox_size() const;
  std::size_t loaded_message_count() const;
  engagement::Level engagement_level(TimeMs now) const;
  // Business hours as of the latest welcome; nullopt before one, or when the server sent
  // none. A snapshot: it goes stale at next_change_ts (the UI may flip it then).
  std::optional<hours::Availability> availability() const;
  // Whether the client is idle: restored, no pending commits/requests/gaps, outbox empty or
  // wedged only. Used by the simulator to detect quiescence.
  bool settled() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace parley
