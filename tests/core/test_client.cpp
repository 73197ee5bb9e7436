// The client state machine: one test (at least) per DESIGN.md guarantee owned by the core.
#include <catch2/catch.hpp>

#include <algorithm>

#include "host.hpp"

using namespace parley;
using namespace parley::testing;
using records::CommitResult;

namespace {

std::string sent_cid(const SendResult& r) {
  REQUIRE(std::holds_alternative<std::string>(r));
  return std::get<std::string>(r);
}

int count_outbox_puts(const records::StorageBatch& b) {
  return static_cast<int>(std::count_if(b.ops.begin(), b.ops.end(), [](const auto& op) {
    return op.store == records::Store::Outbox && op.kind == records::StorageOp::Kind::Put;
  }));
}

}  // namespace

TEST_CASE("G1 a queued message is durable: shown only after its outbox record commits",
          "[client][guarantee1]") {
  Host h;
  h.boot(/*handshake=*/false);
  const auto conv = h.client->start_conversation(h.now, "help");
  h.run();
  h.auto_commit = false;
  const auto cid = sent_cid(h.client->send(h.now, conv, text("hello")));
  h.run();
  // Not committed yet: not shown, not sent.
  CHECK(h.timeline(conv).empty());
  REQUIRE(h.held.size() == 1);
  CHECK(count_outbox_puts(h.held[0]) == 1);
  h.commit_held();
  auto t = h.timeline(conv);
  REQUIRE(t.size() == 1);
  CHECK(t[0].key == cid);
  CHECK(t[0].state == MessageState::Queued);
  // The committed record is really in the store.
  REQUIRE(h.store->outbox().size() == 1);
  CHECK(h.store->outbox()[0]["cid"] == cid);
}

