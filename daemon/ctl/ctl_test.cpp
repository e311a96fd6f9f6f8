// containctl's pure parts: SSE frames, exit codes, URLs and percent-encoding, progress, tables,
// problem rendering, submission flags.
#include <gtest/gtest.h>

#include "ctl/ctl.hpp"

namespace containd::ctl {
namespace {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// SSE

TEST(Sse, parses_a_frame_with_id_event_and_data) {
    sse_parser p;
    auto evs = p.feed("id: 7\nevent: step_succeeded\ndata: {\"id\":7}\n\n");
    ASSERT_EQ(evs.size(), 1u);
    EXPECT_EQ(evs[0].id, "7");
    EXPECT_EQ(evs[0].event, "step_succeeded");
    EXPECT_EQ(evs[0].data, "{\"id\":7}");
    EXPECT_EQ(p.last_event_id(), "7");
}

TEST(Sse, frames_split_at_every_byte_give_the_same_events) {
    const std::string wire =
        "id: 1\nevent: a\ndata: one\n\n: heartbeat\n\nid: 2\r\nevent: b\r\ndata: two\r\n\r\n"
        "id: 3\revent: c\rdata: three\r\r";
    sse_parser p;
    std::vector<sse_event> all;
    for (char c : wire) {
        auto evs = p.feed(std::string_view(&c, 1));
        all.insert(all.end(), evs.begin(), evs.end());
    }
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[0].event, "a");
    EXPECT_EQ(all[0].data, "one");
    EXPECT_EQ(all[1].id, "2");
    EXPECT_EQ(all[1].data, "two");
    EXPECT_EQ(all[2].id, "3");
    EXPECT_EQ(all[2].event, "c");
    EXPECT_EQ(all[2].data, "three");
    EXPECT_EQ(p.comments(), 1u);
    EXPECT_EQ(p.last_event_id(), "3");
}

TEST(Sse, crlf_split_between_reads_is_one_line_end) {
    sse_parser p;
    EXPECT_TRUE(p.feed("data: x\r").empty());
    EXPECT_TRUE(p.feed("\n").empty());  // the LF completing the CRLF, not an empty line
    auto evs = p.feed("\r\n");
    ASSERT_EQ(evs.size(), 1u);
    EXPECT_EQ(evs[0].data, "x");
}

TEST(Sse, multi_line_data_is_joined_with_newlines) {
    sse_parser p;
    auto evs = p.feed("data: first\ndata:second\ndata\ndata:  indented\n\n");
    ASSERT_EQ(evs.size(), 1u);
    EXPECT_EQ(evs[0].data, "first\nsecond\n\n indented");  // one leading space is stripped, not two
    EXPECT_EQ(evs[0].event, "message");
}

TEST(Sse, comments_are_heartbeats_and_not_events) {
    sse_parser p;
    EXPECT_TRUE(p.feed(":\n: keep-alive\n\n:ping\n\n").empty());
    EXPECT_EQ(p.comments(), 3u);
}

TEST(Sse, a_frame_without_data_dispatches_nothing_but_sets_the_id) {
    sse_parser p;
    EXPECT_TRUE(p.feed("id: 41\nevent: x\n\n").empty());
    EXPECT_EQ(p.last_event_id(), "41");
    auto evs = p.feed("data: y\n\n");
    ASSERT_EQ(evs.size(), 1u);
    EXPECT_EQ(evs[0].event, "message");  // the event name does not leak into the next frame
    EXPECT_EQ(evs[0].id, "41");          // the id persists until a new one
}

TEST(Sse, id_is_committed_only_when_the_frame_completes) {
    sse_parser p;
    p.feed("id: 5\ndata: a\n\n");
    p.feed("id: 6\ndata: b\n");  // the connection drops here
    EXPECT_EQ(p.last_event_id(), "5");
    p.reset_partial();
    auto evs = p.feed("id: 6\ndata: b\n\n");  // replayed after Last-Event-ID: 5
    ASSERT_EQ(evs.size(), 1u);
    EXPECT_EQ(evs[0].data, "b");
    EXPECT_EQ(p.last_event_id(), "6");
}

TEST(Sse, reset_partial_drops_half_a_frame) {
    sse_parser p;
    p.feed("event: half\ndata: par");
    p.reset_partial();
    auto evs = p.feed("data: whole\n\n");
    ASSERT_EQ(evs.size(), 1u);
    EXPECT_EQ(evs[0].data, "whole");
    EXPECT_EQ(evs[0].event, "message");
}

TEST(Sse, retry_field_and_unknown_fields) {
    sse_parser p;
    p.feed("retry: 2500\nfoo: bar\nretry: soon\ndata: z\n\n");
    ASSERT_TRUE(p.retry_ms().has_value());
    EXPECT_EQ(*p.retry_ms(), 2500);
}

TEST(Sse, several_frames_in_one_read_and_a_bom) {
    sse_parser p;
    auto evs = p.feed("\xEF\xBB\xBFid: 1\ndata: a\n\nid: 2\ndata: b\n\nid: 3\ndata: c");
    ASSERT_EQ(evs.size(), 2u);
    EXPECT_EQ(evs[0].id, "1");
    EXPECT_EQ(evs[1].id, "2");
    evs = p.feed("\n\n");
    ASSERT_EQ(evs.size(), 1u);
    EXPECT_EQ(evs[0].data, "c");
}

TEST(Sse, json_data_of_the_daemon_parses) {
    sse_parser p;
    auto evs = p.feed(
        "id: 12\nevent: step_failed\ndata: {\"id\":12,\"at\":\"2026-03-18T10:15:02.000Z\",\"kind\":\"step_failed\","
        "\"step\":5,\"data\":{\"error\":\"503 from Graph\"}}\n\n");
    ASSERT_EQ(evs.size(), 1u);
    const auto j = json::parse(evs[0].data);
    EXPECT_EQ(j["step"], 5);
}

// ---------------------------------------------------------------------------------------------
// exit codes

TEST(ExitCodes, http_statuses_map_to_the_documented_codes) {
    EXPECT_EQ(exit_code_for_status(200), 0);
    EXPECT_EQ(exit_code_for_status(201), 0);
    EXPECT_EQ(exit_code_for_status(202), 0);
    EXPECT_EQ(exit_code_for_status(400), 2);
    EXPECT_EQ(exit_code_for_status(413), 2);
    EXPECT_EQ(exit_code_for_status(401), 3);
    EXPECT_EQ(exit_code_for_status(403), 3);
    EXPECT_EQ(exit_code_for_status(404), 4);
    EXPECT_EQ(exit_code_for_status(409), 5);
    EXPECT_EQ(exit_code_for_status(410), 5);
    EXPECT_EQ(exit_code_for_status(422), 5);
    EXPECT_EQ(exit_code_for_status(429), 6);
    EXPECT_EQ(exit_code_for_status(500), 6);
    EXPECT_EQ(exit_code_for_status(503), 6);
    EXPECT_EQ(exit_code_for_status(405), 1);
    EXPECT_EQ(exit_code_for_status(302), 1);
}

TEST(ExitCodes, final_incident_statuses) {
    EXPECT_EQ(exit_code_for_incident_status("contained"), 0);
    EXPECT_EQ(exit_code_for_incident_status("needs_attention"), 10);
    EXPECT_EQ(exit_code_for_incident_status("cancelled"), 11);
    EXPECT_FALSE(exit_code_for_incident_status("running"));
    EXPECT_FALSE(exit_code_for_incident_status("waiting_approval"));
    EXPECT_FALSE(exit_code_for_incident_status("verifying"));
}

// ---------------------------------------------------------------------------------------------
// URLs

TEST(Url, defaults_and_ports) {
    auto u = parse_url("http://127.0.0.1:8080");
    ASSERT_TRUE(u);
    EXPECT_FALSE(u->tls);
    EXPECT_EQ(u->host, "127.0.0.1");
    EXPECT_EQ(u->port, 8080);
    EXPECT_EQ(u->base_path, "");
    EXPECT_EQ(host_header(*u), "127.0.0.1:8080");

    u = parse_url("https://containd.corp.example/");
    ASSERT_TRUE(u);
    EXPECT_TRUE(u->tls);
    EXPECT_EQ(u->port, 443);
    EXPECT_EQ(host_header(*u), "containd.corp.example");

    u = parse_url("https://[::1]:9443/api/");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->host, "::1");
    EXPECT_EQ(u->port, 9443);
    EXPECT_EQ(u->base_path, "/api");
    EXPECT_EQ(host_header(*u), "[::1]:9443");
}

