#include "notify/notifier.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <sstream>

#include <spdlog/spdlog.h>

#include "core/histogram.hpp"
#include "core/log.hpp"
#include "core/secret.hpp"
#include "core/time.hpp"
#include "graph/https_client.hpp"
#include "notify/notification.hpp"
#include "notify/outbox.hpp"
#include "store/sqlite.hpp"

namespace containd::notify {
namespace asio = boost::asio;

namespace {

struct subscriber {
    config::notify_subscriber settings;
    secret url;  // a Slack or Teams webhook URL is a credential: never logged
    secret key;  // empty: unsigned
    std::unique_ptr<graph::https_client> client;
    bool busy = false;
    std::uint64_t sent = 0, delivered = 0, retried = 0, failed = 0;

    bool wants(const notification& n) const {
        const auto& ev = settings.events;
        const auto& ts = settings.tenants;
        return (ev.empty() || std::find(ev.begin(), ev.end(), n.kind) != ev.end()) &&
               (ts.empty() || std::find(ts.begin(), ts.end(), n.tenant) != ts.end());
    }
};

bool retryable(int status) { return status == 0 || status == 408 || status == 429 || status >= 500; }

// The engine's log line for one committed event: named by the event's kind, with the incident,
// the step and the tenant, and a few whitelisted fields (never a result or intent wholesale).
void log_engine_event(const outbox::pump_event& p) {
    const auto& e = p.event;
    static const std::map<std::string, std::string, std::less<>> names = {
        {"accepted", "incident_accepted"},
        {"step_started", "step_started"},
        {"step_succeeded", "step_succeeded"},
        {"step_failed", "step_failed"},
        {"step_retry_scheduled", "step_retry"},
        {"status_changed", "incident_status_changed"},
        {"phase_changed", "incident_phase_changed"},
        {"contained_at_recorded", "incident_contained"},
        {"step_approved", "step_approved"},
        {"step_retry_requested", "step_retry_requested"},
        {"step_cancelled", "step_cancelled"},
        {"release_requested", "release_requested"},
        {"plan_refined", "plan_refined"},
        {"plan_refused", "plan_refused"},
        {"secret_revealed", "secret_revealed"},
    };
    const auto it = names.find(e.kind);
    if (it == names.end()) return;
    nlohmann::json fields = {{"incident_id", e.incident_id}, {"tenant", p.context.tenant}, {"event_id", e.id}};
    if (e.step_seq) fields["step"] = *e.step_seq;
    if (p.context.step_kind) fields["step_kind"] = *p.context.step_kind;
    if (p.context.step_target) fields["target"] = *p.context.step_target;
    auto copy = [&](const char* key) {
        if (e.data.is_object() && e.data.contains(key)) fields[key] = e.data[key];
    };
    auto level = spdlog::level::info;
    if (e.kind == "step_started") copy("attempt");
    if (e.kind == "step_failed") {
        copy("error");
        level = spdlog::level::warn;
    }
    if (e.kind == "step_retry_scheduled") {
        copy("error");
        copy("not_before");
    }
    if (e.kind == "status_changed") {
        copy("from");
        copy("to");
        copy("attention");
        if (e.data.value("to", "") == "needs_attention") level = spdlog::level::warn;
    }
    if (e.kind == "phase_changed") {
        copy("from");
        copy("to");
    }
    if (e.kind == "step_succeeded" && p.context.step_kind == "verify_signins") {
        copy("verdict");
        copy("check");
        copy("lateness_ms");
    }
    if (e.kind == "step_approved" || e.kind == "step_retry_requested" || e.kind == "release_requested" ||
        e.kind == "secret_revealed")
        copy("by");
    if (e.kind == "plan_refused") copy("reasons");
    log_event(level, it->second, fields);
    // Throttling: the retry of a 429 (Graph's or our own pacer's) is worth its own line.
    if (e.kind == "step_retry_scheduled") {
        const std::string error = e.data.value("error", "");
        if (error.find("429") != std::string::npos || error.find("hrottl") != std::string::npos ||
            error.find("pacing") != std::string::npos)
            log_event(spdlog::level::warn, "step_throttled", fields);
    }
    if (e.kind == "status_changed" && e.data.value("to", "") == "needs_attention")
        log_event(spdlog::level::warn, "attention_raised", fields);
}

}  // namespace

struct notifier::impl : std::enable_shared_from_this<impl> {
    impl(asio::any_io_executor ex, store::store& d, const clock_source& c, config::notify_settings s)
            : executor(std::move(ex)), db(d), clock(c), settings(std::move(s)), timer(executor) {}

    asio::any_io_executor executor;
    store::store& db;
    const clock_source& clock;
    config::notify_settings settings;
    std::vector<subscriber> subscribers;
    asio::steady_timer timer;
    bool stopped = false;
    std::uint64_t pump_errors = 0;
    // Time to containment (accepted -> block read back in force) of incidents contained while
    // this process ran, in seconds.
    histogram time_to_containment{{5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600}};

