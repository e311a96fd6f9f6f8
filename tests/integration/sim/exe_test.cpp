// The containd-sim executable as a user runs it: starts quickly with the walkthrough scenario,
// reports where it listens on one JSON line, issues tokens to the registered client, serves
// Graph over TLS that verifies against the CA it wrote, and stops on SIGTERM.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "support/child_process.hpp"
#include "support/sim_test_client.hpp"

namespace containd::test {
namespace {

namespace fs = std::filesystem;
using testing::child_process;

constexpr const char* client_id = "0d6c4b8a-2e1f-4a3b-9c5d-7e8f9a0b1c2d";
constexpr const char* tenant_id = "8f3c2a51-6b7d-4e9a-a1c4-2d5e7f9b0c13";

std::string read_file(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

TEST(SimExecutable, starts_reports_serves_and_stops_on_sigterm) {
    const fs::path dir = fs::temp_directory_path() / ("containd-sim-exe-" + std::to_string(getpid()));
    fs::create_directories(dir);
    std::ofstream(dir / "client.secret") << "exe-test-secret\n";
    child_process sim({CONTAIND_SIM_EXE, "--scenario", CONTAIND_SIM_SCENARIO, "--client-id", client_id,
                       "--client-secret-file", (dir / "client.secret").string(), "--ca-out", (dir / "ca.pem").string()},
                      (dir / "sim.stderr").string());
    const auto ready = sim.ready_line();
    ASSERT_TRUE(ready.is_object() && ready.contains("listening")) << ready.dump();
    const std::string url = ready["listening"];
    ASSERT_EQ(url.rfind("https://127.0.0.1:", 0), 0u) << url;
    const auto port = static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
    EXPECT_EQ(ready.value("tenant_id", ""), tenant_id);

    const std::string ca = read_file(dir / "ca.pem");
    ASSERT_NE(ca.find("BEGIN CERTIFICATE"), std::string::npos);
    sim_test_client client("127.0.0.1", port, ca);
    sim_response token_response;
    EXPECT_TRUE(client.token_with_secret(tenant_id, client_id, "wrong-secret", &token_response).empty());
    EXPECT_EQ(token_response.status, 401) << token_response.body;
    const auto token = client.token_with_secret(tenant_id, client_id, "exe-test-secret");
    ASSERT_FALSE(token.empty());
    auto r = client.graph("GET", "/v1.0/users/finance.director@contoso.com", token);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json().value("displayName", ""), "Morgan Lee") << r.body;

    const int status = sim.terminate();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    fs::remove_all(dir);
}

}  // namespace
}  // namespace containd::test
