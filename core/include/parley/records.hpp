// Storage records, storage batches and record migrations.
//
// The core never touches storage. It emits StorageBatch effects that the host commits
// atomically (one IndexedDB readwrite transaction), and it is fed records back on restore.
// Every record carries its schema version "v"; records are migrated one step at a time
// (v1 -> v2 -> ...) whenever they are read, so a migration is resumable by construction and
// never forces a full scan at start-up.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "parley/model.hpp"
#include "parley/types.hpp"

namespace parley::records {

inline constexpr int kSchemaVersion = 2;

enum class Store { Meta, Conversations, Messages, Outbox, Blobs };
std::string_view to_string(Store s);

// Messages are keyed by (conv, seq) so that paging is a key range and a re-delivered
// message overwrites itself. Other stores are keyed by `key` alone.
struct StorageOp {
  enum class Kind { Put, Delete, DeleteRange, Clear };
  Kind kind = Kind::Put;
  Store store = Store::Meta;
  std::string key;  // conv id for Messages; record key otherwise
  Seq seq = 0;      // Messages: seq for Put/Delete; DeleteRange deletes seq < this
  Json value;       // Put only
};

struct StorageBatch {
  std::uint64_t id = 0;
  std::vector<StorageOp> ops;
};

enum class CommitResult { Ok, Aborted, QuotaExceeded };

// -------------------------------------------------------------- record types
struct Meta {
  std::string user;
  std::string device;
  std::string token;
  Cursor cursor = 0;
  std::string open_conv;             // conversation the visitor had open
  std::uint64_t outbox_counter = 0;  // monotonic FIFO order for outbox records
  // A sign-in (identify) waiting for its welcome, kept across a reload or crash: the welcome
  // for the new identity is then still expected, and the anonymous token to merge still
  // sent. Both are cleared by the welcome.
  bool identity_pending = false;
  std::string merge_token;
};

// The local send queue. Keyed by client id; the outbox is never evicted.
struct OutboxRecord {
  enum class Kind { Message, Upload };
  enum class State { Pending, Wedged };  // in-flight is runtime-only, never persisted
  Kind kind = Kind::Message;
  std::string cid;
  std::string conv;
  std::uint64_t order = 0;  // FIFO position (per conversation by filtering on conv)
  Body body;                // Message: the message; Upload: body.attachments[0]
  TimeMs created_ts = 0;
  int attempts = 0;
  // Persisted before the first attempt: from then on the server may have the message, so
  // it can no longer be edited or cancelled (unless a permanent error proved otherwise).
  bool attempted = false;
  State state = State::Pending;
  std::optional<Error> error;           // last error (reason when wedged)
  std::vector<std::string> depends_on;  // upload cids that must be acked first
  bool operator==(const OutboxRecord&) const = default;
};

Json to_json(const Meta& m);
Json to_json(const Conversation& c);
Json to_json(const Message& m);
Json to_json(const OutboxRecord& o);

// Decoders migrate old versions first. A record that cannot be decoded is a typed
// StorageCorrupt error: the caller skips it and reports it, never crashes.
std::variant<Meta, Error> meta_from_json(const Json& j);
std::variant<Conversation, Error> conversation_from_json(const Json& j);
std::variant<Message, Error> message_from_json(const Json& j);
std::variant<OutboxRecord, Error> outbox_from_json(const Json& j);

// Migration steps, one per version, applied in order. Exposed for fixture tests.
// v1 -> v2: messages gained "ticket" (default 1) and "author" became an object (was a role
// string plus "author_id"); conversations gained "gaps" and "stored_count"; outbox records
// gained "depends_on".
Json migrate_v1_to_v2(Store store, Json record);
// Brings a record of any known version to kSchemaVersion; error if from the future/garbage.
std::variant<Json, Error> migrate(Store store, Json record);

}  // namespace parley::records
