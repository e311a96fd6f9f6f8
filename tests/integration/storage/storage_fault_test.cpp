// Storage faults in process (RELIABILITY.md, "I/O errors"): a SQLite VFS fails writes (disk full)
// or syncs (I/O error) under the real store, engine and API.
//
// - The store: a failed commit throws, leaves nothing behind, marks the storage failing until a
//   write commits again; store::atomically is all or nothing.
// - The engine: a step whose success did not commit is not believed done; once the disk works
//   again the engine re-reads the incident by itself and finishes it (no restart); a cancel cut
//   short leaves no step skipped in an incident that runs on.
// - The API: no 2xx for what did not commit, a 503 problem+json with Retry-After, /readyz not
//   ready while writes fail and ready again once they work.

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "integration/api/api_fixture.hpp"
#include "store/sqlite.hpp"
#include "support/engine_harness.hpp"
#include "support/faulty_vfs.hpp"
#include "support/invariants.hpp"

namespace containd::testing {
namespace {

using incident::step_kind;
using nlohmann::json;
using store::incident_status;
using store::step_status;

store::new_incident new_incident_of(engine_harness& h, const json& body) {
    return planned_incident(body, h.clock.now(), h.tenant);
}

// Runs the io_context in real time (the engine's re-read after a storage failure waits on a
// steady timer) until pred holds or the limit passes.
template <class Pred>
bool run_until(engine_harness& h, Pred pred, std::chrono::milliseconds limit = std::chrono::milliseconds(10000)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        h.ioc->restart();
        h.ioc->run_for(std::chrono::milliseconds(20));
        if (pred()) return true;
    }
    return false;
}

// ------------------------------------------------------------------ store

TEST(StorageFaults, a_failed_commit_leaves_nothing_and_marks_the_storage_failing_until_a_write_works) {
    for (const int code : {SQLITE_IOERR_FSYNC, SQLITE_FULL}) {
        SCOPED_TRACE(code);
        faulty_vfs vfs;
        engine_harness h("storage");
        h.db = std::make_unique<store::store>(h.db_path(), h.clock, store::vault(h.key_));
        const auto in = new_incident_of(h, walkthrough_submission("FAULT-1"));
        if (code == SQLITE_FULL)
            vfs.fail_writes(SQLITE_FULL);
        else
            vfs.fail_syncs(code);
        EXPECT_THROW(h.db->create_incident(in), store::storage_error);
        EXPECT_GT(vfs.injected(), 0);
        EXPECT_TRUE(h.db->storage_failing());
        EXPECT_FALSE(h.db->get_incident(in.id)) << "a failed commit must leave nothing visible";
        EXPECT_FALSE(h.db->probe_write()) << "the probe writes, and the disk still fails";
        EXPECT_TRUE(h.db->storage_failing());

        vfs.heal();
        EXPECT_TRUE(h.db->probe_write());
        EXPECT_FALSE(h.db->storage_failing());
        const auto again = h.db->create_incident(in);
        EXPECT_TRUE(std::holds_alternative<store::created>(again));
        EXPECT_TRUE(h.db->get_incident(in.id));
        EXPECT_EQ(h.db->integrity_check(), "ok");

        // Reopened, the database holds exactly what committed.
        h.db.reset();
        h.db = std::make_unique<store::store>(h.db_path(), h.clock, store::vault(h.key_));
        EXPECT_EQ(h.db->list_incidents({}).size(), 1u);
        EXPECT_EQ(h.db->integrity_check(), "ok");
        h.db.reset();
    }
}

TEST(StorageFaults, a_read_only_transaction_does_not_clear_the_failing_mark) {
    faulty_vfs vfs;
    engine_harness h("storage");
    h.db = std::make_unique<store::store>(h.db_path(), h.clock, store::vault(h.key_));
    vfs.fail_syncs();
    EXPECT_THROW(h.db->create_incident(new_incident_of(h, walkthrough_submission("FAULT-2"))), store::storage_error);
    EXPECT_TRUE(h.db->storage_failing());
    vfs.heal();
    // A transaction that changes nothing commits without a write: it proves nothing.
    h.db->set_incident_state("no-such-incident", incident_status::running, incident::phase::resolve, {});
    h.db->atomically([] {});
    EXPECT_TRUE(h.db->storage_failing());
    h.db.reset();
}

TEST(StorageFaults, atomically_commits_all_of_its_work_or_none) {
    faulty_vfs vfs;
    engine_harness h("storage");
    h.db = std::make_unique<store::store>(h.db_path(), h.clock, store::vault(h.key_));
    const auto first = new_incident_of(h, walkthrough_submission("FAULT-3"));
    const auto second = new_incident_of(h, walkthrough_submission("FAULT-4"));
    vfs.fail_syncs();
    EXPECT_THROW(h.db->atomically([&] {
        h.db->create_incident(first);
        h.db->create_incident(second);
    }),
                 store::storage_error);
    EXPECT_FALSE(h.db->get_incident(first.id));
    EXPECT_FALSE(h.db->get_incident(second.id));
    vfs.heal();
    // A failure inside rolls back what came before it, even though each call commits on its own
    // outside atomically.
    EXPECT_THROW(h.db->atomically([&] {
        h.db->create_incident(first);
        throw store::storage_error(SQLITE_IOERR, "injected");
    }),
                 store::storage_error);
    EXPECT_FALSE(h.db->get_incident(first.id));
    h.db->atomically([&] {
        h.db->create_incident(first);
        h.db->create_incident(second);
    });
    EXPECT_TRUE(h.db->get_incident(first.id));
    EXPECT_TRUE(h.db->get_incident(second.id));
    EXPECT_EQ(h.db->integrity_check(), "ok");
    h.db.reset();
}

// ------------------------------------------------------------------ engine

// The block step's success fails to commit. Before the fix the step stayed "dispatched" in memory
// forever: the incident stalled until the daemon restarted.
TEST(StorageFaults, a_step_whose_success_did_not_commit_reruns_once_writes_work_without_a_restart) {
    faulty_vfs vfs;
    engine_harness h("storage");
    h.open();
    int block_attempts = 0;
    const auto healthy = healthy_tenant();
    *h.runners.behaviour = [&](const engine::step_context& ctx) {
        if (ctx.step.kind == step_kind::enable_emergency_policy && ++block_attempts == 1) {
            auto r = healthy(ctx);  // contained_at commits here...
            vfs.fail_syncs();       // ...and the step's own success will not
            return r;
        }
        return healthy(ctx);
    };
    const std::string id = h.submit(walkthrough_submission("FAULT-5"));
    ASSERT_TRUE(run_until(h, [&] { return vfs.injected() > 0; }));
    // Nothing past the block may run while its success is not durable.
    ASSERT_TRUE(run_until(h, [&] { return h.eng->in_flight() == 0; }));
    for (const auto& inv : *h.runners.log)
        EXPECT_NE(inv.kind, step_kind::revoke_sessions) << "ran past an uncommitted block";
    vfs.heal();
    const auto status = [&] { return h.db->get_incident(id)->status; };
    for (int round = 0; round < 50 && status() != incident_status::contained; ++round) {
        run_until(
            h, [&] { return h.eng->idle(); }, std::chrono::milliseconds(500));
        h.drive();
    }
    EXPECT_EQ(status(), incident_status::contained);
    EXPECT_EQ(block_attempts, 2) << "re-run once, reconciling";
    EXPECT_TRUE(check_invariants(*h.db, id).empty()) << ::testing::PrintToString(check_invariants(*h.db, id));
}

// A runner's own store write fails (evidence, an account update): the attempt ends at once, it is
// not left waiting for the attempt timeout, and the step is re-run once writes work.
TEST(StorageFaults, a_runner_whose_write_fails_ends_its_attempt_at_once) {
    engine_harness h("storage");
    h.options.retry.attempt_timeout = seconds(30);
    h.open();
    int evidence_attempts = 0;
    const auto healthy = healthy_tenant();
    *h.runners.behaviour = [&](const engine::step_context& ctx) -> script_result {
        if (ctx.step.kind == step_kind::capture_account_evidence && ctx.step.target == "ap.clerk@contoso.com" &&
            ++evidence_attempts == 1)
            throw store::storage_error(SQLITE_IOERR_WRITE, "injected: disk I/O error");
        return healthy(ctx);
    };
    const auto started = std::chrono::steady_clock::now();
    const std::string id = h.submit(walkthrough_submission("FAULT-RUNNER"));
    ASSERT_TRUE(run_until(
        h, [&] { return evidence_attempts >= 2; }, std::chrono::milliseconds(10000)));
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5))
        << "the failed attempt waited for its timeout";
    for (int round = 0; round < 50 && h.db->get_incident(id)->status != incident_status::contained; ++round) {
        run_until(
            h, [&] { return h.eng->idle(); }, std::chrono::milliseconds(300));
        h.drive();
    }
    EXPECT_EQ(h.db->get_incident(id)->status, incident_status::contained);
}

