// The REST API end to end over loopback: every route and role, validation, limits, idempotency,
// the operator actions, the event stream, metrics, TLS and shutdown.

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "integration/api/api_fixture.hpp"
#include "support/test_tls.hpp"

namespace containd::testing {
namespace {

using nlohmann::json;
using test::api_client;

std::string with_params(std::string path) {
    path = std::regex_replace(path, std::regex("\\{id\\}"), "0b7c6d5e-4f3a-4b2c-9d1e-0f9e8d7c6b5a");
    path = std::regex_replace(path, std::regex("\\{asset\\}"), "app.js");
    return std::regex_replace(path, std::regex("\\{upn\\}"), "ap.clerk@contoso.com");
}

std::set<std::string> fields_of(const json& problem) {
    std::set<std::string> out;
    for (const auto& e : problem.value("errors", json::array())) out.insert(e.value("field", ""));
    return out;
}

class ApiTest : public api_fixture {
protected:
    std::size_t stored() {
        return on_io([&] { return h.db->list_incidents({}).size(); });
    }
    // When the scripted runner last started the step with this seq (the injected clock's time).
    time_point calls_at(int seq) {
        return on_io([&] {
            time_point at{};
            for (const auto& i : *h.runners.log)
                if (i.seq == seq) at = i.at;
            return at;
        });
    }
    int step_of_kind(const std::string& id, const std::string& kind) {
        api_client c(port);
        const auto doc = c.get("/v1/incidents/" + id, viewer_token).json();
        for (const auto& s : doc["steps"])
            if (s.value("kind", "") == kind) return s.value("seq", 0);
        return 0;
    }
};

// --------------------------------------------------------------- routes and roles

TEST_F(ApiTest, route_table_lists_every_route_with_its_role) {
    const auto& routes = api::route_table();
    EXPECT_EQ(routes.size(), 20u);
    std::map<std::string, std::string> role;
    for (const auto& r : routes) role[r.method + " " + r.path] = r.role;
    EXPECT_EQ(role["GET /healthz"], "none");
    EXPECT_EQ(role["GET /metrics"], "none");
    EXPECT_EQ(role["POST /v1/incidents"], "submitter");
    EXPECT_EQ(role["GET /v1/incidents/{id}/events"], "viewer");
    EXPECT_EQ(role["POST /v1/incidents/{id}/approve"], "operator");
    EXPECT_EQ(role["POST /v1/incidents/{id}/credentials/{upn}/reveal"], "operator");
    EXPECT_EQ(role["POST /v1/incidents/{id}/accounts"], "operator");
    EXPECT_EQ(role["POST /v1/incidents/{id}/verify"], "operator");
    EXPECT_EQ(role["POST /v1/incidents/{id}/override-guard"], "operator");
    EXPECT_EQ(role["POST /v1/incidents/{id}/credentials/{upn}/tap"], "operator");
    EXPECT_EQ(role["GET /ui/"], "none");
    EXPECT_EQ(role["GET /ui/{asset}"], "none");
    EXPECT_EQ(role["GET /v1/notifications"], "viewer");
}

// The dashboard: static files from the binary, no token, a strict CSP, revalidated by ETag.
TEST_F(ApiTest, dashboard_files_are_served_with_a_strict_csp) {
    api_client c(port);
    const auto page = c.request("GET", "/ui/", {}, {});
    ASSERT_EQ(page.status, 200);
    EXPECT_EQ(page.header("content-type"), "text/html; charset=utf-8");
    EXPECT_NE(page.body.find("<script src=\"app.js\" defer></script>"), std::string::npos);
    const std::string csp = page.header("content-security-policy");
    EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
    EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
    EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
    EXPECT_EQ(csp.find("unsafe"), std::string::npos) << csp;
    EXPECT_EQ(page.header("x-content-type-options"), "nosniff");
    const std::string etag = page.header("etag");
    ASSERT_FALSE(etag.empty());

    const auto again = c.request("GET", "/ui/", {}, {{"If-None-Match", etag}});
    EXPECT_EQ(again.status, 304);
    EXPECT_TRUE(again.body.empty());
    EXPECT_EQ(c.request("GET", "/ui/", {}, {{"If-None-Match", "\"other\""}}).status, 200);

    const auto script = c.request("GET", "/ui/app.js", {}, {});
    EXPECT_EQ(script.status, 200);
    EXPECT_EQ(script.header("content-type"), "text/javascript; charset=utf-8");
    EXPECT_NE(script.header("etag"), etag);
    EXPECT_EQ(c.request("GET", "/ui/app.css", {}, {}).header("content-type"), "text/css; charset=utf-8");
    EXPECT_EQ(c.request("GET", "/ui/secrets.json", {}, {}).status, 404);
    EXPECT_EQ(c.request("GET", "/ui/..%2Fcontaind.json", {}, {}).status, 404);
    EXPECT_EQ(c.request("GET", "/ui", {}, {}).status, 404);
    EXPECT_EQ(c.request("POST", "/ui/", {}, {}).status, 405);
}

TEST_F(ApiTest, every_route_needs_a_valid_token_and_the_right_role) {
    api_client c(port);
    for (const auto& r : api::route_table()) {
        const std::string target = with_params(r.path);
        auto call = [&](const std::string& token) {
            test::header_list hs;
            if (!token.empty()) hs.emplace_back("Authorization", "Bearer " + token);
            return c.request(r.method, target, {}, hs);
        };
        if (r.role == "none") {
            EXPECT_EQ(call("").status, 200) << r.path;
            continue;
        }
        const auto none = call("");
        EXPECT_EQ(none.status, 401) << r.method << " " << r.path;
        EXPECT_NE(none.header("www-authenticate").find("Bearer"), std::string::npos);
        EXPECT_EQ(none.header("content-type"), "application/problem+json");
        EXPECT_EQ(call("not-a-token").status, 401) << r.path;
        EXPECT_EQ(call(std::string(viewer_token) + "x").status, 401) << r.path;

        const int viewer = call(viewer_token).status;
        const int submitter = call(submitter_token).status;
        const int op = call(operator_token).status;
        if (r.role == "viewer") {
            EXPECT_NE(viewer, 403) << r.path;
            EXPECT_NE(submitter, 403) << r.path;
            EXPECT_NE(op, 403) << r.path;
        } else if (r.role == "submitter") {
            EXPECT_EQ(viewer, 403) << r.path;
            EXPECT_NE(submitter, 403) << r.path;
            EXPECT_NE(op, 403) << r.path;
        } else {
            EXPECT_EQ(viewer, 403) << r.path;
            EXPECT_EQ(submitter, 403) << r.path;
            EXPECT_NE(op, 403) << r.path;
            EXPECT_NE(op, 401) << r.path;
        }
    }
}

TEST_F(ApiTest, unknown_routes_and_incidents_are_404_and_a_wrong_method_is_405_with_allow) {
    api_client c(port);
    for (const char* target :
         {"/v1/nothing", "/v1/incidents/x/y/z", "/v1/incidents/0b7c6d5e-4f3a-4b2c-9d1e-0f9e8d7c6b5a",
          "/v1/incidents/0b7c6d5e-4f3a-4b2c-9d1e-0f9e8d7c6b5a/events",
          "/v1/incidents/0b7c6d5e-4f3a-4b2c-9d1e-0f9e8d7c6b5a/report"}) {
        const auto missing = c.get(target, viewer_token);
        EXPECT_EQ(missing.status, 404) << target;
        EXPECT_EQ(missing.header("content-type"), "application/problem+json") << target;
    }

    const auto wrong =
        c.request("DELETE", "/v1/incidents", {}, {{"Authorization", std::string("Bearer ") + operator_token}});
    EXPECT_EQ(wrong.status, 405);
    EXPECT_NE(wrong.header("allow").find("POST"), std::string::npos);
    EXPECT_NE(wrong.header("allow").find("GET"), std::string::npos);
    const auto get_approve = c.get("/v1/incidents/abc/approve", operator_token);
    EXPECT_EQ(get_approve.status, 405);
    EXPECT_EQ(get_approve.header("allow"), "POST");
}

TEST_F(ApiTest, health_ready_and_metrics_need_no_token_and_reveal_no_upn) {
    const auto id = submit();
    ASSERT_FALSE(id.empty());
    api_client c(port);
    EXPECT_EQ(c.get("/healthz", "").status, 200);
    EXPECT_EQ(c.get("/readyz", "").status, 200);
    on_io([&] { srv->set_ready(false); });
    EXPECT_EQ(c.get("/readyz", "").status, 503);
    on_io([&] { srv->set_ready(true); });

    EXPECT_EQ(c.get("/v1/incidents/" + id, viewer_token).status, 200);
    EXPECT_EQ(c.get("/v1/nothing", viewer_token).status, 404);
    const auto m = c.get("/metrics", "");
    ASSERT_EQ(m.status, 200);
    EXPECT_NE(m.header("content-type").find("text/plain"), std::string::npos);
    EXPECT_NE(m.body.find("containd_incidents{status=\"running\"}"), std::string::npos) << m.body;
    EXPECT_NE(m.body.find("containd_engine_step_attempts_total"), std::string::npos);
    EXPECT_NE(m.body.find("containd_api_requests_total{route=\"/v1/incidents/{id}\",method=\"GET\",code=\"200\"} 1"),
              std::string::npos)
        << m.body;
    EXPECT_NE(m.body.find("containd_api_requests_total{route=\"unmatched\""), std::string::npos);
    EXPECT_NE(m.body.find("containd_api_request_duration_seconds_bucket{route=\"/v1/incidents\",le=\"+Inf\"}"),
              std::string::npos);
    EXPECT_NE(m.body.find("containd_api_request_duration_seconds_count"), std::string::npos);
    EXPECT_NE(m.body.find("containd_graph_calls_total{status=\"200\"} 7"), std::string::npos);
    EXPECT_EQ(m.body.find("@contoso.com"), std::string::npos);
    EXPECT_EQ(m.body.find(id), std::string::npos);
    const auto health = c.get("/healthz", "");
    EXPECT_EQ(health.body.find("@"), std::string::npos);
}

// --------------------------------------------------------------- submit

TEST_F(ApiTest, submit_returns_201_with_the_incident_and_location_after_commit) {
    api_client c(port);
    const auto r = c.post("/v1/incidents", submitter_token, walkthrough_submission());
    ASSERT_EQ(r.status, 201) << r.body;
    const auto doc = r.json();
    const std::string id = doc.value("id", "");
    EXPECT_EQ(r.header("location"), "/v1/incidents/" + id);
    EXPECT_EQ(doc.value("tenant", ""), "contoso");
    EXPECT_EQ(doc.value("external_ref", ""), "SENTINEL-4711");
    EXPECT_FALSE(doc["steps"].empty());
    // Committed: the store has it (and the engine runs it).
    EXPECT_TRUE(on_io([&] { return h.db->get_incident(id).has_value(); }));
    const auto got = c.get("/v1/incidents/" + id, viewer_token);
    EXPECT_EQ(got.status, 200);
    EXPECT_EQ(got.json().value("id", ""), id);
    EXPECT_TRUE(drive_to(id, store::incident_status::contained));
}

TEST_F(ApiTest, operator_may_submit_too) {
    api_client c(port);
    EXPECT_EQ(c.post("/v1/incidents", operator_token, walkthrough_submission("OP-1")).status, 201);
}

TEST_F(ApiTest, invalid_submission_is_400_naming_every_field_and_stores_nothing) {
    auto body = walkthrough_submission();
    body["accounts"][0]["upn"] = "not a upn";
    body["attacker_ips"] = {"300.1.2.3"};
    body["compromise_start"] = "yesterday";
    body["status"] = "contained";   // server-owned
    body["steps"] = json::array();  // server-owned
    body["surprise"] = 1;           // unknown
    body["malicious_apps"][0]["app_id"] = "not-a-guid";
    body["tenant"] = "fabrikam";  // not configured
    api_client c(port);
    const auto r = c.post("/v1/incidents", submitter_token, body);
    ASSERT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(r.header("content-type"), "application/problem+json");
    const auto p = r.json();
    EXPECT_EQ(p.value("status", 0), 400);
    EXPECT_TRUE(p.contains("type") && p.contains("title") && p.contains("detail"));
    const auto fields = fields_of(p);
    for (const char* f : {"accounts[0].upn", "attacker_ips[0]", "compromise_start", "status", "steps", "surprise",
                          "malicious_apps[0].app_id", "tenant"})
        EXPECT_TRUE(fields.count(f)) << f << " missing in " << r.body;
    EXPECT_EQ(stored(), 0u);
}

TEST_F(ApiTest, unknown_tenant_alone_is_400_naming_tenant) {
    auto body = walkthrough_submission();
    body["tenant"] = "fabrikam";
    api_client c(port);
    const auto r = c.post("/v1/incidents", submitter_token, body);
    ASSERT_EQ(r.status, 400);
    EXPECT_EQ(fields_of(r.json()), std::set<std::string>{"tenant"});
    EXPECT_EQ(stored(), 0u);
}

TEST_F(ApiTest, tenant_may_be_omitted_with_one_tenant_configured) {
    auto body = walkthrough_submission();
    body.erase("tenant");
    api_client c(port);
    const auto r = c.post("/v1/incidents", submitter_token, body);
    ASSERT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(r.json().value("tenant", ""), "contoso");
    // The same incident naming the tenant is the same request (canonical form): a replay.
    const auto again = c.post("/v1/incidents", submitter_token, walkthrough_submission());
    EXPECT_EQ(again.status, 200);
    EXPECT_EQ(again.json().value("id", ""), r.json().value("id", ""));
}

TEST_F(ApiTest, malformed_json_wrong_content_type_and_empty_body) {
    api_client c(port);
    const test::header_list auth = {{"Authorization", std::string("Bearer ") + submitter_token}};
    auto hs = auth;
    hs.emplace_back("Content-Type", "application/json");
    const auto bad = c.request("POST", "/v1/incidents", "{\"tenant\": ", hs);
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(bad.header("content-type"), "application/problem+json");
    auto text = auth;
    text.emplace_back("Content-Type", "text/plain");
    EXPECT_EQ(c.request("POST", "/v1/incidents", walkthrough_submission().dump(), text).status, 415);
    EXPECT_EQ(c.request("POST", "/v1/incidents", walkthrough_submission().dump(), auth).status, 415);
    auto charset = auth;
    charset.emplace_back("Content-Type", "application/json; charset=utf-8");
    EXPECT_EQ(c.request("POST", "/v1/incidents", walkthrough_submission().dump(), charset).status, 201);
    EXPECT_EQ(c.request("POST", "/v1/incidents", "", hs).status, 400);
    EXPECT_EQ(stored(), 1u);
}

TEST_F(ApiTest, oversize_body_is_413_and_nothing_is_stored) {
    auto body = walkthrough_submission();
    body["title"] = std::string(100 * 1024, 'a');
    api_client c(port);
    const auto r = c.post("/v1/incidents", submitter_token, body);
    EXPECT_EQ(r.status, 413) << r.error;
    EXPECT_EQ(r.header("content-type"), "application/problem+json");
    EXPECT_EQ(stored(), 0u);
    // The server is fine afterwards.
    api_client fresh(port);
    EXPECT_EQ(fresh.get("/healthz", "").status, 200);
}

TEST_F(ApiTest, oversize_header_is_431) {
    api_client c(port);
    const auto r = c.request("GET", "/healthz", {}, {{"X-Padding", std::string(16 * 1024, 'p')}});
    EXPECT_EQ(r.status, 431) << r.error;
    api_client fresh(port);
    EXPECT_EQ(fresh.get("/healthz", "").status, 200);
}

TEST_F(ApiTest, idempotency_key_replays_and_refuses_another_body) {
    api_client c(port);
    const test::header_list key = {{"Idempotency-Key", "soar-run-77"}};
    const auto first = c.post("/v1/incidents", submitter_token, walkthrough_submission("A-1"), key);
    ASSERT_EQ(first.status, 201);
    const auto replay = c.post("/v1/incidents", submitter_token, walkthrough_submission("A-1"), key);
    EXPECT_EQ(replay.status, 200);
    EXPECT_EQ(replay.json().value("id", ""), first.json().value("id", ""));
    const auto other = c.post("/v1/incidents", submitter_token, walkthrough_submission("A-2"), key);
    EXPECT_EQ(other.status, 422) << other.body;
    EXPECT_EQ(other.header("content-type"), "application/problem+json");
    EXPECT_EQ(stored(), 1u);
    const auto bad_key = c.post("/v1/incidents", submitter_token, walkthrough_submission("A-3"),
                                {{"Idempotency-Key", std::string(300, 'k')}});
    EXPECT_EQ(bad_key.status, 400);
    EXPECT_TRUE(fields_of(bad_key.json()).count("Idempotency-Key"));
}

TEST_F(ApiTest, external_ref_replay_returns_the_first_incident) {
    api_client c(port);
    const auto first = c.post("/v1/incidents", submitter_token, walkthrough_submission("SIEM-9"));
    ASSERT_EQ(first.status, 201);
    const auto again = c.post("/v1/incidents", submitter_token, walkthrough_submission("SIEM-9"));
    EXPECT_EQ(again.status, 200);
    EXPECT_EQ(again.json().value("id", ""), first.json().value("id", ""));
    EXPECT_EQ(stored(), 1u);
}

TEST_F(ApiTest, dry_run_returns_the_plan_and_stores_nothing) {
    api_client c(port);
    const auto r =
        c.post("/v1/incidents?dry_run=true", submitter_token, walkthrough_submission(), {{"Idempotency-Key", "dry-1"}});
    ASSERT_EQ(r.status, 200) << r.body;
    const auto plan = r.json();
    EXPECT_FALSE(plan["steps"].empty());
    EXPECT_TRUE(plan.contains("permissions"));
    EXPECT_EQ(stored(), 0u);
    EXPECT_EQ(c.post("/v1/incidents?dry_run=maybe", submitter_token, walkthrough_submission()).status, 400);
    EXPECT_EQ(stored(), 0u);
    // The key was not consumed by the dry run.
    EXPECT_EQ(c.post("/v1/incidents", submitter_token, walkthrough_submission(), {{"Idempotency-Key", "dry-1"}}).status,
              201);
}

// DOMAIN.md §9: the lockout guard holds back only the block, never the resets of compromised
// break-glass accounts: the incident is accepted, and its plan says the block waits for an
// operator's override (POST /v1/incidents/{id}/override-guard).
TEST_F(ApiTest, with_every_break_glass_account_compromised_the_incident_is_accepted_with_a_warning) {
    auto body = walkthrough_submission();
    body["accounts"] = {{{"upn", "breakglass1@contoso.com"}}, {{"upn", "breakglass2@contoso.com"}}};
    api_client c(port);
    const auto dry = c.post("/v1/incidents?dry_run=true", submitter_token, body);
    ASSERT_EQ(dry.status, 200) << dry.body;
    const auto plan = dry.json();
    bool warned = false;
    for (const auto& w : plan["warnings"])
        warned = warned || (w.get<std::string>().find("break-glass") != std::string::npos &&
                            w.get<std::string>().find("override") != std::string::npos);
    EXPECT_TRUE(warned) << dry.body;
    const auto r = c.post("/v1/incidents", submitter_token, body);
    ASSERT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(stored(), 1u);
}

// --------------------------------------------------------------- read

TEST_F(ApiTest, list_is_newest_first_with_a_cursor_and_filters) {
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) {
        ids.push_back(submit(walkthrough_submission("LIST-" + std::to_string(i))));
        on_io([&] { h.clock.advance(seconds(1)); });
    }
    api_client c(port);
    const auto page1 = c.get("/v1/incidents?limit=2", viewer_token).json();
    ASSERT_EQ(page1["incidents"].size(), 2u);
    EXPECT_EQ(page1["incidents"][0].value("id", ""), ids[2]);
    EXPECT_EQ(page1["incidents"][1].value("id", ""), ids[1]);
    ASSERT_TRUE(page1["next_cursor"].is_string());
    const auto page2 =
        c.get("/v1/incidents?limit=2&cursor=" + page1["next_cursor"].get<std::string>(), viewer_token).json();
    ASSERT_EQ(page2["incidents"].size(), 1u);
    EXPECT_EQ(page2["incidents"][0].value("id", ""), ids[0]);
    EXPECT_TRUE(page2["next_cursor"].is_null());

