#include "store/sqlite.hpp"

#include <sqlite3.h>

namespace containd::store {
namespace {

[[noreturn]] void fail(sqlite3* db, int code, std::string_view context) {
    std::string message(context);
    message += ": ";
    message += db ? sqlite3_errmsg(db) : sqlite3_errstr(code);
    throw storage_error(db ? sqlite3_extended_errcode(db) : code, message);
}

void check(sqlite3* db, int code, std::string_view context) {
    if (code != SQLITE_OK) fail(db, code, context);
}

}  // namespace

connection::connection(const std::string& path) {
    const int rc = sqlite3_open_v2(path.c_str(), &db_,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        // The handle is allocated even on failure: read the message, then close it.
        const std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
        sqlite3_close(db_);
        db_ = nullptr;
        throw storage_error(rc, "cannot open database " + path + ": " + message);
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, 5000);
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
    exec("PRAGMA foreign_keys=ON");
}

connection::~connection() { sqlite3_close_v2(db_); }

void connection::exec(std::string_view sql) {
    const std::string owned(sql);
    check(db_, sqlite3_exec(db_, owned.c_str(), nullptr, nullptr, nullptr), "exec");
}

statement connection::prepare(std::string_view sql) { return statement(db_, sql); }

std::int64_t connection::changes() const { return sqlite3_changes64(db_); }

int connection::user_version() {
    statement s(db_, "PRAGMA user_version");
    s.step();
    return static_cast<int>(s.int64(0));
}

void connection::set_user_version(int v) { exec("PRAGMA user_version=" + std::to_string(v)); }

statement::statement(sqlite3* db, std::string_view sql) : db_(db) {
    check(db_, sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt_,
                                  nullptr),
          "prepare");
}

statement::~statement() { sqlite3_finalize(stmt_); }

statement::statement(statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) { other.stmt_ = nullptr; }

statement& statement::bind(int index, std::int64_t value) {
    check(db_, sqlite3_bind_int64(stmt_, index, value), "bind");
    return *this;
}

statement& statement::bind(int index, std::string_view text) {
    check(db_, sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8), "bind");
    return *this;
}

statement& statement::bind_blob(int index, std::string_view bytes) {
    check(db_, sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT), "bind");
    return *this;
}

statement& statement::bind_null(int index) {
    check(db_, sqlite3_bind_null(stmt_, index), "bind");
    return *this;
}

statement& statement::bind(int index, const std::optional<std::string>& text) {
    return text ? bind(index, std::string_view(*text)) : bind_null(index);
}

statement& statement::bind(int index, const std::optional<std::int64_t>& value) {
    return value ? bind(index, *value) : bind_null(index);
}

bool statement::step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    const std::string message = sqlite3_errmsg(db_);
    const int code = sqlite3_extended_errcode(db_);
    sqlite3_reset(stmt_);
    throw storage_error(code, "step: " + message);
}

bool statement::run() {
    try {
        while (step()) {
        }
    } catch (const storage_error& e) {
        reset();
        if ((e.code() & 0xff) == SQLITE_CONSTRAINT) return false;
        throw;
    }
    reset();
    return true;
}

void statement::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

std::int64_t statement::int64(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string statement::text(int column) const {
    const auto* p = sqlite3_column_text(stmt_, column);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
             : std::string();
}

std::string statement::blob(int column) const {
    const void* p = sqlite3_column_blob(stmt_, column);
    return p ? std::string(static_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
             : std::string();
}

bool statement::is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

std::optional<std::int64_t> statement::optional_int64(int column) const {
    if (is_null(column)) return std::nullopt;
    return int64(column);
}

std::optional<std::string> statement::optional_text(int column) const {
    if (is_null(column)) return std::nullopt;
    return text(column);
}

transaction::transaction(connection& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

transaction::~transaction() {
    if (!done_) sqlite3_exec(db_.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void transaction::commit() {
    db_.exec("COMMIT");
    done_ = true;
}

}  // namespace containd::store
