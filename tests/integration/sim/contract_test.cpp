// The Graph v1.0 contract (Microsoft's CSDL): unit tests of the checker itself, then every entity
// the simulated tenant returns for the walkthrough scenario, checked against the v1.0 types.
//
// Beta answers (/beta/auditLogs/signIns for non-interactive and service-principal sign-ins) use
// beta types that the v1.0 CSDL does not have: they are checked with allow_unknown_properties,
// i.e. every property v1.0 declares must have the v1.0 shape, and the beta-only ones are listed
// (not failed).

#include <iostream>
#include <regex>
#include <set>

#include "integration/sim/sim_fixture.hpp"
#include "support/csdl_contract.hpp"

#ifndef CONTAIND_GRAPH_CSDL
#error "CONTAIND_GRAPH_CSDL must name Microsoft's Graph v1.0 CSDL (set by tests/sim.cmake)"
#endif

namespace containd::test {
namespace {

using nlohmann::json;

const csdl_model* graph_contract() { return csdl_model::shared(CONTAIND_GRAPH_CSDL); }

#define REQUIRE_GRAPH_CONTRACT()                                                                \
    if (!graph_contract())                                                                      \
    GTEST_SKIP() << "!!! SKIPPED: Microsoft's Graph v1.0 CSDL is missing (" CONTAIND_GRAPH_CSDL \
                    "): the Graph contract is NOT checked !!!"

// ------------------------------------------------------------------------------------------------
// The checker

class CsdlChecker : public ::testing::Test {
protected:
    void SetUp() override { REQUIRE_GRAPH_CONTRACT(); }
    const csdl_model& m() const { return *graph_contract(); }
};

TEST_F(CsdlChecker, loads_the_types_the_container_and_the_bound_actions) {
    EXPECT_GT(m().type_count(), 2500u);
    EXPECT_GT(m().enum_count(), 500u);
    EXPECT_GT(m().operation_count(), 1000u);
    const auto* user = m().find_type("graph.user");  // the alias works
    ASSERT_TRUE(user);
    EXPECT_EQ(user->name, "microsoft.graph.user");
    EXPECT_EQ(user->base, "microsoft.graph.directoryObject");
    EXPECT_TRUE(user->open);
    EXPECT_TRUE(user->all.count("id") && user->all.count("deletedDateTime") && user->all.count("passwordProfile"));
    EXPECT_TRUE(user->all.at("memberOf").navigation);
    EXPECT_TRUE(user->all.at("businessPhones").collection);
    EXPECT_TRUE(m().find_type("#microsoft.graph.authenticationMethod")->abstract);
    EXPECT_TRUE(m().derives_from("microsoft.graph.phoneAuthenticationMethod", "microsoft.graph.entity"));
    EXPECT_FALSE(m().derives_from("microsoft.graph.user", "microsoft.graph.application"));
    EXPECT_TRUE(m().find_enum("microsoft.graph.conditionalAccessPolicyState"));
}

TEST_F(CsdlChecker, a_known_good_user_conforms) {
    const json user = {
        {"@odata.context", "https://graph.microsoft.com/v1.0/$metadata#users/$entity"},
        {"id", "0b1e7c6a-3f2d-4e51-9a8b-1c2d3e4f5a04"},
        {"deletedDateTime", nullptr},  // directoryObject's
        {"displayName", "Finance Director"},
        {"userPrincipalName", "finance.director@contoso.com"},
        {"accountEnabled", true},
        {"businessPhones", {"+1 555 0100"}},
        {"createdDateTime", "2024-01-10T09:00:00Z"},
        {"signInSessionsValidFromDateTime", "2026-03-18T10:00:00.123Z"},
        {"passwordProfile", {{"password", "x"}, {"forceChangePasswordNextSignIn", true}}},
        {"assignedLicenses",
         json::array({{{"skuId", "c7df2760-2c81-4ef7-b578-5b5392b571df"}, {"disabledPlans", json::array()}}})},
        {"extension_0d6c4b8a2e1f4a3b9c5d7e8f9a0b1c2d_costCenter", "F-100"},
        {"manager@odata.bind", "https://graph.microsoft.com/v1.0/users/x"}};
    const auto v = m().check(user, "microsoft.graph.user");
    EXPECT_TRUE(v.empty()) << to_string(v);
}

TEST_F(CsdlChecker, a_bad_property_is_rejected_with_its_path_type_and_name) {
    const json policy = {
        {"displayName", "Containment"},
        {"state", "enabled"},
        {"conditions",
         {{"users", {{"includeUserz", {"0b1e7c6a-3f2d-4e51-9a8b-1c2d3e4f5a04"}}, {"excludeUsers", json::array()}}},
          {"applications", {{"includeApplications", {"All"}}}},
          {"clientAppTypes", {"all"}}}},
        {"grantControls", {{"operator", "OR"}, {"builtInControls", {"block"}}}}};
    const auto v = m().check(policy, "microsoft.graph.conditionalAccessPolicy");
    ASSERT_EQ(v.size(), 1u) << to_string(v);
    EXPECT_EQ(v[0].path, "conditions.users.includeUserz");
    EXPECT_EQ(v[0].type, "microsoft.graph.conditionalAccessUsers");
    EXPECT_EQ(v[0].property, "includeUserz");
    EXPECT_NE(to_string(v[0]).find("conditions.users.includeUserz"), std::string::npos);

    json good = policy;
    good["conditions"]["users"]["includeUsers"] = good["conditions"]["users"]["includeUserz"];
    good["conditions"]["users"].erase("includeUserz");
    EXPECT_TRUE(m().check(good, "microsoft.graph.conditionalAccessPolicy").empty());
    // Internal fields of a simulator would be caught the same way.
    EXPECT_EQ(m().check({{"id", "x"}, {"_sim", json::object()}}, "microsoft.graph.user").size(), 1u);
}

TEST_F(CsdlChecker, derived_types_are_selected_by_odata_type) {
    const json phone = {{"@odata.type", "#microsoft.graph.phoneAuthenticationMethod"},
                        {"id", "3179e48a-750b-4051-897c-87b9720928f7"},
                        {"createdDateTime", "2026-03-12T08:14:00.000Z"},  // authenticationMethod's
                        {"phoneNumber", "+234 8031234567"},
                        {"phoneType", "mobile"},
                        {"smsSignInState", "notAllowedByPolicy"}};
    EXPECT_TRUE(m().check(phone, "microsoft.graph.authenticationMethod").empty());

    json untyped = phone;
    untyped.erase("@odata.type");  // abstract base: phoneNumber unknown, and the type is missing
    auto v = m().check(untyped, "microsoft.graph.authenticationMethod");
    ASSERT_EQ(v.size(), 4u) << to_string(v);  // id and createdDateTime are on the base types
    EXPECT_EQ(v[0].property, "@odata.type");
    EXPECT_EQ(v[1].path, "phoneNumber");

    json wrong = phone;
    wrong["@odata.type"] = "#microsoft.graph.user";
    v = m().check(wrong, "microsoft.graph.authenticationMethod");
    ASSERT_EQ(v.size(), 1u) << to_string(v);
    EXPECT_EQ(v[0].path, "@odata.type");
    EXPECT_NE(v[0].message.find("does not derive from"), std::string::npos);

    wrong["@odata.type"] = "#microsoft.graph.phoneAuthenticationMethodd";
    v = m().check(wrong, "microsoft.graph.authenticationMethod");
    ASSERT_FALSE(v.empty());
    EXPECT_NE(v[0].message.find("names no type"), std::string::npos);

    // A property of another derived type is not accepted.
    json mixed = phone;
    mixed["aaGuid"] = "cb69481e-8ff7-4039-93ec-0a2729a154a8";  // fido2's
    v = m().check(mixed, "microsoft.graph.authenticationMethod");
    ASSERT_EQ(v.size(), 1u) << to_string(v);
    EXPECT_EQ(v[0].type, "microsoft.graph.phoneAuthenticationMethod");
}

TEST_F(CsdlChecker, collections_of_complex_and_derived_types) {
    json loc = {{"@odata.type", "#microsoft.graph.ipNamedLocation"},
                {"displayName", "IR laptop"},
                {"isTrusted", true},
                {"ipRanges",
                 {{{"@odata.type", "#microsoft.graph.iPv4CidrRange"}, {"cidrAddress", "198.18.0.7/32"}},
                  {{"@odata.type", "#microsoft.graph.iPv6CidrRange"}, {"cidr", "2001:db8::/32"}}}}};
    auto v = m().check(loc, "microsoft.graph.namedLocation");
    ASSERT_EQ(v.size(), 1u) << to_string(v);
    EXPECT_EQ(v[0].path, "ipRanges[1].cidr");
    EXPECT_EQ(v[0].type, "microsoft.graph.iPv6CidrRange");

    loc["ipRanges"] = json::array({json{{"cidrAddress", "198.18.0.7/32"}}});  // ipRange is abstract
    v = m().check(loc, "microsoft.graph.namedLocation");
    ASSERT_FALSE(v.empty());
    EXPECT_EQ(v[0].path, "ipRanges[0]");

    loc["ipRanges"] =
        json{{"@odata.type", "#microsoft.graph.iPv4CidrRange"}, {"cidrAddress", "198.18.0.7/32"}};  // not an array
    v = m().check(loc, "microsoft.graph.namedLocation");
    ASSERT_EQ(v.size(), 1u) << to_string(v);
    EXPECT_NE(v[0].message.find("expected an array"), std::string::npos);

    const json bad_elements = {
        {"conditions", {{"users", {{"includeUsers", {1}}}}, {"clientAppTypes", {"all", "fax"}}}}};
    v = m().check(bad_elements, "microsoft.graph.conditionalAccessPolicy");
    ASSERT_EQ(v.size(), 2u) << to_string(v);
    EXPECT_EQ(v[0].path, "conditions.clientAppTypes[1]");
    EXPECT_NE(v[0].message.find("not a member of enum"), std::string::npos);
    EXPECT_EQ(v[1].path, "conditions.users.includeUsers[0]");
}

TEST_F(CsdlChecker, primitive_values_have_the_edm_shape) {
    auto v =
        m().check({{"accountEnabled", "false"}, {"createdDateTime", "yesterday"}, {"id", 7}}, "microsoft.graph.user");
    EXPECT_EQ(v.size(), 3u) << to_string(v);
    v = m().check({{"keyId", "not-a-guid"}}, "microsoft.graph.passwordCredential");
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].path, "keyId");
    EXPECT_TRUE(
        m().check({{"lifetimeInMinutes", 60}, {"isUsableOnce", true}, {"startDateTime", "2026-03-18T10:00:00Z"}},
                  "microsoft.graph.temporaryAccessPassAuthenticationMethod")
            .empty());
    EXPECT_EQ(m().check({{"lifetimeInMinutes", 1.5}}, "microsoft.graph.temporaryAccessPassAuthenticationMethod").size(),
              1u);
}