    EXPECT_EQ(c.get("/v1/incidents?status=cancelled", viewer_token).json()["incidents"].size(), 0u);
    EXPECT_EQ(c.get("/v1/incidents?tenant=contoso", viewer_token).json()["incidents"].size(), 3u);
    const auto bad = c.get("/v1/incidents?status=bogus&limit=0&cursor=x&color=red", viewer_token);
    ASSERT_EQ(bad.status, 400);
    EXPECT_EQ(fields_of(bad.json()), (std::set<std::string>{"status", "limit", "cursor", "color"}));
}

TEST_F(ApiTest, events_list_pages_with_after) {
    const auto id = submit();
    ASSERT_TRUE(drive_to(id, store::incident_status::contained));
    api_client c(port);
    const auto all = c.get("/v1/incidents/" + id + "/events", viewer_token).json();
    ASSERT_GE(all["events"].size(), 3u);
    EXPECT_EQ(all["events"][0].value("kind", ""), "accepted");
    const auto second_id = all["events"][1].value("id", std::int64_t{0});
    const auto rest = c.get("/v1/incidents/" + id + "/events?after=" + std::to_string(second_id), viewer_token).json();
    EXPECT_EQ(rest["events"].size(), all["events"].size() - 2);
    EXPECT_EQ(c.get("/v1/incidents/" + id + "/events?after=-1", viewer_token).status, 400);
}

TEST_F(ApiTest, report_in_three_formats) {
    const auto id = submit();
    ASSERT_TRUE(drive_to(id, store::incident_status::contained));
    api_client c(port);
    const auto j = c.get("/v1/incidents/" + id + "/report", viewer_token);
    ASSERT_EQ(j.status, 200);
    EXPECT_EQ(j.header("content-type"), "application/json");
    EXPECT_TRUE(j.json().is_object());
    const auto md = c.get("/v1/incidents/" + id + "/report?format=md", viewer_token);
    ASSERT_EQ(md.status, 200);
    EXPECT_EQ(md.header("content-type"), "text/markdown; charset=utf-8");
    EXPECT_FALSE(md.body.empty());
    const auto html = c.get("/v1/incidents/" + id + "/report?format=html", viewer_token);
    ASSERT_EQ(html.status, 200);
    EXPECT_EQ(html.header("content-type"), "text/html; charset=utf-8");
    EXPECT_NE(html.body.find("<"), std::string::npos);
    const auto bad = c.get("/v1/incidents/" + id + "/report?format=pdf", viewer_token);
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(fields_of(bad.json()), std::set<std::string>{"format"});
}

// --------------------------------------------------------------- operator actions

TEST_F(ApiTest, approve_a_waiting_step_then_conflict_and_not_found) {
    auto body = walkthrough_submission();
    body["malicious_apps"][0]["delete_application"] = true;
    const auto id = submit(body);
    const int seq = step_of_kind(id, "delete_application");
    ASSERT_GT(seq, 0);
    ASSERT_TRUE(drive_until(id, [](store::incident_status s) {
        return s == store::incident_status::waiting_approval || store::is_final(s);
    }));
    api_client c(port);
    const std::string base = "/v1/incidents/" + id;
    EXPECT_EQ(c.post(base + "/approve", operator_token, json::object()).status, 400);  // step missing
    EXPECT_EQ(c.post(base + "/approve", operator_token, {{"step", "one"}}).status, 400);
    EXPECT_EQ(c.post(base + "/approve", operator_token, {{"step", seq}, {"extra", 1}}).status, 400);
    const auto ok = c.post(base + "/approve", operator_token, {{"step", seq}});
    EXPECT_EQ(ok.status, 200) << ok.body;
    EXPECT_EQ(c.post(base + "/approve", operator_token, {{"step", seq}}).status, 409);
    EXPECT_EQ(
        c.post("/v1/incidents/0b7c6d5e-4f3a-4b2c-9d1e-0f9e8d7c6b5a/approve", operator_token, {{"step", 1}}).status,
        404);
    EXPECT_TRUE(drive_to(id, store::incident_status::contained));
    // The approval is audited with the operator's token name.
    const auto events = c.get(base + "/events", viewer_token).json()["events"];
    bool by_alice = false;
    for (const auto& e : events) by_alice = by_alice || e.dump().find("alice") != std::string::npos;
    EXPECT_TRUE(by_alice);
}

TEST_F(ApiTest, cancel_then_conflict) {
    auto body = walkthrough_submission();
    body["malicious_apps"][0]["delete_application"] = true;
    const auto id = submit(body);
    api_client c(port);
    const auto r = c.post("/v1/incidents/" + id + "/cancel", operator_token);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json().value("status", ""), "cancelled");
    EXPECT_EQ(c.post("/v1/incidents/" + id + "/cancel", operator_token).status, 409);
    EXPECT_EQ(c.post("/v1/incidents/0b7c6d5e-4f3a-4b2c-9d1e-0f9e8d7c6b5a/cancel", operator_token).status, 404);
}

