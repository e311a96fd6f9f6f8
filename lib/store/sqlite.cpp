#include "store/sqlite.hpp"

#include <sqlite3.h>

namespace containd::store {
namespace {

// The file header's application id (offset 68): probe_write() rewrites it, the same value each
// time, as the smallest durable write there is (one WAL frame and its sync).
constexpr int application_id = 0x434e5444;  // "CNTD"

}  // namespace

bool is_storage_failure(int code) {
    switch (code & 0xff) {
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
    case SQLITE_NOLFS: return true;
    default: return false;
    }
}

void connection::note_result(int code) {
    if (code == SQLITE_OK)
        storage_failing_ = false;
    else if (is_storage_failure(code))
        storage_failing_ = true;
}

bool connection::probe_write() {
    try {
        exec("PRAGMA application_id=" + std::to_string(application_id));
        storage_failing_ = false;
        return true;
    } catch (const storage_error&) {
        return false;
    }
}

connection::connection(const std::string& path) {
    const int rc =
        sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
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
    const int rc = sqlite3_exec(db_, owned.c_str(), nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) return;
    const int code = sqlite3_extended_errcode(db_);
    note_result(code);
    throw storage_error(code, std::string("exec: ") + sqlite3_errmsg(db_));
}

statement connection::prepare(std::string_view sql) { return statement(*this, sql); }

std::int64_t connection::changes() const { return sqlite3_changes64(db_); }

int connection::user_version() {
    statement s(*this, "PRAGMA user_version");
    s.step();
    return static_cast<int>(s.int64(0));
}

void connection::set_user_version(int v) { exec("PRAGMA user_version=" + std::to_string(v)); }

statement::statement(connection& db, std::string_view sql) : conn_(&db), db_(db.raw()) {
    const int rc =
        sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
    if (rc != SQLITE_OK) fail("prepare", rc);
}

statement::~statement() { sqlite3_finalize(stmt_); }

statement::statement(statement&& other) noexcept : conn_(other.conn_), db_(other.db_), stmt_(other.stmt_) {
    other.stmt_ = nullptr;
}

void statement::fail(std::string_view context, int code) {
    const int extended = db_ ? sqlite3_extended_errcode(db_) : code;
    std::string message(context);
    message += ": ";
    message += db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(code);
    conn_->note_result(extended);
    throw storage_error(extended, message);
}

statement& statement::bind(int index, std::int64_t value) {
    if (const int rc = sqlite3_bind_int64(stmt_, index, value); rc != SQLITE_OK) fail("bind", rc);
    return *this;
}

statement& statement::bind(int index, std::string_view text) {
    if (const int rc = sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
        rc != SQLITE_OK)
        fail("bind", rc);
    return *this;
}

statement& statement::bind_blob(int index, std::string_view bytes) {
    if (const int rc = sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT); rc != SQLITE_OK)
        fail("bind", rc);
    return *this;
}

statement& statement::bind_null(int index) {
    if (const int rc = sqlite3_bind_null(stmt_, index); rc != SQLITE_OK) fail("bind", rc);
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
    conn_->note_result(code);
    throw storage_error(code, "step: " + message);
}

bool statement::run() {
    try {
        while (step()) {}
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
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
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

transaction::transaction(connection& db)
        : db_(db),
          changes_at_begin_(sqlite3_total_changes64(db.raw())),
          nested_(sqlite3_get_autocommit(db.raw()) == 0) {
    db_.exec(nested_ ? "SAVEPOINT nested" : "BEGIN IMMEDIATE");
}

transaction::~transaction() {
    if (done_) return;
    if (nested_)
        sqlite3_exec(db_.raw(), "ROLLBACK TO nested; RELEASE nested", nullptr, nullptr, nullptr);
    else
        sqlite3_exec(db_.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void transaction::commit() {
    if (nested_) {
        db_.exec("RELEASE nested");  // durable with the outermost transaction, not before
        done_ = true;
        return;
    }
    db_.exec("COMMIT");  // a failure marks the storage failing (exec); SQLite has rolled back
    done_ = true;
    // Only a commit that wrote something shows the storage works again.
    if (sqlite3_total_changes64(db_.raw()) != changes_at_begin_) db_.note_result(SQLITE_OK);
}

}  // namespace containd::store
