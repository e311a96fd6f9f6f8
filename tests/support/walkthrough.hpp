#pragma once
// The seeds' walkthrough as the end-to-end tests use it: the tenant settings that match
// config/scenarios/bec-walkthrough.json, the SOC's incident, and small readers of the
// simulator's journal and state.

#include <algorithm>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/contoso.hpp"
#include "support/live_tenant.hpp"

namespace containd::testing {

// The walkthrough's users' object ids (config/scenarios/bec-walkthrough.json).
inline constexpr const char* breakglass1 = "0b1e7c6a-3f2d-4e51-9a8b-1c2d3e4f5a01";
inline constexpr const char* breakglass2 = "0b1e7c6a-3f2d-4e51-9a8b-1c2d3e4f5a02";
inline constexpr const char* finance_director = "0b1e7c6a-3f2d-4e51-9a8b-1c2d3e4f5a04";
inline constexpr const char* ap_clerk = "0b1e7c6a-3f2d-4e51-9a8b-1c2d3e4f5a05";
inline constexpr const char* procurement_mgr = "0b1e7c6a-3f2d-4e51-9a8b-1c2d3e4f5a06";
inline constexpr const char* cfo_assistant = "0b1e7c6a-3f2d-4e51-9a8b-1c2d3e4f5a07";
inline constexpr const char* pat_obrien = "0b1e7c6a-3f2d-4e51-9a8b-1c2d3e4f5a10";
inline constexpr const char* walkthrough_policy_id = "5e8a3c1f-0d2b-4f6e-9a7c-3b1d2e4f5a60";
inline constexpr const char* walkthrough_ir_location = "6d1f0a2b-3c4d-4e5f-8a9b-0c1d2e3f4a51";
inline constexpr const char* walkthrough_doc_sync_app = "c7a1e5d2-9b3f-4a6c-8e1d-2f5b7c9a0e34";

// The daemon's configuration for the walkthrough tenant: its emergency policy, the IR named
// location and both break-glass accounts.
inline live_options walkthrough_options() {
    live_options o;
    o.tenant.name = "contoso";
    o.tenant.emergency_policy_id = walkthrough_policy_id;
    o.tenant.ir_named_locations = {walkthrough_ir_location};
    o.tenant.break_glass_upns = {"breakglass1@contoso.com", "breakglass2@contoso.com"};
    return o;
}

// The SOC's submission: the four finance accounts, the attacker's IPs and app.
inline nlohmann::json seeds_incident() {
    nlohmann::json j = walkthrough_submission();
    j["attacker_ips"] = {"203.0.113.66", "203.0.113.71"};
    j["malicious_apps"] = {{{"app_id", walkthrough_doc_sync_app}}};
    return j;
}

// A JSON array of strings, sorted (empty when j is not an array).
inline std::vector<std::string> sorted_strings(const nlohmann::json& j) {
    std::vector<std::string> out;
    if (j.is_array())
        for (const auto& v : j) out.push_back(v.get<std::string>());
    std::sort(out.begin(), out.end());
    return out;
}

// The element of a JSON array whose `key` equals `value`, or nullptr.
inline const nlohmann::json* find_by(const nlohmann::json& list, const char* key, const std::string& value) {
    if (!list.is_array()) return nullptr;
    for (const auto& item : list)
        if (item.value(key, "") == value) return &item;
    return nullptr;
}

// Index in the journal of the first successful request matching method and path regex (and
// containing body_contains), from `from`.
inline std::optional<std::size_t> first_request(const std::vector<sim::journal_entry>& j, const std::string& method,
                                                const std::string& path, const std::string& body_contains = "",
                                                std::size_t from = 0) {
    const std::regex re(path);
    for (std::size_t i = from; i < j.size(); ++i)
        if (j[i].method == method && std::regex_search(j[i].path, re) &&
            (body_contains.empty() || j[i].body.find(body_contains) != std::string::npos) && j[i].status < 300)
            return i;
    return std::nullopt;
}

}  // namespace containd::testing
