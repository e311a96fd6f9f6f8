// The daemon's configuration file: bytes -> JSON -> parse_config (load_config_file minus the read).
// Properties:
//  - deterministic; a refusal lists at least one error, each with a message;
//  - an accepted configuration keeps the promises of config.hpp: at least one tenant, unique valid
//    names, exactly one credential source (certificate with its key), GUID client ids, https
//    bases without a trailing slash, relative paths resolved to absolute ones under the config
//    directory, lower-case valid break-glass UPNs, increasing verification offsets up to a week,
//    token hashes of 64 lower-case hex digits;
//  - inline secrets are refused and never echoed: the same document with a marker client_secret,
//    private_key and api token is refused, naming each key, and describe() holds no marker.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "core/ids.hpp"
#include "fuzz_check.hpp"
#include "incident/validation.hpp"

using namespace containd;
using containd::fuzz::shown;
using json = nlohmann::json;

namespace {

constexpr const char* base_dir = "/fuzz/etc";
constexpr const char* marker = "FUZZ-MARKER-SECRET-7f3a9c";

bool https_base(const std::string& s) { return s.rfind("https://", 0) == 0 && s.size() > 8 && s.back() != '/'; }

void check_path(const std::optional<std::string>& p, const char* what) {
    if (p) FUZZ_CHECK(!p->empty() && p->front() == '/', "%s not absolute: %s", what, shown(*p).c_str());
}

bool has_key(const std::vector<config::config_error>& errors, const std::string& key) {
    for (const auto& e : errors)
        if (e.key == key) return true;
    return false;
}

void check_accepted(const config::daemon_config& c) {
    FUZZ_CHECK(!c.tenants.empty(), "accepted without tenants");
    FUZZ_CHECK(c.database_path.front() == '/', "database path not absolute: %s", shown(c.database_path).c_str());
    FUZZ_CHECK(c.vault_key_file.front() == '/', "vault key path not absolute");
    check_path(c.log.file, "log.file");
    std::set<std::string> names;
    for (const auto& t : c.tenants) {
        const auto& n = t.settings.name;
        FUZZ_CHECK(!n.empty() && n.size() <= 64, "bad tenant name length");
        for (const char ch : n)
            FUZZ_CHECK(std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-',
                       "bad tenant name: %s", shown(n).c_str());
        FUZZ_CHECK(names.insert(n).second, "duplicate tenant accepted: %s", shown(n).c_str());
        FUZZ_CHECK(is_guid(t.client_id), "client_id not a GUID: %s", shown(t.client_id).c_str());
        FUZZ_CHECK(!t.directory_tenant.empty(), "empty directory_tenant");
        FUZZ_CHECK(https_base(t.login_base) && https_base(t.graph_base), "bad base URL");
        const auto& cr = t.credential;
        const int sources = (cr.secret_file ? 1 : 0) + (cr.secret_env ? 1 : 0) + (cr.certificate_file ? 1 : 0);
        FUZZ_CHECK(sources == 1, "%d credential sources accepted", sources);
        FUZZ_CHECK(cr.certificate_file.has_value() == cr.private_key_file.has_value(), "certificate without key");
        check_path(cr.secret_file, "client_secret_file");
        check_path(cr.certificate_file, "certificate_file");
        check_path(cr.private_key_file, "private_key_file");
        check_path(t.ca_file, "ca_file");
        if (!t.settings.emergency_policy_id.empty())
            FUZZ_CHECK(is_guid(t.settings.emergency_policy_id), "bad policy id");
        for (const auto& l : t.settings.ir_named_locations) FUZZ_CHECK(is_guid(l), "bad location id");
        for (const auto& u : t.settings.break_glass_upns) {
            FUZZ_CHECK(incident::is_valid_upn(u), "bad break-glass upn accepted: %s", shown(u).c_str());
            for (const char ch : u) FUZZ_CHECK(!(ch >= 'A' && ch <= 'Z'), "break-glass upn not lower-case");
        }
        const auto& offs = t.settings.verification_offsets;
        FUZZ_CHECK(!offs.empty() && offs.size() <= 10, "bad verification schedule size");
        for (std::size_t i = 0; i < offs.size(); ++i) {
            FUZZ_CHECK(offs[i] > duration::zero() && offs[i] <= std::chrono::hours(24 * 7), "offset out of range");
            if (i) FUZZ_CHECK(offs[i] > offs[i - 1], "offsets not increasing");
        }
    }
    for (const auto& tok : c.api.tokens) {
        FUZZ_CHECK(!tok.name.empty(), "token without a name");
        FUZZ_CHECK(tok.sha256_hex.size() == 64, "bad token hash");
        for (const char ch : tok.sha256_hex)
            FUZZ_CHECK((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'), "bad token hash digit");
    }
    FUZZ_CHECK(c.api.body_limit >= 1024 && c.api.header_limit >= 1024 && c.api.max_connections >= 1, "api limits");
    FUZZ_CHECK(c.api.read_timeout > duration::zero() && c.api.idle_timeout > duration::zero(), "api timeouts");
    FUZZ_CHECK(c.engine.max_concurrent_steps >= 1 && c.engine.attempt_timeout > duration::zero(), "engine settings");
    if (c.simulator) FUZZ_CHECK(c.simulator->time_scale >= 1, "time_scale below 1");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    const json doc = json::parse(input, nullptr, false);
    if (doc.is_discarded()) return 0;

    const auto result = config::parse_config(doc, base_dir);
    const auto again = config::parse_config(doc, base_dir);
    FUZZ_CHECK(result.index() == again.index(), "parse_config is not deterministic");
    if (const auto* errors = std::get_if<std::vector<config::config_error>>(&result)) {
        FUZZ_CHECK(!errors->empty(), "refused without an error");
        for (const auto& e : *errors)
            FUZZ_CHECK(!e.message.empty(), "error without a message: %s", shown(e.key).c_str());
        FUZZ_CHECK(config::describe(*errors) == config::describe(std::get<std::vector<config::config_error>>(again)),
                   "errors not deterministic");
    } else {
        check_accepted(std::get<config::daemon_config>(result));
    }

    // Inline secrets: refused by key, never echoed.
    if (input.find(marker) != std::string::npos || !doc.is_object()) return 0;
    json with_secrets = doc;
    std::vector<std::string> expected_keys;
    if (auto t = with_secrets.find("tenants");
        t != with_secrets.end() && t->is_array() && !t->empty() && (*t)[0].is_object()) {
        (*t)[0]["client_secret"] = marker;
        (*t)[0]["private_key"] = std::string("-----BEGIN PRIVATE KEY-----\n") + marker;
        expected_keys = {"tenants[0].client_secret", "tenants[0].private_key"};
    }
    if (auto a = with_secrets.find("api"); a != with_secrets.end() && a->is_object()) {
        (*a)["token"] = marker;
        expected_keys.push_back("api.token");
    }
    if (expected_keys.empty()) return 0;
    const auto refused = config::parse_config(with_secrets, base_dir);
    const auto* errors = std::get_if<std::vector<config::config_error>>(&refused);
    FUZZ_CHECK(errors != nullptr, "a configuration with inline secrets was accepted");
    for (const auto& key : expected_keys) FUZZ_CHECK(has_key(*errors, key), "no error for %s", key.c_str());
    const std::string text = config::describe(*errors);
    FUZZ_CHECK(text.find(marker) == std::string::npos, "an inline secret is echoed: %s", shown(text, 400).c_str());
    return 0;
}
