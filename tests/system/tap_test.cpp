// Issue 11's TAP workflow (DOMAIN.md, "Temporary Access Pass workflow") through the real containd
// binary and its built-in simulated tenant on a scaled clock (tests/support/system_fixture.hpp):
// - no TAP exists at containment; the first reveal issues one (202, then the TAP), so a TAP
//   revealed at +70, after the last check, is valid when it is handed over: the tenant's own
//   record of it (/_sim/state) starts after +70 and ends after the reveal;
// - with more than 10 accounts the incident delivers TAPs: every password was reset (the tenant
//   received each), none is revealable (409 tap-mode), every account's TAP is, and the report
//   asks nobody to phone a password.

#include <algorithm>
#include <set>

#include "graph/odata.hpp"
#include "support/system_fixture.hpp"

namespace containd::testing {
namespace {

using nlohmann::json;
using system_test::operator_token;
using system_test::submitter_token;

class TapSystem : public system_fixture {
protected:
    std::string submit(const json& incident) {
        const auto created = api->post("/v1/incidents", submitter_token, incident);
        EXPECT_EQ(created.status, 201) << created.body;
        return created.status == 201 ? created.json().value("id", "") : std::string();
    }

    std::string reveal_path(const std::string& id, const std::string& upn, const std::string& query = {}) {
        return "/v1/incidents/" + id + "/credentials/" + graph::odata::encode_form(upn) + "/reveal" + query;
    }

    // The TAP the simulated tenant holds for `upn` (null when none).
    json tap_in_tenant(const std::string& upn) {
        const json state = sim_state();
        for (const auto& u : state.value("users", json::array())) {
            if (u.value("userPrincipalName", "") != upn) continue;
            for (const auto& m : u["_sim"].value("methods", json::array()))
                if (m.value("@odata.type", "").find("temporaryAccessPass") != std::string::npos) return m;
        }
        return nullptr;
    }

    // When the audit trail says the credential `name` was revealed.
    std::optional<time_point> revealed_at(const std::string& id, const std::string& name) {
        const auto events = api->get("/v1/incidents/" + id + "/events", operator_token).json();
        for (const auto& e : events.value("events", json::array()))
            if (e.value("kind", "") == "secret_revealed" && e["data"].value("name", "") == name)
                return system_test::time_of(e, "at");
        return std::nullopt;
    }
};

TEST_F(TapSystem, a_tap_revealed_at_plus_70_is_issued_then_and_still_valid) {
    prepare_builtin_simulator();
    ASSERT_TRUE(start_builtin_simulator("tap-at-70"));
    const std::string id = submit(system_test::walkthrough_incident("TAP-AT-70"));
    ASSERT_FALSE(id.empty());
    const std::string director = "finance.director@contoso.com";

    // Contained, the blocks and resets done: no TAP anywhere yet.
    json doc = poll(id, [](const json& d) { return d.value("phase", "") == "verify"; });
    ASSERT_EQ(doc.value("phase", ""), "verify") << system_test::describe(doc);
    const auto contained = system_test::time_of(doc, "contained_at");
    ASSERT_TRUE(contained);
    EXPECT_TRUE(tap_in_tenant(director).is_null()) << "a TAP was issued at containment";
    const json* account = nullptr;
    for (const auto& a : doc["accounts"])
        if (a.value("upn", "") == director) account = &a;
    ASSERT_TRUE(account);
    EXPECT_TRUE(account->value("tap", false)) << "a privileged account gets a TAP";
    EXPECT_TRUE((*account)["tap_issued_at"].is_null());

    // The last check (+70 confirmation) has run: the IR lead has the director on the phone.
    doc = poll(id, [](const json& d) { return system_test::is_final_status(d.value("status", "")); });
    ASSERT_EQ(doc.value("status", ""), "contained") << system_test::describe(doc);
    const auto first = api->post(reveal_path(id, director), operator_token);
    ASSERT_EQ(first.status, 202) << first.body;
    EXPECT_EQ(first.json().value("status", ""), "tap_issuing");
    const auto r = reveal_credential(reveal_path(id, director), operator_token);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json().value("kind", ""), "tap");
    EXPECT_GE(r.json().value("value", "").size(), 8u);