TEST_F(CsdlChecker, open_types_and_beta_leniency_are_explicit) {
    const json u = {{"favouriteColour", "green"}};
    EXPECT_EQ(m().check(u, "microsoft.graph.user").size(), 1u);
    check_options open;
    open.honour_open_types = true;
    EXPECT_TRUE(m().check(u, "microsoft.graph.user", open).empty());
    check_options beta;
    beta.allow_unknown_properties = true;
    std::vector<std::string> skipped;
    EXPECT_TRUE(
        m().check({{"favouriteColour", "green"}, {"accountEnabled", "no"}}, "microsoft.graph.user", beta, &skipped)
            .size() == 1u);
    ASSERT_EQ(skipped.size(), 1u);
    EXPECT_NE(skipped[0].find("favouriteColour"), std::string::npos);
}

TEST_F(CsdlChecker, requests_resolve_to_their_body_types_through_the_csdl) {
    const auto body = [&](const std::string& method, const std::string& path) {
        std::string error;
        auto b = m().body_for(method, path, &error);
        EXPECT_TRUE(b) << error;
        return b ? *b : body_contract{};
    };
    EXPECT_EQ(body("PATCH", "/v1.0/users/0b1e7c6a-3f2d-4e51-9a8b-1c2d3e4f5a04").type, "microsoft.graph.user");
    EXPECT_EQ(body("PATCH", "/v1.0/users/pat.o'brien%40contoso.com").type, "microsoft.graph.user");
    EXPECT_EQ(body("PATCH", "/v1.0/users('pat.o''brien@contoso.com')").type, "microsoft.graph.user");
    EXPECT_EQ(body("PATCH", "/v1.0/identity/conditionalAccess/policies/5e8a3c1f").type,
              "microsoft.graph.conditionalAccessPolicy");
    EXPECT_EQ(body("POST", "/v1.0/identity/conditionalAccess/policies").type,
              "microsoft.graph.conditionalAccessPolicy");
    EXPECT_EQ(body("POST", "/v1.0/identity/conditionalAccess/namedLocations").type, "microsoft.graph.namedLocation");
    EXPECT_EQ(body("POST", "/v1.0/users/x/authentication/temporaryAccessPassMethods").type,
              "microsoft.graph.temporaryAccessPassAuthenticationMethod");
    EXPECT_EQ(body("PATCH", "/v1.0/servicePrincipals(appId='c7a1e5d2-9b3f-4a6c-8e1d-2f5b7c9a0e34')").type,
              "microsoft.graph.servicePrincipal");

    const auto app_remove = body("POST", "/v1.0/applications/4c2b1a09/removePassword");
    EXPECT_TRUE(app_remove.body_allowed);
    EXPECT_EQ(app_remove.type, "microsoft.graph.removePassword(microsoft.graph.application)");
    ASSERT_TRUE(m().find_type(app_remove.type));
    EXPECT_EQ(m().find_type(app_remove.type)->all.at("keyId").type, "Edm.Guid");
    EXPECT_EQ(body("POST", "/v1.0/servicePrincipals/7b6a/microsoft.graph.removePassword").type,
              "microsoft.graph.removePassword(microsoft.graph.servicePrincipal)");
    EXPECT_FALSE(body("POST", "/v1.0/users/x/revokeSignInSessions").body_allowed);
    EXPECT_EQ(body("POST", "/v1.0/identityProtection/riskyUsers/confirmCompromised").type,
              "microsoft.graph.confirmCompromised(Collection(microsoft.graph.riskyUser))");
    EXPECT_FALSE(body("DELETE", "/v1.0/users/x/mailFolders/inbox/messageRules/AQAAAJ5dZp8=").body_allowed);
    EXPECT_FALSE(body("DELETE", "/v1.0/users/x/authentication/phoneMethods/3179e48a").body_allowed);

    std::string error;
    EXPECT_FALSE(m().body_for("POST", "/v1.0/users/x", &error));
    EXPECT_FALSE(m().body_for("GET", "/v1.0/users/x/frobnicate", &error));
    EXPECT_NE(error.find("frobnicate"), std::string::npos);
    EXPECT_FALSE(m().resolve("/v1.0/frobnicators", &error));

    auto r = m().resolve("/v1.0/users/x/transitiveMemberOf/microsoft.graph.directoryRole?$select=id");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->type, "microsoft.graph.directoryRole");
    EXPECT_TRUE(r->collection);
    r = m().resolve("/beta/auditLogs/signIns");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->version, "beta");
    EXPECT_EQ(r->type, "microsoft.graph.signIn");
}

