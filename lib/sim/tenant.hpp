#pragma once
// The simulated tenant's state and its Graph / token-endpoint behaviour (internal to lib/sim).
// No I/O and no locking: the owner (service) serialises every call behind one mutex and passes
// the injected clock's "now" in, which makes every outcome deterministic on a manual clock.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "sim/http_types.hpp"
#include "sim/odata.hpp"
#include "sim/simulator.hpp"

namespace containd::sim {

using json = nlohmann::json;

// One Graph request, already split: used for top-level requests and for $batch items alike.
struct graph_call {
    std::string method;             // upper case
    std::string version;            // "v1.0" or "beta"
    std::vector<std::string> segs;  // percent-decoded path segments after the version
    std::string raw_query;          // as received (for nextLink)
    std::map<std::string, std::string> query;
    json body;  // null when there is no body
    bool body_malformed = false;
    std::string client_id;  // caller's appId
    std::string prefer;     // Prefer header
    std::string request_id;
    std::string client_request_id;
    bool in_batch = false;
};

struct graph_reply {
    int status = 200;
    json body;  // ignored when has_body is false
    bool has_body = true;
    std::vector<std::pair<std::string, std::string>> headers;
};

// Sliding-window limiter counting accepted requests only.
class window_limiter {
public:
    // Returns nullopt when admitted (and records it), else the time until a slot frees.
    std::optional<duration> admit(const std::string& key, time_point now, std::size_t limit, duration window);

private:
    std::map<std::string, std::deque<time_point>> seen_;
};

class tenant {
public:
    tenant(const json& scenario, const timing& times, std::uint64_t seed, std::vector<registered_client> clients,
           time_point now);

    const std::string& id() const { return id_; }
    const std::string& display_domain() const { return domain_; }
    bool is_tenant_name(const std::string& s) const;
    void set_base_url(std::string url) { base_url_ = std::move(url); }

    // Token endpoint. tenant_segment is the decoded {tenant} path segment. client_id_out gets the
    // form's client_id (for the journal) even on failure.
    http_response token_request(const std::string& tenant_segment, const std::string& method, const http_request& req,
                                time_point now, std::string& client_id_out);

    // Bearer authentication for Graph: the caller's appId, or a 401 reply.
    std::optional<std::string> authenticate(const std::string& authorization, time_point now, graph_reply& failure);

    // One Graph request (throttling included; $batch handled here too).
    graph_reply graph(const graph_call& call, time_point now);

    // Called for each $batch item instead of processing it directly: `path` is the item's URL
    // as sent (with the version prefix), and `process` runs it. The simulator's front journals
    // each item and applies its fault rules to it, as it does to a request of its own.
    using batch_item_hook = std::function<graph_reply(const graph_call& item, const std::string& path,
                                                      const std::function<graph_reply()>& process)>;
    void on_batch_item(batch_item_hook hook) { batch_item_hook_ = std::move(hook); }

    // Runs the attacker model up to now (idempotent for the same now).
    void advance(time_point now);

    json state(time_point now) const;

    // Every access token issued and not yet forgotten (for the /_sim/tokens control endpoint:
    // tests look for them where they must never appear).
    std::vector<std::string> issued_tokens() const {
        std::vector<std::string> out;
        for (const auto& [token, rec] : tokens_) out.push_back(token);
        return out;
    }

    // Error body in Graph's shape.
    graph_reply error(int status, const std::string& code, const std::string& message, const graph_call& call,
                      time_point now) const;

    std::string next_request_id() { return new_guid(); }

private:
    // ---- records ----
    struct user_rec {
        json g;                                  // Graph user properties
        std::vector<json> methods;               // with @odata.type
        std::string default_method;              // method id (sim-only)
        std::set<std::string> attacker_methods;  // method ids registered by the attacker (sim-only)
        std::vector<json> rules;                 // inbox messageRules
        bool has_mailbox = true;
        std::optional<json> risk;  // riskyUser
        std::vector<std::string> role_ids, group_ids;
        std::optional<time_point> sessions_valid_from;  // revoke / password change
        std::optional<time_point> password_changed;     // password set in the simulation
        std::optional<time_point> disabled_at;
        std::optional<time_point> high_risk_at;
        json password_profile = json::object();
    };
    struct role_rec {
        json g;
        std::vector<std::string> members;
        std::vector<std::string> sp_members;
    };
    struct app_rec {
        json g;
        bool deleted = false;
    };
    struct sp_rec {
        json g;
        bool deleted = false;
        std::vector<json> assignments;
    };
    struct policy_rec {
        json g;
        std::optional<time_point> enabled_at;
    };
    struct signin_rec {
        time_point at;
        json e;
        std::string event_type;
        time_point visible;
    };  // e in beta shape
    struct audit_rec {
        time_point at;
        json e;
    };
    struct token_rec {
        std::string client_id;
        time_point expires;
    };
    struct stream {
        json spec;
        std::string kind;  // "user" | "service_principal"
        duration interval{};
        time_point next_tick;
        std::optional<time_point> end;
        std::optional<duration> token_lifetime;  // activity[].token_lifetime_minutes, else drawn per token
        std::optional<duration> ingestion;       // activity[].ingestion_delay_seconds, else drawn per record
        // user streams
        std::string client_kind;              // "cae" | "non_cae" | "legacy"
        std::string credential = "password";  // "password" | "app_password" (legacy clients)
        std::optional<time_point> token_issued, token_expires, session_issued;
        int used_without_sign_in = 0;  // ticks served by a held token (no sign-in record)
        std::optional<time_point> last_used;
        // service principal streams
        std::set<std::string> known_keys;
    };

