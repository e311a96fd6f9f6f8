#pragma once
// Prometheus text exposition (format 0.0.4) of the daemon: incidents by status, the engine's
// counters, API requests by route and code and their latency. Labels are route templates and
// codes only: never a path, an id, a UPN or a token.
//
// Requests are observed on the network thread and rendered on the work thread: the counters
// are behind a mutex.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

#include "core/histogram.hpp"
#include "engine/engine.hpp"
#include "store/store.hpp"

namespace containd::api::detail {

class metrics {
public:
    // route: the matched template, or "unmatched".
    void observe(std::string_view route, std::string_view method, int status, std::chrono::nanoseconds elapsed);
    void connection_rejected() {
        const std::lock_guard lock(mutex_);
        ++rejected_connections_;
    }

    struct gauges {
        bool ready = false;
        std::size_t open_connections = 0;
        std::size_t event_streams = 0;
    };
    // Reads db.count_by_status() (may throw storage_error) and the engine's counters.
    std::string render(store::store& db, const engine::engine& eng, const gauges& g,
                       const std::function<std::string()>& extra) const;

private:
    mutable std::mutex mutex_;
    std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;  // route, method, code
    std::map<std::string, histogram, std::less<>> latency_;                        // by route, seconds
    std::uint64_t rejected_connections_ = 0;
};

}  // namespace containd::api::detail