TEST_F(CsdlChecker, request_bodies_and_batches_are_checked) {
    EXPECT_TRUE(m().check_request("POST", "/v1.0/applications/a/removePassword",
                                  {{"keyId", "e1d2c3b4-0001-4a5b-8c7d-6e5f4a3b2c91"}})
                    .empty());
    auto v = m().check_request("POST", "/v1.0/applications/a/removePassword",
                               {{"keyID", "e1d2c3b4-0001-4a5b-8c7d-6e5f4a3b2c91"}});
    ASSERT_EQ(v.size(), 1u) << to_string(v);
    EXPECT_EQ(v[0].path, "keyID");
    EXPECT_EQ(v[0].type, "microsoft.graph.removePassword(microsoft.graph.application)");
    EXPECT_EQ(m().check_request("POST", "/v1.0/applications/a/removePassword", nullptr).size(), 1u);  // body required
    EXPECT_TRUE(m().check_request("POST", "/v1.0/users/x/revokeSignInSessions", nullptr).empty());
    EXPECT_EQ(m().check_request("POST", "/v1.0/users/x/revokeSignInSessions", {{"force", true}}).size(), 1u);
    EXPECT_EQ(m().check_request("DELETE", "/v1.0/users/x", {{"id", "x"}}).size(), 1u);
    EXPECT_EQ(m().check_request("POST", "/v1.0/frobnicators", json::object()).size(), 1u);

    const json batch = {{"requests",
                         {{{"id", "1"}, {"method", "POST"}, {"url", "/users/x/revokeSignInSessions"}},
                          {{"id", "2"},
                           {"method", "PATCH"},
                           {"url", "/users/y"},
                           {"headers", {{"Content-Type", "application/json"}}},
                           {"body", {{"accountEnabld", false}}}},
                          {{"id", "3"}, {"method", "GET"}, {"url", "/frobnicators"}}}}};
    v = m().check_request("POST", "/v1.0/$batch", batch);
    ASSERT_EQ(v.size(), 2u) << to_string(v);
    EXPECT_EQ(v[0].path, "requests[1].body.accountEnabld");
    EXPECT_EQ(v[0].type, "microsoft.graph.user");
    EXPECT_EQ(v[1].path, "requests[2].url");
}

