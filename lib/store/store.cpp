#include "store/store.hpp"

#include <algorithm>
#include <map>

#include "core/crypto.hpp"
#include "core/time.hpp"
#include "store/migrations.hpp"
#include "store/sqlite.hpp"

namespace containd::store {
namespace {

using incident::phase;
using incident::step_kind;
using incident::tier;

std::optional<time_point> time_or_null(const std::optional<std::int64_t>& v) {
    if (!v) return std::nullopt;
    return from_unix_ms(*v);
}

// Account times arrive as RFC 3339 strings or Unix ms.
std::optional<std::int64_t> time_field(const nlohmann::json& v) {
    if (v.is_number_integer()) return v.get<std::int64_t>();
    if (v.is_string())
        if (auto t = parse_rfc3339(v.get<std::string>())) return to_unix_ms(*t);
    return std::nullopt;
}

std::string event_hash(const std::string& prev_hash, const std::string& incident_id, std::int64_t at,
                       std::string_view kind, std::optional<int> step_seq, const std::string& data) {
    // Length-prefixed fields: no two different events serialise to the same bytes.
    // The numbers are owned here: a string_view of a temporary in the loop's list would dangle.
    const std::string at_text = std::to_string(at);
    const std::string seq_text = step_seq ? std::to_string(*step_seq) : std::string("-");
    std::string material;
    for (const std::string_view part :
         {std::string_view(prev_hash), std::string_view(incident_id), std::string_view(at_text), kind,
          std::string_view(seq_text), std::string_view(data)}) {
        material += std::to_string(part.size());
        material += ':';
        material += part;
    }
    return sha256_hex(material);
}

const char* const select_incident_columns =
    "SELECT id, tenant, external_ref, idempotency_key, request_sha256, request_json, plan_json, status, phase, "
    "created_at, updated_at, contained_at, attention_json, version FROM incidents ";

incident_record read_incident(const statement& s) {
    incident_record r;
    r.id = s.text(0);
    r.tenant = s.text(1);
    r.external_ref = s.optional_text(2);
    r.idempotency_key = s.optional_text(3);
    r.request_sha256 = s.text(4);
    r.request = nlohmann::json::parse(s.text(5));
    r.plan = nlohmann::json::parse(s.text(6));
    r.status = incident_status_from_string(s.text(7)).value_or(incident_status::needs_attention);
    r.current_phase = incident::phase_from_string(s.text(8)).value_or(phase::resolve);
    r.created_at = from_unix_ms(s.int64(9));
    r.updated_at = from_unix_ms(s.int64(10));
    r.contained_at = time_or_null(s.optional_int64(11));
    r.attention = nlohmann::json::parse(s.text(12)).get<std::vector<std::string>>();
    r.version = s.int64(13);
    return r;
}

const char* const select_step_columns =
    "SELECT incident_id, seq, phase, stage, kind, target, depends_on, requires_approval, approved_by, params_json, "
    "status, attempt, not_before, deadline, intent_json, result_json, error, started_at, finished_at FROM steps ";

nlohmann::json json_or_null(const std::optional<std::string>& text) {
    return text ? nlohmann::json::parse(*text) : nlohmann::json();
}

step_record read_step(const statement& s) {
    step_record r;
    r.incident_id = s.text(0);
    r.seq = static_cast<int>(s.int64(1));
    r.step_phase = incident::phase_from_string(s.text(2)).value_or(phase::resolve);
    r.stage = static_cast<int>(s.int64(3));
    r.kind = incident::step_kind_from_string(s.text(4)).value_or(step_kind::resolve_account);
    r.target = s.text(5);
    if (auto d = s.optional_int64(6)) r.depends_on = static_cast<int>(*d);
    r.requires_approval = s.int64(7) != 0;
    r.approved_by = s.optional_text(8);
    r.params = nlohmann::json::parse(s.text(9));
    r.status = step_status_from_string(s.text(10)).value_or(step_status::failed);
    r.attempt = static_cast<int>(s.int64(11));
    r.not_before = time_or_null(s.optional_int64(12));
    r.deadline = time_or_null(s.optional_int64(13));
    r.intent = json_or_null(s.optional_text(14));
    r.result = json_or_null(s.optional_text(15));
    r.error = s.text(16);
    r.started_at = time_or_null(s.optional_int64(17));
    r.finished_at = time_or_null(s.optional_int64(18));
    return r;
}

std::string secret_aad(const std::string& incident_id, const std::string& name) { return incident_id + '\n' + name; }

}  // namespace

store::store(const std::string& path, const clock_source& clock, vault secrets)
        : clock_(clock), vault_(std::move(secrets)), db_(std::make_unique<connection>(path)) {
    migrate(*db_);
}

store::~store() {
    statements_.clear();  // finalize before the connection closes
}

connection& store::db() { return *db_; }

void store::atomically(const std::function<void()>& work) {
    transaction tx(*db_);
    work();
    tx.commit();
}

bool store::storage_failing() const { return db_->storage_failing(); }

bool store::probe_write() { return db_->probe_write(); }

statement& store::cached(const char* sql) {
    auto it = statements_.find(sql);
    if (it == statements_.end()) it = statements_.emplace(sql, std::make_unique<statement>(db_->prepare(sql))).first;
    it->second->reset();
    return *it->second;
}

// ---------------------------------------------------------------- incidents

create_result store::create_incident(const new_incident& in) {
    const std::string request_text = in.request.dump();
    const std::string request_sha = sha256_hex(request_text);
    const std::int64_t now = to_unix_ms(clock_.now());

    transaction tx(*db_);
    // Replays: the Idempotency-Key wins over external_ref.
    if (in.idempotency_key) {
        auto& q = cached("SELECT id, request_sha256 FROM incidents WHERE tenant = ?1 AND idempotency_key = ?2");
        q.bind(1, in.tenant).bind(2, *in.idempotency_key);
        if (q.step()) {
            existing found{q.text(0), q.text(1) == request_sha, true};
            q.reset();
            return found;
        }
    }
    if (in.external_ref) {
        auto& q = cached("SELECT id, request_sha256 FROM incidents WHERE tenant = ?1 AND external_ref = ?2");
        q.bind(1, in.tenant).bind(2, *in.external_ref);
        if (q.step()) {
            existing found{q.text(0), q.text(1) == request_sha, false};
            q.reset();
            return found;
        }
    }

    nlohmann::json plan_summary = incident::to_json(in.plan);
    plan_summary.erase("steps");  // steps live in their own table
    auto& ins = cached(
        "INSERT INTO incidents (id, tenant, external_ref, idempotency_key, request_sha256, request_json, plan_json, "
        "status, phase, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'running', 'resolve', ?8, ?8)");
    ins.bind(1, in.id).bind(2, in.tenant).bind(3, in.external_ref).bind(4, in.idempotency_key).bind(5, request_sha);
    ins.bind(6, request_text).bind(7, plan_summary.dump()).bind(8, now);
    if (!ins.run()) throw storage_error(19, "incident id collision");

    auto& acc =
        cached("INSERT INTO accounts (incident_id, upn, tier, tier_reason, synced) VALUES (?1, ?2, ?3, ?4, ?5)");
    for (const auto& a : in.plan.accounts) {
        acc.reset();
        acc.bind(1, in.id).bind(2, a.upn).bind(3, incident::to_string(a.assigned_tier)).bind(4, a.tier_reason);
        acc.bind(5, a.synced ? 1 : 0);
        acc.run();
    }
    insert_steps(in.id, in.plan.steps);
    append_event_locked(in.id, "accepted", std::nullopt,
                        {{"tenant", in.tenant},
                         {"request_sha256", request_sha},
                         {"steps", in.plan.steps.size()},
                         {"accounts", in.plan.accounts.size()}});
    tx.commit();
    return created{in.id};
}

void store::insert_steps(const std::string& incident_id, const std::vector<incident::planned_step>& steps) {
    auto& st = cached(
        "INSERT INTO steps (incident_id, seq, phase, stage, kind, target, depends_on, requires_approval, params_json, "
        "status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    for (const auto& s : steps) {
        st.reset();
        st.bind(1, incident_id).bind(2, s.seq).bind(3, incident::to_string(s.step_phase)).bind(4, s.stage);
        st.bind(5, incident::to_string(s.kind)).bind(6, s.target);
        if (s.depends_on)
            st.bind(7, *s.depends_on);
        else
            st.bind_null(7);
        st.bind(8, s.requires_approval ? 1 : 0).bind(9, s.params.dump());
        st.bind(10, s.requires_approval ? std::string_view("waiting_approval") : std::string_view("pending"));
        st.run();
    }
}

std::optional<incident_record> store::get_incident(const std::string& id) {
    static const std::string sql = std::string(select_incident_columns) + "WHERE id = ?1";
    auto& q = cached(sql.c_str());
    q.bind(1, id);
    if (!q.step()) return std::nullopt;
    auto r = read_incident(q);
    q.reset();
    return r;
}

std::vector<incident_record> store::list_incidents(const list_filter& f) {
    static const std::string sql =
        std::string(select_incident_columns) +
        "WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR tenant = ?2) AND "
        "(?3 IS NULL OR (created_at, id) < (SELECT created_at, id FROM incidents WHERE id = ?3)) "
        "ORDER BY created_at DESC, id DESC LIMIT ?4";
    auto& q = cached(sql.c_str());
    if (f.status) q.bind(1, to_string(*f.status));
    q.bind(2, f.tenant).bind(3, f.before_id).bind(4, static_cast<std::int64_t>(f.limit));
    std::vector<incident_record> out;
    while (q.step()) out.push_back(read_incident(q));
    return out;
}

std::vector<std::string> store::unfinished_incident_ids() {
    auto& q = cached("SELECT id FROM incidents WHERE status NOT IN ('contained', 'cancelled') ORDER BY created_at, id");
    std::vector<std::string> out;
    while (q.step()) out.push_back(q.text(0));
    return out;
}

std::map<std::string, std::int64_t> store::count_by_status() {
    auto& q = cached("SELECT status, count(*) FROM incidents GROUP BY status");
    std::map<std::string, std::int64_t> out;
    while (q.step()) out[q.text(0)] = q.int64(1);
    return out;
}

// An incident whose release is still to run (a cancelled one, released after the cancel).
#define RELEASING                                                                                         \
    "EXISTS (SELECT 1 FROM steps r WHERE r.incident_id = i.id AND r.kind = 'release_block' AND r.status " \
    "IN ('pending', 'running'))"

schedule store::load_schedule(const std::optional<std::string>& incident_id) {
    schedule out;
    for_each_scheduled(
        incident_id, [&](schedule_incident&& i) { out.incidents.push_back(std::move(i)); },
        [&](schedule_step&& s) { out.steps.push_back(std::move(s)); });
    return out;
}

void store::for_each_scheduled(const std::optional<std::string>& incident_id,
                               const std::function<void(schedule_incident&&)>& on_incident,
                               const std::function<void(schedule_step&&)>& on_step) {
    auto& qi = cached(
        "SELECT id, tenant, status, phase, contained_at, coalesce(json_extract(plan_json, '$.refined'), 0), "
        "attention_json FROM incidents i WHERE (status NOT IN ('contained', 'cancelled') OR " RELEASING
        ") "
        "AND (?1 IS NULL OR id = ?1) ORDER BY created_at, id");
    qi.bind(1, incident_id);
    while (qi.step()) {
        schedule_incident i;
        i.id = qi.text(0);
        i.tenant = qi.text(1);
        i.status = incident_status_from_string(qi.text(2)).value_or(incident_status::running);
        i.current_phase = incident::phase_from_string(qi.text(3)).value_or(phase::resolve);
        i.contained_at = time_or_null(qi.optional_int64(4));
        i.plan_refined = qi.int64(5) != 0;
        i.attention = nlohmann::json::parse(qi.text(6)).get<std::vector<std::string>>();
        on_incident(std::move(i));
    }
    auto& qs = cached(
        "SELECT s.incident_id, s.seq, s.stage, s.phase, s.kind, s.depends_on, s.requires_approval, s.status, "
        "s.not_before, json_extract(s.params_json, '$.offset_ms'), s.target, "
        "coalesce(json_extract(s.params_json, '$.batch'), 0), coalesce(s.error, ''), "
        "CASE WHEN s.kind = 'verify_signins' AND s.status = 'succeeded' THEN json_extract(s.result_json, '$.verdict') "
        "END, "
        // A succeeded step's attention items: only the kinds whose results carry them are
        // parsed (parsing every result cost 1 s in the resume of 10,000 incidents).
        "CASE WHEN s.status = 'succeeded' AND s.kind IN ('verify_signins', 'cleanup_methods') THEN "
        "coalesce(json_extract(s.result_json, '$.attention'), "
        "CASE WHEN s.kind = 'verify_signins' THEN json_extract(s.result_json, '$.diagnosis') END) END "
        "FROM steps s JOIN incidents i ON i.id = s.incident_id "
        "WHERE (i.status NOT IN ('contained', 'cancelled') OR " RELEASING
        ") AND (?1 IS NULL OR i.id = ?1) "
        "ORDER BY i.created_at, i.id, s.seq");
    qs.bind(1, incident_id);
    while (qs.step()) {
        schedule_step s;
        s.incident_id = qs.text(0);
        s.seq = static_cast<int>(qs.int64(1));
        s.stage = static_cast<int>(qs.int64(2));
        s.step_phase = incident::phase_from_string(qs.text(3)).value_or(phase::resolve);
        s.kind = incident::step_kind_from_string(qs.text(4)).value_or(step_kind::resolve_account);
        if (auto d = qs.optional_int64(5)) s.depends_on = static_cast<int>(*d);
        s.requires_approval = qs.int64(6) != 0;
        s.status = step_status_from_string(qs.text(7)).value_or(step_status::failed);
        s.not_before = time_or_null(qs.optional_int64(8));
        s.offset_ms = qs.optional_int64(9);
        s.target = qs.text(10);
        s.batch = static_cast<int>(qs.int64(11));
        s.error = qs.text(12);
        if (auto v = qs.optional_text(13)) s.verdict = *v;
        if (auto d = qs.optional_text(14)) {
            const auto parsed = nlohmann::json::parse(*d, nullptr, false);
            if (parsed.is_array())
                for (const auto& item : parsed)
                    if (item.is_string()) s.diagnosis.push_back(item.get<std::string>());
        }
        on_step(std::move(s));
    }
}

void store::set_incident_state(const std::string& id, incident_status status, phase p,
                               const std::vector<std::string>& attention) {
    transaction tx(*db_);
    auto& cur = cached("SELECT status, phase, attention_json FROM incidents WHERE id = ?1");
    cur.bind(1, id);
    if (!cur.step()) return;
    const std::string old_status = cur.text(0), old_phase = cur.text(1), old_attention = cur.text(2);
    cur.reset();
    const std::string new_attention = nlohmann::json(attention).dump();
    if (old_status == to_string(status) && old_phase == incident::to_string(p) && old_attention == new_attention)
        return;
    auto& up = cached(
        "UPDATE incidents SET status = ?2, phase = ?3, attention_json = ?4, updated_at = ?5, version = version + 1 "
        "WHERE id = ?1");
    up.bind(1, id).bind(2, to_string(status)).bind(3, incident::to_string(p)).bind(4, new_attention);
    up.bind(5, to_unix_ms(clock_.now()));
    up.run();
    if (old_status != to_string(status))
        append_event_locked(id, "status_changed", std::nullopt,
                            {{"from", old_status}, {"to", to_string(status)}, {"attention", attention}});
    if (old_phase != incident::to_string(p))
        append_event_locked(id, "phase_changed", std::nullopt, {{"from", old_phase}, {"to", incident::to_string(p)}});
    tx.commit();
}

void store::set_contained_at(const std::string& id, time_point at) {
    transaction tx(*db_);
    auto& up = cached("UPDATE incidents SET contained_at = ?2, updated_at = ?3 WHERE id = ?1 AND contained_at IS NULL");
    up.bind(1, id).bind(2, to_unix_ms(at)).bind(3, to_unix_ms(clock_.now()));
    up.run();
    if (db_->changes() == 1)
        append_event_locked(id, "contained_at_recorded", std::nullopt, {{"contained_at", format_rfc3339(at)}});
    tx.commit();
}

// ---------------------------------------------------------------- accounts

std::vector<account_record> store::accounts(const std::string& incident_id) {
    auto& q = cached(
        "SELECT upn, object_id, tier, tier_reason, synced, revoked_at, password_reset_at, tap_issued_at, "
        "methods_removed_json FROM accounts WHERE incident_id = ?1 ORDER BY rowid");
    q.bind(1, incident_id);
    std::vector<account_record> out;
    while (q.step()) {
        account_record a;
        a.upn = q.text(0);
        a.object_id = q.optional_text(1);
        a.assigned_tier = incident::tier_from_string(q.text(2)).value_or(tier::standard);
        a.tier_reason = q.text(3);
        a.synced = q.int64(4) != 0;
        a.revoked_at = time_or_null(q.optional_int64(5));
        a.password_reset_at = time_or_null(q.optional_int64(6));
        a.tap_issued_at = time_or_null(q.optional_int64(7));
        a.methods_removed = nlohmann::json::parse(q.text(8)).get<std::vector<std::string>>();
        out.push_back(std::move(a));
    }
    return out;
}

void store::update_account(const std::string& incident_id, const std::string& upn, const nlohmann::json& f) {
    transaction tx(*db_);
    auto& q = cached(
        "UPDATE accounts SET object_id = coalesce(?3, object_id), tier = coalesce(?4, tier), "
        "tier_reason = coalesce(?5, tier_reason), synced = coalesce(?6, synced), "
        "revoked_at = coalesce(?7, revoked_at), password_reset_at = coalesce(?8, password_reset_at), "
        "tap_issued_at = coalesce(?9, tap_issued_at), "
        "methods_removed_json = CASE WHEN ?10 IS NULL THEN methods_removed_json ELSE "
        "(SELECT json_group_array(value) FROM (SELECT value FROM json_each(methods_removed_json) UNION "
        "SELECT value FROM json_each(?10))) END "
        "WHERE incident_id = ?1 AND upn = ?2");
    auto text = [&](const char* key) -> std::optional<std::string> {
        if (f.contains(key) && f[key].is_string()) return f[key].get<std::string>();
        return std::nullopt;
    };
    auto when = [&](const char* key) -> std::optional<std::int64_t> {
        return f.contains(key) ? time_field(f[key]) : std::nullopt;
    };
    q.bind(1, incident_id).bind(2, upn).bind(3, text("object_id")).bind(4, text("tier")).bind(5, text("tier_reason"));
    if (f.contains("synced")) q.bind(6, f["synced"].get<bool>() ? 1 : 0);
    q.bind(7, when("revoked_at")).bind(8, when("password_reset_at")).bind(9, when("tap_issued_at"));
    if (f.contains("methods_removed")) q.bind(10, f["methods_removed"].dump());
    q.run();
    tx.commit();
}

// ---------------------------------------------------------------- steps

std::vector<step_record> store::steps(const std::string& incident_id) {
    static const std::string sql = std::string(select_step_columns) + "WHERE incident_id = ?1 ORDER BY seq";
    auto& q = cached(sql.c_str());
    q.bind(1, incident_id);
    std::vector<step_record> out;
    while (q.step()) out.push_back(read_step(q));
    return out;
}

std::optional<step_record> store::step(const std::string& incident_id, int seq) {
    static const std::string sql = std::string(select_step_columns) + "WHERE incident_id = ?1 AND seq = ?2";
    auto& q = cached(sql.c_str());
    q.bind(1, incident_id).bind(2, seq);
    if (!q.step()) return std::nullopt;
    auto r = read_step(q);
    q.reset();
    return r;
}

int store::begin_attempt(const std::string& incident_id, int seq, time_point deadline) {
    const std::int64_t now = to_unix_ms(clock_.now());
    transaction tx(*db_);
    auto& up = cached(
        "UPDATE steps SET status = 'running', attempt = attempt + 1, started_at = coalesce(started_at, ?3), "
        "deadline = coalesce(deadline, ?4), not_before = NULL WHERE incident_id = ?1 AND seq = ?2 "
        "RETURNING attempt, deadline");
    up.bind(1, incident_id).bind(2, seq).bind(3, now).bind(4, to_unix_ms(deadline));
    if (!up.step()) throw storage_error(0, "begin_attempt: no such step");
    const int attempt = static_cast<int>(up.int64(0));
    const std::int64_t effective_deadline = up.int64(1);
    up.reset();
    append_event_locked(incident_id, "step_started", seq,
                        {{"attempt", attempt}, {"deadline", format_rfc3339(from_unix_ms(effective_deadline))}});
    tx.commit();
    return attempt;
}

void store::record_intent(const std::string& incident_id, int seq, const nlohmann::json& intent) {
    transaction tx(*db_);
    auto& up = cached("UPDATE steps SET intent_json = ?3 WHERE incident_id = ?1 AND seq = ?2");
    up.bind(1, incident_id).bind(2, seq).bind(3, intent.dump());
    up.run();
    tx.commit();
}

void store::complete_step(const std::string& incident_id, int seq, const nlohmann::json& result) {
    transaction tx(*db_);
    auto& up = cached(
        "UPDATE steps SET status = 'succeeded', result_json = ?3, error = NULL, finished_at = ?4 "
        "WHERE incident_id = ?1 AND seq = ?2");
    up.bind(1, incident_id).bind(2, seq).bind(3, result.dump()).bind(4, to_unix_ms(clock_.now()));
    up.run();
    append_event_locked(incident_id, "step_succeeded", seq, result);
    tx.commit();
}

void store::schedule_retry(const std::string& incident_id, int seq, time_point not_before, const std::string& error) {
    transaction tx(*db_);
    auto& up =
        cached("UPDATE steps SET status = 'pending', not_before = ?3, error = ?4 WHERE incident_id = ?1 AND seq = ?2");
    up.bind(1, incident_id).bind(2, seq).bind(3, to_unix_ms(not_before)).bind(4, error);
    up.run();
    append_event_locked(incident_id, "step_retry_scheduled", seq,
                        {{"not_before", format_rfc3339(not_before)}, {"error", error}});
    tx.commit();
}

void store::fail_step(const std::string& incident_id, int seq, const std::string& error) {
    transaction tx(*db_);
    auto& up =
        cached("UPDATE steps SET status = 'failed', error = ?3, finished_at = ?4 WHERE incident_id = ?1 AND seq = ?2");
    up.bind(1, incident_id).bind(2, seq).bind(3, error).bind(4, to_unix_ms(clock_.now()));
    up.run();
    append_event_locked(incident_id, "step_failed", seq, {{"error", error}});
    tx.commit();
}

void store::set_not_before(const std::string& incident_id, int seq, time_point not_before) {
    auto& up = cached("UPDATE steps SET not_before = ?3 WHERE incident_id = ?1 AND seq = ?2");
    up.bind(1, incident_id).bind(2, seq).bind(3, to_unix_ms(not_before));
    up.run();
}

void store::set_step_status(const std::string& incident_id, int seq, step_status status, const std::string& event_kind,
                            const nlohmann::json& event_data) {
    transaction tx(*db_);
    auto& up = cached("UPDATE steps SET status = ?3 WHERE incident_id = ?1 AND seq = ?2");
    up.bind(1, incident_id).bind(2, seq).bind(3, to_string(status));
    up.run();
    append_event_locked(incident_id, event_kind, seq, event_data);
    tx.commit();
}

bool store::approve_step(const std::string& incident_id, int seq, const std::string& who) {
    transaction tx(*db_);
    auto& up = cached(
        "UPDATE steps SET status = 'pending', approved_by = ?3 WHERE incident_id = ?1 AND seq = ?2 "
        "AND status = 'waiting_approval'");
    up.bind(1, incident_id).bind(2, seq).bind(3, who);
    up.run();
    if (db_->changes() != 1) return false;
    append_event_locked(incident_id, "step_approved", seq, {{"by", who}});
    tx.commit();
    return true;
}

bool store::reset_failed_step(const std::string& incident_id, int seq, const std::string& who) {
    transaction tx(*db_);
    // A fresh deadline and attempt budget; the error stays visible until the step succeeds.
    auto& up = cached(
        "UPDATE steps SET status = 'pending', attempt = 0, deadline = NULL, not_before = NULL, finished_at = NULL "
        "WHERE incident_id = ?1 AND seq = ?2 AND status = 'failed'");
    up.bind(1, incident_id).bind(2, seq);
    up.run();
    if (db_->changes() != 1) return false;
    append_event_locked(incident_id, "step_retry_requested", seq, {{"by", who}});
    tx.commit();
    return true;
}

void store::replace_pending_plan(const std::string& incident_id, const incident::plan& refined) {
    transaction tx(*db_);
    auto& del = cached(
        "DELETE FROM steps WHERE incident_id = ?1 AND phase <> 'resolve' AND status IN ('pending', "
        "'waiting_approval') AND attempt = 0 AND coalesce(json_extract(params_json, '$.batch'), 0) = 0");
    del.bind(1, incident_id);
    del.run();
    std::vector<incident::planned_step> later;
    for (const auto& s : refined.steps)
        if (s.step_phase != phase::resolve) later.push_back(s);
    insert_steps(incident_id, later);
    auto& acc =
        cached("UPDATE accounts SET tier = ?3, tier_reason = ?4, synced = ?5 WHERE incident_id = ?1 AND upn = ?2");
    nlohmann::json changes = nlohmann::json::array();
    for (const auto& a : refined.accounts) {
        acc.reset();
        acc.bind(1, incident_id).bind(2, a.upn).bind(3, incident::to_string(a.assigned_tier)).bind(4, a.tier_reason);
        acc.bind(5, a.synced ? 1 : 0);
        acc.run();
        changes.push_back({{"upn", a.upn}, {"tier", incident::to_string(a.assigned_tier)}, {"reason", a.tier_reason}});
    }
    nlohmann::json summary = incident::to_json(refined);
    summary.erase("steps");
    summary["refined"] = true;
    auto& up = cached("UPDATE incidents SET plan_json = ?2, version = version + 1 WHERE id = ?1");
    up.bind(1, incident_id).bind(2, summary.dump());
    up.run();
    append_event_locked(incident_id, "plan_refined", std::nullopt,
                        {{"accounts", changes}, {"steps", refined.steps.size()}, {"warnings", refined.warnings}});
    tx.commit();
}

std::vector<int> store::append_steps(const std::string& incident_id, std::vector<incident::planned_step> steps,
                                     std::string_view event_kind, const nlohmann::json& event_data) {
    transaction tx(*db_);
    const std::vector<int> seqs = transaction_free_append(incident_id, steps);
    nlohmann::json data = event_data;
    if (!data.is_object()) data = nlohmann::json::object();
    data["seqs"] = seqs;
    append_event_locked(incident_id, event_kind, std::nullopt, data);
    tx.commit();
    return seqs;
}

std::vector<int> store::transaction_free_append(const std::string& incident_id,
                                                std::vector<incident::planned_step>& steps) {
    auto& cur = cached("SELECT COALESCE(MAX(seq), 0), COALESCE(MAX(stage), 0) FROM steps WHERE incident_id = ?1");
    cur.bind(1, incident_id);
    if (!cur.step()) throw storage_error(0, "append_steps: no result");
    const int max_seq = static_cast<int>(cur.int64(0));
    const int max_stage = static_cast<int>(cur.int64(1));
    cur.reset();
    std::map<int, int> renumbered;
    int min_stage = steps.empty() ? 0 : steps.front().stage;
    for (const auto& s : steps) min_stage = std::min(min_stage, s.stage);
    std::vector<int> seqs;
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const int seq = max_seq + 1 + static_cast<int>(i);
        renumbered[steps[i].seq] = seq;
        steps[i].seq = seq;
        steps[i].stage = max_stage + 1 + (steps[i].stage - min_stage);
        seqs.push_back(seq);
    }
    for (auto& s : steps)
        if (s.depends_on) {
            auto it = renumbered.find(*s.depends_on);
            if (it != renumbered.end()) s.depends_on = it->second;
        }
    insert_steps(incident_id, steps);
    return seqs;
}

