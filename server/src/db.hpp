// A thin RAII layer over SQLite: one connection, cached prepared statements, and
// transactions that roll back unless committed. Errors are thrown as DbError and caught at
// the service boundary, where they become typed `server_error` answers (nothing half-written
// survives: the transaction rolls back).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

namespace parley::server {

struct DbError : std::runtime_error {
  int code;
  DbError(int c, const std::string& what) : std::runtime_error(what), code(c) {}
};

class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* s) : db_(db), s_(s) {}
  Stmt& bind(int i, std::int64_t v);
  Stmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind(int i, bool v) { return bind(i, static_cast<std::int64_t>(v ? 1 : 0)); }
  Stmt& bind(int i, std::string_view v);
  Stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Stmt& bind_null(int i);
  Stmt& bind_blob(int i, std::string_view bytes);
  // Binds positional parameters 1..n.
  template <class... A>
  Stmt& args(const A&... a) {
    int i = 0;
    (bind(++i, a), ...);
    return *this;
  }
  bool step();  // true while a row is available
  void run();   // step to completion (INSERT/UPDATE/DELETE)
  std::int64_t i64(int col) const { return sqlite3_column_int64(s_, col); }
  std::string str(int col) const;
  std::string blob(int col) const;
  bool is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  void reset();

 private:
  sqlite3* db_;
  sqlite3_stmt* s_;
};

class Db {
 public:
  enum class Sync { Normal, Full };
  explicit Db(const std::string& path, Sync sync = Sync::Normal);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void exec(std::string_view sql);
  // A cached prepared statement, reset and with bindings cleared.
  Stmt& prepare(const std::string& sql);
  std::int64_t changes() const { return sqlite3_changes64(db_); }
  std::int64_t last_rowid() const { return sqlite3_last_insert_rowid(db_); }
  int user_version();
  void set_user_version(int v);
  void checkpoint();  // PRAGMA wal_checkpoint(TRUNCATE)
  sqlite3* raw() { return db_; }

  // BEGIN IMMEDIATE ... COMMIT; rolls back when destroyed uncommitted.
  class Txn {
   public:
    explicit Txn(Db& db);
    ~Txn();
    void commit();
    Txn(const Txn&) = delete;
    Txn& operator=(const Txn&) = delete;

   private:
    Db& db_;
    bool done_ = false;
  };

 private:
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, std::unique_ptr<Stmt>> cache_;
  std::unordered_map<std::string, sqlite3_stmt*> raw_;
};

// Schema migrations (server/src/migrations.cpp): applies every step above the file's
// PRAGMA user_version, each in its own transaction. Returns the resulting version.
int migrate(Db& db);
inline constexpr int kSchemaVersion = 2;

}  // namespace parley::server
