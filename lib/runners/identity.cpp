// Runners for accounts: resolve and snapshot, revoke, reset, method cleanup, TAP, inbox rules,
// Identity Protection.

#include <algorithm>
#include <optional>
#include <set>

#include "core/time.hpp"
#include "runners/common.hpp"
#include "runners/password.hpp"

namespace containd::runners::detail {
namespace {

using engine::step_outcome;

nlohmann::json evidence_entry(const graph::call_result& call, nlohmann::json items) {
    if (call.ok()) return items;
    return {{"unavailable", graph::describe(call)}};
}

bool is_retryable_status(int status) { return status == 0 || status == 429 || status >= 500; }

std::string domain_of(const std::string& address) {
    const auto at = address.rfind('@');
    std::string d = at == std::string::npos ? "" : address.substr(at + 1);
    std::transform(d.begin(), d.end(), d.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return d;
}

}  // namespace

task<step_outcome> resolve_account(const engine::step_context& ctx, graph::client& c, const runner_settings&) {
    const std::string& upn = ctx.step.target;
    auto user = co_await graph::get_user(c, upn);
    if (user.call.status == 404) co_return step_outcome::give_up("no user " + upn + " in the directory");
    if (!user.ok()) co_return failure(user.call, "reading the user");
    auto roles = co_await graph::list_directory_roles(c, user.value.id, true);
    if (!roles.ok()) co_return failure(roles.call, "reading directory roles");

    nlohmann::json role_names = nlohmann::json::array();
    for (const auto& r : roles.items) role_names.push_back(r.display_name);
    const bool synced = user.value.on_premises_sync_enabled.value_or(false);
    ctx.db.update_account(ctx.incident.id, upn, {{"object_id", user.value.id}, {"synced", synced}});
    co_return step_outcome::success({{"object_id", user.value.id},
                                     {"admin_roles", role_names},
                                     {"on_premises_sync", synced},
                                     {"account_enabled", user.value.account_enabled.value_or(true)}});
}

task<step_outcome> capture_account_evidence(const engine::step_context& ctx, graph::client& c,
                                            const runner_settings& settings) {
    const std::string& upn = ctx.step.target;
    const std::string user = object_id_of(ctx, upn);
    std::vector<graph::call_result> failures;

    auto methods = co_await graph::list_auth_methods(c, user);
    nlohmann::json method_items = nlohmann::json::array();
    for (const auto& m : methods.items) method_items.push_back(m.raw);
    if (!methods.ok()) failures.push_back(methods.call);

    auto rules = co_await graph::list_inbox_rules(c, user);
    nlohmann::json rule_items = nlohmann::json::array();
    for (const auto& r : rules.items) rule_items.push_back(r.raw);
    if (!rules.ok()) failures.push_back(rules.call);

    nlohmann::json sign_in_items = nlohmann::json::array();
    graph::call_result sign_in_call;
    sign_in_call.status = 200;
    bool sign_ins_truncated = false;
    if (ctx.request.accounts.size() <= settings.evidence_sign_in_accounts) {
        graph::requests::sign_in_query q;
        q.user_principal_name = upn;
        q.since = ctx.request.compromise_start;
        auto sign_ins = co_await graph::list_sign_ins(c, q, settings.evidence_sign_in_pages);
        for (const auto& s : sign_ins.items) sign_in_items.push_back(s.raw);
        sign_in_call = sign_ins.call;
        sign_ins_truncated = sign_ins.truncated;
        if (!sign_ins.ok()) failures.push_back(sign_ins.call);
    }

    // Evidence never blocks containment for long: retry transient failures a few times, then
    // record what could not be read and go on. The retry re-sends every read, so it waits for
    // the longest Retry-After any failed read was given, not the first failure's: a 503 without
    // Retry-After listed before a 429 with one made the retry re-send the throttled read early.
    const graph::call_result* retry_on = nullptr;
    std::optional<duration> longest;
    for (const auto& f : failures) {
        if (!is_retryable_status(f.status)) continue;
        const auto wait = f.retry_after ? parse_retry_after(*f.retry_after, ctx.clock.now()) : std::nullopt;
        if (!retry_on || (wait && (!longest || *wait > *longest))) {
            longest = wait;
            retry_on = &f;
        }
    }
    if (retry_on && ctx.attempt < settings.evidence_retry_attempts) co_return failure(*retry_on, "capturing evidence");

    const nlohmann::json content = {{"authentication_methods", evidence_entry(methods.call, method_items)},
                                    {"inbox_rules", evidence_entry(rules.call, rule_items)},
                                    {"sign_ins", evidence_entry(sign_in_call, sign_in_items)}};
    ctx.db.add_evidence(ctx.incident.id, ctx.step.seq, "account", upn, content);
    co_return step_outcome::success({{"methods", method_items.size()},
                                     {"inbox_rules", rule_items.size()},
                                     {"sign_ins", sign_in_items.size()},
                                     {"sign_ins_truncated", sign_ins_truncated},
                                     {"gaps", failures.size()}});
}

task<step_outcome> revoke_sessions(const engine::step_context& ctx, graph::client& c, const runner_settings&) {
    const std::string& upn = ctx.step.target;
    auto r = co_await graph::revoke_sessions(c, object_id_of(ctx, upn));
    if (r.call.status == 404) co_return step_outcome::give_up("no user " + upn + " in the directory");
    if (!r.ok()) co_return failure(r.call, "revoking sessions");
    const std::string at = format_rfc3339(ctx.clock.now());
    if (ctx.step.kind == incident::step_kind::revoke_sessions)
        ctx.db.update_account(ctx.incident.id, upn, {{"revoked_at", at}});
    co_return step_outcome::success({{"revoked_at", at}});
}

task<step_outcome> reset_password(const engine::step_context& ctx, graph::client& c, const runner_settings&) {
    const std::string& upn = ctx.step.target;
    // Intent before effect: the password is sealed in the vault before it is sent, so a re-run
    // after a crash sends the same one.
    const std::string name = "password:" + upn;
    const std::string password = ctx.db.put_secret_once(ctx.incident.id, name, generate_temporary_password());
    ctx.db.record_intent(ctx.incident.id, ctx.step.seq, {{"secret", name}, {"force_change", true}});
    auto r = co_await graph::set_password(c, object_id_of(ctx, upn), secret(password), true);
    if (!r.ok()) co_return failure(r.call, "resetting the password");
    const std::string at = format_rfc3339(ctx.clock.now());
    ctx.db.update_account(ctx.incident.id, upn, {{"password_reset_at", at}});
    co_return step_outcome::success({{"password_reset_at", at}, {"secret", name}, {"force_change", true}});
}

task<step_outcome> cleanup_methods(const engine::step_context& ctx, graph::client& c, const runner_settings&) {
    const std::string& upn = ctx.step.target;
    const std::string user = object_id_of(ctx, upn);
    const bool complete = ctx.step.params.value("mode", "targeted") == "complete";
    const auto known = ctx.step.params.value("known_methods", std::vector<std::string>{});

    auto methods = co_await graph::list_auth_methods(c, user);
    if (!methods.ok()) co_return failure(methods.call, "listing authentication methods");

    // Targeted: the directory audits say which registrations happened during the compromise.
    std::vector<graph::directory_audit> registrations;
    if (!complete) {
        graph::requests::audit_query q;
        q.since = ctx.request.compromise_start;
        q.target_id = user;
        q.category = "UserManagement";
        auto audits = co_await graph::list_directory_audits(c, q);
        if (!audits.ok()) co_return failure(audits.call, "reading directory audits");
        for (auto& a : audits.items)
            if (a.activity.find("registered security info") != std::string::npos ||
                a.activity.find("Register") != std::string::npos)
                registrations.push_back(std::move(a));
    }

    std::vector<graph::auth_method> remove, keep;
    nlohmann::json reasons = nlohmann::json::object();
    for (const auto& m : methods.items) {
        if (m.kind == graph::method_kind::password) continue;  // reset, never deleted
        bool attacker = complete;
        std::string why = complete ? "complete reset" : "";
        if (!attacker && m.created && *m.created >= ctx.request.compromise_start) {
            attacker = true;
            why = "registered " + format_rfc3339(*m.created) + ", after the compromise started";
        }
        if (!attacker && !known.empty() && std::find(known.begin(), known.end(), m.id) == known.end()) {
            attacker = true;
            why = "not confirmed as the user's own";
        }
        if (!attacker) {
            for (const auto& a : registrations) {
                const std::string audit = a.raw.dump();
                if (audit.find(m.id) != std::string::npos ||
                    (!m.label.empty() && audit.find(m.label) != std::string::npos)) {
                    attacker = true;
                    why = "registration audited at " + format_rfc3339(a.activity_time) + " from " + a.initiated_by_ip;
                }
            }
        }
        (attacker ? remove : keep).push_back(m);
        if (attacker) reasons[m.id] = why;
    }

    // The default method cannot go while others remain: whatever is refused as default is
    // retried after the rest are gone.
    nlohmann::json removed = nlohmann::json::array(), absent = nlohmann::json::array();
    std::vector<graph::auth_method> deferred;
    for (int pass = 0; pass < 2; ++pass) {
        auto& batch = pass == 0 ? remove : deferred;
        std::vector<graph::auth_method> refused;
        for (const auto& m : batch) {
            auto r = co_await graph::delete_auth_method(c, user, m);
            if (r.outcome == graph::removal::removed)
                removed.push_back(m.id);
            else if (r.outcome == graph::removal::already_absent)
                absent.push_back(m.id);
            else if (r.call.status == 400 && pass == 0)
                refused.push_back(m);
            else
                co_return failure(r.call, "deleting " + std::string(graph::to_string(m.kind)) + " method " + m.id);
        }
        if (pass == 0) deferred = std::move(refused);
    }
    nlohmann::json all_removed = removed;
    for (const auto& a : absent) all_removed.push_back(a);
    ctx.db.update_account(ctx.incident.id, upn, {{"methods_removed", all_removed}});
    nlohmann::json kept = nlohmann::json::array();
    // Methods a targeted cleanup kept are the user's own only if the user says so (the seeds
    // require asking): attention at once, not at the next check.
    std::vector<std::string> attention;
    for (const auto& m : keep) {
        kept.push_back({{"id", m.id}, {"type", graph::to_string(m.kind)}});
        if (!complete)
            attention.push_back(upn + ": the targeted cleanup kept the " + std::string(graph::to_string(m.kind)) +
                                " method " + m.id + "; confirm with the user that it is theirs");
    }
    co_return step_outcome::success({{"mode", complete ? "complete" : "targeted"},
                                     {"removed", removed},
                                     {"already_absent", absent},
                                     {"kept", kept},
                                     {"reasons", reasons},
                                     {"attention", attention}});
}

task<step_outcome> issue_tap(const engine::step_context& ctx, graph::client& c, const runner_settings& settings) {
    const std::string& upn = ctx.step.target;
    const std::string user = object_id_of(ctx, upn);
    const std::string name = "tap:" + upn;
    // Reconcile: a TAP created by an earlier attempt whose record committed is still usable.
    if (ctx.step.intent.is_object() && ctx.step.intent.contains("tap_id") &&
        ctx.db.peek_secret(ctx.incident.id, name)) {
        auto methods = co_await graph::list_auth_methods(c, user);
        if (!methods.ok()) co_return failure(methods.call, "listing authentication methods");
        for (const auto& m : methods.items)
            if (m.id == ctx.step.intent["tap_id"].get<std::string>())
                co_return step_outcome::success({{"tap_id", m.id}, {"secret", name}, {"reconciled", true}});
    }
    // A new TAP replaces any earlier one: creating twice after a crash is harmless.
    // The lifetime an operator chose at (re-)issue, else the configured one; the tenant's TAP
    // policy bounds it (Graph refuses a lifetime outside it with a 400 that says so).
    const int lifetime = ctx.step.params.value("lifetime_minutes", settings.tap_lifetime_minutes);
    auto tap = co_await graph::create_tap(c, user, lifetime, true);
    if (!tap.ok()) co_return failure(tap.call, "creating a Temporary Access Pass");
    ctx.db.put_secret(ctx.incident.id, name, tap.value.pass.reveal());
    ctx.db.record_intent(ctx.incident.id, ctx.step.seq, {{"tap_id", tap.value.id}, {"secret", name}});
    const std::string at = format_rfc3339(ctx.clock.now());
    ctx.db.update_account(ctx.incident.id, upn, {{"tap_issued_at", at}});
    co_return step_outcome::success({{"tap_id", tap.value.id},
                                     {"secret", name},
                                     {"lifetime_minutes", tap.value.lifetime_minutes},
                                     {"usable_once", tap.value.usable_once},
                                     {"tap_issued_at", at}});
}

task<step_outcome> remove_inbox_rules(const engine::step_context& ctx, graph::client& c, const runner_settings&) {
    const std::string& upn = ctx.step.target;
    const std::string user = object_id_of(ctx, upn);
    const std::string own_domain = domain_of(upn);
    auto rules = co_await graph::list_inbox_rules(c, user);
    // An account without an Exchange Online mailbox (break-glass accounts usually have none, or
    // it is hosted on-premises) has no rules Graph can hold: nothing to remove, say so.
    if (rules.call.status == 404 && rules.call.error_code == "MailboxNotEnabledForRESTAPI")
        co_return step_outcome::success({{"removed", nlohmann::json::array()},
                                         {"mailbox", "none in Exchange Online (" + graph::describe(rules.call) + ")"}});
    if (!rules.ok()) co_return failure(rules.call, "listing inbox rules");
    nlohmann::json removed = nlohmann::json::array(), absent = nlohmann::json::array();
    for (const auto& rule : rules.items) {
        std::vector<std::string> targets = rule.forward_to;
        targets.insert(targets.end(), rule.redirect_to.begin(), rule.redirect_to.end());
        targets.insert(targets.end(), rule.forward_as_attachment_to.begin(), rule.forward_as_attachment_to.end());
        const bool external = std::any_of(targets.begin(), targets.end(),
                                          [&](const std::string& t) { return domain_of(t) != own_domain; });
        if (!external) continue;
        auto r = co_await graph::delete_inbox_rule(c, user, rule.id);
        if (r.outcome == graph::removal::removed)
            removed.push_back({{"id", rule.id}, {"name", rule.display_name}});
        else if (r.outcome == graph::removal::already_absent)
            absent.push_back(rule.id);
        else
            co_return failure(r.call, "deleting inbox rule " + rule.id);
    }
    co_return step_outcome::success({{"removed", removed}, {"already_absent", absent}});
}

task<step_outcome> confirm_compromised(const engine::step_context& ctx, graph::client& c, const runner_settings&) {
    std::vector<std::string> ids;
    for (const auto& a : ctx.db.accounts(ctx.incident.id))
        if (a.object_id) ids.push_back(*a.object_id);
    if (ids.empty()) co_return step_outcome::success({{"confirmed", 0}});
    auto r = co_await graph::confirm_compromised(c, ids);
    if (r.call.status == 403)  // no Entra ID P2 licence (or permission): a warning, not a failure
        co_return step_outcome::success(
            {{"confirmed", 0}, {"warning", "Identity Protection refused (" + graph::describe(r.call) + ")"}});
    if (!r.ok()) co_return failure(r.call, "confirming users compromised");
    co_return step_outcome::success({{"confirmed", ids.size()}});
}

}  // namespace containd::runners::detail