TEST(Url, rejects_what_it_cannot_use) {
    std::string why;
    EXPECT_FALSE(parse_url("ftp://x", &why));
    EXPECT_FALSE(why.empty());
    EXPECT_FALSE(parse_url("127.0.0.1:8080"));
    EXPECT_FALSE(parse_url("http://"));
    EXPECT_FALSE(parse_url("http://host:0"));
    EXPECT_FALSE(parse_url("http://host:65536"));
    EXPECT_FALSE(parse_url("http://host:80x"));
    EXPECT_FALSE(parse_url("http://host:"));
    EXPECT_FALSE(parse_url("http://user:pw@host"));
    EXPECT_FALSE(parse_url("http://host/?q=1"));
    EXPECT_FALSE(parse_url("http://[::1"));
    EXPECT_FALSE(parse_url("http://ho st"));
}

TEST(Url, percent_encoding_keeps_only_unreserved) {
    EXPECT_EQ(percent_encode("finance.director@contoso.com"), "finance.director%40contoso.com");
    EXPECT_EQ(percent_encode("o'brien@contoso.com"), "o%27brien%40contoso.com");
    EXPECT_EQ(percent_encode("a+b c/d?e#f%"), "a%2Bb%20c%2Fd%3Fe%23f%25");
    EXPECT_EQ(percent_encode("A-Z_a.z~09"), "A-Z_a.z~09");
    EXPECT_EQ(percent_encode("\xC3\xA9"), "%C3%A9");  // é, byte by byte
}

