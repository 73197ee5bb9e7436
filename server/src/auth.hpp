// Identity tokens for the reference server (docs/server.md, "Identity").
//
//   * Server tokens: issued by the server (anonymous visitors, and the token the welcome
//     carries for identified users). "pv1." + b64url(JSON claims) + "." + b64url(HMAC-SHA256(
//     secret, "pv1." + b64url(JSON claims))).
//   * JWTs: HS256 tokens minted by the embedding site for identified users.
//
// Everything here is pure: no I/O, no clock (callers pass `now`), no exceptions. Failures
// are make_error(ErrorCode::Unauthorized, ...) values whose messages never echo the token.
// HMAC-SHA256 and the constant-time comparison come from OpenSSL libcrypto.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "parley/model.hpp"
#include "parley/types.hpp"

namespace parley::server {

// Error messages (Error::message) of verify_token / verify_jwt. Exactly one per failure class.
namespace auth_msg {
inline constexpr std::string_view kMalformed = "malformed token";        // shape, base64, JSON
inline constexpr std::string_view kUnsupportedAlg = "unsupported alg";   // JWT alg != HS256
inline constexpr std::string_view kBadSignature = "bad signature";       // also: empty secret
inline constexpr std::string_view kExpired = "token expired";            // exp*1000 <= now
inline constexpr std::string_view kMissingExp = "missing exp";           // exp absent / not numeric
inline constexpr std::string_view kNotYetValid = "token not yet valid";  // nbf*1000 > now
inline constexpr std::string_view kWrongAudience = "wrong audience";
inline constexpr std::string_view kMissingSub = "missing sub";    // absent, not a string, ""
inline constexpr std::string_view kInvalidSub = "invalid sub";    // longer than 128 bytes
inline constexpr std::string_view kInvalidName = "invalid name";  // not a string, > 256 bytes
}  // namespace auth_msg

inline constexpr std::size_t kMaxTokenBytes = 4096;  // protocol limit for `token`
inline constexpr std::size_t kMaxSubBytes = 128;     // a user id is a protocol `id`
inline constexpr std::size_t kMaxNameBytes = 256;    // a display name is a protocol label

// ------------------------------------------------------------------ server tokens ("pv1.")
struct TokenClaims {
  std::string app;
  std::string user;
  bool anonymous = true;
  TimeMs issued = 0;
  std::string nonce;
  bool operator==(const TokenClaims&) const = default;
};

// Deterministic for given claims (the caller supplies the nonce). Strings that are not valid
// UTF-8 are replaced by U+FFFD when serialised (they would not round-trip).
std::string issue_token(std::string_view secret, const TokenClaims& c);
// Checks the prefix, shape, base64url, signature (constant time), then the claims
// (`app` and `user` non-empty strings, `anon` bool, `iat` integer >= 0, `nonce` string).
// An empty secret rejects every token.
std::variant<TokenClaims, Error> verify_token(std::string_view secret, std::string_view token);

// ------------------------------------------------------------------ JWT (HS256 only)
struct JwtClaims {
  std::string sub;
  std::string name;  // "" when absent
  std::string aud;   // the audience that matched
  TimeMs exp = 0;    // milliseconds (the JWT's seconds * 1000)
  bool operator==(const JwtClaims&) const = default;
};

// Order of checks: shape (3 parts, <= kMaxTokenBytes) -> header (alg == "HS256" exactly, typ
// optional string, no "crit") -> signature (constant time) -> payload JSON object -> exp
// (required, numeric seconds, exp*1000 > now) -> nbf (optional, nbf*1000 <= now) -> aud
// (string or array of strings containing `audience`; an empty `audience` matches nothing) ->
// sub (non-empty string <= 128 bytes) -> name (optional string <= 256 bytes; null = absent).
std::variant<JwtClaims, Error> verify_jwt(std::string_view secret, std::string_view audience,
                                          std::string_view jwt, TimeMs now);

// A capability for one resource, e.g. a file's download URL that works in <img src> and
// <a href> where no Authorization header can go: b64url(HMAC-SHA256(secret, "cap:" + what)).
// check_capability is constant time; an empty secret never verifies.
std::string sign_capability(std::string_view secret, std::string_view what);
bool check_capability(std::string_view secret, std::string_view what, std::string_view sig);

// Header {"alg":"HS256","typ":"JWT"}; claims serialised compactly with sorted keys. For tests,
// the demo and the conformance suite.
std::string sign_jwt_hs256(std::string_view secret, const Json& claims);

// Exactly three dot-separated parts of base64url characters, the first two non-empty, and not
// a server token (does not start with "pv1."). Says nothing about validity.
bool looks_like_jwt(std::string_view token);

// base64url without padding (RFC 4648 §5). Decoding is strict: no padding, no whitespace,
// unused trailing bits must be zero. Returns false on invalid input.
std::string base64url_encode(std::string_view bytes);
bool base64url_decode(std::string_view text, std::string& out);

}  // namespace parley::server
