#include "graph/batch.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <stdexcept>

#include "core/text.hpp"

namespace containd::graph {
namespace {

// Union-find over item indices (dependsOn groups).
struct groups {
    explicit groups(std::size_t n) : parent(n) {
        for (std::size_t i = 0; i < n; ++i) parent[i] = i;
    }
    std::size_t find(std::size_t i) {
        while (parent[i] != i) i = parent[i] = parent[parent[i]];
        return i;
    }
    void unite(std::size_t a, std::size_t b) { parent[find(a)] = find(b); }
    std::vector<std::size_t> parent;
};

std::map<std::string, std::size_t> index_by_id(const std::vector<batch_item>& items) {
    std::map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (items[i].id.empty()) throw std::invalid_argument("batch item without an id");
        if (!index.emplace(lower(items[i].id), i).second)
            throw std::invalid_argument("duplicate batch item id '" + items[i].id + "'");
    }
    return index;
}

}  // namespace

bool retryable_item_status(int status) {
    return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

std::vector<std::vector<std::size_t>> plan_batches(const std::vector<batch_item>& items, std::size_t max_per_request) {
    if (max_per_request == 0) throw std::invalid_argument("max_per_request must be positive");
    const auto index = index_by_id(items);
    groups g(items.size());
    std::vector<std::optional<std::size_t>> dep(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (!items[i].depends_on) continue;
        const auto it = index.find(lower(*items[i].depends_on));
        if (it == index.end()) throw std::invalid_argument("batch item '" + items[i].id + "' depends on an unknown id");
        if (it->second == i) throw std::invalid_argument("batch item '" + items[i].id + "' depends on itself");
        dep[i] = it->second;
        g.unite(i, it->second);
    }
    // Cycle check: follow each chain; it must end within items.size() steps.
    for (std::size_t i = 0; i < items.size(); ++i) {
        std::size_t cur = i, steps = 0;
        while (dep[cur]) {
            cur = *dep[cur];
            if (++steps > items.size()) throw std::invalid_argument("batch dependsOn cycle");
        }
    }
    // Groups in order of their first member; pack greedily into batches.
    std::map<std::size_t, std::vector<std::size_t>> members;
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < items.size(); ++i) {
        const auto root = g.find(i);
        auto& m = members[root];
        if (m.empty()) order.push_back(root);
        m.push_back(i);
    }
    std::vector<std::vector<std::size_t>> batches;
    std::vector<std::size_t> current;
    for (const auto root : order) {
        const auto& m = members[root];
        if (m.size() > max_per_request)
            throw std::invalid_argument("a dependsOn group has more than " + std::to_string(max_per_request) +
                                        " items");
        if (current.size() + m.size() > max_per_request) {
            batches.push_back(std::move(current));
            current.clear();
        }
        current.insert(current.end(), m.begin(), m.end());
    }
    if (!current.empty()) batches.push_back(std::move(current));
    // Within a batch keep input order (a dependency was listed before or after; Graph orders by
    // dependsOn, not position).
    for (auto& b : batches) std::sort(b.begin(), b.end());
    return batches;
}

nlohmann::json batch_body(const std::vector<batch_item>& items, const std::vector<std::size_t>& indices) {
    std::set<std::string> present;
    for (const auto i : indices) present.insert(lower(items[i].id));
    nlohmann::json requests = nlohmann::json::array();
    for (const auto i : indices) {
        const auto& item = items[i];
        nlohmann::json r = {{"id", item.id}, {"method", item.request.method}, {"url", item.request.path}};
        nlohmann::json headers = nlohmann::json::object();
        for (const auto& [k, v] : item.request.headers) headers[k] = v;
        if (item.request.body) {
            headers["Content-Type"] = "application/json";
            r["body"] = *item.request.body;
        }
        if (!headers.empty()) r["headers"] = std::move(headers);
        if (item.depends_on && present.count(lower(*item.depends_on))) r["dependsOn"] = {*item.depends_on};
        requests.push_back(std::move(r));
    }
    return {{"requests", std::move(requests)}};
}