TEST(Url, paths_and_queries) {
    EXPECT_EQ(path_of({"v1", "incidents", "abc", "credentials", "o'neil@contoso.com", "reveal"}),
              "/v1/incidents/abc/credentials/o%27neil%40contoso.com/reveal");
    EXPECT_EQ(path_of({"v1", "incidents", "../admin"}), "/v1/incidents/..%2Fadmin");
    EXPECT_EQ(query_of({{"status", "running"}, {"tenant", ""}, {"limit", "5"}}), "?status=running&limit=5");
    EXPECT_EQ(query_of({{"tenant", "a&b=c"}}), "?tenant=a%26b%3Dc");
    EXPECT_EQ(query_of({}), "");
}

// ---------------------------------------------------------------------------------------------
// Progress, from an incident shaped as in API.md

json sample_incident() {
    return json::parse(R"({
      "id": "3f0c9a52-8d0e-4c3b-9a71-2b5d6e7f8a90", "tenant": "contoso", "external_ref": "SENTINEL-4711",
      "title": "BEC in finance", "status": "running", "phase": "revoke",
      "created_at": "2026-03-18T10:00:00.000Z", "updated_at": "2026-03-18T10:01:00.000Z", "contained_at": null,
      "accounts": [
        { "upn": "finance.director@contoso.com", "object_id": "0b1e7c6a-3f2d-4e51-9a8b-1c2d3e4f5a04",
          "tier": "privileged", "tier_reason": "holds Exchange Administrator", "revoked_at": "2026-03-18T10:00:30.000Z",
          "password_reset_at": null, "methods_removed": [], "tap_issued_at": null },
        { "upn": "ap.clerk@contoso.com", "object_id": null, "tier": "standard", "tier_reason": "declared by the SOC",
          "revoked_at": null, "password_reset_at": null, "methods_removed": ["m1", "m2"], "tap_issued_at": null }
      ],
      "steps": [
        { "seq": 1, "phase": "resolve", "kind": "resolve_account", "target": "finance.director@contoso.com",
          "status": "succeeded", "attempts": 1, "error": null },
        { "seq": 2, "phase": "resolve", "kind": "resolve_account", "target": "ap.clerk@contoso.com",
          "status": "succeeded", "attempts": 1, "error": null },
        { "seq": 3, "phase": "block", "kind": "enable_emergency_policy", "target": "5e8a3c1f",
          "status": "succeeded", "attempts": 1, "error": null },
        { "seq": 4, "phase": "revoke", "kind": "revoke_sessions", "target": "finance.director@contoso.com",
          "status": "succeeded", "attempts": 2, "error": null },
        { "seq": 5, "phase": "revoke", "kind": "revoke_sessions", "target": "ap.clerk@contoso.com",
          "status": "failed", "attempts": 3, "error": "503 serviceNotAvailable" },
        { "seq": 6, "phase": "credentials", "kind": "reset_password", "target": "finance.director@contoso.com",
          "status": "waiting_approval", "requires_approval": true, "attempts": 0, "error": null },
        { "seq": 7, "phase": "methods", "kind": "remove_methods", "target": "ap.clerk@contoso.com",
          "status": "skipped", "attempts": 0, "error": null },
        { "seq": 8, "phase": "verify", "kind": "verify_signins", "target": "+15m", "status": "pending",
          "attempts": 0, "error": null }
      ],
      "verification": [
        { "check": "+15m", "due_at": "2026-03-18T10:15:00.000Z", "ran_at": null, "verdict": "pending",
          "findings": [ { "upn": "ap.clerk@contoso.com", "ip": "203.0.113.66", "successes": 0, "failures": 3,
                          "fail_codes": ["53003"] } ],
          "diagnosis": ["blocked by the emergency policy"] }
      ],
      "attention": [ "step 5 failed: revoke_sessions ap.clerk@contoso.com" ]
    })");
}

