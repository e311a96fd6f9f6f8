// Conditional Access policies, named locations, and the policy evaluation the attacker model uses.
#include <algorithm>

#include "core/ids.hpp"
#include "core/time.hpp"
#include "sim/tenant.hpp"

namespace containd::sim {
namespace {

bool contains(const json& arr, const std::string& v) {
    if (!arr.is_array()) return false;
    for (const auto& e : arr)
        if (e.is_string() && e.get<std::string>() == v) return true;
    return false;
}

// JSON merge for PATCH: objects merge member-wise, everything else replaces.
void merge(json& into, const json& patch) {
    for (auto it = patch.begin(); it != patch.end(); ++it) {
        if (it->is_object() && into.contains(it.key()) && into[it.key()].is_object())
            merge(into[it.key()], *it);
        else
            into[it.key()] = *it;
    }
}

std::string client_app_type(const std::string& client_app_used) {
    if (client_app_used == "Browser") return "browser";
    if (client_app_used == "Mobile Apps and Desktop clients") return "mobileAppsAndDesktopClients";
    if (client_app_used == "Exchange ActiveSync") return "exchangeActiveSync";
    return "other";
}

bool is_office365_app(const std::string& app_id) {
    static const std::vector<std::string> office = {
        "00000002-0000-0ff1-ce00-000000000000",  // Office 365 Exchange Online
        "00000003-0000-0ff1-ce00-000000000000",  // Office 365 SharePoint Online
        "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe",  // Microsoft Teams Services
        "1fec8e78-bce4-4aaf-ab1b-5451cc387264",  // Microsoft Teams
        "4765445b-32c6-49b0-83e6-1d93765276ca",  // OfficeHome
        "d3590ed6-52b3-4102-aeff-aad2292ab01c",  // Microsoft Office
    };
    return std::find(office.begin(), office.end(), app_id) != office.end();
}

const std::vector<std::string>& policy_props() {
    static const std::vector<std::string> p = {"id",          "displayName", "createdDateTime", "modifiedDateTime",
                                               "state",       "conditions",  "grantControls",   "sessionControls",
                                               "description", "templateId",  "@odata.type"};
    return p;
}

}  // namespace

json tenant::normalise_policy(json p) {
    if (!p.is_object()) return p;
    for (const char* k : {"description", "templateId", "sessionControls", "modifiedDateTime", "createdDateTime"})
        if (!p.contains(k)) p[k] = nullptr;
    if (!p.contains("grantControls")) p["grantControls"] = nullptr;
    if (p["grantControls"].is_object()) {
        auto& g = p["grantControls"];
        if (!g.contains("operator")) g["operator"] = "OR";
        for (const char* k : {"builtInControls", "customAuthenticationFactors", "termsOfUse"})
            if (!g.contains(k)) g[k] = json::array();
        if (!g.contains("authenticationStrength")) g["authenticationStrength"] = nullptr;
    }
    if (p.contains("conditions") && p["conditions"].is_object()) {
        auto& c = p["conditions"];
        for (const char* k : {"userRiskLevels", "signInRiskLevels", "servicePrincipalRiskLevels"})
            if (!c.contains(k)) c[k] = json::array();
        if (!c.contains("clientAppTypes")) c["clientAppTypes"] = json::array({"all"});
        // Only what v1.0's conditionalAccessConditionSet declares (times and deviceStates are beta).
        for (const char* k : {"platforms", "locations", "devices", "clientApplications"})
            if (!c.contains(k)) c[k] = nullptr;
        if (c.contains("applications") && c["applications"].is_object()) {
            auto& a = c["applications"];
            for (const char* k : {"includeApplications", "excludeApplications", "includeUserActions",
                                  "includeAuthenticationContextClassReferences"})
                if (!a.contains(k)) a[k] = json::array();
            if (!a.contains("applicationFilter")) a["applicationFilter"] = nullptr;
        }
        if (c.contains("users") && c["users"].is_object()) {
            auto& u = c["users"];
            for (const char* k :
                 {"includeUsers", "excludeUsers", "includeGroups", "excludeGroups", "includeRoles", "excludeRoles"})
                if (!u.contains(k)) u[k] = json::array();
            for (const char* k : {"includeGuestsOrExternalUsers", "excludeGuestsOrExternalUsers"})
                if (!u.contains(k)) u[k] = nullptr;
        }
        if (c["locations"].is_object()) {
            for (const char* k : {"includeLocations", "excludeLocations"})
                if (!c["locations"].contains(k)) c["locations"][k] = json::array();
        }
    }
    return p;
}

std::optional<std::string> tenant::validate_policy(const json& p) const {
    if (!p.is_object()) return "the policy must be an object";
    for (auto it = p.begin(); it != p.end(); ++it)
        if (std::find(policy_props().begin(), policy_props().end(), it.key()) == policy_props().end())
            return "Property '" + it.key() + "' does not exist on type 'microsoft.graph.conditionalAccessPolicy'.";
    if (!p.contains("displayName") || !p["displayName"].is_string() || p["displayName"].get<std::string>().empty())
        return "displayName is required.";
    const auto state = p.value("state", "");
    if (state != "enabled" && state != "disabled" && state != "enabledForReportingButNotEnforced")
        return "state must be enabled, disabled or enabledForReportingButNotEnforced.";
    if (!p.contains("conditions") || !p["conditions"].is_object()) return "conditions is required.";
    const auto& c = p["conditions"];
    if (!c.contains("applications") || !c["applications"].is_object()) return "conditions.applications is required.";
    const bool has_users = c.contains("users") && c["users"].is_object();
    const bool has_clients = c.contains("clientApplications") && c["clientApplications"].is_object();
    if (!has_users && !has_clients) return "conditions.users or conditions.clientApplications is required.";
    if (has_users) {
        for (const char* k : {"includeUsers", "excludeUsers"})
            for (const auto& v : c["users"].value(k, json::array())) {
                if (!v.is_string()) return std::string("conditions.users.") + k + " must hold strings.";
                const auto s = v.get<std::string>();
                if (s != "All" && s != "None" && s != "GuestsOrExternalUsers" && !is_guid(s))
                    return std::string("conditions.users.") + k + " contains an invalid value '" + s + "'.";
            }
    }
    for (const auto& v : c.value("clientAppTypes", json::array())) {
        static const std::vector<std::string> ok = {
            "all", "browser", "mobileAppsAndDesktopClients", "exchangeActiveSync", "easSupported", "other"};
        if (!v.is_string() || std::find(ok.begin(), ok.end(), v.get<std::string>()) == ok.end())
            return "conditions.clientAppTypes contains an invalid value.";
    }
    if (c.contains("locations") && c["locations"].is_object()) {
        for (const char* k : {"includeLocations", "excludeLocations"})
            for (const auto& v : c["locations"].value(k, json::array())) {
                if (!v.is_string()) return "locations must be strings.";
                const auto s = v.get<std::string>();
                if (s == "All" || s == "AllTrusted" || s == "00000000-0000-0000-0000-000000000000") continue;
                bool found = false;
                for (const auto& l : locations_) found = found || l["id"] == s;
                if (!found) return "The named location '" + s + "' does not exist.";
            }
    }
    const json g = p.value("grantControls", json(nullptr));
    const json sess = p.value("sessionControls", json(nullptr));
    if (g.is_null() && sess.is_null()) return "A policy needs grantControls or sessionControls.";
    if (g.is_object()) {
        const auto op = g.value("operator", "OR");
        if (op != "AND" && op != "OR") return "grantControls.operator must be AND or OR.";
        const auto ctl = g.value("builtInControls", json::array());
        static const std::vector<std::string> ok = {"block",
                                                    "mfa",
                                                    "compliantDevice",
                                                    "domainJoinedDevice",
                                                    "approvedApplication",
                                                    "compliantApplication",
                                                    "passwordChange"};
        for (const auto& v : ctl)
            if (!v.is_string() || std::find(ok.begin(), ok.end(), v.get<std::string>()) == ok.end())
                return "grantControls.builtInControls contains an invalid value.";
        if (contains(ctl, "block") && ctl.size() > 1)
            return "The block control cannot be combined with other controls.";
        if (ctl.empty() && g.value("termsOfUse", json::array()).empty() &&
            g.value("customAuthenticationFactors", json::array()).empty() &&
            g.value("authenticationStrength", json(nullptr)).is_null())
            return "grantControls must name at least one control.";
    }
    return std::nullopt;
}

bool tenant::ip_in_location(const std::string& ip, const std::string& location_id, bool trusted_only) const {
    for (const auto& l : locations_) {
        if (!trusted_only && l["id"] != location_id) continue;
        if (trusted_only && !l.value("isTrusted", false)) continue;
        for (const auto& r : l.value("ipRanges", json::array()))
            if (ip_in_cidr(ip, r.value("cidrAddress", ""))) return true;
    }
    return false;
}

tenant::ca_outcome tenant::evaluate_ca(const user_rec& u, const std::string& app_id, const std::string& ip,
                                       const std::string& client_app_used) const {
    ca_outcome out;
    const std::string uid = u.g["id"];
    std::vector<std::string> role_templates;
    for (const auto& r : roles_)
        if (std::find(u.role_ids.begin(), u.role_ids.end(), r.g["id"]) != u.role_ids.end())
            role_templates.push_back(r.g["roleTemplateId"]);
    const std::string risk_level = u.risk ? u.risk->value("riskLevel", "none") : "none";
    bool any_enabled_applied = false;
    for (const auto& rec : policies_) {
        const auto& p = rec.g;
        const std::string state = p["state"];
        json entry = {{"id", p["id"]},
                      {"displayName", p["displayName"]},
                      {"enforcedGrantControls", json::array()},
                      {"enforcedSessionControls", json::array()}};
        if (state == "disabled") {
            entry["result"] = "notEnabled";
            out.applied.push_back(entry);
            continue;
        }
        const auto& c = p["conditions"];
        bool match = true;
        // users
        if (c["users"].is_object()) {
            const auto& us = c["users"];
            bool inc = contains(us["includeUsers"], "All") || contains(us["includeUsers"], uid);
            for (const auto& g : u.group_ids) inc = inc || contains(us["includeGroups"], g);
            for (const auto& t : role_templates) inc = inc || contains(us["includeRoles"], t);
            bool exc = contains(us["excludeUsers"], uid);
            for (const auto& g : u.group_ids) exc = exc || contains(us["excludeGroups"], g);
            for (const auto& t : role_templates) exc = exc || contains(us["excludeRoles"], t);
            match = inc && !exc;
        } else {
            match = false;
        }
        // applications
        if (match) {
            const auto& ap = c["applications"];
            const bool inc = contains(ap["includeApplications"], "All") ||
                             contains(ap["includeApplications"], app_id) ||
                             (contains(ap["includeApplications"], "Office365") && is_office365_app(app_id));
            const bool exc = contains(ap["excludeApplications"], app_id) ||
                             (contains(ap["excludeApplications"], "Office365") && is_office365_app(app_id));
            match = inc && !exc;
        }
        // client app types
        if (match) {
            const auto& types = c["clientAppTypes"];
            match = types.empty() || contains(types, "all") || contains(types, client_app_type(client_app_used));
        }
        // locations
        if (match && c["locations"].is_object()) {
            const auto& loc = c["locations"];
            bool inc = loc["includeLocations"].empty() || contains(loc["includeLocations"], "All");
            for (const auto& l : loc["includeLocations"])
                if (l.is_string() && l != "All")
                    inc = inc || (l == "AllTrusted" ? ip_in_location(ip, "", true) : ip_in_location(ip, l, false));
            bool exc = false;
            for (const auto& l : loc["excludeLocations"])
                if (l.is_string())
                    exc = exc || (l == "AllTrusted" ? ip_in_location(ip, "", true) : ip_in_location(ip, l, false));
            match = inc && !exc;
        }
        // risk conditions
        if (match && !c["userRiskLevels"].empty()) match = contains(c["userRiskLevels"], risk_level);
        if (match && !c["signInRiskLevels"].empty()) match = contains(c["signInRiskLevels"], "none");
        const bool report_only = state == "enabledForReportingButNotEnforced";
        const auto& g = p["grantControls"];
        const bool blocks = g.is_object() && contains(g["builtInControls"], "block");
        if (!match) {
            entry["result"] = report_only ? "reportOnlyNotApplied" : "notApplied";
        } else {
            json enforced = json::array();
            if (g.is_object())
                for (const auto& ctl : g["builtInControls"]) {
                    const auto s = ctl.get<std::string>();
                    enforced.push_back(s == "block" ? "Block" : s == "mfa" ? "Mfa" : s);
                }
            entry["enforcedGrantControls"] = enforced;
            if (report_only) {
                entry["result"] = blocks ? "reportOnlyFailure" : "reportOnlySuccess";
            } else {
                any_enabled_applied = true;
                entry["result"] = blocks ? "failure" : "success";
                if (blocks) {
                    out.blocked = true;
                    if (rec.enabled_at && (!out.block_enabled_at || *rec.enabled_at < *out.block_enabled_at))
                        out.block_enabled_at = rec.enabled_at;
                }
            }
        }
        out.applied.push_back(entry);
    }
    out.status = out.blocked ? "failure" : any_enabled_applied ? "success" : "notApplied";
    return out;
}

graph_reply tenant::conditional_access(const graph_call& c, time_point now) {
    if (c.segs.size() < 2 || c.segs[1] != "conditionalAccess")
        return bad_segment(c, now, c.segs.size() > 1 ? c.segs[1] : c.segs[0]);
    if (c.segs.size() < 3) return bad_segment(c, now, "conditionalAccess");
    if (c.segs[2] == "policies") return policies(c, now);
    if (c.segs[2] == "namedLocations") return named_locations(c, now);
    return bad_segment(c, now, c.segs[2]);
}

graph_reply tenant::policies(const graph_call& c, time_point now) {
    if (c.segs.size() == 3) {
        if (c.method == "GET") {
            graph_reply err;
            bool has = false;
            auto f = filter_of(c, now, {"id", "displayName", "state", "createdDateTime", "modifiedDateTime"},
                               "conditionalAccessPolicy", err, has);
            if (has && !f) return err;
            std::vector<json> items;
            for (const auto& p : policies_)
                if (!f || odata::evaluate(*f, p.g)) items.push_back(p.g);
            return page(c, now, std::move(items), ctx(c, "identity/conditionalAccess/policies"), 1000, 1000);
        }
        if (c.method == "POST") {
            if (!c.body.is_object()) return error(400, "BadRequest", "Empty Payload. JSON content expected.", c, now);
            json body = c.body;
            body.erase("@odata.type");
            for (const char* ro : {"id", "createdDateTime", "modifiedDateTime"})
                if (body.contains(ro) && !body[ro].is_null())
                    return error(400, "BadRequest", std::string("Property '") + ro + "' is read-only.", c, now);
            json p = normalise_policy(body);
            if (auto bad = validate_policy(p)) return error(400, "BadRequest", *bad, c, now);
            p["id"] = new_guid();
            p["createdDateTime"] = format_rfc3339(now);
            p["modifiedDateTime"] = nullptr;
            policy_rec r{p, std::nullopt};
            if (p["state"] == "enabled") r.enabled_at = now;
            policies_.push_back(r);
            add_audit(now, "Add conditional access policy", "Policy", "Conditional Access", "Add", c.client_id,
                      json::array({{{"id", p["id"]},
                                    {"displayName", p["displayName"]},
                                    {"type", "Policy"},
                                    {"userPrincipalName", nullptr},
                                    {"groupType", nullptr},
                                    {"modifiedProperties", json::array()}}}));
            json out = p;
            out["@odata.context"] = ctx(c, "identity/conditionalAccess/policies/$entity");
            return ok(out, 201);
        }
        return method_not_allowed(c, now);
    }
    if (c.segs.size() != 4) return bad_segment(c, now, c.segs[4]);
    const auto& pid = c.segs[3];
    auto it = std::find_if(policies_.begin(), policies_.end(), [&](const policy_rec& p) { return p.g["id"] == pid; });
    if (it == policies_.end()) return not_found(c, now, pid);
    if (c.method == "GET") {
        json v = it->g;
        v["@odata.context"] = ctx(c, "identity/conditionalAccess/policies/$entity");
        return ok(v);
    }
    if (c.method == "PATCH") {
        if (!c.body.is_object()) return error(400, "BadRequest", "Empty Payload. JSON content expected.", c, now);
        json body = c.body;
        body.erase("@odata.type");
        for (const char* ro : {"id", "createdDateTime", "modifiedDateTime"})
            if (body.contains(ro))
                return error(400, "BadRequest", std::string("Property '") + ro + "' is read-only.", c, now);
        json merged = it->g;
        merge(merged, body);
        merged = normalise_policy(merged);
        if (auto bad = validate_policy(merged)) return error(400, "BadRequest", *bad, c, now);
        const bool was_enabled = it->g["state"] == "enabled";
        merged["modifiedDateTime"] = format_rfc3339(now);
        it->g = merged;
        if (merged["state"] == "enabled" && !was_enabled) it->enabled_at = now;
        if (merged["state"] != "enabled") it->enabled_at.reset();
        add_audit(now, "Update conditional access policy", "Policy", "Conditional Access", "Update", c.client_id,
                  json::array({{{"id", pid},
                                {"displayName", merged["displayName"]},
                                {"type", "Policy"},
                                {"userPrincipalName", nullptr},
                                {"groupType", nullptr},
                                {"modifiedProperties", json::array()}}}));
        return no_content();
    }
    if (c.method == "DELETE") {
        add_audit(now, "Delete conditional access policy", "Policy", "Conditional Access", "Delete", c.client_id,
                  json::array({{{"id", pid},
                                {"displayName", it->g["displayName"]},
                                {"type", "Policy"},
                                {"userPrincipalName", nullptr},
                                {"groupType", nullptr},
                                {"modifiedProperties", json::array()}}}));
        policies_.erase(it);
        return no_content();
    }
    return method_not_allowed(c, now);
}

graph_reply tenant::named_locations(const graph_call& c, time_point now) {
    auto validate = [&](const json& l) -> std::optional<std::string> {
        const auto type = l.value("@odata.type", "");
        if (type != "#microsoft.graph.ipNamedLocation" && type != "#microsoft.graph.countryNamedLocation")
            return "@odata.type must be #microsoft.graph.ipNamedLocation or #microsoft.graph.countryNamedLocation.";
        if (!l.contains("displayName") || !l["displayName"].is_string()) return "displayName is required.";
        if (type == "#microsoft.graph.ipNamedLocation") {
            if (!l.contains("ipRanges") || !l["ipRanges"].is_array() || l["ipRanges"].empty())
                return "ipRanges is required.";
            for (const auto& r : l["ipRanges"]) {
                const auto cidr = r.value("cidrAddress", "");
                const auto ip = cidr.substr(0, cidr.find('/'));
                if (!ip_in_cidr(ip, cidr)) return "Invalid cidrAddress '" + cidr + "'.";
            }
        } else if (!l.contains("countriesAndRegions") || !l["countriesAndRegions"].is_array()) {
            return "countriesAndRegions is required.";
        }
        return std::nullopt;
    };
    if (c.segs.size() == 3) {
        if (c.method == "GET") {
            graph_reply err;
            bool has = false;
            auto f = filter_of(c, now, {"id", "displayName", "createdDateTime", "modifiedDateTime"}, "namedLocation",
                               err, has);
            if (has && !f) return err;
            std::vector<json> items;
            for (const auto& l : locations_)
                if (!f || odata::evaluate(*f, l)) items.push_back(l);
            return page(c, now, std::move(items), ctx(c, "identity/conditionalAccess/namedLocations"), 1000, 1000);
        }
        if (c.method == "POST") {
            if (!c.body.is_object()) return error(400, "BadRequest", "Empty Payload. JSON content expected.", c, now);
            json l = c.body;
            if (auto bad = validate(l)) return error(400, "BadRequest", *bad, c, now);
            l["id"] = new_guid();
            l["createdDateTime"] = format_rfc3339(now);
            l["modifiedDateTime"] = format_rfc3339(now);
            if (l["@odata.type"] == "#microsoft.graph.ipNamedLocation" && !l.contains("isTrusted"))
                l["isTrusted"] = false;
            locations_.push_back(l);
            l["@odata.context"] = ctx(c, "identity/conditionalAccess/namedLocations/$entity");
            return ok(l, 201);
        }
        return method_not_allowed(c, now);
    }
    if (c.segs.size() != 4) return bad_segment(c, now, c.segs[4]);
    const auto& lid = c.segs[3];
    auto it = std::find_if(locations_.begin(), locations_.end(), [&](const json& l) { return l["id"] == lid; });
    if (it == locations_.end()) return not_found(c, now, lid);
    if (c.method == "GET") {
        json v = *it;
        v["@odata.context"] = ctx(c, "identity/conditionalAccess/namedLocations/$entity");
        return ok(v);
    }
    if (c.method == "PATCH") {
        if (!c.body.is_object()) return error(400, "BadRequest", "Empty Payload. JSON content expected.", c, now);
        json merged = *it;
        for (auto b = c.body.begin(); b != c.body.end(); ++b) merged[b.key()] = b.value();
        if (merged["@odata.type"] != (*it)["@odata.type"])
            return error(400, "BadRequest", "The @odata.type cannot change.", c, now);
        if (auto bad = validate(merged)) return error(400, "BadRequest", *bad, c, now);
        merged["modifiedDateTime"] = format_rfc3339(now);
        *it = merged;
        return no_content();
    }
    if (c.method == "DELETE") {
        for (const auto& p : policies_) {
            const auto& loc = p.g["conditions"]["locations"];
            if (loc.is_object() && (contains(loc["includeLocations"], lid) || contains(loc["excludeLocations"], lid)))
                return error(400, "BadRequest",
                             "The named location is referenced by one or more Conditional Access policies.", c, now);
        }
        locations_.erase(it);
        return no_content();
    }
    return method_not_allowed(c, now);
}

}  // namespace containd::sim
