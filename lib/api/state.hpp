#pragma once
// What the handlers share: the context (store, engine, clock, tenants), the settings, the
// metrics and the event-stream hub. Lives on the io thread; Beast-free.

#include <unordered_map>

#include "api/metrics.hpp"
#include "api/server.hpp"
#include "api/sse.hpp"

namespace containd::api::detail {

struct api_state {
    api_state(config::api_settings s, context c) : settings(std::move(s)), ctx(std::move(c)) {}

    config::api_settings settings;
    context ctx;
    metrics stats;
    stream_hub hub;
    // Rendered GET /v1/incidents/{id} bodies. An entry is dropped by the engine's change
    // observer after every committed change of its incident, so a hit is never stale; the
    // whole map is dropped when it outgrows view_cache_limit.
    std::unordered_map<std::string, std::string> view_cache;
    static constexpr std::size_t view_cache_limit = 4096;
    bool ready = false;
    bool stopping = false;
    std::size_t open_connections = 0;
};

}  // namespace containd::api::detail
