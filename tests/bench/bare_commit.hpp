#pragma once
// The baseline the engine benchmarks are read against: how many one-row durable transactions
// (synchronous=FULL) this machine's disk commits per second, measured in the same run.

#include <chrono>
#include <string>
#include <string_view>

#include "core/ids.hpp"
#include "store/sqlite.hpp"

namespace containd::bench {

inline double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

inline double bare_commits_per_second(const std::string& path, int n) {
    store::connection db(path);
    db.exec("CREATE TABLE IF NOT EXISTS t (id TEXT PRIMARY KEY, body TEXT) STRICT");
    auto ins = db.prepare("INSERT INTO t VALUES (?1, ?2)");
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) {
        store::transaction tx(db);
        ins.reset();
        ins.bind(1, random_uuid()).bind(2, std::string_view("{}"));
        ins.run();
        tx.commit();
    }
    return n / seconds_since(start);
}

}  // namespace containd::bench
