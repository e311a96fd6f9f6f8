#include "engine/engine.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/as_tuple.hpp>

#include <algorithm>
#include <deque>
#include <random>
#include <spdlog/spdlog.h>

#include "core/time.hpp"
#include "incident/validation.hpp"
#include "store/sqlite.hpp"

namespace containd::engine {
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using incident::phase;
using incident::step_kind;
using store::incident_status;
using store::step_status;

namespace {

struct step_state {
    int seq = 0;
    int stage = 0;
    phase step_phase = phase::resolve;
    step_kind kind = step_kind::resolve_account;
    std::optional<int> depends_on;
    bool requires_approval = false;
    step_status status = step_status::pending;
    std::optional<time_point> not_before;
    std::optional<std::int64_t> offset_ms;
    bool dispatched = false;  // queued or in flight in this process
};

struct incident_state {
    std::string id;
    std::string tenant;
    std::vector<step_state> steps;
    std::optional<time_point> contained_at;
    bool refined = false;
    incident_status status = incident_status::running;
    phase current_phase = phase::resolve;
    std::vector<std::string> attention;

    step_state* find(int seq) {
        for (auto& s : steps)
            if (s.seq == seq) return &s;
        return nullptr;
    }
};

bool finished(step_status s) { return s == step_status::succeeded || s == step_status::skipped; }

// A step holds back later stages until it is finished; an unapproved optional step does not.
bool blocking(const step_state& s) { return !finished(s.status) && s.status != step_status::waiting_approval; }

std::string check_label(std::int64_t offset_ms) {
    if (offset_ms % 60000 == 0) return "+" + std::to_string(offset_ms / 60000) + "m";
    return "+" + std::to_string(offset_ms / 1000) + "s";
}

}  // namespace

struct engine::impl : std::enable_shared_from_this<impl> {
    impl(asio::any_io_executor ex, store::store& d, const clock_source& c,
         std::map<std::string, incident::tenant_settings> t, runner_table r, engine_options o)
        : executor(std::move(ex)), db(d), clock(c), tenants(std::move(t)), runners(std::move(r)), options(o),
          rng(o.seed ? o.seed : std::random_device{}()), timer(executor), resync_timer(executor) {}

    asio::any_io_executor executor;
    store::store& db;
    const clock_source& clock;
    std::map<std::string, incident::tenant_settings> tenants;
    runner_table runners;
    engine_options options;
    std::mt19937_64 rng;

    std::map<std::string, incident_state> incidents;
    std::multimap<time_point, std::string> wakeups;  // may hold stale entries: evaluate() is idempotent
    std::deque<std::pair<std::string, int>> ready;
    std::map<std::pair<std::string, int>, std::shared_ptr<asio::cancellation_signal>> running;
    asio::steady_timer timer;
    std::optional<time_point> timer_target;
    // Incidents whose store write failed: re-read from the store once it takes writes again.
    std::set<std::string> resync;
    asio::steady_timer resync_timer;
    duration resync_delay = resync_first_delay;
    bool resync_armed = false;
    static constexpr duration resync_first_delay = milliseconds(200);
    static constexpr duration resync_max_delay = seconds(5);
    bool stopped = false;
    std::function<void(const std::string&)> observer;
    counters stats;

    // ------------------------------------------------------------ loading

    void load(const std::optional<std::string>& only) {
        auto sched = db.load_schedule(only);
        for (auto& si : sched.incidents) {
            incident_state st;
            st.id = si.id;
            st.tenant = si.tenant;
            st.contained_at = si.contained_at;
            st.refined = si.plan_refined;
            st.status = si.status;
            st.current_phase = si.current_phase;
            st.attention = si.attention;
            incidents[si.id] = std::move(st);
        }
        for (auto& ss : sched.steps) {
            auto it = incidents.find(ss.incident_id);
            if (it == incidents.end()) continue;
            step_state s;
            s.seq = ss.seq;
            s.stage = ss.stage;
            s.step_phase = ss.step_phase;
            s.kind = ss.kind;
            s.depends_on = ss.depends_on;
            s.requires_approval = ss.requires_approval;
            // A step left running by a dead process runs again: its runner reconciles.
            s.status = ss.status == step_status::running ? step_status::pending : ss.status;
            s.not_before = ss.not_before;
            s.offset_ms = ss.offset_ms;
            it->second.steps.push_back(s);
        }
    }