TEST(Progress, counts_steps_per_phase) {
    const auto p = compute_progress(sample_incident());
    ASSERT_EQ(p.by_phase.size(), 9u);  // release included, drawn only once it has steps
    EXPECT_EQ(p.total, 8);
    EXPECT_EQ(p.done, 5);  // 4 succeeded + 1 skipped
    EXPECT_EQ(p.failed, 1);
    EXPECT_EQ(p.status, "running");
    EXPECT_EQ(p.phase, "revoke");
    EXPECT_EQ(p.by_phase[0].phase, "resolve");
    EXPECT_EQ(p.by_phase[0].total, 2);
    EXPECT_EQ(p.by_phase[0].done, 2);
    EXPECT_EQ(p.by_phase[2].phase, "revoke");
    EXPECT_EQ(p.by_phase[2].done, 1);
    EXPECT_EQ(p.by_phase[2].failed, 1);
    EXPECT_EQ(p.by_phase[3].running, 1);  // waiting for approval
    EXPECT_EQ(p.by_phase[5].phase, "apps");
    EXPECT_EQ(p.by_phase[5].total, 0);
}

TEST(Progress, renders_one_line_with_the_current_phase_marked) {
    const auto line = render_progress(compute_progress(sample_incident()), 8);
    EXPECT_EQ(line,
              "[resolve 2/2][block 1/1][*revoke 1/2!][credentials 0/1][methods 1/1][apps -][verify 0/1][done]"
              " [#####...] 5/8 running");
}

