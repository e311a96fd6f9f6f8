#pragma once
// Prometheus text exposition (format 0.0.4) of the daemon: incidents by status, the engine's
// counters, API requests by route and code and their latency. Labels are route templates and
// codes only: never a path, an id, a UPN or a token.
//
// Requests are observed on the network thread and rendered on the work thread: the counters
// are behind a mutex.

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

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

    static constexpr std::array<double, 11> buckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                       0.1,   0.25,   0.5,   1.0,  2.5};

private:
    struct histogram {
        std::array<std::uint64_t, buckets.size()> counts{};  // non-cumulative
        std::uint64_t count = 0;
        double sum = 0;
    };
    mutable std::mutex mutex_;
    std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;  // route, method, code
    std::map<std::string, histogram> latency_;                                    // by route
    std::uint64_t rejected_connections_ = 0;
};

}  // namespace containd::api::detail
