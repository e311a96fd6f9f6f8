// The simulator's front: journal, fault injection, routing between the token endpoint, Graph and
// the loopback-only /_sim control endpoints; and the public simulator object.
#include "sim/simulator.hpp"

#include <signal.h>

#include <chrono>
#include <fstream>
#include <mutex>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "core/time.hpp"
#include "sim/server.hpp"
#include "sim/tenant.hpp"
#include "sim/tls.hpp"

namespace containd::sim {
namespace {

const char* graph_content_type =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

struct compiled_rule {
    fault_rule rule;
    std::regex re;
    int matched = 0;
};

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::invalid_argument("simulator: cannot read " + path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

json journal_json(const journal_entry& e) {
    return {{"seq", e.seq},       {"at", format_rfc3339(e.at)}, {"method", e.method},
            {"path", e.path},     {"query", e.query},           {"body", e.body},
            {"status", e.status}, {"client_id", e.client_id},   {"in_batch", e.in_batch}};
}

http_response json_response(int status, const json& body) {
    http_response r;
    r.status = status;
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = body.dump();
    return r;
}

bool valid_kind(const std::string& k) {
    static const std::vector<std::string> kinds = {"429_seconds", "429_decimal", "429_http_date", "429_none",
                                                   "500",         "502",         "503",           "504",
                                                   "reset",       "hang",        "slow_body"};
    return std::find(kinds.begin(), kinds.end(), k) != kinds.end();
}

}  // namespace

// Everything behind one mutex: requests apply in a total order, the journal's.
class service {
public:
    service(const options& o, const clock_source& clock)
            : allow_crash_points_(o.allow_crash_points),
              clock_(clock),
              tenant_(o.scenario, o.times, o.seed, o.clients, clock.now()),
              fault_rng_(o.seed ^ 0x9e3779b97f4a7c15ULL) {
        tenant_.on_batch_item(
            [this](const graph_call& item, const std::string& path, const std::function<graph_reply()>& process) {
                return batch_item(item, path, process);
            });
    }

    void set_base_url(const std::string& url) {
        std::lock_guard lock(m_);
        tenant_.set_base_url(url);
    }

    std::string tenant_id() const { return tenant_.id(); }

    std::vector<journal_entry> journal() const {
        std::lock_guard lock(m_);
        return journal_;
    }

    json state() {
        std::lock_guard lock(m_);
        const auto now = clock_.now();
        tenant_.advance(now);
        return tenant_.state(now);
    }

    void set_faults(std::vector<fault_rule> rules) {
        std::vector<compiled_rule> compiled;
        for (auto& r : rules) {
            if (!valid_kind(r.kind)) throw std::invalid_argument("unknown fault kind '" + r.kind + "'");
            compiled.push_back({r, std::regex(r.path_regex, std::regex::ECMAScript), 0});
        }
        std::lock_guard lock(m_);
        faults_ = std::move(compiled);
    }

    std::function<void(duration)> on_latency;

