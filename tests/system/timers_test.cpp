// Verification timers against the real daemon and a moved wall clock (RELIABILITY.md, "timers").
// The daemon runs under libfaketime (Debian's libfaketime, deploy/setup.sh): its wall clock is the
// real one plus the offset in a file the test rewrites while it runs (re-read each second); the
// monotonic clock, which the daemon's timers sleep on, is not faked. So the daemon sees exactly
// what an NTP step or a VM resumed after hours shows it: std::chrono::system_clock jumping. No
// test-only code in the product: the binary is the one that ships, configured as in production.
//
// - Overdue at start-up: the real 15/30/60-minute schedule; the daemon is killed once the block
//   is in place, the clock moved to +61 minutes, the daemon restarted: the three checks fire right
//   after the start, each once, in order, each with its lateness (due_at, ran_at, lateness_ms).
// - Steps while running: a 20/40/60-second schedule; once contained, the clock steps back ten
//   minutes (nothing may fire early or twice), then forward again, then forward 30 minutes past
//   the last check: every check fires exactly once, in order, never before it was due.

#include <cstdlib>

#include "core/time.hpp"
#include "support/system_fixture.hpp"

namespace containd::testing {
namespace {

using nlohmann::json;
using system_test::operator_token;
using system_test::submitter_token;

constexpr const char* libfaketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";

struct check_run {
    int seq = 0;
    std::string label;
    time_point due, ran;
    std::int64_t lateness_ms = 0;
    int started = 0, succeeded = 0;
    time_point first_started;
};

class Timers : public system_fixture {
protected:
    void SetUp() override {
        system_fixture::SetUp();
        if (!std::filesystem::exists(libfaketime)) GTEST_SKIP() << "libfaketime is not installed (deploy/setup.sh)";
        set_offset(std::chrono::seconds(0));
    }
    // The daemon's wall clock = the real one + offset (takes effect within a second).
    void set_offset(std::chrono::seconds offset) {
        offset_ = offset;
        std::ofstream(dir / "faketime", std::ios::trunc) << (offset.count() >= 0 ? "+" : "") << offset.count() << "\n";
    }
    time_point daemon_now() const { return std::chrono::system_clock::now() + offset_; }
    std::vector<std::string> clock_env() const {
        return {std::string("LD_PRELOAD=") + libfaketime, "FAKETIME_TIMESTAMP_FILE=" + (dir / "faketime").string(),
                "FAKETIME_CACHE_DURATION=1", "FAKETIME_DONT_FAKE_MONOTONIC=1"};
    }
    void schedule(std::vector<int> seconds) { config["tenants"][0]["verification_schedule_s"] = seconds; }
    bool wait_status(const std::string& id, const std::string& want, std::chrono::seconds limit) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline) {
            if (incident(id).value("status", "") == want) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return false;
    }

    // The checks as the database recorded them (daemon stopped), each printed; every one must
    // have fired exactly once.
    std::vector<check_run> checks(const std::string& id) {
        manual_clock clock(std::chrono::system_clock::now());
        store::store db((dir / "containd.db").string(), clock,
                        store::vault::from_key_file((dir / "vault.key").string()));
        std::vector<check_run> out;
        for (const auto& s : db.steps(id)) {
            if (s.kind != incident::step_kind::verify_signins) continue;
            check_run c;
            c.seq = s.seq;
            c.label = s.result.value("check", "");
            if (auto t = parse_rfc3339(s.result.value("due_at", ""))) c.due = *t;
            if (auto t = parse_rfc3339(s.result.value("ran_at", ""))) c.ran = *t;
            c.lateness_ms = s.result.value("lateness_ms", std::int64_t{-1});
            for (const auto& e : db.events(id, 0, 100000)) {
                if (e.step_seq != s.seq) continue;
                if (e.kind == "step_started" && c.started++ == 0) c.first_started = e.at;
                c.succeeded += e.kind == "step_succeeded";
            }
            std::cout << "check " << c.label << ": due " << format_rfc3339(c.due) << ", ran " << format_rfc3339(c.ran)
                      << ", lateness " << c.lateness_ms << " ms, " << c.started << " attempt(s)" << std::endl;
            EXPECT_EQ(c.succeeded, 1) << c.label << " fired exactly once";
            out.push_back(c);
        }
        const auto violations = check_invariants(db, id);
        EXPECT_TRUE(violations.empty()) << ::testing::PrintToString(violations);
        return out;
    }

