#include "store/migrations.hpp"

#include <sqlite3.h>

#include "store/sqlite.hpp"

namespace containd::store {

void migrate(connection& db, const std::vector<migration>& migrations) {
    const int newest = migrations.empty() ? 0 : migrations.back().version;
    const int current = db.user_version();
    if (current > newest)
        throw storage_error(SQLITE_MISMATCH, "database schema version " + std::to_string(current) +
                                                 " is newer than this containd knows (" + std::to_string(newest) +
                                                 "): refusing to open it");
    for (const auto& m : migrations) {
        if (m.version <= current) continue;
        transaction tx(db);
        db.exec(m.sql);
        db.set_user_version(m.version);
        tx.commit();
    }
}

}  // namespace containd::store