TEST_F(ApiTest, retry_a_failed_step) {
    // remove_inbox_rules fails for good: the incident needs attention.
    on_io([&] {
        *h.runners.behaviour = [healthy = healthy_tenant()](const engine::step_context& ctx) {
            if (ctx.step.kind == incident::step_kind::remove_inbox_rules)
                return script_result{engine::step_outcome::give_up("rules API said no"), {}};
            return healthy(ctx);
        };
    });
    const auto id = submit();
    ASSERT_TRUE(drive_to(id, store::incident_status::needs_attention));
    for (int i = 0; i < 1000 && !on_io([&] { return h.eng->idle(); }); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    api_client c(port);
    std::vector<int> failed;
    const auto before = c.get("/v1/incidents/" + id, viewer_token);
    ASSERT_EQ(before.status, 200) << before.error << before.body;
    const auto before_doc = before.json();
    for (const auto& s : before_doc["steps"])
        if (s.value("status", "") == "failed") failed.push_back(s.value("seq", 0));
    ASSERT_FALSE(failed.empty()) << before.body;
    on_io([&] { *h.runners.behaviour = healthy_tenant(); });
    EXPECT_EQ(c.post("/v1/incidents/" + id + "/retry", operator_token, {{"step", 1}}).status, 409);  // not failed
    EXPECT_EQ(c.post("/v1/incidents/" + id + "/retry", operator_token).status, 400);                 // no step
    for (int seq : failed) {
        const auto r = c.post("/v1/incidents/" + id + "/retry", operator_token, {{"step", seq}});
        EXPECT_EQ(r.status, 200) << r.body;
    }
    EXPECT_EQ(c.post("/v1/incidents/0b7c6d5e-4f3a-4b2c-9d1e-0f9e8d7c6b5a/retry", operator_token, {{"step", 1}}).status,
              404);
    EXPECT_TRUE(drive_to(id, store::incident_status::contained)) << c.get("/v1/incidents/" + id, viewer_token).body;
}

TEST_F(ApiTest, release_needs_a_reason_and_the_block_then_202_from_any_state_and_audited) {
    // The block fails for good: nothing to release yet.
    on_io([&] {
        *h.runners.behaviour = [healthy = healthy_tenant()](const engine::step_context& ctx) {
            if (ctx.step.kind == incident::step_kind::enable_emergency_policy)
                return script_result{engine::step_outcome::give_up("the policy is gone"), {}};
            if (ctx.step.kind == incident::step_kind::remove_inbox_rules)  // the clerk's cleanup fails alone
                if (ctx.step.target == "ap.clerk@contoso.com")
                    return script_result{engine::step_outcome::give_up("rules API said no"), {}};
            return healthy(ctx);
        };
    });
    const auto id = submit();
    ASSERT_TRUE(drive_to(id, store::incident_status::needs_attention));
    api_client c(port);
    const auto no_reason = c.post("/v1/incidents/" + id + "/release", operator_token);
    EXPECT_EQ(no_reason.status, 400) << no_reason.body;
    EXPECT_TRUE(fields_of(no_reason.json()).count("reason"));
    const auto early = c.post("/v1/incidents/" + id + "/release", operator_token, {{"reason", "too early"}});
    EXPECT_EQ(early.status, 409) << early.body;
    EXPECT_EQ(early.header("content-type"), "application/problem+json");
    EXPECT_NE(early.body.find("not on yet"), std::string::npos) << early.body;

    // The block works after a retry; the clerk's rule cleanup still fails: needs_attention,
    // after the block. Release is allowed from there, with a reason the audit trail keeps.
    on_io([&] {
        *h.runners.behaviour = [healthy = healthy_tenant()](const engine::step_context& ctx) {
            if (ctx.step.kind == incident::step_kind::remove_inbox_rules && ctx.step.target == "ap.clerk@contoso.com")
                return script_result{engine::step_outcome::give_up("rules API said no"), {}};
            return healthy(ctx);
        };
    });
    const int block = step_of_kind(id, "enable_emergency_policy");
    ASSERT_EQ(c.post("/v1/incidents/" + id + "/retry", operator_token, {{"step", block}}).status, 200);
    ASSERT_TRUE(drive_until(id, [&](store::incident_status st) {
        // (drive_until calls this on the io thread already)
        if (st != store::incident_status::needs_attention) return false;
        for (const auto& s : h.db->steps(id))
            if (s.kind == incident::step_kind::verify_signins && s.status != store::step_status::succeeded)
                return false;
        return true;
    }));
    const auto r = c.post("/v1/incidents/" + id + "/release", operator_token, {{"reason", "users need mail back"}});
    EXPECT_EQ(r.status, 202) << r.body;
    EXPECT_EQ(r.json().value("status", ""), "release_requested");
    const auto event_id = r.json().value("event_id", std::int64_t{0});
    const auto events = c.get("/v1/incidents/" + id + "/events?after=" + std::to_string(event_id - 1), viewer_token);
    const auto page = events.json();
    ASSERT_FALSE(page["events"].empty()) << events.body;
    const auto& requested = page["events"][0];
    EXPECT_EQ(requested.value("kind", ""), "release_requested");
    EXPECT_EQ(requested["data"].value("by", ""), "alice");
    EXPECT_EQ(requested["data"].value("reason", ""), "users need mail back");
    EXPECT_EQ(requested["data"].value("from_status", ""), "needs_attention");
    // The release runs; the failure still stands, so the incident still needs attention.
    ASSERT_TRUE(drive_until(id, [&](store::incident_status) {
        for (const auto& s : h.db->steps(id))
            if (s.kind == incident::step_kind::release_block) return s.status == store::step_status::succeeded;
        return false;
    }));
    EXPECT_EQ(status_of(id), store::incident_status::needs_attention);
    const auto again = c.post("/v1/incidents/" + id + "/release", operator_token, {{"reason", "twice"}});
    EXPECT_EQ(again.status, 409);
    EXPECT_NE(again.body.find("already"), std::string::npos) << again.body;
    EXPECT_EQ(
        c.post("/v1/incidents/0b7c6d5e-4f3a-4b2c-9d1e-0f9e8d7c6b5a/release", operator_token, {{"reason", "x"}}).status,
        404);
}

TEST_F(ApiTest, cancel_says_the_block_stays_or_releases_it) {
    auto body = walkthrough_submission("CANCEL-1");
    body["malicious_apps"][0]["delete_application"] = true;  // waits for approval: not final
    const auto kept = submit(body);
    ASSERT_TRUE(drive_to(kept, store::incident_status::verifying));
    api_client c(port);
    const auto stays = c.post("/v1/incidents/" + kept + "/cancel", operator_token, {{"reason", "false positive"}});
    ASSERT_EQ(stays.status, 200) << stays.body;
    EXPECT_EQ(stays.json().value("status", ""), "cancelled");
    EXPECT_EQ(stays.json().value("block", "").rfind("stays on", 0), 0u) << stays.body;
    bool release_steps = on_io([&] {
        for (const auto& s : h.db->steps(kept))
            if (s.kind == incident::step_kind::release_block) return true;
        return false;
    });
    EXPECT_FALSE(release_steps);
    // The cancelled incident can still be released, and stays cancelled.
    const auto later = c.post("/v1/incidents/" + kept + "/release", operator_token, {{"reason", "cleanup"}});
    EXPECT_EQ(later.status, 202) << later.body;

    body["external_ref"] = "CANCEL-2";
    const auto released = submit(body);
    ASSERT_TRUE(drive_to(released, store::incident_status::verifying));
    const auto r = c.post("/v1/incidents/" + released + "/cancel?release=true", operator_token, {{"reason", "done"}});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json().value("block", "").rfind("releasing", 0), 0u) << r.body;
    for (const auto& id : {kept, released}) {
        ASSERT_TRUE(drive_until(id, [&](store::incident_status) {
            for (const auto& s : h.db->steps(id))
                if (s.kind == incident::step_kind::release_block) return s.status == store::step_status::succeeded;
            return false;
        })) << id;
        EXPECT_EQ(status_of(id), store::incident_status::cancelled);
    }
    EXPECT_EQ(c.post("/v1/incidents/" + kept + "/cancel?release=maybe", operator_token).status, 400);
}