TEST_F(CsdlChecker, responses_are_checked_as_collections_entities_and_action_results) {
    EXPECT_TRUE(m().check_response(
                       "POST", "/v1.0/users/x/revokeSignInSessions",
                       {{"@odata.context", "https://graph.microsoft.com/v1.0/$metadata#Edm.Boolean"}, {"value", true}})
                    .empty());
    EXPECT_EQ(m().check_response("POST", "/v1.0/users/x/revokeSignInSessions", {{"value", "yes"}}).size(), 1u);
    const json list = {{"@odata.context", "x"},
                       {"@odata.nextLink", "y"},
                       {"value",
                        {{{"@odata.type", "#microsoft.graph.directoryRole"}, {"id", "r"}, {"roleTemplateId", "t"}},
                         {{"@odata.type", "#microsoft.graph.group"}, {"id", "g"}, {"securityEnabled", true}}}}};
    EXPECT_TRUE(m().check_response("GET", "/v1.0/users/x/memberOf", list).empty());
    auto v = m().check_response("GET", "/v1.0/users/x/memberOf", {{"value", {{{"id", "r"}, {"roleTemplateId", "t"}}}}});
    ASSERT_EQ(v.size(), 1u) << to_string(v);  // without its @odata.type, a directoryObject has no roleTemplateId
    EXPECT_EQ(v[0].path, "value[0].roleTemplateId");
    EXPECT_EQ(m().check_response("GET", "/v1.0/users", {{"users", json::array()}}).size(), 2u);
}

