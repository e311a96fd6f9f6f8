#pragma once
// JSON batching (POST /$batch): the pure parts. Splitting a set of requests into batches of at
// most 20 (keeping dependsOn chains together), building the request body, reading per-item
// results out of the response, and choosing which failed items to re-send.
// The coroutine that sends them is graph::client::batch (client.hpp).

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "graph/request.hpp"
#include "graph/result.hpp"

namespace containd::graph {

struct batch_item {
    std::string id;                         // unique within one batch() call (case-insensitive)
    graph_request request;                  // method, path (relative to the version root), body,
                                            // headers; version must match the batch's. pace and
                                            // timeout are ignored: do not batch paced classes
    std::optional<std::string> depends_on;  // id of one other item (Graph allows only one)
};

struct batch_item_result {
    std::string id;
    call_result call;  // the item's status, Retry-After (from the item's headers), error, body;
                       // or, when the whole $batch request failed, that failure
    int attempts = 1;  // 2 when the in-call retry re-sent it
    bool ok() const { return call.ok(); }
};

struct batch_settings {
    std::size_t max_per_request = 20;          // Graph's limit
    std::size_t max_parallel = 4;              // $batch requests in flight at once
    bool retry_failed = true;                  // re-send failed retryable items once within the call
    duration max_retry_wait = seconds(5);      // ... only if the longest Retry-After is this or less
    duration default_retry_wait = seconds(1);  // wait when a failed item has no Retry-After
};

// Retryable item statuses: 429, 500, 502, 503, 504 (and 424 when its dependency is re-sent).
bool retryable_item_status(int status);

// Splits items (by index) into batches of at most max_per_request, in input order, keeping each
// dependsOn-connected group in one batch. Throws std::invalid_argument for an empty or duplicate
// id, a dependency on an unknown id or on itself, a cycle, or a group larger than
// max_per_request.
std::vector<std::vector<std::size_t>> plan_batches(const std::vector<batch_item>& items, std::size_t max_per_request);

// The {"requests":[...]} body for the given items. A dependsOn naming an item not in `indices`
// is dropped (the dependency already succeeded in an earlier round).
nlohmann::json batch_body(const std::vector<batch_item>& items, const std::vector<std::size_t>& indices);

// Per-item results for `indices`, in that order, from the $batch call's result. When the call
// failed as a whole (transport, non-200, no "responses"), every item gets a copy of that failure;
// an item missing from "responses" gets a malformed result.
std::vector<batch_item_result> parse_batch_response(const call_result& whole, const std::vector<batch_item>& items,
                                                    const std::vector<std::size_t>& indices);

// Which items to re-send after a first round, and after how long: failed items with a retryable
// status, plus items that failed with 424 because their dependency is re-sent. nullopt when
// nothing qualifies or the longest wait exceeds settings.max_retry_wait (then the engine's
// durable retry handles the step).
struct batch_retry_plan {
    std::vector<std::size_t> indices;
    duration wait{};
};
std::optional<batch_retry_plan> plan_batch_retry(const std::vector<batch_item>& items,
                                                 const std::vector<batch_item_result>& results, time_point now,
                                                 const batch_settings& settings);

}  // namespace containd::graph
