// The pure scheduler: views in, decisions out. No database, no sockets, no clock.
#include <gtest/gtest.h>

#include <algorithm>

#include "engine/scheduler.hpp"
#include "incident/planner.hpp"

using namespace containd;
using namespace containd::engine;
using incident::incident_status;
using incident::phase;
using incident::step_kind;
using incident::step_status;

namespace {

const time_point t0 = from_unix_ms(1'773'273'600'000);  // 2026-03-12T00:00:00Z

// A small refined plan for two accounts (a privileged one and a standard one) and one app:
// resolve, block, revoke, credentials by tier, methods, apps, checks at +15/+30/+60.
struct plan_builder {
    incident_view v;
    int stage = 0;

    plan_builder() {
        v.id = "inc";
        v.refined = true;
    }
    // Appends to `base` from `from_stage` on.
    plan_builder(incident_view base, int from_stage) : v(std::move(base)), stage(from_stage) {}
    int add(phase p, step_kind k, std::string target, std::optional<int> depends_on = std::nullopt, int batch = 0) {
        step_view s;
        s.seq = static_cast<int>(v.steps.size()) + 1;
        s.stage = stage;
        s.step_phase = p;
        s.kind = k;
        s.target = std::move(target);
        s.depends_on = depends_on;
        s.batch = batch;
        v.steps.push_back(s);
        return s.seq;
    }
    int check(std::int64_t minutes_after) {
        ++stage;
        const int seq = add(phase::verify, step_kind::verify_signins, "+" + std::to_string(minutes_after) + "m");
        v.steps.back().offset_ms = minutes_after * 60000;
        return seq;
    }
};

constexpr const char* priv = "finance.director@contoso.com";
constexpr const char* clerk = "ap.clerk@contoso.com";
constexpr const char* app = "11111111-2222-3333-4444-555555555555";

incident_view walkthrough() {
    plan_builder b;
    b.add(phase::resolve, step_kind::resolve_account, priv);      // 1
    b.add(phase::resolve, step_kind::resolve_account, clerk);     // 2
    b.add(phase::resolve, step_kind::capture_app_evidence, app);  // 3
    b.stage = 1;
    b.add(phase::block, step_kind::enable_emergency_policy, "policy");  // 4
    b.stage = 2;
    b.add(phase::revoke, step_kind::revoke_sessions, priv);   // 5
    b.add(phase::revoke, step_kind::revoke_sessions, clerk);  // 6
    b.stage = 3;
    const int r1 = b.add(phase::credentials, step_kind::reset_password, priv);  // 7
    b.add(phase::credentials, step_kind::revoke_after_reset, priv, r1);         // 8
    b.stage = 4;
    const int r2 = b.add(phase::credentials, step_kind::reset_password, clerk);  // 9
    b.add(phase::credentials, step_kind::revoke_after_reset, clerk, r2);         // 10
    b.stage = 5;
    b.add(phase::methods, step_kind::cleanup_methods, priv);   // 11
    b.add(phase::methods, step_kind::cleanup_methods, clerk);  // 12
    b.stage = 6;
    b.add(phase::apps, step_kind::remove_app_credentials, app);                // 13
    b.add(phase::apps, step_kind::remove_inbox_rules, clerk);                  // 14
    b.add(phase::apps, step_kind::confirm_compromised, "identityProtection");  // 15
    b.check(15);                                                               // 16
    b.check(30);                                                               // 17
    b.check(60);                                                               // 18
    return b.v;
}

void set(incident_view& v, int seq, step_status st, std::string error = {}) {
    v.find(seq)->status = st;
    v.find(seq)->error = std::move(error);
}

void succeed_through(incident_view& v, int last_seq) {
    for (auto& s : v.steps)
        if (s.seq <= last_seq) s.status = step_status::succeeded;
}

// The walkthrough with the block in force at t0 and every step up to `last_seq` succeeded.
incident_view contained_through(int last_seq) {
    auto v = walkthrough();
    v.contained_at = t0;
    succeed_through(v, last_seq);
    return v;
}

// Nothing will run again: the incident ends `status` with one attention item, which says `says`.
void expect_over_with_one_item(const decision& d, incident_status status, const std::string& says) {
    EXPECT_TRUE(d.done);
    EXPECT_EQ(d.status, status);
    ASSERT_EQ(d.attention.size(), 1u);
    EXPECT_NE(d.attention[0].find(says), std::string::npos) << d.attention[0];
}

bool has(const std::vector<int>& v, int x) { return std::find(v.begin(), v.end(), x) != v.end(); }

}  // namespace