TEST(Progress, empty_and_contained_incidents) {
    auto p = compute_progress(json::object());
    EXPECT_EQ(p.total, 0);
    EXPECT_EQ(render_progress(p, 4),
              "[resolve -][block -][revoke -][credentials -][methods -][apps -][verify -][done] [....] 0/0");
    p = compute_progress(json{{"status", "contained"}, {"phase", "done"}, {"steps", json::array()}});
    EXPECT_NE(render_progress(p, 4).find("[*done] [####] 0/0 contained"), std::string::npos);
}

TEST(Progress, the_release_phase_shows_once_released) {
    const auto p = compute_progress(json{
        {"status", "running"},
        {"phase", "release"},
        {"steps", {{{"phase", "verify"}, {"status", "succeeded"}}, {{"phase", "release"}, {"status", "running"}}}}});
    EXPECT_NE(render_progress(p, 2).find("[verify 1/1][*release 0/1][done] [#.] 1/2 running"), std::string::npos)
        << render_progress(p, 2);
}

TEST(Progress, a_cancelled_incident_does_not_read_100_percent) {
    const auto p = compute_progress(json{{"status", "cancelled"},
                                         {"phase", "revoke"},
                                         {"steps",
                                          {{{"phase", "block"}, {"status", "succeeded"}},
                                           {{"phase", "revoke"}, {"status", "skipped"}},
                                           {{"phase", "verify"}, {"status", "skipped"}}}}});
    EXPECT_EQ(p.done, 1);
    EXPECT_EQ(p.skipped, 2);
    const auto line = render_progress(p, 3);
    EXPECT_NE(line.find("[#..] 1/3 cancelled (2 skipped)"), std::string::npos) << line;
}

TEST(Progress, tolerates_malformed_documents) {
    const auto p =
        compute_progress(json::parse(R"({"steps": [1, "x", {"phase": 3}, {"phase":"later","status":"succeeded"}]})"));
    EXPECT_EQ(p.total, 4);
    EXPECT_EQ(p.done, 1);  // the unknown phase counts overall
}

// ---------------------------------------------------------------------------------------------
// Tables and views

TEST(Table, aligns_columns_and_trims_trailing_space) {
    const auto out = render_table({{"ID", "STATUS", "X"}, {{"a", "running", ""}, {"bbbb", "ok", ""}}});
    EXPECT_EQ(out, "ID    STATUS   X\na     running\nbbbb  ok\n");
}

TEST(Table, counts_code_points_and_truncates_long_cells) {
    const auto out = render_table({{"N", "V"}, {{"\xC3\xA9t\xC3\xA9", "x"}, {"abc", "y"}}});
    EXPECT_EQ(out, "N    V\n\xC3\xA9t\xC3\xA9  x\nabc  y\n");
    const auto cut = render_table({{"C"}, {{std::string(30, 'z')}}}, 10);
    EXPECT_EQ(cut, "C\nzzzzzzz...\n");
}

TEST(Table, control_characters_cannot_forge_lines_or_escape_sequences) {
    const auto out = render_table({{"A"}, {{"evil\n\x1b[2Jline"}}});
    EXPECT_EQ(out, "A\nevil  [2Jline\n");
    EXPECT_EQ(printable("a\rb\tc"), "a b c");
}

TEST(Table, cells_from_json) {
    const json o = {{"s", "x"}, {"n", nullptr}, {"i", 3}, {"b", true}, {"a", {"p", "q"}}};
    EXPECT_EQ(cell(o, "s"), "x");
    EXPECT_EQ(cell(o, "n"), "-");
    EXPECT_EQ(cell(o, "missing"), "-");
    EXPECT_EQ(cell(o, "i"), "3");
    EXPECT_EQ(cell(o, "b"), "yes");
    EXPECT_EQ(cell(o, "a"), "p,q");
    EXPECT_EQ(short_time("2026-03-18T10:15:02.123Z"), "2026-03-18 10:15:02");
    EXPECT_EQ(short_time(nullptr), "-");
}

