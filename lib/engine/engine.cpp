#include "engine/engine.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <deque>
#include <random>

#include "core/time.hpp"
#include "engine/scheduler.hpp"
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

// One tracked incident: the scheduler's view, and the record and parsed request its runners
// read (loaded once, on the first attempt; shared with attempts in flight, so a refresh never
// pulls them from under a runner).
struct incident_state {
    std::string tenant;
    incident_view view;
    std::shared_ptr<const store::incident_record> record;
    std::shared_ptr<const incident::incident_request> request;
};

std::string check_label(std::int64_t offset_ms) {
    if (offset_ms % 60000 == 0) return "+" + std::to_string(offset_ms / 60000) + "m";
    return "+" + std::to_string(offset_ms / 1000) + "s";
}

}  // namespace

struct engine::impl : std::enable_shared_from_this<impl> {
    impl(asio::any_io_executor ex, store::store& d, const clock_source& c,
         std::map<std::string, incident::tenant_settings> t, runner_table r, engine_options o)
            : executor(std::move(ex)),
              db(d),
              clock(c),
              tenants(std::move(t)),
              runners(std::move(r)),
              options(o),
              rng(o.seed ? o.seed : std::random_device{}()),
              timer(executor),
              resync_timer(executor) {}

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
    std::map<std::pair<std::string, int>, std::shared_ptr<asio::cancellation_signal>> running;  // steps
    // Attempt coroutines in flight (one per step, or per group), and those of the critical path.
    std::size_t attempts_in_flight = 0, critical_in_flight = 0;
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
    std::vector<std::function<void(const engine_event&)>> event_observers;
    counters stats;
    std::uint64_t record_reads = 0;                       // incident records read for runners (once per incident)
    std::map<std::string, std::vector<int>> interrupted;  // steps a dead process left running
    std::vector<std::pair<std::string, int>> ready_checks, ready_critical, ready_others;

    // ------------------------------------------------------------ loading

    void load(const std::optional<std::string>& only) {
        incident_state* current = nullptr;  // steps come grouped by incident, in the incidents' order
        db.for_each_scheduled(
            only,
            [&](store::schedule_incident&& si) {
                incident_state st;
                st.tenant = std::move(si.tenant);
                st.view.id = si.id;
                st.view.contained_at = si.contained_at;
                st.view.refined = si.plan_refined;
                st.view.status = si.status;
                st.view.current_phase = si.current_phase;
                st.view.attention = std::move(si.attention);
                incidents[si.id] = std::move(st);
            },
            [&](store::schedule_step&& ss) {
                if (!current || current->view.id != ss.incident_id) {
                    auto it = incidents.find(ss.incident_id);
                    if (it == incidents.end()) return;
                    current = &it->second;
                }
                step_view s;
                s.seq = ss.seq;
                s.stage = ss.stage;
                s.batch = ss.batch;
                s.step_phase = ss.step_phase;
                s.kind = ss.kind;
                s.target = std::move(ss.target);
                s.depends_on = ss.depends_on;
                // A step left running by a dead process runs again: its runner reconciles.
                if (ss.status == step_status::running) interrupted[ss.incident_id].push_back(ss.seq);
                s.status = ss.status == step_status::running ? step_status::pending : ss.status;
                s.not_before = ss.not_before;
                s.offset_ms = ss.offset_ms;
                s.error = std::move(ss.error);
                s.verdict = std::move(ss.verdict);
                s.diagnosis = std::move(ss.diagnosis);
                current->view.steps.push_back(std::move(s));
            });
    }

    // Re-reads one incident from the store, keeping what this process has queued or in flight.
    void reload(const std::string& id) {
        incidents.erase(id);
        load(id);
        auto it = incidents.find(id);
        if (it == incidents.end()) return;
        for (auto& s : it->second.view.steps) {
            const std::pair<std::string, int> key{id, s.seq};
            if (running.count(key) || std::find(ready.begin(), ready.end(), key) != ready.end()) s.dispatched = true;
        }
    }

    // The incident record and parsed request for runners: read once, then kept.
    void ensure_record(incident_state& inc) {
        if (inc.record && inc.request) return;
        auto rec = db.get_incident(inc.view.id);
        if (!rec) return;
        ++record_reads;
        inc.request = std::make_shared<const incident::incident_request>(parse_request(*rec));
        inc.record = std::make_shared<const store::incident_record>(std::move(*rec));
    }

    // ------------------------------------------------------------ evaluation