TEST_CASE("G1 a send whose commit fails is rejected visibly and never sent",
          "[client][guarantee1]") {
  for (auto how : {CommitResult::Aborted, CommitResult::QuotaExceeded}) {
    Host h;
    h.boot();
    const auto conv = h.client->start_conversation(h.now, "");
    h.run();
    h.auto_commit = false;
    const auto before_frames = h.frames.size();
    (void)sent_cid(h.client->send(h.now, conv, text("will fail")));
    h.run();
    h.commit_held(how);
    CHECK(h.timeline(conv).empty());
    CHECK(h.client->outbox_size() == 0);
    CHECK(h.sent<protocol::Send>(before_frames).empty());
    REQUIRE_FALSE(h.errors.empty());
    const auto expected =
        how == CommitResult::Aborted ? ErrorCode::StorageAborted : ErrorCode::StorageQuota;
    CHECK(std::any_of(h.errors.begin(), h.errors.end(),
                      [&](const Error& e) { return e.code == expected; }));
    // Later writes still go through: the store is not wedged by the failure.
    h.auto_commit = true;
    h.advance(70'000);
    (void)sent_cid(h.client->send(h.now, conv, text("works")));
    h.run();
    CHECK(h.timeline(conv).size() == 1);
  }
}

TEST_CASE("G2 the client id is persisted and reused on every retry", "[client][guarantee2]") {
  Host h;
  h.boot();
  const auto conv = h.client->start_conversation(h.now, "");
  const auto cid = sent_cid(h.client->send(h.now, conv, text("retry me")));
  h.run();
  auto sends = h.sent<protocol::Send>();
  REQUIRE(sends.size() == 1);
  CHECK(sends[0].cid == cid);
  // Lost response: the request times out and is retried with the same cid.
  h.advance(h.config.request_timeout_ms + 61'000);
  // Server error: retried again with the same cid.
  sends = h.sent<protocol::Send>();
  REQUIRE(sends.size() >= 2);
  protocol::ErrorFrame err;
  err.req = sends.back().req;
  err.error = make_error(ErrorCode::ServerError, "boom");
  h.deliver(err);
  h.advance(61'000);
  // A crash and restart from the store: the same cid again.
  h.crash_and_restart(99);
  h.boot();
  sends = h.sent<protocol::Send>();
  REQUIRE_FALSE(sends.empty());
  for (const auto& s : sends) CHECK(s.cid == cid);
  // The server acks (deduped on its side): the message is sent exactly once.
  h.deliver(ack_for(sends.back(), 1));
  auto t = h.timeline(conv);
  REQUIRE(t.size() == 1);
  CHECK(t[0].state == MessageState::Sent);
  CHECK(h.client->outbox_size() == 0);
  CHECK(h.store->outbox().empty());
}

TEST_CASE("G3 receive-side dedupe: the echo before the ack, and re-delivered events",
          "[client][guarantee3]") {
  Host h;
  h.boot();
  const auto conv = h.client->start_conversation(h.now, "");
  const auto cid = sent_cid(h.client->send(h.now, conv, text("echo first")));
  h.run();
  auto sends = h.sent<protocol::Send>();
  REQUIRE(sends.size() == 1);
  // The echo of our own message arrives through the event stream before the ack.
  auto echo = server_message(conv, 1, Role::Visitor, "echo first", cid);
  h.deliver(events(0, {message_event(1, echo)}));
  auto t = h.timeline(conv);
  REQUIRE(t.size() == 1);
  CHECK(t[0].state == MessageState::Sent);
  // Then the ack: no second copy.
  h.deliver(ack_for(sends[0], 1));
  CHECK(h.timeline(conv).size() == 1);
  // The same event again (by server id), and a later page containing it: still one.
  h.deliver(events(0, {message_event(1, echo)}));
  protocol::Page p;
  p.req = "unsolicited";
  p.conv = conv;
  p.messages = {echo};
  h.deliver(p);
  CHECK(h.timeline(conv).size() == 1);
  CHECK(h.store->all_messages(conv).size() == 1);
  CHECK(h.client->outbox_size() == 0);
}

TEST_CASE("G3 an ack that outlived its request (timeout, then late ack) still resolves once",
          "[client][guarantee3]") {
  Host h;
  h.boot();
  const auto conv = h.client->start_conversation(h.now, "");
  (void)sent_cid(h.client->send(h.now, conv, text("slow")));
  h.run();
  auto first = h.sent<protocol::Send>();
  REQUIRE(first.size() == 1);
  h.advance(h.config.request_timeout_ms + 1);  // times out, retry scheduled
  h.deliver(ack_for(first[0], 1));             // the late ack for the first attempt
  CHECK(h.timeline(conv).size() == 1);
  CHECK(h.client->outbox_size() == 0);
  const auto n = h.sent<protocol::Send>().size();
  h.advance(120'000);
  CHECK(h.sent<protocol::Send>().size() == n);  // nothing left to retry
}

TEST_CASE("G4 per-conversation FIFO with one send in flight", "[client][guarantee4]") {
  Host h;
  h.boot();
  const auto a = h.client->start_conversation(h.now, "a");
  const auto b = h.client->start_conversation(h.now, "b");
  for (int i = 0; i < 3; ++i) {
    (void)sent_cid(h.client->send(h.now, a, text("a" + std::to_string(i))));
    (void)sent_cid(h.client->send(h.now, b, text("b" + std::to_string(i))));
  }
  h.run();
  auto sends = h.sent<protocol::Send>();
  REQUIRE(sends.size() == 2);  // one per conversation
  std::map<std::string, Seq> next_seq;
  for (int round = 0; round < 3; ++round) {
    auto inflight = h.sent<protocol::Send>();
    for (const auto& s : inflight) {
      if (s.body.text.back() - '0' != round) continue;
      CHECK(s.body.text == std::string(s.conv == a ? "a" : "b") + std::to_string(round));
      h.deliver(ack_for(s, ++next_seq[s.conv], s.conv + std::to_string(round)));
    }
  }
  CHECK(h.sent<protocol::Send>().size() == 6);
  for (const auto& conv : {a, b}) {
    auto t = h.timeline(conv);
    REQUIRE(t.size() == 3);
    for (int i = 0; i < 3; ++i) CHECK(t[i].message.seq == i + 1);
  }
}

TEST_CASE("G4 a permanent error wedges the message without blocking the ones behind it",
          "[client][guarantee4]") {
  Host h;
  h.boot();
  const auto conv = h.client->start_conversation(h.now, "");
  const auto bad = sent_cid(h.client->send(h.now, conv, text("bad")));
  (void)sent_cid(h.client->send(h.now, conv, text("good")));
  h.run();
  auto sends = h.sent<protocol::Send>();
  REQUIRE(sends.size() == 1);
  protocol::ErrorFrame err;
  err.req = sends[0].req;
  err.error = make_error(ErrorCode::Forbidden, "blocked word");
  h.deliver(err);
  sends = h.sent<protocol::Send>();
  REQUIRE(sends.size() == 2);
  CHECK(sends[1].body.text == "good");
  h.deliver(ack_for(sends[1], 1));
  auto t = h.timeline(conv);
  REQUIRE(t.size() == 2);
  CHECK(t[0].message.body.text == "good");
  CHECK(t[1].key == bad);
  CHECK(t[1].state == MessageState::Failed);
  REQUIRE(t[1].error.has_value());
  CHECK(t[1].error->code == ErrorCode::Forbidden);
  // The wedged state is durable.
  h.crash_and_restart(5);
  h.boot(false);
  auto t2 = h.timeline(conv);
  REQUIRE_FALSE(t2.empty());
  CHECK(t2.back().state == MessageState::Failed);
  // A permanent failure is never retried automatically.
  h.connect();
  h.advance(600'000);
  CHECK(h.sent<protocol::Send>().empty());
  // The user retries: it goes again with the same cid.
  REQUIRE_FALSE(h.client->retry(h.now, bad).has_value());
  h.run();
  auto again = h.sent<protocol::Send>();
  REQUIRE(again.size() == 1);
  CHECK(again[0].cid == bad);
}

TEST_CASE("G4 recoverable errors back off with jitter between 0.5 s and 60 s",
          "[client][guarantee4]") {
  Host h;
  h.boot();
  const auto conv = h.client->start_conversation(h.now, "");
  (void)sent_cid(h.client->send(h.now, conv, text("flaky")));
  h.run();
  TimeMs previous_delay = 0;
  for (int attempt = 0; attempt < 14; ++attempt) {
    auto sends = h.sent<protocol::Send>();
    REQUIRE(static_cast<int>(sends.size()) == attempt + 1);
    protocol::ErrorFrame err;
    err.req = sends.back().req;
    err.error = make_error(ErrorCode::ServerError, "503");
    const auto before = h.timers;
    h.deliver(err);
    // Find the retry timer that appeared.
    TimeMs at = 0;
    for (const auto& [id, when] : h.timers) {
      if (!before.count(id) && when > at && when - h.now <= 60'000) at = when;
    }
    REQUIRE(at > 0);
    const TimeMs delay = at - h.now;
    CHECK(delay >= 500);
    CHECK(delay <= 60'000);
    if (attempt >= 8) CHECK(delay >= 30'000);  // capped region: jitter within [cap/2, cap]
    previous_delay = delay;
    // Nothing is sent before the delay elapses.
    h.advance(delay - 1);
    CHECK(h.sent<protocol::Send>().size() == sends.size());
    h.advance(1);
  }
  CHECK(previous_delay <= 60'000);
}

TEST_CASE("G4 an attachment upload goes before the message that references it",
          "[client][guarantee4]") {
  Host h;
  h.boot();
  const auto conv = h.client->start_conversation(h.now, "");
  Body b = text("see photo");
  Attachment att;
  att.name = "photo.png";
  att.mime = "image/png";
  att.size = 1234;
  att.blob_ref = "blob-1";
  b.attachments.push_back(att);
  (void)sent_cid(h.client->send(h.now, conv, b));
  h.run();
  CHECK(h.sent<protocol::Send>().empty());
  auto uploads = h.sent<protocol::Upload>();
  REQUIRE(uploads.size() == 1);
  CHECK(uploads[0].attachment.blob_ref == "blob-1");
  protocol::Ack a;
  a.req = uploads[0].req;
  a.cid = uploads[0].cid;
  a.conv = conv;
  a.id = "att1";
  a.url = "/files/att1";
  h.deliver(a);
  auto sends = h.sent<protocol::Send>();
  REQUIRE(sends.size() == 1);
  REQUIRE(sends[0].body.attachments.size() == 1);
  CHECK(sends[0].body.attachments[0].url == "/files/att1");
  CHECK(sends[0].body.attachments[0].blob_ref.empty());
  // The pending blob is deleted once uploaded.
  bool blob_deleted = false;
  for (const auto& batch : h.committed) {
    for (const auto& op : batch.ops) {
      blob_deleted |= op.store == records::Store::Blobs && op.key == "blob-1" &&
                      op.kind == records::StorageOp::Kind::Delete;
    }
  }
  CHECK(blob_deleted);
}

TEST_CASE("User commands: cancel and edit a queued message; not while it is in flight",
          "[client]") {
  Host h;
  h.boot(false);  // offline: everything stays queued
  const auto conv = h.client->start_conversation(h.now, "");
  const auto c1 = sent_cid(h.client->send(h.now, conv, text("first")));
  const auto c2 = sent_cid(h.client->send(h.now, conv, text("second")));
  h.run();
  REQUIRE_FALSE(h.client->edit_queued(h.now, c1, text("first, edited")).has_value());
  REQUIRE_FALSE(h.client->cancel(h.now, c2).has_value());
  h.run();
  auto t = h.timeline(conv);
  REQUIRE(t.size() == 1);
  CHECK(t[0].message.body.text == "first, edited");
  CHECK(h.store->outbox().size() == 1);
  h.connect();
  auto sends = h.sent<protocol::Send>();
  REQUIRE(sends.size() == 1);
  CHECK(sends[0].body.text == "first, edited");
  auto e = h.client->cancel(h.now, c1);
  REQUIRE(e.has_value());
  CHECK(e->code == ErrorCode::Conflict);
  CHECK(h.client->send(h.now, "nope", text("x")).index() == 1);
  std::string too_long(protocol::kMaxTextBytes + 1, 'x');
  auto r = h.client->send(h.now, conv, text(too_long));
  REQUIRE(std::holds_alternative<Error>(r));
  CHECK(std::get<Error>(r).code == ErrorCode::MessageTooLong);
}

TEST_CASE("G5 the cursor commits in the same batch as the data it covers", "[client][guarantee5]") {
  Host h;
  h.boot();
  const std::string conv = "c_server";
  h.deliver(events(0, {message_event(1, server_message(conv, 1, Role::Agent, "hi")),
                       message_event(2, server_message(conv, 2, Role::Agent, "there"))}));
  CHECK(h.client->cursor() == 2);
  // Find the batch that wrote the cursor: it must also hold both messages.
  bool found = false;
  for (const auto& b : h.committed) {
    bool cursor2 = false;
    int msgs = 0;
    for (const auto& op : b.ops) {
      if (op.store == records::Store::Meta && op.value.value("cursor", 0) == 2) cursor2 = true;
      if (op.store == records::Store::Messages && op.kind == records::StorageOp::Kind::Put) ++msgs;
    }
    if (cursor2) {
      found = true;
      CHECK(msgs == 2);
    }
  }
  CHECK(found);
  // If that batch fails, the cursor is not committed without the data: both are retried.
  Host f;
  f.boot();
  f.auto_commit = false;
  f.deliver(events(0, {message_event(1, server_message(conv, 1, Role::Agent, "hi"))}));
  f.commit_held(CommitResult::Aborted);
  CHECK(f.store->meta().value("cursor", 0) == 0);
  CHECK(f.store->all_messages(conv).empty());
  f.advance(70'000);
  f.commit_held();
  CHECK(f.store->meta().value("cursor", 0) == 1);
  CHECK(f.store->all_messages(conv).size() == 1);
}

TEST_CASE(
    "G5 events chain on `from`: a frame ahead of the cursor triggers a sync, duplicates are "
    "ignored",
    "[client][guarantee5]") {
  Host h;
  h.boot();
  const std::string conv = "c1";
  auto m1 = server_message(conv, 1, Role::Agent, "one");
  auto m2 = server_message(conv, 2, Role::Agent, "two");
  // Frame 2 arrives before frame 1.
  h.deliver(events(1, {message_event(2, m2)}));
  CHECK(h.client->cursor() == 0);
  auto syncs = h.sent<protocol::Sync>();
  REQUIRE(syncs.size() == 1);
  CHECK(syncs[0].after == 0);
  h.deliver(events(0, {message_event(1, m1)}));
  CHECK(h.client->cursor() == 1);
  auto answer = events(0, {message_event(1, m1), message_event(2, m2)});
  answer.req = syncs[0].req;
  h.deliver(answer);
  CHECK(h.client->cursor() == 2);
  CHECK(h.timeline(conv).size() == 2);
  CHECK(h.store->all_messages(conv).size() == 2);
}

SCENARIO("out of sync: a failing catch-up is visible until a sync is answered", "[client][sync]") {
  GIVEN("a connected client whose cursor is behind a frame it received") {
    Host h;
    h.boot();
    const std::string conv = "c1";
    auto m1 = server_message(conv, 1, Role::Agent, "one");
    auto m2 = server_message(conv, 2, Role::Agent, "two");
    h.deliver(events(1, {message_event(2, m2)}));  // a chain break: it asks `sync`
    auto syncs = h.sent<protocol::Sync>();
    REQUIRE(syncs.size() == 1);
    CHECK_FALSE(h.client->sync_retrying());
    WHEN("the server answers the sync with a recoverable error") {
      const int before = h.connection_changes;
      protocol::ErrorFrame err;
      err.req = syncs[0].req;
      err.error = make_error(ErrorCode::ServerError, "try later");
      h.deliver(err);
      THEN("it is out of sync, the view is told, and it asks again after a backoff") {
        CHECK(h.client->sync_retrying());
        CHECK(h.client->connection() == ConnectionState::Ready);
        CHECK(h.connection_changes == before + 1);
        h.advance(1'000);  // the first backoff is at most 1 s
        syncs = h.sent<protocol::Sync>();
        REQUIRE(syncs.size() == 2);
        CHECK(h.client->sync_retrying());  // still, until an answer

        AND_WHEN("that sync is answered") {
          const int mid = h.connection_changes;
          auto answer = events(0, {message_event(1, m1), message_event(2, m2)});
          answer.req = syncs[1].req;
          h.deliver(answer);
          THEN("it is back in sync, and the view is told") {
            CHECK_FALSE(h.client->sync_retrying());
            CHECK(h.connection_changes == mid + 1);
            CHECK(h.client->cursor() == 2);
          }
        }
      }
    }
  }
}

TEST_CASE("G5 explicit gaps are persisted and backfilled until complete, never inferred",
          "[client][guarantee5]") {
  Host h;
  h.boot();
  const std::string conv = "c1";
  // Seq 1, then seq 5 with no gap marker: the client must not go looking for 2..4.
  h.deliver(events(0, {message_event(1, server_message(conv, 1, Role::Agent, "1")),
                       message_event(2, server_message(conv, 5, Role::Agent, "5"))}));
  CHECK(h.sent<protocol::History>().empty());
  // Now an explicit gap for 2..4.
  protocol::Event gap;
  gap.kind = protocol::EventKind::Gap;
  gap.cursor = 3;
  gap.conv = conv;
  gap.gap = Gap{2, 4};
  h.deliver(events(2, {gap}));
  REQUIRE(h.store->conversations().size() == 1);
  CHECK(h.store->conversations()[0]["gaps"].size() == 1);  // persisted with the cursor
  auto hist = h.sent<protocol::History>();
  REQUIRE(hist.size() == 1);
  CHECK(hist[0].after == 1);
  CHECK(hist[0].before == 5);
  // First an empty page that still says "more", then a partial page, then the rest.
  protocol::Page p;
  p.req = hist[0].req;
  p.conv = conv;
  p.complete = false;
  p.next = 1;
  h.deliver(p);
  hist = h.sent<protocol::History>();
  REQUIRE(hist.size() == 2);
  p.req = hist[1].req;
  p.messages = {server_message(conv, 2, Role::Agent, "2")};
  p.next = 2;
  h.deliver(p);
  hist = h.sent<protocol::History>();
  REQUIRE(hist.size() == 3);
  CHECK(hist[2].after == 2);
  p.req = hist[2].req;
  p.messages = {server_message(conv, 3, Role::Agent, "3"),
                server_message(conv, 4, Role::Agent, "4")};
  p.complete = true;
  h.deliver(p);
  CHECK(h.sent<protocol::History>().size() == 3);
  CHECK(h.store->all_messages(conv).size() == 5);
  CHECK(h.store->conversations()[0]["gaps"].empty());
  CHECK(h.client->settled());
}

TEST_CASE("G5 beyond the catch-up horizon the store resets and refetches, keeping the outbox",
          "[client][guarantee5]") {
  Host h;
  h.boot(false);
  const auto mine = h.client->start_conversation(h.now, "offline");
  (void)sent_cid(h.client->send(h.now, mine, text("queued while away")));
  h.connect();
  h.deliver(events(0, {message_event(1, server_message("c_old", 1, Role::Agent, "old"))}));
  REQUIRE(h.store->all_messages("c_old").size() == 1);
  protocol::Reset r;
  r.cursor = 500;
  protocol::Event summary;
  summary.kind = protocol::EventKind::Conversation;
  summary.conv = "c_old";
  summary.last_seq = 40;
  summary.status = Status::Pending;
  r.conversations = {summary};
  h.deliver(r);
  CHECK(h.client->cursor() == 500);
  CHECK(h.store->all_messages("c_old").empty());
  CHECK(h.store->meta().value("cursor", 0) == 500);
  CHECK(h.client->outbox_size() + h.timeline(mine).size() >= 1);
  CHECK(h.store->outbox().size() + h.store->all_messages(mine).size() >= 1);
  // Older history of the reset conversation is refetched from the server on demand.
  h.client->open_conversation(h.now, "c_old");
  h.client->load_older(h.now, "c_old");
  h.run();
  auto hist = h.sent<protocol::History>();
  REQUIRE_FALSE(hist.empty());
  CHECK(hist.back().conv == "c_old");
  CHECK(hist.back().before == 41);
}

TEST_CASE("G6 read markers only move forward", "[client][guarantee6]") {
  Host h;
  h.boot();
  const std::string conv = "c1";
  std::vector<protocol::Event> evs;
  for (int i = 1; i <= 5; ++i)
    evs.push_back(message_event(i, server_message(conv, i, Role::Agent, "m")));
  h.deliver(events(0, evs));
  CHECK(h.client->unread_total() == 5);
  h.client->mark_read(h.now, conv, 4);
  h.run();
  CHECK(h.client->unread_total() == 1);
  h.client->mark_read(h.now, conv, 2);  // backwards: ignored
  h.run();
  CHECK(h.client->unread_total() == 1);
  auto reads = h.sent<protocol::MarkRead>();
  REQUIRE(reads.size() == 1);
  CHECK(reads[0].seq == 4);
  // The agent's marker only moves forward too: a stale read event cannot regress it.
  const auto mine = h.client->start_conversation(h.now, "");
  auto cid = sent_cid(h.client->send(h.now, mine, text("x")));
  h.run();
  h.deliver(ack_for(h.sent<protocol::Send>().back(), 1));
  protocol::Event read;
  read.kind = protocol::EventKind::Read;
  read.conv = mine;
  read.reader = Role::Agent;
  read.seq = 1;
  read.cursor = 6;
  h.deliver(events(5, {read}));
  CHECK(h.timeline(mine)[0].state == MessageState::Read);
  read.seq = 0;
  read.cursor = 7;
  h.deliver(events(6, {read}));
  CHECK(h.timeline(mine)[0].state == MessageState::Read);
  CHECK(h.store->conversations().size() == 2);
}

TEST_CASE("G8 every storage batch is one atomic multi-record write", "[client][guarantee8]") {
  Host h;
  h.boot();
  h.auto_commit = false;
  const std::string conv = "c1";
  h.deliver(events(0, {message_event(1, server_message(conv, 1, Role::Agent, "a")),
                       message_event(2, server_message(conv, 2, Role::Agent, "b"))}));
  REQUIRE(h.held.size() == 1);  // messages + conversation + cursor in one batch
  std::set<records::Store> stores;
  for (const auto& op : h.held[0].ops) stores.insert(op.store);
  CHECK(stores.count(records::Store::Messages));
  CHECK(stores.count(records::Store::Conversations));
  CHECK(stores.count(records::Store::Meta));
  // While a batch is in flight, later changes wait for the next batch (commit order = input order).
  h.deliver(events(2, {message_event(3, server_message(conv, 3, Role::Agent, "c"))}));
  CHECK(h.held.size() == 1);
  h.commit_held();
  REQUIRE(h.held.size() == 1);
  h.commit_held();
  CHECK(h.store->all_messages(conv).size() == 3);
  CHECK(h.store->meta().value("cursor", 0) == 3);
}

TEST_CASE("G9 the cache is capped per conversation and the outbox is never evicted",
          "[client][guarantee9]") {
  Config cfg;
  cfg.cache_cap_messages = 60;
  cfg.page_size = 10;
  Host h(cfg);
  h.boot(false);
  const auto mine = h.client->start_conversation(h.now, "");
  for (int i = 0; i < 5; ++i) (void)sent_cid(h.client->send(h.now, mine, text("queued")));
  h.run();
  h.connect();
  // Drop every send frame: nothing gets acked, the outbox stays full.
  std::vector<protocol::Event> evs;
  Cursor cur = 0;
  for (const char* conv : {"old", "new"}) {
    for (int i = 1; i <= 50; ++i) {
      auto m = server_message(conv, i, Role::Agent, "x");
      m.ts += std::string(conv) == "new" ? 1'000'000 : 0;  // "new" is the more recently active
      evs.push_back(message_event(++cur, m));
    }
  }
  h.deliver(events(0, evs));
  h.run();
  const auto stored = h.store->message_count();
  CHECK(stored <= 60);
  CHECK(stored >= 50);
  CHECK(h.store->outbox().size() == 5);
  // The least recently active conversation lost its oldest history, not its newest page.
  auto old_msgs = h.store->all_messages("old");
  REQUIRE_FALSE(old_msgs.empty());
  CHECK(old_msgs.back()["seq"] == 50);
  CHECK(h.store->all_messages("new").size() == 50);
}

TEST_CASE("G9 quota errors are surfaced and relieved by eviction", "[client][guarantee9]") {
  Host h;
  h.boot();
  std::vector<protocol::Event> evs;
  for (int i = 1; i <= 200; ++i)
    evs.push_back(message_event(i, server_message("c1", i, Role::Agent, std::string(200, 'q'))));
  h.deliver(events(0, evs));
  REQUIRE(h.store->message_count() == 200);
  h.store->set_quota_bytes(h.store->message_count() * 100);  // far below what is stored
  h.store->fail_next_commits(0, CommitResult::Ok);
  h.deliver(events(200, {message_event(201, server_message("c1", 201, Role::Agent, "new"))}));
  CHECK(std::any_of(h.errors.begin(), h.errors.end(),
                    [](const Error& e) { return e.code == ErrorCode::StorageQuota; }));
  h.store->set_quota_bytes(0);
  h.advance(70'000);
  CHECK(h.store->meta().value("cursor", 0) == 201);
  CHECK(h.store->message_count() < 200);
}

TEST_CASE("G10 logout wipes every trace of the user", "[client][guarantee10]") {
  Host h;
  h.boot();
  const auto conv = h.client->start_conversation(h.now, "");
  (void)sent_cid(h.client->send(h.now, conv, text("secret")));
  h.run();
  h.deliver(events(0, {message_event(1, server_message("c2", 1, Role::Agent, "private"))}));
  h.client->logout(h.now);
  h.run();
  CHECK(h.wiped);
  CHECK(h.store->meta().is_null());
  CHECK(h.store->conversations().empty());
  CHECK(h.store->outbox().empty());
  CHECK(h.store->message_count() == 0);
  CHECK(h.client->conversations().empty());
  CHECK(h.client->unread_total() == 0);
  // Nothing more is sent for that user.
  const auto n = h.frames.size();
  h.advance(120'000);
  CHECK(h.frames.size() == n);
}

SCENARIO("Restore reads only meta, conversations, the outbox and one page", "[client][restore]") {
  GIVEN("a store holding a long conversation") {
    Config cfg;
    cfg.page_size = 20;
    Host h(cfg);
    h.boot();
    std::vector<protocol::Event> evs;
    for (int i = 1; i <= 500; ++i)
      evs.push_back(message_event(i, server_message("c1", i, Role::Agent, "m")));
    h.deliver(events(0, evs));
    h.client->open_conversation(h.now, "c1");
    h.run();
    WHEN("the client restarts") {
      h.crash_and_restart(7);
      h.client->start(h.now);
      h.run();
      THEN("only the newest page of the open conversation is loaded") {
        CHECK(h.client->loaded_message_count() == 20);
        auto t = h.timeline("c1");
        REQUIRE(t.size() == 20);
        CHECK(t.front().message.seq == 481);
        CHECK(h.client->unread_total() == 500);
      }
      AND_WHEN("the visitor scrolls up") {
        h.client->load_older(h.now, "c1");
        h.run();
        THEN("the next page comes from storage, not the network") {
          CHECK(h.client->loaded_message_count() == 40);
          CHECK(h.sent<protocol::History>().empty());
        }
      }
    }
  }
}

SCENARIO("Corrupt records are reported and skipped; nothing else is lost", "[client][restore]") {
  GIVEN("a store with one good and one corrupt conversation, and a corrupt outbox record") {
    MemoryStore store;
    records::StorageBatch b;
    Conversation good;
    good.id = "good";
    good.last_seq = 1;
    good.first_stored_seq = 1;
    good.stored_count = 1;
    b.ops.push_back({records::StorageOp::Kind::Put, records::Store::Conversations, "good", 0,
                     records::to_json(good)});
    b.ops.push_back({records::StorageOp::Kind::Put, records::Store::Conversations, "bad", 0,
                     Json{{"v", 2}, {"id", "bad"}, {"status", 42}}});
    b.ops.push_back(
        {records::StorageOp::Kind::Put, records::Store::Outbox, "x", 0, Json::array({1, 2})});
    b.ops.push_back(
        {records::StorageOp::Kind::Put, records::Store::Messages, "good", 1, Json{{"v", 99}}});
    REQUIRE(store.commit(b) == CommitResult::Ok);
    WHEN("the client restores") {
      Host h({}, &store);
      h.boot(false);
      h.client->open_conversation(h.now, "good");
      h.run();
      THEN("the good conversation is there and each bad record is a StorageCorrupt error") {
        auto convs = h.client->conversations();
        REQUIRE(convs.size() == 1);
        CHECK(convs[0].conv.id == "good");
        const auto corrupt = std::count_if(h.errors.begin(), h.errors.end(), [](const Error& e) {
          return e.code == ErrorCode::StorageCorrupt;
        });
        CHECK(corrupt == 3);
      }
    }
  }
}

SCENARIO("Malformed frames become typed errors and leave the store untouched",
         "[client][protocol]") {
  GIVEN("a client with history") {
    Host h;
    h.boot();
    h.deliver(events(0, {message_event(1, server_message("c1", 1, Role::Agent, "keep me"))}));
    const auto before = h.store->all_messages("c1");
    WHEN("garbage arrives") {
      for (const char* junk :
           {"", "{", "[]", "{\"type\":\"events\"}", "{\"type\":\"nope\"}",
            "{\"type\":\"events\",\"from\":0,\"cursor\":\"x\",\"more\":false,\"events\":[]}"}) {
        h.deliver_text(junk);
      }
      THEN("each is a typed error and nothing stored changed") {
        CHECK(h.errors.size() >= 6);
        CHECK(h.store->all_messages("c1") == before);
        CHECK(h.client->cursor() == 1);
      }
    }
  }
}

SCENARIO("An expired token asks the host for a new one and then resumes", "[client][auth]") {
  GIVEN("a connected client with a queued message") {
    Host h;
    h.boot();
    const auto conv = h.client->start_conversation(h.now, "");
    (void)sent_cid(h.client->send(h.now, conv, text("after refresh")));
    h.run();
    auto sends = h.sent<protocol::Send>();
    REQUIRE(sends.size() == 1);
    WHEN("the server answers 401") {
      protocol::ErrorFrame err;
      err.req = sends[0].req;
      err.error = make_error(ErrorCode::Unauthorized, "expired");
      h.deliver(err);
      THEN("the host is asked for a token and nothing is resent until then") {
        CHECK(h.auth_required);
        h.advance(120'000);
        CHECK(h.sent<protocol::Send>().size() == 1);
        AND_WHEN("a fresh token arrives") {
          const auto n = h.frames.size();
          h.client->on_token(h.now, "fresh");
          h.run();
          auto hellos = h.sent<protocol::Hello>(n);
          REQUIRE(hellos.size() == 1);
          CHECK(hellos[0].token == "fresh");
          h.connect();
          THEN("the message goes again with its cid") {
            auto again = h.sent<protocol::Send>();
            REQUIRE(again.size() >= 2);
            CHECK(again.back().cid == sends[0].cid);
            CHECK(h.timeline(conv)[0].state == MessageState::Sending);
          }
        }
      }
    }
  }
}

SCENARIO("Determinism: the same inputs give the same effects", "[client][determinism]") {
  auto run_once = [] {
    Config cfg;
    cfg.seed = 1234;
    Host h(cfg);
    h.boot();
    const auto conv = h.client->start_conversation(h.now, "x");
    for (int i = 0; i < 5; ++i) (void)h.client->send(h.now, conv, text("m" + std::to_string(i)));
    h.run();
    protocol::ErrorFrame err;
    err.req = h.sent<protocol::Send>()[0].req;
    err.error = make_error(ErrorCode::ServerError, "x");
    h.deliver(err);
    h.advance(100'000);
    return std::make_pair(h.frames, h.timers);
  };
  GIVEN("two clients with the same seed and inputs") {
    THEN("they emit identical frames and timers") {
      CHECK(run_once() == run_once());
    }
  }
}

SCENARIO("A page read while an update is uncommitted shows the update, not the stored copy",
         "[client][restore]") {
  GIVEN("a long conversation, its newest page loaded, and storage refusing writes") {
    Config cfg;
    cfg.page_size = 5;
    Host h(cfg);
    h.boot();
    std::vector<protocol::Event> evs;
    for (int i = 1; i <= 12; ++i)
      evs.push_back(message_event(i, server_message("c1", i, Role::Agent, "v1")));
    h.deliver(events(0, evs));
    h.crash_and_restart(3);
    h.boot();
    h.client->open_conversation(h.now, "c1");
    h.run();
    REQUIRE(h.timeline("c1").front().message.seq == 8);
    h.store->fail_next_commits(1000, CommitResult::Aborted);
    WHEN(
        "the agent edits an old message that is stored but not loaded, then the visitor scrolls "
        "up") {
      protocol::Event upd = message_event(13, server_message("c1", 6, Role::Agent, "v2"));
      upd.kind = protocol::EventKind::MessageUpdated;
      h.deliver(events(12, {upd}));
      h.client->load_older(h.now, "c1");
      h.run();
      THEN("the timeline shows the edited text") {
        auto t = h.timeline("c1");
        auto six = std::find_if(t.begin(), t.end(),
                                [](const TimelineItem& i) { return i.message.seq == 6; });
        REQUIRE(six != t.end());
        CHECK(six->message.body.text == "v2");
      }
    }
  }
}

SCENARIO("Memory holds a window of history, not all of it", "[client][memory]") {
  GIVEN("a client with a 100-message window and a page of 10") {
    Config cfg;
    cfg.page_size = 10;
    cfg.memory_window_messages = 100;
    Host h(cfg);
    h.boot();
    h.deliver(events(0, {message_event(1, server_message("open", 1, Role::Agent, "o"))}));
    h.client->open_conversation(h.now, "open");
    h.run();
    WHEN("5,000 messages arrive in the open conversation and in another one") {
      Cursor cur = 1;
      for (int frame = 0; frame < 10; ++frame) {  // frames stay under the 256 KiB limit
        std::vector<protocol::Event> evs;
        for (int i = 0; i < 250; ++i) {
          const Seq seq = frame * 250 + i + 1;
          if (seq > 1)
            evs.push_back(message_event(++cur, server_message("open", seq, Role::Agent, "o")));
          evs.push_back(message_event(++cur, server_message("other", seq, Role::Agent, "x")));
        }
        h.deliver(events(cur - static_cast<Cursor>(evs.size()), evs));
      }
      REQUIRE(h.client->cursor() == 5000);
      THEN("memory holds the window of the open one and a page of the other; storage holds all") {
        CHECK(h.timeline("open").size() == 100);
        CHECK(h.timeline("open").back().message.seq == 2500);
        CHECK(h.timeline("other").size() == 10);
        CHECK(h.client->loaded_message_count() == 110);
        CHECK(h.store->message_count() == 5000);
        CHECK(h.client->unread_total() == 5000);
      }
      AND_WHEN("the visitor scrolls up") {
        h.client->load_older(h.now, "open");
        h.run();
        THEN("older messages page back in from storage") {
          auto t = h.timeline("open");
          CHECK(t.size() == 110);
          CHECK(t.front().message.seq == 2391);
          CHECK(h.sent<protocol::History>().empty());
        }
      }
    }
  }
}

SCENARIO(
    "Handoff: requests are validated, events move control and channels, and show in the timeline",
    "[client][handoff]") {
  GIVEN("a conversation with the bot") {
    Host h;
    h.boot();
    const auto conv = h.client->start_conversation(h.now, "");
    h.run();
    WHEN("the visitor asks to continue by e-mail with a bad address") {
      auto err = h.client->request_handoff(h.now, conv, Channel::Email, "not an address");
      THEN("it is refused with a typed error and nothing is sent") {
        REQUIRE(err.has_value());
        CHECK(err->code == ErrorCode::InvalidField);
        CHECK(h.sent<protocol::HandoffRequest>().empty());
      }
    }
    WHEN("the visitor asks to continue by SMS") {
      REQUIRE_FALSE(
          h.client->request_handoff(h.now, conv, Channel::Sms, "+33 6 12 34 56 78").has_value());
      h.run();
      auto reqs = h.sent<protocol::HandoffRequest>();
      REQUIRE(reqs.size() == 1);
      CHECK(reqs[0].channel == Channel::Sms);
      AND_WHEN("the server confirms with a handoff event to a named agent") {
        protocol::Event ev;
        ev.kind = protocol::EventKind::Handoff;
        ev.cursor = 1;
        ev.conv = conv;
        ev.owner = ControlOwner{ControlOwner::Kind::Agent, "a_7", "Ada", 0};
        ev.channels = {ChannelBinding{Channel::Web, "", true, h.now},
                       ChannelBinding{Channel::Sms, "+33612345678", true, h.now}};
        ev.message = server_message(conv, 1, Role::System, "Continuing by SMS");
        ev.message.body.event = Json{{"type", "handoff"}};
        h.deliver(events(0, {ev}));
        THEN("the conversation has the new owner and channels, and the timeline the handoff line") {
          auto views = h.client->conversations();
          auto v = std::find_if(views.begin(), views.end(),
                                [&](const auto& x) { return x.conv.id == conv; });
          REQUIRE(v != views.end());
          CHECK(v->conv.owner.kind == ControlOwner::Kind::Agent);
          CHECK(v->conv.owner.agent_name == "Ada");
          REQUIRE(v->conv.channels.size() == 2);
          CHECK(v->conv.channels[1].channel == Channel::Sms);
          auto t = h.timeline(conv);
          REQUIRE(t.size() == 1);
          CHECK(t[0].message.author.role == Role::System);
          CHECK(h.client->unread_total() == 0);  // a timeline event is not an unread message
        }
      }
    }
  }
}

SCENARIO("Resume: a token from another device goes with the next hello only", "[client][handoff]") {
  GIVEN("a connected client") {
    Host h;
    h.boot();
    WHEN("the visitor opens a continue-on-this-device link") {
      const auto n = h.frames.size();
      h.client->resume(h.now, "resume-abc");
      h.run();
      THEN("hello carries the resume token, and the next hello after welcome does not") {
        auto hellos = h.sent<protocol::Hello>(n);
        REQUIRE(hellos.size() == 1);
        CHECK(hellos[0].resume_token == "resume-abc");
        h.connect();
        const auto m = h.frames.size();
        h.client->on_disconnected(h.now);
        h.advance(61'000);
        h.client->on_connected(h.now);
        h.run();
        auto later = h.sent<protocol::Hello>(m);
        REQUIRE_FALSE(later.empty());
        CHECK(later.back().resume_token.empty());
      }
    }
  }
}

SCENARIO("Engagement signals reach the backend when the level changes", "[client][engagement]") {
  GIVEN("a connected client whose visitor is away") {
    Host h;
    h.boot();
    auto levels = [&] {
      std::vector<std::string> out;
      for (const auto& e : h.sent<protocol::Engagement>()) out.push_back(e.level);
      return out;
    };
    REQUIRE(levels() == std::vector<std::string>{"away"});
    WHEN("the page becomes visible and focused") {
      h.client->on_visibility(h.now, true);
      h.client->on_focus(h.now, true);
      h.run();
      THEN("each change of level is sent once, and an input that changes nothing sends nothing") {
        auto l = levels();
        CHECK(l == std::vector<std::string>{"away", "medium", "high"});
        h.client->on_focus(h.now, true);
        h.run();
        CHECK(levels().size() == l.size());
      }
    }
  }
}

SCENARIO("Lifecycle prediction: writing into a closed conversation starts a new ticket",
         "[client][lifecycle]") {
  GIVEN("a conversation the server closed") {
    Host h;
    h.boot();
    const auto conv = h.client->start_conversation(h.now, "");
    h.run();
    protocol::Event st;
    st.kind = protocol::EventKind::Status;
    st.cursor = 1;
    st.conv = conv;
    st.status = Status::Closed;
    st.ticket = 3;
    h.deliver(events(0, {st}));
    WHEN("the visitor writes again") {
      (void)sent_cid(h.client->send(h.now, conv, text("one more question")));
      h.run();
      THEN("the conversation continues with a new ticket, predicted by the shared rules") {
        auto views = h.client->conversations();
        REQUIRE(views.size() == 1);
        CHECK(views[0].conv.status == Status::New);
        CHECK(views[0].conv.ticket == 4);
      }
    }
    WHEN("the visitor only says thanks") {
      (void)sent_cid(h.client->send(h.now, conv, text("Thanks!")));
      h.run();
      THEN("the closed ticket is not reopened") {
        CHECK(h.client->conversations()[0].conv.status == Status::Closed);
        CHECK(h.client->conversations()[0].conv.ticket == 3);
      }
    }
  }
}

SCENARIO("A page read includes records still waiting to be committed", "[client][restore]") {
  GIVEN("a stored conversation with an explicit gap at #6, its newest page loaded") {
    Config cfg;
    cfg.page_size = 5;
    Host h(cfg);
    h.boot();
    std::vector<protocol::Event> evs;
    for (int i = 1; i <= 5; ++i)
      evs.push_back(message_event(i, server_message("c1", i, Role::Agent, "m")));
    protocol::Event gap;
    gap.kind = protocol::EventKind::Gap;
    gap.cursor = 6;
    gap.conv = "c1";
    gap.gap = Gap{6, 6};
    evs.push_back(gap);
    for (int i = 7; i <= 12; ++i)
      evs.push_back(message_event(i, server_message("c1", i, Role::Agent, "m")));
    h.deliver(events(0, evs));
    h.crash_and_restart(11);
    h.boot();
    h.client->open_conversation(h.now, "c1");
    h.run();
    REQUIRE(h.timeline("c1").front().message.seq == 8);
    WHEN("the gap is backfilled while storage refuses writes, and the visitor scrolls up") {
      h.store->fail_next_commits(1000, CommitResult::Aborted);
      auto hist = h.sent<protocol::History>();
      REQUIRE_FALSE(hist.empty());
      protocol::Page p;
      p.req = hist.back().req;
      p.conv = "c1";
      p.messages = {server_message("c1", 6, Role::Agent, "six")};
      p.complete = true;
      h.deliver(p);
      h.client->load_older(h.now, "c1");
      h.run();
      THEN("the timeline has no hole: #6 comes from the pending write") {
        std::vector<Seq> seqs;
        for (const auto& t : h.timeline("c1")) seqs.push_back(t.message.seq);
        CHECK(seqs == std::vector<Seq>{2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
      }
    }
  }
}

SCENARIO("Determinism across platforms: the same seed gives the same ids natively and in wasm",
         "[client][determinism]") {
  GIVEN("a fresh client with seed 42 on an empty store") {
    Config cfg;
    cfg.seed = 42;
    cfg.device = "d_fixed";
    Host h(cfg);
    h.boot(false);
    WHEN("it starts a conversation and sends a message") {
      const auto conv = h.client->start_conversation(h.now, "x");
      const auto cid = sent_cid(h.client->send(h.now, conv, text("hi")));
      THEN("the ids are the golden ones (this suite also runs compiled to wasm)") {
        CHECK(conv == "c_1ab8ee2b4065549160e1a0b4385d67cc");
        CHECK(cid == "k_8969ea30ad6c33dd2b477875233728af");
      }
    }
  }
}

SCENARIO("Sign-in: the hellos until the next welcome carry the anonymous token to merge",
         "[client][identity]") {
  GIVEN("an anonymous visitor, welcomed with token t1") {
    Host h;
    h.boot();
    const auto n = h.frames.size();
    WHEN("the visitor signs in") {
      h.client->identify(h.now, "t_signed");
      h.run();
      THEN("the hello carries the new token, and the one held before as merge_token") {
        auto hellos = h.sent<protocol::Hello>(n);
        REQUIRE(hellos.size() == 1);
        CHECK(hellos[0].token == "t_signed");
        CHECK(hellos[0].merge_token == "t1");
        // Persisted with the token, so a reload before the welcome still merges.
        CHECK(h.store->meta().value("merge_token", std::string()) == "t1");
        CHECK(h.store->meta().value("identity_pending", false));
      }
      AND_WHEN("the handshake times out and the client reconnects before any welcome") {
        h.advance(h.config.request_timeout_ms + 1);
        h.advance(61'000);
        const auto m = h.frames.size();
        h.client->on_connected(h.now);
        h.run();
        THEN("the new hello still carries it") {
          auto hellos = h.sent<protocol::Hello>(m);
          REQUIRE(hellos.size() == 1);
          CHECK(hellos[0].token == "t_signed");
          CHECK(hellos[0].merge_token == "t1");
        }
      }
      AND_WHEN("the signed-in token is refused and the host supplies a fresh one") {
        protocol::ErrorFrame err;
        err.error = make_error(ErrorCode::Unauthorized, "bad token");
        h.deliver(err);
        REQUIRE(h.auth_required);
        const auto m = h.frames.size();
        h.client->on_token(h.now, "t_signed_2");
        h.run();
        THEN("the merge is still asked for, with the anonymous token") {
          auto hellos = h.sent<protocol::Hello>(m);
          REQUIRE(hellos.size() == 1);
          CHECK(hellos[0].token == "t_signed_2");
          CHECK(hellos[0].merge_token == "t1");
        }
      }
      AND_WHEN("the welcome for the identified user comes") {
        protocol::Welcome w;
        w.user = "u_signed";
        w.token = "t_signed";
        w.server_time = h.now;
        h.deliver(w);
        REQUIRE(h.client->user() == "u_signed");
        h.client->on_disconnected(h.now);
        h.advance(61'000);
        const auto m = h.frames.size();
        h.client->on_connected(h.now);
        h.run();
        THEN("later hellos no longer carry a merge_token") {
          auto hellos = h.sent<protocol::Hello>(m);
          REQUIRE_FALSE(hellos.empty());
          CHECK(hellos.back().token == "t_signed");
          CHECK(hellos.back().merge_token.empty());
        }
      }
    }
    WHEN("identify() is called twice before a welcome") {
      h.client->identify(h.now, "t_a");
      h.client->identify(h.now, "t_b");
      h.run();
      THEN("the merge names the anonymous token, not the first sign-in's") {
        auto hellos = h.sent<protocol::Hello>(n);
        REQUIRE(hellos.size() == 2);
        CHECK(hellos[1].token == "t_b");
        CHECK(hellos[1].merge_token == "t1");
      }
    }
    WHEN("identify() is given the token already held") {
      h.client->identify(h.now, "t1");
      h.run();
      THEN("there is nothing to merge") {
        auto hellos = h.sent<protocol::Hello>(n);
        REQUIRE(hellos.size() == 1);
        CHECK(hellos[0].merge_token.empty());
      }
    }
  }
  GIVEN("a first run, before any welcome (no token yet)") {
    Host h;
    h.boot(/*handshake=*/false);
    h.client->identify(h.now, "t_signed");
    h.client->on_connected(h.now);
    h.run();
    THEN("the hello has no merge_token") {
      auto hellos = h.sent<protocol::Hello>();
      REQUIRE_FALSE(hellos.empty());
      CHECK(hellos.back().token == "t_signed");
      CHECK(hellos.back().merge_token.empty());
    }
  }
  GIVEN("a stored anonymous identity, and identify() called before the restore finishes") {
    Host h;
    h.boot();
    h.crash_and_restart(7);
    h.client->start(h.now);
    h.client->identify(h.now, "t_signed");  // the restore read is not answered yet
    h.run();
    h.client->on_connected(h.now);
    h.run();
    THEN("the hello merges the stored token") {
      auto hellos = h.sent<protocol::Hello>();
      REQUIRE_FALSE(hellos.empty());
      CHECK(hellos.back().token == "t_signed");
      CHECK(hellos.back().merge_token == "t1");
    }
  }
}

SCENARIO("Business hours: the welcome's availability is kept and marks the view",
         "[client][hours]") {
  GIVEN("a restored client, not yet welcomed") {
    Host h;
    h.boot(/*handshake=*/false);
    CHECK_FALSE(h.client->availability().has_value());
    const hours::Availability closed{false, 47 * 3'600'000LL, h.now + 45 * 3'600'000LL};
    auto welcome = [&](std::optional<hours::Availability> a, std::string user = "u1") {
      h.client->on_connected(h.now);
      h.run();
      protocol::Welcome w;
      w.user = user;
      w.token = "t." + user;
      w.server_time = h.now;
      w.availability = a;
      h.deliver(w);
    };
    WHEN("the welcome says the team is closed") {
      welcome(closed);
      THEN("the client exposes it and says the view changed") {
        CHECK(h.client->availability() == std::optional<hours::Availability>(closed));
        CHECK(h.availability_changes == 1);
      }
      AND_WHEN("a later welcome says the same") {
        h.client->on_disconnected(h.now);
        h.run();
        welcome(closed);
        THEN("the view is not marked again") {
          CHECK(h.availability_changes == 1);
        }
      }
      AND_WHEN("a later welcome says the team is open") {
        const hours::Availability open{true, 7'200'000, h.now + 3'600'000};
        h.client->on_disconnected(h.now);
        h.run();
        welcome(open);
        THEN("it is replaced and the view marked") {
          CHECK(h.client->availability() == std::optional<hours::Availability>(open));
          CHECK(h.availability_changes == 2);
        }
      }
      AND_WHEN("a later welcome has no availability") {
        h.client->on_disconnected(h.now);
        h.run();
        welcome(std::nullopt);
        THEN("it is unknown again, and the view marked") {
          CHECK_FALSE(h.client->availability().has_value());
          CHECK(h.availability_changes == 2);
        }
      }
      AND_WHEN("a welcome for another identity is refused") {
        h.client->on_disconnected(h.now);
        h.run();
        welcome(hours::Availability{true, 1, 0}, "u_other");
        THEN("its availability is not taken") {
          CHECK(h.client->availability() == std::optional<hours::Availability>(closed));
          CHECK(h.availability_changes == 1);
        }
      }
      AND_WHEN("the visitor logs out") {
        h.client->logout(h.now);
        h.run();
        THEN("it is forgotten") {
          CHECK_FALSE(h.client->availability().has_value());
          CHECK(h.availability_changes == 2);
        }
      }
    }
    WHEN("the welcome has no availability") {
      welcome(std::nullopt);
      THEN("nothing changes") {
        CHECK_FALSE(h.client->availability().has_value());
        CHECK(h.availability_changes == 0);
      }
    }
  }
}