int store::extend_incident(const std::string& incident_id, const nlohmann::json& request,
                           const std::vector<incident::planned_account>& accounts,
                           std::vector<incident::planned_step> resolve_steps, const std::string& who,
                           const std::string& reason) {
    transaction tx(*db_);
    auto& cur = cached(
        "SELECT COALESCE(MAX(coalesce(json_extract(params_json, '$.batch'), 0)), 0) FROM steps WHERE incident_id = ?1");
    cur.bind(1, incident_id);
    if (!cur.step()) throw storage_error(0, "extend_incident: no result");
    const int batch = static_cast<int>(cur.int64(0)) + 1;
    cur.reset();
    auto& up = cached("UPDATE incidents SET request_json = ?2, updated_at = ?3, version = version + 1 WHERE id = ?1");
    up.bind(1, incident_id).bind(2, request.dump()).bind(3, to_unix_ms(clock_.now()));
    up.run();
    auto& acc = cached(
        "INSERT OR IGNORE INTO accounts (incident_id, upn, tier, tier_reason, synced) VALUES (?1, ?2, ?3, ?4, ?5)");
    nlohmann::json upns = nlohmann::json::array();
    for (const auto& a : accounts) {
        acc.reset();
        acc.bind(1, incident_id).bind(2, a.upn).bind(3, incident::to_string(a.assigned_tier)).bind(4, a.tier_reason);
        acc.bind(5, a.synced ? 1 : 0);
        acc.run();
        upns.push_back(a.upn);
    }
    nlohmann::json apps = nlohmann::json::array();
    for (auto& s : resolve_steps) {
        s.params["batch"] = batch;
        if (s.kind == step_kind::capture_app_evidence) apps.push_back(s.target);
    }
    transaction_free_append(incident_id, resolve_steps);
    append_event_locked(incident_id, "incident_extended", std::nullopt,
                        {{"by", who}, {"reason", reason}, {"batch", batch}, {"accounts", upns}, {"apps", apps}});
    tx.commit();
    return batch;
}

