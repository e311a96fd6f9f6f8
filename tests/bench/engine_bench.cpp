// Engine benchmark (issue 2): how fast incidents are accepted and fully planned into SQLite with
// synchronous=FULL, against the bare cost of one durable SQLite commit measured in the same run;
// and how long a restart takes to resume 10,000 unfinished incidents, with peak RSS.
//
//   engine_bench [--accept N] [--resume N] [--dir DIR]

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "bench/bare_commit.hpp"
#include "core/ids.hpp"
#include "core/time.hpp"
#include "store/sqlite.hpp"
#include "support/engine_harness.hpp"

using namespace containd;
using steady = std::chrono::steady_clock;
using bench::bare_commits_per_second;
using bench::seconds_since;

namespace {

long peak_rss_kib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

store::new_incident make_incident(const manual_clock& clock, int n, const incident::tenant_settings& tenant) {
    auto parsed =
        incident::parse_submission(testing::walkthrough_submission("BENCH-" + std::to_string(n)), clock.now());
    auto& request = std::get<incident::incident_request>(parsed);
    return {random_uuid(),
            "contoso",
            request.external_ref,
            std::nullopt,
            incident::to_json(request),
            std::get<incident::plan>(incident::make_plan(request, tenant, {}))};
}

}  // namespace

int main(int argc, char** argv) {
    int accept_n = 500, resume_n = 10000;
    std::filesystem::path dir = std::filesystem::temp_directory_path() / ("containd-bench-" + random_uuid());
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--accept")
            accept_n = std::stoi(argv[i + 1]);
        else if (flag == "--resume")
            resume_n = std::stoi(argv[i + 1]);
        else if (flag == "--dir")
            dir = argv[i + 1];
    }
    std::filesystem::create_directories(dir);
    const auto tenant = testing::contoso_settings();
    const std::string key(32, 'k');
    manual_clock clock(*parse_rfc3339("2026-03-12T09:00:00Z"));

    // 1. Accept and plan: validate, plan and commit (one durable transaction each).
    const double bare = bare_commits_per_second((dir / "bare.db").string(), accept_n);
    double accepted_per_s = 0;
    std::size_t steps_per_incident = 0;
    {
        store::store db((dir / "accept.db").string(), clock, store::vault(key));
        const auto start = steady::now();
        for (int i = 0; i < accept_n; ++i) {
            auto in = make_incident(clock, i, tenant);
            steps_per_incident = in.plan.steps.size();
            db.create_incident(in);
        }
        accepted_per_s = accept_n / seconds_since(start);
    }

    // 2. Resume: a child process fills the database (so its memory does not count), the parent
    //    then opens it and schedules every unfinished incident, as the daemon does at start-up.
    const std::string resume_path = (dir / "resume.db").string();
    if (const pid_t child = fork(); child == 0) {
        store::store db(resume_path, clock, store::vault(key));
        db.db().exec("PRAGMA synchronous=OFF");  // seeding only: the measured part runs with FULL
        for (int i = 0; i < resume_n; i += 500) {
            for (int j = i; j < std::min(resume_n, i + 500); ++j) db.create_incident(make_incident(clock, j, tenant));
        }
        _exit(0);
    } else {
        int status = 0;
        waitpid(child, &status, 0);
    }
    const long rss_before = peak_rss_kib();
    const auto start = steady::now();
    std::size_t resumed = 0;
    {
        boost::asio::io_context ioc;
        store::store db(resume_path, clock, store::vault(key));
        engine::engine eng(ioc.get_executor(), db, clock, {{"contoso", tenant}}, {}, {});
        resumed = eng.start();
    }
    const double resume_s = seconds_since(start);
    const long rss_after = peak_rss_kib();

    std::printf("| benchmark | figure | baseline (same run) | ratio |\n|---|---|---|---|\n");
    std::printf(
        "| accept + plan + durable commit (%zu steps each) | %.0f incidents/s | bare SQLite FULL commit: %.0f/s | %.2f "
        "|\n",
        steps_per_incident, accepted_per_s, bare, accepted_per_s / bare);
    std::printf("| resume %zu unfinished incidents at start-up | %.3f s | target < 2 s | %.2f of target |\n", resumed,
                resume_s, resume_s / 2.0);
    std::printf("| peak RSS during resume | %.1f MB (before: %.1f MB) | target < 150 MB | %.2f of target |\n",
                rss_after / 1024.0, rss_before / 1024.0, rss_after / 1024.0 / 150.0);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return 0;
}
