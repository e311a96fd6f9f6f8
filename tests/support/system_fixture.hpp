#pragma once
// The one fixture of the system tests (tests/system/): the real containd and containd-sim
// executables on loopback in a scratch directory, the simulator started with the seeds' scenario
// (extra arguments: faults, seed, --crash-points), the daemon's configuration as JSON the test may
// edit before start_daemon() (extra environment: the storage fault shim, libfaketime), a REST
// client on the port the daemon reports, the simulator's journal and control endpoints, and the
// checks a run ends with (I1, I2/I4 from the database, I5 from the journal). Or containd with its
// built-in simulated tenant on a scaled clock (prepare_builtin_simulator(), then
// start_builtin_simulator()), the same control endpoints on the URL its ready line gives.
// Needs CONTAIND_SOURCE_DIR, CONTAIND_EXE, CONTAIND_SIM_EXE and CONTAIND_FAULT_SHIM
// (tests/system.cmake gives them to every system test).

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "core/crypto.hpp"
#include "core/ids.hpp"
#include "core/time.hpp"
#include "store/store.hpp"
#include "store/vault.hpp"
#include "support/api_client.hpp"
#include "support/child_process.hpp"
#include "support/invariants.hpp"

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

// The walkthrough's incident as the built-in-simulator suites submit it: config/demo/incident.json
// without breakglass1, i.e. what the in-process scenarios submit (the four finance accounts, both
// attacker IPs, Document Sync Pro).
inline nlohmann::json walkthrough_incident(const std::string& external_ref) {
    nlohmann::json j = seeds_incident(external_ref);
    nlohmann::json accounts = nlohmann::json::array();
    for (const auto& a : j["accounts"])
        if (a.value("upn", "") != "breakglass1@contoso.com") accounts.push_back({{"upn", a["upn"]}});
    j["accounts"] = accounts;
    return j;
}

// The built-in simulated tenant's clock: 240 times faster by default; CONTAIND_VERIFY_TIME_SCALE=120
// gives a very slow machine twice the real time per step (a containment step must finish within
// its 300 s deadline on the scaled clock: 1.25 s of real time at 240x; the slowest took about
// 0.14 s with six daemons on two cores).
inline double simulated_time_scale() {
    const char* env = std::getenv("CONTAIND_VERIFY_TIME_SCALE");
    return env ? std::strtod(env, nullptr) : 240.0;
}

// The built-in simulator's seed (its draws: ids, ingestion delays, lifetimes): 20261204 unless
// CONTAIND_VERIFY_SEED says otherwise (the same variable that replays the in-process scenarios).
// Printed, with the time scale, for the scenario `name`.
inline std::uint64_t simulated_seed(const std::string& name) {
    std::uint64_t seed = 20261204;
    if (const char* env = std::getenv("CONTAIND_VERIFY_SEED")) seed = std::strtoull(env, nullptr, 10);
    std::cout << "[ seed       ] " << name << ": " << seed << " (replay: CONTAIND_VERIFY_SEED=" << seed
              << "); time scale " << simulated_time_scale() << std::endl;
    return seed;
}

// A time field of an API document or of the simulator's state; nullopt when absent or null.
inline std::optional<time_point> time_of(const nlohmann::json& j, const char* key) {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    return parse_rfc3339(it->get<std::string>());
}

// Whether one of `lines` (a JSON array of strings) contains `text`.
inline bool mentions(const nlohmann::json& lines, const std::string& text) {
    if (!lines.is_array()) return false;
    return std::any_of(lines.begin(), lines.end(), [&](const nlohmann::json& l) {
        return l.is_string() && l.get<std::string>().find(text) != std::string::npos;
    });
}