    // Re-reads one incident from the store, keeping what this process has queued or in flight.
    void reload(const std::string& id) {
        incidents.erase(id);
        load(id);
        auto it = incidents.find(id);
        if (it == incidents.end()) return;
        for (auto& s : it->second.steps) {
            const std::pair<std::string, int> key{id, s.seq};
            if (running.count(key) || std::find(ready.begin(), ready.end(), key) != ready.end()) s.dispatched = true;
        }
    }

    // ------------------------------------------------------------ evaluation

    void evaluate(const std::string& id) {
        if (stopped) return;
        auto it = incidents.find(id);
        if (it == incidents.end()) return;
        incident_state& inc = it->second;
        const time_point now = clock.now();

        if (inc.status == incident_status::cancelled) {
            incidents.erase(it);
            return;
        }

        // A failed step stops the incident where it stands: nothing after it runs.
        std::vector<std::string> failures;
        for (const auto& s : inc.steps)
            if (s.status == step_status::failed) failures.push_back(describe_failure(inc, s));
        if (!failures.empty()) {
            phase p = inc.current_phase;
            for (const auto& s : inc.steps)
                if (s.status == step_status::failed) {
                    p = s.step_phase;
                    break;
                }
            publish(inc, incident_status::needs_attention, p, failures);
            return;
        }

        // The frontier: the lowest stage that still has blocking work.
        std::optional<int> frontier;
        for (const auto& s : inc.steps)
            if (blocking(s) && (!frontier || s.stage < *frontier)) frontier = s.stage;

        // Once the resolve phase is done, re-derive the plan from what the directory said.
        if (!inc.refined && (!frontier || inc.steps.empty() || phase_of_stage(inc, *frontier) != phase::resolve)) {
            if (!refine_plan(inc)) return;
            evaluate(id);
            return;
        }

        if (!frontier) {
            finish(inc);
            return;
        }

        std::optional<time_point> earliest;
        for (auto& s : inc.steps) {
            if (s.dispatched || s.status != step_status::pending || s.stage > *frontier) continue;
            if (s.depends_on) {
                const step_state* dep = inc.find(*s.depends_on);
                if (dep && !finished(dep->status)) continue;
            }
            if (s.kind == step_kind::verify_signins && !s.not_before) {
                if (!inc.contained_at) continue;  // cannot happen once the block step succeeded
                s.not_before = *inc.contained_at + milliseconds(s.offset_ms.value_or(0));
                db.set_not_before(inc.id, s.seq, *s.not_before);
            }
            if (s.not_before && *s.not_before > now) {
                if (!earliest || *s.not_before < *earliest) earliest = s.not_before;
                continue;
            }
            s.dispatched = true;
            // A check is due at a fixed time and measures the window since containment; every
            // other step is as-soon-as-possible. So a due check goes ahead of the queue.
            if (s.kind == step_kind::verify_signins) ready.emplace_front(inc.id, s.seq);
            else ready.emplace_back(inc.id, s.seq);
        }
        if (earliest) add_wakeup(*earliest, inc.id);

        const phase p = phase_of_stage(inc, *frontier);
        std::vector<std::string> attention = pending_approvals(inc);
        incident_status status = p == phase::verify ? incident_status::verifying : incident_status::running;
        if (p == phase::verify) {  // a check's attention is raised at once; the checks go on
            const auto check = latest_check(inc);
            attention.insert(attention.end(), check.attention.begin(), check.attention.end());
            if (check.needs_attention) status = incident_status::needs_attention;
        }
        publish(inc, status, p, attention);
        pump();
    }

