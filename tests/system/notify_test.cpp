// Webhooks on the real binaries: containd and containd-sim, a real HTTPS receiver on loopback in
// this process (its own CA), two subscribers (generic JSON signed with a key from a file; Teams
// for containment, verdicts and release). The daemon is SIGKILLed right after the containment
// notification arrived and restarted; at the end every kind has arrived exactly once per
// subscriber (one delivery id per cause; a repeat of the same id is allowed, at least once),
// every signature verifies, and no secret (client secret, webhook key, API tokens, the
// temporary passwords revealed) is in any request.

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include "notify/notification.hpp"
#include "support/fake_https_server.hpp"
#include "support/system_fixture.hpp"

namespace containd::testing {
namespace {

using namespace system_test;
using nlohmann::json;

class notify_system : public system_fixture {
protected:
    std::vector<test::fake_request> requests() {
        const std::lock_guard lock(mutex);
        return received;
    }
    // subscriber path -> kind -> delivery ids seen per cause (payload id)
    std::map<std::string, std::map<std::string, std::map<std::string, std::set<std::string>>>> seen() {
        std::map<std::string, std::map<std::string, std::map<std::string, std::set<std::string>>>> out;
        for (const auto& r : requests()) {
            const std::string kind = r.header("x-containd-event").value_or("?");
            const std::string delivery = r.header("x-containd-delivery").value_or("?");
            // The cause: the generic payload says it; for Teams the kind and delivery suffice.
            std::string cause = delivery;
            if (r.path() == "/hooks/soc") cause = json::parse(r.body).value("id", "?");
            out[r.path()][kind][cause].insert(delivery);
        }
        return out;
    }
    bool wait_for(const std::function<bool()>& done, std::chrono::seconds limit = std::chrono::seconds(60)) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline) {
            if (done()) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return done();
    }