TEST_F(ApiTest, external_ref_with_another_body_is_409_pointing_at_the_incident) {
    api_client c(port);
    const auto first = c.post("/v1/incidents", submitter_token, walkthrough_submission("SIEM-12"));
    ASSERT_EQ(first.status, 201);
    const std::string id = first.json().value("id", "");
    auto more = walkthrough_submission("SIEM-12");
    more["accounts"].push_back({{"upn", "new.victim@contoso.com"}});
    const auto r = c.post("/v1/incidents", submitter_token, more);
    EXPECT_EQ(r.status, 409) << r.body;
    EXPECT_EQ(r.header("content-type"), "application/problem+json");
    const auto doc = r.json();
    EXPECT_EQ(doc.value("incident_id", ""), id);
    EXPECT_EQ(doc.value("add_accounts", ""), "/v1/incidents/" + id + "/accounts");
    EXPECT_NE(doc.value("detail", "").find(id), std::string::npos);
    EXPECT_EQ(stored(), 1u);
    EXPECT_EQ(c.post("/v1/incidents", submitter_token, walkthrough_submission("SIEM-12")).status, 200);
}

TEST_F(ApiTest, add_accounts_validates_and_plans_only_what_is_new) {
    const auto id = submit();
    ASSERT_TRUE(drive_to(id, store::incident_status::verifying));
    api_client c(port);
    const std::string path = "/v1/incidents/" + id + "/accounts";
    EXPECT_EQ(c.post(path, operator_token, {{"accounts", {{{"upn", "x@contoso.com"}}}}}).status, 400) << "no reason";
    EXPECT_EQ(c.post(path, viewer_token, {{"accounts", {{{"upn", "x@contoso.com"}}}}, {"reason", "r"}}).status, 403);
    const auto bad = c.post(path, operator_token, {{"accounts", {{{"upn", "not a upn"}}}}, {"reason", "found"}});
    EXPECT_EQ(bad.status, 400) << bad.body;
    EXPECT_TRUE(fields_of(bad.json()).count("accounts[0].upn")) << bad.body;
    const auto r = c.post(path, operator_token,
                          {{"accounts", {{{"upn", "Treasury.Analyst@contoso.com"}}, {{"upn", "AP.Clerk@contoso.com"}}}},
                           {"reason", "found in the mail trace"}});
    ASSERT_EQ(r.status, 202) << r.body;
    EXPECT_EQ(r.json()["accounts"], nlohmann::json::array({"treasury.analyst@contoso.com"}));
    EXPECT_EQ(r.json()["already_present"], nlohmann::json::array({"ap.clerk@contoso.com"}));
    EXPECT_EQ(r.json().value("batch", 0), 1);
    ASSERT_TRUE(drive_to(id, store::incident_status::contained));
    const auto doc = c.get("/v1/incidents/" + id, viewer_token).json();
    std::vector<std::string> kinds;
    for (const auto& s : doc["steps"])
        if (s.value("target", "") == "treasury.analyst@contoso.com") kinds.push_back(s.value("kind", ""));
    for (const char* k : {"resolve_account", "revoke_sessions", "reset_password", "revoke_after_reset"})
        EXPECT_NE(std::find(kinds.begin(), kinds.end(), k), kinds.end()) << k;
    const auto again =
        c.post(path, operator_token, {{"accounts", {{{"upn", "treasury.analyst@contoso.com"}}}}, {"reason", "x"}});
    EXPECT_EQ(again.status, 409) << again.body;
}

