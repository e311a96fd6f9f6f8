#include "graph/client.hpp"

#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "graph/https_client.hpp"
#include "graph/token_source.hpp"
#include "graph/url.hpp"

namespace containd::graph {
namespace {
namespace asio = boost::asio;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
}  // namespace

std::string_view version_root(api_version v) { return v == api_version::beta ? "/beta" : "/v1.0"; }

struct client::impl {
    impl(https_client& h, token_source& t, const clock_source& c, graph_settings s)
            : http(h), tokens(t), clock(c), settings(std::move(s)), pace(h.get_executor(), c, settings.pacing) {}
    https_client& http;
    token_source& tokens;
    const clock_source& clock;
    graph_settings settings;
    pacer pace;
    url_parts base;
    std::map<int, std::uint64_t> calls_by_status;  // every HTTPS attempt; 0: no HTTP answer
    // Every HTTPS attempt's round trip (real time: what Microsoft and the network cost us), seconds.
    histogram latency{{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}};

    std::string url_for(const graph_request& r) const {
        return join_url(settings.graph_base, std::string(version_root(r.version)) + r.path);
    }
};

namespace {

call_result from_http(http_result res) {
    call_result c;
    if (!res.ok()) {
        c.transport = res.error;
        c.transport_detail = std::move(res.detail);
        return c;
    }
    auto& resp = res.response;
    c.status = resp.status;
    c.retry_after = resp.header("Retry-After");
    c.location = resp.header("Location");
    c.request_id = resp.header("request-id").value_or("");
    if (!resp.body.empty()) {
        c.body = nlohmann::json::parse(resp.body, nullptr, false);
        if (c.body.is_discarded()) c.body = nullptr;
    }
    if (c.status >= 400) parse_error_body(c);
    return c;
}

std::string seconds_text(duration d) {
    const double s = std::chrono::duration<double>(d).count();
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", std::max(s, 0.001));
    return buf;
}

asio::awaitable<call_result> send_to(std::shared_ptr<client::impl> self, graph_request req, std::string url) {
    std::string body;
    if (req.body) {
        try {
            body = req.body->dump();
        } catch (const nlohmann::json::exception&) {
            co_return local_failure(400, err_invalid_value, "the request body is not valid UTF-8 JSON");
        }
    }
    for (int attempt = 0; attempt < 2; ++attempt) {
        // Held until the response is in: the class's window runs from then (pacer.hpp).
        pacer::outcome place = co_await self->pace.acquire(req.pace);
        if (place.refused_for) {
            call_result r =
                local_failure(429, err_local_pacing, "paced locally: this endpoint class is at its rate limit");
            r.retry_after = seconds_text(*place.refused_for);
            co_return r;
        }
        token_reply tok = co_await self->tokens.get();
        if (!tok.ok()) {
            tok.call.token_failure = true;
            co_return std::move(tok.call);
        }
        http_request h;
        h.method = req.method;
        h.url = url;
        h.headers = req.headers;
        if (req.body) h.headers.emplace_back("Content-Type", "application/json");
        h.body = body;
        h.bearer_token = tok.token;
        h.idempotent = req.idempotent;
        h.timeout = req.timeout;
        const auto sent_at = std::chrono::steady_clock::now();
        call_result r = from_http(co_await self->http.send(std::move(h)));
        self->latency.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - sent_at).count());
        ++self->calls_by_status[r.status];
        if (r.status == 401 && attempt == 0) {
            // One refresh and one re-send: the token may have been revoked or expired early.
            self->tokens.invalidate(tok.token);
            continue;
        }
        r.refreshed_token = attempt == 1;
        co_return r;
    }
    co_return call_result{};  // unreachable
}

bool allowed_next_link(const url_parts& base, const std::string& link, std::string& target) {
    const auto u = parse_url(link);
    if (!u || u->origin() != base.origin()) return false;
    if (u->target.rfind("/v1.0/", 0) != 0 && u->target.rfind("/beta/", 0) != 0) return false;
    target = u->target;
    return true;
}

asio::awaitable<list_result> do_list(std::shared_ptr<client::impl> self, graph_request req, std::size_t max_pages) {
    list_result out;
    std::string url = self->url_for(req);
    for (;;) {
        call_result r = co_await send_to(self, req, url);
        ++out.pages;
        if (!r.ok()) {
            out.call = std::move(r);
            co_return out;
        }
        const auto value = r.body.is_object() ? r.body.find("value") : r.body.end();
        if (value == r.body.end() || !value->is_array()) {
            r.malformed = true;
            r.error_code = std::string(err_unexpected_body);
            r.error_message = "a collection response without a value array";
            out.call = std::move(r);
            co_return out;
        }
        for (auto& item : *value) out.items.push_back(std::move(item));
        r.body.erase("value");
        std::optional<std::string> next;
        if (auto n = r.body.find("@odata.nextLink"); n != r.body.end() && n->is_string()) next = n->get<std::string>();
        out.call = std::move(r);
        if (!next) co_return out;
        if (out.pages >= max_pages) {
            out.truncated = true;
            out.next_link = next;
            co_return out;
        }
        std::string target;
        if (!allowed_next_link(self->base, *next, target)) {
            out.call.malformed = true;
            out.call.error_code = std::string(err_foreign_next_link);
            out.call.error_message = "@odata.nextLink does not point to the configured Graph endpoint";
            co_return out;
        }
        url = self->base.origin() + target;
        req.method = "GET";
        req.body.reset();
    }
}

