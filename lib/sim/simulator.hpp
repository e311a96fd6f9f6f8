#pragma once
// The simulated Microsoft tenant: a faithful stand-in for login.microsoftonline.com (client
// credentials token endpoint) and graph.microsoft.com (the Graph endpoints containd calls), served
// over HTTPS on loopback. It behaves like Microsoft's service (paths, status codes, error bodies,
// paging, batching, throttling, quirks), holds a tenant described by a scenario file, and runs an
// attacker model that writes sign-in log entries over (injected-clock) time.
//
// Depends only on containd::core (and JSON); it shares no types with lib/graph, on purpose.
// This header is Asio-free: the server lives behind a pimpl.
//
// Threading: every public member is safe to call from any thread while the server runs. All
// tenant state sits behind one mutex, so requests are applied in a total order (the journal's).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/clock.hpp"

namespace containd::sim {

// An application allowed to obtain tokens (our daemon). Either a secret or a certificate (or
// both). The certificate is the PEM of the X.509 certificate whose private key signs the client
// assertion. Applications declared in the scenario with secrets can obtain tokens too.
struct registered_client {
    std::string client_id;
    std::string client_secret;
    std::string certificate_pem;
};

// All delays are configurable: tests use milliseconds on the manual clock, the demo seconds.
// Sign-in ingestion is drawn per record (seeded) unless the scenario's "ingestion" says
// otherwise (lib/sim/README.md); audits use ingestion_delay.
struct timing {
    duration cae_delay = minutes(5);               // CAE-capable apps cut this long after revocation (<= 15 min)
    duration ingestion_delay = minutes(3);         // audits (and sign-ins under "fixed") visible this long after
    duration access_token_lifetime = minutes(60);  // tokens the simulator issues to our daemon
    duration attacker_interval = minutes(2);       // default period of each attacker activity stream
    double delay_divisor = 1.0;                    // divides the drawn sign-in ingestion delays (--timing-scale)
};

struct options {
    std::string bind_address = "127.0.0.1";
    std::uint16_t port = 0;                  // 0: the OS chooses; port() reports it
    nlohmann::json scenario;                 // parsed scenario file (format: lib/sim/README.md)
    std::vector<registered_client> clients;  // who may get tokens
    timing times;
    std::uint64_t seed = 1;           // faults and generated ids are reproducible from it
    std::string cert_file, key_file;  // optional: serve this leaf instead of generating one
    int threads = 1;
    // Test-only: POST /_sim/crash_point may SIGKILL a process (the daemon under test) at the Nth
    // request. Off unless asked for (containd-sim --crash-points); never in the daemon's demo.
    bool allow_crash_points = false;
};

// One request as received. Bearer tokens are never stored; token-endpoint secrets/assertions and
// passwords in Graph bodies are replaced by "[REDACTED ...]" markers (see README).
struct journal_entry {
    std::int64_t seq;
    time_point at;  // injected clock
    std::string method, path, query, body;
    int status;             // status the simulator produced (also for reset/hang faults, whose
                            // response the client never receives; the effect did happen)
    std::string client_id;  // the caller's appId (from its token or the token request), or empty
    bool in_batch = false;  // an item of the $batch request journalled just before it (path: the
                            // item's URL with its version prefix); not an HTTP request of its own
};

// A fault injected before (429/5xx: the request has no effect) or after (reset, hang, slow_body:
// the request took effect, the response is lost or dribbled) the request is processed.
// kind: "429_seconds" (Retry-After: 2), "429_decimal" (Retry-After: 1.5), "429_http_date"
// (Retry-After: HTTP date 3 s after the injected clock's now), "429_none" (no Retry-After),
// "500", "502", "503", "504", "reset" (TCP RST, no response), "hang" (no response until the
// client closes or the simulator stops), "slow_body" (headers at once, body in 10 pieces over
// about 3 s of real time).
// Matching: path_regex (ECMAScript, searched in the request path without the query) and method
// (empty = any). count >= 0: the first `count` matching requests fault (scripted); otherwise each
// matching request faults with probability `rate` from the seeded RNG. Rules are tried in order;
// the first that fires wins. /_sim/* is never faulted.
struct fault_rule {
    std::string path_regex;
    std::string method;
    std::string kind;
    double rate = 0;
    int count = -1;
};

class simulator {
public:
    // REQUIRES: clock outlives the simulator. Throws std::invalid_argument for a malformed
    // scenario (the message names the offending key) or unusable cert/key files.
    simulator(options opts, const clock_source& clock);
    ~simulator();  // stops
    simulator(const simulator&) = delete;
    simulator& operator=(const simulator&) = delete;

    void start();  // binds, spawns threads; returns when listening. Throws on bind failure.
    void stop();   // idempotent

    std::uint16_t port() const;
    std::string base_url() const;            // "https://127.0.0.1:<port>": login AND graph base (graph at +"/v1.0")
    std::string ca_certificate_pem() const;  // trust anchor for clients (the generated CA)
    std::vector<journal_entry> journal() const;
    nlohmann::json state() const;  // users, methods, policies, apps, SPs, grants, rules, sign-ins, audits
    void set_faults(std::vector<fault_rule> rules);  // replaces the rules and resets their counters
    void set_latency(duration per_request);          // real-time delay added to every response
    std::string tenant_id() const;                   // GUID of the tenant from the scenario

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace containd::sim