// ------------------------------------------------------------------------------------------------
// The simulator's answers

class SimContract : public sim_fixture {
protected:
    json scenario() override {
        auto s = load_walkthrough();
        s["throttling"]["enabled"] = false;  // this test reads a lot; throttling has its own tests
        return s;
    }

    void SetUp() override {
        REQUIRE_GRAPH_CONTRACT();
        sim_fixture::SetUp();
    }

    std::size_t entities = 0, requests = 0;
    std::set<std::string> odata_types;
    std::set<std::string> beta_only;  // deduplicated: "path: value[].prop (not on v1.0 type)"

    static std::size_t count_entities(const json& j) {
        if (j.is_object() && j.contains("value") && j["value"].is_array()) return j["value"].size();
        return j.is_object() ? 1 : 0;
    }

    static void collect_types(const json& j, std::set<std::string>& out) {
        if (j.is_object()) {
            if (j.contains("@odata.type") && j["@odata.type"].is_string())
                out.insert(j["@odata.type"].get<std::string>());
            for (auto it = j.begin(); it != j.end(); ++it) collect_types(it.value(), out);
        } else if (j.is_array()) {
            for (const auto& e : j) collect_types(e, out);
        }
    }

    // No key of a Graph answer may be one of the simulator's internal fields.
    static void expect_no_internal_fields(const json& j, const std::string& where, const std::string& path = "") {
        if (j.is_object()) {
            for (auto it = j.begin(); it != j.end(); ++it) {
                EXPECT_FALSE(!it.key().empty() && it.key()[0] == '_')
                    << where << ": internal field " << path << "." << it.key();
                expect_no_internal_fields(it.value(), where, path + "." + it.key());
            }
        } else if (j.is_array()) {
            for (std::size_t i = 0; i < j.size(); ++i)
                expect_no_internal_fields(j[i], where, path + "[" + std::to_string(i) + "]");
        }
    }

    void conforms(const std::string& method, const std::string& target, const sim_response& r, int status,
                  const check_options& opts = {}, const json& batch_request = nullptr) {
        ++requests;
        ASSERT_EQ(r.status, status) << method << " " << target << ": " << r.body.substr(0, 400);
        const json body = r.body.empty() ? json(nullptr) : r.json();
        ASSERT_FALSE(body.is_discarded()) << target;
        expect_no_internal_fields(body, target);
        std::vector<std::string> skipped;
        const auto v = graph_contract()->check_response(method, target, body, opts, &skipped, batch_request);
        EXPECT_TRUE(v.empty()) << method << " " << target << " violates the Graph v1.0 contract:\n" << to_string(v);
        for (const auto& s : skipped)
            beta_only.insert(target.substr(0, target.find('?')) + ": " +
                             std::regex_replace(s, std::regex("\\[[0-9]+\\]"), "[]"));
        entities += count_entities(body);
        collect_types(body, odata_types);
    }

    json get_ok(const std::string& target, const check_options& opts = {}) {
        const auto r = get(target);
        conforms("GET", target, r, 200, opts);
        return r.status == 200 ? r.json() : json::object();
    }

    json post_ok(const std::string& target, const json& body, int status) {
        const auto r = post(target, body);
        conforms("POST", target, r, status);
        return r.body.empty() ? json(nullptr) : r.json();
    }

