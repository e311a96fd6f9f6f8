#include "api/handlers.hpp"

#include <charconv>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "api/problem.hpp"
#include "core/ids.hpp"
#include "core/text.hpp"
#include "core/time.hpp"
#include "incident/planner.hpp"
#include "incident/validation.hpp"
#include "report/report.hpp"

namespace containd::api::detail {
namespace {

using nlohmann::json;

constexpr std::size_t max_list_limit = 200;
constexpr std::size_t max_event_page = 1000;

std::optional<std::int64_t> parse_int(std::string_view s) {
    std::int64_t v = 0;
    const auto* end = s.data() + s.size();
    const auto [p, ec] = std::from_chars(s.data(), end, v);
    if (ec != std::errc() || p != end || s.empty()) return std::nullopt;
    return v;
}

const std::string* query(const request& req, const std::string& key) {
    auto it = req.query.find(key);
    return it == req.query.end() ? nullptr : &it->second;
}

// Query parameters a route does not know are an error, like unknown body fields.
std::vector<incident::field_error> unknown_query(const request& req, std::initializer_list<std::string_view> known) {
    std::vector<incident::field_error> errors;
    for (const auto& [k, v] : req.query) {
        bool ok = false;
        for (auto n : known) ok = ok || k == n;
        if (!ok) errors.push_back({k.size() > 64 ? k.substr(0, 64) : k, "unknown query parameter"});
    }
    return errors;
}

// The body of an operator action: empty or a JSON object with only the allowed fields.
// Fills body; returns a 400 on malformed JSON or unknown fields.
std::optional<response> parse_action_body(const request& req, std::initializer_list<std::string_view> allowed,
                                          json& body) {
    body = json::object();
    if (req.body.empty()) return std::nullopt;
    body = json::parse(req.body, nullptr, false);
    if (body.is_discarded()) return bad_request("The body is not valid JSON.");
    if (!body.is_object()) return bad_request("The body must be a JSON object.", {{"", "must be a JSON object"}});
    std::vector<incident::field_error> errors;
    for (const auto& [k, v] : body.items()) {
        bool ok = false;
        for (auto n : allowed) ok = ok || k == n;
        if (!ok) errors.push_back({k.size() > 64 ? k.substr(0, 64) : k, "unknown field"});
    }
    if (!errors.empty()) return bad_request("The body has unknown fields.", errors);
    return std::nullopt;
}

// {"step": <seq>}: a positive integer.
std::variant<int, response> step_from_body(const request& req) {
    json body;
    if (auto bad = parse_action_body(req, {"step"}, body)) return std::move(*bad);
    const auto it = body.find("step");
    if (it == body.end()) return bad_request("The step is required.", {{"step", "required: the step's seq"}});
    if (!it->is_number_integer() || it->get<std::int64_t>() < 1 || it->get<std::int64_t>() > 100000)
        return bad_request("The step must be a positive integer.", {{"step", "must be a positive integer (a seq)"}});
    return static_cast<int>(it->get<std::int64_t>());
}

// The operator's reason for an action: {"reason": "..."}, 1 to 1000 characters. Required for
// the actions DOMAIN.md §9 asks to be justified; optional (empty) otherwise.
std::variant<std::string, response> reason_from(const json& body, bool required) {
    const auto it = body.find("reason");
    if (it == body.end()) {
        if (required)
            return bad_request("A reason is required; the audit trail keeps it.",
                               {{"reason", "required: why (kept in the audit trail)"}});
        return std::string();
    }
    if (!it->is_string() || it->get<std::string>().empty() || it->get<std::string>().size() > 1000)
        return bad_request("The reason must be text.", {{"reason", "must be 1 to 1000 characters"}});
    return it->get<std::string>();
}

std::optional<bool> bool_query(const request& req, const std::string& key, std::vector<incident::field_error>& errors) {
    const auto* v = query(req, key);
    if (!v) return std::nullopt;
    if (*v == "true" || *v == "1") return true;
    if (*v == "false" || *v == "0") return false;
    errors.push_back({key, "must be true or false"});
    return std::nullopt;
}

// The incident document, rendered once per committed change (see view_cache).
std::optional<response> cached_view(api_state& st, const std::string& id, int status) {
    auto body = st.views.find(id);
    if (!body) return std::nullopt;
    response r = json_response(status, nullptr);
    r.body = std::move(*body);
    return r;
}

response view_of(api_state& st, const std::string& id, int status) {
    if (auto hit = cached_view(st, id, status)) return std::move(*hit);
    auto snap = report::load_view_snapshot(st.ctx.db, id);
    if (!snap) return not_found("No such incident.");
    auto r = json_response(status, report::incident_view(*snap));
    st.views.put(id, r.body);
    return r;
}

// The viewer role never sees evidence contents (issue 15; report::viewer_incident_view).
bool is_viewer(const caller& who) { return who.granted == config::role::viewer; }
response for_caller(response r, const caller& who) {
    if (!is_viewer(who) || r.status != 200) return r;
    auto doc = json::parse(r.body, nullptr, false);
    if (doc.is_discarded()) return r;
    r.body = report::viewer_incident_view(std::move(doc)).dump();
    return r;
}

response action_outcome(api_state& st, engine::action_result result, const std::string& id, std::string_view what) {
    switch (result) {
    case engine::action_result::done: return view_of(st, id, 200);
    case engine::action_result::not_found: return not_found("No such incident.");
    case engine::action_result::conflict:
        return conflict("The incident or step is not in a state that allows " + std::string(what) + ".");
    }
    return conflict("Unexpected outcome.");
}

bool visible_ascii(std::string_view s) {
    for (char c : s)
        if (c < 0x21 || c > 0x7e) return false;
    return true;
}

}  // namespace

response handle_healthz(api_state&, const request&, const caller&, const path_params&) {
    return json_response(200, {{"status", "ok"}});
}

// Not ready while starting, stopping, or while the database fails writes: then each probe
// makes one small durable write, so readiness returns by itself once the disk takes writes.
response handle_readyz(api_state& st, const request&, const caller&, const path_params&) {
    const bool storage_ok = !st.ctx.db.storage_failing() || st.ctx.db.probe_write();
    const json tenants = st.ctx.tenant_health ? st.ctx.tenant_health() : json::object();
    bool tenants_ok = true;
    for (const auto& [name, t] : tenants.items()) tenants_ok = tenants_ok && t.value("healthy", true);
    json body = {{"status", "ready"}};
    if (!tenants.empty()) body["tenants"] = tenants;
    if (st.ready && !st.stopping && storage_ok && tenants_ok) return json_response(200, body);
    body["status"] = st.stopping   ? "stopping"
                     : !st.ready   ? "starting"
                     : !storage_ok ? "storage_unavailable"
                                   : "tenant_not_ready";
    auto r = json_response(503, body);
    r.header("Retry-After", "1");
    return r;
}

response handle_metrics(api_state& st, const request&, const caller&, const path_params&) {
    metrics::gauges g;
    g.ready = st.ready && !st.stopping && !st.ctx.db.storage_failing();
    g.open_connections = st.open_connections;
    g.event_streams = st.hub.size();
    response r;
    r.header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    r.header("Cache-Control", "no-store");
    r.body = st.stats.render(st.ctx.db, st.ctx.engine, g, st.ctx.extra_metrics);
    return r;
}

response handle_submit(api_state& st, const request& req, const caller&, const path_params&) {
    auto errors = unknown_query(req, {"dry_run"});
    bool dry_run = false;
    if (const auto* d = query(req, "dry_run")) {
        if (*d == "true" || *d == "1")
            dry_run = true;
        else if (*d != "false" && *d != "0")
            errors.push_back({"dry_run", "must be true or false"});
    }
    std::optional<std::string> key;
    if (const auto* k = req.header("idempotency-key")) {
        if (k->empty() || k->size() > 255 || !visible_ascii(*k))
            errors.push_back({"Idempotency-Key", "must be 1 to 255 visible ASCII characters"});
        else
            key = *k;
    }
    if (!errors.empty()) return bad_request("The request has invalid parameters.", errors);
    if (req.body.empty()) return bad_request("The body is required.", {{"", "a JSON incident is required"}});

    const json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded()) return bad_request("The body is not valid JSON.");

