#pragma once
// The real containd and containd-sim executables on loopback for system tests (tests/system/):
// a scratch directory, the simulator started with the seeds' scenario (extra arguments: faults,
// seed), the daemon's configuration as JSON the test may edit before start_daemon(), a REST
// client on the port the daemon reports, and the simulator's journal and control endpoints.
// Needs CONTAIND_SOURCE_DIR, CONTAIND_EXE and CONTAIND_SIM_EXE (tests/system.cmake).

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/crypto.hpp"
#include "core/ids.hpp"
#include "support/api_client.hpp"
#include "support/child_process.hpp"

namespace containd::testing {

namespace system_test {

inline constexpr const char* client_id = "0d6c4b8a-2e1f-4a3b-9c5d-7e8f9a0b1c2d";
inline constexpr const char* submitter_token = "system-test-submitter-token";
inline constexpr const char* operator_token = "system-test-operator-token";
inline constexpr const char* viewer_token = "system-test-viewer-token";

inline std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// config/demo/incident.json (the seeds' walkthrough incident) with this external_ref.
inline nlohmann::json seeds_incident(const std::string& external_ref) {
    std::ifstream in(std::string(CONTAIND_SOURCE_DIR) + "/config/demo/incident.json");
    nlohmann::json j = nlohmann::json::parse(in);
    j["external_ref"] = external_ref;
    return j;
}

inline std::uint16_t port_of(const std::string& url) {
    return static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
}

// A process's resident set (VmRSS of /proc/<pid>/status) in KiB, 0 when unknown.
inline long vm_rss_kib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return 0;
}

// How many file descriptors a process holds.
inline long open_fds(pid_t pid) {
    long n = 0;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
        ++n;
    return n;
}

inline bool is_final_status(const std::string& s) {
    return s == "contained" || s == "needs_attention" || s == "cancelled";
}

}  // namespace system_test

class system_fixture : public ::testing::Test {
protected:
    void SetUp() override {
        dir = std::filesystem::temp_directory_path() / ("containd-system-" + random_uuid());
        std::filesystem::create_directories(dir);
    }

    void TearDown() override {
        daemon.reset();
        sim.reset();
        if (!HasFailure() && !std::getenv("CONTAIND_KEEP_SYSTEM_DIR")) std::filesystem::remove_all(dir);
        else std::cerr << "kept " << dir << " for inspection\n";
    }

    // Starts containd-sim with the seeds' scenario (or `scenario`), the client secret written to
    // client.secret, and `extra` arguments (--seed, --fault ...). Then fills `config` with the
    // daemon's default configuration for it (edit it before start_daemon()).
    void start_sim(const std::vector<std::string>& extra = {}, std::string secret = {},
                   std::string scenario = CONTAIND_SOURCE_DIR "/config/scenarios/bec-walkthrough.json") {
        client_secret = secret.empty() ? "system-test-client-secret-" + random_uuid() : std::move(secret);
        std::ofstream(dir / "client.secret") << client_secret << "\n";
        std::vector<std::string> argv{CONTAIND_SIM_EXE, "--scenario", scenario, "--client-id", system_test::client_id,
                                      "--client-secret-file", (dir / "client.secret").string(), "--ca-out",
                                      (dir / "sim-ca.pem").string(), "--timing-scale", "100"};
        argv.insert(argv.end(), extra.begin(), extra.end());
        sim = std::make_unique<child_process>(argv, (dir / "sim.stderr").string());
        const nlohmann::json ready = sim->ready_line();
        ASSERT_TRUE(ready.is_object() && ready.contains("listening")) << system_test::read_file(dir / "sim.stderr");
        sim_url = ready["listening"];
        config = default_config(ready.value("tenant_id", ""));
    }

