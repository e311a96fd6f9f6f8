#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>

#include "support/engine_harness.hpp"
#include "support/invariants.hpp"

using namespace containd;
using namespace containd::testing;
using incident::step_kind;
using store::incident_status;
using store::step_status;

namespace {

std::vector<const invocation*> calls_of(const std::vector<invocation>& log, step_kind kind) {
    std::vector<const invocation*> out;
    for (const auto& i : log)
        if (i.kind == kind) out.push_back(&i);
    return out;
}

int count_events(store::store& db, const std::string& id, const std::string& kind, int seq) {
    int n = 0;
    for (const auto& e : db.events(id, 0, 100000))
        if (e.kind == kind && e.step_seq == seq) ++n;
    return n;
}

// Contains the walkthrough against `tenant`; returns the incident's id once the engine has
// nothing left to do.
std::string contain_walkthrough(engine_harness& h, script tenant) {
    *h.runners.behaviour = std::move(tenant);
    h.open();
    const auto id = h.submit(walkthrough_submission());
    EXPECT_TRUE(h.drive());
    return id;
}

// The same with every attempt of `kind` failing with `status` (no Retry-After).
std::string contain_with_failing(engine_harness& h, step_kind kind, int status, std::string message) {
    return contain_walkthrough(
        h, failing_where([kind](const engine::step_context& ctx) { return ctx.step.kind == kind; }, status,
                         std::move(message)));
}

// The incident needs attention for one reason, which says `says`.
void expect_one_attention_item(engine_harness& h, const std::string& id, const std::string& says) {
    const auto incident = h.db->get_incident(id);
    ASSERT_TRUE(incident);
    EXPECT_EQ(incident->status, incident_status::needs_attention);
    ASSERT_EQ(incident->attention.size(), 1u);
    EXPECT_NE(incident->attention[0].find(says), std::string::npos) << incident->attention[0];
}

}  // namespace

TEST(Engine, runs_critical_path_steps_in_groups_of_twenty_with_one_outcome_each) {
    engine_harness h;
    h.runners.grouped = {step_kind::resolve_account, step_kind::revoke_sessions};
    h.open();
    nlohmann::json body = walkthrough_submission();
    body["accounts"] = nlohmann::json::array();
    for (int i = 0; i < 45; ++i) body["accounts"].push_back({{"upn", "user" + std::to_string(i) + "@contoso.com"}});
    const auto id = h.submit(body);
    ASSERT_TRUE(h.drive());

    EXPECT_EQ(*h.runners.groups, (std::vector<std::size_t>{20, 20, 5, 20, 20, 5}))
        << "45 resolves, then 45 revocations, each in groups of at most 20";
    EXPECT_EQ(calls_of(*h.runners.log, step_kind::revoke_sessions).size(), 45u) << "each account revoked once";
    EXPECT_EQ(h.db->get_incident(id)->status, incident_status::contained);
    EXPECT_TRUE(check_invariants(*h.db, id).empty()) << ::testing::PrintToString(check_invariants(*h.db, id));
    for (const auto& s : h.db->steps(id)) {
        EXPECT_EQ(s.status, step_status::succeeded) << s.seq;
        EXPECT_EQ(s.attempt, 1) << s.seq;
        EXPECT_EQ(count_events(*h.db, id, "step_succeeded", s.seq), 1) << s.seq;
    }
}

TEST(Engine, runs_the_walkthrough_to_contained_in_plan_order) {
    engine_harness h;
    *h.runners.behaviour = healthy_tenant({"finance.director@contoso.com"});
    h.open();
    const auto id = h.submit(walkthrough_submission());
    ASSERT_TRUE(h.drive());

    const auto incident = h.db->get_incident(id);
    ASSERT_TRUE(incident);
    EXPECT_EQ(incident->status, incident_status::contained);
    EXPECT_EQ(incident->current_phase, incident::phase::done);
    EXPECT_TRUE(check_invariants(*h.db, id).empty()) << ::testing::PrintToString(check_invariants(*h.db, id));
    for (const auto& s : h.db->steps(id)) EXPECT_EQ(s.status, step_status::succeeded) << s.seq;

    // The refined plan put the Exchange admin's reset before the standard accounts'.
    const auto resets = calls_of(*h.runners.log, step_kind::reset_password);
    ASSERT_EQ(resets.size(), 4u);
    EXPECT_EQ(resets.front()->target, "finance.director@contoso.com");
    const auto accounts = h.db->accounts(id);
    EXPECT_EQ(accounts.front().assigned_tier, incident::tier::privileged);

    // Each check fired once, at contained_at + offset, in order.
    const auto checks = calls_of(*h.runners.log, step_kind::verify_signins);
    ASSERT_EQ(checks.size(), 3u);
    const auto contained_at = *incident->contained_at;
    EXPECT_EQ(checks[0]->at, contained_at + minutes(15));
    EXPECT_EQ(checks[1]->at, contained_at + minutes(30));
    EXPECT_EQ(checks[2]->at, contained_at + minutes(60));
}