    http_response handle(http_request req) {
        std::unique_lock lock(m_);
        const auto now = clock_.now();
        std::vector<std::string> segs;
        bool path_ok = true;
        {
            std::size_t i = 1;
            const auto& p = req.path;
            while (i <= p.size()) {
                auto sl = p.find('/', i);
                if (sl == std::string::npos) sl = p.size();
                auto seg = odata::percent_decode(p.substr(i, sl - i), false);
                if (!seg)
                    path_ok = false;
                else if (!seg->empty())
                    segs.push_back(*seg);
                if (sl >= p.size()) break;
                i = sl + 1;
            }
        }
        if (!segs.empty() && segs[0] == "_sim") return control(req, segs);

        journal_entry entry{
            static_cast<std::int64_t>(journal_.size()) + 1, now, req.method, req.path, req.query, {}, 0, {}};
        if (crash_ && crash_->at_request == entry.seq && !crash_->after_apply) {
            fire_crash_point();  // the request never takes effect: the caller dies with it in flight
            http_response r;
            r.action = transport_action::reset;
            return r;
        }
        const bool token_path = segs.size() == 4 && segs[1] == "oauth2" && segs[2] == "v2.0" && segs[3] == "token";
        entry.body = token_path ? redact_form_body(req.body) : redact_json_body(req.body);
        // In the journal before processing: the items of a $batch follow their request.
        const std::size_t journal_at = journal_.size();
        journal_.push_back(entry);

        // Faults decided before processing; 429/5xx replace the processing entirely.
        const std::string fault = choose_fault(req.method, req.path, true);
        http_response res;
        if (!fault.empty() && fault != "reset" && fault != "hang" && fault != "slow_body") {
            res = fault_response(fault, now);
            if (token_path)
                entry.client_id =
                    odata::parse_query(req.body).value_or(std::map<std::string, std::string>{})["client_id"];
        } else if (!path_ok) {
            res = json_response(400, {{"error", {{"code", "BadRequest"}, {"message", "Invalid request URL."}}}});
        } else if (token_path) {
            res = tenant_.token_request(segs[0], req.method, req, now, entry.client_id);
        } else if (!segs.empty() && (segs[0] == "v1.0" || segs[0] == "beta")) {
            res = graph(req, segs, now, entry.client_id);
        } else {
            res = json_response(
                404, {{"error", {{"code", "NotFound"}, {"message", "The requested resource does not exist."}}}});
        }
        if (fault == "reset") res.action = transport_action::reset;
        if (fault == "hang") res.action = transport_action::hang;
        if (fault == "slow_body") res.action = transport_action::slow_body;
        entry.status = res.status;
        const bool crash_now = crash_ && crash_->at_request == entry.seq && crash_->after_apply;
        journal_[journal_at] = std::move(entry);
        if (crash_now) {
            fire_crash_point();  // applied, and the caller dies before it hears so
            res.action = transport_action::reset;
        }
        return res;
    }

private:
    // The fault the first matching rule fires for this request ("" for none), counting the match.
    // A $batch item (whole_request false) never gets a transport fault.
    std::string choose_fault(const std::string& method, const std::string& path, bool whole_request) {
        for (auto& r : faults_) {
            if (!whole_request && (r.rule.kind == "reset" || r.rule.kind == "hang" || r.rule.kind == "slow_body"))
                continue;
            if (!r.rule.method.empty() && r.rule.method != method) continue;
            if (!std::regex_search(path, r.re)) continue;
            const bool fire = r.rule.count >= 0
                                  ? r.matched < r.rule.count
                                  : std::uniform_real_distribution<double>(0.0, 1.0)(fault_rng_) < r.rule.rate;
            ++r.matched;
            if (fire) return r.rule.kind;
        }
        return {};
    }

    // One $batch item, as the tenant sees it: journalled, and subject to the fault rules and crash
    // points like a request of its own (Graph answers each item with its own status: a throttled
    // item is a 429 inside a 200 $batch). Transport faults (reset, hang, slow_body) concern whole
    // HTTP requests and never fire on an item.
    graph_reply batch_item(const graph_call& item, const std::string& path,
                           const std::function<graph_reply()>& process) {
        const time_point now = clock_.now();
        journal_entry entry{static_cast<std::int64_t>(journal_.size()) + 1,
                            now,
                            item.method,
                            path,
                            item.raw_query,
                            item.body.is_null() ? std::string() : redact_json_body(item.body.dump()),
                            0,
                            item.client_id,
                            true};
        if (crash_ && crash_->at_request == entry.seq && !crash_->after_apply) {
            fire_crash_point();  // the item never takes effect: the caller dies with it in flight
            return tenant_.error(503, "serviceNotAvailable", "The service is temporarily unavailable.", item, now);
        }
        const std::string fault = choose_fault(item.method, path, false);
        graph_reply rep;
        if (fault.empty()) {
            rep = process();
        } else {
            const http_response faulted = fault_response(fault, now);
            rep.status = faulted.status;
            rep.body = json::parse(faulted.body);
            rep.headers = faulted.headers;
        }
        entry.status = rep.status;
        const bool crash_now = crash_ && crash_->at_request == entry.seq && crash_->after_apply;
        journal_.push_back(std::move(entry));
        if (crash_now) fire_crash_point();  // applied, and the caller dies before it hears so
        return rep;
    }