void store::set_request(const std::string& incident_id, const nlohmann::json& request, std::string_view event_kind,
                        const nlohmann::json& event_data) {
    transaction tx(*db_);
    auto& up = cached("UPDATE incidents SET request_json = ?2, updated_at = ?3, version = version + 1 WHERE id = ?1");
    up.bind(1, incident_id).bind(2, request.dump()).bind(3, to_unix_ms(clock_.now()));
    up.run();
    append_event_locked(incident_id, event_kind, std::nullopt, event_data);
    tx.commit();
}

void store::add_to_plan(const std::string& incident_id, const incident::plan& batch_plan) {
    transaction tx(*db_);
    auto rec = get_incident(incident_id);
    if (!rec) return;
    nlohmann::json plan = rec->plan;
    auto& scope = plan["scope"];
    auto& include = scope["include_users"];
    if (!include.is_array()) include = nlohmann::json::array();
    for (const auto& upn : batch_plan.scope.include_users)
        if (std::find(include.begin(), include.end(), upn) == include.end()) include.push_back(upn);
    auto& planned_accounts = plan["accounts"];
    if (!planned_accounts.is_array()) planned_accounts = nlohmann::json::array();
    auto& warnings = plan["warnings"];
    if (!warnings.is_array()) warnings = nlohmann::json::array();
    for (const auto& w : batch_plan.warnings) warnings.push_back(w);
    auto& acc =
        cached("UPDATE accounts SET tier = ?3, tier_reason = ?4, synced = ?5 WHERE incident_id = ?1 AND upn = ?2");
    for (const auto& a : batch_plan.accounts) {
        acc.reset();
        acc.bind(1, incident_id).bind(2, a.upn).bind(3, incident::to_string(a.assigned_tier)).bind(4, a.tier_reason);
        acc.bind(5, a.synced ? 1 : 0);
        acc.run();
        planned_accounts.push_back({{"upn", a.upn},
                                    {"tier", incident::to_string(a.assigned_tier)},
                                    {"tier_reason", a.tier_reason},
                                    {"method_cleanup", incident::to_string(a.cleanup)},
                                    {"synced", a.synced}});
    }
    auto& up = cached("UPDATE incidents SET plan_json = ?2, version = version + 1 WHERE id = ?1");
    up.bind(1, incident_id).bind(2, plan.dump());
    up.run();
    tx.commit();
}

