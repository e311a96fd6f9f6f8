// The timed verification checks: read the whole window since containment (logs arrive minutes
// late, so every check re-reads from the containment time), then let lib/verify decide.

#include <algorithm>

#include "core/time.hpp"
#include "runners/common.hpp"
#include "verify/verify.hpp"

namespace containd::runners::detail {
namespace {

using engine::step_outcome;

verify::signin_source source_of(graph::requests::sign_in_kind kind) {
    switch (kind) {
    case graph::requests::sign_in_kind::interactive: return verify::signin_source::interactive;
    case graph::requests::sign_in_kind::non_interactive: return verify::signin_source::non_interactive;
    case graph::requests::sign_in_kind::service_principal: return verify::signin_source::service_principal;
    }
    return verify::signin_source::interactive;
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

}  // namespace

task<step_outcome> verify_signins(const engine::step_context& ctx, graph::client& c, const runner_settings&) {
    if (!ctx.incident.contained_at) co_return step_outcome::give_up("no containment time recorded");
    verify::check_context check;
    check.contained_at = *ctx.incident.contained_at;
    check.offset = milliseconds(ctx.step.params.value("offset_ms", std::int64_t{0}));
    const auto& offsets = ctx.tenant.verification_offsets;
    check.horizon = offsets.empty() ? duration::zero() : *std::max_element(offsets.begin(), offsets.end());
    check.allowance = ctx.tenant.ingestion_allowance;
    check.propagation = ctx.tenant.revocation_propagation;
    check.max_token_lifetime = ctx.tenant.max_token_lifetime;
    for (const auto& a : ctx.request.accounts) check.upns.push_back(a.upn);
    for (const auto& a : ctx.request.malicious_apps) check.app_ids.push_back(a.app_id);
    check.attacker_ips = ctx.request.attacker_ips;
    for (const auto& upn : ctx.tenant.break_glass_upns)
        if (std::find(check.upns.begin(), check.upns.end(), upn) == check.upns.end())
            check.protected_upns.push_back(upn);
    for (const auto& s : ctx.db.steps(ctx.incident.id)) {
        if (s.status != store::step_status::succeeded) continue;
        if (s.kind == incident::step_kind::remove_app_credentials && s.finished_at &&
            (!check.apps_contained_at || *s.finished_at > *check.apps_contained_at))
            check.apps_contained_at = s.finished_at;
        // Each account's last revocation: propagation runs from there.
        if (s.kind == incident::step_kind::revoke_sessions || s.kind == incident::step_kind::revoke_after_reset) {
            const auto at = parse_rfc3339(s.result.value("revoked_at", ""));
            if (!at) continue;
            auto& last = check.revoked_at[s.target];
            if (*at > last) last = *at;
        }
        // Methods a targeted cleanup kept: the user must confirm them (the seeds require it).
        if (s.kind == incident::step_kind::cleanup_methods)
            for (const auto& item : s.result.value("attention", nlohmann::json::array()))
                if (item.is_string()) check.confirm_with_user.push_back(item.get<std::string>());
    }

    // The IR team's named locations, to tell a lockout of our own people and an excluded path.
    if (!ctx.tenant.ir_named_locations.empty()) {
        auto locations = co_await graph::list_named_locations(c);
        if (!locations.ok()) co_return failure(locations.call, "reading named locations");
        for (const auto& l : locations.items) {
            if (std::find(ctx.tenant.ir_named_locations.begin(), ctx.tenant.ir_named_locations.end(),
                          l.value("id", "")) == ctx.tenant.ir_named_locations.end())
                continue;
            for (const auto& range : l.value("ipRanges", nlohmann::json::array()))
                if (range.contains("cidrAddress")) check.ir_cidrs.push_back(range["cidrAddress"].get<std::string>());
        }
    }

    // The whole window every time (records arrive late), from far enough before containment to
    // see the attacker's last token issuance before it (a token lives at most
    // max_token_lifetime; a day of history at most).
    const duration lookback = std::min<duration>(check.max_token_lifetime, std::chrono::hours(24));
    std::vector<verify::signin> signins;
    using graph::requests::sign_in_kind;
    for (const auto kind :
         {sign_in_kind::interactive, sign_in_kind::non_interactive, sign_in_kind::service_principal}) {
        graph::requests::sign_in_query q;
        q.kind = kind;
        q.since = check.contained_at - lookback;
        auto page = co_await graph::list_sign_ins(c, q);
        if (!page.ok()) co_return failure(page.call, "reading sign-in logs");
        for (const auto& s : page.items) {
            verify::signin v;
            v.at = s.created;
            v.source = source_of(kind);
            v.id = s.id;
            v.correlation_id =
                s.raw.is_object() && s.raw.contains("correlationId") && s.raw["correlationId"].is_string()
                    ? s.raw["correlationId"].get<std::string>()
                    : std::string();
            v.upn = lower(s.user_principal_name);
            v.app_id = lower(s.app_id);
            v.app_name = s.app_display_name;
            v.ip = s.ip_address;
            v.client_app = s.client_app_used;
            v.error_code = s.error_code;
            v.ca_status = s.conditional_access_status;
            signins.push_back(std::move(v));
        }
    }
    // Read after the logs: nothing read can be newer than this.
    check.now = ctx.clock.now();
    const auto result = verify::analyse(check, signins);
    nlohmann::json out = verify::to_json(result);
    out["sign_ins_read"] = signins.size();
    out["allowance_s"] = std::chrono::duration_cast<std::chrono::seconds>(check.allowance).count();
    out["horizon"] = format_rfc3339(check.contained_at + check.horizon);
    out["final"] = check.offset >= check.horizon;
    // Only the last planned check (or a confirmation) asks for a confirmation check: before it,
    // the planned checks still to come are the next look.
    if (!out["final"].get<bool>()) out.erase("confirm_at");
    if (ctx.step.params.value("confirmation", false)) out["confirmation"] = true;
    // The engine appends the confirmation check (its follow_up_check) with this result, in one
    // transaction.
    auto outcome = step_outcome::success(out);
    if (out["final"].get<bool>() && result.confirm_at) outcome.follow_up_check = result.confirm_at;
    co_return outcome;
}

}  // namespace containd::runners::detail
