#pragma once
// The durable outbox (schema/0002_notify.sql): deliveries owed to webhook subscribers, the event
// pump's cursor, and each tenant's last health. The only code that writes these tables; it uses
// the store's connection, on the store's thread.
//
// At least once: a row is inserted in the same transaction that moves the cursor past its event,
// and stays pending until a receiver answers 2xx. (subscriber, source) is unique, so a cause is
// owed to a subscriber once however often it is seen again.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "notify/notification.hpp"
#include "store/store.hpp"

namespace containd::notify::outbox {

// An event with what the pump needs of its incident and step.
struct pump_event {
    store::event_record event;
    event_context context;
    time_point incident_created_at{};
};

std::int64_t cursor(store::store& db);
// Events with id > after, oldest first (without their hashes).
std::vector<pump_event> events_after(store::store& db, std::int64_t after, std::size_t limit);

struct waiting_step {
    int seq = 0;
    std::string kind;
    std::string target;
};
std::vector<waiting_step> waiting_approvals(store::store& db, const std::string& incident_id);

// One transaction: the rows (INSERT OR IGNORE) and the cursor. Returns the rows inserted.
std::size_t commit_batch(store::store& db, const std::vector<std::pair<std::string, notification>>& rows,
                         std::optional<std::int64_t> new_cursor, time_point now);

struct delivery {
    std::int64_t id = 0;
    std::string subscriber;
    std::string source;
    std::string kind;
    std::optional<std::string> incident_id;
    std::string tenant;
    nlohmann::json payload;
    std::string status;  // pending | delivered | failed
    int attempts = 0;
    time_point next_attempt_at{};
    std::optional<int> last_code;
    std::optional<std::string> last_error;
    time_point created_at{};
    std::optional<time_point> delivered_at;
};

std::vector<delivery> due(store::store& db, const std::string& subscriber, time_point now, std::size_t limit);
void mark_delivered(store::store& db, std::int64_t id, int code, time_point now);
void mark_retry(store::store& db, std::int64_t id, int code, const std::string& error, time_point next);
void mark_failed(store::store& db, std::int64_t id, int code, const std::string& error);

struct list_filter {
    std::optional<std::string> status;
    std::optional<std::string> incident_id;
    std::optional<std::string> subscriber;
    std::int64_t before_id = 0;  // 0: from the newest
    std::size_t limit = 100;
};
std::vector<delivery> list(store::store& db, const list_filter& f);  // newest first
// (subscriber, status) -> rows.
std::map<std::pair<std::string, std::string>, std::int64_t> counts(store::store& db);

struct health_row {
    bool healthy = true;
    std::vector<std::string> gaps;
    time_point checked_at{};
    std::int64_t changes = 0;
};
std::optional<health_row> health(store::store& db, const std::string& tenant);
// Records a check; returns the new change count when the state moved (or is seen the first
// time unhealthy), nullopt when it did not.
std::optional<std::int64_t> record_health(store::store& db, const std::string& tenant, bool healthy,
                                          const std::vector<std::string>& gaps, time_point at);

}  // namespace containd::notify::outbox
