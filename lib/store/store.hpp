#pragma once
// The store: the only code that writes SQL. Every state change is one transaction together with
// its audit event, so the database never shows an effect without its record or vice versa.
//
// Threading: a store and everything it returns belong to one thread (the daemon's io thread).
// Errors: storage failures throw storage_error (see sqlite.hpp); "not found" is an empty optional.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "incident/model.hpp"
#include "incident/planner.hpp"
#include "incident/status.hpp"
#include "store/vault.hpp"

namespace containd::store {

class connection;
class statement;

// The status vocabulary lives with the incident model (incident/status.hpp), where the pure
// scheduler uses it; these names keep the store's callers as they were.
using incident::incident_status;
using incident::incident_status_from_string;
using incident::is_final;
using incident::step_status;
using incident::step_status_from_string;
using incident::to_string;

struct incident_record {
    std::string id;
    std::string tenant;
    std::optional<std::string> external_ref;
    std::optional<std::string> idempotency_key;
    std::string request_sha256;
    nlohmann::json request;  // canonical incident_request JSON
    nlohmann::json plan;     // the plan's accounts, scope, delivery, warnings, permissions
    incident_status status = incident_status::running;
    incident::phase current_phase = incident::phase::resolve;
    time_point created_at;
    time_point updated_at;
    std::optional<time_point> contained_at;
    std::vector<std::string> attention;
    std::int64_t version = 0;
};

struct account_record {
    std::string upn;
    std::optional<std::string> object_id;
    incident::tier assigned_tier = incident::tier::standard;
    std::string tier_reason;
    bool synced = false;
    std::optional<time_point> revoked_at;
    std::optional<time_point> password_reset_at;
    std::optional<time_point> tap_issued_at;
    std::vector<std::string> methods_removed;
};

struct step_record {
    std::string incident_id;
    int seq = 0;
    incident::phase step_phase = incident::phase::resolve;
    int stage = 0;
    incident::step_kind kind = incident::step_kind::resolve_account;
    std::string target;
    std::optional<int> depends_on;
    bool requires_approval = false;
    std::optional<std::string> approved_by;
    nlohmann::json params;
    step_status status = step_status::pending;
    int attempt = 0;
    std::optional<time_point> not_before;
    std::optional<time_point> deadline;
    nlohmann::json intent;  // null until a runner records one
    nlohmann::json result;  // null until it succeeds (or records a partial result)
    std::string error;
    std::optional<time_point> started_at;
    std::optional<time_point> finished_at;
};

struct event_record {
    std::int64_t id = 0;
    std::string incident_id;
    time_point at;
    std::string kind;
    std::optional<int> step_seq;
    nlohmann::json data;
    std::string prev_hash;
    std::string hash;
};

struct new_incident {
    std::string id;
    std::string tenant;
    std::optional<std::string> external_ref;
    std::optional<std::string> idempotency_key;
    nlohmann::json request;  // canonical
    incident::plan plan;
};

// The outcome of create_incident. `existing` means a replay: the same Idempotency-Key or
// external_ref was seen before; same_request says whether the bodies match.
struct created {
    std::string id;
};
struct existing {
    std::string id;
    bool same_request;
    bool by_idempotency_key;
};
using create_result = std::variant<created, existing>;

struct list_filter {
    std::optional<incident_status> status;
    std::optional<std::string> tenant;
    std::size_t limit = 50;
    std::optional<std::string> before_id;  // cursor: continue after this incident (newest first)
};

enum class reveal_status { revealed, already_revealed, not_found };
struct reveal_result {
    reveal_status status;
    std::string plaintext;  // only when revealed; the caller must not log it
};

// The engine's compact view of unfinished work, loaded in one pass at start-up (resume).
struct schedule_incident {
    std::string id;
    std::string tenant;
    incident_status status = incident_status::running;
    incident::phase current_phase = incident::phase::resolve;
    std::optional<time_point> contained_at;
    bool plan_refined = false;  // the plan has been re-derived from directory facts
    std::vector<std::string> attention;
};
struct schedule_step {
    std::string incident_id;
    int seq = 0;
    int stage = 0;
    incident::phase step_phase = incident::phase::resolve;
    incident::step_kind kind = incident::step_kind::resolve_account;
    std::optional<int> depends_on;
    bool requires_approval = false;
    step_status status = step_status::pending;
    std::optional<time_point> not_before;
    std::optional<std::int64_t> offset_ms;  // verification checks
    std::string target;
    int batch = 0;                       // params.batch: 0 for the submitted plan
    std::string error;                   // the last failure
    std::string verdict;                 // verification checks that succeeded
    std::vector<std::string> diagnosis;  // a succeeded step's "attention" items (older checks: their diagnosis)
};
struct schedule {
    std::vector<schedule_incident> incidents;  // ordered by creation
    std::vector<schedule_step> steps;          // grouped by incident, in seq order
};

class store {
public:
    // Opens or creates the database at path (":memory:" works for tests) and migrates it.
    store(const std::string& path, const clock_source& clock, vault secrets);
    ~store();
    store(const store&) = delete;
    store& operator=(const store&) = delete;

