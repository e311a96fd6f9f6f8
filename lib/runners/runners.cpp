#include "runners/runners.hpp"

#include <algorithm>

#include "core/time.hpp"
#include "graph/result.hpp"
#include "runners/common.hpp"
#include "runners/policy_keeper.hpp"

namespace containd::runners {
namespace detail {

engine::step_outcome failure(const graph::call_result& call, const std::string& what) {
    // A token failure with a 4xx (invalid_client, disabled app) will not heal by retrying.
    if (call.token_failure && call.status >= 400 && call.status < 500 && call.status != 429)
        return engine::step_outcome::give_up(what + ": " + graph::describe(call));
    if (call.malformed) return engine::step_outcome::give_up(what + ": " + graph::describe(call));
    return engine::step_outcome::failed(call.status, what + ": " + graph::describe(call), call.retry_after);
}

std::vector<std::string> strings_at(const nlohmann::json& j, std::initializer_list<const char*> path) {
    const nlohmann::json* cur = &j;
    for (const char* key : path) {
        if (!cur->is_object() || !cur->contains(key)) return {};
        cur = &(*cur)[key];
    }
    std::vector<std::string> out;
    if (cur->is_array())
        for (const auto& v : *cur)
            if (v.is_string()) out.push_back(v.get<std::string>());
    return out;
}

bool contains(const std::vector<std::string>& list, const std::string& v) {
    return std::find(list.begin(), list.end(), v) != list.end();
}

std::string object_id_of(const engine::step_context& ctx, const std::string& upn) {
    for (const auto& a : ctx.db.accounts(ctx.incident.id))
        if (a.upn == upn && a.object_id) return *a.object_id;
    return upn;
}

}  // namespace detail

namespace {

class graph_runner final : public engine::step_runner {
public:
    graph_runner(graph_lookup lookup, runner_settings settings, detail::runner_fn fn, detail::group_fn group)
            : lookup_(std::move(lookup)), settings_(settings), fn_(fn), group_(group) {}

    boost::asio::awaitable<engine::step_outcome> run(const engine::step_context& ctx) override {
        graph::client* client = lookup_(ctx.incident.tenant);
        if (!client) co_return engine::step_outcome::give_up("tenant '" + ctx.incident.tenant + "' is not configured");
        co_return co_await fn_(ctx, *client, settings_);
    }

    // Graph's $batch limit: 20 requests.
    std::size_t group_size() const override { return group_ ? 20 : 1; }

    boost::asio::awaitable<std::vector<engine::step_outcome>> run_group(
        std::vector<const engine::step_context*> steps) override {
        graph::client* client = lookup_(steps.front()->incident.tenant);
        if (!client)
            co_return std::vector<engine::step_outcome>(
                steps.size(),
                engine::step_outcome::give_up("tenant '" + steps.front()->incident.tenant + "' is not configured"));
        co_return co_await group_(std::move(steps), *client, settings_);
    }

private:
    graph_lookup lookup_;
    runner_settings settings_;
    detail::runner_fn fn_;
    detail::group_fn group_;  // null: one step at a time
};

}  // namespace

engine::runner_table make_graph_runners(graph_lookup lookup, runner_settings settings) {
    using incident::step_kind;
    const std::pair<step_kind, detail::runner_fn> table[] = {
        {step_kind::resolve_account, detail::resolve_account},
        {step_kind::capture_account_evidence, detail::capture_account_evidence},
        {step_kind::capture_app_evidence, detail::capture_app_evidence},
        {step_kind::capture_policy_evidence, detail::capture_policy_evidence},
        {step_kind::enable_emergency_policy, detail::enable_emergency_policy},
        {step_kind::revoke_sessions, detail::revoke_sessions},
        {step_kind::reset_password, detail::reset_password},
        {step_kind::revoke_after_reset, detail::revoke_sessions},
        {step_kind::cleanup_methods, detail::cleanup_methods},
        {step_kind::issue_tap, detail::issue_tap},
        {step_kind::remove_app_credentials, detail::remove_app_credentials},
        {step_kind::disable_service_principal, detail::disable_service_principal},
        {step_kind::remove_app_grants, detail::remove_app_grants},
        {step_kind::delete_application, detail::delete_application},
        {step_kind::remove_inbox_rules, detail::remove_inbox_rules},
        {step_kind::confirm_compromised, detail::confirm_compromised},
        {step_kind::verify_signins, detail::verify_signins},
        {step_kind::release_block, detail::release_block},
        {step_kind::confirm_block, detail::confirm_block},
    };
    if (!settings.policies) settings.policies = std::make_shared<policy_keeper>();
    engine::runner_table out;
    // The critical path's per-account steps go to Graph 20 at a time.
    const std::map<step_kind, detail::group_fn> grouped = {
        {step_kind::resolve_account, detail::resolve_accounts},
        {step_kind::revoke_sessions, detail::revoke_sessions_grouped},
        {step_kind::revoke_after_reset, detail::revoke_sessions_grouped},
    };
    for (const auto& [kind, fn] : table) {
        auto group = grouped.find(kind);
        out[kind] =
            std::make_shared<graph_runner>(lookup, settings, fn, group == grouped.end() ? nullptr : group->second);
    }
    return out;
}

}  // namespace containd::runners