TEST(Engine, honours_retry_after_and_counts_attempts) {
    engine_harness h;
    int revokes = 0;
    *h.runners.behaviour = failing_where(
        [&](const engine::step_context& ctx) {
            return ctx.step.kind == step_kind::revoke_sessions && ctx.step.target == "ap.clerk@contoso.com" &&
                   revokes++ == 0;
        },
        429, "throttled", "7");
    h.open();
    const auto id = h.submit(walkthrough_submission());
    ASSERT_TRUE(h.drive());

    std::vector<const invocation*> tries;
    for (const auto& i : *h.runners.log)
        if (i.kind == step_kind::revoke_sessions && i.target == "ap.clerk@contoso.com") tries.push_back(&i);
    ASSERT_EQ(tries.size(), 2u);
    EXPECT_GE(tries[1]->at - tries[0]->at, seconds(7));
    EXPECT_EQ(tries[1]->attempt, 2);
    EXPECT_EQ(h.db->get_incident(id)->status, incident_status::contained);
}

TEST(Engine, forbidden_is_not_retried_and_stops_the_incident) {
    engine_harness h;
    const auto id = contain_with_failing(h, step_kind::enable_emergency_policy, 403,
                                         "Authorization_RequestDenied: insufficient privileges");

    const auto incident = h.db->get_incident(id);
    EXPECT_EQ(incident->status, incident_status::needs_attention);
    EXPECT_EQ(incident->current_phase, incident::phase::block);
    ASSERT_FALSE(incident->attention.empty());
    EXPECT_NE(incident->attention[0].find("Authorization_RequestDenied"), std::string::npos);
    EXPECT_EQ(calls_of(*h.runners.log, step_kind::enable_emergency_policy).size(), 1u);
    EXPECT_TRUE(calls_of(*h.runners.log, step_kind::revoke_sessions).empty()) << "nothing after a failed step runs";
}

TEST(Engine, exhausting_the_step_deadline_needs_attention_and_nothing_after_runs) {
    engine_harness h;
    const auto id = contain_with_failing(h, step_kind::revoke_sessions, 503, "service unavailable");

    const auto incident = h.db->get_incident(id);
    EXPECT_EQ(incident->status, incident_status::needs_attention);
    EXPECT_EQ(incident->current_phase, incident::phase::revoke);
    EXPECT_GT(calls_of(*h.runners.log, step_kind::revoke_sessions).size(), 4u);
    EXPECT_TRUE(calls_of(*h.runners.log, step_kind::reset_password).empty());
    int failed = 0;
    for (const auto& s : h.db->steps(id)) {
        if (s.kind != step_kind::revoke_sessions) continue;
        EXPECT_NE(s.status, step_status::succeeded);
        if (s.status != step_status::failed) continue;
        ++failed;
        EXPECT_NE(s.error.find("deadline"), std::string::npos) << s.error;
        EXPECT_LE(*s.finished_at, *s.deadline);
    }
    EXPECT_GE(failed, 1);
    EXPECT_TRUE(check_invariants(*h.db, id).empty()) << ::testing::PrintToString(check_invariants(*h.db, id));

    // Each account's revocation failed alone (partial containment): an operator's retry gives
    // each a new budget; once the upstream heals, the incident finishes.
    *h.runners.behaviour = healthy_tenant();
    for (const auto& s : h.db->steps(id))
        if (s.status == step_status::failed) {
            EXPECT_EQ(h.eng->retry(id, s.seq, "operator"), engine::action_result::done);
        }
    ASSERT_TRUE(h.drive());
    EXPECT_EQ(h.db->get_incident(id)->status, incident_status::contained);
    EXPECT_TRUE(check_invariants(*h.db, id).empty());
}

