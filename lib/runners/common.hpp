#pragma once
// Shared by the runner implementations (not a public header of the module).

#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "engine/runner.hpp"
#include "graph/api.hpp"
#include "graph/client.hpp"
#include "runners/runners.hpp"

namespace containd::runners::detail {

template <class T>
using task = boost::asio::awaitable<T>;

// Turns a failed Graph call into the engine's outcome: status, raw Retry-After and a log-safe
// description (never a body or a token).
engine::step_outcome failure(const graph::call_result& call, const std::string& what);

// The strings of the array at `path` in `j` (empty when any key is missing or not an array).
std::vector<std::string> strings_at(const nlohmann::json& j, std::initializer_list<const char*> path);
bool contains(const std::vector<std::string>& list, const std::string& v);

// The object id recorded for an account by its resolve step (falls back to the UPN, which
// Graph accepts in /users/{id-or-upn} paths).
std::string object_id_of(const engine::step_context& ctx, const std::string& upn);

// Every runner has this shape: the context and the tenant's Graph client.
using runner_fn = task<engine::step_outcome> (*)(const engine::step_context&, graph::client&, const runner_settings&);

task<engine::step_outcome> resolve_account(const engine::step_context&, graph::client&, const runner_settings&);

// Runners of several steps of one kind at once (one $batch): the outcomes in the steps' order.
using group_fn = task<std::vector<engine::step_outcome>> (*)(std::vector<const engine::step_context*>, graph::client&,
                                                             const runner_settings&);
task<std::vector<engine::step_outcome>> resolve_accounts(std::vector<const engine::step_context*>, graph::client&,
                                                         const runner_settings&);
task<std::vector<engine::step_outcome>> revoke_sessions_grouped(std::vector<const engine::step_context*>,
                                                                graph::client&, const runner_settings&);
task<engine::step_outcome> capture_account_evidence(const engine::step_context&, graph::client&,
                                                    const runner_settings&);
task<engine::step_outcome> capture_app_evidence(const engine::step_context&, graph::client&, const runner_settings&);
task<engine::step_outcome> capture_policy_evidence(const engine::step_context&, graph::client&, const runner_settings&);
task<engine::step_outcome> enable_emergency_policy(const engine::step_context&, graph::client&, const runner_settings&);
task<engine::step_outcome> confirm_block(const engine::step_context&, graph::client&, const runner_settings&);
task<engine::step_outcome> revoke_sessions(const engine::step_context&, graph::client&, const runner_settings&);
task<engine::step_outcome> reset_password(const engine::step_context&, graph::client&, const runner_settings&);
task<engine::step_outcome> cleanup_methods(const engine::step_context&, graph::client&, const runner_settings&);
task<engine::step_outcome> issue_tap(const engine::step_context&, graph::client&, const runner_settings&);
task<engine::step_outcome> remove_app_credentials(const engine::step_context&, graph::client&, const runner_settings&);
task<engine::step_outcome> disable_service_principal(const engine::step_context&, graph::client&,
                                                     const runner_settings&);
task<engine::step_outcome> remove_app_grants(const engine::step_context&, graph::client&, const runner_settings&);
task<engine::step_outcome> delete_application(const engine::step_context&, graph::client&, const runner_settings&);
task<engine::step_outcome> remove_inbox_rules(const engine::step_context&, graph::client&, const runner_settings&);
task<engine::step_outcome> confirm_compromised(const engine::step_context&, graph::client&, const runner_settings&);
task<engine::step_outcome> verify_signins(const engine::step_context&, graph::client&, const runner_settings&);
task<engine::step_outcome> release_block(const engine::step_context&, graph::client&, const runner_settings&);

}  // namespace containd::runners::detail
