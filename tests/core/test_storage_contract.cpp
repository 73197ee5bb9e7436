// The storage contract suite (tests/contract/storage_contract.json) run against MemoryStore.
// The IndexedDB store runs the same file in Chromium.
#include <catch2/catch.hpp>

#include "fixtures.hpp"
#include "parley/memory_store.hpp"

using namespace parley;
using records::CommitResult;
using records::StorageOp;
using records::Store;

namespace {

Store store_named(const std::string& s) {
  for (Store st :
       {Store::Meta, Store::Conversations, Store::Messages, Store::Outbox, Store::Blobs}) {
    if (records::to_string(st) == s) return st;
  }
  FAIL("unknown store " << s);
  return Store::Meta;
}

StorageOp::Kind kind_named(const std::string& s) {
  if (s == "put") return StorageOp::Kind::Put;
  if (s == "delete") return StorageOp::Kind::Delete;
  if (s == "delete_range") return StorageOp::Kind::DeleteRange;
  if (s == "clear") return StorageOp::Kind::Clear;
  FAIL("unknown op " << s);
  return StorageOp::Kind::Put;
}

CommitResult result_named(const std::string& s) {
  if (s == "ok") return CommitResult::Ok;
  if (s == "aborted") return CommitResult::Aborted;
  if (s == "quota_exceeded") return CommitResult::QuotaExceeded;
  FAIL("unknown result " << s);
  return CommitResult::Ok;
}

std::vector<std::string> keys_of(const std::vector<Json>& records, const char* field) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(r.value(field, ""));
  return out;
}

void run_case(const Json& c) {
  MemoryStore store;
  for (const auto& step : c["steps"]) {
    if (step.contains("commit")) {
      records::StorageBatch b;
      for (const auto& op : step["commit"]) {
        b.ops.push_back(StorageOp{kind_named(op["op"]), store_named(op["store"]),
                                  op.value("key", ""), op.value("seq", Seq{0}),
                                  op.value("value", Json())});
      }
      CHECK(store.commit(b) == result_named(step["result"]));
    } else if (step.contains("fail_next")) {
      store.fail_next_commits(1, result_named(step["fail_next"]));
    } else if (step.contains("quota_bytes")) {
      store.set_quota_bytes(step["quota_bytes"].get<std::size_t>());
    } else if (step.contains("expect")) {
      const Json& e = step["expect"];
      if (e.contains("meta")) CHECK(store.meta() == e["meta"]);
      if (e.contains("conversations")) {
        CHECK(keys_of(store.conversations(), "id") ==
              e["conversations"].get<std::vector<std::string>>());
      }
      if (e.contains("outbox"))
        CHECK(keys_of(store.outbox(), "cid") == e["outbox"].get<std::vector<std::string>>());
      if (e.contains("message_count"))
        CHECK(store.message_count() == e["message_count"].get<std::size_t>());
      if (e.contains("page")) {
        const Json& p = e["page"];
        auto page = store.page(p["conv"], p["before"].get<Seq>(), p["limit"].get<std::size_t>());
        std::vector<Seq> seqs;
        std::vector<std::string> texts;
        for (const auto& m : page) {
          seqs.push_back(m["seq"].get<Seq>());
          texts.push_back(m.value("text", ""));
        }
        CHECK(seqs == p["seqs"].get<std::vector<Seq>>());
        if (p.contains("texts")) CHECK(texts == p["texts"].get<std::vector<std::string>>());
      }
    } else {
      FAIL("unknown step " << step.dump());
    }
  }
}

}  // namespace

TEST_CASE("Storage contract: MemoryStore", "[storage][contract]") {
  const Json suite = parley::testing::fixture_json("contract/storage_contract.json");
  REQUIRE(suite.is_object());
  REQUIRE(suite["cases"].size() >= 7);
  for (const auto& c : suite["cases"]) {
    SECTION(c["name"].get<std::string>()) {
      run_case(c);
    }
  }
}
