// Server identity tokens and HS256 JWT verification (server/src/auth.hpp).
#include <catch2/catch.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>
#include <variant>
#include <vector>

#include "auth.hpp"

using namespace parley;
using namespace parley::server;

namespace {

constexpr TimeMs kNow = 1'700'000'000'000;       // 2023-11-14T22:13:20Z
constexpr std::int64_t kFuture = 4'102'444'800;  // 2100-01-01, seconds
constexpr std::string_view kSecret = "parley-test-secret";
constexpr std::string_view kAud = "parley-demo";

// Independently computed with Python's hmac/hashlib/json (not with this code):
//   header  json.dumps({"typ":"JWT","alg":"HS256"})            (default separators, with spaces)
//   payload json.dumps({"sub": "user-42", "name": "Ada Lovelace", "aud": "parley-demo",
//                       "exp": 4102444800, "iat": 1700000000})
//   secret  "parley-test-secret"
constexpr std::string_view kPythonJwt =
    "eyJ0eXAiOiAiSldUIiwgImFsZyI6ICJIUzI1NiJ9."
    "eyJzdWIiOiAidXNlci00MiIsICJuYW1lIjogIkFkYSBMb3ZlbGFjZSIsICJhdWQiOiAicGFybGV5LWRlbW8iLCAiZXhw"
    "IjogNDEwMjQ0NDgwMCwgImlhdCI6IDE3MDAwMDAwMDB9."
    "JN_UpTZ3SCuliGi_KFh5Dx5zZ6qph79cYmxVNOk1uYM";
// The same claims and header serialised compactly with sorted keys (separators=(',',':'),
// sort_keys=True): what sign_jwt_hs256 must produce byte for byte.
constexpr std::string_view kPythonJwtCompact =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJhdWQiOiJwYXJsZXktZGVtbyIsImV4cCI6NDEwMjQ0NDgwMCwiaWF0IjoxNzAwMDAwMDAwLCJuYW1lIjoiQWRhIExv"
    "dmVsYWNlIiwic3ViIjoidXNlci00MiJ9."
    "joyUuZ_Er-Tb4OmoZKAwkS7hTqI9haLHcFJsqZwqr2I";
// The well-known jwt.io example (secret "your-256-bit-secret"; no exp, aud). Signature
// re-checked with Python.
constexpr std::string_view kJwtIoExample =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
// Server token computed with Python: claims {"anon":true,"app":"demo","iat":1700000000000,
// "nonce":"n1","user":"v_1"} compact/sorted, secret "tok-secret".
constexpr std::string_view kPythonServerToken =
    "pv1.eyJhbm9uIjp0cnVlLCJhcHAiOiJkZW1vIiwiaWF0IjoxNzAwMDAwMDAwMDAwLCJub25jZSI6Im4xIiwidXNlciI6"
    "InZfMSJ9.ZS4-XMl87hIys-Ih4rP5uIVdR-F_6Mc3S1RoVNSg8uE";

std::string b64(std::string_view s) {
  return base64url_encode(s);
}

std::string hmac_b64(std::string_view key, std::string_view data, const EVP_MD* md) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return b64(std::string_view(reinterpret_cast<const char*>(out), len));
}

// A JWT with an arbitrary header and payload text, HMAC-signed (HS256 unless told otherwise).
std::string raw_jwt(std::string_view header, std::string_view payload,
                    std::string_view secret = kSecret, const EVP_MD* md = EVP_sha256()) {
  std::string si = b64(header) + "." + b64(payload);
  return si + "." + hmac_b64(secret, si, md);
}

Json good_claims() {
  return Json{{"sub", "user-42"}, {"name", "Ada"}, {"aud", kAud}, {"exp", kFuture}};
}

Error jwt_error(std::string_view jwt, std::string_view secret = kSecret, TimeMs now = kNow,
                std::string_view aud = kAud) {
  const auto r = verify_jwt(secret, aud, jwt, now);
  REQUIRE(std::holds_alternative<Error>(r));
  return std::get<Error>(r);
}