TEST_F(ApiTest, reverify_runs_a_check_now_and_override_guard_is_audited_once) {
    const auto id = submit();
    api_client c(port);
    ASSERT_TRUE(drive_to(id, store::incident_status::verifying));
    EXPECT_EQ(c.post("/v1/incidents/" + id + "/verify", operator_token).status, 400) << "a reason is required";
    const auto r = c.post("/v1/incidents/" + id + "/verify", operator_token, {{"reason", "the user called"}});
    ASSERT_EQ(r.status, 202) << r.body;
    const int seq = r.json().value("step", 0);
    ASSERT_GT(seq, 0);
    const auto now = on_io([&] { return h.clock.now(); });
    ASSERT_TRUE(drive_until(
        id, [&](store::incident_status) { return h.db->step(id, seq)->status == store::step_status::succeeded; }));
    const auto ran = calls_at(seq);
    EXPECT_EQ(ran, now) << "ran at once, not at the next scheduled check";

    const auto o = c.post("/v1/incidents/" + id + "/override-guard", operator_token, {{"reason", "no spare account"}});
    EXPECT_EQ(o.status, 200) << o.body;
    EXPECT_EQ(c.post("/v1/incidents/" + id + "/override-guard", operator_token, {{"reason", "again"}}).status, 409);
    const auto events = c.get("/v1/incidents/" + id + "/events", viewer_token).json()["events"];
    int overridden = 0;
    for (const auto& e : events)
        if (e.value("kind", "") == "guard_overridden") {
            ++overridden;
            EXPECT_EQ(e["data"].value("by", ""), "alice");
            EXPECT_EQ(e["data"].value("reason", ""), "no spare account");
        }
    EXPECT_EQ(overridden, 1);
}