TEST(Scheduler, the_resolve_stage_runs_first_and_nothing_else) {
    auto v = walkthrough();
    const auto d = schedule(v, t0);
    EXPECT_EQ(d.ready, (std::vector<int>{1, 2})) << "the app's evidence waits for the critical path";
    EXPECT_EQ(d.status, incident_status::running);
    EXPECT_EQ(d.current_phase, phase::resolve);
    EXPECT_FALSE(d.done);
}

TEST(Scheduler, an_unrefined_plan_asks_for_refinement_once_its_accounts_are_resolved) {
    auto v = walkthrough();
    v.refined = false;
    EXPECT_FALSE(schedule(v, t0).refine);
    set(v, 1, step_status::succeeded);
    EXPECT_FALSE(schedule(v, t0).refine) << "the clerk is still resolving";
    set(v, 2, step_status::failed, "no user ap.clerk@contoso.com in the directory");
    const auto d = schedule(v, t0);
    EXPECT_TRUE(d.refine) << "a failed resolve step does not hold back the refinement, nor does the app's evidence";
    EXPECT_TRUE(d.ready.empty());
}

TEST(Scheduler, evidence_follows_the_critical_path_and_holds_back_what_destroys_it) {
    auto v = walkthrough();
    set(v, 1, step_status::succeeded);
    set(v, 2, step_status::succeeded);
    EXPECT_EQ(schedule(v, t0).ready, (std::vector<int>{4})) << "the block does not wait for evidence";
    set(v, 4, step_status::succeeded);
    v.contained_at = t0;
    EXPECT_EQ(schedule(v, t0).ready, (std::vector<int>{5, 6})) << "nor does the revocation";
    set(v, 5, step_status::succeeded);
    set(v, 6, step_status::succeeded);
    auto d = schedule(v, t0);
    EXPECT_EQ(d.ready, (std::vector<int>{3})) << "the resets wait for the evidence";

    // Evidence that could not be read does not undo containment; the rest of its subject stops.
    set(v, 3, step_status::failed, "403 Authorization_RequestDenied");
    d = schedule(v, t0);
    EXPECT_TRUE(has(d.ready, 7));
    EXPECT_FALSE(has(d.ready, 13)) << "the app's removal needs its evidence first";
}

TEST(Scheduler, an_unresolved_account_never_blocks_the_others) {
    auto v = walkthrough();
    set(v, 1, step_status::succeeded);
    set(v, 2, step_status::failed, "no user ap.clerk@contoso.com in the directory");
    set(v, 3, step_status::succeeded);
    auto d = schedule(v, t0);
    EXPECT_EQ(d.ready, (std::vector<int>{4})) << "the block goes ahead";
    EXPECT_EQ(d.status, incident_status::needs_attention);
    ASSERT_EQ(d.attention.size(), 1u);
    EXPECT_NE(d.attention[0].find("ap.clerk@contoso.com did not resolve"), std::string::npos) << d.attention[0];
    EXPECT_NE(d.attention[0].find("add the right account"), std::string::npos);

    // The privileged account goes all the way; the clerk's own steps never run.
    v.contained_at = t0;
    set(v, 4, step_status::succeeded);
    d = schedule(v, t0);
    EXPECT_EQ(d.ready, (std::vector<int>{5}));
    set(v, 5, step_status::succeeded);
    d = schedule(v, t0);
    EXPECT_EQ(d.ready, (std::vector<int>{7})) << "the clerk's pending revoke is dead and holds nobody back";
    for (int seq : {7, 8, 11, 13, 15}) set(v, seq, step_status::succeeded);
    d = schedule(v, t0);
    EXPECT_TRUE(d.ready.empty());
    EXPECT_EQ(d.wake_at, t0 + minutes(15));
    EXPECT_EQ(d.status, incident_status::needs_attention);
    EXPECT_EQ(d.current_phase, phase::verify);
    for (int seq : {16, 17, 18}) {
        set(v, seq, step_status::succeeded);
        v.find(seq)->verdict = "contained";
    }
    d = schedule(v, t0 + minutes(61));
    EXPECT_TRUE(d.done);
    EXPECT_EQ(d.status, incident_status::needs_attention) << "one account is not contained";
    EXPECT_EQ(d.attention.size(), 1u);
    for (int seq : {6, 9, 10, 12, 14}) EXPECT_EQ(v.find(seq)->status, step_status::pending);
}

