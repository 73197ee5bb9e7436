// In-memory implementation of the storage contract. Used natively by tests, the simulator and
// the benchmarks, and as the model the IndexedDB store must match (storage contract suite).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "parley/records.hpp"

namespace parley {

class MemoryStore {
 public:
  // Applies every op of the batch, or none of them (atomic).
  records::CommitResult commit(const records::StorageBatch& batch);

  // Reads used to answer the core's storage-read effects.
  Json meta() const;  // null if absent
  std::vector<Json> conversations() const;
  std::vector<Json> outbox() const;
  // Up to `limit` messages of `conv` with seq < before (0 = newest), ascending.
  std::vector<Json> page(const std::string& conv, Seq before, std::size_t limit) const;
  std::vector<Json> all_messages(const std::string& conv) const;  // ascending
  std::size_t message_count() const { return messages_.size(); }
  std::size_t byte_size() const { return bytes_; }  // tracked only with a quota set

  // Fault injection and limits (tests and simulator).
  void set_quota_bytes(std::size_t q) { quota_ = q; }  // 0 = unlimited
  void fail_next_commits(int n, records::CommitResult how) { fail_n_ = n, fail_how_ = how; }

 private:
  using KeyedStore = std::map<std::string, Json>;
  using MessageStore = std::map<std::pair<std::string, Seq>, Json>;
  static void apply(const records::StorageBatch& batch, KeyedStore& meta, KeyedStore& conversations,
                    KeyedStore& outbox, KeyedStore& blobs, MessageStore& messages);
  KeyedStore meta_, conversations_, outbox_, blobs_;
  MessageStore messages_;
  std::size_t bytes_ = 0;
  std::size_t quota_ = 0;
  int fail_n_ = 0;
  records::CommitResult fail_how_ = records::CommitResult::Aborted;
};

}  // namespace parley
