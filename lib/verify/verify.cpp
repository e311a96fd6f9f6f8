#include "verify/verify.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <set>

#include "core/time.hpp"

namespace containd::verify {
namespace {

bool contains(const std::vector<std::string>& list, const std::string& value) {
    return std::find(list.begin(), list.end(), value) != list.end();
}

// Parses an address into 16 bytes (IPv4 mapped into ::ffff:0:0/96) and its family's bit offset.
std::optional<std::array<unsigned char, 16>> parse_address(const std::string& ip, int& offset_bits) {
    std::array<unsigned char, 16> out{};
    in_addr v4{};
    if (inet_pton(AF_INET, ip.c_str(), &v4) == 1) {
        out[10] = out[11] = 0xff;
        std::memcpy(out.data() + 12, &v4, 4);
        offset_bits = 96;
        return out;
    }
    in6_addr v6{};
    if (inet_pton(AF_INET6, ip.c_str(), &v6) == 1) {
        std::memcpy(out.data(), &v6, 16);
        offset_bits = 0;
        return out;
    }
    return std::nullopt;
}

std::string minutes_after(time_point t, time_point contained_at) {
    const auto m = std::chrono::duration_cast<std::chrono::seconds>(t - contained_at).count();
    return "+" + std::to_string(m / 60) + "m" + (m % 60 ? std::to_string(m % 60) + "s" : "");
}

}  // namespace

bool ip_in_ranges(const std::string& ip, const std::vector<std::string>& cidrs) {
    int ip_offset = 0;
    const auto address = parse_address(ip, ip_offset);
    if (!address) return false;
    for (const auto& cidr : cidrs) {
        const auto slash = cidr.find('/');
        int range_offset = 0;
        const auto network = parse_address(cidr.substr(0, slash), range_offset);
        if (!network || range_offset != ip_offset) continue;
        int prefix = range_offset == 96 ? 32 : 128;
        if (slash != std::string::npos) {
            try {
                prefix = std::stoi(cidr.substr(slash + 1));
            } catch (...) {
                continue;
            }
        }
        if (prefix < 0 || prefix > (range_offset == 96 ? 32 : 128)) continue;
        int bits = range_offset + prefix;
        bool match = true;
        for (int i = 0; i < 16 && bits > 0 && match; ++i, bits -= 8) {
            const unsigned char mask = bits >= 8 ? 0xff : static_cast<unsigned char>(0xff << (8 - bits));
            match = ((*address)[i] & mask) == ((*network)[i] & mask);
        }
        if (match) return true;
    }
    return false;
}

check_result analyse(const check_context& ctx, const std::vector<signin>& signins) {
    check_result r;
    std::map<std::pair<std::string, std::string>, finding> by_subject_ip;
    std::set<std::string> causes;
    std::vector<std::string> serious, informational;
    std::map<std::string, time_point> last_user_success;  // per compromised account
    // Apps the SOC did not name that signed in as their service principal from an attacker IP.
    struct unreported {
        std::string name;
        int successes = 0;
        time_point last{};
        std::set<std::string> ips;
    };
    std::map<std::string, unreported> unreported_apps;

    for (const auto& s : signins) {
        if (s.at < ctx.contained_at) continue;
        const bool is_app = s.source == signin_source::service_principal;
        const bool compromised_user = !is_app && contains(ctx.upns, s.upn);
        const bool malicious_app = contains(ctx.app_ids, s.app_id);
        const bool ir_team = !is_app && s.error_code != 0 &&
                             (ip_in_ranges(s.ip, ctx.ir_cidrs) || contains(ctx.protected_upns, s.upn));

        if (ir_team && s.error_code == 53003 && !compromised_user) {
            causes.insert("ir_lockout");
            serious.push_back("the IR team is blocked: " + (s.upn.empty() ? s.ip : s.upn) + " from " + s.ip +
                              " failed with 53003 at " + format_rfc3339(s.at) +
                              "; the policy's exclusions are wrong, fix them now");
            continue;
        }
        // An app nobody reported, succeeding from a known attacker IP: the attacker's second app
        // (or a secret on an app we were not told about). Nothing we did touches it: revocation
        // and the user block do not apply to service principals, and only the named apps lost
        // their credentials (DOMAIN.md step 7, "persistence ... unknown app").
        const bool unreported_app = is_app && !malicious_app && contains(ctx.attacker_ips, s.ip);
        if (!compromised_user && !(is_app && (malicious_app || unreported_app))) continue;

        const std::string subject = is_app ? "app:" + s.app_id : s.upn;
        auto& f = by_subject_ip[{subject, s.ip}];
        f.subject = subject;
        f.ip = s.ip;
        if (s.error_code == 0) {
            ++f.successes;
            if (!f.last_success || s.at > *f.last_success) f.last_success = s.at;
        } else {
            ++f.failures;
            const std::string code = std::to_string(s.error_code);
            if (!contains(f.fail_codes, code)) f.fail_codes.push_back(code);
            if (s.error_code == 53003 && contains(ctx.attacker_ips, s.ip)) causes.insert("block_works");
            continue;
        }

        if (is_app) {
            if (unreported_app) {
                auto& u = unreported_apps[s.app_id];
                u.name = s.app_name;
                ++u.successes;
                if (s.at > u.last) u.last = s.at;
                u.ips.insert(s.ip);
            } else if (ctx.apps_contained_at && s.at > *ctx.apps_contained_at) {
                causes.insert("persistence");
                serious.push_back("persistence: service principal " + s.app_id + " (" + s.app_name +
                                  ") signed in from " + s.ip + " at " + format_rfc3339(s.at) +
                                  " after its credentials were removed: it holds a credential we did not remove");
            }
            continue;
        }
        if (s.ca_status == "notApplied") {
            causes.insert("scope_gap");
            serious.push_back("policy scope gap: " + s.upn + " signed in to " + s.app_name + " from " + s.ip + " at " +
                              format_rfc3339(s.at) +
                              " with conditionalAccessStatus notApplied: the emergency policy does not cover it");
            continue;
        }
        auto& last = last_user_success[s.upn];
        if (s.at > last) last = s.at;
    }

    for (const auto& [app_id, u] : unreported_apps) {
        std::string ips;
        for (const auto& ip : u.ips) ips += (ips.empty() ? "" : ", ") + ip;
        causes.insert("persistence");
        serious.push_back("persistence: service principal " + app_id + " (" + u.name +
                          "), not named in the incident, signed in " + std::to_string(u.successes) +
                          " time(s) since containment from attacker IP " + ips + ", last at " + format_rfc3339(u.last) +
                          ": the attacker holds an app or a secret we were not told about; add it to the malicious apps");
    }
    for (const auto& [upn, last] : last_user_success) {
        const auto after = last - ctx.contained_at;
        if (after <= minutes(15)) {
            causes.insert("cae");
            informational.push_back(upn + ": the attacker's last success was at " + minutes_after(last, ctx.contained_at) +
                                    "; continuous access evaluation cut the sessions");
        } else if (after <= minutes(60)) {
            causes.insert("non_cae_token");
            informational.push_back(upn + ": successes continued until " + minutes_after(last, ctx.contained_at) +
                                    ": a non-CAE application held an unexpired token" +
                                    (ctx.offset >= minutes(60) ? " and it has expired since" : "; it ends when the token expires"));
        } else {
            causes.insert("persistence");
            serious.push_back("persistence: " + upn + " still signed in successfully at " +
                              minutes_after(last, ctx.contained_at) +
                              " after containment; revocation does not affect this access (a second secret or an unknown app)");
        }
    }
    if (causes.count("block_works"))
        informational.push_back("the attacker's sign-ins from known IPs fail with 53003: the block works");

    for (auto& [_, f] : by_subject_ip) {
        std::sort(f.fail_codes.begin(), f.fail_codes.end());
        r.findings.push_back(f);
    }
    r.diagnosis = serious;
    r.diagnosis.insert(r.diagnosis.end(), informational.begin(), informational.end());
    r.causes.assign(causes.begin(), causes.end());
    r.verdict = serious.empty() ? "contained" : "attention";
    return r;
}

nlohmann::json to_json(const check_result& r) {
    nlohmann::json findings = nlohmann::json::array();
    for (const auto& f : r.findings) {
        nlohmann::json j = {{"subject", f.subject}, {"ip", f.ip},           {"successes", f.successes},
                            {"failures", f.failures}, {"fail_codes", f.fail_codes}};
        if (f.subject.rfind("app:", 0) != 0) j["upn"] = f.subject;
        if (f.last_success) j["last_success"] = format_rfc3339(*f.last_success);
        findings.push_back(std::move(j));
    }
    return {{"verdict", r.verdict}, {"findings", findings}, {"diagnosis", r.diagnosis}, {"causes", r.causes}};
}

}  // namespace containd::verify
