// libFuzzer target for the storage record decoders (records.hpp).
//
// Stored records can be corrupt or come from another version. Any input must decode to a
// record or to a typed StorageCorrupt error without crashing, and every record that
// decodes must survive a round trip through the current encoder unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "parley/records.hpp"

namespace {

using namespace parley;

[[noreturn]] void die(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_records: %s\n%s\n", what, detail.c_str());
  std::abort();
}

template <class T, class Decode>
void check(const Json& in, Decode decode) {
  auto first = decode(in);
  if (auto* e = std::get_if<Error>(&first)) {
    if (e->code != ErrorCode::StorageCorrupt)
      die("decode error is not storage_corrupt", e->message);
    return;
  }
  const T& rec = std::get<T>(first);
  const Json encoded = records::to_json(rec);
  auto second = decode(encoded);
  if (!std::holds_alternative<T>(second)) die("re-encoded record does not decode", encoded.dump());
  if (records::to_json(std::get<T>(second)) != encoded)
    die("round trip changed the record", encoded.dump());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Json in = Json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (in.is_discarded()) return 0;
  check<records::Meta>(in, records::meta_from_json);
  check<Conversation>(in, records::conversation_from_json);
  check<Message>(in, records::message_from_json);
  check<records::OutboxRecord>(in, records::outbox_from_json);
  return 0;
}