    std::mutex mutex;
    std::vector<test::fake_request> received;
};

TEST_F(notify_system, every_kind_arrives_once_per_subscriber_across_a_sigkill) {
    const std::string key = "webhook-key-" + random_uuid();
    start_sim({}, "client-secret-" + random_uuid());
    auto tls = test::make_loopback_tls();
    test::fake_https_server receiver(tls.server, [this](const test::fake_request& r) {
        const std::lock_guard lock(mutex);
        received.push_back(r);
        return test::fake_response::empty(200);
    });
    std::ofstream(dir / "hook-ca.pem") << tls.authority.ca().cert_pem;
    write_secret("webhook.key", key + "\n");
    config["notify"] = {{"poll_interval_s", 0.05},
                        {"retry_first_s", 0.2},
                        {"subscribers",
                         {{{"name", "soc"},
                           {"url", receiver.base_url() + "/hooks/soc"},
                           {"format", "json"},
                           {"secret_file", (dir / "webhook.key").string()},
                           {"ca_file", (dir / "hook-ca.pem").string()}},
                          {{"name", "teams"},
                           {"url", receiver.base_url() + "/hooks/teams"},
                           {"format", "teams"},
                           {"events", {"contained", "verification_verdict", "released"}},
                           {"ca_file", (dir / "hook-ca.pem").string()}}}}};
    start_daemon();

    json body = seeds_incident("NOTIFY-1");
    body["malicious_apps"][0]["delete_application"] = true;  // an approval to wait for
    auto created = api->post("/v1/incidents", submitter_token, body);
    ASSERT_EQ(created.status, 201) << created.body;
    const std::string id = created.json()["id"];

    // Killed as soon as the containment notification arrived: the rest is owed by the next process.
    ASSERT_TRUE(wait_for([&] { return seen()["/hooks/soc"].count("contained") > 0; }))
        << read_file(dir / "containd.log");
    daemon->kill_hard();
    daemon.reset();
    start_daemon();

    const std::string status = wait_final(id);
    ASSERT_EQ(status, "contained") << incident(id).dump(2);
    auto released =
        api->post("/v1/incidents/" + id + "/release", operator_token, {{"reason", "contained and verified"}});
    ASSERT_EQ(released.status, 202) << released.body;
    ASSERT_TRUE(wait_for([&] {
        auto s = seen();
        return s["/hooks/soc"].count("released") && s["/hooks/teams"].count("released");
    })) << read_file(dir / "containd.log");

    auto s = seen();
    const std::map<std::string, std::size_t> soc_kinds = {
        {"accepted", 1}, {"contained", 1}, {"approval_waiting", 1}, {"verification_verdict", 3}, {"released", 1}};
    for (const auto& [kind, n] : soc_kinds) EXPECT_EQ(s["/hooks/soc"][kind].size(), n) << kind;
    for (const char* kind : {"contained", "released"}) EXPECT_EQ(s["/hooks/teams"][kind].size(), 1u) << kind;
    EXPECT_EQ(s["/hooks/teams"]["verification_verdict"].size(), 3u);
    EXPECT_EQ(s["/hooks/teams"].count("accepted"), 0u);
    for (const auto& [path, kinds] : s)
        for (const auto& [kind, causes] : kinds)
            for (const auto& [cause, deliveries] : causes)
                EXPECT_EQ(deliveries.size(), 1u) << path << " " << kind << " " << cause << ": one delivery per cause";

    // The operator's view: every delivery delivered, none failed.
    auto listed = api->get("/v1/notifications?status=pending", viewer_token);
    ASSERT_EQ(listed.status, 200) << listed.body;
    EXPECT_TRUE(listed.json()["notifications"].empty()) << listed.body;
    auto metrics = api->get("/metrics", "").body;
    EXPECT_NE(metrics.find("containd_notifications{subscriber=\"soc\",state=\"delivered\"} 7"), std::string::npos)
        << metrics;
    // The Graph round trips of the incident, per tenant: a histogram that counted them.
    const std::string graph_count = "containd_graph_request_duration_seconds_count{tenant=\"contoso\"} ";
    const auto at = metrics.find(graph_count);
    ASSERT_NE(at, std::string::npos) << metrics;
    EXPECT_GT(std::stoull(metrics.substr(at + graph_count.size())), 10u) << metrics;
    // Every metric family has its HELP.
    std::istringstream lines(metrics);
    std::set<std::string> typed, helped;
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("# TYPE ", 0) == 0) typed.insert(line.substr(7, line.find(' ', 7) - 7));
        if (line.rfind("# HELP ", 0) == 0) helped.insert(line.substr(7, line.find(' ', 7) - 7));
    }
    EXPECT_GE(typed.size(), 15u);
    for (const auto& name : typed) EXPECT_TRUE(helped.count(name)) << name << " has no HELP";
    // promtool (deploy/setup.sh installs it) lints the whole exposition.
    if (std::filesystem::exists("/usr/bin/promtool")) {
        std::ofstream(dir / "metrics.txt") << metrics;
        const std::string cmd = "/usr/bin/promtool check metrics < " + (dir / "metrics.txt").string() + " 2>&1";
        FILE* p = popen(cmd.c_str(), "r");
        ASSERT_NE(p, nullptr);
        std::string lint;
        char buf[4096];
        while (std::size_t n = fread(buf, 1, sizeof buf, p)) lint.append(buf, n);
        EXPECT_EQ(pclose(p), 0) << lint;
        EXPECT_TRUE(lint.empty()) << lint;
    }

    // The log: the engine's steps with incident, step and tenant; API lines with the incident
    // and the client's address.
    int step_lines = 0, api_lines = 0;
    std::istringstream log(read_file(dir / "containd.log"));
    for (std::string line; std::getline(log, line);) {
        const json j = json::parse(line, nullptr, false);
        if (!j.is_object()) continue;
        const std::string ev = j.value("event", "");
        if ((ev == "step_started" || ev == "step_succeeded") && j.value("incident_id", "") == id &&
            j.value("tenant", "") == "contoso" && j.contains("step"))
            ++step_lines;
        if (ev == "api_request" && j.value("route", "") == "/v1/incidents/{id}" && j.value("incident_id", "") == id &&
            j.value("client", "").rfind("127.0.0.1:", 0) == 0)
            ++api_lines;
    }
    EXPECT_GE(step_lines, 40);
    EXPECT_GE(api_lines, 1);

    // Signatures, and no secret anywhere in what the receiver got.
    auto reveal = api->post("/v1/incidents/" + id + "/credentials/ap.clerk%40contoso.com/reveal", operator_token);
    ASSERT_EQ(reveal.status, 200) << reveal.body;
    std::vector<std::string> secrets = {client_secret, key, submitter_token, operator_token, viewer_token};
    for (const auto& c : reveal.json().value("credentials", json::array()))
        if (c.contains("value")) secrets.push_back(c["value"]);
    if (reveal.json().contains("value")) secrets.push_back(reveal.json()["value"]);
    ASSERT_GE(secrets.size(), 6u) << reveal.body;
    for (const auto& r : requests()) {
        if (r.path() == "/hooks/soc") {
            EXPECT_TRUE(notify::verify(key, r.header("x-containd-timestamp").value_or(""), r.body,
                                       r.header("x-containd-signature").value_or("")));
        }
        for (const auto& secret : secrets) {
            EXPECT_EQ(r.body.find(secret), std::string::npos) << "a secret in a webhook body";
            for (const auto& [name, value] : r.headers) EXPECT_EQ(value.find(secret), std::string::npos) << name;
        }
    }
}

}  // namespace
}  // namespace containd::testing