std::optional<std::int64_t> store::append_release_step(const std::string& incident_id, const std::string& who,
                                                       const std::string& reason) {
    transaction tx(*db_);
    auto& cur = cached(
        "SELECT i.status, i.phase, (SELECT COUNT(*) FROM steps WHERE incident_id = i.id AND kind = 'release_block' "
        "AND status IN ('pending', 'running', 'succeeded')), "
        "(SELECT COALESCE(MAX(seq), 0) FROM steps WHERE incident_id = i.id), "
        "(SELECT COALESCE(MAX(stage), 0) FROM steps WHERE incident_id = i.id), "
        "(SELECT COUNT(*) FROM steps WHERE incident_id = i.id AND kind = 'enable_emergency_policy' "
        "AND status = 'succeeded') FROM incidents i WHERE i.id = ?1");
    cur.bind(1, incident_id);
    if (!cur.step()) return std::nullopt;
    const std::string old_status = cur.text(0);
    const bool contained = old_status == to_string(incident_status::contained);
    const std::string old_phase = cur.text(1);
    const bool already = cur.int64(2) > 0;
    incident::planned_step release;
    release.seq = static_cast<int>(cur.int64(3)) + 1;
    release.stage = static_cast<int>(cur.int64(4)) + 1;
    const bool blocked = cur.int64(5) > 0;
    cur.reset();
    if (!blocked || already) return std::nullopt;
    release.step_phase = phase::release;
    release.kind = step_kind::release_block;
    release.target = "emergency policy";
    insert_steps(incident_id, {release});
    // A contained incident runs again (so a crash resumes the release); any other keeps its status
    // (a cancelled one stays cancelled while its release runs).
    const std::string new_status = contained ? std::string(to_string(incident_status::running)) : old_status;
    auto& up = cached(
        "UPDATE incidents SET status = ?3, phase = 'release', updated_at = ?2, version = version + 1 WHERE id = ?1");
    up.bind(1, incident_id).bind(2, to_unix_ms(clock_.now())).bind(3, new_status);
    up.run();
    nlohmann::json data = {{"by", who}, {"from_status", old_status}};
    if (!reason.empty()) data["reason"] = reason;
    const auto event_id = append_event_locked(incident_id, "release_requested", release.seq, data);
    if (new_status != old_status)
        append_event_locked(incident_id, "status_changed", std::nullopt,
                            {{"from", old_status}, {"to", new_status}, {"attention", nlohmann::json::array()}});
    if (old_phase != "release")
        append_event_locked(incident_id, "phase_changed", std::nullopt, {{"from", old_phase}, {"to", "release"}});
    tx.commit();
    return event_id;
}