    auto parsed = incident::parse_submission(body, st.ctx.clock.now());
    if (auto* e = std::get_if<std::vector<incident::field_error>>(&parsed)) errors = std::move(*e);

    // The tenant: named and configured, or omitted with exactly one configured. Checked on the
    // raw body too, so every offending field is listed at once.
    std::string tenant;
    bool tenant_reported = false;
    for (const auto& e : errors) tenant_reported = tenant_reported || e.field == "tenant";
    if (!tenant_reported && body.is_object()) {
        const auto it = body.find("tenant");
        if (it == body.end()) {
            if (st.ctx.tenants.size() == 1)
                tenant = st.ctx.tenants.begin()->first;
            else
                errors.push_back({"tenant", "required: more than one tenant is configured"});
        } else if (it->is_string()) {
            if (st.ctx.tenants.count(it->get<std::string>()))
                tenant = it->get<std::string>();
            else
                errors.push_back({"tenant", "is not a configured tenant"});
        }
    }
    if (!errors.empty())
        return bad_request(
            "The incident has " + std::to_string(errors.size()) + " invalid field(s); nothing was stored.", errors);

    auto& request_in = std::get<incident::incident_request>(parsed);
    request_in.tenant = tenant;  // canonical: a replay naming the tenant matches one that omitted it
    const auto* planning = st.ctx.engine.tenant(tenant);  // with what the tenant's health check has read
    const auto& settings = planning ? *planning : st.ctx.tenants.at(tenant);
    auto planned = incident::make_plan(request_in, settings, {});
    if (auto* refused = std::get_if<incident::refusal>(&planned)) {
        std::string detail = "The plan was refused:";
        for (const auto& reason : refused->reasons) detail += " " + reason;
        auto r = problem(422, "plan-refused", "Unprocessable Content", detail);
        auto doc = json::parse(r.body);
        doc["reasons"] = refused->reasons;
        r.body = doc.dump(-1, ' ', false, json::error_handler_t::replace);
        return r;
    }
    auto& plan = std::get<incident::plan>(planned);
    if (dry_run) return json_response(200, incident::to_json(plan));