    // Asks the scheduler what to do with one incident and does it: persists what it decided
    // (check times, status), queues the ready steps, arms the wake-up.
    void evaluate(const std::string& id) {
        if (stopped) return;
        auto it = incidents.find(id);
        if (it == incidents.end()) return;
        incident_state& inc = it->second;
        const time_point now = clock.now();
        decision d = schedule(inc.view, now);

        if (d.refine) {
            if (refine_plan(id)) evaluate(id);
            return;
        }
        if (d.refine_batch) {
            if (plan_batch(id, *d.refine_batch)) evaluate(id);
            return;
        }
        for (const auto& [seq, at] : d.due_times) {
            db.set_not_before(id, seq, at);
            if (auto* s = inc.view.find(seq)) s->not_before = at;
        }
        for (auto r = d.ready.rbegin(); r != d.ready.rend(); ++r) {
            step_view* s = inc.view.find(*r);
            s->dispatched = true;
            // A check is due at a fixed time and measures the window since containment, and the
            // critical path is containment itself; every other step is as-soon-as-possible. So
            // due checks and then the critical path go ahead of the queue (1,000 accounts'
            // evidence steps must not hold back the block).
            if (s->kind == step_kind::verify_signins)
                ready_checks.push_back({id, *r});
            else if (on_critical_path(s->kind))
                ready_critical.push_back({id, *r});
            else
                ready_others.push_back({id, *r});
        }
        for (auto r = ready_critical.begin(); r != ready_critical.end(); ++r) ready.push_front(*r);
        for (auto r = ready_checks.begin(); r != ready_checks.end(); ++r) ready.push_front(*r);
        for (auto r = ready_others.rbegin(); r != ready_others.rend(); ++r) ready.push_back(*r);
        ready_checks.clear();
        ready_critical.clear();
        ready_others.clear();
        if (d.wake_at) add_wakeup(*d.wake_at, id);
        publish(inc, d.status, d.current_phase, d.attention);
        if (d.done) incidents.erase(id);
        pump();
    }

    // The directory facts that the resolve steps learned, by UPN; and the UPNs that did not resolve.
    void read_facts(const std::string& id, int batch, std::map<std::string, incident::directory_facts>& facts,
                    std::set<std::string>& unresolved) {
        for (const auto& s : db.steps(id)) {
            if (s.kind != step_kind::resolve_account || s.params.value("batch", 0) != batch) continue;
            if (s.status == step_status::failed) {
                unresolved.insert(s.target);
                continue;
            }
            if (s.status != step_status::succeeded) continue;
            incident::directory_facts f;
            f.object_id = s.result.value("object_id", "");
            f.admin_roles = s.result.value("admin_roles", std::vector<std::string>{});
            f.on_premises_sync = s.result.value("on_premises_sync", false);
            f.passwordless = s.result.value("passwordless", false);
            facts[s.target] = std::move(f);
        }
    }

    // The plan for what resolved: accounts that did not resolve are left out (they are attention
    // items); with no account left, there is nobody to block.
    std::optional<incident::plan> plan_for(const std::string& id, incident_state& inc,
                                           incident::incident_request request,
                                           const std::map<std::string, incident::directory_facts>& facts,
                                           const std::set<std::string>& unresolved) {
        auto tenant = tenants.find(inc.tenant);
        if (tenant == tenants.end()) {
            publish(inc, incident_status::needs_attention, phase::resolve,
                    {"tenant '" + inc.tenant + "' is no longer configured"});
            return std::nullopt;
        }
        const bool had_accounts = !request.accounts.empty();
        std::erase_if(request.accounts,
                      [&](const incident::account_request& a) { return unresolved.count(a.upn) > 0; });
        auto planned = incident::make_plan(request, tenant->second, facts);
        if (auto* refused = std::get_if<incident::refusal>(&planned)) {
            std::vector<std::string> reasons = refused->reasons;
            db.append_event(id, "plan_refused", std::nullopt, {{"reasons", reasons}});
            for (const auto& s : inc.view.steps)
                if (s.status == step_status::failed) reasons.push_back(describe_failure(s));
            publish(inc, incident_status::needs_attention, phase::resolve, reasons);
            return std::nullopt;
        }
        auto p = std::get<incident::plan>(std::move(planned));
        if (had_accounts && request.accounts.empty() && request.scope == incident::scope_kind::accounts)
            std::erase_if(p.steps, [](const incident::planned_step& s) {
                return s.kind == step_kind::enable_emergency_policy || s.kind == step_kind::confirm_block ||
                       s.kind == step_kind::verify_signins;
            });
        return p;
    }

    // The request with only the accounts and apps that one batch resolves.
    static incident::incident_request batch_request(const incident_state& inc, int batch) {
        std::set<std::string> accounts, apps;
        for (const auto& s : inc.view.steps) {
            if (s.batch != batch) continue;
            if (s.kind == step_kind::resolve_account) accounts.insert(s.target);
            if (s.kind == step_kind::capture_app_evidence) apps.insert(s.target);
        }
        incident::incident_request request = *inc.request;
        std::erase_if(request.accounts, [&](const incident::account_request& a) { return !accounts.count(a.upn); });
        std::erase_if(request.malicious_apps, [&](const incident::app_request& a) { return !apps.count(a.app_id); });
        return request;
    }