    void TearDown() override {
        if (!graph_contract()) return;
        std::cout << "[ contract ] " << requests << " answers, " << entities
                  << " entities checked; @odata.type seen: " << odata_types.size() << "\n";
        for (const auto& t : odata_types) std::cout << "[ contract ]   " << t << "\n";
        for (const auto& s : beta_only) std::cout << "[ beta only, not checked ] " << s << "\n";
    }
};

TEST_F(SimContract, users_roles_methods_and_mailboxes) {
    const auto users = get_ok("/v1.0/users")["value"];
    ASSERT_GE(users.size(), 10u);
    get_ok("/v1.0/users?$select=id,userPrincipalName,accountEnabled,onPremisesSyncEnabled");
    std::set<std::string> method_types;
    for (const auto& u : users) {
        const std::string id = u["id"];
        const std::string base = "/v1.0/users/" + id;
        get_ok(base);
        get_ok("/v1.0/users/" + url_encode(u["userPrincipalName"].get<std::string>()));
        get_ok(base + "?$select=id,userPrincipalName,accountEnabled,onPremisesSyncEnabled");
        get_ok(base +
               "?$select=id,accountEnabled,onPremisesSyncEnabled,signInSessionsValidFromDateTime,"
               "lastPasswordChangeDateTime,passwordProfile,createdDateTime");
        get_ok(base + "/memberOf");
        get_ok(base + "/transitiveMemberOf");
        get_ok(base + "/transitiveMemberOf/microsoft.graph.directoryRole");
        get_ok(base + "/oauth2PermissionGrants");
        const auto methods = get_ok(base + "/authentication/methods")["value"];
        for (const auto& method : methods) {
            method_types.insert(method.value("@odata.type", ""));
            get_ok(base + "/authentication/methods/" + method["id"].get<std::string>());
        }
        for (const char* coll :
             {"phoneMethods", "softwareOathMethods", "fido2Methods", "microsoftAuthenticatorMethods", "emailMethods",
              "windowsHelloForBusinessMethods", "temporaryAccessPassMethods", "passwordMethods"})
            get_ok(base + "/authentication/" + coll);
        const auto mb = get(base + "/mailFolders/inbox/messageRules");
        if (mb.status == 200) conforms("GET", base + "/mailFolders/inbox/messageRules", mb, 200);
    }
    // Every kind of method the walkthrough registers was seen (and checked) at least once.
    for (const char* t :
         {"#microsoft.graph.passwordAuthenticationMethod",
          "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod", "#microsoft.graph.phoneAuthenticationMethod",
          "#microsoft.graph.fido2AuthenticationMethod", "#microsoft.graph.softwareOathAuthenticationMethod"})
        EXPECT_TRUE(method_types.count(t)) << t;
    // A new TAP (the only answer with temporaryAccessPass set), then the list with it.
    post_ok("/v1.0/users/" + std::string(k_fd_id) + "/authentication/temporaryAccessPassMethods",
            {{"lifetimeInMinutes", 60}, {"isUsableOnce", true}}, 201);
    get_ok("/v1.0/users/" + std::string(k_fd_id) + "/authentication/temporaryAccessPassMethods");
    get_ok("/v1.0/users/" + std::string(k_fd_id) + "/authentication/methods");
    post_ok("/v1.0/users/" + std::string(k_clerk_id) + "/revokeSignInSessions", nullptr, 200);

    const auto roles = get_ok("/v1.0/directoryRoles")["value"];
    ASSERT_FALSE(roles.empty());
    for (const auto& r : roles) {
        get_ok("/v1.0/directoryRoles/" + r["id"].get<std::string>());
        get_ok("/v1.0/directoryRoles/" + r["id"].get<std::string>() + "/members");
    }
    EXPECT_GT(entities, 100u);
}

TEST_F(SimContract, conditional_access_and_named_locations) {
    const auto policies = get_ok("/v1.0/identity/conditionalAccess/policies")["value"];
    ASSERT_FALSE(policies.empty());
    for (const auto& p : policies) get_ok("/v1.0/identity/conditionalAccess/policies/" + p["id"].get<std::string>());
    const auto locations = get_ok("/v1.0/identity/conditionalAccess/namedLocations")["value"];
    ASSERT_FALSE(locations.empty());
    for (const auto& l : locations)
        get_ok("/v1.0/identity/conditionalAccess/namedLocations/" + l["id"].get<std::string>());
    get_ok("/v1.0/identity/conditionalAccess/namedLocations?$filter=" +
           url_encode("isof('microsoft.graph.ipNamedLocation')"));
    post_ok("/v1.0/identity/conditionalAccess/policies",
            {{"displayName", "Containment: block"},
             {"state", "enabled"},
             {"conditions",
              {{"users", {{"includeUsers", {k_cfo_id}}}},
               {"applications", {{"includeApplications", {"All"}}}},
               {"clientAppTypes", {"all"}}}},
             {"grantControls", {{"operator", "OR"}, {"builtInControls", {"block"}}}}},
            201);
    post_ok("/v1.0/identity/conditionalAccess/namedLocations",
            {{"@odata.type", "#microsoft.graph.ipNamedLocation"},
             {"displayName", "IR laptop"},
             {"isTrusted", true},
             {"ipRanges", {{{"@odata.type", "#microsoft.graph.iPv4CidrRange"}, {"cidrAddress", "198.18.0.7/32"}}}}},
            201);
}

