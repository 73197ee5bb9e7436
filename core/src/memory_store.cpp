#include "parley/memory_store.hpp"

#include <limits>

namespace parley {

using records::CommitResult;
using records::StorageOp;
using records::Store;

namespace {
std::size_t json_bytes(const Json& j) {
  return j.dump().size();
}
}  // namespace

CommitResult MemoryStore::commit(const records::StorageBatch& batch) {
  if (fail_n_ > 0) {
    --fail_n_;
    return fail_how_;
  }
  if (quota_ == 0) {  // nothing can fail part-way: apply in place
    apply(batch, meta_, conversations_, outbox_, blobs_, messages_);
    return CommitResult::Ok;
  }
  // Apply to copies so a quota failure leaves the store untouched: all or nothing.
  auto meta = meta_;
  auto conversations = conversations_;
  auto outbox = outbox_;
  auto blobs = blobs_;
  auto messages = messages_;
  apply(batch, meta, conversations, outbox, blobs, messages);
  std::size_t bytes = 0;
  for (const auto* m : {&meta, &conversations, &outbox, &blobs}) {
    for (const auto& [k, v] : *m) bytes += k.size() + json_bytes(v);
  }
  for (const auto& [k, v] : messages) bytes += k.first.size() + 8 + json_bytes(v);
  if (bytes > quota_) return CommitResult::QuotaExceeded;
  meta_ = std::move(meta);
  conversations_ = std::move(conversations);
  outbox_ = std::move(outbox);
  blobs_ = std::move(blobs);
  messages_ = std::move(messages);
  bytes_ = bytes;
  return CommitResult::Ok;
}

void MemoryStore::apply(const records::StorageBatch& batch, KeyedStore& meta,
                        KeyedStore& conversations, KeyedStore& outbox, KeyedStore& blobs,
                        MessageStore& messages) {
  auto map_for = [&](Store s) -> KeyedStore& {
    switch (s) {
      case Store::Meta:
        return meta;
      case Store::Conversations:
        return conversations;
      case Store::Outbox:
        return outbox;
      case Store::Blobs:
        return blobs;
      case Store::Messages:
        break;
    }
    return blobs;  // unreachable for Messages
  };
  for (const StorageOp& op : batch.ops) {
    if (op.store == Store::Messages) {
      switch (op.kind) {
        case StorageOp::Kind::Put:
          messages[{op.key, op.seq}] = op.value;
          break;
        case StorageOp::Kind::Delete:
          messages.erase({op.key, op.seq});
          break;
        case StorageOp::Kind::DeleteRange: {
          auto lo = messages.lower_bound({op.key, std::numeric_limits<Seq>::min()});
          auto hi = messages.lower_bound({op.key, op.seq});
          messages.erase(lo, hi);
          break;
        }
        case StorageOp::Kind::Clear:
          messages.clear();
          break;
      }
      continue;
    }
    auto& m = map_for(op.store);
    switch (op.kind) {
      case StorageOp::Kind::Put:
        m[op.key] = op.value;
        break;
      case StorageOp::Kind::Delete:
        m.erase(op.key);
        break;
      case StorageOp::Kind::DeleteRange:
        m.erase(op.key);
        break;
      case StorageOp::Kind::Clear:
        m.clear();
        break;
    }
  }
}

Json MemoryStore::meta() const {
  auto it = meta_.find("meta");
  return it == meta_.end() ? Json() : it->second;
}

std::vector<Json> MemoryStore::conversations() const {
  std::vector<Json> out;
  for (const auto& [k, v] : conversations_) out.push_back(v);
  return out;
}

std::vector<Json> MemoryStore::outbox() const {
  std::vector<Json> out;
  for (const auto& [k, v] : outbox_) out.push_back(v);
  return out;
}

std::vector<Json> MemoryStore::page(const std::string& conv, Seq before, std::size_t limit) const {
  const Seq upper = before == 0 ? std::numeric_limits<Seq>::max() : before;
  auto lo = messages_.lower_bound({conv, std::numeric_limits<Seq>::min()});
  auto it = messages_.lower_bound({conv, upper});
  std::vector<Json> out;
  while (it != lo && out.size() < limit) {
    --it;
    out.push_back(it->second);
  }
  return {out.rbegin(), out.rend()};
}

std::vector<Json> MemoryStore::all_messages(const std::string& conv) const {
  return page(conv, 0, std::numeric_limits<std::size_t>::max());
}

}  // namespace parley