    // A crash point: SIGKILL the process under test at its Nth request, either on receipt (the
    // request has no effect) or after the request took effect and before the response is sent
    // ("effect applied, record not committed"). Waits (bounded) until the process is dead, so it
    // cannot read the response. One-shot.
    struct crash_point {
        pid_t pid = 0;
        std::int64_t at_request = 0;
        bool after_apply = false;
    };
    void fire_crash_point() {
        const pid_t pid = crash_->pid;
        crash_.reset();
        ::kill(pid, SIGKILL);
        for (int i = 0; i < 200; ++i) {  // up to 2 s: gone, or a zombie waiting for its parent
            std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
            std::string line;
            if (!std::getline(stat, line)) return;
            const auto close = line.rfind(')');
            if (close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z') return;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }

    http_response fault_response(const std::string& kind, time_point now) {
        const std::string rid = tenant_.next_request_id();
        auto graph_err = [&](int status, const std::string& code, const std::string& msg) {
            json body = {
                {"error",
                 {{"code", code},
                  {"message", msg},
                  {"innerError",
                   {{"date", format_rfc3339(now).substr(0, 19)}, {"request-id", rid}, {"client-request-id", rid}}}}}};
            auto r = json_response(status, body);
            r.headers.emplace_back("request-id", rid);
            r.headers.emplace_back("client-request-id", rid);
            return r;
        };
        if (kind.rfind("429", 0) == 0) {
            auto r = graph_err(429, "TooManyRequests", "Please retry again later.");
            if (kind == "429_seconds") r.headers.emplace_back("Retry-After", "2");
            if (kind == "429_decimal") r.headers.emplace_back("Retry-After", "1.5");
            if (kind == "429_http_date") r.headers.emplace_back("Retry-After", format_http_date(now + seconds(3)));
            return r;
        }
        if (kind == "500") return graph_err(500, "UnknownError", "An internal server error occurred.");
        if (kind == "502") return graph_err(502, "BadGateway", "Bad Gateway.");
        if (kind == "503") return graph_err(503, "serviceNotAvailable", "The service is temporarily unavailable.");
        return graph_err(504, "GatewayTimeout", "The gateway did not receive a response in time.");
    }

    http_response graph(const http_request& req, const std::vector<std::string>& segs, time_point now,
                        std::string& client_id) {
        graph_reply rep;
        graph_call c;
        auto cid = tenant_.authenticate(req.header("authorization"), now, rep);
        if (cid) {
            client_id = *cid;
            c.method = req.method;
            c.version = segs[0];
            c.segs.assign(segs.begin() + 1, segs.end());
            c.raw_query = req.query;
            c.client_id = *cid;
            c.prefer = req.header("prefer");
            c.request_id = tenant_.next_request_id();
            c.client_request_id = req.header("client-request-id");
            auto q = odata::parse_query(req.query);
            if (!q) {
                rep = tenant_.error(400, "BadRequest", "Invalid query string.", c, now);
            } else {
                c.query = *q;
                if (!req.body.empty()) {
                    c.body = json::parse(req.body, nullptr, false);
                    if (c.body.is_discarded()) {
                        c.body = nullptr;
                        c.body_malformed = true;
                    }
                }
                rep = tenant_.graph(c, now);
            }
        }
        http_response r;
        r.status = rep.status;
        const std::string rid = c.request_id.empty() ? tenant_.next_request_id() : c.request_id;
        r.headers.emplace_back("request-id", rid);
        r.headers.emplace_back("client-request-id", c.client_request_id.empty() ? rid : c.client_request_id);
        r.headers.emplace_back(
            "x-ms-ags-diagnostic",
            R"({"ServerInfo":{"DataCenter":"Simulated","Slice":"E","Ring":"0","ScaleUnit":"000","RoleInstance":"SIM"}})");
        r.headers.emplace_back("Cache-Control", "no-cache");
        for (auto& h : rep.headers) r.headers.push_back(h);
        if (rep.has_body) {
            r.headers.emplace_back("Content-Type", rep.status >= 400 ? "application/json" : graph_content_type);
            r.body = rep.body.dump();
        }
        return r;
    }

    http_response control(const http_request& req, const std::vector<std::string>& segs) {
        if (!req.from_loopback)
            return json_response(403, {{"error", "the /_sim endpoints answer loopback clients only"}});
        const std::string what = segs.size() > 1 ? segs[1] : "";
        if (what == "journal" && req.method == "GET") {
            json entries = json::array();
            for (const auto& e : journal_) entries.push_back(journal_json(e));
            return json_response(200, {{"entries", entries}});
        }
        if (what == "state" && req.method == "GET") {
            const auto now = clock_.now();
            tenant_.advance(now);
            return json_response(200, tenant_.state(now));
        }
        if (what == "tokens" && req.method == "GET") return json_response(200, {{"tokens", tenant_.issued_tokens()}});
        if (what == "faults" && req.method == "POST") {
            auto body = json::parse(req.body, nullptr, false);
            if (!body.is_object() || !body.contains("rules") || !body["rules"].is_array())
                return json_response(400, {{"error", "expected {\"rules\":[...]}"}});
            std::vector<compiled_rule> compiled;
            for (const auto& r : body["rules"]) {
                fault_rule f;
                f.path_regex = r.value("path_regex", "");
                f.method = r.value("method", "");
                f.kind = r.value("kind", "");
                f.rate = r.value("rate", 0.0);
                f.count = r.value("count", -1);
                if (!valid_kind(f.kind)) return json_response(400, {{"error", "unknown fault kind '" + f.kind + "'"}});
                try {
                    compiled.push_back({f, std::regex(f.path_regex, std::regex::ECMAScript), 0});
                } catch (const std::regex_error&) {
                    return json_response(400, {{"error", "bad path_regex"}});
                }
            }
            faults_ = std::move(compiled);
            http_response r;
            r.status = 204;
            return r;
        }
        if (what == "latency" && req.method == "POST") {
            auto body = json::parse(req.body, nullptr, false);
            if (!body.is_object() || !body.contains("ms") || !body["ms"].is_number())
                return json_response(400, {{"error", "expected {\"ms\":N}"}});
            if (on_latency) on_latency(milliseconds(body["ms"].get<std::int64_t>()));
            http_response r;
            r.status = 204;
            return r;
        }
        if (what == "crash_point" && req.method == "POST") {
            if (!allow_crash_points_)
                return json_response(403, {{"error", "crash points are off (containd-sim --crash-points)"}});
            auto body = json::parse(req.body, nullptr, false);
            const std::string when = body.is_object() ? body.value("when", "") : "";
            if (!body.is_object() || !body.contains("pid") || !body["pid"].is_number_integer() ||
                body["pid"].get<std::int64_t>() <= 1 || !body.contains("at_request") ||
                !body["at_request"].is_number_integer() || (when != "received" && when != "applied"))
                return json_response(
                    400, {{"error", "expected {\"pid\":P,\"at_request\":N,\"when\":\"received\"|\"applied\"}"}});
            crash_ = crash_point{static_cast<pid_t>(body["pid"].get<std::int64_t>()),
                                 body["at_request"].get<std::int64_t>(), body["when"] == "applied"};
            http_response r;
            r.status = 204;
            return r;
        }
        return json_response(404, {{"error", "unknown /_sim endpoint"}});
    }

    bool allow_crash_points_ = false;
    std::optional<crash_point> crash_;
    mutable std::mutex m_;
    const clock_source& clock_;
    tenant tenant_;
    std::vector<journal_entry> journal_;
    std::vector<compiled_rule> faults_;
    std::mt19937_64 fault_rng_;
};

struct simulator::impl {
    options opts;
    const clock_source& clock;
    std::string ca_pem;
    std::string cert_pem, key_pem;
    std::unique_ptr<service> svc;
    std::unique_ptr<https_server> server;
    std::uint16_t port = 0;
    std::string base_url;

    impl(options o, const clock_source& c) : opts(std::move(o)), clock(c) {}
};

simulator::simulator(options opts, const clock_source& clock) : impl_(std::make_unique<impl>(std::move(opts), clock)) {
    auto& d = *impl_;
    d.svc = std::make_unique<service>(d.opts, clock);
    if (!d.opts.cert_file.empty() || !d.opts.key_file.empty()) {
        if (d.opts.cert_file.empty() || d.opts.key_file.empty())
            throw std::invalid_argument("simulator: cert_file and key_file go together");
        d.cert_pem = read_file(d.opts.cert_file);
        d.key_pem = read_file(d.opts.key_file);
        d.ca_pem = d.cert_pem;
    } else {
        auto m = generate_tls_material();
        d.ca_pem = m.ca_cert_pem;
        d.cert_pem = m.leaf_cert_pem;
        d.key_pem = m.leaf_key_pem;
    }
}

simulator::~simulator() { stop(); }

void simulator::start() {
    auto& d = *impl_;
    if (d.server) return;
    server_settings s;
    s.bind_address = d.opts.bind_address;
    s.port = d.opts.port;
    s.threads = d.opts.threads;
    s.cert_pem = d.cert_pem;
    s.key_pem = d.key_pem;
    service* svc = d.svc.get();
    auto server = std::make_unique<https_server>(s, [svc](http_request r) { return svc->handle(std::move(r)); });
    https_server* raw = server.get();
    svc->on_latency = [raw](duration l) { raw->set_latency(l); };
    server->start();
    d.port = server->port();
    std::string host = d.opts.bind_address;
    if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
    if (host == "::") host = "::1";
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    d.base_url = "https://" + host + ":" + std::to_string(d.port);
    svc->set_base_url(d.base_url);
    d.server = std::move(server);
}

void simulator::stop() {
    if (impl_ && impl_->server) {
        impl_->server->stop();
        impl_->server.reset();
    }
}

std::uint16_t simulator::port() const { return impl_->port; }
std::string simulator::base_url() const { return impl_->base_url; }
std::string simulator::ca_certificate_pem() const { return impl_->ca_pem; }
std::vector<journal_entry> simulator::journal() const { return impl_->svc->journal(); }
nlohmann::json simulator::state() const { return impl_->svc->state(); }
void simulator::set_faults(std::vector<fault_rule> rules) { impl_->svc->set_faults(std::move(rules)); }
void simulator::set_latency(duration per_request) {
    if (impl_->server) impl_->server->set_latency(per_request);
}
std::string simulator::tenant_id() const { return impl_->svc->tenant_id(); }

}  // namespace containd::sim