    void observe_containment(const outbox::pump_event& p) {
        const auto at = parse_rfc3339(p.event.data.value("contained_at", ""));
        time_to_containment.observe(
            std::max(0.0, std::chrono::duration<double>(at.value_or(p.event.at) - p.incident_created_at).count()));
    }

    std::size_t pump() {
        std::size_t total = 0;
        for (;;) {
            const std::int64_t after = outbox::cursor(db);
            const auto batch = outbox::events_after(db, after, 500);
            if (batch.empty()) return total;
            std::vector<std::pair<std::string, notification>> rows;
            for (const auto& p : batch) {
                log_engine_event(p);
                if (p.event.kind == "contained_at_recorded") observe_containment(p);
                if (subscribers.empty()) continue;
                auto found = from_event(p.event, p.context);
                if (p.event.kind == "accepted" || p.event.kind == "plan_refined")
                    for (const auto& w : outbox::waiting_approvals(db, p.event.incident_id))
                        found.push_back(
                            approval_waiting(p.event.incident_id, p.context, w.seq, w.kind, w.target, p.event.at));
                for (auto& n : found)
                    for (const auto& s : subscribers)
                        if (s.wants(n)) rows.emplace_back(s.settings.name, n);
            }
            outbox::commit_batch(db, rows, batch.back().event.id, clock.now());
            total += batch.size();
            if (batch.size() < 500) return total;
        }
    }

    void tenant_checked(const std::string& tenant, bool healthy, const std::vector<std::string>& gaps) {
        store::transaction tx(db.db());
        const auto changed = outbox::record_health(db, tenant, healthy, gaps, clock.now());
        if (changed) {
            const auto n = tenant_health(tenant, healthy, gaps, *changed, clock.now());
            std::vector<std::pair<std::string, notification>> rows;
            for (const auto& s : subscribers)
                if (s.wants(n)) rows.emplace_back(s.settings.name, n);
            outbox::commit_batch(db, rows, std::nullopt, clock.now());
            log_event(healthy ? spdlog::level::info : spdlog::level::warn, "tenant_health_changed",
                      {{"tenant", tenant}, {"healthy", healthy}, {"gaps", gaps}});
        }
        tx.commit();
    }

    duration backoff(int attempts) const {
        duration d = settings.retry_first;
        for (int i = 1; i < attempts && d < settings.retry_max; ++i) d *= 2;
        return std::min(d, settings.retry_max);
    }

    asio::awaitable<std::size_t> deliver(subscriber& s) {
        std::size_t sent = 0;
        for (;;) {
            const auto rows = outbox::due(db, s.settings.name, clock.now(), 16);
            if (rows.empty() || stopped) co_return sent;
            for (const auto& d : rows) {
                if (stopped) co_return sent;
                graph::http_request req;
                req.method = "POST";
                req.url = s.url.reveal();
                req.idempotent = false;
                req.timeout = settings.timeout;
                req.body = render(d.payload, s.settings.format);
                const std::string ts = std::to_string(to_unix_ms(clock.now()) / 1000);
                req.headers = {{"Content-Type", "application/json"},
                               {"X-Containd-Event", d.kind},
                               {"X-Containd-Delivery", std::to_string(d.id)},
                               {"X-Containd-Timestamp", ts}};
                if (!s.key.empty())
                    req.headers.emplace_back("X-Containd-Signature", sign(s.key.reveal(), ts, req.body));
                ++s.sent;
                ++sent;
                const auto result = co_await s.client->send(std::move(req));
                const int code = result.ok() ? result.response.status : 0;
                const time_point now = clock.now();
                if (code >= 200 && code < 300) {
                    outbox::mark_delivered(db, d.id, code, now);
                    ++s.delivered;
                    continue;
                }
                const std::string error = result.ok()
                                              ? "HTTP " + std::to_string(code)
                                              : std::string(graph::to_string(result.error)) + ": " + result.detail;
                const bool give_up = !retryable(code) || now - d.created_at >= settings.give_up_after;
                nlohmann::json fields = {{"subscriber", s.settings.name},
                                         {"delivery", d.id},
                                         {"kind", d.kind},
                                         {"code", code},
                                         {"error", error},
                                         {"attempt", d.attempts + 1}};
                if (d.incident_id) fields["incident_id"] = *d.incident_id;
                if (give_up) {
                    outbox::mark_failed(db, d.id, code, error);
                    ++s.failed;
                    log_event(spdlog::level::err, "notification_failed", fields);
                } else {
                    const time_point next = now + backoff(d.attempts + 1);
                    outbox::mark_retry(db, d.id, code, error, next);
                    ++s.retried;
                    fields["next_attempt_at"] = format_rfc3339(next);
                    log_event(spdlog::level::warn, "notification_retry", fields);
                    co_return sent;  // this receiver is unwell: the rest waits for the next pass
                }
            }
        }
    }

