// Domain model: conversations, messages, participants, attachments, rich payloads.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "parley/types.hpp"

namespace parley {

using Json = nlohmann::json;

struct Participant {
  Role role = Role::Visitor;
  std::string id;    // agent id, bot id, visitor user id; empty for system
  std::string name;  // display name (plain text, rendered inert)
  bool operator==(const Participant&) const = default;
};

// Attachment metadata. The bytes live host-side as a pending blob until uploaded.
struct Attachment {
  std::string id;         // client-generated attachment id (also the blob key while pending)
  std::string name;       // file name (plain text)
  std::string mime;       // MIME type
  std::int64_t size = 0;  // bytes
  std::string blob_ref;   // host-side pending blob key; empty once uploaded
  std::string url;        // server reference once uploaded; empty while pending
  bool operator==(const Attachment&) const = default;
};

// Rich payload kinds. The payload content itself is validated by the codec and kept as JSON.
enum class RichKind { None, QuickReplies, Buttons, Carousel, Form, Csat };
std::string_view to_string(RichKind k);
std::optional<RichKind> rich_kind_from_string(std::string_view s);

struct Body {
  std::string text;  // plain text (or agent markdown, sanitized by the UI)
  RichKind rich = RichKind::None;
  Json payload;  // kind-specific structure (options, items, fields, scale); null when None
  std::vector<Attachment> attachments;
  // A timeline event (handoff, status) rendered as a system line; null otherwise.
  Json event;
  bool operator==(const Body&) const = default;
};

// A message confirmed by the server.
struct Message {
  std::string conv;
  Seq seq = 0;
  std::string id;   // server id
  std::string cid;  // client id if it originated from a Parley client, else empty
  Participant author;
  Body body;
  TimeMs ts = 0;         // server time
  TimeMs edited_ts = 0;  // 0 if never edited
  bool deleted = false;
  int ticket = 1;
  bool operator==(const Message&) const = default;
};

struct ChannelBinding {
  Channel channel = Channel::Web;
  std::string address;  // phone number, e-mail, device id; empty for web
  bool active = true;
  TimeMs since = 0;
  bool operator==(const ChannelBinding&) const = default;
};

// Who currently answers the conversation.
struct ControlOwner {
  enum class Kind { Bot, Queue, Agent };
  Kind kind = Kind::Bot;
  std::string agent_id;    // only for Agent
  std::string agent_name;  // only for Agent
  int queue_position = 0;  // only for Queue; 0 = unknown
  bool operator==(const ControlOwner&) const = default;
};
std::string_view to_string(ControlOwner::Kind k);
std::optional<ControlOwner::Kind> owner_kind_from_string(std::string_view s);

struct Gap {
  Seq from = 0;  // first missing seq (inclusive)
  Seq to = 0;    // last missing seq (inclusive)
  bool operator==(const Gap&) const = default;
};

struct Conversation {
  std::string id;
  Status status = Status::New;
  ConversationalStyle style = ConversationalStyle::SocialMessaging;
  int ticket = 1;
  std::string subject;
  ControlOwner owner;
  std::vector<ChannelBinding> channels;
  TimeMs created_ts = 0;
  TimeMs updated_ts = 0;
  Seq last_seq = 0;               // highest seq known from the server
  Seq first_stored_seq = 0;       // lowest seq held locally (0 = none stored)
  std::int64_t stored_count = 0;  // messages held locally (for the cache cap)
  bool history_complete = false;  // nothing older than first_stored_seq on the server
  Seq read_seq = 0;               // visitor's own read marker (only moves forward)
  Seq agent_read_seq = 0;         // the other side's read marker (only moves forward)
  Seq agent_delivered_seq = 0;    // the other side's delivery marker (only moves forward)
  std::vector<Gap> gaps;          // explicit server-signalled gaps still to backfill
  TimeMs last_activity_ts = 0;    // for eviction ordering and engagement
  int unread = 0;                 // messages from others after read_seq
  std::string preview;            // last message text, for the list without loading pages
  bool operator==(const Conversation&) const = default;
};

}  // namespace parley