struct batch_run {
    batch_run(std::shared_ptr<client::impl> s, api_version v, std::vector<batch_item> i,
              std::vector<std::vector<std::size_t>> c)
            : self(std::move(s)),
              version(v),
              items(std::move(i)),
              chunks(std::move(c)),
              results(items.size()),
              done(self->http.get_executor()) {
        done.expires_at(asio::steady_timer::time_point::max());
    }
    std::shared_ptr<client::impl> self;
    api_version version;
    std::vector<batch_item> items;
    std::vector<std::vector<std::size_t>> chunks;
    std::vector<batch_item_result> results;
    std::size_t next = 0;
    std::size_t active = 0;
    asio::steady_timer done;
};

asio::awaitable<void> batch_worker(std::shared_ptr<batch_run> run) {
    while (run->next < run->chunks.size()) {
        const auto& chunk = run->chunks[run->next++];
        std::vector<batch_item_result> per;
        try {
            graph_request req;
            req.method = "POST";
            req.path = "/$batch";
            req.version = run->version;
            req.body = batch_body(run->items, chunk);
            req.idempotent = true;
            for (const auto i : chunk) req.idempotent = req.idempotent && run->items[i].request.idempotent;
            const std::string url = run->self->url_for(req);
            const call_result whole = co_await send_to(run->self, std::move(req), url);
            per = parse_batch_response(whole, run->items, chunk);
        } catch (const std::exception& e) {
            per = parse_batch_response(local_failure(400, err_invalid_value, e.what()), run->items, chunk);
        }
        for (std::size_t k = 0; k < chunk.size(); ++k) run->results[chunk[k]] = std::move(per[k]);
    }
    if (--run->active == 0) run->done.cancel();
}

asio::awaitable<std::vector<batch_item_result>> run_batches(std::shared_ptr<client::impl> self, api_version version,
                                                            std::vector<batch_item> items) {
    auto chunks = plan_batches(items, self->settings.batch.max_per_request);
    auto run = std::make_shared<batch_run>(self, version, std::move(items), std::move(chunks));
    const std::size_t workers =
        std::min(std::max<std::size_t>(self->settings.batch.max_parallel, 1), run->chunks.size());
    run->active = workers;
    for (std::size_t w = 0; w < workers; ++w)
        asio::co_spawn(self->http.get_executor(), batch_worker(run), asio::detached);
    while (run->active > 0) co_await run->done.async_wait(use_nothrow);
    co_return std::move(run->results);
}

asio::awaitable<std::vector<batch_item_result>> do_batch(std::shared_ptr<client::impl> self,
                                                         std::vector<batch_item> items, api_version version) {
    for (const auto& item : items)
        if (item.request.version != version)
            throw std::invalid_argument("batch item '" + item.id + "' has another API version");
    plan_batches(items, self->settings.batch.max_per_request);  // validate before sending anything
    std::vector<batch_item_result> results = co_await run_batches(self, version, items);

    const auto retry = plan_batch_retry(items, results, self->clock.now(), self->settings.batch);
    if (!retry) co_return results;
    const auto real_cap = retry->wait + retry->wait / 2 + std::chrono::milliseconds(100);
    const bool waited = co_await wait_on_clock(self->http.get_executor(), self->clock, self->clock.now() + retry->wait,
                                               self->settings.pacing.poll_interval, real_cap);
    if (!waited) co_return results;  // the clock did not move (manual clock): leave it to the engine

    std::vector<batch_item> again;
    std::set<std::string> ids;
    for (const auto i : retry->indices) ids.insert(items[i].id);
    for (const auto i : retry->indices) {
        batch_item copy = items[i];
        if (copy.depends_on && !ids.count(*copy.depends_on)) copy.depends_on.reset();
        again.push_back(std::move(copy));
    }
    std::vector<batch_item_result> second = co_await run_batches(self, version, std::move(again));
    for (std::size_t k = 0; k < retry->indices.size(); ++k) {
        second[k].attempts = 2;
        results[retry->indices[k]] = std::move(second[k]);
    }
    co_return results;
}

}  // namespace

client::client(https_client& http, token_source& tokens, const clock_source& clock, graph_settings settings)
        : impl_(std::make_shared<impl>(http, tokens, clock, std::move(settings))) {
    const auto base = parse_url(impl_->settings.graph_base);
    if (!base) throw std::invalid_argument("graph_base is not an https URL");
    impl_->base = *base;
}

client::~client() = default;

std::map<int, std::uint64_t> client::calls_by_status() const { return impl_->calls_by_status; }
const histogram& client::latency() const { return impl_->latency; }

asio::awaitable<call_result> client::send(graph_request request) {
    std::string url = impl_->url_for(request);
    return send_to(impl_, std::move(request), std::move(url));
}

asio::awaitable<list_result> client::list(graph_request first, std::optional<std::size_t> max_pages) {
    return do_list(impl_, std::move(first), max_pages.value_or(impl_->settings.max_pages));
}

asio::awaitable<std::vector<batch_item_result>> client::batch(std::vector<batch_item> items, api_version version) {
    return do_batch(impl_, std::move(items), version);
}

const graph_settings& client::settings() const { return impl_->settings; }
token_source& client::tokens() { return impl_->tokens; }
pacer& client::pacing() { return impl_->pace; }
const clock_source& client::clock() const { return impl_->clock; }
std::string client::url_for(const graph_request& request) const { return impl_->url_for(request); }

}  // namespace containd::graph
