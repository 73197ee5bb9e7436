// Versioned schema migrations. Each step runs in its own transaction and bumps
// PRAGMA user_version in that transaction, so a crash mid-migration leaves the file at the
// last complete step and the next start resumes from there. Steps are append-only: never
// edit a released step, add a new one.
#include <array>
#include <string_view>

#include "db.hpp"

namespace parley::server {

namespace {

// Step N brings the schema from version N-1 to N.
constexpr std::array<std::string_view, kSchemaVersion> kSteps = {
    // 1: the initial schema.
    R"sql(
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  app TEXT NOT NULL,
  anonymous INTEGER NOT NULL,
  external_id TEXT,            -- JWT sub for identified users
  name TEXT NOT NULL DEFAULT '',
  merged_into TEXT,            -- set once an anonymous visitor was merged into another user
  created_ts INTEGER NOT NULL,
  log_floor INTEGER NOT NULL DEFAULT 0  -- highest cursor dropped by the catch-up horizon
);
CREATE UNIQUE INDEX users_external ON users(app, external_id) WHERE external_id IS NOT NULL;

CREATE TABLE devices (
  app TEXT NOT NULL,
  device TEXT NOT NULL,
  user TEXT NOT NULL,
  PRIMARY KEY (app, device)
);

CREATE TABLE conversations (
  id TEXT PRIMARY KEY,
  app TEXT NOT NULL,
  user TEXT NOT NULL,
  style TEXT NOT NULL,
  status TEXT NOT NULL,
  ticket INTEGER NOT NULL,
  solved_at INTEGER NOT NULL DEFAULT 0,
  last_customer_activity INTEGER NOT NULL DEFAULT 0,
  inactive INTEGER NOT NULL DEFAULT 0,
  assignee TEXT NOT NULL DEFAULT '',
  owner TEXT NOT NULL,          -- JSON owner object
  channels TEXT NOT NULL,       -- JSON array of bindings
  subject TEXT NOT NULL DEFAULT '',
  last_seq INTEGER NOT NULL DEFAULT 0,
  preview TEXT NOT NULL DEFAULT '',
  created_ts INTEGER NOT NULL,
  updated_ts INTEGER NOT NULL,
  visitor_read_seq INTEGER NOT NULL DEFAULT 0,
  agent_read_seq INTEGER NOT NULL DEFAULT 0,
  agent_delivered_seq INTEGER NOT NULL DEFAULT 0,
  waiting_on TEXT NOT NULL DEFAULT 'none',
  waiting_since INTEGER NOT NULL DEFAULT 0,
  deadline INTEGER,             -- next lifecycle deadline (NULL = none)
  engagement TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX conversations_user ON conversations(user);
CREATE INDEX conversations_app ON conversations(app, updated_ts);
CREATE INDEX conversations_deadline ON conversations(deadline) WHERE deadline IS NOT NULL;

CREATE TABLE messages (
  conv TEXT NOT NULL,
  seq INTEGER NOT NULL,
  id TEXT NOT NULL UNIQUE,
  user TEXT NOT NULL,           -- the conversation's visitor (dedupe scope)
  dedupe TEXT,                  -- visitor cid, or 'agent:<id>:<cid>' for agent posts
  json TEXT NOT NULL,           -- the protocol message object
  ts INTEGER NOT NULL,
  PRIMARY KEY (conv, seq)
) WITHOUT ROWID;
-- Permanent idempotency: a client id is stored once per user, forever.
CREATE UNIQUE INDEX messages_dedupe ON messages(user, dedupe) WHERE dedupe IS NOT NULL;

CREATE TABLE events (
  cursor INTEGER PRIMARY KEY AUTOINCREMENT,
  user TEXT NOT NULL,
  ts INTEGER NOT NULL,
  json TEXT NOT NULL            -- the protocol event object, cursor included
);
CREATE INDEX events_user ON events(user, cursor);
CREATE INDEX events_ts ON events(ts);

CREATE TABLE channel_outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  channel TEXT NOT NULL,
  address TEXT NOT NULL,
  conv TEXT NOT NULL,
  seq INTEGER NOT NULL,
  json TEXT NOT NULL,           -- {"id","conv","seq","text","author","ts"}
  ts INTEGER NOT NULL
);
CREATE INDEX channel_outbox_address ON channel_outbox(channel, address, id);

CREATE TABLE resume_tokens (
  token TEXT PRIMARY KEY,
  user TEXT NOT NULL,
  conv TEXT NOT NULL,
  expires INTEGER NOT NULL,
  used INTEGER NOT NULL DEFAULT 0
);
)sql",
    // 2: attachment bytes, uploaded out of band before the `upload` frame.
    R"sql(
CREATE TABLE files (
  id TEXT PRIMARY KEY,          -- the attachment id (the upload's cid)
  app TEXT NOT NULL,
  user TEXT NOT NULL,           -- the visitor who uploaded it
  mime TEXT NOT NULL,
  size INTEGER NOT NULL,
  data BLOB NOT NULL,
  created_ts INTEGER NOT NULL
);
CREATE INDEX files_user ON files(user);
)sql",
};

}  // namespace

int migrate(Db& db) {
  int v = db.user_version();
  if (v > kSchemaVersion) {
    throw DbError(SQLITE_ERROR, "database schema version " + std::to_string(v) +
                                    " is newer than this server (" +
                                    std::to_string(kSchemaVersion) + ")");
  }
  for (; v < kSchemaVersion; ++v) {
    Db::Txn txn(db);
    db.exec(kSteps[static_cast<std::size_t>(v)]);
    db.set_user_version(v + 1);
    txn.commit();
  }
  return v;
}

}  // namespace parley::server