std::vector<std::string> store::incidents_holding_block(const std::string& tenant,
                                                        const std::string& except_incident_id) {
    auto& q = cached(
        "SELECT i.id FROM incidents i WHERE i.tenant = ?1 AND i.id <> ?2 "
        "AND EXISTS (SELECT 1 FROM steps s WHERE s.incident_id = i.id AND s.kind = 'enable_emergency_policy' "
        "AND s.status = 'succeeded') "
        "AND NOT EXISTS (SELECT 1 FROM steps s WHERE s.incident_id = i.id AND s.kind = 'release_block' "
        "AND s.status = 'succeeded') ORDER BY i.created_at, i.id");
    q.bind(1, tenant).bind(2, except_incident_id);
    std::vector<std::string> out;
    while (q.step()) out.push_back(q.text(0));
    q.reset();
    return out;
}

// ---------------------------------------------------------------- events

std::int64_t store::append_event(const std::string& incident_id, std::string_view kind, std::optional<int> step_seq,
                                 const nlohmann::json& data) {
    transaction tx(*db_);
    const auto id = append_event_locked(incident_id, kind, step_seq, data);
    tx.commit();
    return id;
}

std::int64_t store::append_event_locked(const std::string& incident_id, std::string_view kind,
                                        std::optional<int> step_seq, const nlohmann::json& data) {
    auto& last = cached("SELECT hash FROM events WHERE incident_id = ?1 ORDER BY id DESC LIMIT 1");
    last.bind(1, incident_id);
    const std::string prev = last.step() ? last.text(0) : std::string();
    last.reset();
    const std::int64_t at = to_unix_ms(clock_.now());
    const std::string text = data.dump();
    const std::string hash = event_hash(prev, incident_id, at, kind, step_seq, text);
    auto& ins = cached(
        "INSERT INTO events (incident_id, at, kind, step_seq, data_json, prev_hash, hash) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id");
    ins.bind(1, incident_id).bind(2, at).bind(3, kind);
    if (step_seq)
        ins.bind(4, *step_seq);
    else
        ins.bind_null(4);
    ins.bind(5, text).bind(6, prev).bind(7, hash);
    ins.step();
    const std::int64_t id = ins.int64(0);
    ins.reset();
    return id;
}