    // The tenant's record of that TAP: issued after +70, and still valid when it was revealed.
    const json tap = tap_in_tenant(director);
    ASSERT_FALSE(tap.is_null());
    const auto start = system_test::time_of(tap, "startDateTime");
    const auto shown = revealed_at(id, "tap:" + director);
    ASSERT_TRUE(start && shown) << tap.dump();
    EXPECT_GE(*start, *contained + std::chrono::minutes(70)) << tap.dump();
    EXPECT_GT(*start + std::chrono::minutes(tap.value("lifetimeInMinutes", 0)), *shown) << tap.dump();
    EXPECT_EQ(api->post(reveal_path(id, director), operator_token).status, 410) << "once";
}

TEST_F(TapSystem, eleven_accounts_deliver_taps_and_no_password_is_revealable) {
    prepare_builtin_simulator();
    // Three more standard users, so that eleven accounts resolve.
    json hr;
    for (const auto& u : sim_scenario["users"])
        if (u.value("userPrincipalName", "") == "hr.partner@contoso.com") hr = u;
    ASSERT_FALSE(hr.is_null());
    for (int i = 1; i <= 3; ++i) {
        json u = hr;
        u["id"] = "0b1e7c6a-3f2d-4e51-9a8b-1c2d3e4f5b1" + std::to_string(i);
        u["userPrincipalName"] = "temp.staff" + std::to_string(i) + "@contoso.com";
        u["displayName"] = "Temp Staff " + std::to_string(i);
        u["authentication_methods"][0]["id"] = "b2e1d3c4-0018-4a5b-9c8d-7e6f5a4b3c1" + std::to_string(i);
        sim_scenario["users"].push_back(u);
    }
    ASSERT_TRUE(start_builtin_simulator("tap-mode-11"));
    json incident = system_test::walkthrough_incident("TAP-MODE-11");
    for (const char* upn :
         {"hr.partner@contoso.com", "it.helpdesk@contoso.com", "pat.o'brien@contoso.com", "ir.admin@contoso.com",
          "temp.staff1@contoso.com", "temp.staff2@contoso.com", "temp.staff3@contoso.com"})
        incident["accounts"].push_back({{"upn", upn}});
    ASSERT_EQ(incident["accounts"].size(), 11u);
    incident["options"].erase("credential_delivery");  // the demo's incident asks for passwords
    const std::string id = submit(incident);
    ASSERT_FALSE(id.empty());
    const json doc = poll(id, [](const json& d) { return d.value("phase", "") == "verify"; });
    ASSERT_EQ(doc.value("phase", ""), "verify") << system_test::describe(doc);

    // Every password was reset (the tenant received eleven resets) and none can be revealed.
    int resets = 0;
    for (const auto& e : sim_journal())
        if (e.value("method", "") == "PATCH" && e.value("body", "").find("passwordProfile") != std::string::npos &&
            e.value("status", 0) < 300)
            ++resets;
    EXPECT_GE(resets, 11);
    ASSERT_EQ(doc["accounts"].size(), 11u);
    std::set<std::string> tapped;
    for (const auto& a : doc["accounts"]) {
        const std::string upn = a["upn"];
        EXPECT_TRUE(a.value("tap", false)) << upn;
        const auto password = api->post(reveal_path(id, upn, "?kind=password"), operator_token);
        EXPECT_EQ(password.status, 409) << upn << ": " << password.body;
        EXPECT_NE(password.body.find("tap-mode"), std::string::npos) << password.body;
        const auto tap = reveal_credential(reveal_path(id, upn), operator_token);
        EXPECT_EQ(tap.status, 200) << upn << ": " << tap.body;
        if (tap.status == 200 && tap.json().value("kind", "") == "tap") tapped.insert(upn);
    }
    EXPECT_EQ(tapped.size(), 11u);

    // The report asks for no password to be phoned.
    const json report = api->get("/v1/incidents/" + id + "/report", operator_token).json();
    for (const auto& r : report.value("recommendations", json::array()))
        EXPECT_NE(r.value("id", ""), "deliver_passwords") << r.dump();
}

}  // namespace
}  // namespace containd::testing