    // ---- helpers (tenant.cpp) ----
    std::string new_guid();
    std::string new_opaque_id(std::size_t bytes);
    std::string ctx(const graph_call& c, const std::string& fragment) const;  // @odata.context
    time_point parse_time(const json& v, const char* what) const;
    graph_reply ok(json body, int status = 200) const;
    graph_reply no_content() const;
    graph_reply not_found(const graph_call& c, time_point now, const std::string& id) const;
    graph_reply method_not_allowed(const graph_call& c, time_point now) const;
    graph_reply bad_segment(const graph_call& c, time_point now, const std::string& seg) const;
    graph_reply throttled(const graph_call& c, time_point now, std::optional<duration> retry_after) const;
    // $top/$skiptoken/$select over a collection; filter applied by the caller.
    graph_reply page(const graph_call& c, time_point now, std::vector<json> items, const std::string& context,
                     std::size_t default_top, std::size_t max_top, const std::string& snapshot = {});
    graph_reply batch(const graph_call& c, time_point now);
    graph_reply dispatch(const graph_call& c, time_point now);
    // Parses $filter; nullptr with *err set to a 400 reply when malformed or unsupported.
    odata::node_ptr filter_of(const graph_call& c, time_point now, const std::vector<std::string>& allowed,
                              const std::string& type_name, graph_reply& err, bool& has_filter) const;
    static json select(const json& entity, const std::string& select_list);
    void add_audit(time_point now, const std::string& activity, const std::string& category, const std::string& service,
                   const std::string& operation, const std::string& client_id, json targets);
    std::string app_display_name(const std::string& app_id) const;

    // ---- users (tenant_users.cpp) ----
    user_rec* find_user(const std::string& key);
    const user_rec* find_user(const std::string& key) const;
    graph_reply users(const graph_call& c, time_point now);
    graph_reply user_get(const graph_call& c, time_point now, user_rec& u);
    graph_reply user_patch(const graph_call& c, time_point now, user_rec& u);
    graph_reply user_methods(const graph_call& c, time_point now, user_rec& u);
    graph_reply user_rules(const graph_call& c, time_point now, user_rec& u);
    graph_reply member_of(const graph_call& c, time_point now, user_rec& u);
    graph_reply risky_users(const graph_call& c, time_point now);
    graph_reply directory_roles(const graph_call& c, time_point now);
    json user_view(const user_rec& u) const;

    // ---- apps (tenant_apps.cpp) ----
    app_rec* find_app(const std::string& seg, const std::string& key_prop, const std::string& key_value);
    sp_rec* find_sp(const std::string& seg, const std::string& key_prop, const std::string& key_value);
    sp_rec* sp_by_app_id(const std::string& app_id);
    app_rec* app_by_app_id(const std::string& app_id);
    graph_reply applications(const graph_call& c, time_point now);
    graph_reply service_principals(const graph_call& c, time_point now);
    graph_reply grants(const graph_call& c, time_point now);
    graph_reply remove_password(const graph_call& c, time_point now, json& owner, const std::string& kind);
    graph_reply add_password(const graph_call& c, time_point now, json& owner, const std::string& kind);
    graph_reply patch_key_credentials(const graph_call& c, time_point now, json& owner, const json& creds);
    graph_reply sp_member_of(const graph_call& c, time_point now, const sp_rec& s, std::size_t nav_index);
    static json credential_view(const json& owner, bool include_key);

    // ---- policies (tenant_policies.cpp) ----
    graph_reply conditional_access(const graph_call& c, time_point now);
    graph_reply policies(const graph_call& c, time_point now);
    graph_reply named_locations(const graph_call& c, time_point now);
    std::optional<std::string> validate_policy(const json& p) const;
    static json normalise_policy(json p);
    struct ca_outcome {
        std::string status = "notApplied";  // success | failure | notApplied
        bool blocked = false;
        std::optional<time_point> block_enabled_at;  // earliest enabling time of a blocking policy
        json applied = json::array();
    };
    ca_outcome evaluate_ca(const user_rec& u, const std::string& app_id, const std::string& ip,
                           const std::string& client_app_used) const;
    bool ip_in_location(const std::string& ip, const std::string& location_id, bool trusted_only) const;