TEST(Scheduler, a_failed_step_of_one_account_fails_alone) {
    auto v = contained_through(6);
    set(v, 7, step_status::failed, "HTTP 403 Authorization_RequestDenied");
    const auto d = schedule(v, t0);
    EXPECT_EQ(d.ready, (std::vector<int>{9})) << "the next tier goes on without the failed account";
    EXPECT_FALSE(has(d.ready, 8)) << "its revoke-after-reset depends on the failed reset";
    EXPECT_EQ(d.status, incident_status::needs_attention);
    ASSERT_EQ(d.attention.size(), 1u);
    EXPECT_NE(d.attention[0].find("step 7 (reset_password finance.director@contoso.com) failed: HTTP 403"),
              std::string::npos)
        << d.attention[0];
    EXPECT_EQ(d.current_phase, phase::credentials);
}

// DOMAIN.md §9: a block the break-glass lockout guard refused holds back nothing else. The
// revocations and the resets (tier by tier) go ahead; without a containment time no check is
// due; the incident ends needing attention with the guard's reason until an operator overrides
// it. Any other failure of the block still holds back the rest of its batch.
TEST(Scheduler, a_block_the_lockout_guard_refused_holds_back_only_itself) {
    auto v = walkthrough();
    succeed_through(v, 3);
    set(v, 4, step_status::failed,
        std::string(incident::lockout_guard_refusal) + ": no uncompromised break-glass account would stay excluded");
    auto d = schedule(v, t0);
    EXPECT_EQ(d.ready, (std::vector<int>{5, 6}));
    EXPECT_EQ(d.status, incident_status::needs_attention);
    ASSERT_EQ(d.attention.size(), 1u);
    EXPECT_NE(d.attention[0].find("step 4 (enable_emergency_policy policy) failed: the break-glass lockout guard"),
              std::string::npos)
        << d.attention[0];
    for (int seq : {5, 6}) set(v, seq, step_status::succeeded);
    EXPECT_EQ(schedule(v, t0).ready, (std::vector<int>{7})) << "the privileged tier first";
    for (int seq : {7, 8}) set(v, seq, step_status::succeeded);
    EXPECT_EQ(schedule(v, t0).ready, (std::vector<int>{9}));
    succeed_through(v, 15);
    set(v, 4, step_status::failed, std::string(incident::lockout_guard_refusal));
    d = schedule(v, t0 + minutes(90));
    EXPECT_TRUE(d.ready.empty()) << "no check without the block";
    expect_over_with_one_item(d, incident_status::needs_attention, "lockout guard");
    EXPECT_EQ(d.current_phase, phase::block);

    auto other = walkthrough();
    succeed_through(other, 3);
    set(other, 4, step_status::failed, "HTTP 403 Authorization_RequestDenied");
    d = schedule(other, t0);
    EXPECT_TRUE(d.ready.empty()) << "any other failure of the block holds back the rest";
    expect_over_with_one_item(d, incident_status::needs_attention, "Authorization_RequestDenied");
}

TEST(Scheduler, a_tier_does_not_start_before_the_previous_one_is_done) {
    auto v = contained_through(6);
    auto d = schedule(v, t0);
    EXPECT_EQ(d.ready, (std::vector<int>{7}));
    v.find(7)->status = step_status::running;
    d = schedule(v, t0);
    EXPECT_TRUE(d.ready.empty()) << "the standard tier waits for the privileged reset in flight";
    set(v, 7, step_status::succeeded);
    d = schedule(v, t0);
    EXPECT_EQ(d.ready, (std::vector<int>{8})) << "revoke right after its reset, before the next tier";
    set(v, 8, step_status::succeeded);
    EXPECT_EQ(schedule(v, t0).ready, (std::vector<int>{9}));
}

