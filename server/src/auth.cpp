// Server tokens and HS256 JWT verification. See auth.hpp.
#include "auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <climits>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

namespace parley::server {
namespace {

constexpr std::string_view kServerPrefix = "pv1.";
constexpr std::size_t kMacBytes = 32;  // SHA-256
// NumericDate upper bound: 9999-12-31T23:59:59Z. Keeps seconds * 1000 far from overflow.
constexpr std::int64_t kMaxNumericDate = 253402300799;

using Mac = std::array<unsigned char, kMacBytes>;

Error unauthorized(std::string_view message) {
  return make_error(ErrorCode::Unauthorized, std::string(message));
}

// HMAC-SHA256 through libcrypto. nullopt only if OpenSSL itself fails (or the key is
// absurdly long for its int length parameter).
std::optional<Mac> hmac_sha256(std::string_view key, std::string_view data) {
  if (key.size() > static_cast<std::size_t>(INT_MAX)) return std::nullopt;
  static const unsigned char kEmpty[1] = {0};
  const void* key_ptr = key.empty() ? static_cast<const void*>(kEmpty) : key.data();
  const auto* data_ptr =
      data.empty() ? kEmpty : reinterpret_cast<const unsigned char*>(data.data());
  Mac mac{};
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key_ptr, static_cast<int>(key.size()), data_ptr, data.size(), mac.data(),
           &len) == nullptr ||
      len != kMacBytes) {
    return std::nullopt;
  }
  return mac;
}

std::string mac_b64(std::string_view key, std::string_view data) {
  const auto mac = hmac_sha256(key, data);
  if (!mac) return {};
  return base64url_encode(
      std::string_view(reinterpret_cast<const char*>(mac->data()), mac->size()));
}

// True when the decoded signature `sig` equals HMAC-SHA256(key, data); constant time in the
// contents. An empty key never verifies (an unconfigured secret must not accept anything).
bool mac_matches(std::string_view key, std::string_view data, const std::string& sig) {
  if (key.empty() || sig.size() != kMacBytes) return false;
  const auto mac = hmac_sha256(key, data);
  if (!mac) return false;
  return CRYPTO_memcmp(mac->data(), sig.data(), kMacBytes) == 0;
}

std::vector<std::string_view> split_dots(std::string_view s) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const auto dot = s.find('.', start);
    if (dot == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, dot - start));
    start = dot + 1;
  }
}

// Parses a JSON object; nullopt for anything else (never throws).
std::optional<Json> parse_object(std::string_view text) {
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

std::string dump(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

const Json* field(const Json& obj, const char* key) {
  const auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

// A JWT NumericDate (seconds, integer or fractional) as milliseconds; nullopt when out of
// [0, kMaxNumericDate]. The caller has checked is_number().
std::optional<TimeMs> numeric_date_ms(const Json& v) {
  if (v.is_number_unsigned()) {
    const auto s = v.get<std::uint64_t>();
    if (s > static_cast<std::uint64_t>(kMaxNumericDate)) return std::nullopt;
    return static_cast<TimeMs>(s) * 1000;
  }
  if (v.is_number_integer()) {
    const auto s = v.get<std::int64_t>();
    if (s < 0 || s > kMaxNumericDate) return std::nullopt;
    return s * 1000;
  }
  const auto d = v.get<double>();
  if (!std::isfinite(d) || d < 0 || d > static_cast<double>(kMaxNumericDate)) return std::nullopt;
  return static_cast<TimeMs>(std::floor(d * 1000.0));
}

std::variant<TokenClaims, Error> verify_token_impl(std::string_view secret,
                                                   std::string_view token) {
  if (token.empty() || token.size() > kMaxTokenBytes || !token.starts_with(kServerPrefix)) {
    return unauthorized(auth_msg::kMalformed);
  }
  const auto parts = split_dots(token.substr(kServerPrefix.size()));
  if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
    return unauthorized(auth_msg::kMalformed);
  }
  std::string payload;
  std::string sig;
  if (!base64url_decode(parts[0], payload) || !base64url_decode(parts[1], sig)) {
    return unauthorized(auth_msg::kMalformed);
  }
  const auto signed_part = token.substr(0, kServerPrefix.size() + parts[0].size());
  if (!mac_matches(secret, signed_part, sig)) return unauthorized(auth_msg::kBadSignature);

  const auto obj = parse_object(payload);
  if (!obj) return unauthorized(auth_msg::kMalformed);
  const Json* app = field(*obj, "app");
  const Json* user = field(*obj, "user");
  const Json* anon = field(*obj, "anon");
  const Json* iat = field(*obj, "iat");
  const Json* nonce = field(*obj, "nonce");
  if (!app || !app->is_string() || !user || !user->is_string() || !anon || !anon->is_boolean() ||
      !iat || !iat->is_number_integer() || !nonce || !nonce->is_string()) {
    return unauthorized(auth_msg::kMalformed);
  }
  TokenClaims c;
  c.app = app->get<std::string>();
  c.user = user->get<std::string>();
  c.anonymous = anon->get<bool>();
  c.nonce = nonce->get<std::string>();
  if (iat->is_number_unsigned()) {
    const auto u = iat->get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<TimeMs>::max())) {
      return unauthorized(auth_msg::kMalformed);
    }
    c.issued = static_cast<TimeMs>(u);
  } else {
    c.issued = iat->get<TimeMs>();
  }
  if (c.app.empty() || c.user.empty() || c.issued < 0) return unauthorized(auth_msg::kMalformed);
  return c;
}