// An incident document for a failure message: status, the verification checks, attention.
inline std::string describe(const nlohmann::json& doc) {
    std::string out = "status " + doc.value("status", "?") + ", contained_at " +
                      doc.value("contained_at", nlohmann::json("?")).dump();
    for (const auto& c : doc.value("verification", nlohmann::json::array())) {
        out += "\n  " + c.value("check", "?") + (c.value("confirmation", false) ? " (confirmation)" : "") + " [" +
               c.value("status", "?") + "] ran " + c.value("ran_at", nlohmann::json()).dump() + ": " +
               c.value("verdict", "?") + ", settled through " + c.value("settled_through", nlohmann::json()).dump();
        for (const auto& d : c.value("diagnosis", nlohmann::json::array())) out += "\n      " + d.get<std::string>();
    }
    for (const auto& a : doc.value("attention", nlohmann::json::array()))
        out += "\n  attention: " + a.get<std::string>();
    return out;
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
        if (!HasFailure() && !std::getenv("CONTAIND_KEEP_SYSTEM_DIR"))
            std::filesystem::remove_all(dir);
        else
            std::cerr << "kept " << dir << " for inspection\n";
    }

    // Starts containd-sim with the seeds' scenario (or `scenario`), the client secret written to
    // client.secret, and `extra` arguments (--seed, --fault ...). Then fills `config` with the
    // daemon's default configuration for it (edit it before start_daemon()).
    void start_sim(const std::vector<std::string>& extra = {}, std::string secret = {},
                   std::string scenario = CONTAIND_SOURCE_DIR "/config/scenarios/bec-walkthrough.json") {
        client_secret = secret.empty() ? "system-test-client-secret-" + random_uuid() : std::move(secret);
        write_secret("client.secret", client_secret + "\n");
        std::vector<std::string> argv{CONTAIND_SIM_EXE,
                                      "--scenario",
                                      scenario,
                                      "--client-id",
                                      system_test::client_id,
                                      "--client-secret-file",
                                      (dir / "client.secret").string(),
                                      "--ca-out",
                                      (dir / "sim-ca.pem").string(),
                                      "--timing-scale",
                                      "100"};
        argv.insert(argv.end(), extra.begin(), extra.end());
        sim = std::make_unique<child_process>(argv, (dir / "sim.stderr").string());
        const nlohmann::json ready = sim->ready_line();
        ASSERT_TRUE(ready.is_object() && ready.contains("listening")) << system_test::read_file(dir / "sim.stderr");
        sim_url = ready["listening"];
        config = default_config(ready.value("tenant_id", ""));
    }

    // Writes a secret file in `dir`, 0600 whatever the test's umask (containd refuses to start
    // with a secret file others can read); returns its path.
    std::filesystem::path write_secret(const std::string& name, const std::string& content) const {
        const auto path = dir / name;
        std::ofstream(path, std::ios::trunc) << content;
        std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
        return path;
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

    // Writes `config`, starts containd (extra environment: "NAME=value") and connects `api` to
    // the port it reports. With expect_ready false the daemon may die before it listens (a crash
    // point during start-up, a refused configuration): returns false then, without a failure.
    bool start_daemon(const std::vector<std::string>& env = {}, bool expect_ready = true) {
        std::ofstream(dir / "containd.json") << config.dump(2);
        daemon = std::make_unique<child_process>(
            std::vector<std::string>{CONTAIND_EXE, "--config", (dir / "containd.json").string()},
            (dir / "containd.stderr").string(), env);
        const nlohmann::json ready = daemon->ready_line();
        const bool ok = ready.is_object() && ready.contains("listening");
        if (expect_ready) {
            EXPECT_TRUE(ok) << system_test::read_file(dir / "containd.stderr");
        }
        if (!ok) return false;
        api_port = system_test::port_of(ready["listening"]);
        api = std::make_unique<test::api_client>(api_port);
        if (ready.contains("simulated_tenant")) {
            sim_url = ready["simulated_tenant"];
            builtin_simulator = true;
        }
        return true;
    }

    // containd with its built-in simulated tenant (config "simulator") instead of containd-sim:
    // fills `config` (the URLs the simulator fills in left out; the production verification
    // rules: 10-minute ingestion allowance, 15-minute propagation, 90-minute maximum token
    // lifetime; the +15/+30/+60 schedule) and `sim_scenario` (config/scenarios/bec-walkthrough.json
    // without its attacker activity). Edit them, then start_builtin_simulator().
    void prepare_builtin_simulator() {
        write_secret("client.secret", "system-test-secret-" + random_uuid() + "\n");
        config = default_config("contoso.onmicrosoft.com");
        auto& tenant = config["tenants"][0];
        for (const char* k : {"login_base", "graph_base", "ca_file", "ingestion_allowance_s",
                              "revocation_propagation_s", "max_token_lifetime_s"})
            tenant.erase(k);
        tenant["verification_schedule_s"] = {900, 1800, 3600};
        sim_scenario =
            nlohmann::json::parse(system_test::read_file(CONTAIND_SOURCE_DIR "/config/scenarios/bec-walkthrough.json"));
        nlohmann::json kept = nlohmann::json::array();
        for (const auto& a : sim_scenario["activity"])
            if (a.value("actor", "") != "attacker") kept.push_back(a);
        sim_scenario["activity"] = kept;
    }

    // Writes `sim_scenario` and starts containd on it (the clock system_test::simulated_time_scale()
    // times faster, the seed printed for `name`); `sim_url` is then the simulator's.
    bool start_builtin_simulator(const std::string& name) {
        const std::uint64_t seed = system_test::simulated_seed(name);
        std::ofstream(dir / "scenario.json") << sim_scenario.dump(2);
        config["simulator"] = {{"scenario", (dir / "scenario.json").string()},
                               {"time_scale", system_test::simulated_time_scale()},
                               {"seed", seed}};
        if (!start_daemon()) return false;
        EXPECT_TRUE(builtin_simulator) << "containd did not start its simulated tenant: "
                                       << system_test::read_file(dir / "containd.stderr");
        return builtin_simulator;
    }

    // A fresh simulated tenant (the walkthrough scenario, crash points allowed) and a fresh
    // database: one run of the fault suites.
    void fresh_run() {
        daemon.reset();
        sim.reset();
        for (const char* f : {"containd.db", "containd.db-wal", "containd.db-shm", "vault.key"})
            std::filesystem::remove(dir / f);
        start_sim({"--crash-points"});
    }

    // The incident document; an empty object when the daemon did not answer (it may just have died).
    nlohmann::json incident(const std::string& id) {
        auto doc = api->get("/v1/incidents/" + id, reader_token).json();
        return doc.is_object() ? doc : nlohmann::json::object();
    }

    // Polls the incident (every 100 ms) until `done` holds or `limit` passes; the last document.
    nlohmann::json poll(const std::string& id, const std::function<bool(const nlohmann::json&)>& done,
                        std::chrono::seconds limit = std::chrono::seconds(240)) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        nlohmann::json doc = incident(id);
        while (!done(doc) && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            doc = incident(id);
        }
        return doc;
    }

    // POST .../credentials/{upn}/reveal through the 202s of a TAP being issued (a TAP is issued by
    // its first reveal; 30 s at most); the last answer.
    test::api_response reveal_credential(const std::string& target, const std::string& token) {
        auto r = api->post(target, token);
        for (int tries = 0; r.status == 202 && tries < 300; ++tries) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            r = api->post(target, token);
        }
        return r;
    }

    // Polls until the incident is final; "timeout" after `limit`.
    std::string wait_final(const std::string& id, std::chrono::seconds limit = std::chrono::seconds(120)) {
        const auto final_status = [](const nlohmann::json& doc) {
            return system_test::is_final_status(doc.value("status", ""));
        };
        const nlohmann::json doc = poll(id, final_status, limit);
        return final_status(doc) ? doc.value("status", "") : "timeout";
    }

    // A request to the simulator: the /_sim control endpoints. containd-sim's is TLS against its
    // CA; the built-in simulator's CA lives only in the daemon's memory, so its peer is not
    // verified (a loopback read of test-only ground truth, or a fault rule; nothing secret sent).
    test::api_response sim_request(const std::string& method, const std::string& target, const std::string& body = {}) {
        const auto port = system_test::port_of(sim_url);
        auto raw = builtin_simulator
                       ? std::make_unique<test::api_client>(port, test::unverified_tls)
                       : std::make_unique<test::api_client>(port, system_test::read_file(dir / "sim-ca.pem"));
        test::header_list hs;
        if (!body.empty()) hs.emplace_back("Content-Type", "application/json");
        return raw->request(method, target, body, hs, std::chrono::milliseconds(30000));
    }
    nlohmann::json sim_journal() { return sim_request("GET", "/_sim/journal").json()["entries"]; }
    // What the simulated tenant holds now (users, policies, sign-ins, the attacker's ground truth).
    nlohmann::json sim_state() {
        const auto r = sim_request("GET", "/_sim/state");
        EXPECT_EQ(r.status, 200) << sim_url << "/_sim/state: " << r.error << r.body;
        return r.json();
    }

    // The database as the daemon left it (opening it recovers the WAL, as the next start would):
    // integrity_check, then I1 (every accepted incident is there) and I2/I4 for each. Returns the
    // violations.
    std::vector<std::string> database_violations(const std::vector<std::string>& accepted,
                                                 bool containment_succeeded = false) {
        std::vector<std::string> out;
        manual_clock clock(std::chrono::system_clock::now());
        store::store db((dir / "containd.db").string(), clock,
                        store::vault::from_key_file((dir / "vault.key").string()));
        if (const auto i = db.integrity_check(); i != "ok") out.push_back("integrity: " + i);
        for (const auto& id : accepted) {
            if (!db.get_incident(id)) {
                out.push_back("I1: incident " + id + " is gone");
                continue;
            }
            for (auto& v : check_invariants(db, id)) out.push_back(id + ": " + v);
            if (!containment_succeeded || db.get_incident(id)->status == store::incident_status::cancelled) continue;
            for (const auto& s : db.steps(id))
                if (s.kind != incident::step_kind::verify_signins && s.status != store::step_status::succeeded)
                    out.push_back(id + ": step " + std::to_string(s.seq) + " " + std::string(to_string(s.status)) +
                                  ": " + s.error);
        }
        return out;
    }

    // After the run (daemon stopped): database_violations() with every containment step
    // succeeded unless cancelled (only a check's verdict may ask for a human); I5 from the
    // journal: no account's password reset was sent more than once per incident plus once per
    // crash, and with one incident every repeat re-sent the same password. Returns the violations.
    std::vector<std::string> check_after_run(const std::vector<std::string>& accepted, int crashes) {
        std::vector<std::string> out = database_violations(accepted, true);
        std::map<std::string, std::vector<std::string>> passwords;
        for (const auto& e : sim_journal()) {
            const std::string body = e.value("body", "");
            if (e["method"] == "PATCH" && body.find("passwordProfile") != std::string::npos)
                passwords[e["path"].get<std::string>()].push_back(body);
        }
        for (const auto& [path, bodies] : passwords) {
            if (static_cast<int>(bodies.size()) > static_cast<int>(accepted.size()) * (1 + crashes))
                out.push_back("I5: " + path + " reset " + std::to_string(bodies.size()) + " times");
            // One incident: a repeat re-sends the same password (the journal keeps its hash).
            if (accepted.size() == 1 && std::set<std::string>(bodies.begin(), bodies.end()).size() != 1)
                out.push_back("I5: " + path + " was sent different passwords");
        }
        return out;
    }

    // The storage fault shim for the daemon (tests/system/storage_fault_shim.cpp): counts in
    // dir/counts, faults from dir/faults, and with kill_at_sync a SIGKILL on entering that sync.
    std::vector<std::string> shim_env(std::optional<long> kill_at_sync = std::nullopt) const {
        std::vector<std::string> env{
            std::string("LD_PRELOAD=") + CONTAIND_FAULT_SHIM, "CONTAIND_SHIM_MATCH=" + (dir / "containd.db").string(),
            "CONTAIND_SHIM_CONTROL=" + (dir / "faults").string(), "CONTAIND_SHIM_COUNT=" + (dir / "counts").string(),
            "ASAN_OPTIONS=verify_asan_link_order=0"};
        if (kill_at_sync) env.push_back("CONTAIND_SHIM_KILL_AT_SYNC=" + std::to_string(*kill_at_sync));
        return env;
    }
    // A counter of the shim's dir/counts ("syncs", "writes", "injected"); 0 before the first.
    long shim_count(const std::string& name) const {
        const std::string text = system_test::read_file(dir / "counts");
        const auto at = text.find(name + "=");
        return at == std::string::npos ? 0 : std::stol(text.substr(at + name.size() + 1));
    }

    std::filesystem::path dir;
    std::string sim_url;
    bool builtin_simulator = false;  // sim_url is containd's built-in simulated tenant
    nlohmann::json sim_scenario;     // the built-in simulator's (prepare_builtin_simulator())
    std::string client_secret;
    nlohmann::json config;
    std::unique_ptr<child_process> sim;
    std::unique_ptr<child_process> daemon;
    std::uint16_t api_port = 0;
    std::unique_ptr<test::api_client> api;
    std::string reader_token = system_test::operator_token;  // what incident() and wait_final() read with
};

}  // namespace containd::testing