    const store::new_incident in{random_uuid(),  tenant, request_in.external_ref, key, incident::to_json(request_in),
                                 std::move(plan)};
    // create_incident commits durably before it returns: only then is a 201 possible.
    const auto result = st.ctx.db.create_incident(in);
    if (const auto* made = std::get_if<store::created>(&result)) {
        st.ctx.engine.submit(made->id);
        auto r = view_of(st, made->id, 201);
        r.header("Location", "/v1/incidents/" + made->id);
        return r;
    }
    const auto& first = std::get<store::existing>(result);
    if (first.by_idempotency_key && !first.same_request)
        return problem(422, "idempotency-key-reused", "Unprocessable Content",
                       "This Idempotency-Key was used for a different incident body.");
    if (!first.by_idempotency_key && !first.same_request) {
        // The SIEM's id names one incident: a body that differs (a newly found account, an
        // option) is not silently dropped, nor a second incident. Say where it is and how to add.
        auto r = problem(409, "external-ref-conflict", "Conflict",
                         "Incident " + first.id + " already exists for external_ref '" +
                             request_in.external_ref.value_or("") +
                             "' with a different body; nothing was stored. To add accounts or apps to it, POST "
                             "them to /v1/incidents/" +
                             first.id + "/accounts.");
        auto doc = json::parse(r.body);
        doc["incident_id"] = first.id;
        doc["incident"] = "/v1/incidents/" + first.id;
        doc["add_accounts"] = "/v1/incidents/" + first.id + "/accounts";
        r.body = doc.dump(-1, ' ', false, json::error_handler_t::replace);
        r.header("Location", "/v1/incidents/" + first.id);
        return r;
    }
    auto r = view_of(st, first.id, 200);
    r.header("Location", "/v1/incidents/" + first.id);
    return r;
}

response handle_list(api_state& st, const request& req, const caller& who, const path_params&) {
    auto errors = unknown_query(req, {"status", "tenant", "limit", "cursor"});
    store::list_filter f;
    if (const auto* s = query(req, "status")) {
        f.status = store::incident_status_from_string(*s);
        if (!f.status)
            errors.push_back(
                {"status", "must be running, waiting_approval, verifying, contained, needs_attention or cancelled"});
    }
    if (const auto* t = query(req, "tenant")) {
        if (t->empty() || t->size() > 64)
            errors.push_back({"tenant", "must be a tenant name"});
        else
            f.tenant = *t;
    }
    if (const auto* l = query(req, "limit")) {
        const auto v = parse_int(*l);
        if (!v || *v < 1 || *v > static_cast<std::int64_t>(max_list_limit))
            errors.push_back({"limit", "must be an integer from 1 to " + std::to_string(max_list_limit)});
        else
            f.limit = static_cast<std::size_t>(*v);
    }
    if (const auto* c = query(req, "cursor")) {
        if (!is_guid(*c))
            errors.push_back({"cursor", "must be the next_cursor of an earlier page"});
        else
            f.before_id = lower(*c);
    }
    if (!errors.empty()) return bad_request("The query has invalid parameters.", errors);

    const std::size_t page = f.limit;
    f.limit = page + 1;  // one more tells whether there is a next page
    auto rows = st.ctx.db.list_incidents(f);
    json out = {{"incidents", json::array()}, {"next_cursor", nullptr}};
    const bool more = rows.size() > page;
    if (more) rows.resize(page);
    for (const auto& r : rows) {
        json row = report::incident_summary(r);
        if (is_viewer(who)) row = report::viewer_incident_view(std::move(row));  // attention: a count
        out["incidents"].push_back(std::move(row));
    }
    if (more && !rows.empty()) out["next_cursor"] = rows.back().id;
    return json_response(200, out);
}

