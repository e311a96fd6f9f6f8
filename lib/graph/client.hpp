#pragma once
// The Microsoft Graph client for one tenant: authenticated, paced calls with one attempt each.
//
// send():  pace (if the request's class is paced) -> token -> one HTTPS attempt -> on 401, one
//          token refresh and one re-send -> call_result. No sleeping retries of 429/5xx: the
//          engine owns retries (durable attempt counts and not_before).
// list():  send() then follow @odata.nextLink (absolute; only to the configured Graph origin and
//          under /v1.0/ or /beta/; anything else is refused as malformed) up to a page cap.
// batch(): $batch in requests of <= 20 (dependsOn groups kept together), several in parallel,
//          per-item results; failed retryable items are re-sent once within the call when their
//          Retry-After is short (batch_settings), never earlier than it allows.
//
// One client per tenant (it owns the tenant's pacer). Threading: the https_client's executor,
// one thread. The https_client, token_source and clock must outlive the client and every call.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "core/histogram.hpp"
#include "graph/batch.hpp"
#include "graph/pacer.hpp"
#include "graph/request.hpp"
#include "graph/result.hpp"

namespace containd::graph {

class https_client;
class token_source;

struct graph_settings {
    std::string graph_base = "https://graph.microsoft.com";  // the simulator: https://127.0.0.1:<port>
    std::size_t max_pages = 100;                             // list() page cap
    pacing_settings pacing;
    batch_settings batch;
};

// The items of a collection read through list().
struct list_result {
    call_result call;                   // the last page's result, or the failure that stopped paging
    std::vector<nlohmann::json> items;  // every page's "value" elements, in order (partial on failure)
    std::size_t pages = 0;
    bool truncated = false;  // the page cap stopped paging; next_link is where to resume
    std::optional<std::string> next_link;
    bool ok() const { return call.ok(); }
};

class client {
public:
    // Throws std::invalid_argument when graph_base is not an https URL.
    client(https_client& http, token_source& tokens, const clock_source& clock, graph_settings settings = {});
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    boost::asio::awaitable<call_result> send(graph_request request);

    // GET `first` and every following page. max_pages overrides settings().max_pages.
    boost::asio::awaitable<list_result> list(graph_request first, std::optional<std::size_t> max_pages = std::nullopt);

    // Results in the order of `items`. Every item must use `version`. Throws std::invalid_argument
    // for an invalid set (see plan_batches) before anything is sent.
    boost::asio::awaitable<std::vector<batch_item_result>> batch(std::vector<batch_item> items,
                                                                 api_version version = api_version::v1);

    const graph_settings& settings() const;
    token_source& tokens();
    pacer& pacing();
    const clock_source& clock() const;
    // How many HTTPS attempts got each status (0: no HTTP answer), for the daemon's metrics.
    std::map<int, std::uint64_t> calls_by_status() const;
    // The round trip of every HTTPS attempt, for the daemon's metrics.
    const histogram& latency() const;

    // The absolute URL a request is sent to (tests, logs).
    std::string url_for(const graph_request& request) const;

    struct impl;  // implementation detail

private:
    std::shared_ptr<impl> impl_;
};

}  // namespace containd::graph