std::vector<batch_item_result> parse_batch_response(const call_result& whole, const std::vector<batch_item>& items,
                                                    const std::vector<std::size_t>& indices) {
    std::vector<batch_item_result> out;
    out.reserve(indices.size());
    const nlohmann::json* responses = nullptr;
    if (whole.status == 200 && whole.body.is_object()) {
        const auto it = whole.body.find("responses");
        if (it != whole.body.end() && it->is_array()) responses = &*it;
    }
    std::map<std::string, const nlohmann::json*> by_id;
    if (responses)
        for (const auto& r : *responses)
            if (r.is_object() && r.contains("id") && r["id"].is_string()) by_id[lower(r["id"].get<std::string>())] = &r;

    for (const auto i : indices) {
        batch_item_result res;
        res.id = items[i].id;
        if (!responses) {
            res.call = whole;
            if (whole.ok()) {  // 2xx but not a batch response
                res.call.malformed = true;
                res.call.error_code = std::string(err_unexpected_body);
                res.call.error_message = "the $batch response has no responses array";
            }
            res.call.body = nullptr;
            out.push_back(std::move(res));
            continue;
        }
        const auto it = by_id.find(lower(items[i].id));
        if (it == by_id.end() || !it->second->contains("status") || !(*it->second)["status"].is_number_integer()) {
            res.call.status = 200;
            res.call.malformed = true;
            res.call.error_code = std::string(err_unexpected_body);
            res.call.error_message = "no result for this item in the $batch response";
            out.push_back(std::move(res));
            continue;
        }
        const auto& r = *it->second;
        res.call.status = r["status"].get<int>();
        res.call.request_id = whole.request_id;
        if (auto h = r.find("headers"); h != r.end() && h->is_object()) {
            for (auto hv = h->begin(); hv != h->end(); ++hv) {
                if (!hv.value().is_string()) continue;
                const std::string name = lower(hv.key());
                if (name == "retry-after") res.call.retry_after = hv.value().get<std::string>();
                if (name == "location") res.call.location = hv.value().get<std::string>();
            }
        }
        if (auto b = r.find("body"); b != r.end()) res.call.body = *b;
        if (res.call.status >= 400) parse_error_body(res.call);
        out.push_back(std::move(res));
    }
    return out;
}

std::optional<batch_retry_plan> plan_batch_retry(const std::vector<batch_item>& items,
                                                 const std::vector<batch_item_result>& results, time_point now,
                                                 const batch_settings& settings) {
    if (!settings.retry_failed) return std::nullopt;
    batch_retry_plan plan;
    std::set<std::string> retried;
    duration longest{};
    for (std::size_t i = 0; i < items.size(); ++i) {
        const auto& c = results[i].call;
        // Only item-level failures: a $batch that failed as a whole (transport, 401 after refresh,
        // 4xx) is left to the engine. A whole-batch 429/5xx copy is item-level enough to retry.
        if (!c.sent || c.malformed || c.token_failure || !retryable_item_status(c.status)) continue;
        duration wait = settings.default_retry_wait;
        if (c.retry_after) {
            const auto parsed = parse_retry_after(*c.retry_after, now);
            if (parsed) wait = *parsed;
        }
        longest = std::max(longest, wait);
        plan.indices.push_back(i);
        retried.insert(lower(items[i].id));
    }
    if (plan.indices.empty()) return std::nullopt;
    if (longest > settings.max_retry_wait) return std::nullopt;
    // Dependents that failed only because their dependency failed (424), transitively.
    bool grew = true;
    while (grew) {
        grew = false;
        for (std::size_t i = 0; i < items.size(); ++i) {
            if (results[i].call.status != 424 || !items[i].depends_on) continue;
            if (retried.count(lower(items[i].id)) || !retried.count(lower(*items[i].depends_on))) continue;
            retried.insert(lower(items[i].id));
            plan.indices.push_back(i);
            grew = true;
        }
    }
    std::sort(plan.indices.begin(), plan.indices.end());
    plan.wait = longest;
    return plan;
}

}  // namespace containd::graph
