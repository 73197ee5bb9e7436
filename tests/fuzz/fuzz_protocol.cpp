// libFuzzer target for the protocol v1 codec.
//
// Any input must decode to a frame or to a typed error, on both sides, without crashing.
// Every successful decode must be stable: encoding it and decoding that again succeeds and
// encodes to the very same text (so no field is lost, added or altered by a round trip).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "parley/protocol.hpp"

namespace {

using namespace parley;
using namespace parley::protocol;

[[noreturn]] void die(const char* what, std::string_view detail) {
  std::fprintf(stderr, "fuzz_protocol: %s\n%.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

template <class Frame>
void check(const Decoded<Frame>& first, Decoded<Frame> (*decode)(std::string_view)) {
  if (!first.ok()) {
    if (to_string(first.error().code).empty()) die("error without a known code", {});
    if (first.error().message.empty()) die("error without a message", {});
    return;
  }
  const std::string once = encode(first.frame());
  const Decoded<Frame> second = decode(once);
  if (!second.ok()) {
    // Encoding writes every required field in full, so a frame close to the limit may grow
    // past it; that, and only that, may fail on re-decoding.
    if (once.size() > kMaxFrameBytes && second.error().code == ErrorCode::FrameTooLarge) return;
    die("re-decoding an encoded frame failed", second.error().message);
  }
  if (second.frame().index() != first.frame().index()) die("frame type changed", once);
  if (encode(second.frame()) != once) die("round trip is not stable", once);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check(decode_client(text), decode_client);
  check(decode_server(text), decode_server);
  return 0;
}
