#pragma once
// Notifications, the pure part: which committed events are worth telling someone about, the
// payload each becomes (generic JSON, a Microsoft Teams Adaptive Card, a Slack Block Kit
// message) and the signature over it. No I/O: lib/notify/notifier.* does that.
//
// A payload is built from a whitelist of fields (ids, statuses, counts, the attention and
// diagnosis texts the API shows anyway): never from a step's intent, a secret's name or value,
// a token, or any field copied wholesale from an event.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "store/store.hpp"

namespace containd::notify {

// A notification before it is addressed to subscribers.
struct notification {
    std::string source;  // unique per cause: "event:<id>", "approval:<incident>:<kind>:<target>", "health:<tenant>:<n>"
    std::string kind;    // one of config::notification_kinds
    std::optional<std::string> incident_id;
    std::string tenant;
    nlohmann::json payload;  // the generic JSON payload (schema/notification.schema.json)
};

// What the pump knows of an event's incident and step when it maps the event.
struct event_context {
    std::string tenant;
    std::optional<std::string> external_ref;
    std::string status;  // the incident's status now
    std::string phase;
    std::optional<std::string> step_kind;  // the event's step, if it names one
    std::optional<std::string> step_target;
};

// The notifications one committed event causes (most cause none).
std::vector<notification> from_event(const store::event_record& e, const event_context& ctx);

// An operator approval a step waits for (seen when the plan is made or refined).
notification approval_waiting(const std::string& incident_id, const event_context& ctx, int seq,
                              const std::string& step_kind, const std::string& target, time_point at);

// A tenant's health moved (healthy <-> not). n: how many times it has changed (the source).
notification tenant_health(const std::string& tenant, bool healthy, const std::vector<std::string>& gaps,
                           std::int64_t n, time_point at);

// The body sent to a subscriber of this format ("json", "teams", "slack").
std::string render(const nlohmann::json& payload, std::string_view format);

// "sha256=" + hex(HMAC-SHA256(key, timestamp + "." + body)): the X-Containd-Signature header.
std::string sign(std::string_view key, std::string_view timestamp, std::string_view body);
// Constant-time check of a received signature header (receivers, tests).
bool verify(std::string_view key, std::string_view timestamp, std::string_view body, std::string_view header);

}  // namespace containd::notify
