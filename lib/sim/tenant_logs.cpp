// Sign-in logs and directory audits (with ingestion delay and snapshot paging), and the attacker
// model that writes sign-ins over simulated time.
#include <algorithm>

#include "core/ids.hpp"
#include "core/time.hpp"
#include "sim/tenant.hpp"

namespace containd::sim {
namespace {

const std::vector<std::string>& v1_signin_props() {
    static const std::vector<std::string> p = {"id",
                                               "appDisplayName",
                                               "appId",
                                               "appliedConditionalAccessPolicies",
                                               "authenticationAppDeviceDetails",
                                               "clientAppUsed",
                                               "conditionalAccessStatus",
                                               "correlationId",
                                               "createdDateTime",
                                               "deviceDetail",
                                               "homeTenantId",
                                               "ipAddress",
                                               "isInteractive",
                                               "location",
                                               "resourceDisplayName",
                                               "resourceId",
                                               "resourceTenantId",
                                               "riskDetail",
                                               "riskEventTypes",
                                               "riskEventTypes_v2",
                                               "riskLevelAggregated",
                                               "riskLevelDuringSignIn",
                                               "riskState",
                                               "servicePrincipalId",
                                               "servicePrincipalName",
                                               "status",
                                               "userAgent",
                                               "userDisplayName",
                                               "userId",
                                               "userPrincipalName"};
    return p;
}

const std::vector<std::string>& beta_only_signin_props() {
    static const std::vector<std::string> p = {"signInEventTypes",
                                               "clientCredentialType",
                                               "servicePrincipalCredentialKeyId",
                                               "authenticationRequirement",
                                               "userType",
                                               "tokenIssuerType",
                                               "incomingTokenType"};
    return p;
}

const std::vector<std::string>& audit_props() {
    static const std::vector<std::string> p = {"id",
                                               "activityDateTime",
                                               "activityDisplayName",
                                               "additionalDetails",
                                               "category",
                                               "correlationId",
                                               "initiatedBy",
                                               "loggedByService",
                                               "operationType",
                                               "result",
                                               "resultReason",
                                               "targetResources"};
    return p;
}

std::string failure_reason(int code, const std::string& app_id, const std::string& tenant) {
    switch (code) {
    case 0: return "";
    case 53003:
        return "Access has been blocked by Conditional Access policies. The access policy does not allow token "
               "issuance.";
    case 50057: return "User account is disabled. The account has been disabled by an administrator.";
    case 50126: return "Error validating credentials due to invalid username or password.";
    case 50074: return "Strong Authentication is required.";
    case 7000112: return "Application is disabled.";
    case 7000215:
        return "Invalid client secret provided. Ensure the secret being sent in the request is the client secret "
               "value, not the client secret ID, for a secret added to app '" +
               app_id + "'.";
    case 7000222: return "The provided client secret keys for app '" + app_id + "' are expired.";
    case 700016: return "Application with identifier '" + app_id + "' was not found in the directory '" + tenant + "'.";
    default: return "Other.";
    }
}

bool prefers_unknown_enums(const std::string& prefer) {
    return prefer.find("include-unknown-enum-members") != std::string::npos;
}

// Snapshot time embedded in a skiptoken ("<hash>_<offset>_<ms>"), if any.
std::optional<time_point> snapshot_of(const graph_call& c) {
    auto s = c.query.find("$skiptoken");
    if (s == c.query.end()) return std::nullopt;
    const auto last = s->second.rfind('_');
    const auto first = s->second.find('_');
    if (last == std::string::npos || last == first) return std::nullopt;
    try {
        return from_unix_ms(std::stoll(s->second.substr(last + 1)));
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

// A DateTimeOffset property compared with a quoted (string) literal, as in
// "createdDateTime ge '2026-03-12T10:00:00Z'": Graph refuses it (400); the literal must be bare.
bool quoted_datetime(const odata::node& n, const std::string& property) {
    if (n.k == odata::node::kind::compare && n.args.size() == 2) {
        for (int i = 0; i < 2; ++i) {
            const auto& a = *n.args[i];
            const auto& b = *n.args[1 - i];
            if (a.k == odata::node::kind::property && a.path.size() == 1 && a.path[0] == property &&
                b.k == odata::node::kind::literal && b.value.is_string() && !b.is_datetime)
                return true;
        }
    }
    for (const auto& arg : n.args)
        if (arg && quoted_datetime(*arg, property)) return true;
    return false;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
graph_reply tenant::sign_ins(const graph_call& c, time_point now) {
    if (c.method != "GET") return method_not_allowed(c, now);
    if (!audit_logs_licensed_)
        return error(403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
                     "Neither tenant is B2C or tenant doesn't have premium license", c, now);
    const bool beta = c.version == "beta";
    auto project = [&](const json& e) {
        json v = json::object();
        for (auto it = e.begin(); it != e.end(); ++it) {
            const bool v1 =
                std::find(v1_signin_props().begin(), v1_signin_props().end(), it.key()) != v1_signin_props().end();
            const bool b = std::find(beta_only_signin_props().begin(), beta_only_signin_props().end(), it.key()) !=
                           beta_only_signin_props().end();
            if (v1 || (beta && b)) v[it.key()] = it.value();
        }
        if (!prefers_unknown_enums(c.prefer) && v.contains("appliedConditionalAccessPolicies"))
            for (auto& p : v["appliedConditionalAccessPolicies"]) {
                const auto r = p.value("result", "");
                if (r.rfind("reportOnly", 0) == 0) p["result"] = "unknownFutureValue";
            }
        return v;
    };
    if (c.segs.size() == 3) {
        for (const auto& r : signins_)
            if (r.e["id"] == c.segs[2] && r.visible <= now && (beta || r.event_type == "interactiveUser")) {
                json v = project(r.e);
                v["@odata.context"] = ctx(c, "auditLogs/signIns/$entity");
                return ok(v);
            }
        return error(404, "Request_ResourceNotFound", "Resource '" + c.segs[2] + "' does not exist.", c, now);
    }
    if (c.segs.size() != 2) return bad_segment(c, now, c.segs[3]);
    std::vector<std::string> allowed = v1_signin_props();
    if (beta) allowed.insert(allowed.end(), beta_only_signin_props().begin(), beta_only_signin_props().end());
    graph_reply err;
    bool has = false;
    auto f = filter_of(c, now, allowed, "signIn", err, has);
    if (has && !f) return err;
    if (f && quoted_datetime(*f, "createdDateTime"))
        return error(400, "BadRequest",
                     "Invalid filter clause: The types 'Edm.DateTimeOffset' and 'Edm.String' are not compatible.", c,
                     now);
    bool typed = false;
    if (f)
        for (const auto& p : odata::referenced_properties(*f)) typed = typed || p == "signInEventTypes";
    const time_point cutoff = snapshot_of(c).value_or(now);
    std::vector<const signin_rec*> recs;
    for (const auto& r : signins_) {
        if (r.visible > cutoff) continue;
        if (!typed && r.event_type != "interactiveUser") continue;  // the default view: interactive only
        if (f && !odata::evaluate(*f, r.e)) continue;
        recs.push_back(&r);
    }
    const bool asc = c.query.count("$orderby") && c.query.at("$orderby").find("asc") != std::string::npos;
    std::stable_sort(recs.begin(), recs.end(),
                     [&](const signin_rec* a, const signin_rec* b) { return asc ? a->at < b->at : a->at > b->at; });
    std::vector<json> items;
    for (const auto* r : recs) items.push_back(project(r->e));
    return page(c, now, std::move(items), ctx(c, "auditLogs/signIns"), 1000, 1000, std::to_string(to_unix_ms(cutoff)));
}

graph_reply tenant::directory_audits(const graph_call& c, time_point now) {
    if (c.method != "GET") return method_not_allowed(c, now);
    if (!audit_logs_licensed_)
        return error(403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
                     "Neither tenant is B2C or tenant doesn't have premium license", c, now);
    if (c.segs.size() == 3) {
        for (const auto& a : audits_)
            if (a.e["id"] == c.segs[2] && a.at + times_.ingestion_delay <= now) {
                json v = a.e;
                v["@odata.context"] = ctx(c, "auditLogs/directoryAudits/$entity");
                return ok(v);
            }
        return error(404, "Request_ResourceNotFound", "Resource '" + c.segs[2] + "' does not exist.", c, now);
    }
    if (c.segs.size() != 2) return bad_segment(c, now, c.segs[3]);
    graph_reply err;
    bool has = false;
    auto f = filter_of(c, now, audit_props(), "directoryAudit", err, has);
    if (has && !f) return err;
    const time_point cutoff = snapshot_of(c).value_or(now);
    std::vector<const audit_rec*> recs;
    for (const auto& a : audits_)
        if (a.at + times_.ingestion_delay <= cutoff && (!f || odata::evaluate(*f, a.e))) recs.push_back(&a);
    const bool asc = c.query.count("$orderby") && c.query.at("$orderby").find("asc") != std::string::npos;
    std::stable_sort(recs.begin(), recs.end(),
                     [&](const audit_rec* a, const audit_rec* b) { return asc ? a->at < b->at : a->at > b->at; });
    std::vector<json> items;
    for (const auto* a : recs) items.push_back(a->e);
    return page(c, now, std::move(items), ctx(c, "auditLogs/directoryAudits"), 1000, 1000,
                std::to_string(to_unix_ms(cutoff)));
}

// ---------------------------------------------------------------------------------------------
void tenant::load_streams(const json& activity, time_point now) {
    (void)now;
    if (!activity.is_array()) throw std::invalid_argument("scenario: activity must be an array");
    for (const auto& spec : activity) {
        stream s;
        s.spec = spec;
        s.kind = spec.value("kind", "user");
        const auto scaled = [&](double secs) {
            return std::chrono::duration_cast<duration>(std::chrono::duration<double>(secs / time_scale_));
        };
        s.interval = spec.contains("interval_seconds") ? scaled(spec["interval_seconds"].get<double>())
                                                       : times_.attacker_interval;
        if (s.interval < milliseconds(1)) s.interval = milliseconds(1);
        s.next_tick = parse_time(spec.value("start", json("now")), "activity[].start");
        if (spec.contains("end") && !spec["end"].is_null()) s.end = parse_time(spec["end"], "activity[].end");
        if (spec.contains("token_lifetime_minutes"))
            s.token_lifetime = scaled(spec["token_lifetime_minutes"].get<double>() * 60.0);
        if (spec.contains("ingestion_delay_seconds"))
            s.ingestion = std::chrono::duration_cast<duration>(
                std::chrono::duration<double>(spec["ingestion_delay_seconds"].get<double>() / time_scale_));
        if (!spec.contains("ip") || !spec["ip"].is_string())
            throw std::invalid_argument("scenario: activity[].ip is required");
        if (s.kind == "user") {
            // The client: "legacy" (IMAP/POP/SMTP AUTH style: never CAE, legacy client-app type in
            // Conditional Access), "cae" (cut on critical events), "non_cae" (keeps its token).
            const std::string client_app = spec.value("clientAppUsed", "Browser");
            const bool legacy = client_app != "Browser" && client_app != "Mobile Apps and Desktop clients";
            s.client_kind = spec.value("client", legacy                             ? "legacy"
                                                 : spec.value("cae_capable", false) ? "cae"
                                                                                    : "non_cae");
            if (s.client_kind != "legacy" && s.client_kind != "cae" && s.client_kind != "non_cae")
                throw std::invalid_argument("scenario: activity[].client must be cae, non_cae or legacy");
            s.credential = spec.value("credential", "password");
            if (s.credential != "password" && s.credential != "app_password")
                throw std::invalid_argument("scenario: activity[].credential must be password or app_password");
            if (s.credential == "app_password" && s.client_kind != "legacy")
                throw std::invalid_argument("scenario: activity[].credential app_password is for legacy clients only");
            if (!find_user(spec.value("user", "")))
                throw std::invalid_argument("scenario: activity[].user: unknown user '" + spec.value("user", "") + "'");
            if (!spec.contains("app") || !spec["app"].is_object() || !spec["app"].contains("appId"))
                throw std::invalid_argument("scenario: activity[].app.appId is required for user activity");
        } else if (s.kind == "service_principal") {
            const auto app_id = spec.value("app_id", "");
            auto* sp = sp_by_app_id(app_id);
            auto* app = app_by_app_id(app_id);
            if (!sp)
                throw std::invalid_argument("scenario: activity[].app_id: no service principal with appId '" + app_id +
                                            "'");
            if (spec.contains("credential_key_ids")) {
                for (const auto& k : spec["credential_key_ids"]) s.known_keys.insert(k.get<std::string>());
            } else {
                for (const json* owner : {app ? &app->g : nullptr, &sp->g}) {
                    if (!owner) continue;
                    for (const auto& p : (*owner)["passwordCredentials"])
                        s.known_keys.insert(p["keyId"].get<std::string>());
                    for (const auto& k : (*owner)["keyCredentials"]) s.known_keys.insert(k["keyId"].get<std::string>());
                }
            }
        } else {
            throw std::invalid_argument("scenario: activity[].kind must be user or service_principal");
        }
        streams_.push_back(std::move(s));
    }
}

void tenant::advance(time_point now) {
    for (;;) {
        stream* best = nullptr;
        for (auto& s : streams_) {
            if (s.next_tick > now || (s.end && s.next_tick > *s.end)) continue;
            if (!best || s.next_tick < best->next_tick) best = &s;
        }
        if (!best) break;
        // Bound the work after a huge clock jump.
        if ((now - best->next_tick) / best->interval > 20000) best->next_tick = now - best->interval * 20000;
        run_stream_tick(*best, best->next_tick);
        best->next_tick += best->interval;
    }
    if (now > generated_until_) generated_until_ = now;
}

void tenant::run_stream_tick(stream& s, time_point t) {
    if (s.kind == "user")
        user_tick(s, t);
    else
        sp_tick(s, t);
}

void tenant::record_signin(const stream& s, time_point t, json e, const std::string& event_type) {
    const duration delay = draw_ingestion(s, e);
    signins_.push_back({t, std::move(e), event_type, t + delay});
}

// Per record (seeded): an activity's fixed delay; else the scenario's model. "realistic": a
// share of MFA-related records (authenticationRequirement multiFactorAuthentication) arrives
// late (up to mfa_late_max), most records within fast_max, the rest up to tail_max.
duration tenant::draw_ingestion(const stream& s, const json& e) {
    if (s.ingestion) return *s.ingestion;
    if (!ingestion_realistic_) return times_.ingestion_delay;
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const auto between = [&](duration lo, duration hi) {
        const double a = std::chrono::duration<double>(lo).count(), b = std::chrono::duration<double>(hi).count();
        const double v = (a + (b - a) * unit(behaviour_rng_)) / std::max(times_.delay_divisor, 1e-9);
        return std::chrono::duration_cast<duration>(std::chrono::duration<double>(v));
    };
    const bool mfa = e.value("authenticationRequirement", "") == "multiFactorAuthentication";
    if (mfa && unit(behaviour_rng_) < ingestion_mfa_late_share_)
        return between(ingestion_tail_max_, ingestion_mfa_late_max_);
    if (unit(behaviour_rng_) < ingestion_fast_share_) return between(seconds(20), ingestion_fast_max_);
    return between(ingestion_fast_max_, ingestion_tail_max_);
}

// An access token's lifetime: the activity's, else the tenant's token-lifetime policy, else
// Microsoft's default, randomised between 60 and 90 minutes (seeded).
duration tenant::draw_token_lifetime(const stream& s) {
    if (s.token_lifetime) return *s.token_lifetime;
    if (token_lifetime_policy_) return *token_lifetime_policy_;
    std::uniform_real_distribution<double> minutes_60_90(60.0, 90.0);
    return std::chrono::duration_cast<duration>(
        std::chrono::duration<double>(minutes_60_90(behaviour_rng_) * 60.0 / time_scale_));
}

json tenant::signin_base(const stream& s, time_point t) {
    const auto& spec = s.spec;
    const json loc = spec.value("location", json::object());
    const json dev = spec.value("device", json::object());
    json e = {{"id", new_guid()},
              {"createdDateTime", format_rfc3339(t)},
              {"ipAddress", spec["ip"]},
              {"correlationId", new_guid()},
              {"riskDetail", "none"},
              {"riskLevelAggregated", "none"},
              {"riskLevelDuringSignIn", "none"},
              {"riskState", "none"},
              {"riskEventTypes", json::array()},
              {"riskEventTypes_v2", json::array()},
              {"homeTenantId", id_},
              {"resourceTenantId", id_},
              {"userAgent", spec.value("userAgent", "")},
              {"deviceDetail",
               {{"deviceId", ""},
                {"displayName", nullptr},
                {"operatingSystem", dev.value("operatingSystem", "")},
                {"browser", dev.value("browser", "")},
                {"isCompliant", false},
                {"isManaged", false},
                {"trustType", nullptr}}},
              {"location",
               {{"city", loc.value("city", json(nullptr))},
                {"state", loc.value("state", json(nullptr))},
                {"countryOrRegion", loc.value("countryOrRegion", json(nullptr))},
                {"geoCoordinates",
                 {{"altitude", nullptr},
                  {"latitude", loc.value("latitude", json(nullptr))},
                  {"longitude", loc.value("longitude", json(nullptr))}}}}},
              {"tokenIssuerType", "AzureAD"},
              {"incomingTokenType", "none"}};
    return e;
}

void tenant::user_tick(stream& s, time_point t) {
    user_rec* u = find_user(s.spec["user"].get<std::string>());
    if (!u) return;
    const auto& spec = s.spec;
    const json app = spec["app"];
    const std::string app_id = app["appId"];
    const std::string ip = spec["ip"];
    const std::string client_app = spec.value("clientAppUsed", "Browser");
    const bool interactive = spec.value("interactive", true);
    const json resource = spec.value("resource", json{{"id", app_id}, {"displayName", app.value("displayName", "")}});

    auto emit = [&](int code, const std::string& ca_status, json applied, const std::string& event) {
        json e = signin_base(s, t);
        e["userDisplayName"] = u->g["displayName"];
        e["userPrincipalName"] = u->g["userPrincipalName"];
        e["userId"] = u->g["id"];
        e["appId"] = app_id;
        e["appDisplayName"] = app.value("displayName", "");
        e["clientAppUsed"] = client_app;
        e["conditionalAccessStatus"] = ca_status;
        e["isInteractive"] = event == "interactiveUser";
        e["resourceDisplayName"] = resource.value("displayName", "");
        e["resourceId"] = resource.value("id", "");
        e["servicePrincipalId"] = "";
        e["servicePrincipalName"] = nullptr;
        const auto reason = failure_reason(code, app_id, id_);
        e["status"] = {
            {"errorCode", code},
            {"failureReason", code == 0 ? json(nullptr) : json(reason)},
            {"additionalDetails",
             code == 53003 ? json("The sign-in was blocked by a Conditional Access policy.") : json(nullptr)}};
        e["appliedConditionalAccessPolicies"] = std::move(applied);
        e["signInEventTypes"] = json::array({event});
        e["clientCredentialType"] = "none";
        e["servicePrincipalCredentialKeyId"] = nullptr;
        e["authenticationRequirement"] =
            spec.value("mfa", false) ? "multiFactorAuthentication" : "singleFactorAuthentication";
        e["userType"] = "member";
        record_signin(s, t, std::move(e), event);
    };
    const std::string own_event = interactive ? "interactiveUser" : "nonInteractiveUser";
    const bool legacy = s.client_kind == "legacy";

    // 1. A sign-in record is a token being issued, not a token being used: while the attacker
    //    holds an unexpired access token, its use leaves no sign-in record (only the ground truth
    //    in the state dump). It keeps working until it expires, unless the client is CAE-capable
    //    and a critical event (revocation, password change, disable, high risk) or a blocking
    //    location policy reached it cae_delay ago. Legacy and non-CAE clients keep it.
    if (s.token_expires && t < *s.token_expires) {
        bool cut = false;
        const auto issued = *s.token_issued;
        if (s.client_kind == "cae") {
            const auto ca = evaluate_ca(*u, app_id, ip, client_app);
            for (const auto& ev : {u->sessions_valid_from, u->disabled_at, u->high_risk_at})
                if (ev && *ev >= issued && t >= *ev + times_.cae_delay) cut = true;
            if (ca.blocked && ca.block_enabled_at && t >= std::max(*ca.block_enabled_at, issued) + times_.cae_delay)
                cut = true;
        }
        if (!cut) {
            ++s.used_without_sign_in;
            s.last_used = t;
            return;
        }
        s.token_issued.reset();
        s.token_expires.reset();
    }

    // 2. A new token: through the refresh session if it survived (modern clients), else with a
    //    credential: the password (until it is reset), an attacker-registered passwordless
    //    method, or, for a legacy client, an app password (a separate credential that a password
    //    reset and a session revocation do not change; disabling the account stops it).
    const bool session_ok = !legacy && s.session_issued && !u->disabled_at &&
                            !(u->sessions_valid_from && *u->sessions_valid_from >= *s.session_issued);
    if (!session_ok) s.session_issued.reset();
    std::string event = session_ok ? "nonInteractiveUser" : own_event;
    if (!session_ok) {
        if (u->disabled_at) {
            emit(50057, "notApplied", json::array(), event);
            return;
        }
        bool passwordless = false, attacker_mfa = false;
        for (const auto& m : u->methods) {
            const std::string mid = m["id"];
            if (!u->attacker_methods.count(mid)) continue;
            attacker_mfa = true;
            const std::string type = m["@odata.type"];
            if (type == "#microsoft.graph.fido2AuthenticationMethod" ||
                type == "#microsoft.graph.windowsHelloForBusinessAuthenticationMethod")
                passwordless = true;
        }
        const bool app_password = legacy && s.credential == "app_password";
        const bool password_known = !u->password_changed;
        const bool needs_mfa = spec.value("mfa", false);
        if (!(app_password || (!legacy && passwordless) ||
              (password_known && (!needs_mfa || attacker_mfa || legacy)))) {
            emit(password_known ? 50074 : 50126, "notApplied", json::array(), event);
            return;
        }
    }
    const auto ca = evaluate_ca(*u, app_id, ip, client_app);
    if (ca.blocked) {
        emit(53003, "failure", ca.applied, event);
        return;
    }
    s.token_issued = t;
    s.token_expires = t + draw_token_lifetime(s);
    if (!session_ok) s.session_issued = t;
    emit(0, ca.status, ca.applied, event);
}

void tenant::sp_tick(stream& s, time_point t) {
    // An app caches its client-credentials token: its use leaves no sign-in record, and without
    // CAE for workload identities (not requested here) disabling or deleting the service
    // principal does not cut a token already issued.
    if (s.token_expires && t < *s.token_expires) {
        ++s.used_without_sign_in;
        s.last_used = t;
        return;
    }
    s.token_expires.reset();
    const auto& spec = s.spec;
    const std::string app_id = spec["app_id"];
    sp_rec* sp = sp_by_app_id(app_id);
    app_rec* app = app_by_app_id(app_id);
    int code = 0;
    std::string used_key, cred_type = "clientSecret";
    if (!sp) {
        code = 700016;
    } else if (!sp->g.value("accountEnabled", true)) {
        code = 7000112;
    } else {
        bool expired_only = false;
        for (const json* owner : {app ? &app->g : nullptr, &sp->g}) {
            if (!owner || !used_key.empty()) continue;
            for (const char* kind : {"passwordCredentials", "keyCredentials"}) {
                for (const auto& k : (*owner)[kind]) {
                    const std::string kid = k["keyId"];
                    if (!s.known_keys.count(kid) || !used_key.empty()) continue;
                    const auto start = parse_rfc3339(k.value("startDateTime", ""));
                    const auto end = parse_rfc3339(k.value("endDateTime", ""));
                    if ((start && t < *start) || (end && t >= *end)) {
                        expired_only = true;
                        continue;
                    }
                    used_key = kid;
                    cred_type = std::string(kind) == "keyCredentials" ? "clientAssertion" : "clientSecret";
                }
            }
        }
        if (used_key.empty()) code = expired_only ? 7000222 : 7000215;
    }
    json e = signin_base(s, t);
    e["appId"] = app_id;
    e["appDisplayName"] = sp ? sp->g.value("displayName", "") : app_display_name(app_id);
    e["servicePrincipalId"] = sp ? sp->g["id"] : json("");
    e["servicePrincipalName"] = sp ? sp->g["displayName"] : json(nullptr);
    e["userDisplayName"] = nullptr;
    e["userPrincipalName"] = nullptr;
    e["userId"] = "";
    e["clientAppUsed"] = nullptr;
    e["conditionalAccessStatus"] = "notApplied";
    e["isInteractive"] = false;
    e["resourceDisplayName"] = spec.value("resourceDisplayName", "Microsoft Graph");
    e["resourceId"] = spec.value("resourceId", "00000003-0000-0000-c000-000000000000");
    e["status"] = {{"errorCode", code},
                   {"failureReason", code == 0 ? json(nullptr) : json(failure_reason(code, app_id, id_))},
                   {"additionalDetails", nullptr}};
    e["appliedConditionalAccessPolicies"] = json::array();
    e["signInEventTypes"] = json::array({"servicePrincipal"});
    if (code == 0) {
        s.token_issued = t;
        s.token_expires = t + draw_token_lifetime(s);
    }
    e["clientCredentialType"] = code == 0 ? cred_type : "none";
    e["servicePrincipalCredentialKeyId"] = used_key.empty() ? json(nullptr) : json(used_key);
    e["authenticationRequirement"] = "singleFactorAuthentication";
    e["userType"] = nullptr;
    record_signin(s, t, std::move(e), "servicePrincipal");
}

}  // namespace containd::sim