TEST(Scheduler, a_failed_block_holds_back_everything_after_it) {
    auto v = walkthrough();
    succeed_through(v, 3);
    set(v, 4, step_status::failed, "HTTP 403 Authorization_RequestDenied");
    const auto d = schedule(v, t0 + minutes(90));
    EXPECT_TRUE(d.ready.empty());
    EXPECT_FALSE(d.wake_at);
    EXPECT_TRUE(d.done);
    EXPECT_EQ(d.status, incident_status::needs_attention);
    EXPECT_EQ(d.current_phase, phase::block);
}

TEST(Scheduler, a_failed_step_never_delays_a_due_check) {
    auto v = contained_through(10);
    v.find(12)->status = step_status::pending;  // the clerk's cleanup is backing off for a long time
    v.find(12)->not_before = t0 + minutes(29);
    set(v, 11, step_status::succeeded);
    auto d = schedule(v, t0 + minutes(15));
    EXPECT_EQ(d.ready, (std::vector<int>{16})) << "the +15 check is due; the retrying cleanup is not";
    ASSERT_EQ(d.due_times.size(), 1u);
    EXPECT_EQ(d.due_times[0], std::make_pair(16, t0 + minutes(15)));
    EXPECT_EQ(d.current_phase, phase::methods);

    // The cleanup gives up: the +30 check still runs on time, before anything else.
    set(v, 12, step_status::failed, "step deadline passed");
    set(v, 16, step_status::succeeded);
    v.find(16)->not_before = t0 + minutes(15);
    d = schedule(v, t0 + minutes(30));
    ASSERT_FALSE(d.ready.empty());
    EXPECT_EQ(d.ready.front(), 17);
    EXPECT_EQ(d.status, incident_status::needs_attention);
}

TEST(Scheduler, checks_wait_for_the_containment_time_only) {
    auto v = walkthrough();
    succeed_through(v, 3);
    auto d = schedule(v, t0 + minutes(100));
    EXPECT_FALSE(has(d.ready, 16)) << "no block yet: no check";
    v.contained_at = t0;
    set(v, 4, step_status::succeeded);
    d = schedule(v, t0 + minutes(100));
    EXPECT_EQ(d.ready.front(), 16) << "overdue: due first, ahead of the revocations";
    EXPECT_TRUE(has(d.ready, 5));
    EXPECT_FALSE(has(d.ready, 17)) << "overdue checks run one after the other, in order";
}

TEST(Scheduler, a_check_waiting_out_a_retry_holds_back_the_checks_due_after_it) {
    auto v = contained_through(15);
    v.find(16)->not_before = t0 + minutes(61) + seconds(9);  // +15 was throttled: Retry-After 9 s
    auto d = schedule(v, t0 + minutes(61));
    EXPECT_TRUE(d.ready.empty()) << "+30 and +60 read the same throttled log after +15, not beside it";
    EXPECT_EQ(d.wake_at, t0 + minutes(61) + seconds(9));
    d = schedule(v, t0 + minutes(61) + seconds(9));
    EXPECT_EQ(d.ready, (std::vector<int>{16}));

    set(v, 16, step_status::failed, "step deadline passed");  // a check that gave up holds nothing
    d = schedule(v, t0 + minutes(66));
    EXPECT_EQ(d.ready, (std::vector<int>{17}));
}

TEST(Scheduler, a_waiting_check_sets_the_wake_up) {
    auto v = contained_through(15);
    auto d = schedule(v, t0 + minutes(1));
    EXPECT_TRUE(d.ready.empty());
    EXPECT_EQ(d.wake_at, t0 + minutes(15));
    EXPECT_EQ(d.status, incident_status::verifying);
    EXPECT_EQ(d.current_phase, phase::verify);
}

