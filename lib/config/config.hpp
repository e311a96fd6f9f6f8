#pragma once
// The daemon's one JSON configuration file: parsed and validated up front, with every problem
// reported by its key ("tenants[0].client_id: must be a GUID"). Secrets are never in the file
// itself: only the names of files or environment variables that hold them.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "incident/planner.hpp"

namespace containd::config {

enum class role { viewer, submitter, operator_ };  // "operator" on the wire
std::string_view to_string(role r);

struct api_token {
    std::string name;        // who: shows in the audit trail ("soar", "alice")
    std::string sha256_hex;  // of the bearer token; the token itself is never configured
    role granted = role::viewer;
    std::optional<time_point> expires{};  // "expires": RFC 3339; refused from then on (401)
};

// The API's TLS profiles (names after Mozilla's server-side TLS guidelines). Both allow only
// forward-secret key exchange: ECDHE with AEAD ciphers on TLS 1.2, and TLS 1.3.
//   intermediate (default): TLS 1.2 and 1.3
//   modern: TLS 1.3 only
enum class tls_profile { intermediate, modern };
std::string_view to_string(tls_profile p);

struct api_settings {
    std::string bind_address = "127.0.0.1";
    std::uint16_t port = 8080;  // 0: the OS chooses (printed at start)
    std::optional<std::string> tls_cert_file;
    std::optional<std::string> tls_key_file;
    tls_profile tls = tls_profile::intermediate;  // "tls_profile"
    // A bind address that is not loopback without TLS is a config error unless this is true
    // ("allow_plaintext_remote"): bearer tokens would cross the network in clear.
    bool allow_plaintext_remote = false;
    std::size_t body_limit = 1 << 20;
    std::size_t header_limit = 16 << 10;
    duration read_timeout = seconds(10);
    duration idle_timeout = seconds(60);
    std::size_t max_connections = 256;
    std::vector<api_token> tokens;
};

// Where a tenant's client credential comes from. Exactly one of: a secret (file or environment
// variable), or a certificate with its private key (files).
struct credential_source {
    std::optional<std::string> secret_file;
    std::optional<std::string> secret_env;
    std::optional<std::string> certificate_file;
    std::optional<std::string> private_key_file;
};

struct tenant_config {
    incident::tenant_settings settings;  // name, policy, named locations, break-glass, schedule
    std::string directory_tenant;        // the Entra tenant id or domain for the token endpoint
    std::string login_base = "https://login.microsoftonline.com";
    std::string graph_base = "https://graph.microsoft.com";
    std::string client_id;
    credential_source credential;
    std::optional<std::string> ca_file;  // extra trust anchor (the simulator's CA)
    // The HTTPS proxy (CONNECT) for this tenant's login and Graph calls. Absent: HTTPS_PROXY and
    // NO_PROXY of the environment. proxy_url "none": direct even when HTTPS_PROXY is set.
    std::optional<std::string> proxy_url;               // "http://host:port"
    std::optional<std::string> proxy_credentials_file;  // one line "user:password"
    std::vector<std::string> no_proxy;
};

struct engine_settings {
    std::size_t max_concurrent_steps = 64;
    duration attempt_timeout = seconds(60);
    duration step_deadline = minutes(30);
};

struct log_settings {
    std::optional<std::string> file;  // default: stderr
    std::string level = "info";
};

// The demo mode: a simulated tenant embedded in the daemon (see lib/sim).
struct simulator_settings {
    std::string scenario_file;
    double time_scale = 1.0;  // >1 compresses the simulator's delays (CAE, ingestion, token life)
    std::uint64_t seed = 1;   // the simulator's draws (ingestion delays, token lifetimes, ids): a run replays
};

// Webhook notifications (lib/notify/README.md).
inline constexpr const char* notification_kinds[] = {
    "accepted", "contained",    "attention_raised", "approval_waiting", "verification_verdict",
    "released", "tenant_health"};

struct notify_subscriber {
    std::string name;
    std::optional<std::string> url;  // or url_file: Slack and Teams webhook URLs are secrets
    std::optional<std::string> url_file;
    std::string format = "json";             // json | teams | slack
    std::optional<std::string> secret_file;  // the HMAC-SHA256 key; required for json
    std::vector<std::string> events;         // notification kinds; empty: all of them
    std::vector<std::string> tenants;        // empty: every tenant
    std::optional<std::string> ca_file;      // extra trust anchor for the receiver
};

struct notify_settings {
    std::vector<notify_subscriber> subscribers;
    duration poll_interval = milliseconds(500);  // how often new events and due deliveries are looked at
    duration retry_first = seconds(5);           // the first backoff; doubles per attempt
    duration retry_max = minutes(10);
    duration give_up_after = std::chrono::hours(24);  // then the delivery is marked failed
    duration timeout = seconds(10);                   // one delivery attempt
};

struct daemon_config {
    std::string database_path = "containd.db";
    std::string vault_key_file = "vault.key";
    log_settings log;
    api_settings api;
    engine_settings engine;
    std::vector<tenant_config> tenants;
    std::optional<simulator_settings> simulator;
    notify_settings notify;
};

struct config_error {
    std::string key;
    std::string message;
};

using load_result = std::variant<daemon_config, std::vector<config_error>>;

// Validates every key; unknown keys are errors (a typo must not silently drop a setting).
// Relative paths are resolved against base_dir (the config file's directory).
load_result parse_config(const nlohmann::json& doc, const std::string& base_dir = ".");
// Reads and parses a file; a JSON syntax error is reported with its byte offset.
load_result load_config_file(const std::string& path);

std::string describe(const std::vector<config_error>& errors);  // one line per error

// True for 127.0.0.0/8, ::1 and "localhost"; false for anything else (0.0.0.0 and :: too).
bool is_loopback_address(const std::string& address);

// Start-up checks of the files the configuration names (the daemon refuses to start on any):
// the configuration file writable by group or others; a secret file (client secret, private
// key, proxy credentials, API TLS key, webhook key or URL file) or the vault key, when it exists,
// readable by others or writable by group or others. Each message names the file, its mode and the fix. Empty when all is well.
std::vector<std::string> unsafe_file_permissions(const daemon_config& config, const std::string& config_path);

}  // namespace containd::config