std::vector<event_record> store::events(const std::string& incident_id, std::int64_t after_id, std::size_t limit) {
    auto& q = cached(
        "SELECT id, incident_id, at, kind, step_seq, data_json, prev_hash, hash FROM events "
        "WHERE incident_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3");
    q.bind(1, incident_id).bind(2, after_id).bind(3, static_cast<std::int64_t>(limit));
    std::vector<event_record> out;
    while (q.step()) {
        event_record e;
        e.id = q.int64(0);
        e.incident_id = q.text(1);
        e.at = from_unix_ms(q.int64(2));
        e.kind = q.text(3);
        if (auto s = q.optional_int64(4)) e.step_seq = static_cast<int>(*s);
        e.data = nlohmann::json::parse(q.text(5));
        e.prev_hash = q.text(6);
        e.hash = q.text(7);
        out.push_back(std::move(e));
    }
    return out;
}

std::optional<std::int64_t> store::verify_event_chain(const std::string& incident_id) {
    auto q = db_->prepare(
        "SELECT id, at, kind, step_seq, data_json, prev_hash, hash FROM events WHERE incident_id = ?1 ORDER BY id");
    q.bind(1, incident_id);
    std::string prev;
    while (q.step()) {
        std::optional<int> seq;
        if (auto s = q.optional_int64(3)) seq = static_cast<int>(*s);
        const std::string expected = event_hash(prev, incident_id, q.int64(1), q.text(2), seq, q.text(4));
        if (q.text(5) != prev || q.text(6) != expected) return q.int64(0);
        prev = q.text(6);
    }
    return std::nullopt;
}