// Issue 11: one account's method cleanup fails (503) for longer than the step deadline. The
// other accounts go all the way, and the +15/+30/+60 checks run exactly when due.
TEST(Engine, a_cleanup_failing_for_30_minutes_never_delays_a_check) {
    engine_harness h;
    *h.runners.behaviour = [base = healthy_tenant()](const engine::step_context& ctx) {
        if (ctx.step.kind == step_kind::cleanup_methods && ctx.step.target == "ap.clerk@contoso.com") {
            script_result r;
            r.outcome = engine::step_outcome::failed(503, "service unavailable");
            return r;
        }
        return base(ctx);
    };
    h.open();
    const auto id = h.submit(walkthrough_submission());
    ASSERT_TRUE(h.drive());
    const auto incident = h.db->get_incident(id);
    ASSERT_TRUE(incident->contained_at);
    EXPECT_EQ(incident->status, incident_status::needs_attention);
    ASSERT_EQ(incident->attention.size(), 1u);
    EXPECT_NE(incident->attention[0].find("cleanup_methods ap.clerk@contoso.com"), std::string::npos)
        << incident->attention[0];
    const auto cleanups = calls_of(*h.runners.log, step_kind::cleanup_methods);
    EXPECT_GE(cleanups.back()->at - cleanups.front()->at, minutes(25)) << "it kept trying for its deadline";
    const auto checks = calls_of(*h.runners.log, step_kind::verify_signins);
    ASSERT_EQ(checks.size(), 3u);
    EXPECT_EQ(checks[0]->at, *incident->contained_at + minutes(15));
    EXPECT_EQ(checks[1]->at, *incident->contained_at + minutes(30));
    EXPECT_EQ(checks[2]->at, *incident->contained_at + minutes(60));
    for (const auto& s : h.db->steps(id)) {
        if (s.target == "ap.clerk@contoso.com" && s.kind == step_kind::cleanup_methods) {
            EXPECT_EQ(s.status, step_status::failed);
        } else if (s.target == "ap.clerk@contoso.com" && s.step_phase == incident::phase::apps) {
            EXPECT_EQ(s.status, step_status::pending) << "held back by its own account's failure only";
        } else if (s.kind != step_kind::delete_application) {
            EXPECT_EQ(s.status, step_status::succeeded)
                << s.seq << " " << incident::to_string(s.kind) << " " << s.target;
        }
    }
    EXPECT_TRUE(check_invariants(*h.db, id).empty()) << ::testing::PrintToString(check_invariants(*h.db, id));
}

// Issue 11: one UPN that does not exist; the others are blocked, revoked and reset all the same.
TEST(Engine, an_unresolved_account_never_blocks_the_others) {
    engine_harness h;
    const auto id = contain_walkthrough(h, [base = healthy_tenant()](const engine::step_context& ctx) {
        if (ctx.step.kind == step_kind::resolve_account && ctx.step.target == "ap.clerk@contoso.com")
            return script_result{engine::step_outcome::give_up("no user ap.clerk@contoso.com in the directory"), {}};
        return base(ctx);
    });
    expect_one_attention_item(h, id, "ap.clerk@contoso.com did not resolve");
    EXPECT_EQ(calls_of(*h.runners.log, step_kind::enable_emergency_policy).size(), 1u);
    const auto resets = calls_of(*h.runners.log, step_kind::reset_password);
    EXPECT_EQ(resets.size(), 3u);
    for (const auto* r : resets) EXPECT_NE(r->target, "ap.clerk@contoso.com");
    EXPECT_EQ(calls_of(*h.runners.log, step_kind::verify_signins).size(), 3u);
    const auto plan = h.db->get_incident(id)->plan;
    for (const auto& upn : plan["scope"]["include_users"]) EXPECT_NE(upn, "ap.clerk@contoso.com") << "not in the block";
    EXPECT_TRUE(check_invariants(*h.db, id).empty()) << ::testing::PrintToString(check_invariants(*h.db, id));
}

TEST(Engine, an_attempt_that_hangs_times_out_and_is_never_doubled) {
    engine_harness h;
    h.options.retry.attempt_timeout = std::chrono::milliseconds(20);
    int hangs = 0;
    *h.runners.behaviour = [&, base = healthy_tenant()](const engine::step_context& ctx) {
        if (ctx.step.kind == step_kind::enable_emergency_policy && hangs++ == 0) {
            script_result r;
            r.real_delay = std::chrono::hours(1);
            return r;
        }
        return base(ctx);
    };
    h.open();
    const auto id = h.submit(walkthrough_submission());
    ASSERT_TRUE(h.drive());
    EXPECT_EQ(h.db->get_incident(id)->status, incident_status::contained);
    EXPECT_EQ(h.eng->stats().timeouts, 1u);
    EXPECT_EQ(calls_of(*h.runners.log, step_kind::enable_emergency_policy).size(), 2u);
}

