// Containment benchmark: time to containment (accepted -> the emergency policy enabled and every
// account's sessions revoked) against the simulated tenant with injected latency per request, on
// the REAL clock, for several incident sizes; next to the seeds' script pattern (one Graph call at
// a time: GET each user, PATCH the policy, GET it back, POST revokeSignInSessions per user)
// measured in the same run through the same Graph stack.
//
//   containment_bench [--accounts 5,100,1000] [--latency-ms 50] [--baseline-max N] [--sim-threads N] [--csv FILE]
//
// --csv: also writes "accounts,containd_s,baseline_s,baseline_measured" rows (the chart's data).
//
// --baseline-max: the sequential baseline is measured for sizes up to N accounts (default 100)
// and extrapolated linearly above (the output says which); pass 1000 to measure it at 1,000.
//
// Each measurement gets its own simulated tenant (the walkthrough scenario plus N standard users)
// and its own stack, built as the daemon builds it (daemon/tenants.cpp, daemon/app.cpp): https_client
// trusting the simulator's CA with max_idle_per_host = max(8, max_concurrent_steps), token_source,
// graph::client with default pacing, the real runners, default engine options. The access token is
// fetched before the clock starts, for both contenders.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/ids.hpp"
#include "core/secret.hpp"
#include "core/time.hpp"
#include "engine/engine.hpp"
#include "graph/api.hpp"
#include "graph/client.hpp"
#include "graph/https_client.hpp"
#include "graph/token_source.hpp"
#include "incident/planner.hpp"
#include "incident/validation.hpp"
#include "runners/policy_keeper.hpp"
#include "runners/runners.hpp"
#include "sim/simulator.hpp"
#include "store/store.hpp"

#ifndef CONTAIND_SOURCE_DIR
#error "CONTAIND_SOURCE_DIR must point at the repository (set by tests/bench.cmake)"
#endif

using namespace containd;
namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

namespace {

constexpr const char* client_id = "0c0ffee0-0000-4000-8000-00000000c0de";
constexpr const char* policy_id = "5e8a3c1f-0d2b-4f6e-9a7c-3b1d2e4f5a60";
constexpr const char* ir_location = "6d1f0a2b-3c4d-4e5f-8a9b-0c1d2e3f4a51";
const std::vector<std::string> break_glass_ids = {"0b1e7c6a-3f2d-4e51-9a8b-1c2d3e4f5a01",
                                                  "0b1e7c6a-3f2d-4e51-9a8b-1c2d3e4f5a02"};

template <class D>
double secs(D d) {
    return std::chrono::duration<double>(d).count();
}

nlohmann::json load_json(const std::string& relative) {
    std::ifstream in(std::string(CONTAIND_SOURCE_DIR) + "/" + relative);
    std::stringstream s;
    s << in.rdbuf();
    return nlohmann::json::parse(s.str());
}

nlohmann::json load_scenario() { return load_json("config/scenarios/bec-walkthrough.json"); }

std::string upn_of(int i) {
    char b[64];
    std::snprintf(b, sizeof b, "user%04d@contoso.com", i);
    return b;
}

// The walkthrough tenant plus n standard users (GUID ids, only the password method, no activity).
nlohmann::json make_scenario(int n) {
    nlohmann::json sc = load_scenario();
    for (int i = 1; i <= n; ++i) {
        char id[40];
        std::snprintf(id, sizeof id, "b0000000-0000-4000-8000-%012d", i);
        sc["users"].push_back({{"id", id},
                               {"userPrincipalName", upn_of(i)},
                               {"displayName", "Bench User " + std::to_string(i)},
                               {"department", "Finance"},
                               {"createdDateTime", "2024-01-01T08:00:00Z"}});
    }
    return sc;
}

incident::tenant_settings contoso() {
    incident::tenant_settings t;
    t.name = "contoso";
    t.emergency_policy_id = policy_id;
    t.ir_named_locations = {ir_location};
    t.break_glass_upns = {"breakglass1@contoso.com", "breakglass2@contoso.com"};
    return t;
}

nlohmann::json make_incident(int n) {
    nlohmann::json accounts = nlohmann::json::array();
    for (int i = 1; i <= n; ++i) accounts.push_back({{"upn", upn_of(i)}});
    return {{"tenant", "contoso"},
            {"external_ref", "BENCH-CONTAIN-" + std::to_string(n)},
            {"title", "containment benchmark"},
            {"compromise_start", "2026-03-12T00:00:00Z"},
            {"accounts", accounts},
            {"attacker_ips", {"203.0.113.66"}},
            {"options", {{"credential_delivery", n > 10 ? "tap" : "password"}, {"method_cleanup", "auto"}}}};
}

// One simulated tenant and the daemon's Graph stack for it, on the real clock.
struct stack {
    system_clock_source clock;
    std::filesystem::path dir = std::filesystem::temp_directory_path() / ("containd-cbench-" + random_uuid());
    std::string client_secret = "bench-secret-" + random_uuid();
    incident::tenant_settings tenant = contoso();
    engine::engine_options eopts;
    std::unique_ptr<sim::simulator> simulator;
    std::unique_ptr<asio::io_context> ioc;
    std::unique_ptr<store::store> db;
    std::unique_ptr<graph::https_client> http;
    std::unique_ptr<graph::token_source> tokens;
    std::unique_ptr<graph::client> graph_client;
    std::unique_ptr<engine::engine> eng;
    std::shared_ptr<runners::policy_keeper> policies = std::make_shared<runners::policy_keeper>();