TEST(Scheduler, the_latest_due_check_gives_the_verdict) {
    auto v = contained_through(18);
    v.find(16)->verdict = "attention";
    v.find(17)->verdict = "contained";
    v.find(18)->verdict = "contained";
    auto d = schedule(v, t0 + minutes(61));
    EXPECT_TRUE(d.done);
    EXPECT_EQ(d.status, incident_status::contained);
    EXPECT_EQ(d.current_phase, phase::done);
    EXPECT_TRUE(d.attention.empty());

    v.find(18)->verdict = "attention";
    v.find(18)->diagnosis = {"persistence: the service principal still signs in"};
    d = schedule(v, t0 + minutes(61));
    EXPECT_EQ(d.status, incident_status::needs_attention);
    EXPECT_EQ(d.attention, (std::vector<std::string>{"persistence: the service principal still signs in"}));
}

TEST(Scheduler, methods_a_cleanup_kept_are_listed_at_once_and_leave_the_verdict_alone) {
    const std::string kept =
        "ap.clerk@contoso.com: the targeted cleanup kept the fido2 method m1; confirm with the user";
    auto v = contained_through(12);
    v.find(12)->diagnosis = {kept};
    auto d = schedule(v, t0 + minutes(1));
    EXPECT_EQ(d.status, incident_status::running);
    EXPECT_EQ(d.attention, std::vector<std::string>{kept}) << "listed when the cleanup finished, not at a check";

    succeed_through(v, 18);
    for (int check : {16, 17, 18}) v.find(check)->verdict = "contained";
    d = schedule(v, t0 + minutes(61));
    EXPECT_TRUE(d.done);
    EXPECT_EQ(d.status, incident_status::contained);
    EXPECT_EQ(d.attention, std::vector<std::string>{kept});
}

TEST(Scheduler, a_confirmation_check_appended_later_is_the_one_that_counts) {
    auto v = contained_through(18);
    v.find(18)->verdict = "pending";  // +60 could not settle the window
    plan_builder b(v, 8);
    const int confirm = b.check(70);
    v = b.v;
    auto d = schedule(v, t0 + minutes(61));
    EXPECT_FALSE(d.done);
    EXPECT_EQ(d.status, incident_status::verifying);
    EXPECT_EQ(d.wake_at, t0 + minutes(70));
    set(v, confirm, step_status::succeeded);
    v.find(confirm)->verdict = "contained";
    d = schedule(v, t0 + minutes(71));
    EXPECT_EQ(d.status, incident_status::contained);
}

TEST(Scheduler, a_check_nobody_could_settle_needs_attention_at_the_end) {
    auto v = contained_through(18);
    v.find(18)->verdict = "pending";
    expect_over_with_one_item(schedule(v, t0 + minutes(61)), incident_status::needs_attention,
                              "did not confirm containment");
}

TEST(Scheduler, a_re_verify_now_runs_at_once_while_later_checks_wait) {
    auto v = contained_through(16);
    plan_builder b(v, 9);
    const int now_check = b.check(20);
    v = b.v;
    const auto d = schedule(v, t0 + minutes(20));
    EXPECT_EQ(d.ready, (std::vector<int>{now_check})) << "not held back by the +30 and +60 still to come";
    EXPECT_EQ(d.wake_at, t0 + minutes(30));
}

TEST(Scheduler, a_backoff_wait_is_the_wake_up_and_nothing_runs_before_it) {
    auto v = walkthrough();
    v.find(2)->not_before = t0 + seconds(7);
    auto d = schedule(v, t0);
    EXPECT_EQ(d.ready, (std::vector<int>{1})) << "the app's evidence waits for the critical path";
    EXPECT_EQ(d.wake_at, t0 + seconds(7));
    v.find(1)->dispatched = true;
    v.find(3)->dispatched = true;
    d = schedule(v, t0 + seconds(7));
    EXPECT_EQ(d.ready, (std::vector<int>{2})) << "dispatched steps are not handed out twice";
}

TEST(Scheduler, an_unapproved_optional_step_holds_nothing_back_and_is_listed) {
    auto v = contained_through(18);
    for (int seq : {16, 17, 18}) v.find(seq)->verdict = "contained";
    plan_builder b(v, 6);
    const int del = b.add(phase::apps, step_kind::delete_application, app);
    b.v.find(del)->status = step_status::waiting_approval;
    expect_over_with_one_item(schedule(b.v, t0 + minutes(61)), incident_status::contained,
                              "waits for an operator's approval");
}

