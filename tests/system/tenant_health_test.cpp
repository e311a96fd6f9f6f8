// Tenant health on the real binaries (daemon/health.hpp): a good tenant passes
// `containd --check-tenant` and /readyz; a refused client secret, an untrusted CA, a missing
// permission, an app without the directory role for privileged resets and an expired secret each
// make --check-tenant exit 3 naming the gap, /readyz answer 503 naming the tenant and the gap, and
// a tenant_health webhook fire; a secret expiring within 30 days is a warning (still ready) and
// /metrics holds its expiry.

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <optional>

#include "core/time.hpp"
#include "support/fake_https_server.hpp"
#include "support/system_fixture.hpp"

namespace containd::testing {
namespace {

using namespace system_test;
using nlohmann::json;

struct command_result {
    int exit_code = -1;
    std::string output;
};

command_result run_command(const std::string& command) {
    command_result r;
    FILE* p = popen((command + " 2>&1").c_str(), "r");
    if (!p) return r;
    char buf[4096];
    while (std::size_t n = fread(buf, 1, sizeof buf, p)) r.output.append(buf, n);
    const int status = pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

class tenant_health_system : public system_fixture {
protected:
    void add_receiver() {
        tls = test::make_loopback_tls();
        receiver = std::make_unique<test::fake_https_server>(tls.server, [this](const test::fake_request& r) {
            const std::lock_guard lock(mutex);
            received.push_back(r);
            return test::fake_response::empty(200);
        });
        std::ofstream(dir / "hook-ca.pem") << tls.authority.ca().cert_pem;
        write_secret("webhook.key", "tenant-health-webhook-key\n");
        config["notify"] = {{"poll_interval_s", 0.05},
                            {"subscribers",
                             {{{"name", "soc"},
                               {"url", receiver->base_url() + "/hooks/soc"},
                               {"format", "json"},
                               {"events", {"tenant_health"}},
                               {"secret_file", (dir / "webhook.key").string()},
                               {"ca_file", (dir / "hook-ca.pem").string()}}}}};
    }

    command_result check_tenant() {
        std::ofstream(dir / "containd.json") << config.dump(2);
        return run_command(std::string(CONTAIND_EXE) + " --config " + (dir / "containd.json").string() +
                           " --check-tenant contoso");
    }

    // The daemon's /readyz once its first preflight has run.
    test::api_response readyz_after_check() {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        for (;;) {
            auto r = api->get("/readyz", "");
            if (r.json().contains("tenants") || std::chrono::steady_clock::now() > deadline) return r;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }

    std::vector<json> health_webhooks() {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        for (;;) {
            std::vector<json> out;
            {
                const std::lock_guard lock(mutex);
                for (const auto& r : received)
                    if (r.header("x-containd-event") == "tenant_health") out.push_back(json::parse(r.body));
            }
            if (!out.empty() || std::chrono::steady_clock::now() > deadline) return out;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }

    void expect_gap(const std::string& words) {
        const auto check = check_tenant();
        EXPECT_EQ(check.exit_code, 3) << check.output;
        EXPECT_NE(check.output.find("NOT READY"), std::string::npos) << check.output;
        EXPECT_NE(check.output.find(words), std::string::npos) << check.output;

        start_daemon();
        const auto ready = readyz_after_check();
        EXPECT_EQ(ready.status, 503) << ready.body;
        const json body = ready.json();
        EXPECT_EQ(body.value("status", ""), "tenant_not_ready") << ready.body;
        ASSERT_TRUE(body.contains("tenants")) << ready.body;
        EXPECT_FALSE(body["tenants"]["contoso"]["healthy"].get<bool>());
        EXPECT_NE(body["tenants"]["contoso"]["gaps"].dump().find(words), std::string::npos) << ready.body;
        EXPECT_NE(api->get("/metrics", "").body.find("containd_tenant_healthy{tenant=\"contoso\"} 0"),
                  std::string::npos);

        const auto hooks = health_webhooks();
        ASSERT_EQ(hooks.size(), 1u);
        EXPECT_EQ(hooks[0]["tenant"], "contoso");
        EXPECT_FALSE(hooks[0]["details"]["healthy"].get<bool>());
        EXPECT_NE(hooks[0]["summary"].get<std::string>().find(words), std::string::npos) << hooks[0].dump();
        EXPECT_EQ(hooks[0].dump().find(client_secret), std::string::npos);
    }

    // The seeds' scenario with extra top-level keys, written to the scratch directory.
    std::string scenario_with(const json& keys) {
        json scenario = json::parse(read_file(CONTAIND_SOURCE_DIR "/config/scenarios/bec-walkthrough.json"));
        for (auto it = keys.begin(); it != keys.end(); ++it) scenario[it.key()] = it.value();
        std::ofstream(dir / "scenario.json") << scenario.dump();
        return (dir / "scenario.json").string();
    }

    // A client-credentials token request straight to the simulated tenant, as containd makes it.
    test::api_response sim_token() {
        test::api_client raw(port_of(sim_url), read_file(dir / "sim-ca.pem"));
        const std::string form = "grant_type=client_credentials&client_id=" + std::string(client_id) +
                                 "&client_secret=" + client_secret +
                                 "&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default";
        return raw.request(
            "POST", "/" + config["tenants"][0]["directory_tenant"].get<std::string>() + "/oauth2/v2.0/token", form,
            {{"Content-Type", "application/x-www-form-urlencoded"}}, std::chrono::milliseconds(30000));
    }

    test::loopback_tls tls;
    std::unique_ptr<test::fake_https_server> receiver;
    std::mutex mutex;
    std::vector<test::fake_request> received;
};

TEST_F(tenant_health_system, a_good_tenant_passes) {
    start_sim();
    add_receiver();
    const auto check = check_tenant();
    EXPECT_EQ(check.exit_code, 0) << check.output;
    EXPECT_NE(check.output.find("tenant contoso: healthy"), std::string::npos) << check.output;
    EXPECT_NE(check.output.find("token"), std::string::npos) << check.output;
    start_daemon();
    const auto ready = readyz_after_check();
    EXPECT_EQ(ready.status, 200) << ready.body;
    EXPECT_TRUE(ready.json()["tenants"]["contoso"]["healthy"].get<bool>()) << ready.body;
    // A healthy tenant is no news: no webhook.
    const std::lock_guard lock(mutex);
    EXPECT_TRUE(received.empty());
}

TEST_F(tenant_health_system, a_refused_client_secret_is_a_gap) {
    start_sim();
    add_receiver();
    write_secret("wrong.secret", "not-the-registered-secret\n");
    config["tenants"][0]["client_secret_file"] = (dir / "wrong.secret").string();
    expect_gap("invalid_client");
}

TEST_F(tenant_health_system, an_untrusted_ca_is_a_gap) {
    start_sim();
    add_receiver();
    test::test_ca other("some other CA");
    std::ofstream(dir / "other-ca.pem") << other.ca().cert_pem;
    config["tenants"][0]["ca_file"] = (dir / "other-ca.pem").string();
    expect_gap("certificate");
}

TEST_F(tenant_health_system, a_missing_permission_is_a_gap_and_the_call_is_denied) {
    // The seeds' scenario, but the app was never granted UserAuthenticationMethod.ReadWrite.All.
    json scenario = json::parse(read_file(CONTAIND_SOURCE_DIR "/config/scenarios/bec-walkthrough.json"));
    scenario["app_roles"] = {"User.Read.All",
                             "Directory.Read.All",
                             "UserAuthenticationMethod.Read.All",
                             "MailboxSettings.Read",
                             "AuditLog.Read.All",
                             "Application.Read.All",
                             "DelegatedPermissionGrant.ReadWrite.All",
                             "Policy.Read.All",
                             "Policy.ReadWrite.ConditionalAccess",
                             "User.RevokeSessions.All",
                             "User-PasswordProfile.ReadWrite.All",
                             "Application.ReadWrite.All",
                             "AppRoleAssignment.ReadWrite.All",
                             "MailboxSettings.ReadWrite",
                             "IdentityRiskyUser.ReadWrite.All",
                             "RoleManagement.Read.Directory"};
    std::ofstream(dir / "scenario.json") << scenario.dump();
    start_sim({}, {}, (dir / "scenario.json").string());

    // The tenant itself refuses the call, as Microsoft does.
    test::api_client raw(port_of(sim_url), read_file(dir / "sim-ca.pem"));
    auto token = sim_token();
    ASSERT_EQ(token.status, 200) << token.body;
    const test::header_list bearer = {{"Authorization", "Bearer " + token.json()["access_token"].get<std::string>()}};
    auto denied = raw.request("DELETE",
                              "/v1.0/users/ap.clerk@contoso.com/authentication/phoneMethods/"
                              "3179e48a-750b-4051-897c-87b9720928f7",
                              "", bearer, std::chrono::milliseconds(30000));
    EXPECT_EQ(denied.status, 403) << denied.body;
    EXPECT_EQ(denied.json()["error"]["code"], "Authorization_RequestDenied") << denied.body;
    auto allowed = raw.request("GET", "/v1.0/users/ap.clerk@contoso.com", "", bearer, std::chrono::milliseconds(30000));
    EXPECT_EQ(allowed.status, 200) << allowed.body;

    add_receiver();
    expect_gap("UserAuthenticationMethod.ReadWrite.All");
}

TEST_F(tenant_health_system, an_app_without_the_privileged_directory_role_is_a_gap_and_admin_resets_are_refused) {
    // The app's service principal holds User Administrator only: it may reset accounts without an
    // admin role, not finance.director (Exchange Administrator).
    start_sim({}, {}, scenario_with({{"app_directory_roles", {"User Administrator"}}}));
    add_receiver();
    expect_gap("password resets of privileged accounts will be refused");
    const auto check = check_tenant();
    EXPECT_NE(check.output.find("directory role"), std::string::npos) << check.output;
    EXPECT_NE(check.output.find("holds User Administrator, not Privileged Authentication Administrator"),
              std::string::npos)
        << check.output;

    // An incident still runs; the tenant refuses the admin's reset with Microsoft's 403, and the
    // incident asks for a human.
    auto created = api->post("/v1/incidents", submitter_token, seeds_incident("HEALTH-ROLE"));
    ASSERT_EQ(created.status, 201) << created.body;
    const std::string id = created.json()["id"];
    const std::string status = wait_final(id);
    const json doc = incident(id);
    EXPECT_EQ(status, "needs_attention") << doc.dump(2);
    ASSERT_FALSE(doc.value("attention", json::array()).empty()) << doc.dump(2);
    bool refused_step = false;
    for (const auto& step : doc["steps"])
        if (step["kind"] == "reset_password" && step.value("target", "") == "finance.director@contoso.com") {
            EXPECT_EQ(step["status"], "failed") << step.dump();
            EXPECT_NE(step.dump().find("403"), std::string::npos) << step.dump();
            refused_step = true;
        }
    EXPECT_TRUE(refused_step) << doc["steps"].dump(2);
    EXPECT_NE(doc["attention"].dump().find("finance.director@contoso.com"), std::string::npos)
        << doc["attention"].dump(2);

    int admin_refused = 0, standard_reset = 0;
    for (const auto& e : sim_journal()) {
        if (e["method"] != "PATCH" || e.value("body", "").find("passwordProfile") == std::string::npos) continue;
        const std::string path = e["path"];
        if (path.find("0b1e7c6a-3f2d-4e51-9a8b-1c2d3e4f5a04") != std::string::npos ||
            path.find("finance.director") != std::string::npos) {
            EXPECT_EQ(e["status"], 403) << e.dump();
            ++admin_refused;
        }
        if (path.find("0b1e7c6a-3f2d-4e51-9a8b-1c2d3e4f5a05") != std::string::npos ||
            path.find("ap.clerk") != std::string::npos) {
            EXPECT_EQ(e["status"], 204) << e.dump();
            ++standard_reset;
        }
    }
    EXPECT_GE(admin_refused, 1);
    EXPECT_GE(standard_reset, 1);
}

TEST_F(tenant_health_system, an_expired_client_secret_is_refused_and_named) {
    start_sim({}, {}, scenario_with({{"app_credential_expires", "-1d"}}));
    const auto token = sim_token();
    EXPECT_EQ(token.status, 401) << token.body;
    EXPECT_EQ(token.json()["error"], "invalid_client") << token.body;
    EXPECT_EQ(token.json()["error_codes"], json::array({7000222})) << token.body;
    EXPECT_EQ(token.body.find(client_secret), std::string::npos);

    add_receiver();
    expect_gap("the client secret has expired");
    const auto check = check_tenant();
    EXPECT_NE(check.output.find("AADSTS7000222"), std::string::npos) << check.output;
}

TEST_F(tenant_health_system, a_secret_expiring_within_30_days_is_a_warning_and_a_metric) {
    start_sim({}, {}, scenario_with({{"app_credential_expires", "+10d"}}));
    add_receiver();
    const auto check = check_tenant();
    EXPECT_EQ(check.exit_code, 0) << check.output;
    EXPECT_NE(check.output.find("tenant contoso: healthy"), std::string::npos) << check.output;
    EXPECT_NE(check.output.find("WARN"), std::string::npos) << check.output;
    EXPECT_NE(check.output.find("the client secret expires on"), std::string::npos) << check.output;
    EXPECT_NE(check.output.find("(in 10 days)"), std::string::npos) << check.output;
    EXPECT_NE(check.output.find("warning: credential:"), std::string::npos) << check.output;

    // The endDateTime the tenant lists for containd's secret.
    std::optional<time_point> end;
    const json state = sim_request("GET", "/_sim/state").json();
    for (const auto& app : state["applications"])
        if (app["appId"] == client_id)
            for (const auto& p : app["passwordCredentials"]) end = parse_rfc3339(p["endDateTime"].get<std::string>());
    ASSERT_TRUE(end);

    start_daemon();
    const auto ready = readyz_after_check();
    EXPECT_EQ(ready.status, 200) << ready.body;
    const json contoso = ready.json()["tenants"]["contoso"];
    EXPECT_TRUE(contoso["healthy"].get<bool>()) << ready.body;
    EXPECT_TRUE(contoso["gaps"].empty()) << ready.body;
    ASSERT_EQ(contoso["warnings"].size(), 1u) << ready.body;
    EXPECT_NE(contoso["warnings"][0].get<std::string>().find("expires on"), std::string::npos) << ready.body;
    EXPECT_EQ(parse_rfc3339(contoso.value("credential_expires", "")), end) << ready.body;
    bool warning_row = false;
    for (const auto& row : contoso["checks"])
        warning_row = warning_row || (row["check"] == "credential" && row.value("warning", false));
    EXPECT_TRUE(warning_row) << ready.body;

    const std::string metrics = api->get("/metrics", "").body;
    const std::string sample = "containd_tenant_credential_expiry_timestamp_seconds{tenant=\"contoso\"} " +
                               std::to_string(to_unix_ms(*end) / 1000) + "\n";
    EXPECT_NE(metrics.find(sample), std::string::npos) << metrics;
    EXPECT_NE(metrics.find("containd_tenant_healthy{tenant=\"contoso\"} 1"), std::string::npos);
    if (std::filesystem::exists("/usr/bin/promtool")) {
        std::ofstream(dir / "metrics.txt") << metrics;
        const auto lint = run_command("/usr/bin/promtool check metrics < " + (dir / "metrics.txt").string());
        EXPECT_EQ(lint.exit_code, 0) << lint.output;
    }
    // A warning is not a change of health: no webhook.
    const std::lock_guard lock(mutex);
    EXPECT_TRUE(received.empty());
}

TEST(binaries, print_their_version) {
    const auto d = run_command(std::string(CONTAIND_EXE) + " --version");
    EXPECT_EQ(d.exit_code, 0);
    EXPECT_EQ(d.output.rfind("containd ", 0), 0u) << d.output;
    const auto s = run_command(std::string(CONTAIND_SIM_EXE) + " --version");
    EXPECT_EQ(s.exit_code, 0);
    EXPECT_EQ(s.output.rfind("containd-sim ", 0), 0u) << s.output;
    EXPECT_EQ(d.output.substr(9), s.output.substr(13)) << "one version for both";
}

}  // namespace
}  // namespace containd::testing