    stack(const nlohmann::json& scenario, duration latency, int sim_threads) {
        std::filesystem::create_directories(dir);
        sim::options so;
        so.scenario = scenario;
        so.clients = {{client_id, client_secret, ""}};
        so.threads = sim_threads;
        simulator = std::make_unique<sim::simulator>(so, clock);
        simulator->start();
        simulator->set_latency(latency);

        ioc = std::make_unique<asio::io_context>();
        db = std::make_unique<store::store>((dir / "containd.db").string(), clock, store::vault(std::string(32, 'k')));
        graph::tls_settings tls;
        tls.use_system_trust = false;
        tls.ca_pem = simulator->ca_certificate_pem();
        graph::https_options ho;
        ho.max_idle_per_host = std::max<std::size_t>(8, eopts.max_concurrent_steps);  // as daemon/tenants.cpp
        http = std::make_unique<graph::https_client>(ioc->get_executor(), tls, ho);
        graph::token_settings ts;
        ts.login_base = simulator->base_url();
        ts.tenant = simulator->tenant_id();
        ts.client_id = client_id;
        tokens = std::make_unique<graph::token_source>(*http, clock, ts,
                                                       graph::client_secret_credential{secret(client_secret)});
        graph::graph_settings gs;
        gs.graph_base = simulator->base_url();
        graph_client = std::make_unique<graph::client>(*http, *tokens, clock, gs);
    }

    void start_engine() {
        auto* client_ptr = graph_client.get();
        runners::runner_settings settings;
        settings.policies = policies;
        auto runners = runners::make_graph_runners(
            [client_ptr, name = tenant.name](const std::string& t) { return t == name ? client_ptr : nullptr; },
            settings);
        eng = std::make_unique<engine::engine>(ioc->get_executor(), *db, clock,
                                               std::map<std::string, incident::tenant_settings>{{tenant.name, tenant}},
                                               runners, eopts);
        eng->start();
    }

    template <class T>
    T run(asio::awaitable<T> aw) {
        std::optional<T> out;
        std::exception_ptr error;
        asio::co_spawn(*ioc, std::move(aw), [&](std::exception_ptr e, T v) {
            error = e;
            out = std::move(v);
        });
        ioc->restart();
        while (!out && !error) ioc->run_one();
        if (error) std::rethrow_exception(error);
        return std::move(*out);
    }