std::optional<response> cached_get(api_state& st, const request&, const caller& who, const path_params& p) {
    auto hit = cached_view(st, p.at(0), 200);
    if (!hit) return hit;
    return for_caller(std::move(*hit), who);
}

response handle_get(api_state& st, const request&, const caller& who, const path_params& p) {
    return for_caller(view_of(st, p.at(0), 200), who);
}

response handle_events(api_state& st, const request& req, const caller& who, const path_params& p) {
    const std::string& id = p.at(0);
    auto errors = unknown_query(req, {"after", "limit"});
    std::int64_t after = 0;
    std::size_t limit = max_event_page;
    if (const auto* a = query(req, "after")) {
        const auto v = parse_int(*a);
        if (!v || *v < 0)
            errors.push_back({"after", "must be an event id (a non-negative integer)"});
        else
            after = *v;
    }
    if (const auto* l = query(req, "limit")) {
        const auto v = parse_int(*l);
        if (!v || *v < 1 || *v > static_cast<std::int64_t>(max_event_page))
            errors.push_back({"limit", "must be an integer from 1 to " + std::to_string(max_event_page)});
        else
            limit = static_cast<std::size_t>(*v);
    }
    const auto* accept = req.header("accept");
    const bool stream = accept && accept->find("text/event-stream") != std::string::npos;
    if (stream) {
        if (const auto* last = req.header("last-event-id")) {
            const auto v = parse_int(*last);
            if (!v || *v < 0)
                errors.push_back({"Last-Event-ID", "must be an event id"});
            else
                after = std::max(after, *v);
        }
    }
    if (!errors.empty()) return bad_request("The query has invalid parameters.", errors);
    if (!st.ctx.db.get_incident(id)) return not_found("No such incident.");

    if (stream) {
        response r;
        r.stream = event_stream{id, after, is_viewer(who)};
        return r;
    }
    json out = {{"events", json::array()}, {"next_after", after}};
    for (const auto& e : st.ctx.db.events(id, after, limit)) {
        out["events"].push_back(is_viewer(who) ? report::viewer_event_view(report::event_view(e))
                                               : report::event_view(e));
        out["next_after"] = e.id;
    }
    return json_response(200, out);
}

response handle_report(api_state& st, const request& req, const caller& who, const path_params& p) {
    auto errors = unknown_query(req, {"format"});
    std::string format = "json";
    if (const auto* f = query(req, "format")) format = *f;
    if (format != "json" && format != "md" && format != "html")
        errors.push_back({"format", "must be json, md or html"});
    if (!errors.empty()) return bad_request("The query has invalid parameters.", errors);

    auto snap = report::load_snapshot(st.ctx.db, p.at(0));
    if (!snap) return not_found("No such incident.");
    const json doc = is_viewer(who) ? report::viewer_report(report::build_report(*snap)) : report::build_report(*snap);
    if (format == "json") return json_response(200, doc);
    response r;
    r.header("Cache-Control", "no-store");
    if (format == "md") {
        r.header("Content-Type", "text/markdown; charset=utf-8");
        r.body = report::render_markdown(doc);
    } else {
        r.header("Content-Type", "text/html; charset=utf-8");
        r.header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
        r.header("X-Content-Type-Options", "nosniff");
        r.body = report::render_html(doc);
    }
    return r;
}

response handle_approve(api_state& st, const request& req, const caller& who, const path_params& p) {
    auto step = step_from_body(req);
    if (auto* bad = std::get_if<response>(&step)) return std::move(*bad);
    return action_outcome(st, st.ctx.engine.approve(p.at(0), std::get<int>(step), who.name), p.at(0), "approval");
}

response handle_retry(api_state& st, const request& req, const caller& who, const path_params& p) {
    auto step = step_from_body(req);
    if (auto* bad = std::get_if<response>(&step)) return std::move(*bad);
    return action_outcome(st, st.ctx.engine.retry(p.at(0), std::get<int>(step), who.name), p.at(0), "a retry");
}