    std::chrono::seconds offset_{0};
};

std::int64_t ms(duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

TEST_F(Timers, overdue_checks_fire_once_in_order_right_after_start_with_their_lateness) {
    fresh_run();
    schedule({900, 1800, 3600});  // the real 15/30/60 minutes
    ASSERT_TRUE(start_daemon(clock_env()));
    auto r = api->post("/v1/incidents", submitter_token, system_test::seeds_incident("TIMERS-DOWN"));
    ASSERT_EQ(r.status, 201) << r.body;
    const std::string id = r.json()["id"];
    ASSERT_TRUE(wait_status(id, "verifying", std::chrono::seconds(120))) << incident(id).dump();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    daemon->kill_hard();  // down with all three checks pending (the first is 15 minutes away)

    set_offset(std::chrono::seconds(61 * 60));
    const time_point restarted = daemon_now();
    ASSERT_TRUE(start_daemon(clock_env()));
    ASSERT_NE(wait_final(id, std::chrono::seconds(120)), "timeout");
    const time_point finished = daemon_now();
    EXPECT_EQ(daemon->terminate(), 0);
    daemon.reset();

    const auto runs = checks(id);
    ASSERT_EQ(runs.size(), 3u);
    const std::int64_t offsets_ms[] = {900000, 1800000, 3600000};
    for (std::size_t i = 0; i < runs.size(); ++i) {
        const auto& c = runs[i];
        SCOPED_TRACE(c.label);
        EXPECT_GE(c.first_started, restarted) << "nothing fired while the daemon was down";
        EXPECT_LE(c.ran, finished);
        // Right after the start: the whole overdue schedule ran within the bound of the wait above,
        // and each check is late by about the time the daemon was down past it.
        EXPECT_GE(c.lateness_ms, 61 * 60000 - offsets_ms[i] - 5 * 60000) << "the lateness is recorded";
        EXPECT_LE(std::abs(ms(c.ran - c.due) - c.lateness_ms), 1000);
        if (i > 0) {
            EXPECT_GE(c.first_started, runs[i - 1].ran) << "in order";
            EXPECT_EQ(ms(c.due - runs[i - 1].due), offsets_ms[i] - offsets_ms[i - 1]);
        }
    }
    EXPECT_LE(ms(runs[0].first_started - restarted), 30000) << "the first overdue check fires right after start";
}

TEST_F(Timers, clock_steps_back_and_forward_lose_no_check_and_fire_none_twice_or_early) {
    fresh_run();
    schedule({20, 40, 60});
    ASSERT_TRUE(start_daemon(clock_env()));
    auto r = api->post("/v1/incidents", submitter_token, system_test::seeds_incident("TIMERS-STEPS"));
    ASSERT_EQ(r.status, 201) << r.body;
    const std::string id = r.json()["id"];
    ASSERT_TRUE(wait_status(id, "verifying", std::chrono::seconds(120))) << incident(id).dump();

    set_offset(std::chrono::seconds(-600));  // ten minutes back: +20 s is now 10 minutes away
    std::this_thread::sleep_for(std::chrono::seconds(25));
    set_offset(std::chrono::seconds(0));  // and forward again: +20 s is past, +40 s near
    const auto waited = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - waited < std::chrono::seconds(60)) {
        const auto doc = incident(id);
        int done = 0;
        for (const auto& c : doc.value("verification", json::array()))
            done += c.value("verdict", "pending") != "pending";
        if (done >= 2) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    set_offset(std::chrono::seconds(30 * 60));  // forward past the last check
    ASSERT_NE(wait_final(id, std::chrono::seconds(120)), "timeout");
    EXPECT_EQ(daemon->terminate(), 0);
    daemon.reset();

    const auto runs = checks(id);
    ASSERT_EQ(runs.size(), 3u);
    for (std::size_t i = 0; i < runs.size(); ++i) {
        const auto& c = runs[i];
        SCOPED_TRACE(c.label);
        EXPECT_GE(c.first_started, c.due) << "never before it was due, though the clock went back";
        EXPECT_GE(c.lateness_ms, 0);
        if (i > 0) {
            EXPECT_GE(c.first_started, runs[i - 1].ran) << "in order";
        }
    }
}

}  // namespace
}  // namespace containd::testing