    void warm_up() {
        auto reply = run(tokens->get());
        if (!reply.ok()) throw std::runtime_error("no token from the simulator: " + graph::describe(reply.call));
    }

    // What the daemon does at start-up, long before an incident: read the emergency policy (the
    // standing snapshot). Then wait out Conditional Access's 1 request/s, which that read used.
    void read_standing_policy() {
        run(runners::refresh_policy(*policies, *graph_client, tenant, *db, clock));
        if (!policies->standing(tenant.name)) throw std::runtime_error("the emergency policy could not be read");
        std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // an idle daemon (run_for returns at once)
    }

    ~stack() {
        if (eng) eng->stop();
        if (ioc) {
            ioc->restart();
            ioc->run_for(std::chrono::milliseconds(100));
        }
        eng.reset();
        graph_client.reset();
        tokens.reset();
        http.reset();
        ioc.reset();
        db.reset();
        simulator->stop();
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
};

struct journal_counts {
    std::size_t requests = 0, throttled = 0, ca_requests = 0;  // HTTP requests; 429s of requests and items
    std::vector<double> ca_at;                                 // seconds after the start, Conditional Access calls
};

journal_counts count_journal(const std::vector<sim::journal_entry>& j, std::size_t from, time_point start,
                             time_point until) {
    journal_counts c;
    for (std::size_t i = from; i < j.size(); ++i) {
        if (j[i].at > until) continue;
        if (!j[i].in_batch) ++c.requests;       // HTTP requests ($batch items are counted in their $batch)
        if (j[i].status == 429) ++c.throttled;  // a throttled $batch item too
        if (j[i].path.find("/identity/conditionalAccess/") != std::string::npos) {
            ++c.ca_requests;
            c.ca_at.push_back(secs(j[i].at - start));
        }
    }
    return c;
}

struct containd_result {
    bool contained = false;
    double seconds = 0;       // accepted -> the block in force and every account revoked, from the store
    double resolve_done = 0;  // every account resolved
    double block_start = 0, block_done = 0;
    double revoke_done = 0;
    std::size_t steps = 0;         // steps of the resolve, block and revoke phases
    std::size_t failed_steps = 0;  // of those: any failed attempt, or gave up
    std::size_t failed_attempts = 0;
    std::string first_error;
    journal_counts journal;
    std::size_t connections = 0;
    double max_check_ms = 0;
    std::uint64_t attempts = 0, retries = 0, timeouts = 0;  // engine counters when the revokes were done
};

containd_result run_containd(int n, const nlohmann::json& incident_json, duration latency, int sim_threads) {
    stack s(make_scenario(n), latency, sim_threads);
    s.start_engine();
    s.warm_up();
    s.read_standing_policy();
    const std::size_t journal_from = s.simulator->journal().size();

    auto parsed = incident::parse_submission(incident_json, s.clock.now());
    if (auto* errors = std::get_if<std::vector<incident::field_error>>(&parsed))
        throw std::runtime_error("invalid submission: " + errors->front().field + ": " + errors->front().message);
    auto& request = std::get<incident::incident_request>(parsed);

    containd_result r;
    // The clock starts here: what the API does on an accepted submission (plan, commit, start).
    const time_point t0 = s.clock.now();
    const auto st0 = steady::now();
    auto planned = incident::make_plan(request, s.tenant, {});
    if (auto* refused = std::get_if<incident::refusal>(&planned))
        throw std::runtime_error("plan refused: " + refused->reasons.front());
    store::new_incident in{random_uuid(),
                           s.tenant.name,
                           request.external_ref,
                           std::nullopt,
                           incident::to_json(request),
                           std::get<incident::plan>(planned)};
    const std::string id = std::get<store::created>(s.db->create_incident(in)).id;
    s.eng->submit(id);

    using incident::phase;
    using incident::step_kind;
    // The critical path: resolve, block, revoke (evidence and the block's read-back run beside
    // it). It is done once the engine has seen at least as many successes as it has steps; only
    // then is the store read (reading every step while the engine works would slow what is
    // measured).
    auto critical = [](step_kind k) {
        return k == step_kind::resolve_account || k == step_kind::enable_emergency_policy ||
               k == step_kind::revoke_sessions;
    };
    std::uint64_t window_steps = 0;
    for (const auto& st : std::get<incident::plan>(planned).steps)
        if (critical(st.kind)) ++window_steps;
    auto in_window = [&](const store::step_record& st) { return critical(st.kind); };
    time_point until = t0;
    for (;;) {
        s.ioc->restart();
        s.ioc->run_for(std::chrono::milliseconds(10));
        if (steady::now() - st0 > std::chrono::minutes(10)) {
            r.first_error = "timed out after 10 minutes";
            break;
        }
        const auto stats = s.eng->stats();
        if (stats.succeeded < window_steps && stats.failed == 0) continue;
        const auto c0 = steady::now();
        const auto steps = s.db->steps(id);
        bool done = true, gave_up = false;
        for (const auto& st : steps) {
            if (in_window(st) && st.kind != step_kind::resolve_account)
                done = done && st.status == store::step_status::succeeded;
            if (in_window(st) && st.status == store::step_status::failed) gave_up = true;
        }
        r.max_check_ms = std::max(r.max_check_ms, secs(steady::now() - c0) * 1000);
        if (!done && !gave_up) continue;
        r.attempts = stats.attempts;
        r.retries = stats.retries;
        r.timeouts = stats.timeouts;

        r.contained = done;
        time_point resolve_end = t0, revoke_end = t0, block_start = t0, block_end = t0;
        for (const auto& st : steps) {
            if (!in_window(st)) continue;
            ++r.steps;
            const bool failed = st.status == store::step_status::failed;
            const int bad = failed ? st.attempt : std::max(0, st.attempt - 1);
            if (bad > 0) {
                ++r.failed_steps;
                r.failed_attempts += static_cast<std::size_t>(bad);
                if (r.first_error.empty())
                    r.first_error = std::string(incident::to_string(st.kind)) + " " + st.target + ": " + st.error;
            }
            const time_point fin = st.finished_at.value_or(t0);
            if (st.kind == step_kind::resolve_account) resolve_end = std::max(resolve_end, fin);
            if (st.kind == step_kind::revoke_sessions) revoke_end = std::max(revoke_end, fin);
            if (st.kind == step_kind::enable_emergency_policy) {
                block_start = st.started_at.value_or(t0);
                block_end = fin;
            }
        }
        until = std::max(block_end, revoke_end);
        r.seconds = secs(until - t0);
        r.resolve_done = secs(resolve_end - t0);
        r.block_start = secs(block_start - t0);
        r.block_done = secs(block_end - t0);
        r.revoke_done = secs(revoke_end - t0);
        break;
    }
    s.eng->stop();
    if (!r.contained && until == t0) until = s.clock.now();
    r.journal = count_journal(s.simulator->journal(), journal_from, t0, until);
    r.connections = s.http->connections_opened();
    return r;
}

// --- the baseline: the seeds' script, one call at a time --------------------------------------

struct baseline_result {
    double seconds = 0;
    std::size_t failed_calls = 0;  // answers that were not a success (each retried)
    std::size_t gave_up = 0;
    journal_counts journal;
    std::size_t connections = 0;
    bool measured = false;
};

bool retryable(const graph::call_result& c) { return c.status == 0 || c.status == 429 || c.status >= 500; }

asio::awaitable<void> pause_for(duration d) {
    asio::steady_timer t(co_await asio::this_coro::executor);
    t.expires_after(d);
    co_await t.async_wait(asio::use_awaitable);
}

// A failed call is retried after its Retry-After (or 1 s), up to 5 times, as a careful script would.
// Returns false when it gave up.
asio::awaitable<bool> settle(const graph::call_result& call, int attempt, baseline_result& r,
                             const clock_source& clock) {
    if (call.ok()) co_return true;
    ++r.failed_calls;
    if (!retryable(call) || attempt >= 5) {
        ++r.gave_up;
        co_return true;
    }
    const auto wait = call.retry_after ? parse_retry_after(*call.retry_after, clock.now()) : std::nullopt;
    co_await pause_for(wait.value_or(seconds(1)));
    co_return false;
}

asio::awaitable<int> baseline_script(graph::client& c, std::vector<std::string> upns, baseline_result& r) {
    const clock_source& clock = c.clock();
    std::vector<std::string> ids;
    for (const auto& upn : upns) {
        for (int attempt = 1;; ++attempt) {
            auto user = co_await graph::get_user(c, upn);
            if (user.ok()) ids.push_back(user.value.id);
            if (co_await settle(user.call, attempt, r, clock)) break;
        }
    }
    nlohmann::json changes = {{"state", "enabled"},
                              {"conditions",
                               {{"users", {{"includeUsers", ids}, {"excludeUsers", break_glass_ids}}},
                                {"applications", {{"includeApplications", {"All"}}}},
                                {"locations", {{"includeLocations", {"All"}}, {"excludeLocations", {ir_location}}}}}},
                              {"grantControls", {{"operator", "OR"}, {"builtInControls", {"block"}}}}};
    const std::string pid = policy_id;
    for (int attempt = 1;; ++attempt) {
        auto patched = co_await graph::patch_ca_policy(c, pid, changes);
        if (co_await settle(patched.call, attempt, r, clock)) break;
    }
    for (int attempt = 1;; ++attempt) {
        auto back = co_await graph::get_ca_policy(c, pid);
        if (co_await settle(back.call, attempt, r, clock)) break;
    }
    for (const auto& id : ids) {
        for (int attempt = 1;; ++attempt) {
            auto revoked = co_await graph::revoke_sessions(c, id);
            if (co_await settle(revoked.call, attempt, r, clock)) break;
        }
    }
    co_return static_cast<int>(ids.size());
}

baseline_result run_baseline(int n, duration latency, int sim_threads) {
    stack s(make_scenario(n), latency, sim_threads);
    s.warm_up();
    const std::size_t journal_from = s.simulator->journal().size();
    std::vector<std::string> upns;
    for (int i = 1; i <= n; ++i) upns.push_back(upn_of(i));
    baseline_result r;
    r.measured = true;
    const time_point t0 = s.clock.now();
    const auto st0 = steady::now();
    s.run(baseline_script(*s.graph_client, std::move(upns), r));
    r.seconds = secs(steady::now() - st0);
    r.journal = count_journal(s.simulator->journal(), journal_from, t0, s.clock.now());
    r.connections = s.http->connections_opened();
    return r;
}

std::vector<int> parse_list(const std::string& s) {
    std::vector<int> out;
    std::stringstream in(s);
    std::string item;
    while (std::getline(in, item, ','))
        if (!item.empty()) out.push_back(std::stoi(item));
    return out;
}

std::string join(const std::vector<double>& v) {
    std::string out;
    char b[32];
    for (double x : v) {
        std::snprintf(b, sizeof b, "%s%.2f", out.empty() ? "" : " ", x);
        out += b;
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<int> sizes = {5, 100, 1000};
    int latency_ms = 50, baseline_max = 100, sim_threads = 1;
    std::string csv_path;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--accounts")
            sizes = parse_list(argv[i + 1]);
        else if (flag == "--latency-ms")
            latency_ms = std::stoi(argv[i + 1]);
        else if (flag == "--baseline-max")
            baseline_max = std::stoi(argv[i + 1]);
        else if (flag == "--sim-threads")
            sim_threads = std::stoi(argv[i + 1]);
        else if (flag == "--csv")
            csv_path = argv[i + 1];
        else {
            std::fprintf(stderr,
                         "usage: containment_bench [--accounts 5,100,1000] [--latency-ms 50] [--baseline-max 100] "
                         "[--sim-threads 1] [--csv FILE]\n");
            return 2;
        }
    }
    std::sort(sizes.begin(), sizes.end());
    const duration latency = milliseconds(latency_ms);

    std::vector<containd_result> ours;
    std::vector<baseline_result> base;
    for (int n : sizes) {
        std::fprintf(stderr, "[%d accounts] containd...\n", n);
        ours.push_back(run_containd(n, make_incident(n), latency, sim_threads));
        if (n <= baseline_max) {
            std::fprintf(stderr, "[%d accounts] baseline...\n", n);
            base.push_back(run_baseline(n, latency, sim_threads));
        } else {
            base.emplace_back();
        }
    }
    // Extrapolate unmeasured baselines linearly (t = a + b * accounts) from the measured ones.
    std::vector<std::pair<int, double>> pts;
    for (std::size_t i = 0; i < sizes.size(); ++i)
        if (base[i].measured) pts.emplace_back(sizes[i], base[i].seconds);
    double slope = 0, intercept = 0;
    if (pts.size() >= 2) {
        slope = (pts.back().second - pts.front().second) / (pts.back().first - pts.front().first);
        intercept = pts.front().second - slope * pts.front().first;
    } else if (pts.size() == 1) {
        slope = pts[0].second / pts[0].first;
    }
    bool extrapolated = false;
    for (std::size_t i = 0; i < sizes.size(); ++i)
        if (!base[i].measured) {
            base[i].seconds = intercept + slope * sizes[i];
            extrapolated = true;
        }

    if (!csv_path.empty()) {
        std::ofstream csv(csv_path);
        csv << "accounts,containd_s,baseline_s,baseline_measured\n";
        for (std::size_t i = 0; i < sizes.size(); ++i)
            csv << sizes[i] << ',' << ours[i].seconds << ',' << base[i].seconds << ',' << (base[i].measured ? 1 : 0)
                << '\n';
    }

    // The seeds' sample incident on the walkthrough tenant: accounts with sign-in history (their
    // evidence is read at 5 requests per 10 s), a malicious app, a break-glass account among them.
    std::fprintf(stderr, "[walkthrough] containd...\n");
    const containd_result walkthrough = run_containd(0, load_json("config/demo/incident.json"), latency, sim_threads);

    std::printf("Containment benchmark, %s, %u cores, simulator latency %d ms per request, %d simulator thread(s)\n",
                format_rfc3339(std::chrono::system_clock::now()).c_str(), std::thread::hardware_concurrency(),
                latency_ms, sim_threads);
    std::printf(
        "Conditional Access throttled at 1 request/s per tenant (the simulator's 429 without Retry-After), on.\n"
        "containd: accepted -> the block in force (enable_emergency_policy succeeded: Graph accepted the PATCH) and\n"
        "  every revoke_sessions succeeded (store timestamps). Its emergency policy was read at start-up (the\n"
        "  standing snapshot) and its token fetched, more than 1 s before the incident, as in a running daemon.\n"
        "seeds' loop: GET each user, PATCH the policy, GET it back, POST revokeSignInSessions per user, one at a "
        "time\n\n");
    std::printf(
        "| accounts | seeds' loop s | containd: block in force s | containd: all revoked s | speed-up | failed "
        "steps | Graph requests (containd / loop) | 429s (containd / loop) |\n");
    std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        const auto& o = ours[i];
        const auto& b = base[i];
        char bs[64], breq[32], b429[32];
        if (b.measured)
            std::snprintf(bs, sizeof bs, "%.2f", b.seconds);
        else if (pts.empty())
            std::snprintf(bs, sizeof bs, "not measured");
        else
            std::snprintf(bs, sizeof bs, "%.1f (extrapolated)", b.seconds);
        std::snprintf(breq, sizeof breq, b.measured ? "%zu" : "-", b.journal.requests);
        std::snprintf(b429, sizeof b429, b.measured ? "%zu" : "-", b.journal.throttled);
        char up[32];
        std::snprintf(up, sizeof up, b.measured || !pts.empty() ? "%.1fx" : "-", b.seconds / o.seconds);
        std::printf("| %d | %s | %.3f | %.3f%s | %s | %zu of %zu | %zu / %s | %zu / %s |\n", sizes[i], bs, o.block_done,
                    o.revoke_done, o.contained ? "" : " (NOT contained)", up, o.failed_steps, o.steps,
                    o.journal.requests, breq, o.journal.throttled, b429);
    }
    std::printf("\nWhere containd's time goes (seconds after acceptance):\n");
    std::printf(
        "| incident | accounts resolved | block started | block in force | all revoked | CA calls at | step "
        "attempts | TLS connections |\n");
    std::printf("|---|---:|---:|---:|---:|---|---:|---:|\n");
    auto where = [](const std::string& name, const containd_result& o) {
        std::printf("| %s | %.3f | %.3f | %.3f | %.3f | %s | %llu | %zu |\n", name.c_str(), o.resolve_done,
                    o.block_start, o.block_done, o.revoke_done, join(o.journal.ca_at).c_str(),
                    static_cast<unsigned long long>(o.attempts), o.connections);
    };
    for (std::size_t i = 0; i < sizes.size(); ++i) where(std::to_string(sizes[i]) + " accounts", ours[i]);
    where("walkthrough (sign-in history)", walkthrough);
    for (std::size_t i = 0; i < sizes.size(); ++i)
        if (!ours[i].first_error.empty())
            std::printf("%d accounts: first failed attempt: %s (%zu failed attempts)\n", sizes[i],
                        ours[i].first_error.c_str(), ours[i].failed_attempts);
    if (!walkthrough.first_error.empty())
        std::printf("walkthrough: first failed attempt: %s\n", walkthrough.first_error.c_str());
    for (std::size_t i = 0; i < sizes.size(); ++i)
        if (base[i].measured && (base[i].failed_calls || base[i].gave_up))
            std::printf("%d accounts: the loop had %zu failed calls (%zu given up)\n", sizes[i], base[i].failed_calls,
                        base[i].gave_up);
    if (extrapolated && !pts.empty())
        std::printf(
            "\nthe loop above %d accounts EXTRAPOLATED linearly from the measured sizes (%.3f s + %.4f s per "
            "account);\n"
            "measure it with --baseline-max %d\n",
            baseline_max, intercept, slope, sizes.back());