TEST_F(SimContract, applications_service_principals_grants_and_assignments) {
    const auto apps = get_ok("/v1.0/applications")["value"];
    ASSERT_FALSE(apps.empty());
    for (const auto& a : apps) {
        const std::string id = a["id"];
        get_ok("/v1.0/applications/" + id);
        get_ok("/v1.0/applications/" + id + "?$select=keyCredentials");
        get_ok("/v1.0/applications?$filter=" + url_encode("appId eq '" + a["appId"].get<std::string>() + "'") +
               "&$select=id,appId,displayName,passwordCredentials,keyCredentials");
    }
    const auto sps = get_ok("/v1.0/servicePrincipals")["value"];
    ASSERT_FALSE(sps.empty());
    for (const auto& s : sps) {
        const std::string id = s["id"];
        get_ok("/v1.0/servicePrincipals/" + id);
        get_ok("/v1.0/servicePrincipals/" + id + "?$select=keyCredentials");
        get_ok("/v1.0/servicePrincipals(appId='" + s["appId"].get<std::string>() + "')");
        get_ok("/v1.0/servicePrincipals?$filter=" + url_encode("appId eq '" + s["appId"].get<std::string>() + "'") +
               "&$select=id,appId,displayName,accountEnabled,passwordCredentials,keyCredentials");
        get_ok("/v1.0/servicePrincipals/" + id + "/appRoleAssignments");
        get_ok("/v1.0/servicePrincipals/" + id + "/appRoleAssignedTo");
        get_ok("/v1.0/servicePrincipals/" + id + "/memberOf");
        get_ok("/v1.0/servicePrincipals(appId='" + s["appId"].get<std::string>() + "')/transitiveMemberOf");
        get_ok("/v1.0/servicePrincipals/" + id + "/transitiveMemberOf/microsoft.graph.directoryRole");
    }
    // containd's own application: its credentials with their expiry (the tenant preflight's read).
    const auto own = get_ok("/v1.0/applications(appId='" + std::string(k_client_id) +
                            "')?$select=id,appId,displayName,passwordCredentials,keyCredentials");
    EXPECT_FALSE(own["passwordCredentials"].empty());
    EXPECT_FALSE(own["keyCredentials"].empty());
    EXPECT_FALSE(get_ok("/v1.0/servicePrincipals(appId='" + std::string(k_client_id) + "')/transitiveMemberOf")["value"]
                     .empty());
    const auto grants = get_ok("/v1.0/oauth2PermissionGrants")["value"];
    ASSERT_FALSE(grants.empty());
    for (const auto& g : grants) get_ok("/v1.0/oauth2PermissionGrants/" + g["id"].get<std::string>());
    get_ok("/v1.0/oauth2PermissionGrants?$filter=" + url_encode("clientId eq '" + std::string(k_dsp_sp) + "'"));
}

TEST_F(SimContract, risk_sign_ins_and_audits) {
    const auto risky = get_ok("/v1.0/identityProtection/riskyUsers")["value"];
    ASSERT_FALSE(risky.empty());
    for (const auto& r : risky) get_ok("/v1.0/identityProtection/riskyUsers/" + r["id"].get<std::string>());
    post_ok("/v1.0/identityProtection/riskyUsers/confirmCompromised", {{"userIds", {k_fd_id}}}, 204);

    clock.advance(minutes(10));  // the attacker model writes more sign-ins
    const std::string since = url_encode("createdDateTime ge 2026-03-12T00:00:00Z");
    const auto v1 = get_ok("/v1.0/auditLogs/signIns?$filter=" + since + "&$top=1000")["value"];
    ASSERT_FALSE(v1.empty());
    get_ok("/v1.0/auditLogs/signIns/" + v1[0]["id"].get<std::string>());
    get_ok("/v1.0/auditLogs/signIns?$filter=" + url_encode("userPrincipalName eq 'finance.director@contoso.com'"));
    // Beta: only what v1.0 declares is checked (see the top of this file).
    check_options beta;
    beta.allow_unknown_properties = true;
    for (const char* type : {"nonInteractiveUser", "servicePrincipal", "interactiveUser"})
        get_ok("/beta/auditLogs/signIns?$filter=" +
                   url_encode("signInEventTypes/any(t: t eq '" + std::string(type) + "')") + "&$top=1000",
               beta);
    const auto audits = get_ok("/v1.0/auditLogs/directoryAudits")["value"];
    ASSERT_FALSE(audits.empty());
    get_ok("/v1.0/auditLogs/directoryAudits/" + audits[0]["id"].get<std::string>());
}