std::variant<JwtClaims, Error> verify_jwt_impl(std::string_view secret, std::string_view audience,
                                               std::string_view jwt, TimeMs now) {
  if (jwt.empty() || jwt.size() > kMaxTokenBytes) return unauthorized(auth_msg::kMalformed);
  const auto parts = split_dots(jwt);
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty()) {
    return unauthorized(auth_msg::kMalformed);
  }

  // Header first: only HS256 is acceptable, whatever the rest of the token says.
  std::string header_text;
  if (!base64url_decode(parts[0], header_text)) return unauthorized(auth_msg::kMalformed);
  const auto header = parse_object(header_text);
  if (!header) return unauthorized(auth_msg::kMalformed);
  const Json* alg = field(*header, "alg");
  if (!alg || !alg->is_string() || alg->get_ref<const std::string&>() != "HS256") {
    return unauthorized(auth_msg::kUnsupportedAlg);
  }
  if (const Json* typ = field(*header, "typ"); typ && !typ->is_string()) {
    return unauthorized(auth_msg::kMalformed);
  }
  // RFC 7515 §4.1.11: extensions we do not understand must be rejected.
  if (field(*header, "crit")) return unauthorized(auth_msg::kMalformed);

  // Signature over the exact text "header.payload", before the payload is even parsed.
  std::string payload_text;
  std::string sig;
  if (!base64url_decode(parts[1], payload_text) || !base64url_decode(parts[2], sig)) {
    return unauthorized(auth_msg::kMalformed);
  }
  const auto signing_input = jwt.substr(0, parts[0].size() + 1 + parts[1].size());
  if (!mac_matches(secret, signing_input, sig)) return unauthorized(auth_msg::kBadSignature);

  const auto claims = parse_object(payload_text);
  if (!claims) return unauthorized(auth_msg::kMalformed);
  JwtClaims out;

  const Json* exp = field(*claims, "exp");
  if (!exp || !exp->is_number()) return unauthorized(auth_msg::kMissingExp);
  const auto exp_ms = numeric_date_ms(*exp);
  if (!exp_ms) return unauthorized(auth_msg::kMalformed);
  if (*exp_ms <= now) return unauthorized(auth_msg::kExpired);
  out.exp = *exp_ms;

  if (const Json* nbf = field(*claims, "nbf"); nbf && !nbf->is_null()) {
    if (!nbf->is_number()) return unauthorized(auth_msg::kMalformed);
    const auto nbf_ms = numeric_date_ms(*nbf);
    if (!nbf_ms) return unauthorized(auth_msg::kMalformed);
    if (*nbf_ms > now) return unauthorized(auth_msg::kNotYetValid);
  }

  const Json* aud = field(*claims, "aud");
  bool aud_ok = false;
  if (aud && aud->is_string()) {
    aud_ok = aud->get_ref<const std::string&>() == audience;
  } else if (aud && aud->is_array()) {
    for (const auto& a : *aud) {
      if (!a.is_string()) return unauthorized(auth_msg::kMalformed);
      if (a.get_ref<const std::string&>() == audience) aud_ok = true;
    }
  } else if (aud && !aud->is_null()) {
    return unauthorized(auth_msg::kMalformed);
  }
  if (audience.empty() || !aud_ok) return unauthorized(auth_msg::kWrongAudience);
  out.aud = std::string(audience);

  const Json* sub = field(*claims, "sub");
  if (!sub || !sub->is_string() || sub->get_ref<const std::string&>().empty()) {
    return unauthorized(auth_msg::kMissingSub);
  }
  if (sub->get_ref<const std::string&>().size() > kMaxSubBytes) {
    return unauthorized(auth_msg::kInvalidSub);
  }
  out.sub = sub->get<std::string>();

  if (const Json* name = field(*claims, "name"); name && !name->is_null()) {
    if (!name->is_string() || name->get_ref<const std::string&>().size() > kMaxNameBytes) {
      return unauthorized(auth_msg::kInvalidName);
    }
    out.name = name->get<std::string>();
  }
  return out;
}

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  const auto byte = [&](std::size_t k) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[k]));
  };
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const std::uint32_t v = byte(i) << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
  } else if (rest == 2) {
    const std::uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

bool base64url_decode(std::string_view text, std::string& out) {
  out.clear();
  if (text.size() % 4 == 1) return false;  // cannot be produced by any byte string
  out.reserve(text.size() / 4 * 3 + 2);
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : text) {
    const int v = b64_value(c);
    if (v < 0) {
      out.clear();
      return false;
    }
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
      acc &= (1u << bits) - 1;
    }
  }
  // Canonical encodings only: the unused low bits of the last character must be zero.
  if (acc != 0) {
    out.clear();
    return false;
  }
  return true;
}

