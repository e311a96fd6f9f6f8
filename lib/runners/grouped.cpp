// The critical path's per-account steps in groups: resolve and revoke for up to 20 accounts in
// one $batch (graph::client::batch), so 1,000 accounts take 50 requests per step kind, and the
// engine begins and records each group in one commit each (the accounts' columns included:
// step_outcome::account_update).

#include <map>

#include "core/time.hpp"
#include "graph/model.hpp"
#include "graph/requests.hpp"
#include "runners/common.hpp"

namespace containd::runners::detail {
namespace {

using engine::step_outcome;

// upn -> object id, read once for the whole group.
std::map<std::string, std::string> object_ids(const engine::step_context& ctx) {
    std::map<std::string, std::string> ids;
    for (const auto& a : ctx.db.accounts(ctx.incident.id))
        if (a.object_id) ids[a.upn] = *a.object_id;
    return ids;
}

std::string id_or_upn(const std::map<std::string, std::string>& ids, const std::string& upn) {
    auto it = ids.find(upn);
    return it == ids.end() ? upn : it->second;
}

}  // namespace

// Each account's user (object id, sync, enabled; $select) and directory roles, side by side in
// one $batch: the ids are what the block and the revocations need, the roles what the tiers do.
task<std::vector<step_outcome>> resolve_accounts(std::vector<const engine::step_context*> steps, graph::client& c,
                                                 const runner_settings&) {
    std::vector<graph::batch_item> items;
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const std::string& upn = steps[i]->step.target;
        items.push_back({"u" + std::to_string(i), graph::requests::get_user(upn), std::nullopt});
        items.push_back({"r" + std::to_string(i), graph::requests::list_member_of(upn, true), std::nullopt});
    }
    const auto results = co_await c.batch(std::move(items));

    std::vector<step_outcome> out;
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const std::string& upn = steps[i]->step.target;
        const auto& user_reply = results[2 * i].call;
        const auto& roles_reply = results[2 * i + 1].call;
        if (user_reply.status == 404) {
            out.push_back(step_outcome::give_up("no user " + upn + " in the directory"));
            continue;
        }
        if (!user_reply.ok()) {
            out.push_back(failure(user_reply, "reading the user"));
            continue;
        }
        const auto user = graph::parse_user(user_reply.body);
        if (!user) {
            out.push_back(step_outcome::failed(502, "reading the user: a response without id"));
            continue;
        }
        nlohmann::json role_names = nlohmann::json::array();
        if (roles_reply.ok() && !roles_reply.body.contains("@odata.nextLink")) {
            for (const auto& r : roles_reply.body.value("value", nlohmann::json::array()))
                if (auto role = graph::parse_directory_role(r)) role_names.push_back(role->display_name);
        } else {
            // More than one page of memberships, or the read failed: the whole list, on its own.
            auto roles = co_await graph::list_directory_roles(c, user->id, true);
            if (!roles.ok()) {
                out.push_back(failure(roles.call, "reading directory roles"));
                continue;
            }
            for (const auto& r : roles.items) role_names.push_back(r.display_name);
        }
        const bool synced = user->on_premises_sync_enabled.value_or(false);
        auto done = step_outcome::success({{"object_id", user->id},
                                           {"admin_roles", role_names},
                                           {"on_premises_sync", synced},
                                           {"account_enabled", user->account_enabled.value_or(true)}});
        done.account_update = {{"object_id", user->id}, {"synced", synced}};  // with the outcome
        out.push_back(std::move(done));
    }
    co_return out;
}

// revokeSignInSessions for each account, in one $batch; each account's own time recorded.
task<std::vector<step_outcome>> revoke_sessions_grouped(std::vector<const engine::step_context*> steps,
                                                        graph::client& c, const runner_settings&) {
    const engine::step_context& first = *steps.front();
    const auto ids = object_ids(first);
    std::vector<graph::batch_item> items;
    for (std::size_t i = 0; i < steps.size(); ++i)
        items.push_back({"v" + std::to_string(i),
                         graph::requests::revoke_sessions(id_or_upn(ids, steps[i]->step.target)), std::nullopt});
    const auto results = co_await c.batch(std::move(items));

    std::vector<step_outcome> out;
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const std::string& upn = steps[i]->step.target;
        const auto& reply = results[i].call;
        if (reply.status == 404) {
            out.push_back(step_outcome::give_up("no user " + upn + " in the directory"));
            continue;
        }
        if (!reply.ok()) {
            out.push_back(failure(reply, "revoking sessions"));
            continue;
        }
        const std::string at = format_rfc3339(first.clock.now());
        auto done = step_outcome::success({{"revoked_at", at}});
        // The account's revocation time (not the one after its reset), with the outcome.
        if (steps[i]->step.kind == incident::step_kind::revoke_sessions) done.account_update = {{"revoked_at", at}};
        out.push_back(std::move(done));
    }
    co_return out;
}

}  // namespace containd::runners::detail