// The status change after a commit fails: the engine must not believe a status the store does not
// hold (before the fix publish() set it in memory first and never wrote it again).
TEST(StorageFaults, the_engine_recovers_every_incident_it_could_not_write_once_the_disk_heals) {
    faulty_vfs vfs;
    engine_harness h("storage");
    h.open();
    vfs.fail_syncs(SQLITE_IOERR_FSYNC, 3);  // the submissions commit, the engine's first writes fail
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) ids.push_back(h.submit(walkthrough_submission("FAULT-6-" + std::to_string(i))));
    run_until(
        h, [&] { return h.eng->in_flight() == 0 && vfs.injected() > 3; }, std::chrono::milliseconds(2000));
    EXPECT_GT(vfs.injected(), 0);
    vfs.heal();
    for (int round = 0; round < 100; ++round) {
        bool all = true;
        for (const auto& id : ids) all = all && h.db->get_incident(id)->status == incident_status::contained;
        if (all) break;
        run_until(
            h, [&] { return h.eng->idle(); }, std::chrono::milliseconds(300));
        h.drive();
    }
    for (const auto& id : ids) {
        EXPECT_EQ(h.db->get_incident(id)->status, incident_status::contained) << id;
        EXPECT_TRUE(check_invariants(*h.db, id).empty()) << ::testing::PrintToString(check_invariants(*h.db, id));
    }
}