std::string issue_token(std::string_view secret, const TokenClaims& c) {
  const Json claims = {{"app", c.app},
                       {"user", c.user},
                       {"anon", c.anonymous},
                       {"iat", c.issued},
                       {"nonce", c.nonce}};
  std::string token(kServerPrefix);
  token += base64url_encode(dump(claims));
  const std::string sig = mac_b64(secret, token);
  token += '.';
  token += sig;
  return token;
}

std::variant<TokenClaims, Error> verify_token(std::string_view secret, std::string_view token) {
  try {
    return verify_token_impl(secret, token);
  } catch (const Json::exception&) {  // defensive: the checks above should make this unreachable
    return unauthorized(auth_msg::kMalformed);
  }
}

std::variant<JwtClaims, Error> verify_jwt(std::string_view secret, std::string_view audience,
                                          std::string_view jwt, TimeMs now) {
  try {
    return verify_jwt_impl(secret, audience, jwt, now);
  } catch (const Json::exception&) {  // defensive: the checks above should make this unreachable
    return unauthorized(auth_msg::kMalformed);
  }
}

std::string sign_capability(std::string_view secret, std::string_view what) {
  return mac_b64(secret, "cap:" + std::string(what));
}

bool check_capability(std::string_view secret, std::string_view what, std::string_view sig) {
  std::string raw;
  if (sig.empty() || !base64url_decode(sig, raw)) return false;
  return mac_matches(secret, "cap:" + std::string(what), raw);
}

std::string sign_jwt_hs256(std::string_view secret, const Json& claims) {
  std::string token = base64url_encode(R"({"alg":"HS256","typ":"JWT"})");
  token += '.';
  token += base64url_encode(dump(claims));
  const std::string sig = mac_b64(secret, token);
  token += '.';
  token += sig;
  return token;
}

bool looks_like_jwt(std::string_view token) {
  if (token.starts_with(kServerPrefix)) return false;
  std::size_t dots = 0;
  for (const char c : token) {
    if (c == '.') {
      ++dots;
    } else if (b64_value(c) < 0) {
      return false;
    }
  }
  if (dots != 2) return false;
  const auto first = token.find('.');
  const auto second = token.find('.', first + 1);
  return first > 0 && second > first + 1;
}

}  // namespace parley::server