    // Batch 0's resolve phase is over: re-derive the plan from what the directory said.
    bool refine_plan(const std::string& id) {
        auto& inc = incidents.at(id);
        ensure_record(inc);
        if (!inc.record) return false;
        std::map<std::string, incident::directory_facts> facts;
        std::set<std::string> unresolved;
        read_facts(id, 0, facts, unresolved);
        // Only what batch 0 resolved: accounts or apps added since have batches of their own.
        auto planned = plan_for(id, inc, batch_request(inc, 0), facts, unresolved);
        if (!planned) return false;
        // The resolve steps stay as they ran; what follows them is numbered after them.
        int last_resolve = 0;
        for (const auto& s : inc.view.steps)
            if (s.step_phase == phase::resolve) last_resolve = std::max(last_resolve, s.seq);
        std::map<int, int> renumbered;
        int next = last_resolve;
        for (auto& s : planned->steps)
            if (s.step_phase != phase::resolve) renumbered[s.seq] = ++next;
        for (auto& s : planned->steps) {
            if (s.step_phase == phase::resolve) continue;
            s.seq = renumbered[s.seq];
            if (s.depends_on)
                s.depends_on = renumbered.count(*s.depends_on) ? renumbered[*s.depends_on] : *s.depends_on;
        }
        db.replace_pending_plan(id, *planned);
        reload(id);
        notify(id);
        return true;
    }