// A cancel is several store writes. Before the fix each committed on its own: a failure part-way
// left some steps "skipped" in an incident still running, and a skipped step counts as finished,
// so it would have been skipped for good (I2: never skip a step).
TEST(StorageFaults, a_cancel_cut_short_skips_nothing) {
    for (int after = 0; after < 8; ++after) {
        SCOPED_TRACE(after);
        faulty_vfs vfs;
        engine_harness h("storage");
        h.open();
        const std::string id = h.submit(walkthrough_submission("FAULT-7"));
        vfs.fail_syncs(SQLITE_IOERR_FSYNC, after);
        bool threw = false;
        try {
            h.eng->cancel(id, "alice");
        } catch (const store::storage_error&) {
            threw = true;
        }
        vfs.heal();
        const auto rec = h.db->get_incident(id);
        int skipped = 0;
        for (const auto& s : h.db->steps(id)) skipped += s.status == step_status::skipped;
        if (rec->status == incident_status::cancelled) {
            EXPECT_FALSE(threw);
            EXPECT_GT(skipped, 0);
        } else {
            EXPECT_TRUE(threw);
            EXPECT_EQ(skipped, 0) << "steps skipped in an incident that was not cancelled";
        }
        h.crash();
    }
}

// ------------------------------------------------------------------ API

class StorageFaultApi : public api_fixture {
protected:
    std::size_t stored() {
        return on_io([&] { return h.db->list_incidents({}).size(); });
    }
    faulty_vfs vfs;
};

TEST_F(StorageFaultApi, no_2xx_for_an_uncommitted_incident_a_503_problem_and_not_ready_until_the_disk_heals) {
    test::api_client c(port);
    ASSERT_EQ(c.get("/readyz", "").status, 200);
    for (const int code : {SQLITE_IOERR_FSYNC, SQLITE_FULL}) {
        SCOPED_TRACE(code);
        const std::size_t before = stored();
        if (code == SQLITE_FULL)
            vfs.fail_writes(SQLITE_FULL);
        else
            vfs.fail_syncs(code);
        const std::string key = "fault-key-" + std::to_string(code);
        auto r = c.post("/v1/incidents", submitter_token, walkthrough_submission("API-" + std::to_string(code)),
                        {{"Idempotency-Key", key}});
        EXPECT_EQ(r.status, 503) << r.body;
        EXPECT_EQ(r.header("content-type"), "application/problem+json");
        EXPECT_EQ(r.json().value("status", 0), 503);
        EXPECT_NE(r.json().value("type", "").find("storage-unavailable"), std::string::npos) << r.body;
        EXPECT_FALSE(r.header("retry-after").empty());
        EXPECT_EQ(stored(), before) << "nothing was committed";

        const auto ready = c.get("/readyz", "");
        EXPECT_EQ(ready.status, 503);
        EXPECT_EQ(ready.json().value("status", ""), "storage_unavailable");
        EXPECT_EQ(c.get("/readyz", "").status, 503) << "still failing: the probe's write fails too";
        EXPECT_EQ(c.get("/healthz", "").status, 200) << "alive, only not ready";
        EXPECT_EQ(c.get("/v1/incidents", viewer_token).status, 200) << "reads still work";

        vfs.heal();
        EXPECT_EQ(c.get("/readyz", "").status, 200) << "the probe's write worked";
        // The client repeats with the same key: exactly one incident.
        auto again = c.post("/v1/incidents", submitter_token, walkthrough_submission("API-" + std::to_string(code)),
                            {{"Idempotency-Key", key}});
        EXPECT_EQ(again.status, 201) << again.body;
        const std::string id = again.json().value("id", "");
        EXPECT_TRUE(drive_to(id, incident_status::contained));
    }
    EXPECT_EQ(stored(), 2u);
    EXPECT_EQ(on_io([&] { return h.db->integrity_check(); }), "ok");
}

// A commit that worked earns its 201 though the engine's next writes fail: the engine recovers
// that incident by itself once they work.
TEST_F(StorageFaultApi, a_committed_incident_gets_its_201_when_the_engines_next_write_fails) {
    test::api_client c(port);
    on_io([&] { vfs.fail_syncs(SQLITE_IOERR_FSYNC, 1); });  // the create commits, what follows fails
    auto r = c.post("/v1/incidents", submitter_token, walkthrough_submission("API-COMMITTED"));
    EXPECT_EQ(r.status, 201) << r.body;
    const std::string id = r.json().value("id", "");
    EXPECT_EQ(stored(), 1u);
    on_io([&] { vfs.heal(); });
    EXPECT_TRUE(drive_to(id, incident_status::contained));
}

}  // namespace
}  // namespace containd::testing