JwtClaims jwt_ok(std::string_view jwt, std::string_view secret = kSecret, TimeMs now = kNow,
                 std::string_view aud = kAud) {
  const auto r = verify_jwt(secret, aud, jwt, now);
  if (const auto* e = std::get_if<Error>(&r)) FAIL("unexpected error: " << e->message);
  return std::get<JwtClaims>(r);
}

void check_unauthorized(const Error& e, std::string_view message, std::string_view token) {
  CHECK(e.code == ErrorCode::Unauthorized);
  CHECK(e.recoverability == Recoverability::Auth);
  CHECK(e.message == message);
  if (token.size() >= 8) CHECK(e.message.find(token) == std::string::npos);
}

void jwt_rejects(std::string_view jwt, std::string_view message) {
  INFO("jwt: " << jwt);
  check_unauthorized(jwt_error(jwt), message, jwt);
}

Error token_error(std::string_view token, std::string_view secret = "tok-secret") {
  const auto r = verify_token(secret, token);
  REQUIRE(std::holds_alternative<Error>(r));
  return std::get<Error>(r);
}

TokenClaims sample_claims() {
  return TokenClaims{"demo", "v_1", true, kNow, "n1"};
}

}  // namespace

// ---------------------------------------------------------------- base64url

TEST_CASE("auth: base64url encodes without padding and decodes strictly") {
  CHECK(base64url_encode("") == "");
  CHECK(base64url_encode("f") == "Zg");
  CHECK(base64url_encode("fo") == "Zm8");
  CHECK(base64url_encode("foo") == "Zm9v");
  CHECK(base64url_encode("foob") == "Zm9vYg");
  CHECK(base64url_encode("\xfb\xff\xbf") == "-_-_");
  std::string out;
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xfb\xff\xbf\x00\x01"}) {
    CHECK(base64url_decode(base64url_encode(s), out));
    CHECK(out == s);
  }
  CHECK_FALSE(base64url_decode("Zg==", out));    // padding
  CHECK_FALSE(base64url_decode("Z", out));       // impossible length
  CHECK_FALSE(base64url_decode("Zm9v+/", out));  // standard alphabet
  CHECK_FALSE(base64url_decode("Zm 9v", out));   // whitespace
  CHECK_FALSE(base64url_decode("Zh", out));      // non-zero trailing bits (non-canonical "f")
  CHECK(out.empty());
}

// ---------------------------------------------------------------- server tokens

TEST_CASE("auth: server token round trip") {
  const auto c = sample_claims();
  const auto token = issue_token("tok-secret", c);
  CHECK(token.starts_with("pv1."));
  CHECK_FALSE(looks_like_jwt(token));
  const auto r = verify_token("tok-secret", token);
  REQUIRE(std::holds_alternative<TokenClaims>(r));
  CHECK(std::get<TokenClaims>(r) == c);

  TokenClaims ident{"demo", "user-42", false, 0, ""};
  const auto r2 = verify_token("tok-secret", issue_token("tok-secret", ident));
  REQUIRE(std::holds_alternative<TokenClaims>(r2));
  CHECK(std::get<TokenClaims>(r2) == ident);

  // Deterministic, and different nonces give different tokens.
  CHECK(issue_token("tok-secret", c) == token);
  auto c2 = c;
  c2.nonce = "n2";
  CHECK(issue_token("tok-secret", c2) != token);
}

TEST_CASE("auth: server token matches an independently computed vector") {
  CHECK(issue_token("tok-secret", sample_claims()) == kPythonServerToken);
  const auto r = verify_token("tok-secret", kPythonServerToken);
  REQUIRE(std::holds_alternative<TokenClaims>(r));
  CHECK(std::get<TokenClaims>(r) == sample_claims());
}