    // ------------------------------------------------------------ verification verdicts

    // The latest verification check (DOMAIN.md step 7): its verdict, what needs a human now, and
    // what to confirm with users. Each check re-reads the whole window, so the latest one holds.
    struct check_view {
        std::optional<store::step_record> record;
        std::string verdict;
        std::vector<std::string> attention;
        bool needs_attention = false;
    };
    check_view latest_check(const incident_state& inc) {
        const step_state* last = nullptr;
        for (const auto& s : inc.steps)
            if (s.kind == step_kind::verify_signins && s.status == step_status::succeeded &&
                (!last || s.stage > last->stage))
                last = &s;
        check_view v;
        if (!last) return v;
        v.record = db.step(inc.id, last->seq);
        if (!v.record) return v;
        const auto& r = v.record->result;
        v.verdict = r.value("verdict", "contained");
        if (v.verdict == "attention") {
            v.needs_attention = true;
            v.attention = r.value("attention", r.value("diagnosis", std::vector<std::string>{}));
        }
        for (const auto& line : r.value("confirm_with_user", std::vector<std::string>{})) v.attention.push_back(line);
        return v;
    }

    // The last check could not say "contained" yet (window not settled, a residual window open):
    // append the confirmation check it asked for, as release appends release_block. False when
    // it gave no time or too many confirmations already ran.
    static constexpr int max_confirmations = 24;
    bool schedule_confirmation(incident_state& inc, const store::step_record& last) {
        const auto at = parse_rfc3339(last.result.value("confirm_at", ""));
        if (!at || !inc.contained_at) return false;
        int confirmations = 0;
        for (const auto& s : db.steps(inc.id))
            if (s.kind == step_kind::verify_signins && s.params.value("confirmation", false)) ++confirmations;
        if (confirmations >= max_confirmations) return false;
        const auto offset_ms = std::chrono::duration_cast<milliseconds>(*at - *inc.contained_at).count();
        const std::string id = inc.id;  // reload() replaces inc
        int open_windows = 0;
        for (const auto& w : last.result.value("residual_windows", nlohmann::json::array()))
            if (!w.value("ended", true)) ++open_windows;
        const std::string reason = "settled through " + last.result.value("settled_through", std::string("?")) +
                                   (open_windows ? ", " + std::to_string(open_windows) + " residual window(s) open" : "");
        db.append_confirmation_check(id, offset_ms,
                                     {{"after", last.seq}, {"confirm_at", format_rfc3339(*at)}, {"reason", reason}});
        reload(id);
        evaluate(id);
        return true;
    }

    phase phase_of_stage(const incident_state& inc, int stage) const {
        for (const auto& s : inc.steps)
            if (s.stage == stage) return s.step_phase;
        return phase::done;
    }

    std::vector<std::string> pending_approvals(const incident_state& inc) {
        std::vector<std::string> out;
        for (const auto& s : inc.steps)
            if (s.status == step_status::waiting_approval)
                out.push_back("step " + std::to_string(s.seq) + " (" + std::string(incident::to_string(s.kind)) +
                              ") waits for an operator's approval");
        return out;
    }

    std::string describe_failure(const incident_state& inc, const step_state& s) {
        auto rec = db.step(inc.id, s.seq);
        return "step " + std::to_string(s.seq) + " (" + std::string(incident::to_string(s.kind)) + " " +
               (rec ? rec->target : "") + ") failed: " + (rec ? rec->error : "unknown error");
    }