    // A later batch (accounts or apps added to a running incident) has resolved: plan the rest
    // of it, from the directory facts, after everything planned so far.
    bool plan_batch(const std::string& id, int batch) {
        auto& inc = incidents.at(id);
        inc.record.reset();  // the request holds the added accounts: read it afresh
        ensure_record(inc);
        if (!inc.record) return false;
        std::map<std::string, incident::directory_facts> facts;
        std::set<std::string> unresolved;
        read_facts(id, batch, facts, unresolved);
        const incident::incident_request request = batch_request(inc, batch);
        auto planned = plan_for(id, inc, request, facts, unresolved);
        if (!planned) return false;
        std::vector<incident::planned_step> later;
        for (auto& s : planned->steps) {
            // Checks already scheduled cover the added accounts too (they read the whole incident).
            if (s.step_phase == phase::resolve || s.kind == step_kind::verify_signins) continue;
            if (request.accounts.empty() &&
                (s.kind == step_kind::enable_emergency_policy || s.kind == step_kind::confirm_block ||
                 s.kind == step_kind::confirm_compromised))
                continue;
            s.params["batch"] = batch;
            later.push_back(std::move(s));
        }
        std::vector<std::string> upns;
        for (const auto& a : request.accounts) upns.push_back(a.upn);
        db.atomically([&] {
            db.add_to_plan(id, *planned);
            db.append_steps(id, later, "batch_planned", {{"batch", batch}, {"accounts", upns}});
        });
        inc.record.reset();
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

    void publish(incident_state& inc, incident_status status, phase p, const std::vector<std::string>& attention) {
        auto& v = inc.view;
        if (v.status == status && v.current_phase == p && v.attention == attention) return;
        db.set_incident_state(v.id, status, p, attention);  // committed first, then believed
        const bool moved = v.status != status;
        v.status = status;
        v.current_phase = p;
        v.attention = attention;
        if (moved) {
            engine_event e;
            e.what = engine_event::kind::status_changed;
            e.incident_id = v.id;
            e.status = status;
            e.current_phase = p;
            e.attention = attention;
            emit(e);
        }
        notify(v.id);
    }

    void emit(const engine_event& e) {
        for (const auto& o : event_observers) o(e);
    }

    void emit_step(engine_event::kind k, const std::string& id, const step_view& s, int attempt,
                   std::string message = {}, std::optional<time_point> not_before = {}) {
        if (event_observers.empty()) return;
        engine_event e;
        e.what = k;
        e.incident_id = id;
        e.seq = s.seq;
        e.step = s.kind;
        e.target = s.target;
        e.attempt = attempt;
        e.message = std::move(message);
        e.not_before = not_before;
        emit(e);
    }

    // Writes the "recovered" audit events from `from` on, a chunk per turn of the executor.
    void record_recovery(std::shared_ptr<std::vector<std::pair<std::string, nlohmann::json>>> records,
                         std::size_t from) {
        if (stopped || from >= records->size()) return;
        constexpr std::size_t chunk = 500;
        const std::size_t to = std::min(records->size(), from + chunk);
        try {
            db.atomically([&] {
                for (std::size_t i = from; i < to; ++i)
                    db.append_event((*records)[i].first, "recovered", std::nullopt, (*records)[i].second);
            });
        } catch (const store::storage_error& e) {
            spdlog::error("engine: could not record the recovery in the audit trail: {}", e.what());
            return;
        }
        asio::post(executor, [self = weak_from_this(), records, to] {
            if (auto me = self.lock()) me->record_recovery(records, to);
        });
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
        while (!stopped && !ready.empty()) {
            const bool critical = critical_first_in_line();
            if (critical ? critical_in_flight >= options.max_concurrent_steps
                         : attempts_in_flight - critical_in_flight >= options.max_concurrent_steps)
                break;
            auto [id, seq] = ready.front();
            ready.pop_front();
            std::vector<int> group = take_group(id, seq);
            auto signal = std::make_shared<asio::cancellation_signal>();
            for (int member : group) running[{id, member}] = signal;
            ++attempts_in_flight;
            if (critical) ++critical_in_flight;
            // The handler owns the signal: the coroutine stays bound to its slot until it has
            // completed, after run_steps has already dropped its entries from `running` (freeing
            // the signal there was a use after free once anything reused the memory).
            asio::co_spawn(executor, run_steps(shared_from_this(), id, std::move(group), critical),
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

    // The critical path has a cap of its own (and goes ahead of the queue): containment never
    // waits for evidence or cleanup attempts to free a place.
    bool critical_first_in_line() const {
        auto inc = incidents.find(ready.front().first);
        const step_view* s = inc == incidents.end() ? nullptr : inc->second.view.find(ready.front().second);
        return s && on_critical_path(s->kind);
    }

    // The step `seq` and, when its runner takes groups, the other ready steps of the same incident
    // and kind (taken out of `ready`), up to the runner's group size.
    std::vector<int> take_group(const std::string& id, int seq) {
        std::vector<int> group{seq};
        auto inc = incidents.find(id);
        const step_view* first = inc == incidents.end() ? nullptr : inc->second.view.find(seq);
        auto runner = first ? runners.find(first->kind) : runners.end();
        if (runner == runners.end() || !runner->second) return group;
        const std::size_t size = runner->second->group_size();
        for (auto it = ready.begin(); it != ready.end() && group.size() < size;) {
            const step_view* s = it->first == id ? inc->second.view.find(it->second) : nullptr;
            if (s && s->kind == first->kind) {
                group.push_back(it->second);
                it = ready.erase(it);
            } else {
                ++it;
            }
        }
        return group;
    }

    static asio::awaitable<void> attempt_timeout(duration d) {
        asio::steady_timer t(co_await asio::this_coro::executor);
        t.expires_after(std::chrono::duration_cast<asio::steady_timer::duration>(d));
        co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    }

    // Never throws: `a || b` completes on the first branch that *succeeds*, so an exception here
    // would sit out the attempt timeout (60 s in production) and then be lost as a "timeout".
    // A storage failure (not the steps' fault, not retryable from here) is handed back in
    // *storage_failure for the caller to rethrow.
    static asio::awaitable<std::vector<step_outcome>> guarded_run(std::shared_ptr<step_runner> runner,
                                                                  std::vector<const step_context*> steps,
                                                                  std::exception_ptr* storage_failure) {
        const std::size_t n = steps.size();
        std::string error;
        try {
            if (n == 1) {
                std::vector<step_outcome> one;
                one.push_back(co_await runner->run(*steps.front()));
                co_return one;
            }
            auto outcomes = co_await runner->run_group(std::move(steps));
            if (outcomes.size() == n) co_return outcomes;
            error = "runner error: outcomes missing";
        } catch (const store::storage_error&) {
            *storage_failure = std::current_exception();
            error = "storage failure";
        } catch (const std::exception& e) {
            error = std::string("runner error: ") + e.what();
        }
        co_return std::vector<step_outcome>(n, step_outcome::failed(0, error));
    }

    static asio::awaitable<void> run_steps(std::shared_ptr<impl> self, std::string id, std::vector<int> seqs,
                                           bool critical) {
        bool failed = false;
        try {
            co_await self->attempt(id, seqs);
        } catch (const store::storage_error& e) {
            // The effect may have happened but its record did not commit: the steps are re-read
            // from the store (still running there) and re-run, reconciling, once writes work.
            for (int seq : seqs) self->running.erase({id, seq});
            --self->attempts_in_flight;
            if (critical) --self->critical_in_flight;
            self->on_storage_failure(id, e);
            failed = true;
        }
        if (!failed) {
            for (int seq : seqs) self->running.erase({id, seq});
            --self->attempts_in_flight;
            if (critical) --self->critical_in_flight;
            self->evaluate_guarded(id);
        }
        self->pump();
    }

    // One attempt of each step in `seqs` (one step, or a group of one kind that its runner does
    // in one go): the attempts begin in one commit, and their outcomes are recorded in one.
    asio::awaitable<void> attempt(const std::string& id, const std::vector<int>& seqs) {
        auto inc_it = incidents.find(id);
        if (inc_it == incidents.end()) co_return;
        ensure_record(inc_it->second);
        // Held by this frame: a refresh of the cache while the runner works leaves these alive.
        const std::shared_ptr<const store::incident_record> record = inc_it->second.record;
        const std::shared_ptr<const incident::incident_request> request = inc_it->second.request;
        auto tenant = tenants.find(inc_it->second.tenant);
        if (!record || !request || tenant == tenants.end()) co_return;
        std::vector<step_view> planned;
        for (int seq : seqs)
            if (const step_view* p = inc_it->second.view.find(seq)) planned.push_back(*p);
        if (planned.size() != seqs.size()) co_return;
        auto runner_it = runners.find(planned.front().kind);

        const time_point now = clock.now();
        std::vector<int> attempt_nos;
        std::vector<store::step_record> steps;  // one row each: the params and the intent a runner left
        db.atomically([&] {
            for (int seq : seqs) {
                attempt_nos.push_back(db.begin_attempt(id, seq, now + options.retry.step_deadline));
                steps.push_back(*db.step(id, seq));
            }
        });
        stats.attempts += seqs.size();
        for (std::size_t i = 0; i < seqs.size(); ++i)
            emit_step(engine_event::kind::step_started, id, planned[i], attempt_nos[i]);
        notify(id);

        std::vector<step_outcome> outcomes;
        if (runner_it == runners.end() || !runner_it->second) {
            outcomes.assign(seqs.size(), step_outcome::give_up("no runner is configured for this step kind"));
        } else {
            std::vector<step_context> contexts;
            contexts.reserve(seqs.size());
            std::vector<const step_context*> pointers;
            for (std::size_t i = 0; i < seqs.size(); ++i) {
                contexts.push_back({db, *record, *request, steps[i], tenant->second, clock, attempt_nos[i]});
                pointers.push_back(&contexts.back());
            }
            std::exception_ptr storage_failure;
            auto result = co_await (guarded_run(runner_it->second, std::move(pointers), &storage_failure) ||
                                    attempt_timeout(options.retry.attempt_timeout));
            if (storage_failure) std::rethrow_exception(storage_failure);
            if (result.index() == 0) {
                outcomes = std::move(std::get<0>(result));
            } else {
                stats.timeouts += seqs.size();
                outcomes.assign(
                    seqs.size(),
                    step_outcome::failed(0, "the attempt timed out; the outcome is unknown and will be reconciled"));
            }
        }
        if (stopped) co_return;

        std::vector<settled> settled_steps;
        db.atomically([&] {
            for (std::size_t i = 0; i < seqs.size(); ++i)
                settled_steps.push_back(persist_outcome(id, steps[i], attempt_nos[i], outcomes[i], *record));
        });
        for (std::size_t i = 0; i < seqs.size(); ++i)
            apply_outcome(id, steps[i], attempt_nos[i], outcomes[i], settled_steps[i]);
        notify(id);
    }

    // What persist_outcome decided, for apply_outcome.
    struct settled {
        std::optional<int> follow_up;  // a confirmation check the step's result asked for
        retry_decision decision;       // a failure: retried or given up
    };

    // Records one attempt's outcome in the store (the caller holds the transaction).
    settled persist_outcome(const std::string& id, const store::step_record& step, int attempt_no,
                            step_outcome& outcome, const store::incident_record& record) {
        settled out;
        const int seq = step.seq;
        auto inc_now = incidents.find(id);
        const std::optional<time_point> contained_at =
            inc_now == incidents.end() ? record.contained_at : inc_now->second.view.contained_at;
        if (outcome.succeeded) {
            if (step.kind == step_kind::verify_signins && contained_at) {
                // A timer's lateness: how long after its due time the check ran.
                const std::int64_t offset_ms = step.params.value("offset_ms", std::int64_t{0});
                const time_point due = *contained_at + milliseconds(offset_ms);
                const time_point ran = clock.now();
                outcome.result["check"] = check_label(offset_ms);
                outcome.result["due_at"] = format_rfc3339(due);
                outcome.result["ran_at"] = format_rfc3339(ran);
                outcome.result["lateness_ms"] = std::max<std::int64_t>(0, to_unix_ms(ran) - to_unix_ms(due));
            }
            if (!outcome.account_update.empty()) db.update_account(id, step.target, outcome.account_update);
            db.complete_step(id, seq, outcome.result);
            if (step.kind == step_kind::verify_signins && contained_at && outcome.follow_up_check) {
                auto confirmation = check_step(*outcome.follow_up_check, *contained_at);
                confirmation.params["confirmation"] = true;  // asked for by a check (issue 10)
                out.follow_up = db.append_steps(id, {std::move(confirmation)}, "check_scheduled",
                                                {{"by", "verification"},
                                                 {"after_check", step.target},
                                                 {"due_at", format_rfc3339(*outcome.follow_up_check)}})
                                    .front();
            }
            return out;
        }
        const time_point deadline = step.deadline.value_or(clock.now());
        if (outcome.permanent)
            out.decision.reason = outcome.failure.message;
        else
            out.decision = decide_retry(options.retry, attempt_no, outcome.failure, clock.now(), deadline, rng);
        if (out.decision.retry)
            db.schedule_retry(id, seq, out.decision.not_before, outcome.failure.message);
        else
            db.fail_step(id, seq, out.decision.reason);
        return out;
    }

    // Believes a recorded outcome: the in-memory view, the counters and the observers.
    void apply_outcome(const std::string& id, const store::step_record& step, int attempt_no,
                       const step_outcome& outcome, const settled& done) {
        const int seq = step.seq;
        auto inc_now = incidents.find(id);
        step_view* state = inc_now == incidents.end() ? nullptr : inc_now->second.view.find(seq);
        if (outcome.succeeded) {
            ++stats.succeeded;
            if (state) {
                state->status = step_status::succeeded;
                state->error.clear();
                // What needs a human ("attention"; a check's older results: the whole diagnosis).
                std::vector<std::string> none;
                if (step.kind == step_kind::verify_signins) {
                    state->verdict = outcome.result.value("verdict", "contained");
                    none = outcome.result.value("diagnosis", none);
                }
                state->diagnosis = outcome.result.value("attention", none);
                emit_step(engine_event::kind::step_succeeded, id, *state, attempt_no);
            }
            if (inc_now != incidents.end() && (step.kind == step_kind::enable_emergency_policy || done.follow_up)) {
                // The block recorded the containment time (and a follow-up added a step): re-read.
                if (done.follow_up) {
                    reload(id);
                } else {
                    inc_now->second.record.reset();
                    ensure_record(inc_now->second);
                    if (inc_now->second.record)
                        inc_now->second.view.contained_at = inc_now->second.record->contained_at;
                }
            }
        } else if (done.decision.retry) {
            ++stats.retries;
            if (state) {
                state->status = step_status::pending;
                state->not_before = done.decision.not_before;
                state->error = outcome.failure.message;
                emit_step(engine_event::kind::step_retry_scheduled, id, *state, attempt_no, outcome.failure.message,
                          done.decision.not_before);
            }
        } else {
            ++stats.failed;
            if (state) {
                state->status = step_status::failed;
                state->error = done.decision.reason;
                emit_step(engine_event::kind::step_failed, id, *state, attempt_no, done.decision.reason);
            }
        }
        inc_now = incidents.find(id);
        if (inc_now != incidents.end())
            if (auto* s = inc_now->second.view.find(seq)) s->dispatched = false;
    }

    // A verification check due at `at`, as a plan step (appended by store::append_steps).
    static incident::planned_step check_step(time_point at, time_point contained_at) {
        const std::int64_t offset_ms = std::max<std::int64_t>(0, to_unix_ms(at) - to_unix_ms(contained_at));
        incident::planned_step check;
        check.seq = 1;
        check.stage = 0;
        check.step_phase = phase::verify;
        check.kind = step_kind::verify_signins;
        check.target = check_label(offset_ms);
        check.params = {{"offset_ms", offset_ms}};
        return check;
    }
};

engine::engine(asio::any_io_executor executor, store::store& db, const clock_source& clock,
               std::map<std::string, incident::tenant_settings> tenants, runner_table runners, engine_options options)
        : impl_(std::make_shared<impl>(std::move(executor), db, clock, std::move(tenants), std::move(runners),
                                       options)) {}

engine::~engine() { stop(); }

std::size_t engine::start() {
    impl_->interrupted.clear();
    impl_->load(std::nullopt);
    std::vector<std::string> ids;
    for (const auto& [id, _] : impl_->incidents) ids.push_back(id);
    // The audit trail says the daemon started again and took the incident up where the database
    // had it (and which steps a dead process left running: they run again, reconciling). Written
    // after start-up, 500 incidents per transaction: a resume of thousands is not held up by
    // thousands of audit rows, and costs one sync per chunk, not one each.
    std::vector<std::pair<std::string, nlohmann::json>> records;
    records.reserve(ids.size());
    for (const auto& id : ids) {
        const auto& inc = impl_->incidents.at(id);
        auto it = impl_->interrupted.find(id);
        records.emplace_back(id, nlohmann::json{{"status", incident::to_string(inc.view.status)},
                                                {"phase", incident::to_string(inc.view.current_phase)},
                                                {"interrupted_steps",
                                                 it == impl_->interrupted.end() ? std::vector<int>{} : it->second}});
    }
    asio::post(impl_->executor,
               [self = std::weak_ptr<impl>(impl_),
                records = std::make_shared<std::vector<std::pair<std::string, nlohmann::json>>>(std::move(records))] {
                   if (auto me = self.lock()) me->record_recovery(records, 0);
               });
    impl_->interrupted.clear();
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
    // Cancel on the engine's executor, where the attempts run: emitted from another thread, Asio
    // posts the cancellation, and an attempt that completes before it runs leaves it a dangling
    // slot. A group's steps share one signal: emit each once.
    asio::dispatch(impl_->executor, [self = impl_] {
        std::set<asio::cancellation_signal*> signals;
        for (auto& [key, signal] : self->running)
            if (signals.insert(signal.get()).second) signal->emit(asio::cancellation_type::terminal);
    });
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
    // An account that did not resolve was planned out once the others went ahead: a retry of
    // its resolve step would resolve it and contain nothing. Adding the account does it all.
    if (auto s = impl_->db.step(incident_id, seq); s && s->kind == step_kind::resolve_account &&
                                                   rec->plan.value("refined", false) &&
                                                   s->params.value("batch", 0) == 0)
        return action_result::conflict;
    bool reset = false;
    impl_->db.atomically([&] {  // the step and the incident's status move together, or neither
        reset = impl_->db.reset_failed_step(incident_id, seq, who);
        if (reset) impl_->db.set_incident_state(incident_id, incident_status::running, rec->current_phase, {});
    });
    if (!reset) return action_result::conflict;
    submit(incident_id);
    return action_result::done;
}

engine::cancel_result engine::cancel(const std::string& incident_id, const std::string& who, const std::string& reason,
                                     bool release) {
    auto rec = impl_->db.get_incident(incident_id);
    if (!rec) return {action_result::not_found};
    if (store::is_final(rec->status)) return {action_result::conflict};
    cancel_result out;
    bool blocked = false;
    // One transaction: a cancel cut short by a storage failure must not leave steps skipped in
    // an incident that runs on (a skipped step counts as finished: it would be skipped for good).
    impl_->db.atomically([&] {
        for (const auto& s : impl_->db.steps(incident_id)) {
            if (s.kind == step_kind::enable_emergency_policy && s.status == step_status::succeeded) blocked = true;
            if (s.status == step_status::pending || s.status == step_status::waiting_approval)
                impl_->db.set_step_status(incident_id, s.seq, step_status::skipped, "step_cancelled", {{"by", who}});
        }
        std::string note = "cancelled by " + who + (reason.empty() ? "" : ": " + reason);
        std::vector<std::string> attention = {note};
        if (blocked && !release)
            attention.push_back(
                "the emergency block stays on for this incident's accounts until an operator "
                "releases it (POST /v1/incidents/" +
                incident_id + "/release)");
        impl_->db.set_incident_state(incident_id, incident_status::cancelled, rec->current_phase, attention);
        impl_->db.append_event(incident_id, "cancel_requested", std::nullopt,
                               {{"by", who}, {"reason", reason}, {"release", release}, {"block_on", blocked}});
        if (blocked && release) out.releasing = impl_->db.append_release_step(incident_id, who, reason).has_value();
    });
    out.block_stays = blocked && !out.releasing;
    impl_->incidents.erase(incident_id);
    if (out.releasing) submit(incident_id);
    impl_->notify(incident_id);
    return out;
}

engine::release_result engine::release(const std::string& incident_id, const std::string& who,
                                       const std::string& reason) {
    if (!impl_->db.get_incident(incident_id)) return {action_result::not_found};
    const auto event_id = impl_->db.append_release_step(incident_id, who, reason);
    if (!event_id) return {action_result::conflict};
    submit(incident_id);
    return {action_result::done, *event_id};
}

action_result engine::schedule_check(const std::string& incident_id, time_point at, const std::string& who,
                                     const std::string& reason, int* seq) {
    auto rec = impl_->db.get_incident(incident_id);
    if (!rec) return action_result::not_found;
    if (!rec->contained_at || rec->status == incident_status::cancelled) return action_result::conflict;
    std::vector<int> seqs;
    impl_->db.atomically([&] {
        seqs = impl_->db.append_steps(incident_id, {impl::check_step(at, *rec->contained_at)}, "check_scheduled",
                                      {{"by", who}, {"reason", reason}, {"due_at", format_rfc3339(at)}});
        // A contained incident verifies again: it is tracked (and resumed after a crash) until then.
        if (rec->status == incident_status::contained)
            impl_->db.set_incident_state(incident_id, incident_status::verifying, phase::verify, rec->attention);
    });
    if (seq && !seqs.empty()) *seq = seqs.front();
    submit(incident_id);
    return action_result::done;
}

engine::extend_result engine::extend(const std::string& incident_id, const incident::incident_request& merged,
                                     const std::vector<incident::account_request>& accounts,
                                     const std::vector<incident::app_request>& apps, const std::string& who,
                                     const std::string& reason) {
    auto rec = impl_->db.get_incident(incident_id);
    if (!rec) return {action_result::not_found};
    if (rec->status == incident_status::cancelled || (accounts.empty() && apps.empty()))
        return {action_result::conflict};
    auto tenant = impl_->tenants.find(rec->tenant);
    // Their resolve phase first (who they are, the evidence); the rest is planned from what the
    // directory says once it is over (plan_batch), in tier order.
    std::vector<incident::planned_step> steps;
    std::vector<incident::planned_account> rows;
    auto add = [&](step_kind k, const std::string& target) {
        incident::planned_step s;
        s.seq = static_cast<int>(steps.size()) + 1;
        s.stage = 0;
        s.step_phase = phase::resolve;
        s.kind = k;
        s.target = target;
        steps.push_back(std::move(s));
    };
    for (const auto& a : accounts) {
        add(step_kind::resolve_account, a.upn);
        incident::planned_account row;
        row.upn = a.upn;
        row.assigned_tier = a.declared_tier.value_or(incident::tier::standard);
        row.tier_reason = a.declared_tier ? "declared by the operator who added it" : "default";
        if (tenant != impl_->tenants.end() &&
            std::find(tenant->second.break_glass_upns.begin(), tenant->second.break_glass_upns.end(), a.upn) !=
                tenant->second.break_glass_upns.end()) {
            row.assigned_tier = incident::tier::break_glass;
            row.tier_reason = "configured break-glass account";
        }
        rows.push_back(std::move(row));
    }
    for (const auto& a : accounts) add(step_kind::capture_account_evidence, a.upn);
    for (const auto& a : apps) add(step_kind::capture_app_evidence, a.app_id);
    int batch = 0;
    impl_->db.atomically([&] {
        batch = impl_->db.extend_incident(incident_id, incident::to_json(merged), rows, steps, who, reason);
        // A contained incident runs again for what was added.
        if (rec->status == incident_status::contained)
            impl_->db.set_incident_state(incident_id, incident_status::running, phase::resolve, rec->attention);
    });
    submit(incident_id);
    return {action_result::done, batch};
}

action_result engine::override_guard(const std::string& incident_id, const std::string& who,
                                     const std::string& reason) {
    auto rec = impl_->db.get_incident(incident_id);
    if (!rec) return action_result::not_found;
    if (rec->status == incident_status::cancelled) return action_result::conflict;
    nlohmann::json request = rec->request;
    if (request["options"].value("override_lockout_guard", false)) return action_result::conflict;
    request["options"]["override_lockout_guard"] = true;
    impl_->db.atomically([&] {
        impl_->db.set_request(incident_id, request, "guard_overridden", {{"by", who}, {"reason", reason}});
        // A block the guard refused runs again, now overridden.
        for (const auto& s : impl_->db.steps(incident_id))
            if (s.kind == step_kind::enable_emergency_policy && s.status == step_status::failed)
                impl_->db.reset_failed_step(incident_id, s.seq, who);
        if (rec->status == incident_status::needs_attention)
            impl_->db.set_incident_state(incident_id, incident_status::running, rec->current_phase, {});
    });
    submit(incident_id);
    return action_result::done;
}

action_result engine::issue_tap(const std::string& incident_id, const std::string& upn,
                                std::optional<int> lifetime_minutes, const std::string& who, const std::string& reason,
                                int* seq) {
    auto rec = impl_->db.get_incident(incident_id);
    if (!rec) return action_result::not_found;
    if (!rec->contained_at || rec->status == incident_status::cancelled) return action_result::conflict;
    bool known = false;  // an account of the incident that resolved
    for (const auto& s : impl_->db.steps(incident_id))
        known =
            known || (s.kind == step_kind::resolve_account && s.target == upn && s.status == step_status::succeeded);
    if (!known) return action_result::conflict;
    for (const auto& s : impl_->db.steps(incident_id))
        if (s.kind == step_kind::issue_tap && s.target == upn &&
            (s.status == step_status::pending || s.status == step_status::running))
            return action_result::conflict;
    incident::planned_step tap;
    tap.seq = 1;
    tap.stage = 0;
    tap.step_phase = phase::methods;
    tap.kind = step_kind::issue_tap;
    tap.target = upn;
    tap.params = {{"issued_on_request", true}};
    if (lifetime_minutes) tap.params["lifetime_minutes"] = *lifetime_minutes;
    std::vector<int> seqs;
    impl_->db.atomically([&] {
        // A batch of its own (negative: one step an operator asked for), so it waits for nothing.
        const int next = impl_->db.steps(incident_id).back().seq + 1;
        tap.params["batch"] = -next;
        seqs = impl_->db.append_steps(
            incident_id, {tap}, "tap_requested",
            {{"by", who},
             {"reason", reason},
             {"upn", upn},
             {"lifetime_minutes", lifetime_minutes ? nlohmann::json(*lifetime_minutes) : nlohmann::json()}});
        if (rec->status == incident_status::contained)
            impl_->db.set_incident_state(incident_id, incident_status::running, phase::methods, rec->attention);
    });
    if (seq && !seqs.empty()) *seq = seqs.front();
    submit(incident_id);
    return action_result::done;
}

const incident::tenant_settings* engine::tenant(const std::string& name) const {
    const auto it = impl_->tenants.find(name);
    return it == impl_->tenants.end() ? nullptr : &it->second;
}

void engine::set_ir_location_ranges(const std::string& tenant, std::vector<std::string> ranges) {
    if (auto it = impl_->tenants.find(tenant); it != impl_->tenants.end())
        it->second.ir_location_ranges = std::move(ranges);
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

void engine::on_event(std::function<void(const engine_event&)> observer) {
    impl_->event_observers.push_back(std::move(observer));
}

engine::counters engine::stats() const {
    counters c = impl_->stats;
    c.record_reads = impl_->record_reads;
    return c;
}

std::string_view to_string(engine_event::kind k) {
    switch (k) {
    case engine_event::kind::step_started: return "step_started";
    case engine_event::kind::step_succeeded: return "step_succeeded";
    case engine_event::kind::step_retry_scheduled: return "step_retry_scheduled";
    case engine_event::kind::step_failed: return "step_failed";
    case engine_event::kind::status_changed: return "status_changed";
    }
    return "unknown";
}

}  // namespace containd::engine
