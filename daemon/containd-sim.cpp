// containd-sim: serves the simulated tenant (token endpoint + Graph + loopback /_sim control
// endpoints) on HTTPS until SIGINT/SIGTERM.
//
// stdout carries exactly one JSON line once the server listens, so scripts can read the port:
//   {"listening":"https://127.0.0.1:PORT","tenant_id":"...","ca_file":"...","client_id":"..."}
// Diagnostics go to stderr. Secrets (client secret) are read from a file and never printed.
//
// Exit codes: 0 after a clean signal-driven stop; 2 for bad arguments or an unusable scenario /
// secret / certificate file; 1 when the server cannot start (e.g. the port is taken).
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "sim/simulator.hpp"

namespace {

using containd::duration;

struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::string read_whole_file(const std::string& path, const char* what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw usage_error(std::string("cannot read ") + what + " '" + path + "'");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// A secret file usually ends with a newline the secret does not contain.
std::string trim_trailing_newlines(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
}

// "path_regex:kind[:rate]". The regex may itself contain ':', so the kind (and the optional rate)
// are taken from the right. Without a rate every matching request faults.
containd::sim::fault_rule parse_fault(const std::string& text) {
    static const std::vector<std::string> kinds = {"429_seconds", "429_decimal", "429_http_date", "429_none",
                                                   "500",         "502",         "503",           "504",
                                                   "reset",       "hang",        "slow_body"};
    auto is_kind = [&](const std::string& k) { return std::find(kinds.begin(), kinds.end(), k) != kinds.end(); };
    containd::sim::fault_rule rule;
    rule.rate = 1.0;
    const auto last = text.rfind(':');
    if (last == std::string::npos) throw usage_error("--fault '" + text + "': expected path_regex:kind[:rate]");
    std::string tail = text.substr(last + 1);
    std::string head = text.substr(0, last);
    if (!is_kind(tail)) {
        // The tail must be a rate and the kind sits before it.
        char* end = nullptr;
        errno = 0;
        const double rate = std::strtod(tail.c_str(), &end);
        if (tail.empty() || errno != 0 || end != tail.c_str() + tail.size() || !(rate >= 0.0 && rate <= 1.0))
            throw usage_error("--fault '" + text + "': '" + tail + "' is neither a fault kind nor a rate in [0,1]");
        const auto prev = head.rfind(':');
        if (prev == std::string::npos) throw usage_error("--fault '" + text + "': expected path_regex:kind[:rate]");
        rule.rate = rate;
        tail = head.substr(prev + 1);
        head = head.substr(0, prev);
        if (!is_kind(tail)) throw usage_error("--fault '" + text + "': unknown kind '" + tail + "'");
    }
    if (head.empty()) throw usage_error("--fault '" + text + "': empty path_regex");
    rule.path_regex = head;
    rule.kind = tail;
    return rule;
}

duration scale_down(duration d, double factor) {
    return std::chrono::duration_cast<duration>(
        std::chrono::duration<double, duration::period>(static_cast<double>(d.count()) / factor));
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"containd-sim: a simulated Microsoft 365 tenant (Entra token endpoint + Microsoft Graph) over HTTPS"};
    app.set_version_flag("--version", "containd-sim " CONTAIND_VERSION);
    app.footer(
        "Prints one JSON line on stdout when listening, then serves until SIGINT/SIGTERM.\n"
        "Exit codes: 0 clean stop, 1 cannot start, 2 usage or unusable input file.");
    std::string scenario_file, bind = "127.0.0.1", client_id, secret_file, cert_file, ca_out, leaf_cert, leaf_key;
    int port = 0, threads = 1;
    double time_scale = 1.0, timing_scale = 1.0;
    std::uint64_t seed = 1;
    std::vector<std::string> faults;
    int latency_ms = 0;
    bool crash_points = false;
    app.add_option("--scenario", scenario_file, "Scenario JSON file (e.g. config/scenarios/bec-walkthrough.json)")
        ->required()
        ->check(CLI::ExistingFile);
    app.add_option("--bind", bind, "Address to listen on")->capture_default_str();
    app.add_option("--port", port, "Port (0: the OS chooses; see the JSON line)")
        ->check(CLI::Range(0, 65535))
        ->capture_default_str();
    app.add_option("--client-id", client_id, "Register this application id as a client allowed to get tokens");
    app.add_option("--client-secret-file", secret_file, "File holding the registered client's secret (never printed)")
        ->check(CLI::ExistingFile);
    app.add_option("--client-cert", cert_file, "PEM certificate whose key signs the registered client's assertions")
        ->check(CLI::ExistingFile);
    app.add_option("--ca-out", ca_out, "Write the CA certificate (PEM) clients must trust to this file");
    app.add_option("--tls-cert", leaf_cert, "Serve this PEM certificate (chain) instead of a generated one")
        ->check(CLI::ExistingFile);
    app.add_option("--tls-key", leaf_key, "Private key of --tls-cert")->check(CLI::ExistingFile);
    app.add_option("--time-scale", time_scale,
                   "Run the tenant's clock this many times faster than real time (the CAE, ingestion and attacker "
                   "delays are measured on it, so they shrink with it)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option(
           "--timing-scale", timing_scale,
           "Additionally divide the simulated delays (CAE, ingestion and its per-record draws, attacker interval) by "
           "this factor")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--seed", seed, "Seed for faults, generated ids, sign-in ingestion delays and token lifetimes")
        ->capture_default_str();
    app.add_option("--fault", faults,
                   "Fault rule path_regex:kind[:rate] (repeatable; kinds: 429_seconds 429_decimal "
                   "429_http_date 429_none 500 502 503 504 reset hang slow_body)");
    app.add_option("--latency-ms", latency_ms, "Real-time delay added to every response")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--threads", threads, "Server threads")->check(CLI::Range(1, 64))->capture_default_str();
    app.add_flag("--crash-points", crash_points,
                 "Tests only: allow POST /_sim/crash_point to SIGKILL a process at its Nth request");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? 0 : 2;
    }

