#pragma once
// What the handlers share: the context (store, engine, clock, tenants), the settings, the
// metrics and the event-stream hub. Beast-free.
//
// Two threads may touch it (see server.hpp): handlers run on the work executor (the store's and
// the engine's thread); the network executor parses, answers cached views and runs the event
// streams. What both touch is atomic or behind a mutex; the hub belongs to the network thread,
// and wake_streams() is how the work side reaches it.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "api/metrics.hpp"
#include "api/server.hpp"
#include "api/sse.hpp"

namespace containd::api::detail {

// Rendered GET /v1/incidents/{id} bodies. An entry is dropped after every committed change of
// its incident (the engine's change observer), so a hit is never stale; the whole map is
// dropped when it outgrows its limit.
class view_cache {
public:
    std::optional<std::string> find(const std::string& id) const {
        const std::lock_guard lock(mutex_);
        const auto it = views_.find(id);
        if (it == views_.end()) return std::nullopt;
        return it->second;
    }
    void put(const std::string& id, const std::string& body) {
        const std::lock_guard lock(mutex_);
        if (views_.size() >= limit) views_.clear();
        views_.insert_or_assign(id, body);
    }
    void drop(const std::string& id) {
        const std::lock_guard lock(mutex_);
        views_.erase(id);
    }
    static constexpr std::size_t limit = 4096;

private:
    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::string> views_;
};

// The API tokens, replaced whole when the configuration is reloaded (SIGHUP): a request reads
// the set that is current when it is authenticated. Any thread.
class token_table {
public:
    explicit token_table(std::vector<config::api_token> tokens)
            : tokens_(std::make_shared<const std::vector<config::api_token>>(std::move(tokens))) {}
    std::shared_ptr<const std::vector<config::api_token>> current() const {
        const std::lock_guard lock(mutex_);
        return tokens_;
    }
    void replace(std::vector<config::api_token> tokens) {
        auto next = std::make_shared<const std::vector<config::api_token>>(std::move(tokens));
        const std::lock_guard lock(mutex_);
        tokens_ = std::move(next);
    }

private:
    mutable std::mutex mutex_;
    std::shared_ptr<const std::vector<config::api_token>> tokens_;
};

struct api_state {
    api_state(config::api_settings s, context c) : settings(std::move(s)), ctx(std::move(c)), tokens(settings.tokens) {}

    config::api_settings settings;  // settings.tokens: as at start; `tokens` is what is in force
    context ctx;                    // work executor only
    token_table tokens;
    metrics stats;
    stream_hub hub;  // network executor only
    view_cache views;
    // Wakes the event streams of an incident from either thread (posts to the network thread).
    std::function<void(const std::string& incident_id)> wake_streams = [](const std::string&) {};
    std::atomic<bool> ready{false};
    std::atomic<bool> stopping{false};
    std::atomic<std::size_t> open_connections{0};
};

}  // namespace containd::api::detail
