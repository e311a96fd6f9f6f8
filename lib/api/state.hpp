#pragma once
// What the handlers share: the context (store, engine, clock, tenants), the settings, the
// metrics and the event-stream hub. Lives on the io thread; Beast-free.

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
    bool ready = false;
    bool stopping = false;
    std::size_t open_connections = 0;
};

}  // namespace containd::api::detail
