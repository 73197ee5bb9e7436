// Storage records and their migrations, tested from v1 fixtures (tests/fixtures/records_v1).
#include <catch2/catch.hpp>

#include "fixtures.hpp"
#include "host.hpp"
#include "parley/records.hpp"

using namespace parley;
using namespace parley::testing;
using records::Store;

namespace {

template <class T>
const T& ok(const std::variant<T, Error>& v) {
  if (auto* e = std::get_if<Error>(&v)) FAIL("decode failed: " << e->message);
  return std::get<T>(v);
}

records::StorageOp put(Store store, std::string key, Json value, Seq seq = 0) {
  return records::StorageOp{records::StorageOp::Kind::Put, store, std::move(key), seq,
                            std::move(value)};
}

}  // namespace

TEST_CASE("Fixtures load", "[records][migration]") {
  for (const char* f : {"meta", "conversation", "message", "outbox"}) {
    INFO(f);
    auto j = fixture_json(std::string("fixtures/records_v1/") + f + ".json");
    REQUIRE(j.is_object());
    CHECK_FALSE(j.contains("v"));  // v1 records predate the version field
  }
}

TEST_CASE("G8 migration v1 -> v2: messages get an author object and a ticket",
          "[records][migration][guarantee8]") {
  auto v1 = fixture_json("fixtures/records_v1/message.json");
  auto v2 = records::migrate_v1_to_v2(Store::Messages, v1);
  CHECK(v2["v"] == 2);
  CHECK(v2["author"]["role"] == "agent");
  CHECK(v2["author"]["id"] == "a_7");
  CHECK(v2["author"]["name"] == "Ada");
  CHECK_FALSE(v2.contains("author_id"));
  CHECK(v2["ticket"] == 1);
  const Message m = ok(records::message_from_json(v1));
  CHECK(m.conv == "c_legacy");
  CHECK(m.seq == 12);
  CHECK(m.author.role == Role::Agent);
  CHECK(m.author.name == "Ada");
  CHECK(m.cid.empty());
  CHECK(m.body.text == "Your parcel left the warehouse.");
}

TEST_CASE("G8 migration v1 -> v2: conversations get gaps and stored_count; outbox gets depends_on",
          "[records][migration][guarantee8]") {
  auto c =
      ok(records::conversation_from_json(fixture_json("fixtures/records_v1/conversation.json")));
  CHECK(c.id == "c_legacy");
  CHECK(c.status == Status::Pending);
  CHECK(c.style == ConversationalStyle::LiveChatReturning);
  CHECK(c.owner.kind == ControlOwner::Kind::Agent);
  CHECK(c.owner.agent_name == "Ada");
  CHECK(c.gaps.empty());
  CHECK(c.stored_count == 0);
  CHECK(c.read_seq == 10);
  auto o = ok(records::outbox_from_json(fixture_json("fixtures/records_v1/outbox.json")));
  CHECK(o.cid == "k_legacy");
  CHECK(o.attempts == 2);
  CHECK(o.depends_on.empty());
  CHECK(o.body.text == "Thanks, when will it arrive?");
  auto m = ok(records::meta_from_json(fixture_json("fixtures/records_v1/meta.json")));
  CHECK(m.cursor == 41);
  CHECK(m.open_conv == "c_legacy");
}

TEST_CASE("G8 migrations are idempotent and refuse unknown versions",
          "[records][migration][guarantee8]") {
  auto v1 = fixture_json("fixtures/records_v1/message.json");
  auto once = std::get<Json>(records::migrate(Store::Messages, v1));
  auto twice = std::get<Json>(records::migrate(Store::Messages, once));
  CHECK(once == twice);
  // Round trip through the current encoder is stable.
  auto m = ok(records::message_from_json(v1));
  CHECK(ok(records::message_from_json(records::to_json(m))) == m);
  for (Json bad : {Json{{"v", 3}}, Json{{"v", 0}}, Json::array(), Json("x")}) {
    auto r = records::migrate(Store::Messages, bad);
    REQUIRE(std::holds_alternative<Error>(r));
    CHECK(std::get<Error>(r).code == ErrorCode::StorageCorrupt);
  }
}

SCENARIO("G8 a v1 store is restored, used, and upgraded lazily (resumable)",
         "[records][migration][guarantee8]") {
  GIVEN(
      "a store written by schema v1, with one record already upgraded (an interrupted migration)") {
    MemoryStore store;
    records::StorageBatch b;
    b.ops.push_back(put(Store::Meta, "meta", fixture_json("fixtures/records_v1/meta.json")));
    b.ops.push_back(put(Store::Conversations, "c_legacy",
                        fixture_json("fixtures/records_v1/conversation.json")));
    b.ops.push_back(
        put(Store::Outbox, "k_legacy", fixture_json("fixtures/records_v1/outbox.json")));
    auto m12 = fixture_json("fixtures/records_v1/message.json");
    b.ops.push_back(put(Store::Messages, "c_legacy", m12, 12));
    auto m11 = records::migrate_v1_to_v2(Store::Messages, m12);  // already v2
    m11["seq"] = 11;
    m11["id"] = "m_11";
    b.ops.push_back(put(Store::Messages, "c_legacy", m11, 11));
    REQUIRE(store.commit(b) == records::CommitResult::Ok);

    WHEN("a current client starts on it") {
      Host h({}, &store);
      h.boot(/*handshake=*/false);
      h.client->on_connected(h.now);
      h.run();
      THEN("it resumes from the v1 cursor and shows the v1 history") {
        auto hellos = h.sent<protocol::Hello>();
        REQUIRE(hellos.size() == 1);
        CHECK(hellos[0].cursor == 41);
        CHECK(hellos[0].token == "tok-legacy");
        CHECK(hellos[0].device == "d_legacy");
        auto t = h.timeline("c_legacy");
        REQUIRE(t.size() == 3);  // two stored messages and the queued one
        CHECK(t[0].message.seq == 11);
        CHECK(t[1].message.body.text == "Your parcel left the warehouse.");
        CHECK(t[2].key == "k_legacy");
        CHECK(t[2].state == MessageState::Queued);
        CHECK(h.errors.empty());
      }
      THEN("the records it read are written back as v2, the rest stay as they are") {
        CHECK(store.meta()["v"] == 2);
        CHECK(store.conversations()[0]["v"] == 2);
        CHECK(store.outbox()[0]["v"] == 2);
        auto msgs = store.all_messages("c_legacy");
        REQUIRE(msgs.size() == 2);
        CHECK(msgs[1]["v"] == 2);
        CHECK(msgs[1]["author"].is_object());
      }
      AND_WHEN("the handshake completes") {
        protocol::Welcome w;
        w.user = "u_legacy";
        w.token = "tok-legacy";
        w.cursor = 41;
        h.deliver(w);
        THEN("the v1 outbox message is sent with its original client id") {
          auto sends = h.sent<protocol::Send>();
          REQUIRE(sends.size() == 1);
          CHECK(sends[0].cid == "k_legacy");
          CHECK(sends[0].conv == "c_legacy");
        }
      }
    }
  }
}
