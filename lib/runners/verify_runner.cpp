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
    check.final_check = offsets.empty() || check.offset >= *std::max_element(offsets.begin(), offsets.end());
    for (const auto& a : ctx.request.accounts) check.upns.push_back(a.upn);
    for (const auto& a : ctx.request.malicious_apps) check.app_ids.push_back(a.app_id);
    check.attacker_ips = ctx.request.attacker_ips;
    for (const auto& upn : ctx.tenant.break_glass_upns)
        if (std::find(check.upns.begin(), check.upns.end(), upn) == check.upns.end()) check.protected_upns.push_back(upn);
    for (const auto& s : ctx.db.steps(ctx.incident.id))
        if (s.kind == incident::step_kind::remove_app_credentials && s.finished_at &&
            (!check.apps_contained_at || *s.finished_at > *check.apps_contained_at))
            check.apps_contained_at = s.finished_at;

    // The IR team's named locations, to tell a lockout of our own people.
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

    std::vector<verify::signin> signins;
    using graph::requests::sign_in_kind;
    for (const auto kind : {sign_in_kind::interactive, sign_in_kind::non_interactive, sign_in_kind::service_principal}) {
        graph::requests::sign_in_query q;
        q.kind = kind;
        q.since = check.contained_at;
        auto page = co_await graph::list_sign_ins(c, q);
        if (!page.ok()) co_return failure(page.call, "reading sign-in logs");
        for (const auto& s : page.items) {
            verify::signin v;
            v.at = s.created;
            v.source = source_of(kind);
            v.upn = lower(s.user_principal_name);
            v.app_id = lower(s.app_id);
            v.app_name = s.app_display_name;
            v.ip = s.ip_address;
            v.error_code = s.error_code;
            v.ca_status = s.conditional_access_status;
            signins.push_back(std::move(v));
        }
    }
    const auto result = verify::analyse(check, signins);
    nlohmann::json out = verify::to_json(result);
    out["sign_ins_read"] = signins.size();
    out["final"] = check.final_check;
    co_return step_outcome::success(out);
}

}  // namespace containd::runners::detail
