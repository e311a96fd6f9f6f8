#pragma once
// In-process simulator on loopback (port 0) with the walkthrough scenario, a manual clock and a
// plain HTTPS client that trusts the simulator's generated CA.

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "core/crypto.hpp"
#include "core/time.hpp"
#include "sim/simulator.hpp"
#include "support/sim_test_client.hpp"

namespace containd::test {

inline const char* k_tenant_id = "8f3c2a51-6b7d-4e9a-a1c4-2d5e7f9b0c13";
inline const char* k_client_id = "0d6c4b8a-2e1f-4a3b-9c5d-7e8f9a0b1c2d";  // "containd IR automation"
inline const char* k_client_secret = "s3cr3t~containd-test-client";
inline const char* k_fd_id = "0b1e7c6a-3f2d-4e51-9a8b-1c2d3e4f5a04";      // finance.director
inline const char* k_clerk_id = "0b1e7c6a-3f2d-4e51-9a8b-1c2d3e4f5a05";   // ap.clerk
inline const char* k_proc_id = "0b1e7c6a-3f2d-4e51-9a8b-1c2d3e4f5a06";    // procurement.mgr (synced)
inline const char* k_cfo_id = "0b1e7c6a-3f2d-4e51-9a8b-1c2d3e4f5a07";     // cfo.assistant
inline const char* k_policy_id = "5e8a3c1f-0d2b-4f6e-9a7c-3b1d2e4f5a60";  // emergency policy
inline const char* k_ir_location = "6d1f0a2b-3c4d-4e5f-8a9b-0c1d2e3f4a51";
inline const char* k_dsp_app_id = "c7a1e5d2-9b3f-4a6c-8e1d-2f5b7c9a0e34";  // Document Sync Pro appId
inline const char* k_dsp_object = "4c2b1a09-8e7d-4f6c-9b5a-3d2e1f0a9b81";
inline const char* k_dsp_sp = "7b6a5c4d-0001-4e3f-9a2b-1c0d9e8f7a91";

inline nlohmann::json load_walkthrough() {
    std::ifstream in(CONTAIND_SIM_SCENARIO);
    std::stringstream ss;
    ss << in.rdbuf();
    return nlohmann::json::parse(ss.str());
}

inline time_point t0() { return *parse_rfc3339("2026-03-18T10:00:00Z"); }

class sim_fixture : public ::testing::Test {
protected:
    manual_clock clock{t0()};
    std::unique_ptr<sim::simulator> sim;
    std::unique_ptr<sim_test_client> client;
    std::string token;
    test_certificate cert = make_test_certificate();

    virtual nlohmann::json scenario() { return load_walkthrough(); }
    virtual sim::timing timings() { return {}; }

    void SetUp() override { start(); }

    void start(int threads = 1) {
        sim::options o;
        o.scenario = scenario();
        o.clients.push_back({k_client_id, k_client_secret, cert.cert_pem});
        o.times = timings();
        o.seed = 42;
        o.threads = threads;
        sim = std::make_unique<sim::simulator>(o, clock);
        sim->start();
        client = std::make_unique<sim_test_client>("127.0.0.1", sim->port(), sim->ca_certificate_pem());
        token = client->token_with_secret(k_tenant_id, k_client_id, k_client_secret);
        ASSERT_FALSE(token.empty());
    }

    sim_response get(const std::string& target, std::vector<std::pair<std::string, std::string>> h = {}) {
        return client->graph("GET", target, token, nullptr, std::move(h));
    }
    sim_response post(const std::string& target, const nlohmann::json& body = nullptr) {
        return client->graph("POST", target, token, body);
    }
    sim_response patch(const std::string& target, const nlohmann::json& body) {
        return client->graph("PATCH", target, token, body);
    }
    sim_response del(const std::string& target) { return client->graph("DELETE", target, token); }
};

}  // namespace containd::test
