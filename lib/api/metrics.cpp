#include "api/metrics.hpp"

#include <sstream>
#include <vector>

namespace containd::api::detail {

void metrics::observe(std::string_view route, std::string_view method, int status, std::chrono::nanoseconds elapsed) {
    const std::lock_guard lock(mutex_);
    ++requests_[{std::string(route), std::string(method), status}];
    // Up to 2.5 s: the API answers from memory or one SQLite transaction.
    auto it = latency_.find(route);
    if (it == latency_.end())
        it = latency_
                 .try_emplace(std::string(route),
                              std::vector<double>{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5})
                 .first;
    it->second.observe(std::chrono::duration<double>(elapsed).count());
}

namespace {

// Label values are our own route templates and method names; escape anyway (Prometheus rules).
std::string label(std::string_view v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

}  // namespace

std::string metrics::render(store::store& db, const engine::engine& eng, const gauges& g,
                            const std::function<std::string()>& extra) const {
    std::ostringstream out;
    const auto counts = db.count_by_status();
    out << "# HELP containd_incidents Incidents by status.\n# TYPE containd_incidents gauge\n";
    for (auto s : {store::incident_status::running, store::incident_status::waiting_approval,
                   store::incident_status::verifying, store::incident_status::contained,
                   store::incident_status::needs_attention, store::incident_status::cancelled}) {
        const auto name = std::string(store::to_string(s));
        const auto it = counts.find(name);
        out << "containd_incidents{status=\"" << name << "\"} " << (it == counts.end() ? 0 : it->second) << "\n";
    }

    const auto c = eng.stats();
    const std::tuple<const char*, const char*, std::uint64_t> engine_counters[] = {
        {"containd_engine_step_attempts_total", "Step attempts started (since start).", c.attempts},
        {"containd_engine_steps_succeeded_total", "Steps that succeeded (since start).", c.succeeded},
        {"containd_engine_step_retries_total", "Failed step attempts scheduled for another attempt.", c.retries},
        {"containd_engine_steps_failed_total", "Steps that gave up (the incident needs attention).", c.failed},
        {"containd_engine_step_timeouts_total", "Step attempts cut by the attempt timeout.", c.timeouts},
    };
    for (const auto& [name, help, value] : engine_counters)
        out << "# HELP " << name << " " << help << "\n# TYPE " << name << " counter\n" << name << " " << value << "\n";
    out << "# HELP containd_engine_steps_in_flight Step attempts running now.\n"
           "# TYPE containd_engine_steps_in_flight gauge\ncontaind_engine_steps_in_flight "
        << eng.in_flight() << "\n";

    const std::lock_guard lock(mutex_);
    out << "# HELP containd_api_requests_total API requests by route template, method and status code.\n"
           "# TYPE containd_api_requests_total counter\n";
    for (const auto& [key, n] : requests_) {
        const auto& [route, method, code] = key;
        out << "containd_api_requests_total{route=\"" << label(route) << "\",method=\"" << label(method) << "\",code=\""
            << code << "\"} " << n << "\n";
    }
    out << "# HELP containd_api_request_duration_seconds API request latency (until the response is ready).\n"
           "# TYPE containd_api_request_duration_seconds histogram\n";
    std::string histograms;
    for (const auto& [route, h] : latency_)
        h.render(histograms, "containd_api_request_duration_seconds", "route=\"" + label(route) + "\"");
    out << histograms;
    out << "# HELP containd_api_open_connections API connections open now.\n"
           "# TYPE containd_api_open_connections gauge\ncontaind_api_open_connections "
        << g.open_connections << "\n";
    out << "# HELP containd_api_event_streams Live event streams (SSE) open now.\n"
           "# TYPE containd_api_event_streams gauge\ncontaind_api_event_streams "
        << g.event_streams << "\n";
    out << "# HELP containd_api_rejected_connections_total Connections refused because max_connections were open.\n"
           "# TYPE containd_api_rejected_connections_total counter\ncontaind_api_rejected_connections_total "
        << rejected_connections_ << "\n";
    out << "# HELP containd_ready Whether the daemon is ready (1) or not (0): started, not stopping, storage "
           "writable.\n"
           "# TYPE containd_ready gauge\ncontaind_ready "
        << (g.ready ? 1 : 0) << "\n";
    std::string text = out.str();
    if (extra) {
        std::string more = extra();
        if (!more.empty()) {
            text += more;
            if (text.back() != '\n') text += '\n';
        }
    }
    return text;
}

}  // namespace containd::api::detail
