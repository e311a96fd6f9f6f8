#pragma once
// The Contoso tenant and the SOC's incident as the engine-level tests use them (no simulator):
// tenant settings and the seeds' walkthrough submission. tests/support/walkthrough.hpp builds the
// simulator-backed variant from the same submission.

#include <string>

#include <nlohmann/json.hpp>

#include "incident/planner.hpp"

namespace containd::testing {

inline incident::tenant_settings contoso_settings() {
    incident::tenant_settings t;
    t.name = "contoso";
    t.emergency_policy_id = "5a2f0c7e-1c3b-4a8e-9d6f-0b1e2c3d4e5f";
    t.ir_named_locations = {"7b4c1e2d-0000-4000-8000-00000000a11c"};
    t.break_glass_upns = {"breakglass1@contoso.com", "breakglass2@contoso.com"};
    return t;
}

// The seeds' walkthrough incident: finance director (an Exchange admin), AP clerk, procurement
// manager, CFO assistant, the "Document Sync Pro" app.
inline nlohmann::json walkthrough_submission(const std::string& external_ref = "SENTINEL-4711") {
    return {{"tenant", "contoso"},
            {"external_ref", external_ref},
            {"title", "BEC in finance"},
            {"compromise_start", "2026-03-12T00:00:00Z"},
            {"accounts",
             {{{"upn", "finance.director@contoso.com"}},
              {{"upn", "ap.clerk@contoso.com"}},
              {{"upn", "procurement.mgr@contoso.com"}},
              {{"upn", "cfo.assistant@contoso.com"}}}},
            {"attacker_ips", {"203.0.113.66"}},
            {"malicious_apps", {{{"app_id", "3f1b2a9c-8d7e-4c6b-a5f4-e3d2c1b0a987"}}}}};
}

}  // namespace containd::testing