// DOMAIN.md's TAP workflow: no TAP at containment; the first reveal issues it (202, then the
// TAP), so one revealed at +70 is fresh; passwords of TAP mode are never revealed; a re-issued
// TAP left to expire is refused with the way to a fresh one.
TEST_F(ApiTest, in_tap_mode_the_tap_is_issued_at_reveal_and_passwords_never) {
    on_io([&] {
        *h.runners.behaviour = [healthy = healthy_tenant()](const engine::step_context& ctx) {
            if (ctx.step.kind == incident::step_kind::reset_password)
                ctx.db.put_secret_once(ctx.incident.id, "password:" + ctx.step.target, "PW-" + ctx.step.target);
            if (ctx.step.kind != incident::step_kind::issue_tap) return healthy(ctx);
            ctx.db.put_secret(ctx.incident.id, "tap:" + ctx.step.target, "TAP-" + std::to_string(ctx.step.seq));
            script_result r;
            r.outcome.result = {{"tap_issued_at", format_rfc3339(ctx.clock.now())},
                                {"lifetime_minutes", ctx.step.params.value("lifetime_minutes", 60)}};
            return r;
        };
    });
    auto body = walkthrough_submission("TAP-1");
    body["options"] = {{"credential_delivery", "tap"}};
    const auto id = submit(body);
    ASSERT_TRUE(drive_to(id, store::incident_status::contained));
    on_io([&] {
        for (const auto& name : h.db->secret_names(id))
            EXPECT_NE(name.rfind("tap:", 0), 0u) << "a TAP was issued at containment: " << name;
    });
    const auto contained_at = on_io([&] { return *h.db->get_incident(id)->contained_at; });
    on_io([&] { h.clock.set(contained_at + minutes(70)); });
    api_client c(port);
    const std::string base = "/v1/incidents/" + id + "/credentials/finance.director%40contoso.com/";

    EXPECT_EQ(c.post(base + "reveal?lifetime_minutes=5", operator_token).status, 400);
    const auto issuing = c.post(base + "reveal", operator_token);
    ASSERT_EQ(issuing.status, 202) << issuing.body;
    EXPECT_EQ(issuing.header("retry-after"), "1");
    EXPECT_EQ(issuing.json().value("status", ""), "tap_issuing");
    const int seq = issuing.json().value("step", 0);
    ASSERT_TRUE(drive_until(
        id, [&](store::incident_status) { return h.db->step(id, seq)->status == store::step_status::succeeded; }));
    EXPECT_EQ(calls_at(seq), contained_at + minutes(70)) << "issued when revealed";
    const auto tap = c.post(base + "reveal", operator_token);
    ASSERT_EQ(tap.status, 200) << tap.body;
    EXPECT_EQ(tap.json().value("value", ""), "TAP-" + std::to_string(seq)) << "valid at +70: issued at +70";
    EXPECT_EQ(c.post(base + "reveal", operator_token).status, 410) << "once";

    const auto password = c.post(base + "reveal?kind=password", operator_token);
    EXPECT_EQ(password.status, 409) << password.body;
    EXPECT_EQ(password.body.find("PW-"), std::string::npos);

    // A re-issue nobody reveals in time expires: refused, with the way to a fresh one.
    EXPECT_EQ(c.post(base + "tap", operator_token, {{"lifetime_minutes", 120}}).status, 400) << "a reason is required";
    EXPECT_EQ(c.post(base + "tap", operator_token, {{"lifetime_minutes", 5}, {"reason", "r"}}).status, 400);
    const auto issued =
        c.post(base + "tap", operator_token, {{"lifetime_minutes", 120}, {"reason", "user lost the first one"}});
    ASSERT_EQ(issued.status, 202) << issued.body;
    const int again = issued.json().value("step", 0);
    ASSERT_TRUE(drive_until(
        id, [&](store::incident_status) { return h.db->step(id, again)->status == store::step_status::succeeded; }));
    on_io([&] { h.clock.set(contained_at + minutes(70 + 121)); });
    const auto expired = c.post(base + "reveal", operator_token);
    EXPECT_EQ(expired.status, 410) << expired.body;
    EXPECT_NE(expired.body.find("expired"), std::string::npos) << expired.body;
    EXPECT_NE(expired.body.find("/tap"), std::string::npos) << "offers a re-issue: " << expired.body;
    EXPECT_EQ(expired.body.find("TAP-"), std::string::npos);
    EXPECT_TRUE(drive_to(id, store::incident_status::contained));
}

