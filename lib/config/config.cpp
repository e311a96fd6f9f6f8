#include "config/config.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/ids.hpp"
#include "core/net.hpp"
#include "core/text.hpp"
#include "core/time.hpp"
#include "incident/validation.hpp"

namespace containd::config {
namespace {

using json = nlohmann::json;

// Reads one JSON object, remembering which keys were used, so unknown keys can be reported.
class object_reader {
public:
    object_reader(const json& obj, std::string path, std::vector<config_error>& errors)
            : obj_(obj), path_(std::move(path)), errors_(errors) {
        if (!obj_.is_object()) error("", "must be an object");
    }
    ~object_reader() {
        if (!obj_.is_object()) return;
        for (const auto& [key, _] : obj_.items())
            if (!used_.count(key)) error(key, "unknown key");
    }

    std::string key(std::string_view name) const {
        return path_.empty() ? std::string(name) : path_ + "." + std::string(name);
    }
    void error(std::string_view name, std::string message) const {
        errors_.push_back({name.empty() ? path_ : key(name), std::move(message)});
    }

    const json* get(std::string_view name) {
        used_.insert(std::string(name));
        if (!obj_.is_object()) return nullptr;
        auto it = obj_.find(std::string(name));
        return it == obj_.end() || it->is_null() ? nullptr : &*it;
    }

    // A key that must not exist (inline secrets).
    void forbid(std::string_view name, std::string message) {
        if (get(name)) error(name, std::move(message));
    }

