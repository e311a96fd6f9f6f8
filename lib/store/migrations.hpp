#pragma once
// Numbered schema migrations (schema/NNNN_name.sql), embedded at build time.

#include <string>
#include <vector>

namespace containd::store {

class connection;

struct migration {
    int version;
    std::string name;
    std::string sql;
};

const std::vector<migration>& all_migrations();

// Brings the database to the newest version: each pending migration runs in its own
// transaction together with its PRAGMA user_version bump, so a crash leaves the old or the new
// schema, never half. Throws storage_error for a database newer than this code knows.
void migrate(connection& db, const std::vector<migration>& migrations = all_migrations());

}  // namespace containd::store