response handle_cancel(api_state& st, const request& req, const caller& who, const path_params& p) {
    auto errors = unknown_query(req, {"release"});
    const bool release = bool_query(req, "release", errors).value_or(false);
    if (!errors.empty()) return bad_request("The query has invalid parameters.", errors);
    json body;
    if (auto bad = parse_action_body(req, {"reason"}, body)) return std::move(*bad);
    auto reason = reason_from(body, false);
    if (auto* bad = std::get_if<response>(&reason)) return std::move(*bad);
    const std::string& id = p.at(0);
    const auto out = st.ctx.engine.cancel(id, who.name, std::get<std::string>(reason), release);
    if (out.result != engine::action_result::done) return action_outcome(st, out.result, id, "cancelling");
    st.wake_streams(id);
    auto r = view_of(st, id, 200);
    // Plainly, beside the incident: what happens to the block.
    auto doc = json::parse(r.body, nullptr, false);
    if (doc.is_object()) {
        doc["block"] = out.releasing ? "releasing: the emergency block is being taken off for this incident's accounts"
                       : out.block_stays ? "stays on: the emergency block still blocks this incident's accounts; "
                                           "release it with POST /v1/incidents/" +
                                               id +
                                               "/release (or cancel with "
                                               "?release=true)"
                                         : "none: the block had not been enabled";
        r.body = doc.dump(-1, ' ', false, json::error_handler_t::replace);
    }
    return r;
}

response handle_release(api_state& st, const request& req, const caller& who, const path_params& p) {
    json body;
    if (auto bad = parse_action_body(req, {"reason"}, body)) return std::move(*bad);
    auto reason = reason_from(body, true);
    if (auto* bad = std::get_if<response>(&reason)) return std::move(*bad);
    const std::string& id = p.at(0);
    const auto rec = st.ctx.db.get_incident(id);
    if (!rec) return not_found("No such incident.");
    const auto released = st.ctx.engine.release(id, who.name, std::get<std::string>(reason));
    if (released.result == engine::action_result::not_found) return not_found("No such incident.");
    if (released.result != engine::action_result::done)
        return conflict(rec->contained_at
                            ? "The emergency block of this incident is already being released or was released."
                            : "The emergency block of this incident is not on yet: there is nothing to release "
                              "(it is " +
                                  std::string(store::to_string(rec->status)) + "; cancel it instead).");
    st.wake_streams(id);
    return json_response(202, {{"id", id}, {"status", "release_requested"}, {"event_id", released.event_id}});
}

