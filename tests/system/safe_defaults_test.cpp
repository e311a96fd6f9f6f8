// Safe defaults of the real daemon, whoever starts it (issue 15): no systemd in front here, the
// test process is the "shell".
//
// - Files the daemon creates (database, WAL, SHM, log, vault key) are 0600 under umask 022.
// - A secret file or the vault key readable by others, or a configuration writable by others,
//   refuses the start with a message naming the file.
// - A non-loopback bind without TLS refuses the start unless the config says so explicitly.
// - The TLS listener negotiates only forward-secret suites: openssl s_client offering any
//   non-ECDHE TLS 1.2 suite, or TLS 1.1, fails; the default negotiation is ECDHE (or TLS 1.3).
// - A token removed from the configuration gets 401 after SIGHUP (revocation without restart);
//   an invalid configuration at SIGHUP changes nothing.
// - A viewer's incident, list, events and report (JSON, Markdown, HTML) hold no evidence
//   contents: markers planted in the tenant (device names, a phone number, an inbox rule, a
//   sign-in's place and user agent) are in the operator's report and in none of the viewer's.

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <map>
#include <sstream>

#include <sys/stat.h>

#include "support/system_fixture.hpp"
#include "support/test_tls.hpp"

namespace containd::testing {
namespace {

namespace fs = std::filesystem;
using namespace system_test;
using nlohmann::json;

unsigned mode_of(const fs::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return 0;
    return st.st_mode & 07777u;
}

// Runs a shell command; its exit status and combined output.
std::pair<int, std::string> run(const std::string& command) {
    std::string out;
    FILE* p = ::popen((command + " 2>&1").c_str(), "r");
    if (!p) return {-1, ""};
    char buf[4096];
    while (const auto n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    const int status = ::pclose(p);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

class SafeDefaults : public system_fixture {
protected:
    void SetUp() override {
        system_fixture::SetUp();
        start_sim();
    }
    // Starts containd expecting it to refuse: its exit status and stderr.
    std::pair<int, std::string> refused_start() {
        if (start_daemon({}, false)) return {0, "the daemon started"};
        const int status = daemon->wait_exit(20000);
        daemon.reset();
        return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(dir / "containd.stderr")};
    }
};

TEST_F(SafeDefaults, files_the_daemon_creates_are_0600_under_umask_022) {
    const mode_t previous = ::umask(022);
    const bool started = start_daemon();
    ::umask(previous);
    ASSERT_TRUE(started);
    auto created = api->post("/v1/incidents", submitter_token, seeds_incident("UMASK-1"));
    ASSERT_EQ(created.status, 201) << created.body;  // a commit: the WAL and SHM exist now
    for (const char* f : {"containd.db", "containd.db-wal", "containd.db-shm", "containd.log", "vault.key"}) {
        ASSERT_TRUE(fs::exists(dir / f)) << f;
        EXPECT_EQ(mode_of(dir / f), 0600u) << f << " is " << std::oct << mode_of(dir / f);
    }
    // The control: the test's own file under the same umask is group and world readable.
    const mode_t again = ::umask(022);
    std::ofstream(dir / "control") << "x";
    ::umask(again);
    EXPECT_EQ(mode_of(dir / "control"), 0644u);
}

TEST_F(SafeDefaults, a_secret_file_readable_by_others_refuses_the_start_and_names_the_file) {
    fs::permissions(dir / "client.secret", fs::perms::others_read, fs::perm_options::add);
    auto [status, err] = refused_start();
    EXPECT_EQ(status, 1) << err;
    EXPECT_NE(err.find((dir / "client.secret").string()), std::string::npos) << err;
    EXPECT_NE(err.find("readable by others"), std::string::npos) << err;
    EXPECT_NE(err.find("0604"), std::string::npos) << "the mode is named: " << err;
    EXPECT_FALSE(fs::exists(dir / "containd.db")) << "refused before anything was created";

    // 0600 again: it starts, and creates the vault key 0600.
    fs::permissions(dir / "client.secret", fs::perms::owner_read | fs::perms::owner_write);
    ASSERT_TRUE(start_daemon());
    ASSERT_EQ(daemon->terminate(), 0);
    daemon.reset();

    // The vault key made readable by others: refused, naming it.
    fs::permissions(dir / "vault.key", fs::perms::others_read, fs::perm_options::add);
    std::tie(status, err) = refused_start();
    EXPECT_EQ(status, 1) << err;
    EXPECT_NE(err.find((dir / "vault.key").string()), std::string::npos) << err;
    fs::permissions(dir / "vault.key", fs::perms::owner_read | fs::perms::owner_write);

    // The configuration writable by others: refused, naming it. (start_daemon() rewrites the
    // file, which keeps its mode.)
    std::ofstream(dir / "containd.json") << config.dump(2);
    fs::permissions(dir / "containd.json", fs::perms::others_write, fs::perm_options::add);
    std::tie(status, err) = refused_start();
    EXPECT_EQ(status, 1) << err;
    EXPECT_NE(err.find((dir / "containd.json").string()), std::string::npos) << err;
    EXPECT_NE(err.find("writable by group or others"), std::string::npos) << err;
}

TEST_F(SafeDefaults, a_plaintext_bind_to_a_non_loopback_address_refuses_the_start) {
    config["api"]["bind_address"] = "0.0.0.0";
    auto [status, err] = refused_start();
    EXPECT_EQ(status, 2) << err;
    EXPECT_NE(err.find("api.bind_address"), std::string::npos) << err;
    EXPECT_NE(err.find("not a loopback address"), std::string::npos) << err;

    // Said explicitly in the configuration, it starts (e.g. behind a proxy on the same host).
    config["api"]["allow_plaintext_remote"] = true;
    ASSERT_TRUE(start_daemon());
    EXPECT_EQ(api->get("/healthz", "").status, 200);
}

TEST_F(SafeDefaults, the_tls_listener_negotiates_only_forward_secret_suites) {
    if (run("command -v openssl").first != 0) GTEST_SKIP() << "openssl is not installed";
    // An RSA leaf, so that RSA key exchange (AES128-GCM-SHA256 ...) and DHE-RSA would be possible
    // if the server allowed them.
    const test::test_ca ca("safe-defaults CA");
    const auto leaf = ca.issue({"IP:127.0.0.1", "DNS:localhost"}, "localhost", test::key_type::rsa_2048);
    std::ofstream(dir / "api.crt") << leaf.cert_pem;
    std::ofstream(dir / "api.key") << leaf.key_pem;
    std::ofstream(dir / "api-ca.pem") << ca.ca().cert_pem;
    fs::permissions(dir / "api.key", fs::perms::owner_read | fs::perms::owner_write);
    config["api"]["tls_cert_file"] = (dir / "api.crt").string();
    config["api"]["tls_key_file"] = (dir / "api.key").string();
    ASSERT_TRUE(start_daemon());
    const std::string connect = "openssl s_client -connect 127.0.0.1:" + std::to_string(api_port) + " -CAfile " +
                                (dir / "api-ca.pem").string() + " -verify_return_error";
    const auto s_client = [&](const std::string& args) { return run("echo | " + connect + " " + args); };

    // The default handshake succeeds with a forward-secret suite.
    auto [ok, text] = s_client("-tls1_2");
    ASSERT_EQ(ok, 0) << text;
    EXPECT_NE(text.find("ECDHE-"), std::string::npos) << text;
    std::tie(ok, text) = s_client("-tls1_3");
    EXPECT_EQ(ok, 0) << text;
    EXPECT_NE(text.find("TLSv1.3"), std::string::npos) << text;

    // Every TLS 1.2 suite this OpenSSL knows that is not ECDHE: refused, one at a time.
    const auto [listed, suites] = run("openssl ciphers -tls1_2 'ALL:COMPLEMENTOFALL:@SECLEVEL=0'");
    ASSERT_EQ(listed, 0) << suites;
    std::stringstream names(suites);
    std::string name;
    int tried = 0;
    while (std::getline(names, name, ':')) {
        while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
        if (name.empty() || name.rfind("ECDHE-", 0) == 0 || name.rfind("TLS_", 0) == 0) continue;
        ++tried;
        const auto [status, out] = s_client("-tls1_2 -cipher '" + name + ":@SECLEVEL=0'");
        EXPECT_NE(status, 0) << name << " was negotiated:\n" << out;
    }
    EXPECT_GT(tried, 10) << "the non-ECDHE suites were offered: " << suites;
    // Older protocols are refused whatever the suite.
    std::tie(ok, text) = s_client("-tls1_1 -cipher 'ALL:@SECLEVEL=0'");
    EXPECT_NE(ok, 0) << text;
}

TEST_F(SafeDefaults, a_token_removed_from_the_config_gets_401_after_sighup) {
    ASSERT_TRUE(start_daemon());
    EXPECT_EQ(api->get("/v1/incidents", viewer_token).status, 200);

    // An invalid configuration at SIGHUP changes nothing (the same hash twice is an error).
    auto broken = config;
    broken["api"]["tokens"].push_back(broken["api"]["tokens"][0]);
    std::ofstream(dir / "containd.json", std::ios::trunc) << broken.dump(2);
    daemon->send(SIGHUP);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (read_file(dir / "containd.log").find("config_reload_failed") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_NE(read_file(dir / "containd.log").find("duplicate"), std::string::npos) << read_file(dir / "containd.log");
    EXPECT_EQ(api->get("/v1/incidents", viewer_token).status, 200) << "the tokens in force are kept";

    // The viewer's token removed: 401 from the next request on, the others still work.
    auto revoked = config;
    auto& tokens = revoked["api"]["tokens"];
    for (auto it = tokens.begin(); it != tokens.end();) it = (*it)["role"] == "viewer" ? tokens.erase(it) : it + 1;
    std::ofstream(dir / "containd.json", std::ios::trunc) << revoked.dump(2);
    daemon->send(SIGHUP);
    int status = 200;
    while (std::chrono::steady_clock::now() < deadline) {
        status = api->get("/v1/incidents", viewer_token).status;
        if (status == 401) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_EQ(status, 401);
    EXPECT_EQ(api->get("/v1/incidents", operator_token).status, 200);
    EXPECT_NE(read_file(dir / "containd.log").find("tokens_reloaded"), std::string::npos);
    EXPECT_TRUE(daemon->running()) << "SIGHUP does not stop the daemon";
}

class ViewerRedaction : public system_fixture {};

TEST_F(ViewerRedaction, a_viewers_documents_hold_no_evidence_contents) {
    // The walkthrough with markers planted where evidence comes from.
    const std::string r = random_uuid().substr(0, 8);
    std::map<std::string, std::string> markers = {{"device", "MARKER-KEY-" + r},
                                                  {"authenticator", "MARKER-PHONEAPP-" + r},
                                                  {"phone", "+234 8031234567"},
                                                  {"inbox rule", "MARKER-RULE-" + r},
                                                  {"forwarding address", "marker-fwd-" + r + "@mail-relay.example"},
                                                  {"sign-in place", "MARKER-CITY-" + r},
                                                  {"sign-in user agent", "MARKER-UA-" + r}};
    json scenario = json::parse(read_file(CONTAIND_SOURCE_DIR "/config/scenarios/bec-walkthrough.json"));
    for (auto& u : scenario["users"]) {
        if (u["userPrincipalName"] == "finance.director@contoso.com")
            for (auto& m : u["authentication_methods"]) {
                if (m["@odata.type"] == "fido2") m["displayName"] = m["model"] = markers["device"];
                if (m["@odata.type"] == "microsoftAuthenticator") m["displayName"] = markers["authenticator"];
            }
        if (u["userPrincipalName"] == "ap.clerk@contoso.com") {
            auto& rule = u["inbox_rules"][0];
            rule["displayName"] = markers["inbox rule"];
            rule["actions"]["forwardTo"][0]["emailAddress"]["address"] = markers["forwarding address"];
        }
    }
    for (auto& a : scenario["activity"]) {
        if (a.value("actor", "") != "attacker") continue;
        if (a.contains("location")) a["location"]["city"] = markers["sign-in place"];
        a["userAgent"] = a.value("userAgent", std::string()) + " " + markers["sign-in user agent"];
    }
    std::ofstream(dir / "scenario.json") << scenario.dump();
    start_sim({}, {}, (dir / "scenario.json").string());
    ASSERT_TRUE(start_daemon());
    auto created = api->post("/v1/incidents", submitter_token, seeds_incident("VIEWER-1"));
    ASSERT_EQ(created.status, 201) << created.body;
    const std::string id = created.json()["id"];
    ASSERT_NE(wait_final(id), "timeout");

    // The control: the operator's report holds the evidence (so the search below can fail).
    const std::string full = api->get("/v1/incidents/" + id + "/report", operator_token).body;
    std::vector<std::string> captured;
    for (const auto& [what, marker] : markers)
        if (full.find(marker) != std::string::npos)
            captured.push_back(what);
        else
            std::cout << "not captured as evidence by this run: " << what << std::endl;
    for (const char* must : {"device", "phone", "inbox rule"})
        EXPECT_NE(std::find(captured.begin(), captured.end(), must), captured.end())
            << must << " is not in the operator's report: the markers are not planted where evidence comes from";

    std::map<std::string, std::string> seen;  // what the viewer got, by request
    const std::vector<std::string> targets = {"/v1/incidents/" + id,
                                              "/v1/incidents?limit=50",
                                              "/v1/incidents/" + id + "/events",
                                              "/v1/incidents/" + id + "/report",
                                              "/v1/incidents/" + id + "/report?format=md",
                                              "/v1/incidents/" + id + "/report?format=html"};
    for (const auto& target : targets) {
        const auto res = api->get(target, viewer_token);
        EXPECT_EQ(res.status, 200) << target << ": " << res.body;
        seen[target] = res.body;
    }
    // Twice for the incident: the second answer comes from the view cache.
    seen["/v1/incidents/{id} (cached)"] = api->get("/v1/incidents/" + id, viewer_token).body;
    for (const auto& [target, body] : seen)
        for (const auto& what : captured)
            EXPECT_EQ(body.find(markers[what]), std::string::npos)
                << "the viewer's " << target << " holds the " << what;

    // What a viewer does see: status, phases, timings, verdicts and counts.
    const json doc = json::parse(seen["/v1/incidents/" + id]);
    EXPECT_TRUE(is_final_status(doc.value("status", ""))) << doc.dump();
    EXPECT_EQ(doc.value("redacted_for", ""), "viewer");
    EXPECT_FALSE(doc["steps"].empty());
    for (const auto& check : doc["verification"]) EXPECT_NE(check.value("verdict", "pending"), "pending");
    const json report = json::parse(seen["/v1/incidents/" + id + "/report"]);
    EXPECT_FALSE(report["evidence"].empty()) << "the evidence is listed, without its contents";
    for (const auto& e : report["evidence"]) EXPECT_TRUE(e["content"].is_null()) << e.dump();
    // The operator still sees everything, from the same cache.
    EXPECT_EQ(api->get("/v1/incidents/" + id, operator_token).json().value("redacted_for", ""), "");
}

}  // namespace
}  // namespace containd::testing
