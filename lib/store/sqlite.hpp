#pragma once
// A thin RAII layer over the SQLite C API (after SQLiteCpp and Chromium's sql/).
// Single owner: a connection and its statements are used from one thread (the daemon's io thread).
// Failures of the storage itself (I/O error, disk full, corruption) throw storage_error: callers
// at the top (API handler, engine) turn them into a 503 or a stop. Expected outcomes such as a
// UNIQUE constraint are reported through return values, never thrown.

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace containd::store {

class storage_error : public std::runtime_error {
public:
    storage_error(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
    int code() const { return code_; }  // SQLite extended result code

private:
    int code_;
};

// Whether a SQLite result code means the storage itself failed (I/O error, disk full, read-only
// or unopenable file, corruption) rather than the statement (a constraint, a busy lock).
bool is_storage_failure(int code);

class statement;

class connection {
public:
    // Opens (creating if needed) and applies the durability settings: WAL, synchronous=FULL,
    // foreign_keys=ON, busy_timeout.
    explicit connection(const std::string& path);
    ~connection();
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    void exec(std::string_view sql);  // one or more statements without parameters
    statement prepare(std::string_view sql);
    std::int64_t changes() const;
    int user_version();
    void set_user_version(int v);
    sqlite3* raw() const { return db_; }

    // True since a statement or commit failed for a storage reason (is_storage_failure), until a
    // transaction commits again: readiness reports it, and probe_write() rechecks it.
    bool storage_failing() const { return storage_failing_; }
    void note_result(int code);  // what a failure or a successful commit says about the storage
    // One small durable write (the file's application_id, the same value every time), to learn
    // whether the disk takes writes again. Returns false (and stays failing) when it does not.
    bool probe_write();

private:
    sqlite3* db_ = nullptr;
    bool storage_failing_ = false;
};

class statement {
public:
    statement(connection& db, std::string_view sql);
    ~statement();
    statement(statement&& other) noexcept;
    statement& operator=(statement&&) = delete;
    statement(const statement&) = delete;

    // Parameters are 1-based, as in SQLite. Returns *this to chain.
    statement& bind(int index, std::int64_t value);
    statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
    statement& bind(int index, std::string_view text);
    statement& bind(int index, const std::string& text) { return bind(index, std::string_view(text)); }
    statement& bind(int index, const char* text) = delete;  // forces an explicit string_view
    statement& bind_blob(int index, std::string_view bytes);
    statement& bind_null(int index);
    statement& bind(int index, const std::optional<std::string>& text);
    statement& bind(int index, const std::optional<std::int64_t>& value);

    // Steps once: true when a row is available, false when done. Throws storage_error.
    bool step();
    // Steps to completion. Returns false (instead of throwing) on a constraint violation.
    bool run();
    void reset();  // clears bindings too, ready for reuse

    std::int64_t int64(int column) const;
    std::string text(int column) const;
    std::string blob(int column) const;
    bool is_null(int column) const;
    std::optional<std::int64_t> optional_int64(int column) const;
    std::optional<std::string> optional_text(int column) const;

private:
    [[noreturn]] void fail(std::string_view context, int code);

    connection* conn_;
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back in the destructor unless committed. Never throws from
// the destructor. Inside another transaction it is a SAVEPOINT of it instead, so several store
// operations can be made one atomic change (store::atomically): nothing of them is durable until
// the outermost commits, and a failure anywhere rolls back all of them.
class transaction {
public:
    explicit transaction(connection& db);
    ~transaction();
    transaction(const transaction&) = delete;
    transaction& operator=(const transaction&) = delete;
    void commit();

private:
    connection& db_;
    std::int64_t changes_at_begin_;
    bool nested_;
    bool done_ = false;
};

}  // namespace containd::store