    nlohmann::json default_config(const std::string& tenant_id) const {
        return {{"database", (dir / "containd.db").string()},
                {"vault_key_file", (dir / "vault.key").string()},
                {"log", {{"file", (dir / "containd.log").string()}, {"level", "info"}}},
                {"api",
                 {{"bind_address", "127.0.0.1"},
                  {"port", 0},
                  {"tokens",
                   {{{"name", "soar"}, {"role", "submitter"}, {"sha256", sha256_hex(system_test::submitter_token)}},
                    {{"name", "ir-lead"}, {"role", "operator"}, {"sha256", sha256_hex(system_test::operator_token)}},
                    {{"name", "noc"}, {"role", "viewer"}, {"sha256", sha256_hex(system_test::viewer_token)}}}}}},
                {"engine", {{"attempt_timeout_s", 60}, {"step_deadline_s", 300}}},
                {"tenants",
                 {{{"name", "contoso"},
                   {"directory_tenant", tenant_id},
                   {"login_base", sim_url},
                   {"graph_base", sim_url},
                   {"client_id", system_test::client_id},
                   {"client_secret_file", (dir / "client.secret").string()},
                   {"ca_file", (dir / "sim-ca.pem").string()},
                   {"emergency_policy_id", "5e8a3c1f-0d2b-4f6e-9a7c-3b1d2e4f5a60"},
                   {"ir_named_locations", {"6d1f0a2b-3c4d-4e5f-8a9b-0c1d2e3f4a51"}},
                   {"break_glass_accounts", {"breakglass1@contoso.com", "breakglass2@contoso.com"}},
                   {"verification_schedule_s", {3, 6, 9}},
                   // Real time, scaled simulator: no ingestion allowance, tokens bounded at 1 s
                   // (the verdict's rules are tested on the manual clock, tests/integration).
                   {"ingestion_allowance_s", 0},
                   {"revocation_propagation_s", 5},
                   {"max_token_lifetime_s", 1}}}}};
    }

    // Writes `config` and starts containd; connects `api` to the port it reports.
    void start_daemon() {
        std::ofstream(dir / "containd.json") << config.dump(2);
        daemon = std::make_unique<child_process>(
            std::vector<std::string>{CONTAIND_EXE, "--config", (dir / "containd.json").string()},
            (dir / "containd.stderr").string());
        const nlohmann::json ready = daemon->ready_line();
        ASSERT_TRUE(ready.is_object() && ready.contains("listening"))
            << system_test::read_file(dir / "containd.stderr");
        api_port = system_test::port_of(ready["listening"]);
        api = std::make_unique<test::api_client>(api_port);
    }

    nlohmann::json incident(const std::string& id) {
        return api->get("/v1/incidents/" + id, reader_token).json();
    }

    // Polls until the incident is final; "timeout" after `limit`.
    std::string wait_final(const std::string& id, std::chrono::seconds limit = std::chrono::seconds(120)) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline) {
            const std::string status = incident(id).value("status", "");
            if (system_test::is_final_status(status)) return status;
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
        return "timeout";
    }

    // A request to the simulator (TLS against its CA): the /_sim control endpoints.
    test::api_response sim_request(const std::string& method, const std::string& target, const std::string& body = {}) {
        test::api_client raw(system_test::port_of(sim_url), system_test::read_file(dir / "sim-ca.pem"));
        test::header_list hs;
        if (!body.empty()) hs.emplace_back("Content-Type", "application/json");
        return raw.request(method, target, body, hs, std::chrono::milliseconds(30000));
    }
    nlohmann::json sim_journal() { return sim_request("GET", "/_sim/journal").json()["entries"]; }

    std::filesystem::path dir;
    std::string sim_url;
    std::string client_secret;
    nlohmann::json config;
    std::unique_ptr<child_process> sim;
    std::unique_ptr<child_process> daemon;
    std::uint16_t api_port = 0;
    std::unique_ptr<test::api_client> api;
    std::string reader_token = system_test::operator_token;  // what incident() and wait_final() read with
};

}  // namespace containd::testing
