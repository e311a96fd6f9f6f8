#include "notify/outbox.hpp"

#include "core/time.hpp"
#include "store/sqlite.hpp"

namespace containd::notify::outbox {
namespace {

using store::statement;
using store::transaction;

constexpr const char* delivery_columns =
    "id, subscriber, source, kind, incident_id, tenant, payload_json, status, attempts, next_attempt_at, last_code, "
    "last_error, created_at, delivered_at";

delivery read_delivery(statement& q) {
    delivery d;
    d.id = q.int64(0);
    d.subscriber = q.text(1);
    d.source = q.text(2);
    d.kind = q.text(3);
    d.incident_id = q.optional_text(4);
    d.tenant = q.optional_text(5).value_or("");
    d.payload = nlohmann::json::parse(q.text(6), nullptr, false);
    d.status = q.text(7);
    d.attempts = static_cast<int>(q.int64(8));
    d.next_attempt_at = from_unix_ms(q.int64(9));
    if (auto c = q.optional_int64(10)) d.last_code = static_cast<int>(*c);
    d.last_error = q.optional_text(11);
    d.created_at = from_unix_ms(q.int64(12));
    if (auto t = q.optional_int64(13)) d.delivered_at = from_unix_ms(*t);
    return d;
}

}  // namespace

std::int64_t cursor(store::store& db) {
    auto q = db.db().prepare("SELECT event_id FROM notify_cursor WHERE name = 'events'");
    return q.step() ? q.int64(0) : 0;
}

std::vector<pump_event> events_after(store::store& db, std::int64_t after, std::size_t limit) {
    auto q = db.db().prepare(
        "SELECT e.id, e.incident_id, e.at, e.kind, e.step_seq, e.data_json, i.tenant, i.external_ref, i.status, "
        "i.phase, s.kind, s.target, i.created_at FROM events e JOIN incidents i ON i.id = e.incident_id "
        "LEFT JOIN steps s ON s.incident_id = e.incident_id AND s.seq = e.step_seq "
        "WHERE e.id > ?1 ORDER BY e.id LIMIT ?2");
    q.bind(1, after).bind(2, static_cast<std::int64_t>(limit));
    std::vector<pump_event> out;
    while (q.step()) {
        pump_event p;
        p.event.id = q.int64(0);
        p.event.incident_id = q.text(1);
        p.event.at = from_unix_ms(q.int64(2));
        p.event.kind = q.text(3);
        if (auto s = q.optional_int64(4)) p.event.step_seq = static_cast<int>(*s);
        p.event.data = nlohmann::json::parse(q.text(5), nullptr, false);
        p.context.tenant = q.text(6);
        p.context.external_ref = q.optional_text(7);
        p.context.status = q.text(8);
        p.context.phase = q.text(9);
        p.context.step_kind = q.optional_text(10);
        p.context.step_target = q.optional_text(11);
        p.incident_created_at = from_unix_ms(q.int64(12));
        out.push_back(std::move(p));
    }
    return out;
}

std::vector<waiting_step> waiting_approvals(store::store& db, const std::string& incident_id) {
    auto q = db.db().prepare(
        "SELECT seq, kind, target FROM steps WHERE incident_id = ?1 AND status = 'waiting_approval' ORDER BY seq");
    q.bind(1, incident_id);
    std::vector<waiting_step> out;
    while (q.step()) out.push_back({static_cast<int>(q.int64(0)), q.text(1), q.text(2)});
    return out;
}

std::size_t commit_batch(store::store& db, const std::vector<std::pair<std::string, notification>>& rows,
                         std::optional<std::int64_t> new_cursor, time_point now) {
    transaction tx(db.db());
    std::size_t inserted = 0;
    auto ins = db.db().prepare(
        "INSERT OR IGNORE INTO notify_outbox (subscriber, source, kind, incident_id, tenant, payload_json, status, "
        "next_attempt_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7, ?7)");
    for (const auto& [subscriber, n] : rows) {
        ins.bind(1, subscriber).bind(2, n.source).bind(3, n.kind).bind(4, n.incident_id).bind(5, n.tenant);
        ins.bind(6, n.payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        ins.bind(7, to_unix_ms(now));
        ins.run();
        inserted += static_cast<std::size_t>(db.db().changes());
        ins.reset();
    }
    if (new_cursor) {
        auto up = db.db().prepare(
            "INSERT INTO notify_cursor (name, event_id) VALUES ('events', ?1) "
            "ON CONFLICT(name) DO UPDATE SET event_id = excluded.event_id");
        up.bind(1, *new_cursor);
        up.run();
    }
    tx.commit();
    return inserted;
}

std::vector<delivery> due(store::store& db, const std::string& subscriber, time_point now, std::size_t limit) {
    auto q =
        db.db().prepare(std::string("SELECT ") + delivery_columns +
                        " FROM notify_outbox WHERE status = 'pending' AND subscriber = ?1 AND next_attempt_at <= ?2 "
                        "ORDER BY id LIMIT ?3");
    q.bind(1, subscriber).bind(2, to_unix_ms(now)).bind(3, static_cast<std::int64_t>(limit));
    std::vector<delivery> out;
    while (q.step()) out.push_back(read_delivery(q));
    return out;
}

void mark_delivered(store::store& db, std::int64_t id, int code, time_point now) {
    transaction tx(db.db());
    auto up = db.db().prepare(
        "UPDATE notify_outbox SET status = 'delivered', attempts = attempts + 1, last_code = ?2, last_error = NULL, "
        "delivered_at = ?3 WHERE id = ?1");
    up.bind(1, id).bind(2, code).bind(3, to_unix_ms(now));
    up.run();
    tx.commit();
}

void mark_retry(store::store& db, std::int64_t id, int code, const std::string& error, time_point next) {
    transaction tx(db.db());
    auto up = db.db().prepare(
        "UPDATE notify_outbox SET attempts = attempts + 1, last_code = ?2, last_error = ?3, next_attempt_at = ?4 "
        "WHERE id = ?1");
    up.bind(1, id).bind(2, code).bind(3, error).bind(4, to_unix_ms(next));
    up.run();
    tx.commit();
}

void mark_failed(store::store& db, std::int64_t id, int code, const std::string& error) {
    transaction tx(db.db());
    auto up = db.db().prepare(
        "UPDATE notify_outbox SET status = 'failed', attempts = attempts + 1, last_code = ?2, last_error = ?3 "
        "WHERE id = ?1");
    up.bind(1, id).bind(2, code).bind(3, error);
    up.run();
    tx.commit();
}

std::vector<delivery> list(store::store& db, const list_filter& f) {
    auto q =
        db.db().prepare(std::string("SELECT ") + delivery_columns +
                        " FROM notify_outbox WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR incident_id = ?2) "
                        "AND (?3 IS NULL OR subscriber = ?3) AND (?4 = 0 OR id < ?4) ORDER BY id DESC LIMIT ?5");
    q.bind(1, f.status).bind(2, f.incident_id).bind(3, f.subscriber).bind(4, f.before_id);
    q.bind(5, static_cast<std::int64_t>(f.limit));
    std::vector<delivery> out;
    while (q.step()) out.push_back(read_delivery(q));
    return out;
}

std::map<std::pair<std::string, std::string>, std::int64_t> counts(store::store& db) {
    auto q = db.db().prepare("SELECT subscriber, status, count(*) FROM notify_outbox GROUP BY subscriber, status");
    std::map<std::pair<std::string, std::string>, std::int64_t> out;
    while (q.step()) out[{q.text(0), q.text(1)}] = q.int64(2);
    return out;
}

std::optional<health_row> health(store::store& db, const std::string& tenant) {
    auto q = db.db().prepare("SELECT healthy, gaps_json, checked_at, changes FROM tenant_health WHERE tenant = ?1");
    q.bind(1, tenant);
    if (!q.step()) return std::nullopt;
    health_row h;
    h.healthy = q.int64(0) != 0;
    const auto gaps = nlohmann::json::parse(q.text(1), nullptr, false);
    if (gaps.is_array())
        for (const auto& g : gaps)
            if (g.is_string()) h.gaps.push_back(g.get<std::string>());
    h.checked_at = from_unix_ms(q.int64(2));
    h.changes = q.int64(3);
    return h;
}

std::optional<std::int64_t> record_health(store::store& db, const std::string& tenant, bool healthy,
                                          const std::vector<std::string>& gaps, time_point at) {
    const auto before = health(db, tenant);
    // A tenant seen healthy the first time is no news; one seen broken the first time is.
    const bool changed = before ? before->healthy != healthy || (!healthy && before->gaps != gaps) : !healthy;
    const std::int64_t changes = (before ? before->changes : 0) + (changed ? 1 : 0);
    auto up = db.db().prepare(
        "INSERT INTO tenant_health (tenant, healthy, gaps_json, checked_at, changes) VALUES (?1, ?2, ?3, ?4, ?5) "
        "ON CONFLICT(tenant) DO UPDATE SET healthy = excluded.healthy, gaps_json = excluded.gaps_json, "
        "checked_at = excluded.checked_at, changes = excluded.changes");
    up.bind(1, tenant).bind(2, healthy ? 1 : 0).bind(3, nlohmann::json(gaps).dump()).bind(4, to_unix_ms(at));
    up.bind(5, changes);
    transaction tx(db.db());
    up.run();
    tx.commit();
    if (!changed) return std::nullopt;
    return changes;
}

}  // namespace containd::notify::outbox