TEST_CASE("auth: server token tampering and wrong secret") {
  const auto token = issue_token("tok-secret", sample_claims());
  const auto dot = token.rfind('.');

  SECTION("wrong secret") {
    check_unauthorized(token_error(token, "other-secret"), auth_msg::kBadSignature, token);
  }
  SECTION("empty secret verifies nothing, not even a token signed with it") {
    const auto t = issue_token("", sample_claims());
    check_unauthorized(token_error(t, ""), auth_msg::kBadSignature, t);
  }
  SECTION("tampered payload (user swapped, re-encoded)") {
    const std::string forged_payload =
        b64(R"({"anon":false,"app":"demo","iat":1,"nonce":"n1","user":"admin"})");
    const std::string forged = "pv1." + forged_payload + token.substr(dot);
    check_unauthorized(token_error(forged), auth_msg::kBadSignature, forged);
  }
  SECTION("tampered payload (one character)") {
    std::string t = token;
    t[6] = t[6] == 'A' ? 'B' : 'A';
    const auto e = token_error(t);
    CHECK(e.code == ErrorCode::Unauthorized);
    CHECK((e.message == auth_msg::kBadSignature || e.message == auth_msg::kMalformed));
  }
  SECTION("tampered signature") {
    std::string t = token;
    t[dot + 1] = t[dot + 1] == 'A' ? 'B' : 'A';
    check_unauthorized(token_error(t), auth_msg::kBadSignature, t);
  }
  SECTION("truncated signature") {
    const auto t = token.substr(0, token.size() - 3);  // 40 chars: valid base64, 30 bytes
    check_unauthorized(token_error(t), auth_msg::kBadSignature, t);
  }
  SECTION("a JWT is not a server token") {
    const auto jwt = sign_jwt_hs256("tok-secret", good_claims());
    check_unauthorized(token_error(jwt), auth_msg::kMalformed, jwt);
  }
}

TEST_CASE("auth: signed server tokens with bad claims are malformed") {
  const auto signed_token = [](std::string_view payload) {
    std::string t = "pv1." + b64(payload);
    return t + "." + hmac_b64("tok-secret", t, EVP_sha256());
  };
  for (std::string_view payload : {
           R"([])",
           R"("x")",
           R"(not json)",
           R"({"app":"demo","user":"v","anon":true,"iat":1})",               // no nonce
           R"({"app":"demo","user":"","anon":true,"iat":1,"nonce":""})",     // empty user
           R"({"app":"","user":"v","anon":true,"iat":1,"nonce":""})",        // empty app
           R"({"app":"demo","user":"v","anon":"yes","iat":1,"nonce":""})",   // anon not bool
           R"({"app":"demo","user":"v","anon":true,"iat":1.5,"nonce":""})",  // iat not int
           R"({"app":"demo","user":"v","anon":true,"iat":-1,"nonce":""})",   // iat negative
           R"({"app":"demo","user":7,"anon":true,"iat":1,"nonce":""})",      // user not string
           R"({"app":"demo","user":"v","anon":true,"iat":18446744073709551615,"nonce":""})",
       }) {
    INFO(payload);
    const auto t = signed_token(payload);
    check_unauthorized(token_error(t), auth_msg::kMalformed, t);
  }
  // The control: the same helper with good claims verifies.
  const auto ok = verify_token(
      "tok-secret", signed_token(R"({"app":"demo","user":"v","anon":true,"iat":1,"nonce":""})"));
  CHECK(std::holds_alternative<TokenClaims>(ok));
}

TEST_CASE("auth: garbage server tokens are typed errors") {
  const std::string huge = "pv1." + std::string(5000, 'A') + ".AAAA";
  for (std::string_view t :
       {std::string_view(""), std::string_view("."), std::string_view(".."),
        std::string_view("..."), std::string_view("pv1."), std::string_view("pv1.."),
        std::string_view("pv1.abc"), std::string_view("pv1.abc."), std::string_view("pv1..abc"),
        std::string_view("pv1.a.b.c"), std::string_view("pv1.!!!.abc"),
        std::string_view("pv1.abc.$$$"), std::string_view("pv2.abc.def"),
        std::string_view("PV1.abc.def"), std::string_view("pv1.Zg==.AAAA"), std::string_view(huge),
        std::string_view("\0\0\0", 3)}) {
    INFO("token: " << t);
    check_unauthorized(token_error(t), auth_msg::kMalformed, t);
  }
}

// ---------------------------------------------------------------- JWT