// ---------------------------------------------------------------- evidence

void store::add_evidence(const std::string& incident_id, int step_seq, std::string_view kind, std::string_view target,
                         const nlohmann::json& content) {
    const std::string text = content.dump();
    const std::string digest = sha256_hex(text);
    transaction tx(*db_);
    auto& ins = cached(
        "INSERT INTO evidence (incident_id, step_seq, kind, target, captured_at, content_json, sha256) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    ins.bind(1, incident_id).bind(2, step_seq).bind(3, kind).bind(4, target).bind(5, to_unix_ms(clock_.now()));
    ins.bind(6, text).bind(7, digest);
    ins.run();
    append_event_locked(incident_id, "evidence_captured", step_seq,
                        {{"kind", kind}, {"target", target}, {"sha256", digest}});
    tx.commit();
}

std::vector<nlohmann::json> store::evidence(const std::string& incident_id) {
    auto& q = cached(
        "SELECT step_seq, kind, target, captured_at, content_json, sha256 FROM evidence WHERE incident_id = ?1 "
        "ORDER BY id");
    q.bind(1, incident_id);
    std::vector<nlohmann::json> out;
    while (q.step())
        out.push_back({{"step", q.int64(0)},
                       {"kind", q.text(1)},
                       {"target", q.text(2)},
                       {"captured_at", format_rfc3339(from_unix_ms(q.int64(3)))},
                       {"content", nlohmann::json::parse(q.text(4))},
                       {"sha256", q.text(5)}});
    return out;
}

std::optional<nlohmann::json> store::first_evidence(const std::string& incident_id, std::string_view kind) {
    auto& q = cached("SELECT content_json FROM evidence WHERE incident_id = ?1 AND kind = ?2 ORDER BY id LIMIT 1");
    q.bind(1, incident_id).bind(2, kind);
    if (!q.step()) return std::nullopt;
    auto content = nlohmann::json::parse(q.text(0));
    q.reset();
    return content;
}

// ---------------------------------------------------------------- secrets

std::string store::put_secret_once(const std::string& incident_id, const std::string& name,
                                   std::string_view plaintext) {
    if (auto existing_secret = peek_secret(incident_id, name)) return *existing_secret;
    put_secret(incident_id, name, plaintext);
    return std::string(plaintext);
}

void store::put_secret(const std::string& incident_id, const std::string& name, std::string_view plaintext) {
    const sealed_secret sealed = vault_.seal(plaintext, secret_aad(incident_id, name));
    transaction tx(*db_);
    auto& ins = cached(
        "INSERT INTO secrets (incident_id, name, nonce, ciphertext, tag, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
        "ON CONFLICT (incident_id, name) DO UPDATE SET nonce = excluded.nonce, ciphertext = excluded.ciphertext, "
        "tag = excluded.tag, created_at = excluded.created_at, revealed_at = NULL, revealed_by = NULL");
    ins.bind(1, incident_id).bind(2, name).bind_blob(3, sealed.nonce).bind_blob(4, sealed.ciphertext);
    ins.bind_blob(5, sealed.tag).bind(6, to_unix_ms(clock_.now()));
    ins.run();
    append_event_locked(incident_id, "secret_stored", std::nullopt, {{"name", name}});
    tx.commit();
}

std::optional<std::string> store::peek_secret(const std::string& incident_id, const std::string& name) {
    auto& q = cached(
        "SELECT nonce, ciphertext, tag FROM secrets WHERE incident_id = ?1 AND name = ?2 AND ciphertext IS NOT NULL");
    q.bind(1, incident_id).bind(2, name);
    if (!q.step()) return std::nullopt;
    const sealed_secret sealed{q.blob(0), q.blob(1), q.blob(2)};
    q.reset();
    return vault_.open(sealed, secret_aad(incident_id, name));
}

reveal_result store::reveal_secret(const std::string& incident_id, const std::string& name, const std::string& who) {
    transaction tx(*db_);
    auto& q = cached("SELECT nonce, ciphertext, tag, revealed_at FROM secrets WHERE incident_id = ?1 AND name = ?2");
    q.bind(1, incident_id).bind(2, name);
    if (!q.step()) {
        q.reset();
        return {reveal_status::not_found, {}};
    }
    if (!q.is_null(3) || q.is_null(1)) {
        q.reset();
        return {reveal_status::already_revealed, {}};
    }
    const sealed_secret sealed{q.blob(0), q.blob(1), q.blob(2)};
    q.reset();
    auto plaintext = vault_.open(sealed, secret_aad(incident_id, name));
    if (!plaintext) throw storage_error(0, "a stored secret failed authentication (wrong vault key or tampering)");
    // Wipe the ciphertext: the reveal is once.
    auto& up = cached(
        "UPDATE secrets SET nonce = NULL, ciphertext = NULL, tag = NULL, revealed_at = ?3, revealed_by = ?4 "
        "WHERE incident_id = ?1 AND name = ?2");
    up.bind(1, incident_id).bind(2, name).bind(3, to_unix_ms(clock_.now())).bind(4, who);
    up.run();
    append_event_locked(incident_id, "secret_revealed", std::nullopt, {{"name", name}, {"by", who}});
    tx.commit();
    return {reveal_status::revealed, std::move(*plaintext)};
}

std::vector<std::string> store::secret_names(const std::string& incident_id) {
    auto& q = cached("SELECT name FROM secrets WHERE incident_id = ?1 ORDER BY name");
    q.bind(1, incident_id);
    std::vector<std::string> out;
    while (q.step()) out.push_back(q.text(0));
    return out;
}

std::string store::integrity_check() {
    auto q = db_->prepare("PRAGMA integrity_check");
    std::string result = q.step() ? q.text(0) : "no answer";
    if (result != "ok") return result;
    auto fk = db_->prepare("PRAGMA foreign_key_check");
    if (fk.step()) return "foreign key violation in " + fk.text(0);
    return "ok";
}

}  // namespace containd::store