    bool refine_plan(incident_state& inc) {
        auto rec = db.get_incident(inc.id);
        if (!rec) return false;
        auto tenant = tenants.find(inc.tenant);
        if (tenant == tenants.end()) {
            publish(inc, incident_status::needs_attention, phase::resolve,
                    {"tenant '" + inc.tenant + "' is no longer configured"});
            return false;
        }
        auto request = parse_request(*rec);
        std::map<std::string, incident::directory_facts> facts;
        for (const auto& s : db.steps(inc.id)) {
            if (s.kind != step_kind::resolve_account || s.status != step_status::succeeded) continue;
            incident::directory_facts f;
            f.object_id = s.result.value("object_id", "");
            f.admin_roles = s.result.value("admin_roles", std::vector<std::string>{});
            f.on_premises_sync = s.result.value("on_premises_sync", false);
            f.passwordless = s.result.value("passwordless", false);
            facts[s.target] = std::move(f);
        }
        auto planned = incident::make_plan(request, tenant->second, facts);
        if (auto* refused = std::get_if<incident::refusal>(&planned)) {
            std::vector<std::string> reasons = refused->reasons;
            db.append_event(inc.id, "plan_refused", std::nullopt, {{"reasons", reasons}});
            publish(inc, incident_status::needs_attention, phase::resolve, reasons);
            return false;
        }
        const std::string id = inc.id;  // reload() replaces inc
        db.replace_pending_plan(id, std::get<incident::plan>(planned));
        reload(id);
        notify(id);
        return true;
    }

    static incident::incident_request parse_request(const store::incident_record& rec) {
        // The request was validated before it was stored; its canonical JSON always parses.
        auto parsed = incident::parse_submission(rec.request, rec.created_at);
        if (auto* r = std::get_if<incident::incident_request>(&parsed)) return *r;
        throw std::runtime_error("stored request of incident " + rec.id + " no longer validates");
    }

    void finish(incident_state& inc) {
        // The last check gives the verdict; without checks, containment itself is the verdict.
        std::vector<std::string> attention = pending_approvals(inc);
        incident_status verdict = incident_status::contained;
        const auto check = latest_check(inc);
        if (check.record && check.verdict == "verifying") {
            if (schedule_confirmation(inc, *check.record)) return;
            verdict = incident_status::needs_attention;
            attention.push_back("verification could not settle: the last check (" + check.record->result.value("check", "") +
                                ") still waits for the sign-in window and residual windows; re-run verification");
        }
        if (check.needs_attention) verdict = incident_status::needs_attention;
        attention.insert(attention.end(), check.attention.begin(), check.attention.end());
        publish(inc, verdict, phase::done, attention);
        incidents.erase(inc.id);
    }

    void publish(incident_state& inc, incident_status status, phase p, const std::vector<std::string>& attention) {
        if (inc.status == status && inc.current_phase == p && inc.attention == attention) return;
        db.set_incident_state(inc.id, status, p, attention);  // committed first, then believed
        inc.status = status;
        inc.current_phase = p;
        inc.attention = attention;
        notify(inc.id);
    }

    void notify(const std::string& id) {
        if (observer) observer(id);
    }

    // ------------------------------------------------------------ timers

    void add_wakeup(time_point at, const std::string& id) {
        wakeups.emplace(at, id);
        arm_timer();
    }

    void arm_timer() {
        if (stopped || wakeups.empty()) return;
        const time_point target = wakeups.begin()->first;
        if (timer_target && *timer_target <= target) return;
        timer_target = target;
        const duration wait = std::clamp(target - clock.now(), duration::zero(), options.max_timer_sleep);
        timer.expires_after(std::chrono::duration_cast<asio::steady_timer::duration>(wait));
        timer.async_wait([self = weak_from_this()](boost::system::error_code ec) {
            if (ec) return;
            if (auto me = self.lock()) me->on_timer();
        });
    }

    void on_timer() {
        timer_target.reset();
        fire_due();
        arm_timer();
    }

    void fire_due() {
        const time_point now = clock.now();
        std::vector<std::string> due;
        while (!wakeups.empty() && wakeups.begin()->first <= now) {
            due.push_back(wakeups.begin()->second);
            wakeups.erase(wakeups.begin());
        }
        for (const auto& id : due) evaluate_guarded(id);
    }

    // ------------------------------------------------------------ storage failures

    // evaluate() for callers that cannot take an exception (timers, the API after a commit).
    void evaluate_guarded(const std::string& id) {
        try {
            evaluate(id);
        } catch (const store::storage_error& e) {
            on_storage_failure(id, e);
        }
    }