TEST_CASE("auth: JWT independent test vectors") {
  SECTION("python-signed token with non-canonical JSON verifies") {
    const auto c = jwt_ok(kPythonJwt);
    CHECK(c.sub == "user-42");
    CHECK(c.name == "Ada Lovelace");
    CHECK(c.aud == "parley-demo");
    CHECK(c.exp == kFuture * 1000);
    CHECK(looks_like_jwt(kPythonJwt));
  }
  SECTION("sign_jwt_hs256 reproduces the python compact token byte for byte") {
    const Json claims = {{"sub", "user-42"},
                         {"name", "Ada Lovelace"},
                         {"aud", "parley-demo"},
                         {"exp", kFuture},
                         {"iat", 1'700'000'000}};
    CHECK(sign_jwt_hs256(kSecret, claims) == kPythonJwtCompact);
    CHECK(jwt_ok(kPythonJwtCompact).sub == "user-42");
  }
  SECTION("the jwt.io example passes the signature check (then fails on exp)") {
    check_unauthorized(jwt_error(kJwtIoExample, "your-256-bit-secret"), auth_msg::kMissingExp,
                       kJwtIoExample);
    check_unauthorized(jwt_error(kJwtIoExample, "not-the-secret"), auth_msg::kBadSignature,
                       kJwtIoExample);
  }
}

TEST_CASE("auth: JWT round trip") {
  const auto jwt = sign_jwt_hs256(kSecret, good_claims());
  CHECK(looks_like_jwt(jwt));
  const auto c = jwt_ok(jwt);
  CHECK(c == JwtClaims{"user-42", "Ada", "parley-demo", kFuture * 1000});

  SECTION("name is optional (absent or null)") {
    auto claims = good_claims();
    claims.erase("name");
    CHECK(jwt_ok(sign_jwt_hs256(kSecret, claims)).name.empty());
    claims["name"] = nullptr;
    CHECK(jwt_ok(sign_jwt_hs256(kSecret, claims)).name.empty());
  }
  SECTION("typ is optional; extra claims are ignored") {
    const auto t = raw_jwt(R"({"alg":"HS256"})", good_claims().dump());
    CHECK(jwt_ok(t).sub == "user-42");
    auto claims = good_claims();
    claims["iat"] = 1;
    claims["iss"] = "https://example.com";
    claims["roles"] = {"a", "b"};
    CHECK(jwt_ok(sign_jwt_hs256(kSecret, claims)).sub == "user-42");
  }
  SECTION("fractional exp") {
    auto claims = good_claims();
    claims["exp"] = 1'700'000'000.5;  // 500 ms after kNow
    CHECK(jwt_ok(sign_jwt_hs256(kSecret, claims)).exp == kNow + 500);
  }
  SECTION("name of exactly 256 bytes and sub of exactly 128 bytes") {
    auto claims = good_claims();
    claims["name"] = std::string(256, 'n');
    claims["sub"] = std::string(128, 's');
    const auto c2 = jwt_ok(sign_jwt_hs256(kSecret, claims));
    CHECK(c2.name.size() == 256);
    CHECK(c2.sub.size() == 128);
  }
}

TEST_CASE("auth: JWT signature failures") {
  const auto jwt = sign_jwt_hs256(kSecret, good_claims());
  const auto dot1 = jwt.find('.');
  const auto dot2 = jwt.rfind('.');

  SECTION("wrong secret") {
    check_unauthorized(jwt_error(jwt, "other"), auth_msg::kBadSignature, jwt);
  }
  SECTION("empty secret") {
    const auto t = sign_jwt_hs256("", good_claims());
    check_unauthorized(jwt_error(t, ""), auth_msg::kBadSignature, t);
  }
  SECTION("tampered payload: sub swapped, original signature kept") {
    auto claims = good_claims();
    claims["sub"] = "admin";
    const std::string forged = jwt.substr(0, dot1 + 1) + b64(claims.dump()) + jwt.substr(dot2);
    jwt_rejects(forged, auth_msg::kBadSignature);
  }
  SECTION("tampered payload: exp extended") {
    auto claims = good_claims();
    claims["exp"] = kFuture + 1;
    const std::string forged = jwt.substr(0, dot1 + 1) + b64(claims.dump()) + jwt.substr(dot2);
    jwt_rejects(forged, auth_msg::kBadSignature);
  }
  SECTION("tampered signature") {
    std::string t = jwt;
    t[dot2 + 3] = t[dot2 + 3] == 'x' ? 'y' : 'x';
    jwt_rejects(t, auth_msg::kBadSignature);
  }
  SECTION("signature of the wrong length") {
    jwt_rejects(jwt.substr(0, dot2 + 1) + "AAAA", auth_msg::kBadSignature);
    jwt_rejects(jwt.substr(0, dot2 + 1), auth_msg::kBadSignature);
    jwt_rejects(jwt + "AAAA", auth_msg::kBadSignature);
  }
  SECTION("header re-encoded (same JSON, other spacing) invalidates the signature") {
    const std::string t = b64(R"({"alg": "HS256", "typ": "JWT"})") + jwt.substr(dot1);
    jwt_rejects(t, auth_msg::kBadSignature);
  }
}

TEST_CASE("auth: JWT alg must be exactly HS256") {
  const std::string payload = good_claims().dump();
  SECTION("alg none, empty signature") {
    jwt_rejects(b64(R"({"alg":"none","typ":"JWT"})") + "." + b64(payload) + ".",
                auth_msg::kUnsupportedAlg);
  }
  SECTION("alg none with a (valid HS256) signature") {
    jwt_rejects(raw_jwt(R"({"alg":"none"})", payload), auth_msg::kUnsupportedAlg);
  }
  SECTION("alg HS512 signed with HS512") {
    jwt_rejects(raw_jwt(R"({"alg":"HS512","typ":"JWT"})", payload, kSecret, EVP_sha512()),
                auth_msg::kUnsupportedAlg);
  }
  SECTION("alg HS512 header with an HS256 signature") {
    jwt_rejects(raw_jwt(R"({"alg":"HS512","typ":"JWT"})", payload), auth_msg::kUnsupportedAlg);
  }
  SECTION("other spellings and types") {
    for (std::string_view h :
         {R"({"alg":"hs256"})", R"({"alg":"HS256 "})", R"({"alg":"RS256"})", R"({"alg":"None"})",
          R"({"alg":"NONE"})", R"({"alg":""})", R"({"alg":null})", R"({"alg":256})",
          R"({"alg":["HS256"]})", R"({"typ":"JWT"})", R"({})"}) {
      jwt_rejects(raw_jwt(h, payload), auth_msg::kUnsupportedAlg);
    }
  }
  SECTION("bad header shapes are malformed") {
    jwt_rejects(raw_jwt(R"({"alg":"HS256","typ":1})", payload), auth_msg::kMalformed);
    jwt_rejects(raw_jwt(R"({"alg":"HS256","crit":["exp"]})", payload), auth_msg::kMalformed);
    jwt_rejects(raw_jwt(R"(["HS256"])", payload), auth_msg::kMalformed);
    jwt_rejects(raw_jwt(R"(alg=HS256)", payload), auth_msg::kMalformed);
  }
}

TEST_CASE("auth: JWT time claims") {
  auto claims = good_claims();
  SECTION("expired") {
    claims["exp"] = kNow / 1000 - 1;
    jwt_rejects(sign_jwt_hs256(kSecret, claims), auth_msg::kExpired);
  }
  SECTION("exp exactly now is expired; one ms later is not") {
    claims["exp"] = kNow / 1000;
    const auto t = sign_jwt_hs256(kSecret, claims);
    jwt_rejects(t, auth_msg::kExpired);
    CHECK(jwt_ok(t, kSecret, kNow - 1).exp == kNow);
  }
  SECTION("exp in milliseconds by mistake is out of range (malformed)") {
    claims["exp"] = kNow;  // 1.7e12 seconds: beyond year 9999
    jwt_rejects(sign_jwt_hs256(kSecret, claims), auth_msg::kMalformed);
  }
  SECTION("missing or non-numeric exp") {
    claims.erase("exp");
    jwt_rejects(sign_jwt_hs256(kSecret, claims), auth_msg::kMissingExp);
    claims["exp"] = "4102444800";
    jwt_rejects(sign_jwt_hs256(kSecret, claims), auth_msg::kMissingExp);
    claims["exp"] = nullptr;
    jwt_rejects(sign_jwt_hs256(kSecret, claims), auth_msg::kMissingExp);
    claims["exp"] = true;
    jwt_rejects(sign_jwt_hs256(kSecret, claims), auth_msg::kMissingExp);
  }
  SECTION("negative exp") {
    claims["exp"] = -1;
    jwt_rejects(sign_jwt_hs256(kSecret, claims), auth_msg::kMalformed);
  }
  SECTION("nbf in the future") {
    claims["nbf"] = kNow / 1000 + 60;
    jwt_rejects(sign_jwt_hs256(kSecret, claims), auth_msg::kNotYetValid);
  }
  SECTION("nbf in the past or now is fine") {
    claims["nbf"] = kNow / 1000;
    CHECK(jwt_ok(sign_jwt_hs256(kSecret, claims)).sub == "user-42");
    claims["nbf"] = 0;
    CHECK(jwt_ok(sign_jwt_hs256(kSecret, claims)).sub == "user-42");
  }
  SECTION("nbf not numeric") {
    claims["nbf"] = "soon";
    jwt_rejects(sign_jwt_hs256(kSecret, claims), auth_msg::kMalformed);
  }
}

TEST_CASE("auth: JWT audience") {
  auto claims = good_claims();
  SECTION("wrong aud") {
    claims["aud"] = "other-app";
    jwt_rejects(sign_jwt_hs256(kSecret, claims), auth_msg::kWrongAudience);
  }
  SECTION("aud differs in case") {
    claims["aud"] = "Parley-Demo";
    jwt_rejects(sign_jwt_hs256(kSecret, claims), auth_msg::kWrongAudience);
  }
  SECTION("missing aud") {
    claims.erase("aud");
    jwt_rejects(sign_jwt_hs256(kSecret, claims), auth_msg::kWrongAudience);
  }
  SECTION("aud array containing the audience") {
    claims["aud"] = {"other", "parley-demo"};
    CHECK(jwt_ok(sign_jwt_hs256(kSecret, claims)).aud == "parley-demo");
  }
  SECTION("aud array without the audience") {
    claims["aud"] = {"other", "parley"};
    jwt_rejects(sign_jwt_hs256(kSecret, claims), auth_msg::kWrongAudience);
    claims["aud"] = Json::array();
    jwt_rejects(sign_jwt_hs256(kSecret, claims), auth_msg::kWrongAudience);
  }
  SECTION("aud of the wrong type") {
    claims["aud"] = 5;
    jwt_rejects(sign_jwt_hs256(kSecret, claims), auth_msg::kMalformed);
    claims["aud"] = {"parley-demo", 5};
    jwt_rejects(sign_jwt_hs256(kSecret, claims), auth_msg::kMalformed);
  }
  SECTION("an empty configured audience matches nothing") {
    claims["aud"] = "";
    const auto t = sign_jwt_hs256(kSecret, claims);
    check_unauthorized(jwt_error(t, kSecret, kNow, ""), auth_msg::kWrongAudience, t);
  }
}

TEST_CASE("auth: JWT sub and name") {
  auto claims = good_claims();
  SECTION("missing sub") {
    claims.erase("sub");
    jwt_rejects(sign_jwt_hs256(kSecret, claims), auth_msg::kMissingSub);
  }
  SECTION("empty, null or non-string sub") {
    for (const Json& sub : {Json(""), Json(nullptr), Json(42), Json::array({"u"})}) {
      claims["sub"] = sub;
      jwt_rejects(sign_jwt_hs256(kSecret, claims), auth_msg::kMissingSub);
    }
  }
  SECTION("sub longer than 128 bytes") {
    claims["sub"] = std::string(129, 's');
    jwt_rejects(sign_jwt_hs256(kSecret, claims), auth_msg::kInvalidSub);
  }
  SECTION("name longer than 256 bytes or not a string") {
    claims["name"] = std::string(257, 'n');
    jwt_rejects(sign_jwt_hs256(kSecret, claims), auth_msg::kInvalidName);
    claims["name"] = 3;
    jwt_rejects(sign_jwt_hs256(kSecret, claims), auth_msg::kInvalidName);
  }
  SECTION("non-ASCII name kept verbatim") {
    claims["name"] = "Åse Ørn";
    CHECK(jwt_ok(sign_jwt_hs256(kSecret, claims)).name == "Åse Ørn");
  }
}

TEST_CASE("auth: garbage JWTs are typed errors, never exceptions") {
  const std::string good = sign_jwt_hs256(kSecret, good_claims());
  const auto dot1 = good.find('.');
  const auto dot2 = good.rfind('.');
  const std::string header = good.substr(0, dot1);
  const std::string sig = good.substr(dot2 + 1);
  const std::vector<std::string> garbage = {
      "",
      ".",
      "..",
      "...",
      "a",
      "a.b",
      "a..c",
      ".b.c",
      "a.b.c.d",
      good + ".",
      "!!!.???.***",
      "eyJ.eyJ.eyJ",
      "Zg==.Zg==.Zg==",
      b64("not json") + "." + b64("{}") + "." + sig,
      b64("null") + "." + b64("{}") + "." + sig,
      header + ".%%%." + sig,
      header + "." + good.substr(dot1 + 1, dot2 - dot1 - 1) + ".+/+/",
      std::string(5000, 'A') + "." + std::string(10, 'A') + "." + sig,
      std::string("\0.\0.\0", 5),
      "pv1." + header + "." + sig,
  };
  for (const auto& g : garbage) {
    INFO("jwt: " << g);
    const auto r = verify_jwt(kSecret, kAud, g, kNow);
    REQUIRE(std::holds_alternative<Error>(r));
    const auto& e = std::get<Error>(r);
    CHECK(e.code == ErrorCode::Unauthorized);
    CHECK(e.recoverability == Recoverability::Auth);
    CHECK(e.message == auth_msg::kMalformed);
  }

  SECTION("signed, but the payload is not a JSON object") {
    for (std::string_view p : {"not json", "[]", "\"sub\"", "42", "{\"sub\":", "{} {}", ""}) {
      INFO("payload: " << p);
      const auto t = raw_jwt(R"({"alg":"HS256","typ":"JWT"})", p);
      const auto r = verify_jwt(kSecret, kAud, t, kNow);
      REQUIRE(std::holds_alternative<Error>(r));
      CHECK(std::get<Error>(r).message == auth_msg::kMalformed);
    }
  }
  SECTION("signed payload with invalid UTF-8") {
    const auto t = raw_jwt(R"({"alg":"HS256"})", "{\"sub\":\"\xff\xfe\",\"exp\":4102444800}");
    jwt_rejects(t, auth_msg::kMalformed);
  }
}

TEST_CASE("auth: looks_like_jwt") {
  CHECK(looks_like_jwt("a.b.c"));
  CHECK(looks_like_jwt("a.b."));  // unsigned (alg none) tokens are routed to verify_jwt
  CHECK(looks_like_jwt(sign_jwt_hs256(kSecret, good_claims())));
  CHECK_FALSE(looks_like_jwt(""));
  CHECK_FALSE(looks_like_jwt("a.b"));
  CHECK_FALSE(looks_like_jwt("a.b.c.d"));
  CHECK_FALSE(looks_like_jwt("..c"));
  CHECK_FALSE(looks_like_jwt(".b.c"));
  CHECK_FALSE(looks_like_jwt("a..c"));
  CHECK_FALSE(looks_like_jwt("a b.c.d"));
  CHECK_FALSE(looks_like_jwt("a.b.c="));
  CHECK_FALSE(looks_like_jwt("pv1.abc.def"));
  CHECK_FALSE(looks_like_jwt(issue_token("s", sample_claims())));
}