TEST(Engine, recovers_after_being_destroyed_mid_flight) {
    engine_harness h;
    *h.runners.behaviour = [base = healthy_tenant()](const engine::step_context& ctx) {
        script_result r = base(ctx);
        r.real_delay = std::chrono::microseconds(200);
        return r;
    };
    h.open();
    std::vector<std::string> ids;
    for (int i = 0; i < 4; ++i) ids.push_back(h.submit(walkthrough_submission("REF-" + std::to_string(i))));

    // Crash repeatedly at different points: after some attempts, before the checks, mid-checks.
    std::mt19937 rng(7);
    for (int crash = 0; crash < 6; ++crash) {
        const std::size_t target = h.runners.log->size() + 5 + rng() % 20;
        for (int guard = 0; guard < 100000 && h.runners.log->size() < target; ++guard) {
            h.ioc->run_for(std::chrono::microseconds(100));
            if (h.eng->idle()) {
                if (auto next = h.eng->next_wakeup()) {
                    h.clock.set(std::max(h.clock.now(), *next));
                    h.eng->poke();
                } else {
                    break;
                }
            }
        }
        h.crash();
        h.open();
        for (const auto& id : ids) EXPECT_TRUE(check_invariants(*h.db, id).empty()) << crash;
    }
    ASSERT_TRUE(h.drive());
    for (const auto& id : ids) {
        EXPECT_EQ(h.db->get_incident(id)->status, incident_status::contained);
        EXPECT_TRUE(check_invariants(*h.db, id).empty()) << ::testing::PrintToString(check_invariants(*h.db, id));
        for (const auto& s : h.db->steps(id)) {
            EXPECT_EQ(s.status, step_status::succeeded);
            if (s.kind == step_kind::verify_signins) {
                EXPECT_EQ(count_events(*h.db, id, "step_succeeded", s.seq), 1);
            }
        }
    }
}

TEST(Engine, a_backoff_wait_survives_a_restart_with_its_attempt_count) {
    engine_harness h;
    int policy_calls = 0;
    *h.runners.behaviour = failing_where(
        [&](const engine::step_context& ctx) {
            return ctx.step.kind == step_kind::enable_emergency_policy && policy_calls++ == 0;
        },
        429, "throttled", "120");
    h.open();
    const auto id = h.submit(walkthrough_submission());
    ASSERT_TRUE(h.drive(h.clock.now() + seconds(30)));
    const time_point failed_at = h.clock.now();
    ASSERT_EQ(policy_calls, 1);

    h.crash();
    h.clock.advance(seconds(60));  // down for a minute: the wait is not over
    h.open();
    ASSERT_TRUE(h.drive(failed_at + seconds(119)));
    EXPECT_EQ(policy_calls, 1) << "a restart must not shorten a Retry-After wait";
    ASSERT_TRUE(h.drive());
    EXPECT_EQ(policy_calls, 2);
    const auto calls = calls_of(*h.runners.log, step_kind::enable_emergency_policy);
    EXPECT_EQ(calls.back()->attempt, 2);
    EXPECT_GE(calls.back()->at - calls.front()->at, seconds(120));
    EXPECT_EQ(h.db->get_incident(id)->status, incident_status::contained);
}

TEST(Engine, overdue_checks_fire_once_each_in_order_after_downtime) {
    engine_harness h;
    h.open();
    const auto id = h.submit(walkthrough_submission());
    ASSERT_TRUE(h.drive(h.clock.now() + minutes(5)));  // contained, no check due yet
    const auto contained_at = *h.db->get_incident(id)->contained_at;
    EXPECT_TRUE(calls_of(*h.runners.log, step_kind::verify_signins).empty());

    h.crash();
    h.clock.set(contained_at + minutes(125));  // the machine was down past +60
    h.open();
    h.ioc->restart();
    for (int i = 0; i < 1000 && !h.eng->idle(); ++i) h.ioc->poll();

    const auto checks = calls_of(*h.runners.log, step_kind::verify_signins);
    ASSERT_EQ(checks.size(), 3u);
    EXPECT_EQ(checks[0]->target, "+15m");
    EXPECT_EQ(checks[1]->target, "+30m");
    EXPECT_EQ(checks[2]->target, "+60m");
    for (const auto& s : h.db->steps(id))
        if (s.kind == step_kind::verify_signins) {
            const auto offset = milliseconds(s.params.at("offset_ms").get<std::int64_t>());
            ASSERT_TRUE(s.result.contains("lateness_ms")) << s.result.dump();
            EXPECT_EQ(s.result.at("lateness_ms").get<std::int64_t>(),
                      std::chrono::duration_cast<milliseconds>(minutes(125) - offset).count());
        }
    EXPECT_EQ(h.db->get_incident(id)->status, incident_status::contained);
}

