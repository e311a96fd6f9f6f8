#include "tenants.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/crypto.hpp"
#include "core/secret.hpp"
#include "graph/jwt.hpp"

namespace containd::daemon {
namespace {

std::string read_text_file(const std::string& path, const std::string& what) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + what + " " + path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

graph::credential load_credential(const config::tenant_config& t) {
    const auto& c = t.credential;
    if (c.secret_file) return graph::client_secret_credential{load_secret_file(*c.secret_file)};
    if (c.secret_env) return graph::client_secret_credential{load_secret_env(*c.secret_env)};
    graph::certificate_credential cert;
    cert.private_key_pem = load_secret_file(*c.private_key_file);
    cert.certificate_pem = read_text_file(*c.certificate_file, "the certificate file");
    return cert;
}

credential_identity identify(const graph::credential& credential) {
    credential_identity id;
    if (const auto* s = std::get_if<graph::client_secret_credential>(&credential)) {
        id.secret_hint = s->value.reveal().substr(0, 3);
        return id;
    }
    const auto& cert = std::get<graph::certificate_credential>(credential);
    id.certificate = true;
    try {
        id.sha1_thumbprint =
            base64url_decode(graph::certificate_signer(cert.private_key_pem, cert.certificate_pem).x5t())
                .value_or(std::string());
    } catch (const std::exception&) {
        // The token source refuses the same credential with a clear message.
    }
    return id;
}

}  // namespace

graph::proxy_settings proxy_for(const config::tenant_config& t) {
    graph::proxy_settings p = graph::proxy_settings::from_environment();
    if (t.proxy_url) {
        p.url = *t.proxy_url == "none" ? std::string() : *t.proxy_url;
        p.no_proxy = t.no_proxy;
    } else if (!t.no_proxy.empty()) {
        p.no_proxy.insert(p.no_proxy.end(), t.no_proxy.begin(), t.no_proxy.end());
    }
    if (t.proxy_credentials_file) p.credentials = load_secret_file(*t.proxy_credentials_file);
    return p;
}

tenant_clients::tenant_clients(boost::asio::any_io_executor executor, const std::vector<config::tenant_config>& tenants,
                               const clock_source& clock, const config::engine_settings& engine,
                               const std::string& extra_ca_pem) {
    const std::size_t max_concurrency = engine.max_concurrent_steps;
    for (const auto& t : tenants) {
        graph::tls_settings tls;
        tls.ca_file = t.ca_file.value_or("");
        tls.ca_pem = extra_ca_pem;
        graph::https_options http_options;
        http_options.max_idle_per_host = std::max<std::size_t>(8, max_concurrency);
        http_options.proxy = proxy_for(t);
        tenant_stack stack;
        stack.http = std::make_unique<graph::https_client>(executor, tls, http_options);
        graph::token_settings ts;
        ts.login_base = t.login_base;
        ts.tenant = t.directory_tenant;
        ts.client_id = t.client_id;
        auto credential = load_credential(t);
        stack.identity = identify(credential);
        stack.tokens = std::make_unique<graph::token_source>(*stack.http, clock, ts, std::move(credential));
        graph::graph_settings gs;
        gs.graph_base = t.graph_base;
        // A paced call must give up its wait well inside the engine's attempt timeout: then the
        // client answers 429 with Retry-After and the engine waits durably, instead of cutting
        // the attempt as a timeout whose outcome is unknown (and retrying behind the same queue).
        gs.pacing.max_wait = std::min(gs.pacing.max_wait, engine.attempt_timeout / 2);
        stack.client = std::make_unique<graph::client>(*stack.http, *stack.tokens, clock, gs);
        stacks_.emplace(t.settings.name, std::move(stack));
    }
}

tenant_clients::~tenant_clients() = default;

graph::client* tenant_clients::find(const std::string& tenant) const {
    auto it = stacks_.find(tenant);
    return it == stacks_.end() ? nullptr : it->second.client.get();
}

graph::token_source* tenant_clients::tokens(const std::string& tenant) const {
    auto it = stacks_.find(tenant);
    return it == stacks_.end() ? nullptr : it->second.tokens.get();
}

const credential_identity* tenant_clients::credential(const std::string& tenant) const {
    auto it = stacks_.find(tenant);
    return it == stacks_.end() ? nullptr : &it->second.identity;
}

std::string tenant_clients::metrics() const {
    std::string out =
        "# HELP containd_graph_calls_total Microsoft Graph HTTPS attempts by tenant and status (0: no HTTP answer).\n"
        "# TYPE containd_graph_calls_total counter\n";
    for (const auto& [name, stack] : stacks_)
        for (const auto& [status, n] : stack.client->calls_by_status())
            out += "containd_graph_calls_total{tenant=\"" + name + "\",status=\"" + std::to_string(status) + "\"} " +
                   std::to_string(n) + "\n";
    out +=
        "# HELP containd_graph_request_duration_seconds Microsoft Graph HTTPS attempts' round trip by tenant.\n"
        "# TYPE containd_graph_request_duration_seconds histogram\n";
    for (const auto& [name, stack] : stacks_)
        stack.client->latency().render(out, "containd_graph_request_duration_seconds", "tenant=\"" + name + "\"");
    return out;
}

}  // namespace containd::daemon
