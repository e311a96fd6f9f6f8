// Storage faults against the real daemon (RELIABILITY.md, "I/O errors"): EIO and ENOSPC on the
// writes and on the syncs of the database and its WAL, switched on and off while containd runs
// by the LD_PRELOAD shim (storage_fault_shim.cpp; only files under the database's path).
//
// While a fault is on: a submission gets a 503 application/problem+json with Retry-After, never
// a 2xx; /readyz is 503 "storage_unavailable"; /healthz stays 200. Once it is off: /readyz is
// ready again by itself, the same submission (same Idempotency-Key) is accepted once, and every
// incident, including the one whose steps were failing to commit meanwhile, finishes without a
// restart. Then a fault at a SIGKILL and a restart. At the end: I1-I5, integrity_check ok.

#include "support/system_fixture.hpp"

namespace containd::testing {
namespace {

using nlohmann::json;
using system_test::operator_token;
using system_test::submitter_token;

class StorageFaultSystem : public system_fixture {
protected:
    void set_fault(const std::string& spec) { std::ofstream(dir / "faults", std::ios::trunc) << spec << "\n"; }
    long injected() const { return shim_count("injected"); }
    bool wait_ready(std::chrono::milliseconds limit) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline) {
            if (api->get("/readyz", "").status == 200) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return false;
    }
};

TEST_F(StorageFaultSystem, eio_and_enospc_on_write_and_sync_give_a_503_never_a_2xx_and_the_daemon_recovers) {
    fresh_run();
    // One check instead of three: their sign-in reads are paced by the tenant (5 per 10 s).
    config["tenants"][0]["verification_schedule_s"] = json::array({1});
    ASSERT_TRUE(start_daemon(shim_env()));
    std::vector<std::string> accepted;
    auto first = api->post("/v1/incidents", submitter_token, system_test::seeds_incident("STORAGE-0"));
    ASSERT_EQ(first.status, 201) << first.body;
    accepted.push_back(first.json()["id"]);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // its steps are running

    int windows = 0;
    long injected_total = 0;
    for (const std::string mode : {"write=EIO", "write=ENOSPC", "sync=EIO", "sync=ENOSPC"}) {
        SCOPED_TRACE(mode);
        const long before = injected();
        set_fault(mode);
        ++windows;
        const std::string key = "storage-" + mode;
        const json body = system_test::seeds_incident("STORAGE-" + mode);
        auto refused = api->post("/v1/incidents", submitter_token, body, {{"Idempotency-Key", key}});
        EXPECT_EQ(refused.status, 503) << refused.body;
        EXPECT_EQ(refused.header("content-type"), "application/problem+json");
        EXPECT_EQ(refused.json().value("status", 0), 503);
        EXPECT_NE(refused.json().value("type", "").find("storage-unavailable"), std::string::npos) << refused.body;
        EXPECT_FALSE(refused.header("retry-after").empty());
        EXPECT_GT(injected(), before) << "the fault was injected";
        injected_total += injected() - before;

        const auto ready = api->get("/readyz", "");
        EXPECT_EQ(ready.status, 503);
        EXPECT_EQ(ready.json().value("status", ""), "storage_unavailable");
        EXPECT_EQ(api->get("/healthz", "").status, 200);
        EXPECT_EQ(api->get("/v1/incidents/" + accepted[0], operator_token).status, 200) << "reads work";
        std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the engine fails meanwhile
        EXPECT_EQ(api->get("/readyz", "").status, 503);

        set_fault("");
        EXPECT_TRUE(wait_ready(std::chrono::milliseconds(5000)));
        auto again = api->post("/v1/incidents", submitter_token, body, {{"Idempotency-Key", key}});
        ASSERT_TRUE(again.status == 201 || again.status == 200) << again.body;
        accepted.push_back(again.json()["id"]);
        auto replay = api->post("/v1/incidents", submitter_token, body, {{"Idempotency-Key", key}});
        EXPECT_EQ(replay.status, 200) << "one incident per key";
        EXPECT_EQ(replay.json().value("id", ""), accepted.back());
        // Cancelled at once: several walkthroughs at a time wait minutes on the tenant's paced
        // sign-in log reads (5 per 10 s), and the point here is the first incident's recovery.
        EXPECT_EQ(api->post("/v1/incidents/" + accepted.back() + "/cancel", operator_token).status, 200);
    }
    // Every incident finishes without a restart.
    for (const auto& id : accepted) EXPECT_NE(wait_final(id, std::chrono::seconds(120)), "timeout") << id;

    // A fault, a SIGKILL while it is on, a restart on a healthy disk.
    auto last = api->post("/v1/incidents", submitter_token, system_test::seeds_incident("STORAGE-KILL"));
    ASSERT_EQ(last.status, 201) << last.body;
    accepted.push_back(last.json()["id"]);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    set_fault("sync=EIO");
    ++windows;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    daemon->kill_hard();
    set_fault("");
    ASSERT_TRUE(start_daemon(shim_env()));
    EXPECT_EQ(api->get("/readyz", "").status, 200);
    for (const auto& id : accepted)
        EXPECT_EQ(api->get("/v1/incidents/" + id, operator_token).status, 200) << "I1 " << id;
    for (const auto& id : accepted) EXPECT_NE(wait_final(id, std::chrono::seconds(120)), "timeout") << id;
    std::cout << "storage faults: " << injected_total << " failed calls seen by the API's requests, " << windows
              << " fault windows, " << accepted.size() << " incidents" << std::endl;
    EXPECT_EQ(daemon->terminate(), 0);
    daemon.reset();

    const auto violations = check_after_run(accepted, windows);
    EXPECT_TRUE(violations.empty()) << ::testing::PrintToString(violations);
}

}  // namespace
}  // namespace containd::testing