    std::printf("\nTargets (issue 12):\n");
    auto verdict = [](bool met) { return met ? "MET" : "NOT MET"; };
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        const auto& o = ours[i];
        if (sizes[i] == 5) {
            std::printf("  5 accounts, block in force <= 0.35 s:             %s (%.3f s)\n",
                        verdict(o.contained && o.block_done <= 0.35), o.block_done);
            std::printf("  5 accounts, all revoked <= 0.45 s:                %s (%.3f s)\n",
                        verdict(o.contained && o.revoke_done <= 0.45), o.revoke_done);
            std::printf(
                "  walkthrough with sign-in history blocks as fast:  %s (%.3f s against %.3f s, within 0.1 s)\n",
                verdict(walkthrough.contained && walkthrough.block_done <= o.block_done + 0.1), walkthrough.block_done,
                o.block_done);
        }
        if (sizes[i] == 100)
            std::printf("  100 accounts at least 20x the seeds' loop:        %s (%.1fx)\n",
                        verdict(o.contained && base[i].seconds / o.seconds >= 20), base[i].seconds / o.seconds);
        if (sizes[i] == 1000)
            std::printf(
                "  1000 accounts all revoked <= 3 s, 0 failed, 0 429: %s (%.3f s, %zu failed steps, %zu 429s)\n",
                verdict(o.contained && o.revoke_done <= 3 && o.failed_steps == 0 && o.journal.throttled == 0),
                o.revoke_done, o.failed_steps, o.journal.throttled);
    }
    return 0;
}
