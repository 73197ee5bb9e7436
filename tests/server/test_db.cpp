// SQLite layer and migrations (server/src/db.cpp, migrations.cpp).
#include <catch2/catch.hpp>

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