// Accounts or apps found after submission: {"accounts": [...], "malicious_apps": [...],
// "reason": "..."}, each entry as in a submission.
response handle_extend(api_state& st, const request& req, const caller& who, const path_params& p) {
    json body;
    if (auto bad = parse_action_body(req, {"accounts", "malicious_apps", "reason"}, body)) return std::move(*bad);
    auto reason = reason_from(body, true);
    if (auto* bad = std::get_if<response>(&reason)) return std::move(*bad);
    const std::string& id = p.at(0);
    const auto rec = st.ctx.db.get_incident(id);
    if (!rec) return not_found("No such incident.");
    std::vector<incident::field_error> errors;
    for (const char* key : {"accounts", "malicious_apps"})
        if (body.contains(key) && !body[key].is_array()) errors.push_back({key, "must be an array"});
    if (!body.contains("accounts") && !body.contains("malicious_apps"))
        errors.push_back({"accounts", "required: the accounts (or malicious_apps) to add"});
    if (!errors.empty()) return bad_request("The body has invalid fields.", errors);

    // What the incident already holds is not added twice (and listed as such).
    json merged = rec->request;
    const std::size_t accounts_before = merged.value("accounts", json::array()).size();
    const std::size_t apps_before = merged.value("malicious_apps", json::array()).size();
    std::set<std::string> present;
    for (const auto& a : merged.value("accounts", json::array())) present.insert("upn:" + lower(a.value("upn", "")));
    for (const auto& a : merged.value("malicious_apps", json::array()))
        present.insert("app:" + lower(a.value("app_id", "")));
    std::vector<std::string> already;
    auto known = [&](const json& entry, const char* key, const char* prefix) {
        if (!entry.is_object() || !entry.contains(key) || !entry[key].is_string()) return false;
        const std::string v = lower(entry[key].get<std::string>());
        if (!present.count(prefix + v)) return false;
        already.push_back(v);
        return true;
    };
    // Validated as part of the whole request, so every rule of a submission applies.
    for (const auto& a : body.value("accounts", json::array()))
        if (!known(a, "upn", "upn:")) merged["accounts"].push_back(a);
    for (const auto& a : body.value("malicious_apps", json::array()))
        if (!known(a, "app_id", "app:")) merged["malicious_apps"].push_back(a);
    auto parsed = incident::parse_submission(merged, rec->created_at);
    if (auto* e = std::get_if<std::vector<incident::field_error>>(&parsed)) {
        // Name the fields as the caller sent them (accounts[0], not accounts[7]).
        for (auto& fe : *e) {
            for (auto [key, before] : {std::pair<std::string, std::size_t>{"accounts[", accounts_before},
                                       std::pair<std::string, std::size_t>{"malicious_apps[", apps_before}}) {
                if (fe.field.rfind(key, 0) != 0) continue;
                const auto close = fe.field.find(']');
                std::size_t n = 0;
                try {
                    n = std::stoul(fe.field.substr(key.size(), close - key.size()));
                } catch (...) {
                    continue;
                }
                if (n >= before) fe.field = key + std::to_string(n - before) + fe.field.substr(close);
            }
        }
        return bad_request(
            "The accounts or apps have " + std::to_string(e->size()) + " invalid field(s); nothing was added.", *e);
    }
    auto& request_in = std::get<incident::incident_request>(parsed);
    request_in.tenant = rec->tenant;
    // What is new: an account or app already in the incident is not added twice.
    const std::vector<incident::account_request> accounts(
        request_in.accounts.begin() +
            static_cast<std::ptrdiff_t>(std::min(accounts_before, request_in.accounts.size())),
        request_in.accounts.end());
    const std::vector<incident::app_request> apps(
        request_in.malicious_apps.begin() +
            static_cast<std::ptrdiff_t>(std::min(apps_before, request_in.malicious_apps.size())),
        request_in.malicious_apps.end());
    if (accounts.empty() && apps.empty())
        return conflict("Every account and app given is already part of this incident; nothing was added.");
    const auto out = st.ctx.engine.extend(id, request_in, accounts, apps, who.name, std::get<std::string>(reason));
    if (out.result == engine::action_result::conflict)
        return conflict("Accounts or apps cannot be added to a cancelled incident; submit a new one.");
    if (out.result != engine::action_result::done) return action_outcome(st, out.result, id, "adding accounts");
    st.wake_streams(id);
    json added = json::array(), added_apps = json::array();
    for (const auto& a : accounts) added.push_back(a.upn);
    for (const auto& a : apps) added_apps.push_back(a.app_id);
    return json_response(202, {{"id", id},
                               {"status", "accounts_added"},
                               {"batch", out.batch},
                               {"accounts", added},
                               {"malicious_apps", added_apps},
                               {"already_present", already}});
}

// Re-run verification now: a check due at once, besides the scheduled ones.
response handle_reverify(api_state& st, const request& req, const caller& who, const path_params& p) {
    json body;
    if (auto bad = parse_action_body(req, {"reason"}, body)) return std::move(*bad);
    auto reason = reason_from(body, true);
    if (auto* bad = std::get_if<response>(&reason)) return std::move(*bad);
    const std::string& id = p.at(0);
    int seq = 0;
    const auto result =
        st.ctx.engine.schedule_check(id, st.ctx.clock.now(), who.name, std::get<std::string>(reason), &seq);
    if (result == engine::action_result::conflict)
        return conflict(
            "Verification needs the block to be on (a containment time) and an incident that is not "
            "cancelled.");
    if (result != engine::action_result::done) return action_outcome(st, result, id, "verification");
    st.wake_streams(id);
    return json_response(202, {{"id", id}, {"status", "verification_scheduled"}, {"step", seq}});
}

// The operator accepts the break-glass lockout risk after submission.
response handle_override_guard(api_state& st, const request& req, const caller& who, const path_params& p) {
    json body;
    if (auto bad = parse_action_body(req, {"reason"}, body)) return std::move(*bad);
    auto reason = reason_from(body, true);
    if (auto* bad = std::get_if<response>(&reason)) return std::move(*bad);
    const std::string& id = p.at(0);
    const auto result = st.ctx.engine.override_guard(id, who.name, std::get<std::string>(reason));
    if (result == engine::action_result::conflict)
        return conflict("The break-glass guard is already overridden for this incident, or it is cancelled.");
    if (result != engine::action_result::done) return action_outcome(st, result, id, "overriding the guard");
    st.wake_streams(id);
    return view_of(st, id, 200);
}