    void text(std::string_view name, std::string& out, bool required = false) {
        if (const json* v = get(name)) {
            if (v->is_string() && !v->get<std::string>().empty())
                out = v->get<std::string>();
            else
                error(name, "must be a non-empty string");
        } else if (required) {
            error(name, "is required");
        }
    }
    void text(std::string_view name, std::optional<std::string>& out) {
        if (const json* v = get(name)) {
            if (v->is_string() && !v->get<std::string>().empty())
                out = v->get<std::string>();
            else
                error(name, "must be a non-empty string");
        }
    }
    template <typename Int>
    void integer(std::string_view name, Int& out, std::int64_t min, std::int64_t max) {
        if (const json* v = get(name)) {
            if (v->is_number_integer() && v->get<std::int64_t>() >= min && v->get<std::int64_t>() <= max)
                out = static_cast<Int>(v->get<std::int64_t>());
            else
                error(name, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
        }
    }
    void seconds_value(std::string_view name, duration& out, double min, double max) {
        if (const json* v = get(name)) {
            if (v->is_number() && v->get<double>() >= min && v->get<double>() <= max)
                out = std::chrono::duration_cast<duration>(std::chrono::duration<double>(v->get<double>()));
            else
                error(name, "must be a number of seconds from " + std::to_string(min) + " to " + std::to_string(max));
        }
    }
    std::vector<std::string> strings(std::string_view name) {
        std::vector<std::string> out;
        if (const json* v = get(name)) {
            if (!v->is_array()) {
                error(name, "must be an array of strings");
                return out;
            }
            for (std::size_t i = 0; i < v->size(); ++i) {
                if ((*v)[i].is_string())
                    out.push_back((*v)[i].get<std::string>());
                else
                    error(std::string(name) + "[" + std::to_string(i) + "]", "must be a string");
            }
        }
        return out;
    }

private:
    const json& obj_;
    std::string path_;
    std::vector<config_error>& errors_;
    std::set<std::string> used_;
};

std::string resolve(const std::string& base, const std::string& path) {
    if (path.empty() || std::filesystem::path(path).is_absolute()) return path;
    return (std::filesystem::path(base) / path).lexically_normal().string();
}

bool is_https_base(const std::string& url) {
    return url.rfind("https://", 0) == 0 && url.size() > 8 && url.back() != '/';
}

bool is_hex64(const std::string& s) {
    if (s.size() != 64) return false;
    for (const char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

void parse_api(const json& doc, const std::string& base, api_settings& api, std::vector<config_error>& errors) {
    object_reader r(doc, "api", errors);
    r.text("bind_address", api.bind_address);
    r.integer("port", api.port, 0, 65535);
    r.text("tls_cert_file", api.tls_cert_file);
    r.text("tls_key_file", api.tls_key_file);
    if (api.tls_cert_file.has_value() != api.tls_key_file.has_value())
        r.error("tls_cert_file", "tls_cert_file and tls_key_file go together");
    for (auto* p : {&api.tls_cert_file, &api.tls_key_file})
        if (*p) *p = resolve(base, **p);
    std::string profile = "intermediate";
    r.text("tls_profile", profile);
    if (profile == "intermediate")
        api.tls = tls_profile::intermediate;
    else if (profile == "modern")
        api.tls = tls_profile::modern;
    else
        r.error("tls_profile", "must be intermediate (TLS 1.2+, ECDHE only) or modern (TLS 1.3 only)");
    if (const json* v = r.get("allow_plaintext_remote")) {
        if (v->is_boolean())
            api.allow_plaintext_remote = v->get<bool>();
        else
            r.error("allow_plaintext_remote", "must be true or false");
    }
    if (!api.tls_cert_file && !api.allow_plaintext_remote && !is_loopback_address(api.bind_address))
        r.error("bind_address",
                "'" + api.bind_address +
                    "' is not a loopback address and the API has no TLS (tls_cert_file, tls_key_file): bearer "
                    "tokens would cross the network in clear. Give TLS, bind to 127.0.0.1, or set "
                    "allow_plaintext_remote to true (e.g. behind a TLS-terminating proxy on the same host)");
    r.integer("body_limit", api.body_limit, 1024, 64 << 20);
    r.integer("header_limit", api.header_limit, 1024, 1 << 20);
    r.seconds_value("read_timeout_s", api.read_timeout, 0.1, 3600);
    r.seconds_value("idle_timeout_s", api.idle_timeout, 0.1, 86400);
    r.integer("max_connections", api.max_connections, 1, 100000);
    r.forbid("token", "bearer tokens are never configured: give their SHA-256 in tokens[].sha256");
    if (const json* tokens = r.get("tokens")) {
        if (!tokens->is_array())
            r.error("tokens", "must be an array");
        else
            for (std::size_t i = 0; i < tokens->size(); ++i) {
                object_reader t((*tokens)[i], "api.tokens[" + std::to_string(i) + "]", errors);
                api_token token;
                t.text("name", token.name, true);
                t.text("sha256", token.sha256_hex, true);
                if (!token.sha256_hex.empty() && !is_hex64(token.sha256_hex))
                    t.error("sha256", "must be 64 lower-case hexadecimal characters (the SHA-256 of the token)");
                t.forbid("token", "bearer tokens are never configured: give their SHA-256 in sha256");
                std::string role_name;
                t.text("role", role_name, true);
                if (role_name == "viewer")
                    token.granted = role::viewer;
                else if (role_name == "submitter")
                    token.granted = role::submitter;
                else if (role_name == "operator")
                    token.granted = role::operator_;
                else if (!role_name.empty())
                    t.error("role", "must be viewer, submitter or operator");
                if (const json* e = t.get("expires")) {
                    if (e->is_string()) token.expires = parse_rfc3339(e->get<std::string>());
                    if (!token.expires) t.error("expires", "must be an RFC 3339 timestamp, e.g. 2026-12-31T23:59:59Z");
                }
                for (std::size_t j = 0; j < api.tokens.size(); ++j)
                    if (!token.sha256_hex.empty() && api.tokens[j].sha256_hex == token.sha256_hex)
                        t.error("sha256", "a duplicate of api.tokens[" + std::to_string(j) +
                                              "].sha256: one token, one name and one role");
                api.tokens.push_back(std::move(token));
            }
    }
}

void parse_tenant(const json& doc, const std::string& path, const std::string& base, tenant_config& t,
                  std::vector<config_error>& errors) {
    object_reader r(doc, path, errors);
    r.text("name", t.settings.name, true);
    // Submissions name the tenant with the same characters (incident validation), and the name
    // appears in metric labels and log fields: nothing that needs quoting.
    const bool name_ok =
        t.settings.name.size() <= 64 && std::all_of(t.settings.name.begin(), t.settings.name.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
        });
    if (!name_ok) errors.push_back({path + ".name", "must be 1 to 64 letters, digits, '.', '_' or '-'"});
    r.text("directory_tenant", t.directory_tenant, true);
    r.text("login_base", t.login_base);
    r.text("graph_base", t.graph_base);
    if (!is_https_base(t.login_base)) r.error("login_base", "must be an https:// URL without a trailing slash");
    if (!is_https_base(t.graph_base)) r.error("graph_base", "must be an https:// URL without a trailing slash");
    r.text("client_id", t.client_id, true);
    if (!t.client_id.empty() && !is_guid(t.client_id)) r.error("client_id", "must be the application (client) id GUID");
    r.forbid("client_secret", "secrets never go in the config file: use client_secret_file or client_secret_env");
    r.forbid("private_key", "keys never go in the config file: use private_key_file");
    r.text("client_secret_file", t.credential.secret_file);
    r.text("client_secret_env", t.credential.secret_env);
    r.text("certificate_file", t.credential.certificate_file);
    r.text("private_key_file", t.credential.private_key_file);
    r.text("ca_file", t.ca_file);
    r.text("proxy_url", t.proxy_url);
    if (t.proxy_url && *t.proxy_url != "none" && t.proxy_url->rfind("http://", 0) != 0)
        r.error("proxy_url", "must be http://host:port (CONNECT is spoken in clear to the proxy) or none");
    r.forbid("proxy_password", "secrets never go in the config file: use proxy_credentials_file");
    r.text("proxy_credentials_file", t.proxy_credentials_file);
    t.no_proxy = r.strings("no_proxy");
    const int sources = (t.credential.secret_file ? 1 : 0) + (t.credential.secret_env ? 1 : 0) +
                        (t.credential.certificate_file ? 1 : 0);
    if (sources != 1)
        r.error("client_secret_file",
                "give exactly one credential: client_secret_file, client_secret_env, or certificate_file with "
                "private_key_file");
    if (t.credential.certificate_file.has_value() != t.credential.private_key_file.has_value())
        r.error("certificate_file", "certificate_file and private_key_file go together");
    for (auto* p : {&t.credential.secret_file, &t.credential.certificate_file, &t.credential.private_key_file,
                    &t.ca_file, &t.proxy_credentials_file})
        if (*p) *p = resolve(base, **p);

    r.text("emergency_policy_id", t.settings.emergency_policy_id);
    if (!t.settings.emergency_policy_id.empty() && !is_guid(t.settings.emergency_policy_id))
        r.error("emergency_policy_id", "must be the policy's GUID");
    t.settings.ir_named_locations = r.strings("ir_named_locations");
    for (std::size_t i = 0; i < t.settings.ir_named_locations.size(); ++i)
        if (!is_guid(t.settings.ir_named_locations[i]))
            r.error("ir_named_locations[" + std::to_string(i) + "]", "must be a named location's GUID");
    t.settings.break_glass_upns = r.strings("break_glass_accounts");
    for (std::size_t i = 0; i < t.settings.break_glass_upns.size(); ++i) {
        auto& upn = t.settings.break_glass_upns[i];
        upn = lower(upn);
        if (!incident::is_valid_upn(upn))
            r.error("break_glass_accounts[" + std::to_string(i) + "]", "must be a user principal name");
    }
    if (const json* schedule = r.get("verification_schedule_s")) {
        if (!schedule->is_array() || schedule->empty() || schedule->size() > 10) {
            r.error("verification_schedule_s", "must be an array of 1 to 10 increasing offsets in seconds");
        } else {
            t.settings.verification_offsets.clear();
            double previous = 0;
            for (const auto& v : *schedule) {
                if (!v.is_number() || v.get<double>() <= previous || v.get<double>() > 7 * 24 * 3600) {
                    r.error("verification_schedule_s", "offsets must be positive, increasing and at most a week");
                    break;
                }
                previous = v.get<double>();
                t.settings.verification_offsets.push_back(
                    std::chrono::duration_cast<duration>(std::chrono::duration<double>(previous)));
            }
        }
    }
    r.integer("tap_threshold", t.settings.tap_threshold, 0, 100000);
    r.seconds_value("ingestion_allowance_s", t.settings.ingestion_allowance, 0, 24 * 3600);
    r.seconds_value("revocation_propagation_s", t.settings.revocation_propagation, 0, 24 * 3600);
    r.seconds_value("max_token_lifetime_s", t.settings.max_token_lifetime, 1, 7 * 24 * 3600);
}

void parse_notify(const json& doc, const std::string& base, notify_settings& n, std::vector<config_error>& errors) {
    object_reader r(doc, "notify", errors);
    r.seconds_value("poll_interval_s", n.poll_interval, 0.01, 60);
    r.seconds_value("retry_first_s", n.retry_first, 0.01, 3600);
    r.seconds_value("retry_max_s", n.retry_max, 0.01, 86400);
    r.seconds_value("give_up_after_s", n.give_up_after, 1, 30 * 86400);
    r.seconds_value("timeout_s", n.timeout, 0.1, 300);
    const json* subs = r.get("subscribers");
    if (!subs) return;
    if (!subs->is_array()) return r.error("subscribers", "must be an array");
    std::set<std::string> names;
    for (std::size_t i = 0; i < subs->size(); ++i) {
        const std::string path = "notify.subscribers[" + std::to_string(i) + "]";
        object_reader s((*subs)[i], path, errors);
        notify_subscriber sub;
        s.text("name", sub.name, true);
        if (!sub.name.empty() && !names.insert(sub.name).second) s.error("name", "duplicate subscriber name");
        s.text("url", sub.url);
        s.text("url_file", sub.url_file);
        if (sub.url.has_value() == sub.url_file.has_value()) s.error("url", "give exactly one of url and url_file");
        if (sub.url && (sub.url->rfind("https://", 0) != 0 || sub.url->size() <= 8))
            s.error("url", "must be an https:// URL");
        s.text("format", sub.format);
        if (sub.format != "json" && sub.format != "teams" && sub.format != "slack")
            s.error("format", "must be json, teams or slack");
        s.forbid("secret", "secrets never go in the config file: use secret_file");
        s.text("secret_file", sub.secret_file);
        if (sub.format == "json" && !sub.secret_file) s.error("secret_file", "is required for the json format");
        sub.events = s.strings("events");
        for (std::size_t k = 0; k < sub.events.size(); ++k)
            if (std::none_of(std::begin(notification_kinds), std::end(notification_kinds),
                             [&](const char* kind) { return sub.events[k] == kind; }))
                s.error("events[" + std::to_string(k) + "]",
                        "must be one of accepted, contained, attention_raised, approval_waiting, "
                        "verification_verdict, released, tenant_health");
        sub.tenants = s.strings("tenants");
        s.text("ca_file", sub.ca_file);
        for (auto* p : {&sub.url_file, &sub.secret_file, &sub.ca_file})
            if (*p) *p = resolve(base, **p);
        n.subscribers.push_back(std::move(sub));
    }
}

}  // namespace

std::string_view to_string(tls_profile p) { return p == tls_profile::modern ? "modern" : "intermediate"; }

bool is_loopback_address(const std::string& address) { return is_loopback_host(address); }

std::vector<std::string> unsafe_file_permissions(const daemon_config& config, const std::string& config_path) {
    namespace fs = std::filesystem;
    std::vector<std::string> out;
    const auto mode_of = [](const std::string& path) -> std::optional<fs::perms> {
        std::error_code ec;
        const auto st = fs::status(path, ec);
        if (ec || !fs::exists(st)) return std::nullopt;
        return st.permissions();
    };
    const auto octal = [](fs::perms p) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(p) & 07777u);
        return std::string(buf);
    };
    constexpr auto none = fs::perms::none;
    if (const auto m = mode_of(config_path)) {
        if ((*m & (fs::perms::group_write | fs::perms::others_write)) != none)
            out.push_back("the configuration file " + config_path + " is writable by group or others (mode " +
                          octal(*m) + "): chmod go-w " + config_path);
    }
    std::vector<std::pair<std::string, std::string>> secrets;  // what, path
    secrets.emplace_back("the vault key", config.vault_key_file);
    if (config.api.tls_key_file) secrets.emplace_back("the API's TLS private key", *config.api.tls_key_file);
    for (const auto& t : config.tenants) {
        if (t.credential.secret_file)
            secrets.emplace_back("tenant " + t.settings.name + "'s client secret file", *t.credential.secret_file);
        if (t.credential.private_key_file)
            secrets.emplace_back("tenant " + t.settings.name + "'s private key file", *t.credential.private_key_file);
        if (t.proxy_credentials_file)
            secrets.emplace_back("tenant " + t.settings.name + "'s proxy credentials file", *t.proxy_credentials_file);
    }
    for (std::size_t i = 0; i < config.notify.subscribers.size(); ++i) {
        const auto& sub = config.notify.subscribers[i];
        const std::string who = "notify.subscribers[" + std::to_string(i) + "]";
        if (sub.secret_file) secrets.emplace_back(who + "'s webhook key file", *sub.secret_file);
        if (sub.url_file) secrets.emplace_back(who + "'s webhook URL file", *sub.url_file);
    }
    for (const auto& [what, path] : secrets) {
        const auto m = mode_of(path);
        if (!m) continue;  // a missing file is reported where it is read (the vault key is created 0600)
        if ((*m & (fs::perms::others_read | fs::perms::others_write | fs::perms::group_write)) != none)
            out.push_back(what + " " + path + " is readable by others or writable by group or others (mode " +
                          octal(*m) + "): chmod 600 " + path);
    }
    return out;
}

std::string_view to_string(role r) {
    switch (r) {
    case role::viewer: return "viewer";
    case role::submitter: return "submitter";
    case role::operator_: return "operator";
    }
    return "viewer";
}

load_result parse_config(const json& doc, const std::string& base) {
    std::vector<config_error> errors;
    daemon_config c;
    {
        object_reader r(doc, "", errors);
        r.text("database", c.database_path);
        c.database_path = resolve(base, c.database_path);
        r.text("vault_key_file", c.vault_key_file);
        c.vault_key_file = resolve(base, c.vault_key_file);
        if (const json* log = r.get("log")) {
            object_reader l(*log, "log", errors);
            l.text("file", c.log.file);
            if (c.log.file) c.log.file = resolve(base, *c.log.file);
            l.text("level", c.log.level);
            static const std::set<std::string> levels = {"trace", "debug", "info", "warn", "error"};
            if (!levels.count(c.log.level)) l.error("level", "must be trace, debug, info, warn or error");
        }
        if (const json* api = r.get("api")) parse_api(*api, base, c.api, errors);
        if (const json* engine = r.get("engine")) {
            object_reader e(*engine, "engine", errors);
            e.integer("max_concurrent_steps", c.engine.max_concurrent_steps, 1, 4096);
            e.seconds_value("attempt_timeout_s", c.engine.attempt_timeout, 0.01, 3600);
            e.seconds_value("step_deadline_s", c.engine.step_deadline, 1, 7 * 24 * 3600);
        }
        if (const json* sim = r.get("simulator")) {
            object_reader s(*sim, "simulator", errors);
            simulator_settings settings;
            s.text("scenario", settings.scenario_file, true);
            settings.scenario_file = resolve(base, settings.scenario_file);
            if (const json* scale = s.get("time_scale")) {
                if (scale->is_number() && scale->get<double>() >= 1 && scale->get<double>() <= 100000)
                    settings.time_scale = scale->get<double>();
                else
                    s.error("time_scale", "must be a number from 1 to 100000");
            }
            if (const json* seed = s.get("seed")) {
                if (seed->is_number_unsigned() || (seed->is_number_integer() && seed->get<std::int64_t>() >= 0))
                    settings.seed = seed->get<std::uint64_t>();
                else
                    s.error("seed", "must be a whole number from 0");
            }
            c.simulator = settings;
        }
        if (const json* notify = r.get("notify")) parse_notify(*notify, base, c.notify, errors);
        const json* tenants = r.get("tenants");
        if (!tenants || !tenants->is_array() || tenants->empty()) {
            r.error("tenants", "must be a non-empty array of tenants");
        } else {
            std::set<std::string> names;
            for (std::size_t i = 0; i < tenants->size(); ++i) {
                tenant_config t;
                const std::string path = "tenants[" + std::to_string(i) + "]";
                parse_tenant((*tenants)[i], path, base, t, errors);
                if (!t.settings.name.empty() && !names.insert(t.settings.name).second)
                    errors.push_back({path + ".name", "duplicate tenant name"});
                c.tenants.push_back(std::move(t));
            }
        }
    }
    if (!errors.empty()) return errors;
    return c;
}

load_result load_config_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) return std::vector<config_error>{{"", "cannot read the configuration file " + path}};
    std::stringstream buffer;
    buffer << in.rdbuf();
    try {
        const auto doc = json::parse(buffer.str());
        const auto base = std::filesystem::absolute(path).parent_path().string();
        return parse_config(doc, base);
    } catch (const json::parse_error& e) {
        return std::vector<config_error>{
            {"", "the configuration is not valid JSON (byte " + std::to_string(e.byte) + ")"}};
    }
}

std::string describe(const std::vector<config_error>& errors) {
    std::string out;
    for (const auto& e : errors) out += (e.key.empty() ? std::string("(top level)") : e.key) + ": " + e.message + "\n";
    return out;
}

}  // namespace containd::config
