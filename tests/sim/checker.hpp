// The simulator's history checker, in the style of Jepsen's total-queue checker.
//
// A pure function over what the simulation observed:
//   - every message a user saw as queued (its outbox record was committed), with the device
//     that queued it, its per-device enqueue order, its last committed text and whether the
//     user cancelled it;
//   - the server's final conversations (visible messages, ascending seq);
//   - each device's final stored messages (and, optionally, its final timeline view).
// It classifies every discrepancy as lost, duplicated, reordered or unexpected.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "parley/types.hpp"

namespace parley::sim {

// A message whose outbox record was durably committed: the user saw it as queued.
struct QueuedMessage {
  std::string device;  // the store that queued it (tabs sharing a store are one device)
  std::string conv;
  std::string cid;
  std::string text;                   // text of the last committed version (after edits)
  std::vector<std::string> versions;  // every committed text (to recognise copies by text)
  std::uint64_t order = 0;            // enqueue order within the device
  bool cancelled = false;             // the user cancelled it and the cancel was committed
};

struct ServerMessage {
  std::string id;
  std::string cid;  // empty for messages not sent by a Parley client (agent)
  Seq seq = 0;
  std::string text;
  bool deleted = false;
};

struct ServerConversation {
  std::string user;
  std::string conv;
  std::vector<ServerMessage> messages;  // visible messages, ascending seq
};

// A message as a device holds it (store record or timeline entry).
struct HeldMessage {
  std::string id;   // empty for a local echo (timeline only)
  std::string cid;  // empty if none
  Seq seq = 0;      // 0 for a local echo
  std::string text;
  bool deleted = false;
};

struct DeviceFinal {
  std::string device;
  std::string user;                                          // the user the device ended as
  std::map<std::string, std::vector<HeldMessage>> store;     // conv -> stored messages, store order
  bool has_timeline = false;                                 // whether `timeline` was captured
  std::map<std::string, std::vector<HeldMessage>> timeline;  // conv -> UI timeline, display order
  // Keys (id or cid) the UI showed more than once at some point during the run. Counted unless
  // the final timeline still shows that duplicate (then it is counted there).
  std::vector<std::string> observed_duplicates;
};

struct History {
  std::vector<QueuedMessage> queued;
  std::vector<ServerConversation> server;
  std::vector<DeviceFinal> devices;
};

struct Verdict {
  std::int64_t lost = 0;
  std::int64_t duplicated = 0;
  std::int64_t reordered = 0;
  std::int64_t unexpected = 0;
  std::vector<std::string> findings;  // one human readable line per counted problem
  bool ok() const { return lost == 0 && duplicated == 0 && reordered == 0 && unexpected == 0; }
};

Verdict check(const History& h);

}  // namespace parley::sim