    // --- incidents ---
    // Inserts the incident, its accounts and its steps, and the "accepted" event, in one durable
    // transaction; or returns the earlier incident with the same idempotency key / external_ref.
    create_result create_incident(const new_incident& incident);
    std::optional<incident_record> get_incident(const std::string& id);
    std::vector<incident_record> list_incidents(const list_filter& filter);
    std::vector<std::string> unfinished_incident_ids();  // every status but contained and cancelled
    std::map<std::string, std::int64_t> count_by_status();
    // Every unfinished incident (or just one) with its steps, without their JSON payloads; a
    // cancelled incident whose release an operator asked for is unfinished until it is done.
    schedule load_schedule(const std::optional<std::string>& incident_id = std::nullopt);
    // The same, one row at a time (the engine builds its views without a second copy of it all).
    void for_each_scheduled(const std::optional<std::string>& incident_id,
                            const std::function<void(schedule_incident&&)>& on_incident,
                            const std::function<void(schedule_step&&)>& on_step);

    // Status, phase and attention list; writes a "status_changed" event when the status moves.
    void set_incident_state(const std::string& id, incident_status status, incident::phase phase,
                            const std::vector<std::string>& attention);
    void set_contained_at(const std::string& id, time_point at);

    // --- accounts ---
    std::vector<account_record> accounts(const std::string& incident_id);
    // Merges fields into the account row: object_id, tier, tier_reason, synced, revoked_at,
    // password_reset_at, tap_issued_at (times as RFC 3339 or Unix ms), methods_removed (appended).
    void update_account(const std::string& incident_id, const std::string& upn, const nlohmann::json& fields);

    // --- steps ---
    std::vector<step_record> steps(const std::string& incident_id);
    std::optional<step_record> step(const std::string& incident_id, int seq);
    // Marks a step running and counts the attempt, before any effect is sent (intent first).
    // Sets the step deadline on the first attempt. Returns the new attempt number.
    int begin_attempt(const std::string& incident_id, int seq, time_point deadline);
    void record_intent(const std::string& incident_id, int seq, const nlohmann::json& intent);
    void complete_step(const std::string& incident_id, int seq, const nlohmann::json& result);
    // Back to pending with the earliest next attempt; the wait survives a restart.
    void schedule_retry(const std::string& incident_id, int seq, time_point not_before, const std::string& error);
    void fail_step(const std::string& incident_id, int seq, const std::string& error);
    void set_not_before(const std::string& incident_id, int seq, time_point not_before);
    void set_step_status(const std::string& incident_id, int seq, step_status status, const std::string& event_kind,
                         const nlohmann::json& event_data);
    // Operator actions.
    bool approve_step(const std::string& incident_id, int seq, const std::string& who);
    bool reset_failed_step(const std::string& incident_id, int seq, const std::string& who);
    // Replaces every not-yet-started step after the resolve phase with a refined plan (tiers
    // learned from the directory), and updates the accounts' tiers, in one transaction.
    void replace_pending_plan(const std::string& incident_id, const incident::plan& refined);
    // Appends steps after the plan's last, in one transaction with an event (kind, data): seq and
    // stage are shifted past the current maximum (their relative order kept, depends_on following
    // its step). Returns the seq given to each, in order.
    std::vector<int> append_steps(const std::string& incident_id, std::vector<incident::planned_step> steps,
                                  std::string_view event_kind, const nlohmann::json& event_data);
    // Accounts or apps added to a running incident: the request (its JSON) gains them, the
    // accounts get their rows, and their resolve-phase steps are appended as a new batch
    // (params.batch), with an "incident_extended" event naming who and why; one transaction.
    // Returns the batch number.
    int extend_incident(const std::string& incident_id, const nlohmann::json& request,
                        const std::vector<incident::planned_account>& accounts,
                        std::vector<incident::planned_step> resolve_steps, const std::string& who,
                        const std::string& reason);
    // Replaces the stored request (an operator changed an option after submission), with an
    // event (kind, data), in one transaction.
    void set_request(const std::string& incident_id, const nlohmann::json& request, std::string_view event_kind,
                     const nlohmann::json& event_data);
    // A later batch's plan, merged into the stored plan: its accounts' tiers, the block's scope
    // (its accounts join include_users) and its warnings.
    void add_to_plan(const std::string& incident_id, const incident::plan& batch_plan);
    // An operator's release of an incident's block: appends the release_block step as the plan's
    // last stage, moves a contained incident back to running (so a crash resumes it) and records
    // "release_requested" with who and why, in one transaction. Any state after the block will
    // do (needs_attention, cancelled, tenant-wide): refused (nullopt) unless the block step
    // succeeded and no release step is pending, running or done. Returns the event id.
    std::optional<std::int64_t> append_release_step(const std::string& incident_id, const std::string& who,
                                                    const std::string& reason = {});
    // Other incidents of the tenant whose emergency block is on and not released (a cancelled
    // incident still holds its block until an operator releases it): their accounts stay in the
    // policy when this one releases.
    std::vector<std::string> incidents_holding_block(const std::string& tenant, const std::string& except_incident_id);