TEST(Views, incident_list) {
    const json list = {{"incidents",
                        {{{"id", "i1"},
                          {"tenant", "contoso"},
                          {"external_ref", "S-1"},
                          {"status", "running"},
                          {"phase", "revoke"},
                          {"created_at", "2026-03-18T10:00:00.000Z"}},
                         {{"id", "i2"},
                          {"tenant", "contoso"},
                          {"external_ref", nullptr},
                          {"status", "contained"},
                          {"phase", "done"},
                          {"created_at", "2026-03-17T09:00:00.000Z"}}}},
                       {"next_cursor", nullptr}};
    EXPECT_EQ(render_incident_list(list),
              "ID  TENANT   REF  STATUS     PHASE   CREATED\n"
              "i1  contoso  S-1  running    revoke  2026-03-18 10:00:00\n"
              "i2  contoso  -    contained  done    2026-03-17 09:00:00\n");
    EXPECT_EQ(render_incident_list(json{{"incidents", json::array()}}), "No incidents.\n");
}

TEST(Views, incident_shows_every_section) {
    const auto out = render_incident(sample_incident());
    for (const char* want :
         {"Incident   3f0c9a52-8d0e-4c3b-9a71-2b5d6e7f8a90", "Status     running", "Accounts\nUPN",
          "holds Exchange Administrator", "2026-03-18 10:00:30", "Steps\nSEQ", "503 serviceNotAvailable",
          "waiting_approval (approve 6)", "Verification\nCHECK", "+15m finding: ap.clerk@contoso.com from 203.0.113.66",
          "codes 53003", "+15m diagnosis: blocked by the emergency policy", "Attention\n  - step 5 failed"})
        EXPECT_NE(out.find(want), std::string::npos) << want << "\n" << out;
}

TEST(Views, plan_of_a_dry_run) {
    const json plan = json::parse(R"({
      "accounts": [ { "upn": "a@contoso.com", "tier": "privileged", "tier_reason": "declared by the SOC",
                      "method_cleanup": "complete", "synced": false } ],
      "scope": { "all_users": false, "include_users": ["a@contoso.com"], "exclude_users": ["breakglass1@contoso.com"],
                 "exclude_locations": [] },
      "delivery": "password",
      "steps": [ { "seq": 1, "phase": "resolve", "stage": 0, "kind": "resolve_account", "target": "a@contoso.com",
                   "requires_approval": false, "params": {}, "graph_calls": ["GET /users/{upn}"], "depends_on": null },
                 { "seq": 2, "phase": "credentials", "stage": 3, "kind": "reset_password", "target": "a@contoso.com",
                   "requires_approval": true, "params": {}, "graph_calls": ["POST /users/{id}/authentication/methods/{m}/resetPassword"],
                   "depends_on": null } ],
      "warnings": ["a warning"], "permissions": ["User.ReadWrite.All", "Policy.ReadWrite.ConditionalAccess"] })");
    const auto out = render_plan(plan);
    for (const char* want : {"Dry run", "Delivery      password", "accounts: a@contoso.com", "breakglass1@contoso.com",
                             "complete", "reset_password", "required", "GET /users/{upn}", "  - a warning",
                             "Graph permissions needed: User.ReadWrite.All,Policy.ReadWrite.ConditionalAccess"})
        EXPECT_NE(out.find(want), std::string::npos) << want << "\n" << out;
}

TEST(Views, event_line_names_the_step_and_its_target) {
    const json ev = {{"id", 12},
                     {"at", "2026-03-18T10:15:02.000Z"},
                     {"kind", "step_failed"},
                     {"step", 5},
                     {"data", {{"error", "503 serviceNotAvailable"}, {"attempt", 3}, {"big", {{"x", 1}}}}}};
    EXPECT_EQ(
        render_event_line(ev, sample_incident()),
        "10:15:02  step_failed  #5 revoke_sessions ap.clerk@contoso.com  (attempt=3 error=503 serviceNotAvailable)");
    const json plain = {
        {"at", "2026-03-18T10:16:00Z"}, {"kind", "status_changed"}, {"step", nullptr}, {"data", {{"to", "verifying"}}}};
    EXPECT_EQ(render_event_line(plain, nullptr), "10:16:00  status_changed  (to=verifying)");
}