TEST_F(SimContract, batch_answers_are_checked_item_by_item) {
    const json batch = {
        {"requests",
         {{{"id", "1"}, {"method", "GET"}, {"url", "/users/" + std::string(k_fd_id) + "/authentication/methods"}},
          {{"id", "2"}, {"method", "GET"}, {"url", "/users/" + std::string(k_fd_id) + "/memberOf"}},
          {{"id", "3"}, {"method", "POST"}, {"url", "/users/" + std::string(k_clerk_id) + "/revokeSignInSessions"}},
          {{"id", "4"}, {"method", "GET"}, {"url", "/identity/conditionalAccess/policies/" + std::string(k_policy_id)}},
          {{"id", "5"},
           {"method", "GET"},
           {"url", "/servicePrincipals/" + std::string(k_dsp_sp) + "/appRoleAssignments"}}}}};
    EXPECT_TRUE(graph_contract()->check_request("POST", "/v1.0/$batch", batch).empty());
    const auto r = post("/v1.0/$batch", batch);
    conforms("POST", "/v1.0/$batch", r, 200, {}, batch);
    // A named copy: a range-for over r.json()["responses"] reads a destroyed temporary (ASan).
    const json answer = r.json();
    ASSERT_EQ(answer["responses"].size(), 5u);
    for (const auto& item : answer["responses"]) EXPECT_EQ(item["status"], 200) << item.dump();
}

// state() is the simulator's own dump: its entities carry internal fields ("_sim", "_deleted",
// "_visible", ...), which are stripped here; what remains is what Graph would show.
TEST_F(SimContract, state_dump_entities_use_graph_shapes_once_internal_fields_are_stripped) {
    clock.advance(minutes(10));
    const auto state = sim->state();
    const auto strip = [](json e) {
        for (auto it = e.begin(); it != e.end();)
            it = !it.key().empty() && it.key()[0] == '_' ? e.erase(it) : std::next(it);
        return e;
    };
    const std::map<std::string, std::string> kinds = {
        {"users", "microsoft.graph.user"},
        {"directoryRoles", "microsoft.graph.directoryRole"},
        {"groups", "microsoft.graph.group"},
        {"conditionalAccessPolicies", "microsoft.graph.conditionalAccessPolicy"},
        {"namedLocations", "microsoft.graph.namedLocation"},
        {"applications", "microsoft.graph.application"},
        {"servicePrincipals", "microsoft.graph.servicePrincipal"},
        {"oauth2PermissionGrants", "microsoft.graph.oAuth2PermissionGrant"},
        {"directoryAudits", "microsoft.graph.directoryAudit"},
    };
    for (const auto& [key, type] : kinds) {
        ASSERT_TRUE(state.contains(key)) << key;
        for (std::size_t i = 0; i < state[key].size(); ++i) {
            const auto v = graph_contract()->check(strip(state[key][i]), type);
            ++entities;
            EXPECT_TRUE(v.empty()) << "state()[" << key << "][" << i << "]:\n" << to_string(v);
        }
    }
    // Sign-ins hold the beta properties too (each view projects them): v1.0 ones are checked.
    check_options beta;
    beta.allow_unknown_properties = true;
    for (const auto& e : state["signIns"]) {
        std::vector<std::string> skipped;
        const auto v = graph_contract()->check(strip(e), "microsoft.graph.signIn", beta, &skipped);
        ++entities;
        EXPECT_TRUE(v.empty()) << to_string(v);
    }
    for (const auto& u : state["users"])
        for (const auto& m : u["_sim"]["methods"]) {
            const auto v = graph_contract()->check(m, "microsoft.graph.authenticationMethod");
            ++entities;
            EXPECT_TRUE(v.empty()) << u["userPrincipalName"] << ":\n" << to_string(v);
        }
}

}  // namespace
}  // namespace containd::test