    // --- events ---
    std::int64_t append_event(const std::string& incident_id, std::string_view kind, std::optional<int> step_seq,
                              const nlohmann::json& data);
    std::vector<event_record> events(const std::string& incident_id, std::int64_t after_id = 0,
                                     std::size_t limit = 1000);
    // Recomputes the hash chain. Returns the id of the first bad event, or nullopt when intact.
    std::optional<std::int64_t> verify_event_chain(const std::string& incident_id);

    // --- evidence ---
    void add_evidence(const std::string& incident_id, int step_seq, std::string_view kind, std::string_view target,
                      const nlohmann::json& content);
    std::vector<nlohmann::json> evidence(const std::string& incident_id);
    // The content of the first evidence of this kind, without reading the rest.
    std::optional<nlohmann::json> first_evidence(const std::string& incident_id, std::string_view kind);

    // --- secrets (plaintext only in memory) ---
    // Stores the secret unless one with this name exists; returns the stored plaintext either way
    // (so a re-run after a crash re-sends the same password: intent before effect).
    std::string put_secret_once(const std::string& incident_id, const std::string& name, std::string_view plaintext);
    // Replaces (a re-issued TAP supersedes the old one).
    void put_secret(const std::string& incident_id, const std::string& name, std::string_view plaintext);
    std::optional<std::string> peek_secret(const std::string& incident_id, const std::string& name);
    reveal_result reveal_secret(const std::string& incident_id, const std::string& name, const std::string& who);
    std::vector<std::string> secret_names(const std::string& incident_id);

    // --- maintenance ---
    std::string integrity_check();  // "ok" when PRAGMA integrity_check and foreign_key_check are clean
    connection& db();
    // Runs work (store calls) as one transaction: all of its changes commit together or none.
    void atomically(const std::function<void()>& work);
    // Storage health: failing since a read or write failed for a storage reason (I/O error, disk
    // full), until a write commits again. probe_write() makes one small durable write to find out.
    bool storage_failing() const;
    bool probe_write();

private:
    statement& cached(const char* sql);
    void insert_steps(const std::string& incident_id, const std::vector<incident::planned_step>& steps);
    // append_steps without its transaction and event (the caller holds one).
    std::vector<int> transaction_free_append(const std::string& incident_id,
                                             std::vector<incident::planned_step>& steps);
    std::int64_t append_event_locked(const std::string& incident_id, std::string_view kind, std::optional<int> step_seq,
                                     const nlohmann::json& data);

    const clock_source& clock_;
    vault vault_;
    std::unique_ptr<connection> db_;
    std::map<const char*, std::unique_ptr<statement>> statements_;
};

}  // namespace containd::store