    // Block the stop signals before any thread starts, so every thread inherits the mask and
    // sigwait() below is the only place they are delivered.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    containd::sim::options opts;
    std::vector<containd::sim::fault_rule> rules;
    bool temp_ca = false;
    try {
        const std::string text = read_whole_file(scenario_file, "scenario");
        opts.scenario = nlohmann::json::parse(text, nullptr, false);
        if (opts.scenario.is_discarded() || !opts.scenario.is_object())
            throw usage_error("scenario '" + scenario_file + "' is not a JSON object");
        if ((!secret_file.empty() || !cert_file.empty()) && client_id.empty())
            throw usage_error("--client-secret-file and --client-cert need --client-id");
        if (!client_id.empty()) {
            if (secret_file.empty() && cert_file.empty())
                throw usage_error("--client-id needs --client-secret-file and/or --client-cert");
            containd::sim::registered_client c;
            c.client_id = client_id;
            if (!secret_file.empty()) {
                c.client_secret = trim_trailing_newlines(read_whole_file(secret_file, "client secret file"));
                if (c.client_secret.empty()) throw usage_error("client secret file '" + secret_file + "' is empty");
            }
            if (!cert_file.empty()) c.certificate_pem = read_whole_file(cert_file, "client certificate");
            opts.clients.push_back(std::move(c));
        }
        if (leaf_cert.empty() != leaf_key.empty()) throw usage_error("--tls-cert and --tls-key go together");
        opts.cert_file = leaf_cert;
        opts.key_file = leaf_key;
        for (const auto& f : faults) rules.push_back(parse_fault(f));
    } catch (const usage_error& e) {
        std::cerr << "containd-sim: " << e.what() << "\n";
        return 2;
    }

    opts.bind_address = bind;
    opts.port = static_cast<std::uint16_t>(port);
    opts.seed = seed;
    opts.threads = threads;
    opts.allow_crash_points = crash_points;
    if (timing_scale != 1.0) {
        opts.times.cae_delay = scale_down(opts.times.cae_delay, timing_scale);
        opts.times.ingestion_delay = scale_down(opts.times.ingestion_delay, timing_scale);
        opts.times.attacker_interval = scale_down(opts.times.attacker_interval, timing_scale);
        opts.times.delay_divisor = timing_scale;  // the per-record sign-in ingestion draws too
    }

    // Scenario times written as "now..." are relative to this instant.
    const containd::scaled_clock clock(std::chrono::system_clock::now(), time_scale);

    std::optional<containd::sim::simulator> sim;
    try {
        sim.emplace(std::move(opts), clock);
        if (!rules.empty()) sim->set_faults(rules);
    } catch (const std::exception& e) {
        std::cerr << "containd-sim: " << e.what() << "\n";
        return 2;
    }
    try {
        sim->start();
    } catch (const std::exception& e) {
        std::cerr << "containd-sim: cannot start: " << e.what() << "\n";
        return 1;
    }
    if (latency_ms > 0) sim->set_latency(std::chrono::milliseconds(latency_ms));

    if (ca_out.empty()) {
        ca_out = (std::filesystem::temp_directory_path() / ("containd-sim-" + std::to_string(::getpid()) + "-ca.pem"))
                     .string();
        temp_ca = true;
    }
    {
        std::ofstream out(ca_out, std::ios::binary | std::ios::trunc);
        out << sim->ca_certificate_pem();
        if (!out.flush()) {
            std::cerr << "containd-sim: cannot write CA file '" << ca_out << "'\n";
            return 2;
        }
    }
    std::error_code ec;
    const auto ca_abs = std::filesystem::absolute(ca_out, ec);

    nlohmann::json ready = {{"listening", sim->base_url()},
                            {"port", sim->port()},
                            {"tenant_id", sim->tenant_id()},
                            {"ca_file", ec ? ca_out : ca_abs.string()}};
    if (!client_id.empty()) ready["client_id"] = client_id;
    std::cout << ready.dump() << std::endl;  // flushed: a parent process waits for this line

    int sig = 0;
    while (sigwait(&stop_signals, &sig) != 0) {}
    std::cerr << "containd-sim: " << (sig == SIGINT ? "SIGINT" : "SIGTERM") << ", stopping\n";
    sim->stop();
    if (temp_ca) std::filesystem::remove(ca_out, ec);
    return 0;
}