TEST_F(ApiTest, reveal_once_then_410_and_never_logged) {
    const std::string marker = "Marker-Secret-7f3a9!";
    const auto id = submit();
    on_io([&] { h.db->put_secret_once(id, "password:ap.clerk@contoso.com", marker); });
    api_client c(port);
    const std::string base = "/v1/incidents/" + id + "/credentials/";
    EXPECT_EQ(c.post(base + "nobody%40contoso.com/reveal", operator_token).status, 404);
    EXPECT_EQ(c.post(base + "not%20a%20upn/reveal", operator_token).status, 400);
    const auto r = c.post(base + "AP.Clerk%40contoso.com/reveal", operator_token);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("cache-control"), "no-store");
    const auto doc = r.json();
    EXPECT_EQ(doc.value("upn", ""), "ap.clerk@contoso.com");
    EXPECT_EQ(doc.value("kind", ""), "password");
    EXPECT_EQ(doc.value("value", ""), marker);
    const auto again = c.post(base + "ap.clerk@contoso.com/reveal", operator_token);
    EXPECT_EQ(again.status, 410);
    EXPECT_EQ(again.body.find(marker), std::string::npos);
    // A TAP wins over a password.
    on_io([&] {
        h.db->put_secret(id, "tap:cfo.assistant@contoso.com", "TAP-MARKER-1");
        h.db->put_secret_once(id, "password:cfo.assistant@contoso.com", "pw");
    });
    const auto tap = c.post(base + "cfo.assistant@contoso.com/reveal", operator_token);
    EXPECT_EQ(tap.json().value("kind", ""), "tap");
    // ... and ?kind= picks the other one, once too.
    EXPECT_EQ(c.post(base + "cfo.assistant@contoso.com/reveal?kind=sms", operator_token).status, 400);
    const auto password = c.post(base + "cfo.assistant@contoso.com/reveal?kind=password", operator_token);
    EXPECT_EQ(password.json().value("kind", ""), "password");
    EXPECT_EQ(password.json().value("value", ""), "pw");
    EXPECT_EQ(c.post(base + "cfo.assistant@contoso.com/reveal?kind=password", operator_token).status, 410);
    EXPECT_EQ(c.post(base + "cfo.assistant@contoso.com/reveal?kind=tap", operator_token).status, 410);
    EXPECT_EQ(c.post("/v1/incidents/0b7c6d5e-4f3a-4b2c-9d1e-0f9e8d7c6b5a/credentials/ap.clerk@contoso.com/reveal",
                     operator_token)
                  .status,
              404);
    // Audited; and neither the secret, the tokens nor a UPN appear in the request log.
    const auto events = c.get("/v1/incidents/" + id + "/events", viewer_token).json()["events"];
    bool audited = false;
    for (const auto& e : events) audited = audited || e.value("kind", "") == "secret_revealed";
    EXPECT_TRUE(audited);
    const auto log = log_text();
    EXPECT_NE(log.find("\"api_request\""), std::string::npos);
    EXPECT_NE(log.find("/v1/incidents/{id}/credentials/{upn}/reveal"), std::string::npos);
    EXPECT_EQ(log.find(marker), std::string::npos);
    EXPECT_EQ(log.find("TAP-MARKER-1"), std::string::npos);
    EXPECT_EQ(log.find(operator_token), std::string::npos);
    EXPECT_EQ(log.find(submitter_token), std::string::npos);
    EXPECT_EQ(log.find("ap.clerk"), std::string::npos);
}

// --------------------------------------------------------------- event stream

std::string stream_body(const std::string& raw) {
    const auto end = raw.find("\r\n\r\n");
    return end == std::string::npos ? std::string() : raw.substr(end + 4);
}

TEST_F(ApiTest, event_stream_delivers_every_event_in_order_and_ends_when_contained) {
    const auto id = submit();
    test::raw_connection stream(port);
    ASSERT_TRUE(stream.send("GET /v1/incidents/" + id +
                            "/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n"
                            "Authorization: Bearer " +
                            viewer_token + "\r\n\r\n"));
    std::thread driver([&] { drive_to(id, store::incident_status::contained); });
    const auto got = stream.read_all(std::chrono::milliseconds(30000));
    driver.join();
    EXPECT_TRUE(got.closed) << "the stream should end once the incident is contained";
    EXPECT_NE(got.received.find("Content-Type: text/event-stream"), std::string::npos);
    const auto events = test::parse_sse(stream_body(got.received));

    api_client c(port);
    const auto listed = c.get("/v1/incidents/" + id + "/events", viewer_token).json()["events"];
    ASSERT_EQ(events.size(), listed.size());
    for (std::size_t i = 0; i < events.size(); ++i) {
        EXPECT_EQ(events[i].id, std::to_string(listed[i].value("id", std::int64_t{0})));
        EXPECT_EQ(events[i].event, listed[i].value("kind", ""));
        EXPECT_EQ(json::parse(events[i].data), listed[i]);
    }
    EXPECT_EQ(events.front().event, "accepted");

    // Resuming with Last-Event-ID: only what came after, and the (final) stream ends at once.
    const std::string last = events[events.size() / 2].id;
    const auto resumed = test::raw_exchange(
        port, "GET /v1/incidents/" + id +
                  "/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nLast-Event-ID: " + last +
                  "\r\nAuthorization: Bearer " + viewer_token + "\r\n\r\n");
    EXPECT_TRUE(resumed.closed);
    const auto tail = test::parse_sse(stream_body(resumed.received));
    ASSERT_EQ(tail.size(), events.size() - events.size() / 2 - 1);
    EXPECT_EQ(tail.front().id, events[events.size() / 2 + 1].id);
}

TEST_F(ApiTest, event_stream_needs_a_token_and_a_known_incident) {
    const auto unauth = test::raw_exchange(port,
                                           "GET /v1/incidents/x/events HTTP/1.1\r\nHost: x\r\n"
                                           "Accept: text/event-stream\r\nConnection: close\r\n\r\n");
    EXPECT_NE(unauth.received.find("401"), std::string::npos);
    api_client c(port);
    EXPECT_EQ(c.request("GET", "/v1/incidents/0b7c6d5e-4f3a-4b2c-9d1e-0f9e8d7c6b5a/events", {},
                        {{"Accept", "text/event-stream"}, {"Authorization", std::string("Bearer ") + viewer_token}})
                  .status,
              404);
}

// --------------------------------------------------------------- limits and lifecycle

TEST_F(ApiTest, slow_sender_is_dropped_after_read_timeout) {
    const auto r = test::slow_sender(port, "POST /v1/incidents HTTP/1.1\r\nHost: x\r\n", std::chrono::milliseconds(100),
                                     std::chrono::milliseconds(6000));
    EXPECT_TRUE(r.closed);
    EXPECT_GE(r.elapsed.count(), 700);
    EXPECT_LT(r.elapsed.count(), 3000);
    api_client c(port);
    EXPECT_EQ(c.get("/healthz", "").status, 200);
}

