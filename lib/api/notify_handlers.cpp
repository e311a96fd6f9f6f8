#include "api/notify_handlers.hpp"

#include <charconv>

#include "api/problem.hpp"
#include "core/time.hpp"
#include "notify/outbox.hpp"

namespace containd::api::detail {

response handle_notifications(api_state& st, const request& req, const caller&, const path_params&) {
    std::vector<incident::field_error> errors;
    notify::outbox::list_filter f;
    auto number = [&](const std::string& key, std::int64_t min, std::int64_t max) -> std::optional<std::int64_t> {
        const auto it = req.query.find(key);
        if (it == req.query.end()) return std::nullopt;
        std::int64_t v = 0;
        const auto* end = it->second.data() + it->second.size();
        const auto [p, ec] = std::from_chars(it->second.data(), end, v);
        if (ec != std::errc() || p != end || v < min || v > max) {
            errors.push_back({key, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max)});
            return std::nullopt;
        }
        return v;
    };
    for (const auto& [key, value] : req.query) {
        if (key == "status") {
            if (value != "pending" && value != "delivered" && value != "failed")
                errors.push_back({"status", "must be pending, delivered or failed"});
            else
                f.status = value;
        } else if (key == "incident_id" || key == "subscriber") {
            if (value.empty() || value.size() > 64)
                errors.push_back({key, "must be 1 to 64 characters"});
            else
                (key == "subscriber" ? f.subscriber : f.incident_id) = value;
        } else if (key != "limit" && key != "cursor") {
            errors.push_back({key.substr(0, 64), "unknown query parameter"});
        }
    }
    if (auto l = number("limit", 1, 500)) f.limit = static_cast<std::size_t>(*l);
    if (auto c = number("cursor", 1, INT64_MAX)) f.before_id = *c;
    if (!errors.empty()) return bad_request("The query has invalid parameters.", errors);

    const std::size_t page = f.limit;
    f.limit = page + 1;
    auto rows = notify::outbox::list(st.ctx.db, f);
    const bool more = rows.size() > page;
    if (more) rows.resize(page);
    nlohmann::json out = {{"notifications", nlohmann::json::array()}, {"next_cursor", nullptr}};
    for (const auto& d : rows) {
        nlohmann::json j = {{"id", d.id},
                            {"subscriber", d.subscriber},
                            {"kind", d.kind},
                            {"source", d.source},
                            {"incident_id", d.incident_id ? nlohmann::json(*d.incident_id) : nlohmann::json(nullptr)},
                            {"tenant", d.tenant},
                            {"status", d.status},
                            {"attempts", d.attempts},
                            {"created_at", format_rfc3339(d.created_at)},
                            {"last_code", d.last_code ? nlohmann::json(*d.last_code) : nlohmann::json(nullptr)},
                            {"last_error", d.last_error ? nlohmann::json(*d.last_error) : nlohmann::json(nullptr)}};
        if (d.status == "pending") j["next_attempt_at"] = format_rfc3339(d.next_attempt_at);
        if (d.delivered_at) j["delivered_at"] = format_rfc3339(*d.delivered_at);
        out["notifications"].push_back(std::move(j));
    }
    if (more && !rows.empty()) out["next_cursor"] = std::to_string(rows.back().id);
    return json_response(200, out);
}

}  // namespace containd::api::detail