// Issue (or re-issue) a Temporary Access Pass now: {"lifetime_minutes": N (10 to 43200; the
// tenant's TAP policy has the last word; default 60), "reason": "..."}.
// The step runs at once; reveal it when it has succeeded.
response handle_issue_tap(api_state& st, const request& req, const caller& who, const path_params& p) {
    const std::string& id = p.at(0);
    const std::string upn = lower(p.at(1));
    json body;
    if (auto bad = parse_action_body(req, {"lifetime_minutes", "reason"}, body)) return std::move(*bad);
    auto reason = reason_from(body, true);
    if (auto* bad = std::get_if<response>(&reason)) return std::move(*bad);
    std::vector<incident::field_error> errors;
    if (!incident::is_valid_upn(upn)) errors.push_back({"upn", "must be a UPN"});
    std::optional<int> lifetime;
    if (const auto it = body.find("lifetime_minutes"); it != body.end()) {
        if (!it->is_number_integer() || it->get<std::int64_t>() < 10 || it->get<std::int64_t>() > 43200)
            errors.push_back({"lifetime_minutes", "must be an integer from 10 to 43200"});
        else
            lifetime = static_cast<int>(it->get<std::int64_t>());
    }
    if (!errors.empty()) return bad_request("The request has invalid fields.", errors);
    int seq = 0;
    const auto result = st.ctx.engine.issue_tap(id, upn, lifetime, who.name, std::get<std::string>(reason), &seq);
    if (result == engine::action_result::conflict)
        return conflict(
            "A TAP can be issued for a resolved account of this incident once the block is on, one at a "
            "time, and not in a cancelled incident.");
    if (result != engine::action_result::done) return action_outcome(st, result, id, "issuing a TAP");
    st.wake_streams(id);
    json out = {{"id", id}, {"status", "tap_requested"}, {"upn", upn}, {"step", seq}};
    if (lifetime) out["lifetime_minutes"] = *lifetime;
    return json_response(202, std::move(out));
}

namespace {

// 202: the TAP is being issued; reveal again after Retry-After.
response tap_issuing(const std::string& upn, int step) {
    auto r = json_response(202, {{"upn", upn}, {"kind", "tap"}, {"status", "tap_issuing"}, {"step", step}});
    r.header("Retry-After", "1");
    return r;
}

// A TAP is issued when it is revealed (DOMAIN.md): none issued yet (or the last attempt failed
// and an operator has not re-issued), so issue one now. Not before the account's method cleanup
// has finished: the cleanup would remove it.
response issue_at_reveal(api_state& st, const caller& who, const std::string& id, const std::string& upn,
                         const std::vector<store::step_record>& steps, std::optional<int> lifetime) {
    const store::step_record* last = nullptr;
    for (const auto& s : steps)
        if (s.kind == incident::step_kind::issue_tap && s.target == upn) last = &s;
    if (last && last->status == store::step_status::failed)
        return problem(409, "tap-issue-failed", "Conflict",
                       "Issuing the Temporary Access Pass for " + upn + " failed (step " + std::to_string(last->seq) +
                           "): " + last->error + ". Issue a fresh one with POST /v1/incidents/" + id + "/credentials/" +
                           upn + "/tap {\"reason\": \"...\"}, then reveal it.");
    for (const auto& s : steps)
        if (s.kind == incident::step_kind::cleanup_methods && s.target == upn &&
            (s.status == store::step_status::pending || s.status == store::step_status::running))
            return problem(409, "methods-cleanup-pending", "Conflict",
                           "The authentication-method cleanup of " + upn + " (step " + std::to_string(s.seq) +
                               ") has not finished: a TAP issued now would be removed by it. Reveal again once it "
                               "has.");
    int seq = 0;
    const auto result = st.ctx.engine.issue_tap(id, upn, lifetime, who.name, "issued at reveal", &seq);
    if (result == engine::action_result::conflict)
        return conflict(
            "A TAP is issued once the account has resolved and the block is on, and not in a cancelled incident.");
    if (result != engine::action_result::done) return action_outcome(st, result, id, "issuing a TAP");
    st.wake_streams(id);
    return tap_issuing(upn, seq);
}

}  // namespace