TEST(Problems, validation_errors_list_every_field) {
    const std::string body = R"({"type":"urn:containd:problem:validation","title":"Bad Request","status":400,
      "detail":"The incident has 2 invalid field(s); nothing was stored.",
      "errors":[{"field":"accounts[2].upn","message":"is not a UPN"},{"field":"attacker_ips[0]","message":"is not an IP address"}]})";
    EXPECT_EQ(render_problem(400, body),
              "400 Bad Request: The incident has 2 invalid field(s); nothing was stored.\n"
              "  accounts[2].upn: is not a UPN\n"
              "  attacker_ips[0]: is not an IP address\n");
}

TEST(Problems, refusal_reasons_and_non_problem_bodies) {
    EXPECT_EQ(
        render_problem(422, R"({"title":"Unprocessable Content","detail":"The plan was refused:","reasons":["r1"]})"),
        "422 Unprocessable Content: The plan was refused:\n  - r1\n");
    EXPECT_EQ(render_problem(502, "<html>Bad gateway</html>\n"), "HTTP 502: <html>Bad gateway</html>\n");
    EXPECT_EQ(render_problem(500, ""), "HTTP 500\n");
}

// ---------------------------------------------------------------------------------------------
// Submission from flags

TEST(Submit, flags_build_the_api_body) {
    submit_flags f;
    f.tenant = "contoso";
    f.external_ref = "SENTINEL-4711";
    f.title = "BEC in finance";
    f.compromise_start = "2026-03-12T00:00:00Z";
    f.accounts = {"finance.director@contoso.com:privileged", "ap.clerk@contoso.com",
                  "breakglass@contoso.com:break_glass"};
    f.attacker_ips = {"203.0.113.66"};
    f.apps = {"c7a1e5d2-9b3f-4a6c-8e1d-2f5b7c9a0e34"};
    f.credential_delivery = "tap";
    std::vector<std::string> errors;
    const auto body = build_submission(json::object(), f, &errors);
    EXPECT_TRUE(errors.empty());
    EXPECT_EQ(body, json::parse(R"({
      "tenant": "contoso", "external_ref": "SENTINEL-4711", "title": "BEC in finance",
      "compromise_start": "2026-03-12T00:00:00Z",
      "accounts": [ { "upn": "finance.director@contoso.com", "tier": "privileged" }, { "upn": "ap.clerk@contoso.com" },
                    { "upn": "breakglass@contoso.com", "tier": "break_glass" } ],
      "attacker_ips": ["203.0.113.66"],
      "malicious_apps": [ { "app_id": "c7a1e5d2-9b3f-4a6c-8e1d-2f5b7c9a0e34" } ],
      "options": { "credential_delivery": "tap" } })"));
}

TEST(Submit, flags_override_a_file_and_append_to_its_lists) {
    submit_flags f;
    f.external_ref = "NEW";
    f.accounts = {"b@contoso.com"};
    std::vector<std::string> errors;
    const auto body = build_submission(
        json::parse(
            R"({"external_ref":"OLD","accounts":[{"upn":"a@contoso.com"}],"options":{"method_cleanup":"auto"}})"),
        f, &errors);
    EXPECT_TRUE(errors.empty());
    EXPECT_EQ(body["external_ref"], "NEW");
    EXPECT_EQ(body["accounts"].size(), 2u);
    EXPECT_EQ(body["options"]["method_cleanup"], "auto");
}

TEST(Submit, a_bad_tier_is_reported) {
    submit_flags f;
    f.accounts = {"a@contoso.com:admin"};
    std::vector<std::string> errors;
    build_submission(json::object(), f, &errors);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_NE(errors[0].find("admin"), std::string::npos);
    errors.clear();
    build_submission(json::array(), {}, &errors);
    EXPECT_EQ(errors.size(), 1u);
}

}  // namespace
}  // namespace containd::ctl