TEST_F(ApiTest, malformed_http_is_400_and_closed) {
    const auto r = test::raw_exchange(port, "GARBAGE\r\n\r\n");
    EXPECT_TRUE(r.closed);
    EXPECT_NE(r.received.find("400"), std::string::npos);
}

TEST_F(ApiTest, a_request_without_exactly_one_host_is_400) {
    auto status_line = [](const std::string& received) { return received.substr(0, received.find("\r\n")); };
    for (const std::string request : {"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n",
                                      "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n",
                                      "GET /healthz HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"}) {
        const auto r = test::raw_exchange(port, request);
        EXPECT_NE(status_line(r.received).find(" 400 "), std::string::npos) << request << "\n" << r.received;
        EXPECT_NE(r.received.find("exactly one Host"), std::string::npos) << r.received;
    }
    const auto old_style = test::raw_exchange(port, "GET /healthz HTTP/1.0\r\n\r\n");
    EXPECT_NE(status_line(old_style.received).find(" 200 "), std::string::npos) << "HTTP/1.0 may omit Host";
}

TEST_F(ApiTest, keep_alive_and_pipelined_requests_are_answered_in_order) {
    api_client c(port);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(c.get("/healthz", "").status, 200);
    EXPECT_EQ(c.connections_opened(), 1);
    std::string pipelined;
    for (int i = 0; i < 3; ++i) pipelined += "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    pipelined += "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    const auto r = test::raw_exchange(port, pipelined);
    EXPECT_TRUE(r.closed);
    std::size_t count = 0;
    for (auto p = r.received.find("HTTP/1.1 200"); p != std::string::npos; p = r.received.find("HTTP/1.1 200", p + 1))
        ++count;
    EXPECT_EQ(count, 4u);
    EXPECT_NE(r.received.find("\"ready\""), std::string::npos);
}

TEST_F(ApiTest, stop_closes_idle_keep_alives_and_ends_streams) {
    auto body = walkthrough_submission();
    body["malicious_apps"][0]["delete_application"] = true;  // stays unfinished
    const auto id = submit(body);
    api_client idle(port);
    ASSERT_EQ(idle.get("/healthz", "").status, 200);
    ASSERT_TRUE(idle.connected());
    test::raw_connection keep(port);
    keep.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    test::raw_connection stream(port);
    stream.send("GET /v1/incidents/" + id +
                "/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n"
                "Authorization: Bearer " +
                viewer_token + "\r\n\r\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const auto started = std::chrono::steady_clock::now();
    on_network([&] { srv->stop(); });
    const auto kept = keep.read_all(std::chrono::milliseconds(3000));
    EXPECT_TRUE(kept.closed);
    EXPECT_NE(kept.received.find("200 OK"), std::string::npos);
    const auto streamed = stream.read_all(std::chrono::milliseconds(3000));
    EXPECT_TRUE(streamed.closed);
    EXPECT_NE(streamed.received.find("event: accepted"), std::string::npos);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(4));
    // No more connections accepted.
    api_client after(port);
    EXPECT_EQ(after.get("/healthz", "").status, 0);
}

class ApiLimitsTest : public api_fixture {
protected:
    void SetUp() override {}
};

TEST_F(ApiLimitsTest, connections_beyond_the_limit_get_503) {
    auto s = test_settings();
    s.max_connections = 2;
    s.read_timeout = seconds(3);
    start_server(s);
    test::raw_connection a(port), b(port);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const auto third = test::raw_exchange(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_TRUE(third.closed);
    EXPECT_NE(third.received.find("503"), std::string::npos) << third.received;
    a.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_NE(a.read_all(std::chrono::milliseconds(2000)).received.find("200 OK"), std::string::npos);
}

TEST_F(ApiLimitsTest, several_tenants_need_a_tenant_name) {
    auto other = contoso_settings();
    other.name = "fabrikam";
    start_server(test_settings(), {{"contoso", contoso_settings()}, {"fabrikam", other}});
    auto body = walkthrough_submission();
    body.erase("tenant");
    api_client c(port);
    const auto r = c.post("/v1/incidents", submitter_token, body);
    ASSERT_EQ(r.status, 400);
    EXPECT_EQ(fields_of(r.json()), std::set<std::string>{"tenant"});
}

TEST_F(ApiLimitsTest, bind_failure_is_a_clear_error) {
    start_server();
    auto s = test_settings();
    s.port = port;  // taken
    s.bind_address = "127.0.0.1";
    api::context ctx{*h.db, *h.eng, h.clock, {{"contoso", h.tenant}}, {}};
    std::string message;
    on_io([&] {
        api::server second(h.ioc->get_executor(), s, ctx);
        try {
            second.start();
        } catch (const std::runtime_error& e) {
            message = e.what();
        }
    });
    EXPECT_NE(message.find("cannot listen on 127.0.0.1:" + std::to_string(port)), std::string::npos) << message;
    // The second server took over the engine's observer; the first server keeps serving.
    api_client c(port);
    EXPECT_EQ(c.get("/healthz", "").status, 200);
}

TEST_F(ApiLimitsTest, serves_https_when_configured) {
    const auto tls = test::make_loopback_tls();
    const auto dir = std::filesystem::path(h.dir_);
    std::ofstream(dir / "cert.pem") << tls.server.cert_pem;
    std::ofstream(dir / "key.pem") << tls.server.key_pem;
    auto s = test_settings();
    s.tls_cert_file = (dir / "cert.pem").string();
    s.tls_key_file = (dir / "key.pem").string();
    start_server(s);
    api_client c(port, tls.authority.ca().cert_pem);
    const auto r = c.post("/v1/incidents", submitter_token, walkthrough_submission());
    ASSERT_EQ(r.status, 201) << r.error << r.body;
    for (int i = 0; i < 3; ++i) EXPECT_EQ(c.get("/healthz", "").status, 200);
    EXPECT_EQ(c.connections_opened(), 1);
    // Plain HTTP to the TLS port gets nowhere.
    const auto plain =
        test::raw_exchange(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", std::chrono::milliseconds(3000));
    EXPECT_EQ(plain.received.find("200 OK"), std::string::npos);
}

}  // namespace
}  // namespace containd::testing

namespace containd::testing {
namespace {

TEST_F(ApiLimitsTest, idle_keep_alive_and_silent_connections_are_closed) {
    auto s = test_settings();
    s.idle_timeout = milliseconds(500);
    s.read_timeout = milliseconds(700);
    start_server(s);
    test::raw_connection silent(port);
    const auto nothing = silent.read_all(std::chrono::milliseconds(4000));
    EXPECT_TRUE(nothing.closed);
    EXPECT_GE(nothing.elapsed.count(), 600);
    EXPECT_LT(nothing.elapsed.count(), 3000);

    test::raw_connection keep(port);
    keep.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    const auto idle = keep.read_all(std::chrono::milliseconds(4000));
    EXPECT_TRUE(idle.closed);
    EXPECT_NE(idle.received.find("200 OK"), std::string::npos);
    EXPECT_GE(idle.elapsed.count(), 400);
    EXPECT_LT(idle.elapsed.count(), 3000);
}

}  // namespace
}  // namespace containd::testing
