// SQLite layer and migrations (server/src/db.cpp, migrations.cpp).
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "db.hpp"
#include "service_fixture.hpp"

using namespace parley;
using namespace parley::server;
using namespace parley::server::test;

TEST_CASE("migrations bring a new file to the current version, once", "[db]") {
  auto dir = temp_dir();
  auto path = (dir / "m.db").string();
  {
    Db db(path);
    CHECK(db.user_version() == 0);
    CHECK(migrate(db) == kSchemaVersion);
    CHECK(db.user_version() == kSchemaVersion);
    db.exec("INSERT INTO users (id, app, anonymous, created_ts) VALUES ('u1', 'demo', 1, 0)");
  }
  {
    Db db(path);
    CHECK(migrate(db) == kSchemaVersion);  // nothing to do, nothing lost
    auto& q = db.prepare("SELECT COUNT(*) FROM users");
    REQUIRE(q.step());
    CHECK(q.i64(0) == 1);
    q.reset();
    auto& j = db.prepare("PRAGMA journal_mode");
    REQUIRE(j.step());
    CHECK(j.str(0) == "wal");
    j.reset();
  }
  fs::remove_all(dir);
}

TEST_CASE("a file from a newer server is refused, not damaged", "[db]") {
  auto dir = temp_dir();
  auto path = (dir / "n.db").string();
  {
    Db db(path);
    db.set_user_version(kSchemaVersion + 1);
  }
  Db db(path);
  CHECK_THROWS_AS(migrate(db), DbError);
  CHECK(db.user_version() == kSchemaVersion + 1);
  fs::remove_all(dir);
}

TEST_CASE("a transaction that is not committed leaves nothing behind", "[db]") {
  auto dir = temp_dir();
  Db db((dir / "t.db").string());
  migrate(db);
  {
    Db::Txn txn(db);
    db.exec("INSERT INTO users (id, app, anonymous, created_ts) VALUES ('u1', 'demo', 1, 0)");
  }
  auto& q = db.prepare("SELECT COUNT(*) FROM users");
  REQUIRE(q.step());
  CHECK(q.i64(0) == 0);
  q.reset();
  fs::remove_all(dir);
}

TEST_CASE("the (user, cid) index refuses a second copy at the storage level", "[db][G2]") {
  auto dir = temp_dir();
  Db db((dir / "u.db").string());
  migrate(db);
  db.exec(
      "INSERT INTO messages (conv, seq, id, user, dedupe, json, ts) "
      "VALUES ('c', 1, 'm1', 'u', 'k1', '{}', 0)");
  CHECK_THROWS_AS(db.exec("INSERT INTO messages (conv, seq, id, user, dedupe, json, ts) "
                          "VALUES ('c', 2, 'm2', 'u', 'k1', '{}', 0)"),
                  DbError);
  // Another user may use the same client id.
  CHECK_NOTHROW(
      db.exec("INSERT INTO messages (conv, seq, id, user, dedupe, json, ts) "
              "VALUES ('d', 1, 'm3', 'v', 'k1', '{}', 0)"));
  fs::remove_all(dir);
}

TEST_CASE("a v1 database from a released server migrates to the current schema, data intact",
          "[db][migration]") {
  // tests/fixtures/server/v1.sql: a dump of a database written by the schema-1 server
  // (one visitor, one conversation handed to an agent, seven messages, its event log).
  std::ifstream in(std::string(PARLEY_SOURCE_DIR) + "/tests/fixtures/server/v1.sql");
  REQUIRE(in);
  std::stringstream sql;
  sql << in.rdbuf();
  Fixture fx;
  fx.svc.reset();
  fx.db.reset();
  std::filesystem::remove(fx.db_path);
  {
    Db raw(fx.db_path.string());
    raw.exec(sql.str());
    CHECK(raw.user_version() == 1);
  }
  fx.open();  // the Service migrates on start
  CHECK(fx.db->user_version() == kSchemaVersion);
  // The visitor's token from then still works, and their history is all there.
  const std::string token =
      "pv1.eyJhbm9uIjp0cnVlLCJhcHAiOiJkZW1vIiwiaWF0IjoxNzk1MjYxMTM2NTQyLCJub25jZSI6IjcxM2E2ZGNl"
      "Y2Q0ZTRmMmZkMDZlNDU2ZGY2NWE4ZmE0IiwidXNlciI6InVfOWZkODM4NmI4NDhlYjAwYWFjNDJhMzY4N2NjMTMw"
      "MGMifQ.frVBsZ8wM4jGbGsBSh5otmhshyjss8dCdOPZ88KbXWA";
  auto s = fx.connect();
  auto w = fx.hello(s, token, "d_fixture");
  CHECK(w.user == "u_9fd8386b848eb00aac42a3687cc1300c");
  CHECK(w.cursor > 0);
  auto page = fx.history(s, "c_fixture", 0, -1, 50);
  CHECK(page.complete);
  REQUIRE(page.messages.size() == 7);
  CHECK(page.messages.back().body.text == "Yes, we do.");
  // The permanent dedupe index survived: the first message's cid is still known.
  auto ack = fx.send(s, "c_fixture", "k_fixture_1", "Do you ship to Norway?");
  CHECK(ack.seq == 1);
  // And the new table works for this visitor.
  CHECK(fx.svc->put_file(s, "a_1", "text/plain", "hello", fx.now).status == 201);
}