// ?kind=tap|password picks one when an account holds both (privileged accounts get a password
// and a TAP to register a new method); without it, the TAP for an account that gets one.
// A TAP is issued at its first reveal: that reveal answers 202 (Retry-After) while it is being
// issued, and the next one reveals it. ?lifetime_minutes=N sets that TAP's lifetime.
response handle_reveal(api_state& st, const request& req, const caller& who, const path_params& p) {
    const std::string& id = p.at(0);
    const std::string upn = lower(p.at(1));
    auto errors = unknown_query(req, {"kind", "lifetime_minutes"});
    const std::string* wanted = query(req, "kind");
    if (wanted && *wanted != "tap" && *wanted != "password") errors.push_back({"kind", "must be tap or password"});
    if (!incident::is_valid_upn(upn)) errors.push_back({"upn", "must be a UPN"});
    std::optional<int> lifetime;
    if (const auto* l = query(req, "lifetime_minutes")) {
        const auto v = parse_int(*l);
        if (!v || *v < 10 || *v > 43200)
            errors.push_back({"lifetime_minutes", "must be an integer from 10 to 43200"});
        else
            lifetime = static_cast<int>(*v);
    }
    if (!errors.empty()) return bad_request("The request has invalid parameters.", errors);
    const auto rec = st.ctx.db.get_incident(id);
    if (!rec) return not_found("No such incident.");
    const auto steps = st.ctx.db.steps(id);
    bool tap_held = false, password_held = false;
    for (const auto& name : st.ctx.db.secret_names(id)) {
        tap_held = tap_held || name == "tap:" + upn;
        password_held = password_held || name == "password:" + upn;
    }
    bool tap_in_flight = false;
    int tap_step = 0;
    for (const auto& s : steps)
        if (s.kind == incident::step_kind::issue_tap && s.target == upn &&
            (s.status == store::step_status::pending || s.status == store::step_status::running)) {
            tap_in_flight = true;
            tap_step = s.seq;
        }
    const bool tap_account = tap_held || tap_in_flight || report::gets_tap(*rec, steps, upn);
    const std::string kind = wanted ? *wanted : tap_account ? "tap" : password_held ? "password" : "";
    if (kind.empty()) return not_found("No temporary credential for this account.");
    // In TAP mode the passwords were reset to cut the attacker's, never to be phoned: the user
    // signs in with the TAP and sets their own.
    if (kind == "password" && rec->plan.value("delivery", "password") == "tap")
        return problem(409, "tap-mode", "Conflict",
                       "This incident delivers Temporary Access Passes: passwords were reset to unique random values "
                       "but are never revealed. Reveal the account's TAP (it is issued when revealed).");
    if (kind == "password" && !password_held) return not_found("No temporary password for this account.");
    if (kind == "tap") {
        if (!tap_account)
            return not_found(
                "No Temporary Access Pass for this account: it gets a temporary password. To give it a "
                "TAP as well, POST /v1/incidents/" +
                id + "/credentials/" + upn + "/tap.");
        if (tap_in_flight) return tap_issuing(upn, tap_step);
        if (!tap_held) return issue_at_reveal(st, who, id, upn, steps, lifetime);
        // A TAP that has expired is useless to the user: say so, and how to get a fresh one.
        std::optional<time_point> expires;
        for (const auto& s : steps)
            if (s.kind == incident::step_kind::issue_tap && s.target == upn &&
                s.status == store::step_status::succeeded && s.result.is_object())
                if (auto at = parse_rfc3339(s.result.value("tap_issued_at", "")))
                    expires = *at + minutes(s.result.value("lifetime_minutes", 60));
        if (expires && *expires <= st.ctx.clock.now())
            return problem(410, "tap-expired", "Gone",
                           "The Temporary Access Pass for " + upn + " expired at " + format_rfc3339(*expires) +
                               "; it is not revealed. Issue a fresh one with POST /v1/incidents/" + id +
                               "/credentials/" + upn +
                               "/tap {\"lifetime_minutes\": N, \"reason\": \"...\"}, then reveal it.");
    }
    auto revealed = st.ctx.db.reveal_secret(id, kind + ":" + upn, who.name);
    switch (revealed.status) {
    case store::reveal_status::not_found: return not_found("No temporary credential for this account.");
    case store::reveal_status::already_revealed:
        return problem(410, "already-revealed", "Gone", "The credential was revealed once and has been wiped.");
    case store::reveal_status::revealed: break;
    }
    st.wake_streams(id);  // the secret_revealed audit event
    return json_response(200, {{"upn", upn}, {"kind", kind}, {"value", std::move(revealed.plaintext)}});
}

}  // namespace containd::api::detail