    // A store call of this incident failed: what this process believes of it may be ahead of
    // what committed (a step done in memory, not on disk). Forget it, and re-read it from the
    // store when writes work again; steps left running there are re-run and reconciled.
    void on_storage_failure(const std::string& id, const std::exception& e) {
        spdlog::error("engine: storage failure in incident {}: {}; re-reading it from the store once writes work", id,
                      e.what());
        incidents.erase(id);
        resync.insert(id);
        arm_resync();
    }

    void arm_resync() {
        if (stopped || resync_armed || resync.empty()) return;
        resync_armed = true;
        resync_timer.expires_after(std::chrono::duration_cast<asio::steady_timer::duration>(resync_delay));
        resync_timer.async_wait([self = weak_from_this()](boost::system::error_code ec) {
            if (ec) return;
            if (auto me = self.lock()) {
                me->resync_armed = false;
                me->run_resync();
            }
        });
    }

    void run_resync() {
        if (stopped) return;
        const std::set<std::string> ids = std::move(resync);
        resync.clear();
        bool failed = false;
        for (const auto& id : ids) {
            if (failed) {  // the store still fails: do not hammer it, try the rest next time
                resync.insert(id);
                continue;
            }
            try {
                reload(id);
                evaluate(id);
            } catch (const store::storage_error&) {
                failed = true;
                incidents.erase(id);
                resync.insert(id);
            }
        }
        resync_delay = failed ? std::min<duration>(resync_delay * 2, resync_max_delay) : resync_first_delay;
        arm_resync();
    }

    // ------------------------------------------------------------ dispatch

    void pump() {
        while (!stopped && !ready.empty() && running.size() < options.max_concurrent_steps) {
            auto [id, seq] = ready.front();
            ready.pop_front();
            auto signal = std::make_shared<asio::cancellation_signal>();
            running[{id, seq}] = signal;
            // The handler owns the signal: the coroutine stays bound to its slot until it has
            // completed, after run_step has already dropped its entry from `running` (freeing
            // the signal there was a use after free once anything reused the memory).
            asio::co_spawn(executor, run_step(shared_from_this(), id, seq),
                           asio::bind_cancellation_slot(signal->slot(), [signal](std::exception_ptr e) {
                               if (!e) return;
                               try {
                                   std::rethrow_exception(e);
                               } catch (const std::exception& ex) {
                                   spdlog::error("engine: step coroutine ended with an exception: {}", ex.what());
                               }
                           }));
        }
    }

    static asio::awaitable<void> attempt_timeout(duration d) {
        asio::steady_timer t(co_await asio::this_coro::executor);
        t.expires_after(std::chrono::duration_cast<asio::steady_timer::duration>(d));
        co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    }

    // Never throws: `a || b` completes on the first branch that *succeeds*, so an exception here
    // would sit out the attempt timeout (60 s in production) and then be lost as a "timeout".
    // A storage failure (not the step's fault, not retryable from here) is handed back in
    // *storage_failure for attempt() to rethrow.
    static asio::awaitable<step_outcome> guarded_run(std::shared_ptr<step_runner> runner, const step_context& ctx,
                                                     std::exception_ptr* storage_failure) {
        try {
            co_return co_await runner->run(ctx);
        } catch (const store::storage_error&) {
            *storage_failure = std::current_exception();
            co_return step_outcome::failed(0, "storage failure");
        } catch (const std::exception& e) {
            co_return step_outcome::failed(0, std::string("runner error: ") + e.what());
        }
    }

    static asio::awaitable<void> run_step(std::shared_ptr<impl> self, std::string id, int seq) {
        bool failed = false;
        try {
            co_await self->attempt(id, seq);
        } catch (const store::storage_error& e) {
            // The effect may have happened but its record did not commit: the step is re-read
            // from the store (still running there) and re-run, reconciling, once writes work.
            self->running.erase({id, seq});
            self->on_storage_failure(id, e);
            failed = true;
        }
        if (!failed) {
            self->running.erase({id, seq});
            self->evaluate_guarded(id);
        }
        self->pump();
    }

