// Tenant construction from the scenario, shared helpers, Graph dispatch, $batch and throttling.
#include "sim/tenant.hpp"

#include <arpa/inet.h>
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/crypto.hpp"
#include "core/ids.hpp"
#include "core/time.hpp"
#include "sim/tls.hpp"

namespace containd::sim {
namespace {

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

[[noreturn]] void bad_scenario(const std::string& what) { throw std::invalid_argument("scenario: " + what); }

// Graph's innerError date: "2021-04-16T08:26:49" (UTC, no fraction, no zone).
std::string inner_date(time_point now) { return format_rfc3339(now).substr(0, 19); }

const std::map<std::string, std::string>& method_types() {
    static const std::map<std::string, std::string> t = {
        {"phone", "#microsoft.graph.phoneAuthenticationMethod"},
        {"fido2", "#microsoft.graph.fido2AuthenticationMethod"},
        {"microsoftAuthenticator", "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod"},
        {"softwareOath", "#microsoft.graph.softwareOathAuthenticationMethod"},
        {"email", "#microsoft.graph.emailAuthenticationMethod"},
        {"windowsHelloForBusiness", "#microsoft.graph.windowsHelloForBusinessAuthenticationMethod"},
        {"temporaryAccessPass", "#microsoft.graph.temporaryAccessPassAuthenticationMethod"},
        {"password", "#microsoft.graph.passwordAuthenticationMethod"},
    };
    return t;
}

std::string percent_encode_segment(const std::string& s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '@' || c == '\'' || c == '(' ||
            c == ')' || c == '=' || c == ',' || c == '$' || c == ':') {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    return out;
}

}  // namespace

const std::map<std::string, std::string>& role_templates() {
    static const std::map<std::string, std::string> t = {
        {"Global Administrator", "62e90394-69f5-4237-9190-012177145e10"},
        {"Exchange Administrator", "29232cdf-9323-42fd-ade2-1d097af3e4de"},
        {"User Administrator", "fe930be7-5e62-47db-91af-98c3a49a38b1"},
        {"Application Administrator", "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"},
        {"Cloud Application Administrator", "158c047a-c907-4556-b7ef-446551a6b5f7"},
        {"Security Administrator", "194ae4cb-b126-40b2-bd5b-6091b380977d"},
        {"Privileged Authentication Administrator", "7be44c8a-adaf-4e2a-84d6-ab2649e08a13"},
        {"Authentication Administrator", "c4e39bd9-1100-46d3-8c65-fb160da0071f"},
        {"Privileged Role Administrator", "e8611ab8-c189-46e8-94e1-60213ab1f814"},
        {"Helpdesk Administrator", "729827e3-9c14-49f7-bb1b-9608f156bbb8"},
        {"SharePoint Administrator", "f28a1f50-f6e7-4571-818b-6a12f2af6b6c"},
        {"Security Reader", "5d6b6bb7-de71-4623-b4af-96380a352509"},
        {"Global Reader", "f2ef992c-3afb-46b9-b7cf-a126ee74c451"},
        {"Conditional Access Administrator", "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9"},
    };
    return t;
}

// ---------------------------------------------------------------------------------------------
std::optional<duration> window_limiter::admit(const std::string& key, time_point now, std::size_t limit,
                                              duration window) {
    auto& q = seen_[key];
    while (!q.empty() && q.front() <= now - window) q.pop_front();
    if (q.size() >= limit) return q.front() + window - now;
    q.push_back(now);
    return std::nullopt;
}

bool ip_in_cidr(const std::string& ip, const std::string& cidr) {
    const auto slash = cidr.find('/');
    const std::string net = cidr.substr(0, slash);
    unsigned char a[16] = {}, n[16] = {};
    int len = 0;
    if (inet_pton(AF_INET, ip.c_str(), a) == 1 && inet_pton(AF_INET, net.c_str(), n) == 1) {
        len = 32;
    } else if (inet_pton(AF_INET6, ip.c_str(), a) == 1 && inet_pton(AF_INET6, net.c_str(), n) == 1) {
        len = 128;
    } else {
        return false;
    }
    int prefix = len;
    if (slash != std::string::npos) {
        try {
            prefix = std::stoi(cidr.substr(slash + 1));
        } catch (const std::exception&) {
            return false;
        }
    }
    if (prefix < 0 || prefix > len) return false;
    for (int i = 0; prefix > 0; ++i, prefix -= 8) {
        const unsigned char mask = prefix >= 8 ? 0xff : static_cast<unsigned char>(0xff << (8 - prefix));
        if ((a[i] & mask) != (n[i] & mask)) return false;
    }
    return true;
}

// ---------------------------------------------------------------------------------------------
std::string redact_json_body(const std::string& body) {
    auto j = json::parse(body, nullptr, false);
    if (j.is_discarded()) return body;
    bool changed = false;
    auto walk = [&](auto& self, json& v) -> void {
        if (v.is_object()) {
            for (auto it = v.begin(); it != v.end(); ++it) {
                const auto& k = it.key();
                if ((k == "password" || k == "newPassword" || k == "secretText" || k == "temporaryAccessPass" ||
                     k == "client_secret") &&
                    it->is_string()) {
                    const auto s = it->get<std::string>();
                    *it = "[REDACTED len=" + std::to_string(s.size()) + " sha256=" + sha256_hex(s).substr(0, 16) + "]";
                    changed = true;
                } else {
                    self(self, *it);
                }
            }
        } else if (v.is_array()) {
            for (auto& e : v) self(self, e);
        }
    };
    walk(walk, j);
    return changed ? j.dump() : body;
}

std::string redact_form_body(const std::string& body) {
    std::string out;
    std::size_t i = 0;
    while (i <= body.size()) {
        auto amp = body.find('&', i);
        if (amp == std::string::npos) amp = body.size();
        std::string part = body.substr(i, amp - i);
        const auto eq = part.find('=');
        const std::string key = part.substr(0, eq);
        if (key == "client_secret" || key == "client_assertion") part = key + "=[REDACTED]";
        if (!out.empty() || i > 0) out += (i > 0 ? "&" : "");
        out += part;
        if (amp >= body.size()) break;
        i = amp + 1;
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
std::string tenant::new_guid() {
    std::uniform_int_distribution<int> d(0, 255);
    unsigned char b[16];
    for (auto& x : b) x = static_cast<unsigned char>(d(rng_));
    b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
    b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
    static const char* hex = "0123456789abcdef";
    std::string s;
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
        s.push_back(hex[b[i] >> 4]);
        s.push_back(hex[b[i] & 15]);
    }
    return s;
}

std::string tenant::new_opaque_id(std::size_t bytes) {
    std::uniform_int_distribution<int> d(0, 255);
    std::string raw;
    for (std::size_t i = 0; i < bytes; ++i) raw.push_back(static_cast<char>(d(rng_)));
    return base64url_encode(raw);
}

time_point tenant::parse_time(const json& v, const char* what) const {
    if (!v.is_string()) bad_scenario(std::string(what) + ": expected a time string");
    const auto s = v.get<std::string>();
    if (s.rfind("now", 0) == 0) {
        if (s.size() == 3) return start_;
        const char sign = s[3];
        if (sign != '+' && sign != '-') bad_scenario(std::string(what) + ": bad relative time '" + s + "'");
        double n = 0;
        std::size_t used = 0;
        try {
            n = std::stod(s.substr(4), &used);
        } catch (const std::exception&) {
            bad_scenario(std::string(what) + ": bad relative time '" + s + "'");
        }
        const std::string unit = s.substr(4 + used);
        double secs = n;
        if (unit == "s")
            secs = n;
        else if (unit == "m")
            secs = n * 60;
        else if (unit == "h")
            secs = n * 3600;
        else if (unit == "d")
            secs = n * 86400;
        else
            bad_scenario(std::string(what) + ": bad unit in '" + s + "' (s, m, h or d)");
        const auto d = std::chrono::duration_cast<duration>(std::chrono::duration<double>(secs / time_scale_));
        return sign == '+' ? start_ + d : start_ - d;
    }
    auto t = parse_rfc3339(s);
    if (!t) bad_scenario(std::string(what) + ": not an RFC 3339 time: '" + s + "'");
    return *t;
}

std::string tenant::ctx(const graph_call& c, const std::string& fragment) const {
    return base_url_ + "/" + c.version + "/$metadata#" + fragment;
}

graph_reply tenant::ok(json body, int status) const {
    graph_reply r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

graph_reply tenant::no_content() const {
    graph_reply r;
    r.status = 204;
    r.has_body = false;
    return r;
}

graph_reply tenant::error(int status, const std::string& code, const std::string& message, const graph_call& call,
                          time_point now) const {
    graph_reply r;
    r.status = status;
    r.body = {{"error",
               {{"code", code},
                {"message", message},
                {"innerError",
                 {{"date", inner_date(now)},
                  {"request-id", call.request_id},
                  {"client-request-id", call.client_request_id.empty() ? call.request_id : call.client_request_id}}}}}};
    return r;
}

graph_reply tenant::not_found(const graph_call& c, time_point now, const std::string& id) const {
    return error(
        404, "Request_ResourceNotFound",
        "Resource '" + id + "' does not exist or one of its queried reference-property objects are not present.", c,
        now);
}

graph_reply tenant::method_not_allowed(const graph_call& c, time_point now) const {
    return error(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request uri.", c, now);
}

graph_reply tenant::bad_segment(const graph_call& c, time_point now, const std::string& seg) const {
    return error(400, "BadRequest", "Resource not found for the segment '" + seg + "'.", c, now);
}

graph_reply tenant::throttled(const graph_call& c, time_point now, std::optional<duration> retry_after) const {
    graph_reply r;
    r.status = 429;
    r.body = {{"error",
               {{"code", "TooManyRequests"},
                {"message", "Please retry again later."},
                {"innerError",
                 {{"code", "429"},
                  {"date", inner_date(now)},
                  {"message", "Please retry after"},
                  {"request-id", c.request_id},
                  {"status", "429"}}}}}};
    if (retry_after) {
        auto secs = std::chrono::duration_cast<std::chrono::milliseconds>(*retry_after).count();
        const auto whole = std::max<long long>(1, (secs + 999) / 1000);
        r.headers.emplace_back("Retry-After", std::to_string(whole));
    }
    return r;
}

json tenant::select(const json& entity, const std::string& select_list) {
    if (select_list.empty()) return entity;
    json out = json::object();
    std::size_t i = 0;
    while (i <= select_list.size()) {
        auto comma = select_list.find(',', i);
        if (comma == std::string::npos) comma = select_list.size();
        std::string name = select_list.substr(i, comma - i);
        name.erase(0, name.find_first_not_of(' '));
        name.erase(name.find_last_not_of(' ') + 1);
        if (!name.empty() && entity.contains(name)) out[name] = entity[name];
        if (comma >= select_list.size()) break;
        i = comma + 1;
    }
    if (entity.contains("@odata.type")) out["@odata.type"] = entity["@odata.type"];
    return out;
}

odata::node_ptr tenant::filter_of(const graph_call& c, time_point now, const std::vector<std::string>& allowed,
                                  const std::string& type_name, graph_reply& err, bool& has_filter) const {
    has_filter = false;
    auto f = c.query.find("$filter");
    if (f == c.query.end()) return nullptr;
    has_filter = true;
    odata::parse_error pe;
    auto n = odata::parse_filter(f->second, pe);
    if (!n) {
        err = error(400, "BadRequest", "Invalid filter clause: " + pe.message, c, now);
        return nullptr;
    }
    for (const auto& p : odata::referenced_properties(*n)) {
        if (std::find(allowed.begin(), allowed.end(), p) == allowed.end()) {
            err = error(400, "BadRequest",
                        "Could not find a property named '" + p + "' on type 'microsoft.graph." + type_name + "'.", c,
                        now);
            return nullptr;
        }
    }
    return n;
}

graph_reply tenant::page(const graph_call& c, time_point now, std::vector<json> items, const std::string& context,
                         std::size_t default_top, std::size_t max_top, const std::string& snapshot) {
    std::size_t top = default_top;
    if (auto t = c.query.find("$top"); t != c.query.end()) {
        long long v = -1;
        try {
            std::size_t used = 0;
            v = std::stoll(t->second, &used);
            if (used != t->second.size()) v = -1;
        } catch (const std::exception&) {
            v = -1;
        }
        if (v < 1 || static_cast<std::size_t>(v) > max_top)
            return error(400, "Request_BadRequest",
                         "Invalid value '" + t->second +
                             "' for query parameter $top. The value must be between 1 and " + std::to_string(max_top) +
                             ".",
                         c, now);
        top = static_cast<std::size_t>(v);
    }
    // The skiptoken names the query it belongs to (a hash of path and filter), the offset and
    // the snapshot it was cut from.
    std::string qhash;
    {
        std::string key = c.version;
        for (const auto& s : c.segs) key += "/" + s;
        if (auto f = c.query.find("$filter"); f != c.query.end()) key += "?" + f->second;
        qhash = sha256_hex(key).substr(0, 32);
    }
    std::size_t offset = 0;
    if (auto s = c.query.find("$skiptoken"); s != c.query.end()) {
        const auto& tok = s->second;
        const auto u1 = tok.find('_');
        bool good = u1 != std::string::npos && tok.substr(0, u1) == qhash;
        if (good) {
            try {
                const auto u2 = tok.find('_', u1 + 1);
                offset = std::stoull(tok.substr(u1 + 1, u2 == std::string::npos ? std::string::npos : u2 - u1 - 1));
            } catch (const std::exception&) {
                good = false;
            }
        }
        if (!good)
            return error(400, "Request_BadRequest", "The specified page token value has expired or is invalid.", c,
                         now);
    }
    const auto sel = c.query.count("$select") ? c.query.at("$select") : std::string();
    json value = json::array();
    for (std::size_t i = offset; i < items.size() && i < offset + top; ++i) value.push_back(select(items[i], sel));
    json body = {{"@odata.context", context}};
    if (offset + top < items.size()) {
        std::string path;
        for (const auto& s : c.segs) path += "/" + percent_encode_segment(s);
        std::string q;
        std::size_t i = 0;
        const auto& raw = c.raw_query;
        while (i < raw.size()) {
            auto amp = raw.find('&', i);
            if (amp == std::string::npos) amp = raw.size();
            const auto part = raw.substr(i, amp - i);
            const auto key = odata::percent_decode(part.substr(0, part.find('=')), true).value_or("");
            if (key != "$skiptoken" && !part.empty()) q += (q.empty() ? "" : "&") + part;
            i = amp + 1;
        }
        std::string token = qhash + "_" + std::to_string(offset + top);
        if (!snapshot.empty()) token += "_" + snapshot;
        q += (q.empty() ? "" : "&") + std::string("$skiptoken=") + token;
        body["@odata.nextLink"] = base_url_ + "/" + c.version + path + "?" + q;
    }
    body["value"] = std::move(value);
    return ok(std::move(body));
}

void tenant::add_audit(time_point now, const std::string& activity, const std::string& category,
                       const std::string& service, const std::string& operation, const std::string& client_id,
                       json targets) {
    json e = {{"id", "Directory_" + new_guid()},
              {"category", category},
              {"correlationId", new_guid()},
              {"result", "success"},
              {"resultReason", ""},
              {"activityDisplayName", activity},
              {"activityDateTime", format_rfc3339(now)},
              {"loggedByService", service},
              {"operationType", operation},
              {"initiatedBy",
               {{"user", nullptr},
                {"app",
                 {{"appId", client_id},
                  {"displayName", app_display_name(client_id)},
                  {"servicePrincipalId",
                   [&]() -> json {
                       auto* sp = sp_by_app_id(client_id);
                       return sp ? sp->g["id"] : json(nullptr);
                   }()},
                  {"servicePrincipalName", nullptr}}}}},
              {"targetResources", std::move(targets)},
              {"additionalDetails", json::array()}};
    audits_.push_back({now, std::move(e)});
}

std::string tenant::app_display_name(const std::string& app_id) const {
    for (const auto& a : apps_)
        if (a.g.value("appId", "") == app_id) return a.g.value("displayName", "");
    for (const auto& s : sps_)
        if (s.g.value("appId", "") == app_id) return s.g.value("displayName", "");
    return "";
}

bool tenant::is_tenant_name(const std::string& s) const {
    if (lower(s) == lower(id_)) return true;
    for (const auto& d : domains_)
        if (lower(d) == lower(s)) return true;
    return false;
}

// ---------------------------------------------------------------------------------------------
tenant::tenant(const json& sc, const timing& times, std::uint64_t seed, std::vector<registered_client> clients,
               time_point now)
        : times_(times), clients_(std::move(clients)), rng_(seed), start_(now), generated_until_(now) {
    if (!sc.is_object()) bad_scenario("the scenario must be a JSON object");
    time_scale_ = sc.value("time_scale", 1.0);
    if (!(time_scale_ > 0)) bad_scenario("time_scale must be positive");
    load_app_roles(sc);
    const json t = sc.value("tenant", json::object());
    id_ = t.value("id", "");
    if (!is_guid(id_)) bad_scenario("tenant.id must be a GUID");
    id_ = lower(id_);
    domain_ = t.value("domain", "");
    if (domain_.empty()) bad_scenario("tenant.domain is required");
    display_name_ = t.value("displayName", domain_);
    domains_.push_back(domain_);
    for (const auto& d : t.value("domains", json::array())) domains_.push_back(d.get<std::string>());
    if (sc.contains("compromise_start")) compromise_start_ = parse_time(sc["compromise_start"], "compromise_start");

    const json lic = sc.value("licenses", json::object());
    identity_protection_licensed_ = lic.value("entra_id_p2", true);
    audit_logs_licensed_ = lic.value("entra_id_p1", true);
    password_writeback_ = sc.value("password_writeback", true);
    tap_policy_ = sc.value("temporary_access_pass", json{{"state", "enabled"},
                                                         {"defaultLifetimeInMinutes", 60},
                                                         {"minimumLifetimeInMinutes", 10},
                                                         {"maximumLifetimeInMinutes", 43200},
                                                         {"isUsableOnce", false}});
    const json th = sc.value("throttling", json::object());
    throttling_enabled_ = th.value("enabled", true);
    auto read_rate = [&](const char* name, rate_cfg& r) {
        if (!th.contains(name)) return;
        const auto& j = th[name];
        r.limit = j.value("limit", r.limit);
        r.window = std::chrono::duration_cast<duration>(
            std::chrono::duration<double>(j.value("window_seconds", std::chrono::duration<double>(r.window).count())));
    };
    read_rate("protection", protection_rate_);
    read_rate("reports", reports_rate_);

    // Sign-in ingestion: "realistic" (default) draws each record's delay: most within
    // fast_max_seconds, the rest up to tail_max_seconds, and a share of MFA-related records up
    // to mfa_late_max_seconds; "fixed" uses the timing's ingestion_delay for every record.
    behaviour_rng_.seed(seed ^ 0x9e3779b97f4a7c15ULL);
    const json ing = sc.value("ingestion", json::object());
    if (!ing.is_object()) bad_scenario("ingestion must be an object");
    const std::string model = ing.value("model", "realistic");
    if (model != "realistic" && model != "fixed") bad_scenario("ingestion.model must be realistic or fixed");
    ingestion_realistic_ = model == "realistic";
    const auto secs = [](double v) { return std::chrono::duration_cast<duration>(std::chrono::duration<double>(v)); };
    if (ing.contains("delay_seconds")) times_.ingestion_delay = secs(ing["delay_seconds"].get<double>());
    ingestion_fast_share_ = ing.value("fast_share", ingestion_fast_share_);
    ingestion_mfa_late_share_ = ing.value("mfa_late_share", ingestion_mfa_late_share_);
    if (ing.contains("fast_max_seconds")) ingestion_fast_max_ = secs(ing["fast_max_seconds"].get<double>());
    if (ing.contains("tail_max_seconds")) ingestion_tail_max_ = secs(ing["tail_max_seconds"].get<double>());
    if (ing.contains("mfa_late_max_seconds")) ingestion_mfa_late_max_ = secs(ing["mfa_late_max_seconds"].get<double>());
    if (!(ingestion_fast_share_ >= 0 && ingestion_fast_share_ <= 1 && ingestion_mfa_late_share_ >= 0 &&
          ingestion_mfa_late_share_ <= 1) ||
        ingestion_fast_max_ > ingestion_tail_max_)
        bad_scenario("ingestion: shares must be within 0..1 and fast_max_seconds <= tail_max_seconds");
    // A tenant-wide token-lifetime policy (e.g. 1440 for 24 h): access tokens without an
    // activity-level lifetime get it instead of the default 60-90 minutes.
    if (sc.contains("token_lifetime_policy_minutes"))
        token_lifetime_policy_ = secs(sc["token_lifetime_policy_minutes"].get<double>() * 60.0 / time_scale_);

    // Groups and roles are created on first mention.
    auto role_for = [&](const std::string& name) -> role_rec& {
        for (auto& r : roles_)
            if (r.g["displayName"] == name) return r;
        auto tpl = role_templates().find(name);
        if (tpl == role_templates().end()) bad_scenario("unknown directory role '" + name + "'");
        role_rec r;
        r.g = {{"@odata.type", "#microsoft.graph.directoryRole"},
               {"id", new_guid()},
               {"deletedDateTime", nullptr},
               {"description", "Can manage " + name.substr(0, name.find(' ')) + " features."},
               {"displayName", name},
               {"roleTemplateId", tpl->second}};
        roles_.push_back(std::move(r));
        return roles_.back();
    };
    auto group_for = [&](const std::string& name) -> json& {
        for (auto& g : groups_)
            if (g["displayName"] == name) return g;
        groups_.push_back({{"@odata.type", "#microsoft.graph.group"},
                           {"id", new_guid()},
                           {"deletedDateTime", nullptr},
                           {"displayName", name},
                           {"description", nullptr},
                           {"groupTypes", json::array()},
                           {"mailEnabled", false},
                           {"securityEnabled", true},
                           {"mail", nullptr}});
        return groups_.back();
    };

    // ---- users ----
    for (const auto& su : sc.value("users", json::array())) {
        user_rec u;
        std::string upn = su.value("userPrincipalName", "");
        if (upn.empty()) bad_scenario("users[].userPrincipalName is required");
        if (upn.find('@') == std::string::npos) upn += "@" + domain_;
        static const std::set<std::string> sim_only = {
            "roles", "groups", "authentication_methods", "inbox_rules", "risk", "password", "mailbox"};
        json g = json::object();
        for (auto it = su.begin(); it != su.end(); ++it)
            if (!sim_only.count(it.key())) g[it.key()] = it.value();
        g["userPrincipalName"] = upn;
        if (!g.contains("id")) g["id"] = new_guid();
        if (!is_guid(g["id"].get<std::string>())) bad_scenario("users[" + upn + "].id must be a GUID");
        const std::string local = upn.substr(0, upn.find('@'));
        if (!g.contains("displayName")) g["displayName"] = local;
        if (!g.contains("mail")) g["mail"] = upn;
        if (!g.contains("accountEnabled")) g["accountEnabled"] = true;
        if (!g.contains("businessPhones")) g["businessPhones"] = json::array();
        for (const char* k : {"givenName", "surname", "jobTitle", "mobilePhone", "officeLocation", "preferredLanguage"})
            if (!g.contains(k)) g[k] = nullptr;
        if (!g.contains("userType")) g["userType"] = "Member";
        if (!g.contains("onPremisesSyncEnabled")) g["onPremisesSyncEnabled"] = nullptr;
        const auto created = g.contains("createdDateTime") ? parse_time(g["createdDateTime"], "users[].createdDateTime")
                                                           : start_ - std::chrono::hours(24 * 400);
        g["createdDateTime"] = format_rfc3339(created);
        for (const char* k : {"lastPasswordChangeDateTime", "signInSessionsValidFromDateTime"})
            g[k] = format_rfc3339(g.contains(k) ? parse_time(g[k], k) : created);
        if (!g["accountEnabled"].get<bool>()) u.disabled_at = start_;
        u.g = std::move(g);
        u.has_mailbox = su.value("mailbox", true);
        // authentication methods
        u.methods.push_back({{"@odata.type", "#microsoft.graph.passwordAuthenticationMethod"},
                             {"id", "28c10230-6103-485e-b985-444c60001490"},
                             {"password", nullptr},
                             {"createdDateTime", nullptr}});
        for (const auto& sm : su.value("authentication_methods", json::array())) {
            json m = json::object();
            for (auto it = sm.begin(); it != sm.end(); ++it)
                if (it.key() != "default" && it.key() != "registered_by") m[it.key()] = it.value();
            std::string type = m.value("@odata.type", "");
            if (auto mt = method_types().find(type); mt != method_types().end()) type = mt->second;
            bool known = false;
            for (const auto& [k, v] : method_types()) known = known || v == type;
            if (!known || type == "#microsoft.graph.passwordAuthenticationMethod")
                bad_scenario("users[" + upn + "].authentication_methods: unknown @odata.type '" + type + "'");
            m["@odata.type"] = type;
            if (!m.contains("id")) {
                if (type == "#microsoft.graph.phoneAuthenticationMethod") {
                    const auto pt = m.value("phoneType", "mobile");
                    m["id"] = pt == "alternateMobile" ? "b6332ec1-7057-4abe-9331-3d72feddfe41"
                              : pt == "office"        ? "e37fc753-ff3b-4958-9484-eaa9425c82bc"
                                                      : "3179e48a-750b-4051-897c-87b9720928f7";
                } else if (type == "#microsoft.graph.emailAuthenticationMethod") {
                    m["id"] = "3ddfcfc8-9383-446f-83cc-3ab9be4be18f";
                } else {
                    m["id"] = new_guid();
                }
            }
            if (m.contains("createdDateTime") && !m["createdDateTime"].is_null())
                m["createdDateTime"] =
                    format_rfc3339(parse_time(m["createdDateTime"], "authentication_methods[].createdDateTime"));
            else
                m["createdDateTime"] = nullptr;
            if (type == "#microsoft.graph.phoneAuthenticationMethod") {
                if (!m.contains("phoneType")) m["phoneType"] = "mobile";
                if (!m.contains("smsSignInState")) m["smsSignInState"] = "notAllowedByPolicy";
            }
            if (type == "#microsoft.graph.softwareOathAuthenticationMethod" && !m.contains("secretKey"))
                m["secretKey"] = nullptr;
            if (type == "#microsoft.graph.fido2AuthenticationMethod") {
                for (const char* k : {"aaGuid", "model", "displayName"})
                    if (!m.contains(k)) m[k] = nullptr;
                if (!m.contains("attestationCertificates")) m["attestationCertificates"] = json::array();
                if (!m.contains("attestationLevel")) m["attestationLevel"] = "notAttested";
            }
            if (sm.value("default", false)) u.default_method = m["id"];
            if (sm.value("registered_by", "") == "attacker") u.attacker_methods.insert(m["id"].get<std::string>());
            u.methods.push_back(std::move(m));
        }
        // inbox rules
        int seq = 1;
        for (const auto& sr : su.value("inbox_rules", json::array())) {
            json r = sr;
            if (!r.contains("id"))
                r["id"] = base64_encode([&] {
                    std::string raw;
                    std::uniform_int_distribution<int> d(0, 255);
                    for (int i = 0; i < 8; ++i) raw.push_back(static_cast<char>(d(rng_)));
                    return raw;
                }());
            if (!r.contains("sequence")) r["sequence"] = seq;
            ++seq;
            if (!r.contains("isEnabled")) r["isEnabled"] = true;
            if (!r.contains("hasError")) r["hasError"] = false;
            if (!r.contains("isReadOnly")) r["isReadOnly"] = false;
            if (!r.contains("conditions")) r["conditions"] = json::object();
            if (!r.contains("exceptions")) r["exceptions"] = nullptr;
            if (!r.contains("actions")) bad_scenario("users[" + upn + "].inbox_rules[].actions is required");
            if (!r.contains("displayName")) bad_scenario("users[" + upn + "].inbox_rules[].displayName is required");
            u.rules.push_back(std::move(r));
        }
        if (su.contains("risk")) {
            const auto& r = su["risk"];
            u.risk = json{{"@odata.type", "#microsoft.graph.riskyUser"},
                          {"id", u.g["id"]},
                          {"isDeleted", false},
                          {"isProcessing", false},
                          {"riskLastUpdatedDateTime",
                           format_rfc3339(r.contains("riskLastUpdatedDateTime")
                                              ? parse_time(r["riskLastUpdatedDateTime"], "risk.riskLastUpdatedDateTime")
                                              : start_)},
                          {"riskLevel", r.value("riskLevel", "high")},
                          {"riskState", r.value("riskState", "atRisk")},
                          {"riskDetail", r.value("riskDetail", "none")},
                          {"userDisplayName", u.g["displayName"]},
                          {"userPrincipalName", upn}};
        }
        for (const auto& rn : su.value("roles", json::array())) {
            auto& r = role_for(rn.get<std::string>());
            r.members.push_back(u.g["id"]);
            u.role_ids.push_back(r.g["id"]);
        }
        for (const auto& gn : su.value("groups", json::array()))
            u.group_ids.push_back(group_for(gn.get<std::string>())["id"]);
        for (const auto& other : users_)
            if (lower(other.g["userPrincipalName"].get<std::string>()) == lower(upn))
                bad_scenario("duplicate user " + upn);
        users_.push_back(std::move(u));
    }

    // ---- named locations ----
    for (const auto& sl : sc.value("named_locations", json::array())) {
        json l = sl;
        if (!l.contains("@odata.type")) l["@odata.type"] = "#microsoft.graph.ipNamedLocation";
        if (!l.contains("id")) l["id"] = new_guid();
        if (!l.contains("displayName")) bad_scenario("named_locations[].displayName is required");
        l["createdDateTime"] = format_rfc3339(l.contains("createdDateTime")
                                                  ? parse_time(l["createdDateTime"], "named location createdDateTime")
                                                  : start_ - std::chrono::hours(24 * 30));
        l["modifiedDateTime"] =
            l.contains("modifiedDateTime")
                ? json(format_rfc3339(parse_time(l["modifiedDateTime"], "named location modifiedDateTime")))
                : l["createdDateTime"];
        if (l["@odata.type"] == "#microsoft.graph.ipNamedLocation") {
            if (!l.contains("isTrusted")) l["isTrusted"] = false;
            json ranges = json::array();
            for (const auto& r : l.value("ipRanges", json::array())) {
                json rr = r.is_string() ? json{{"cidrAddress", r}} : r;
                const auto cidr = rr.value("cidrAddress", "");
                if (!rr.contains("@odata.type"))
                    rr["@odata.type"] = cidr.find(':') != std::string::npos ? "#microsoft.graph.iPv6CidrRange"
                                                                            : "#microsoft.graph.iPv4CidrRange";
                ranges.push_back(rr);
            }
            l["ipRanges"] = ranges;
        }
        locations_.push_back(std::move(l));
    }

    // ---- Conditional Access policies ----
    for (const auto& sp : sc.value("conditional_access_policies", json::array())) {
        json p = normalise_policy(sp);
        if (auto bad = validate_policy(p)) bad_scenario("conditional_access_policies: " + *bad);
        if (!p.contains("id") || p["id"].is_null()) p["id"] = new_guid();
        const auto created = sp.contains("createdDateTime")
                                 ? parse_time(sp["createdDateTime"], "policy createdDateTime")
                                 : start_ - std::chrono::hours(24 * 30);
        p["createdDateTime"] = format_rfc3339(created);
        p["modifiedDateTime"] =
            sp.contains("modifiedDateTime") && !sp["modifiedDateTime"].is_null()
                ? json(format_rfc3339(parse_time(sp["modifiedDateTime"], "policy modifiedDateTime")))
                : json(nullptr);
        policy_rec r{std::move(p), std::nullopt};
        if (r.g["state"] == "enabled") r.enabled_at = created;
        policies_.push_back(std::move(r));
    }

    // ---- service principals of resources (Microsoft Graph, Exchange Online, ...) ----
    auto add_sp = [&](const json& ss, const json& app) -> sp_rec& {
        sp_rec s;
        json g = json::object();
        static const std::set<std::string> sim_only = {"app_role_assignments", "oauth2_permission_grants"};
        for (auto it = ss.begin(); it != ss.end(); ++it)
            if (!sim_only.count(it.key())) g[it.key()] = it.value();
        if (!app.is_null()) {
            g["appId"] = app["appId"];
            if (!g.contains("displayName")) g["displayName"] = app["displayName"];
            if (!g.contains("appDisplayName")) g["appDisplayName"] = app["displayName"];
            if (!g.contains("appOwnerOrganizationId")) g["appOwnerOrganizationId"] = id_;
            if (!g.contains("servicePrincipalNames")) g["servicePrincipalNames"] = json::array({app["appId"]});
        }
        if (!g.contains("appId")) bad_scenario("service_principals[].appId is required");
        if (!g.contains("id")) g["id"] = new_guid();
        if (!g.contains("accountEnabled")) g["accountEnabled"] = true;
        if (!g.contains("servicePrincipalType")) g["servicePrincipalType"] = "Application";
        if (!g.contains("displayName")) g["displayName"] = g["appId"];
        if (!g.contains("appDisplayName")) g["appDisplayName"] = g["displayName"];
        if (!g.contains("passwordCredentials")) g["passwordCredentials"] = json::array();
        if (!g.contains("keyCredentials")) g["keyCredentials"] = json::array();
        s.g = std::move(g);
        sps_.push_back(std::move(s));
        return sps_.back();
    };
    for (const auto& ss : sc.value("service_principals", json::array())) add_sp(ss, nullptr);

    auto load_creds = [&](json& owner, const std::string& who) {
        json pcs = json::array();
        for (const auto& pc : owner.value("passwordCredentials", json::array())) {
            json c = json::object();
            const std::string secret = pc.value("secret", "");
            c["customKeyIdentifier"] = nullptr;
            c["displayName"] = pc.value("displayName", json(nullptr));
            c["keyId"] = pc.value("keyId", new_guid());
            c["startDateTime"] =
                format_rfc3339(pc.contains("startDateTime") ? parse_time(pc["startDateTime"], "startDateTime")
                                                            : start_ - std::chrono::hours(24));
            c["endDateTime"] = format_rfc3339(pc.contains("endDateTime") ? parse_time(pc["endDateTime"], "endDateTime")
                                                                         : start_ + std::chrono::hours(24 * 365));
            c["hint"] = pc.contains("hint") ? pc["hint"] : json(secret.substr(0, 3));
            c["secretText"] = nullptr;
            if (!secret.empty()) secret_values_[c["keyId"].get<std::string>()] = secret;
            pcs.push_back(std::move(c));
        }
        owner["passwordCredentials"] = pcs;
        json kcs = json::array();
        for (const auto& kc : owner.value("keyCredentials", json::array())) {
            json c = json::object();
            std::string key = kc.value("key", "");
            if (key.empty()) key = generate_self_signed_der_base64(kc.value("displayName", "CN=" + who));
            auto facts = read_certificate_der_base64(key);
            if (!facts) bad_scenario(who + ".keyCredentials[].key is not a base64 DER certificate");
            c["customKeyIdentifier"] = base64_encode(sha1_raw(facts->der));
            c["displayName"] = kc.value("displayName", json(nullptr));
            c["keyId"] = kc.value("keyId", new_guid());
            c["startDateTime"] =
                format_rfc3339(kc.contains("startDateTime") ? parse_time(kc["startDateTime"], "startDateTime")
                                                            : start_ - std::chrono::hours(24));
            c["endDateTime"] = format_rfc3339(kc.contains("endDateTime") ? parse_time(kc["endDateTime"], "endDateTime")
                                                                         : start_ + std::chrono::hours(24 * 365));
            c["type"] = kc.value("type", "AsymmetricX509Cert");
            c["usage"] = kc.value("usage", "Verify");
            c["key"] = key;
            kcs.push_back(std::move(c));
        }
        owner["keyCredentials"] = kcs;
    };
    auto resolve_resource = [&](const json& j) -> const sp_rec* {
        const auto rid = j.value("resourceId", "");
        const auto rapp = j.value("resourceAppId", "");
        for (const auto& s : sps_)
            if ((!rid.empty() && s.g["id"] == rid) || (!rapp.empty() && s.g["appId"] == rapp)) return &s;
        bad_scenario("unknown resource service principal " + (rid.empty() ? rapp : rid) +
                     " (declare it in service_principals)");
    };

    // ---- applications (and their service principals, grants, assignments) ----
    for (const auto& sa : sc.value("applications", json::array())) {
        app_rec a;
        json g = json::object();
        for (auto it = sa.begin(); it != sa.end(); ++it)
            if (it.key() != "service_principal") g[it.key()] = it.value();
        if (!g.contains("appId")) g["appId"] = new_guid();
        if (!g.contains("id")) g["id"] = new_guid();
        if (!g.contains("displayName")) bad_scenario("applications[].displayName is required");
        g["createdDateTime"] = format_rfc3339(g.contains("createdDateTime")
                                                  ? parse_time(g["createdDateTime"], "application createdDateTime")
                                                  : start_ - std::chrono::hours(24 * 30));
        if (!g.contains("signInAudience")) g["signInAudience"] = "AzureADMyOrg";
        if (!g.contains("deletedDateTime")) g["deletedDateTime"] = nullptr;
        load_creds(g, g["displayName"].get<std::string>());
        a.g = std::move(g);
        apps_.push_back(a);
        if (sa.contains("service_principal")) {
            const json ss = sa["service_principal"];
            auto& s = add_sp(ss, a.g);
            load_creds(s.g, a.g["displayName"].get<std::string>() + " (service principal)");
            for (const auto& ar : ss.value("app_role_assignments", json::array())) {
                const auto* res = resolve_resource(ar);
                s.assignments.push_back(
                    {{"id", ar.value("id", new_opaque_id(32))},
                     {"deletedDateTime", nullptr},
                     {"appRoleId", ar.value("appRoleId", "")},
                     {"createdDateTime", format_rfc3339(ar.contains("createdDateTime")
                                                            ? parse_time(ar["createdDateTime"], "createdDateTime")
                                                            : start_)},
                     {"principalDisplayName", s.g["displayName"]},
                     {"principalId", s.g["id"]},
                     {"principalType", "ServicePrincipal"},
                     {"resourceDisplayName", res->g["displayName"]},
                     {"resourceId", res->g["id"]}});
            }
            const std::string sp_id = s.g["id"];
            for (const auto& gr : ss.value("oauth2_permission_grants", json::array())) {
                const auto* res = resolve_resource(gr);
                json principal = nullptr;
                if (gr.contains("principal")) {
                    const auto* pu = find_user(gr["principal"].get<std::string>());
                    if (!pu)
                        bad_scenario("oauth2_permission_grants[].principal: unknown user " + gr["principal"].dump());
                    principal = pu->g["id"];
                }
                grants_.push_back({{"id", gr.value("id", new_opaque_id(32))},
                                   {"clientId", sp_id},
                                   {"consentType", principal.is_null() ? "AllPrincipals" : "Principal"},
                                   {"principalId", principal},
                                   {"resourceId", res->g["id"]},
                                   {"scope", gr.value("scope", "")}});
            }
        }
    }

    // ---- directory audits and static sign-ins ----
    for (const auto& sa : sc.value("directory_audits", json::array())) {
        json e = sa;
        const auto at = parse_time(e.value("activityDateTime", json("now")), "directory_audits[].activityDateTime");
        e["activityDateTime"] = format_rfc3339(at);
        if (!e.contains("id")) e["id"] = "Directory_" + new_guid();
        if (!e.contains("correlationId")) e["correlationId"] = new_guid();
        if (!e.contains("result")) e["result"] = "success";
        if (!e.contains("resultReason")) e["resultReason"] = "";
        if (!e.contains("additionalDetails")) e["additionalDetails"] = json::array();
        if (!e.contains("operationType")) e["operationType"] = "Add";
        if (!e.contains("category")) e["category"] = "UserManagement";
        if (!e.contains("loggedByService")) e["loggedByService"] = "Authentication Methods";
        audits_.push_back({at, std::move(e)});
    }

    register_clients(sc);
    load_streams(sc.value("activity", json::array()), now);
    advance(now);
}

// ---------------------------------------------------------------------------------------------
graph_reply tenant::graph(const graph_call& c, time_point now) {
    advance(now);
    if (c.segs.empty()) return error(400, "BadRequest", "Invalid request.", c, now);
    // Throttling classes (graph-api.md §11.3), evaluated per request (and per $batch item).
    if (throttling_enabled_) {
        const auto& s0 = c.segs[0];
        if ((s0 == "identity" && c.segs.size() > 1 && c.segs[1] == "conditionalAccess") || s0 == "identityProtection") {
            if (limiter_.admit("protection", now, protection_rate_.limit, protection_rate_.window))
                return throttled(c, now, std::nullopt);
        } else if (s0 == "auditLogs") {
            if (auto wait = limiter_.admit("reports/" + c.client_id, now, reports_rate_.limit, reports_rate_.window))
                return throttled(c, now, wait);
        }
    }
    if (auto denied = check_permission(c, now)) return *denied;
    if (c.body_malformed)
        return error(400, "BadRequest",
                     "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of "
                     "valid JSON format.",
                     c, now);
    return dispatch(c, now);
}

graph_reply tenant::dispatch(const graph_call& c, time_point now) {
    const auto& s0 = c.segs[0];
    auto key = odata::parse_key_segment(s0);
    const std::string name = key ? key->name : s0;
    if (name == "$batch") {
        if (c.in_batch) return error(400, "BadRequest", "Nested batch requests are not supported.", c, now);
        if (c.segs.size() != 1) return bad_segment(c, now, c.segs[1]);
        if (c.method != "POST") return method_not_allowed(c, now);
        return batch(c, now);
    }
    if (name == "users") return users(c, now);
    if (name == "identity") return conditional_access(c, now);
    if (name == "applications") return applications(c, now);
    if (name == "servicePrincipals") return service_principals(c, now);
    if (name == "oauth2PermissionGrants") return grants(c, now);
    if (name == "identityProtection") return risky_users(c, now);
    if (name == "directoryRoles") return directory_roles(c, now);
    if (name == "auditLogs") {
        if (c.segs.size() >= 2 && c.segs[1] == "signIns") return sign_ins(c, now);
        if (c.segs.size() >= 2 && c.segs[1] == "directoryAudits") return directory_audits(c, now);
        return bad_segment(c, now, c.segs.size() >= 2 ? c.segs[1] : s0);
    }
    if (name == "me")
        return error(400, "BadRequest", "/me request is only valid with delegated authentication flow.", c, now);
    return bad_segment(c, now, s0);
}

graph_reply tenant::batch(const graph_call& c, time_point now) {
    const auto bad = [&](const std::string& msg) { return error(400, "BadRequest", msg, c, now); };
    if (!c.body.is_object() || !c.body.contains("requests") || !c.body["requests"].is_array())
        return bad("Invalid batch payload format.");
    const auto& reqs = c.body["requests"];
    if (reqs.empty()) return bad("Invalid batch payload format.");
    if (reqs.size() > 20) return bad("The number of requests in the batch exceeds the maximum of 20.");
    std::vector<std::string> ids;
    for (const auto& r : reqs) {
        if (!r.is_object() || !r.contains("id") || !r["id"].is_string() || r["id"].get<std::string>().empty())
            return bad("Invalid batch payload format: every request needs a string id.");
        if (!r.contains("method") || !r["method"].is_string() || !r.contains("url") || !r["url"].is_string())
            return bad("Invalid batch payload format: request '" + r["id"].get<std::string>() +
                       "' needs method and url.");
        const auto id = lower(r["id"].get<std::string>());
        if (std::find(ids.begin(), ids.end(), id) != ids.end())
            return bad("Batch request contains duplicate request id '" + r["id"].get<std::string>() + "'.");
        ids.push_back(id);
        if (r.contains("body") && !r["body"].is_null()) {
            bool has_ct = false;
            if (r.contains("headers") && r["headers"].is_object())
                for (auto it = r["headers"].begin(); it != r["headers"].end(); ++it)
                    has_ct = has_ct || lower(it.key()) == "content-type";
            if (!has_ct)
                return bad("Write request id : " + r["id"].get<std::string>() +
                           " does not contain Content-Type header or body.");
        }
    }
    for (const auto& r : reqs) {
        if (!r.contains("dependsOn")) continue;
        if (!r["dependsOn"].is_array()) return bad("dependsOn must be an array.");
        for (const auto& d : r["dependsOn"]) {
            if (!d.is_string() || std::find(ids.begin(), ids.end(), lower(d.get<std::string>())) == ids.end())
                return bad("Request '" + r["id"].get<std::string>() + "' depends on an unknown request id.");
        }
    }
    // Execute in dependency order (array order among the ready ones).
    std::map<std::string, int> status_of;
    std::vector<bool> done(reqs.size(), false);
    json responses = json::array();
    for (std::size_t round = 0; round < reqs.size(); ++round) {
        bool progressed = false;
        for (std::size_t i = 0; i < reqs.size(); ++i) {
            if (done[i]) continue;
            const auto& r = reqs[i];
            bool ready = true, failed_dep = false;
            for (const auto& d : r.value("dependsOn", json::array())) {
                auto it = status_of.find(lower(d.get<std::string>()));
                if (it == status_of.end())
                    ready = false;
                else if (it->second < 200 || it->second >= 300)
                    failed_dep = true;
            }
            if (!ready) continue;
            done[i] = true;
            progressed = true;
            const std::string rid = r["id"];
            json item = {{"id", rid}};
            graph_reply rep;
            if (failed_dep) {
                graph_call sub = c;
                rep = error(424, "FailedDependency", "The request failed because a request it depends on failed.", sub,
                            now);
            } else {
                graph_call sub;
                sub.method = r["method"].get<std::string>();
                for (auto& ch : sub.method) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
                sub.version = c.version;
                sub.client_id = c.client_id;
                sub.prefer = c.prefer;
                sub.request_id = new_guid();
                sub.client_request_id = sub.request_id;
                sub.in_batch = true;
                std::string url = r["url"];
                if (url.rfind("https://", 0) == 0 || url.rfind("http://", 0) == 0) {
                    rep = error(400, "BadRequest", "Invalid request URL: batch URLs must be relative.", sub, now);
                } else {
                    if (!url.empty() && url[0] == '/') url.erase(0, 1);
                    const auto q = url.find('?');
                    const std::string path = url.substr(0, q);
                    sub.raw_query = q == std::string::npos ? "" : url.substr(q + 1);
                    auto query = odata::parse_query(sub.raw_query);
                    bool seg_ok = true;
                    std::size_t i0 = 0;
                    while (i0 <= path.size()) {
                        auto sl = path.find('/', i0);
                        if (sl == std::string::npos) sl = path.size();
                        auto seg = odata::percent_decode(path.substr(i0, sl - i0), false);
                        if (!seg)
                            seg_ok = false;
                        else if (!seg->empty())
                            sub.segs.push_back(*seg);
                        if (sl >= path.size()) break;
                        i0 = sl + 1;
                    }
                    if (!query || !seg_ok || sub.segs.empty()) {
                        rep = error(400, "BadRequest", "Invalid request URL.", sub, now);
                    } else if (!sub.segs.empty() && (sub.segs[0] == "v1.0" || sub.segs[0] == "beta")) {
                        rep = bad_segment(sub, now, sub.segs[0]);
                    } else {
                        sub.query = *query;
                        sub.body = r.contains("body") ? r["body"] : json(nullptr);
                        if (batch_item_hook_)
                            rep = batch_item_hook_(sub, "/" + c.version + "/" + path, [&] { return graph(sub, now); });
                        else
                            rep = graph(sub, now);
                    }
                }
            }
            item["status"] = rep.status;
            json headers = json::object();
            if (rep.has_body)
                headers["Content-Type"] =
                    rep.status >= 400
                        ? "application/json"
                        : "application/"
                          "json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";
            headers["Cache-Control"] = "no-cache";
            for (const auto& [k, v] : rep.headers) headers[k] = v;
            item["headers"] = headers;
            if (rep.has_body) item["body"] = rep.body;
            status_of[lower(rid)] = rep.status;
            responses.push_back(std::move(item));
        }
        if (!progressed) break;
    }
    if (responses.size() != reqs.size()) return bad("The batch contains a dependency cycle.");
    return ok({{"responses", responses}});
}

// ---------------------------------------------------------------------------------------------
json tenant::state(time_point now) const {
    json s;
    s["tenant"] = {{"id", id_}, {"domain", domain_}, {"domains", domains_}, {"now", format_rfc3339(now)}};
    json users = json::array();
    for (const auto& u : users_) {
        json ju = u.g;
        json sim = {
            {"methods", u.methods},   {"default_method", u.default_method}, {"attacker_methods", u.attacker_methods},
            {"inbox_rules", u.rules}, {"has_mailbox", u.has_mailbox},       {"risk", u.risk ? *u.risk : json(nullptr)},
            {"role_ids", u.role_ids}, {"group_ids", u.group_ids},           {"password_profile", u.password_profile}};
        sim["sessions_valid_from"] =
            u.sessions_valid_from ? json(format_rfc3339(*u.sessions_valid_from)) : json(nullptr);
        sim["password_changed"] = u.password_changed ? json(format_rfc3339(*u.password_changed)) : json(nullptr);
        sim["disabled_at"] = u.disabled_at ? json(format_rfc3339(*u.disabled_at)) : json(nullptr);
        ju["_sim"] = sim;
        users.push_back(ju);
    }
    s["users"] = users;
    json roles = json::array();
    for (const auto& r : roles_) {
        json jr = r.g;
        jr["_members"] = r.members;
        jr["_service_principal_members"] = r.sp_members;
        roles.push_back(jr);
    }
    s["directoryRoles"] = roles;
    s["groups"] = groups_;
    json pol = json::array();
    for (const auto& p : policies_) pol.push_back(p.g);
    s["conditionalAccessPolicies"] = pol;
    s["namedLocations"] = locations_;
    json apps = json::array();
    for (const auto& a : apps_) {
        json ja = a.g;
        ja["_deleted"] = a.deleted;
        apps.push_back(ja);
    }
    s["applications"] = apps;
    json sps = json::array();
    for (const auto& sp : sps_) {
        json js = sp.g;
        js["_deleted"] = sp.deleted;
        js["_appRoleAssignments"] = sp.assignments;
        sps.push_back(js);
    }
    s["servicePrincipals"] = sps;
    s["oauth2PermissionGrants"] = grants_;
    json si = json::array();
    for (const auto& r : signins_) {
        json e = r.e;
        e["_visible"] = r.visible <= now;
        e["_visible_at"] = format_rfc3339(r.visible);
        si.push_back(e);
    }
    s["signIns"] = si;
    // Ground truth the logs do not show: each activity stream's use of a token it already held.
    json streams = json::array();
    for (const auto& st : streams_)
        streams.push_back(
            {{"name", st.spec.value("name", "")},
             {"kind", st.kind},
             {"client_kind", st.client_kind},
             {"used_without_sign_in", st.used_without_sign_in},
             {"last_used", st.last_used ? json(format_rfc3339(*st.last_used)) : json(nullptr)},
             {"token_expires", st.token_expires ? json(format_rfc3339(*st.token_expires)) : json(nullptr)}});
    s["_activity"] = streams;
    json au = json::array();
    for (const auto& a : audits_) {
        json e = a.e;
        e["_visible"] = a.at + times_.ingestion_delay <= now;
        au.push_back(e);
    }
    s["directoryAudits"] = au;
    s["issued_tokens"] = tokens_.size();
    return s;
}

}  // namespace containd::sim