    // ---- logs and attacker (tenant_logs.cpp) ----
    graph_reply sign_ins(const graph_call& c, time_point now);
    graph_reply directory_audits(const graph_call& c, time_point now);
    void load_streams(const json& activity, time_point now);
    void run_stream_tick(stream& s, time_point t);
    void user_tick(stream& s, time_point t);
    void sp_tick(stream& s, time_point t);
    json signin_base(const stream& s, time_point t);
    void record_signin(const stream& s, time_point t, json e, const std::string& event_type);
    duration draw_ingestion(const stream& s, const json& e);
    duration draw_token_lifetime(const stream& s);

    // ---- token endpoint (token.cpp) ----
    http_response token_error(int status, const std::string& error, int code, const std::string& description,
                              time_point now) const;

    // ---- application permissions (permissions.cpp) ----
    void load_app_roles(const json& scenario);
    std::string make_access_token(const std::string& client_id) const;
    std::optional<graph_reply> check_permission(const graph_call& c, time_point now) const;
    std::vector<std::string> app_roles_;  // granted to containd's app; in every token's roles claim

    // ---- containd's own application (tenant_self.cpp) ----
    // An application object and a service principal for each registered client (unless the
    // scenario declares them), its secret / certificate as credentials of the application (with
    // the scenario's "app_credential_expires"), and the SP in the scenario's
    // "app_directory_roles".
    void register_clients(const json& scenario);
    role_rec& role_named(const std::string& name);             // created (derived id) when the tenant has none
    std::string derived_guid(const std::string& label) const;  // stable, does not draw from rng_
    // PATCH passwordProfile in app-only mode: the caller's service principal must hold a directory
    // role allowed to reset this target's password; otherwise 403 Authorization_RequestDenied.
    std::optional<graph_reply> check_reset_role(const graph_call& c, const user_rec& target, time_point now);

    // ---- data ----
    std::string id_, domain_, display_name_;
    std::vector<std::string> domains_;
    std::string base_url_ = "https://127.0.0.1";
    timing times_;
    std::vector<registered_client> clients_;
    mutable std::mt19937_64 rng_;
    time_point start_;
    double time_scale_ = 1.0;
    bool identity_protection_licensed_ = true;
    bool audit_logs_licensed_ = true;
    bool password_writeback_ = true;
    json tap_policy_;
    std::optional<time_point> compromise_start_;
    struct rate_cfg {
        std::size_t limit;
        duration window;
    };
    bool throttling_enabled_ = true;
    batch_item_hook batch_item_hook_;
    rate_cfg protection_rate_{1, seconds(1)};
    rate_cfg reports_rate_{5, seconds(10)};
    window_limiter limiter_;

    std::vector<user_rec> users_;
    std::vector<role_rec> roles_;
    std::vector<json> groups_;
    std::vector<policy_rec> policies_;
    std::vector<json> locations_;
    std::vector<app_rec> apps_;
    std::vector<sp_rec> sps_;
    std::vector<json> grants_;
    std::vector<signin_rec> signins_;
    std::vector<audit_rec> audits_;
    std::map<std::string, token_rec> tokens_;
    std::map<std::string, std::string> secret_values_;  // keyId -> secret text (sim-only)
    std::vector<stream> streams_;
    // Sign-in ingestion (scenario "ingestion") and token lifetimes: drawn from their own seeded
    // generator, so they do not move generated ids.
    std::mt19937_64 behaviour_rng_;
    bool ingestion_realistic_ = true;
    double ingestion_fast_share_ = 0.90, ingestion_mfa_late_share_ = 0.05;
    duration ingestion_fast_max_ = minutes(2), ingestion_tail_max_ = minutes(10),
             ingestion_mfa_late_max_ = minutes(120);
    std::optional<duration> token_lifetime_policy_;  // scenario token_lifetime_policy_minutes
    time_point generated_until_;

    friend class tenant_test_access;
};

// Directory role display name -> roleTemplateId (Microsoft's built-in role templates the scenario
// may name).
const std::map<std::string, std::string>& role_templates();

// Redaction used by the journal: JSON bodies with password-like members replaced, and
// token-endpoint forms with client_secret / client_assertion replaced.
std::string redact_json_body(const std::string& body);
std::string redact_form_body(const std::string& body);

// IPv4/IPv6 CIDR match ("10.0.0.0/8", "2001:db8::/32"; a bare address is a /32 or /128).
bool ip_in_cidr(const std::string& ip, const std::string& cidr);

}  // namespace containd::sim