    asio::awaitable<void> attempt(const std::string& id, int seq) {
        auto inc_it = incidents.find(id);
        if (inc_it == incidents.end()) co_return;
        const auto record = db.get_incident(id);
        auto tenant = tenants.find(inc_it->second.tenant);
        if (!record || tenant == tenants.end()) co_return;
        const step_state* planned = inc_it->second.find(seq);
        if (!planned) co_return;
        auto runner_it = runners.find(planned->kind);

        const time_point now = clock.now();
        const int attempt_no = db.begin_attempt(id, seq, now + options.retry.step_deadline);
        const auto step = db.step(id, seq);
        ++stats.attempts;
        notify(id);

        step_outcome outcome;
        if (runner_it == runners.end() || !runner_it->second) {
            outcome = step_outcome::give_up("no runner is configured for this step kind");
        } else {
            const auto request = parse_request(*record);
            const step_context ctx{db, *record, request, *step, tenant->second, clock, attempt_no};
            std::exception_ptr storage_failure;
            auto result = co_await (guarded_run(runner_it->second, ctx, &storage_failure) ||
                                    attempt_timeout(options.retry.attempt_timeout));
            if (storage_failure) std::rethrow_exception(storage_failure);
            if (result.index() == 0) {
                outcome = std::move(std::get<0>(result));
            } else {
                ++stats.timeouts;
                outcome = step_outcome::failed(0, "the attempt timed out; the outcome is unknown and will be reconciled");
            }
        }
        if (stopped) co_return;

        auto inc_now = incidents.find(id);
        step_state* state = inc_now == incidents.end() ? nullptr : inc_now->second.find(seq);
        if (outcome.succeeded) {
            if (step->kind == step_kind::verify_signins && record->contained_at) {
                // A timer's lateness: how long after contained_at + offset the check ran.
                const std::int64_t offset_ms = step->params.value("offset_ms", std::int64_t{0});
                const time_point due = *record->contained_at + milliseconds(offset_ms);
                const time_point ran = clock.now();
                outcome.result["check"] = check_label(offset_ms);
                outcome.result["due_at"] = format_rfc3339(due);
                outcome.result["ran_at"] = format_rfc3339(ran);
                outcome.result["lateness_ms"] = std::max<std::int64_t>(0, to_unix_ms(ran) - to_unix_ms(due));
            }
            db.complete_step(id, seq, outcome.result);
            ++stats.succeeded;
            if (state) state->status = step_status::succeeded;
            if (step->kind == step_kind::enable_emergency_policy && inc_now != incidents.end()) {
                auto fresh = db.get_incident(id);
                if (fresh) inc_now->second.contained_at = fresh->contained_at;
            }
        } else {
            const time_point deadline = step->deadline.value_or(clock.now());
            retry_decision decision;
            if (outcome.permanent) {
                decision.reason = outcome.failure.message;
            } else {
                decision = decide_retry(options.retry, attempt_no, outcome.failure, clock.now(), deadline, rng);
            }
            if (decision.retry) {
                db.schedule_retry(id, seq, decision.not_before, outcome.failure.message);
                ++stats.retries;
                if (state) {
                    state->status = step_status::pending;
                    state->not_before = decision.not_before;
                }
            } else {
                db.fail_step(id, seq, decision.reason);
                ++stats.failed;
                if (state) state->status = step_status::failed;
            }
        }
        if (state) state->dispatched = false;
        notify(id);
    }
};

engine::engine(asio::any_io_executor executor, store::store& db, const clock_source& clock,
               std::map<std::string, incident::tenant_settings> tenants, runner_table runners, engine_options options)
    : impl_(std::make_shared<impl>(std::move(executor), db, clock, std::move(tenants), std::move(runners), options)) {}

engine::~engine() { stop(); }

std::size_t engine::start() {
    impl_->load(std::nullopt);
    std::vector<std::string> ids;
    for (const auto& [id, _] : impl_->incidents) ids.push_back(id);
    for (const auto& id : ids) impl_->evaluate_guarded(id);
    return ids.size();
}

void engine::submit(const std::string& incident_id) {
    // The incident is committed: a storage failure from here on is the engine's to recover
    // from, not the caller's (the API has already earned its 201).
    try {
        impl_->reload(incident_id);
        impl_->evaluate(incident_id);
    } catch (const store::storage_error& e) {
        impl_->on_storage_failure(incident_id, e);
    }
}

void engine::poke() {
    impl_->timer_target.reset();
    impl_->timer.cancel();
    impl_->fire_due();
    impl_->arm_timer();
}

void engine::stop() {
    if (impl_->stopped) return;
    impl_->stopped = true;
    impl_->timer.cancel();
    impl_->resync_timer.cancel();
    for (auto& [key, signal] : impl_->running) signal->emit(asio::cancellation_type::terminal);
    impl_->ready.clear();
}

action_result engine::approve(const std::string& incident_id, int seq, const std::string& who) {
    if (!impl_->db.get_incident(incident_id)) return action_result::not_found;
    if (!impl_->db.approve_step(incident_id, seq, who)) return action_result::conflict;
    submit(incident_id);
    return action_result::done;
}

action_result engine::retry(const std::string& incident_id, int seq, const std::string& who) {
    auto rec = impl_->db.get_incident(incident_id);
    if (!rec) return action_result::not_found;
    if (rec->status == incident_status::cancelled) return action_result::conflict;
    bool reset = false;
    impl_->db.atomically([&] {  // the step and the incident's status move together, or neither
        reset = impl_->db.reset_failed_step(incident_id, seq, who);
        if (reset) impl_->db.set_incident_state(incident_id, incident_status::running, rec->current_phase, {});
    });
    if (!reset) return action_result::conflict;
    submit(incident_id);
    return action_result::done;
}

action_result engine::cancel(const std::string& incident_id, const std::string& who) {
    auto rec = impl_->db.get_incident(incident_id);
    if (!rec) return action_result::not_found;
    if (store::is_final(rec->status)) return action_result::conflict;
    // One transaction: a cancel cut short by a storage failure must not leave steps skipped in
    // an incident that runs on (a skipped step counts as finished: it would be skipped for good).
    impl_->db.atomically([&] {
        for (const auto& s : impl_->db.steps(incident_id))
            if (s.status == step_status::pending || s.status == step_status::waiting_approval)
                impl_->db.set_step_status(incident_id, s.seq, step_status::skipped, "step_cancelled", {{"by", who}});
        impl_->db.set_incident_state(incident_id, incident_status::cancelled, rec->current_phase,
                                     {"cancelled by " + who});
    });
    impl_->incidents.erase(incident_id);
    impl_->notify(incident_id);
    return action_result::done;
}

engine::release_result engine::release(const std::string& incident_id, const std::string& who) {
    if (!impl_->db.get_incident(incident_id)) return {action_result::not_found};
    const auto event_id = impl_->db.append_release_step(incident_id, who);
    if (!event_id) return {action_result::conflict};
    submit(incident_id);
    return {action_result::done, *event_id};
}

bool engine::idle() const {
    if (!impl_->running.empty() || !impl_->ready.empty()) return false;
    return impl_->wakeups.empty() || impl_->wakeups.begin()->first > impl_->clock.now();
}

std::size_t engine::in_flight() const { return impl_->running.size(); }
std::size_t engine::tracked_incidents() const { return impl_->incidents.size(); }

std::optional<time_point> engine::next_wakeup() const {
    if (impl_->wakeups.empty()) return std::nullopt;
    return impl_->wakeups.begin()->first;
}

void engine::on_change(std::function<void(const std::string&)> observer) { impl_->observer = std::move(observer); }

engine::counters engine::stats() const { return impl_->stats; }

}  // namespace containd::engine