    static asio::awaitable<void> run_subscriber(std::shared_ptr<impl> self, std::size_t i) {
        auto& s = self->subscribers[i];
        try {
            co_await self->deliver(s);
        } catch (const std::exception& e) {
            log_event(spdlog::level::err, "notification_error", {{"subscriber", s.settings.name}, {"error", e.what()}});
        }
        s.busy = false;
    }

    void tick() {
        if (stopped) return;
        try {
            pump();
        } catch (const std::exception& e) {
            ++pump_errors;
            log_event(spdlog::level::err, "notification_pump_error", {{"error", e.what()}});
        }
        for (std::size_t i = 0; i < subscribers.size(); ++i) {
            if (subscribers[i].busy) continue;
            subscribers[i].busy = true;
            asio::co_spawn(executor, run_subscriber(shared_from_this(), i), asio::detached);
        }
        timer.expires_after(std::chrono::duration_cast<asio::steady_timer::duration>(settings.poll_interval));
        timer.async_wait([self = weak_from_this()](boost::system::error_code ec) {
            if (ec) return;
            if (auto me = self.lock()) me->tick();
        });
    }
};

notifier::notifier(asio::any_io_executor executor, store::store& db, const clock_source& clock,
                   config::notify_settings settings)
        : impl_(std::make_shared<impl>(std::move(executor), db, clock, std::move(settings))) {
    for (const auto& s : impl_->settings.subscribers) {
        subscriber sub;
        sub.settings = s;
        if (s.url) sub.url = secret(*s.url);
        if (s.url_file) sub.url = load_secret_file(*s.url_file);
        if (s.secret_file) sub.key = load_secret_file(*s.secret_file);
        graph::tls_settings tls;
        if (s.ca_file) tls.ca_file = *s.ca_file;
        graph::https_options options;
        options.attempt_timeout = impl_->settings.timeout;
        options.max_idle_per_host = 2;
        options.proxy = graph::proxy_settings::from_environment();  // HTTPS_PROXY, NO_PROXY
        sub.client = std::make_unique<graph::https_client>(impl_->executor, tls, options);
        impl_->subscribers.push_back(std::move(sub));
    }
}

notifier::~notifier() { stop(); }

void notifier::start() {
    impl_->stopped = false;
    impl_->tick();
}

void notifier::stop() {
    impl_->stopped = true;
    impl_->timer.cancel();
}

std::size_t notifier::pump() { return impl_->pump(); }

asio::awaitable<std::size_t> notifier::deliver_due() {
    std::size_t n = 0;
    for (auto& s : impl_->subscribers) n += co_await impl_->deliver(s);
    co_return n;
}

void notifier::tenant_checked(const std::string& tenant, bool healthy, const std::vector<std::string>& gaps) {
    impl_->tenant_checked(tenant, healthy, gaps);
}

std::string notifier::metrics() {
    std::ostringstream out;
    const auto counts = outbox::counts(impl_->db);
    out << "# HELP containd_notifications Webhook deliveries in the outbox by subscriber and state.\n"
           "# TYPE containd_notifications gauge\n";
    for (const auto& s : impl_->subscribers)
        for (const char* state : {"pending", "delivered", "failed"}) {
            const auto it = counts.find({s.settings.name, state});
            out << "containd_notifications{subscriber=\"" << s.settings.name << "\",state=\"" << state << "\"} "
                << (it == counts.end() ? 0 : it->second) << "\n";
        }
    out << "# HELP containd_notification_attempts_total Webhook delivery attempts by subscriber and outcome "
           "(since start).\n# TYPE containd_notification_attempts_total counter\n";
    for (const auto& s : impl_->subscribers) {
        const std::pair<const char*, std::uint64_t> outcomes[] = {
            {"delivered", s.delivered}, {"retry", s.retried}, {"failed", s.failed}};
        for (const auto& [outcome, n] : outcomes)
            out << "containd_notification_attempts_total{subscriber=\"" << s.settings.name << "\",outcome=\"" << outcome
                << "\"} " << n << "\n";
    }
    out << "# HELP containd_time_to_containment_seconds From an incident's acceptance to its emergency block "
           "read back in force (incidents contained since start).\n# TYPE containd_time_to_containment_seconds "
           "histogram\n";
    std::string ttc;
    impl_->time_to_containment.render(ttc, "containd_time_to_containment_seconds");
    out << ttc;
    out << "# HELP containd_notification_pump_errors_total Failed passes of the event pump (storage errors).\n"
           "# TYPE containd_notification_pump_errors_total counter\ncontaind_notification_pump_errors_total "
        << impl_->pump_errors << "\n";
    return out.str();
}

}  // namespace containd::notify