TEST(Engine, clock_steps_backwards_and_forwards_fire_each_check_once) {
    engine_harness h;
    h.open();
    const auto id = h.submit(walkthrough_submission());
    ASSERT_TRUE(h.drive(h.clock.now() + minutes(20)));
    const auto contained_at = *h.db->get_incident(id)->contained_at;
    ASSERT_EQ(calls_of(*h.runners.log, step_kind::verify_signins).size(), 1u);

    h.clock.set(contained_at - minutes(10));  // NTP stepped the clock back
    h.eng->poke();
    h.ioc->poll();
    EXPECT_EQ(calls_of(*h.runners.log, step_kind::verify_signins).size(), 1u);

    h.clock.set(contained_at + minutes(90));  // and then far forward
    h.eng->poke();
    ASSERT_TRUE(h.drive());
    const auto checks = calls_of(*h.runners.log, step_kind::verify_signins);
    ASSERT_EQ(checks.size(), 3u);
    EXPECT_EQ(checks[1]->target, "+30m");
    EXPECT_EQ(checks[2]->target, "+60m");
    EXPECT_EQ(h.db->get_incident(id)->status, incident_status::contained);
}

TEST(Engine, a_failed_final_check_needs_attention_with_its_diagnosis) {
    engine_harness h;
    const auto id = contain_walkthrough(h, [base = healthy_tenant()](const engine::step_context& ctx) {
        if (ctx.step.kind == step_kind::verify_signins && ctx.step.target == "+60m") {
            script_result r;
            r.outcome.result = {{"verdict", "attention"},
                                {"diagnosis", {"persistence: the service principal still signs in"}}};
            return r;
        }
        return base(ctx);
    });
    expect_one_attention_item(h, id, "persistence");
}

TEST(Engine, cancel_stops_an_incident_and_skips_what_was_left) {
    engine_harness h;
    h.open();
    const auto id = h.submit(walkthrough_submission());
    ASSERT_TRUE(h.drive(h.clock.now() + minutes(5)));
    EXPECT_EQ(h.eng->cancel(id, "operator").result, engine::action_result::done);
    ASSERT_TRUE(h.drive());
    EXPECT_EQ(h.db->get_incident(id)->status, incident_status::cancelled);
    EXPECT_TRUE(calls_of(*h.runners.log, step_kind::verify_signins).empty());
    for (const auto& s : h.db->steps(id))
        if (s.kind == step_kind::verify_signins) {
            EXPECT_EQ(s.status, step_status::skipped);
        }
    EXPECT_EQ(h.eng->cancel(id, "operator").result, engine::action_result::conflict);
}

// A real kill -9 of a child process that holds the database, several times, then a clean finish.
TEST(Engine, survives_kill_dash_nine_of_the_process_holding_the_database) {
    engine_harness h;
    h.open();
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) ids.push_back(h.submit(walkthrough_submission("KILL-" + std::to_string(i))));
    h.crash();

    const unsigned seed = static_cast<unsigned>(std::random_device{}());
    std::mt19937 rng(seed);
    SCOPED_TRACE("seed " + std::to_string(seed));
    for (int round = 0; round < 5; ++round) {
        const pid_t child = fork();
        ASSERT_GE(child, 0);
        if (child == 0) {
            // The child: run the engine on the shared database until killed.
            *h.runners.behaviour = [base = healthy_tenant()](const engine::step_context& ctx) {
                script_result r = base(ctx);
                r.real_delay = std::chrono::milliseconds(1);
                return r;
            };
            h.open();
            for (;;) {
                h.ioc->run_for(std::chrono::milliseconds(1));
                if (h.eng->idle()) {
                    if (auto next = h.eng->next_wakeup()) {
                        h.clock.set(std::max(h.clock.now(), *next));
                        h.eng->poke();
                    }
                }
            }
        }
        usleep(static_cast<useconds_t>(20000 + rng() % 150000));
        kill(child, SIGKILL);
        int status = 0;
        waitpid(child, &status, 0);
        ASSERT_TRUE(WIFSIGNALED(status));

        h.open();  // the parent reopens what the dead process left
        for (const auto& id : ids) {
            ASSERT_TRUE(h.db->get_incident(id)) << "an accepted incident was lost";
            EXPECT_TRUE(check_invariants(*h.db, id).empty()) << ::testing::PrintToString(check_invariants(*h.db, id));
        }
        h.crash();
    }
    h.clock.set(h.clock.now() + std::chrono::hours(3));
    h.open();
    ASSERT_TRUE(h.drive());
    for (const auto& id : ids) {
        EXPECT_EQ(h.db->get_incident(id)->status, incident_status::contained);
        EXPECT_TRUE(check_invariants(*h.db, id).empty()) << ::testing::PrintToString(check_invariants(*h.db, id));
    }
}