TEST(Scheduler, a_cancelled_incident_runs_only_its_release) {
    auto v = contained_through(6);
    for (auto& s : v.steps)
        if (s.status == step_status::pending) s.status = step_status::skipped;
    v.status = incident_status::cancelled;
    v.attention = {"cancelled by ops"};
    auto d = schedule(v, t0);
    EXPECT_TRUE(d.ready.empty());
    EXPECT_TRUE(d.done);
    EXPECT_EQ(d.status, incident_status::cancelled);

    plan_builder b(v, 9);
    const int release = b.add(phase::release, step_kind::release_block, "emergency policy");
    d = schedule(b.v, t0);
    EXPECT_EQ(d.ready, (std::vector<int>{release}));
    EXPECT_EQ(d.status, incident_status::cancelled);
    EXPECT_EQ(d.current_phase, phase::release);
    EXPECT_EQ(d.attention, (std::vector<std::string>{"cancelled by ops"}));
    EXPECT_FALSE(d.done);
    b.v.find(release)->status = step_status::succeeded;
    d = schedule(b.v, t0);
    EXPECT_TRUE(d.done);
    EXPECT_EQ(d.status, incident_status::cancelled);
}

TEST(Scheduler, a_release_runs_at_once_from_needs_attention) {
    auto v = contained_through(6);
    set(v, 7, step_status::failed, "HTTP 403");
    v.find(9)->status = step_status::running;
    plan_builder b(v, 9);
    const int release = b.add(phase::release, step_kind::release_block, "emergency policy");
    const auto d = schedule(b.v, t0);
    EXPECT_TRUE(has(d.ready, release)) << "not held back by the reset in flight or the failure";
    EXPECT_EQ(d.status, incident_status::needs_attention);
}

TEST(Scheduler, an_added_batch_resolves_then_asks_for_its_plan_and_runs_beside_the_first) {
    auto v = contained_through(6);
    v.find(7)->status = step_status::running;  // batch 0 is resetting its privileged account
    plan_builder b(v, 9);
    const int resolve = b.add(phase::resolve, step_kind::resolve_account, "cfo.assistant@contoso.com", {}, 1);
    auto d = schedule(b.v, t0 + minutes(1));
    EXPECT_TRUE(has(d.ready, resolve)) << "not held back by batch 0's work in lower stages";
    b.v.find(resolve)->status = step_status::succeeded;
    d = schedule(b.v, t0 + minutes(1));
    EXPECT_EQ(d.refine_batch, 1);
    EXPECT_TRUE(d.ready.empty());

    // Its plan: a block, a revoke, resets in tier order, all in batch 1.
    b.stage = 10;
    const int block = b.add(phase::block, step_kind::enable_emergency_policy, "policy", {}, 1);
    b.stage = 11;
    const int revoke = b.add(phase::revoke, step_kind::revoke_sessions, "cfo.assistant@contoso.com", {}, 1);
    d = schedule(b.v, t0 + minutes(1));
    EXPECT_FALSE(d.refine_batch);
    EXPECT_TRUE(has(d.ready, block));
    EXPECT_FALSE(has(d.ready, revoke));
    b.v.find(block)->status = step_status::succeeded;
    EXPECT_TRUE(has(schedule(b.v, t0 + minutes(1)).ready, revoke));
}

TEST(Scheduler, subjects_name_the_account_or_app_and_none_for_the_whole_incident) {
    EXPECT_EQ(subject_of(step_kind::reset_password, "a@b.c"), "account a@b.c");
    EXPECT_EQ(subject_of(step_kind::remove_inbox_rules, "a@b.c"), "account a@b.c");
    EXPECT_EQ(subject_of(step_kind::disable_service_principal, app), std::string("app ") + app);
    EXPECT_EQ(subject_of(step_kind::enable_emergency_policy, "policy"), "");
    EXPECT_EQ(subject_of(step_kind::verify_signins, "+15m"), "");
}
