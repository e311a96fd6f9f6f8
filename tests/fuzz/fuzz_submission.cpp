// The incident submission (POST /v1/incidents): body bytes -> JSON -> parse_submission, as the
// API handler does, then the planner for a configured tenant.
// Properties:
//  - an accepted request is canonical: its to_json() re-parses (with the same `now`, as the
//    engine does on resume) to the same request, and serializes strictly (valid UTF-8);
//  - accepted values satisfy what validation promises (UPNs valid, lower-case, unique; app ids
//    lower-case GUIDs, unique; IPs valid; tenant scope confirmed; accounts unless tenant-wide;
//    compromise_start at most 5 minutes ahead);
//  - a refused request lists at least one error, every error names a field, and no error
//    echoes more than 64 characters of input (field paths cut unknown keys; messages are fixed);
//  - parsing is deterministic; the planner never throws on an accepted request.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "core/ids.hpp"
#include "core/time.hpp"
#include "fuzz_check.hpp"
#include "incident/planner.hpp"
#include "incident/validation.hpp"

using namespace containd;
using containd::fuzz::shown;
using json = nlohmann::json;

namespace {

const time_point fixed_now = *parse_rfc3339("2026-03-12T09:00:00Z");

std::string canonical(const incident::incident_request& r) {
    return incident::to_json(r).dump(-1, ' ', false, json::error_handler_t::strict);
}

bool is_lower(const std::string& s) {
    for (const char c : s)
        if (c >= 'A' && c <= 'Z') return false;
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    const json body = json::parse(input, nullptr, false);
    if (body.is_discarded()) return 0;

    const auto first = incident::parse_submission(body, fixed_now);
    const auto again = incident::parse_submission(body, fixed_now);
    FUZZ_CHECK(first.index() == again.index(), "parse_submission is not deterministic");

    if (const auto* errors = std::get_if<std::vector<incident::field_error>>(&first)) {
        FUZZ_CHECK(!errors->empty(), "refused without an error");
        for (const auto& e : *errors) {
            FUZZ_CHECK(!e.message.empty(), "error without a message at %s", shown(e.field).c_str());
            // Field paths echo unknown keys cut at 64 characters (+ "..."); a path of ours adds
            // "accounts[9999].known_methods[63]" at most.
            FUZZ_CHECK(e.field.size() <= 64 + 3 + 40, "field path too long: %s", shown(e.field).c_str());
            // Messages are ours (fixed text): they never carry the input.
            FUZZ_CHECK(e.message.size() <= 200, "message too long: %s", shown(e.message).c_str());
        }
        return 0;
    }

    const auto& r = std::get<incident::incident_request>(first);
    FUZZ_CHECK(canonical(r) == canonical(std::get<incident::incident_request>(again)), "not deterministic");

    // Accepted values keep the promises of validation.hpp.
    FUZZ_CHECK(r.compromise_start <= fixed_now + minutes(5), "compromise_start in the future accepted");
    FUZZ_CHECK(r.scope != incident::scope_kind::tenant || r.confirm_tenant_wide, "unconfirmed tenant scope accepted");
    FUZZ_CHECK(r.scope == incident::scope_kind::tenant || !r.accounts.empty(), "no accounts accepted");
    std::set<std::string> upns;
    for (const auto& a : r.accounts) {
        FUZZ_CHECK(incident::is_valid_upn(a.upn) && is_lower(a.upn), "bad upn accepted: %s", shown(a.upn).c_str());
        FUZZ_CHECK(upns.insert(a.upn).second, "duplicate upn accepted: %s", shown(a.upn).c_str());
    }
    std::set<std::string> apps;
    for (const auto& a : r.malicious_apps) {
        FUZZ_CHECK(is_guid(a.app_id) && is_lower(a.app_id), "bad app id accepted: %s", shown(a.app_id).c_str());
        FUZZ_CHECK(apps.insert(a.app_id).second, "duplicate app accepted");
    }
    for (const auto& ip : r.attacker_ips)
        FUZZ_CHECK(incident::is_valid_ip(ip), "bad ip accepted: %s", shown(ip).c_str());

    // Canonical form: to_json -> parse gives the same request (the engine re-parses the stored
    // request with the incident's creation time as `now`).
    const std::string text = canonical(r);
    const json reparsed_doc = json::parse(text, nullptr, false);
    FUZZ_CHECK(!reparsed_doc.is_discarded(), "canonical JSON does not parse");
    const auto reparsed = incident::parse_submission(reparsed_doc, fixed_now);
    if (const auto* errors = std::get_if<std::vector<incident::field_error>>(&reparsed)) {
        FUZZ_CHECK(false, "canonical request refused on re-parse: %s: %s (canonical %s)",
                   shown((*errors)[0].field).c_str(), shown((*errors)[0].message).c_str(), shown(text, 400).c_str());
    }
    const std::string text2 = canonical(std::get<incident::incident_request>(reparsed));
    FUZZ_CHECK(text == text2, "round trip changed the request:\n  %s\n  %s", shown(text, 400).c_str(),
               shown(text2, 400).c_str());

    // The planner accepts or refuses, never throws, for a tenant like the walkthrough's.
    incident::tenant_settings tenant;
    tenant.name = "contoso";
    tenant.emergency_policy_id = "5e8a3c1f-0d2b-4f6e-9a7c-3b1d2e4f5a60";
    tenant.ir_named_locations = {"6d1f0a2b-3c4d-4e5f-8a9b-0c1d2e3f4a51"};
    tenant.break_glass_upns = {"breakglass1@contoso.com", "breakglass2@contoso.com"};
    const auto planned = incident::make_plan(r, tenant, {});
    if (const auto* p = std::get_if<incident::plan>(&planned)) {
        (void)incident::to_json(*p).dump(-1, ' ', false, json::error_handler_t::strict);
        int previous_stage = -1;
        for (std::size_t i = 0; i < p->steps.size(); ++i) {
            FUZZ_CHECK(p->steps[i].seq == static_cast<int>(i) + 1, "steps not numbered in order");
            FUZZ_CHECK(p->steps[i].stage >= previous_stage, "stage decreases at step %zu", i + 1);
            previous_stage = p->steps[i].stage;
        }
    } else {
        FUZZ_CHECK(!std::get<incident::refusal>(planned).reasons.empty(), "refusal without a reason");
    }
    return 0;
}
