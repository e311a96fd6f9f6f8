#pragma once
// The daemon's Graph side: for each configured tenant, an HTTPS client (with that tenant's
// trust anchors), a token source (its client credential) and a Graph client.

#include <map>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "graph/client.hpp"
#include "graph/https_client.hpp"
#include "graph/token_source.hpp"

namespace containd::daemon {

// The proxy for a tenant's calls: its proxy_url / no_proxy / proxy_credentials_file, else the
// environment's HTTPS_PROXY and NO_PROXY. Reads the credentials file now (throws naming it).
graph::proxy_settings proxy_for(const config::tenant_config& tenant);

// Which of its application's credentials containd presents, as Graph lists them: a secret by its
// `hint` (Graph shows the first three characters of every secret to readers of the application),
// a certificate by its SHA-1 thumbprint (keyCredential customKeyIdentifier, raw bytes here).
// Holds no more of the secret than Graph shows.
struct credential_identity {
    bool certificate = false;
    std::string secret_hint;
    std::string sha1_thumbprint;
};

class tenant_clients {
public:
    // Reads every credential (files or environment) now, so a missing secret stops start-up with
    // a clear message instead of failing the first incident. Throws std::runtime_error.
    // extra_ca_pem: an additional trust anchor (the embedded simulator's CA in the demo). The
    // engine settings size the connection pools and bound the pacer's waits (see .cpp).
    tenant_clients(boost::asio::any_io_executor executor, const std::vector<config::tenant_config>& tenants,
                   const clock_source& clock, const config::engine_settings& engine,
                   const std::string& extra_ca_pem = {});
    ~tenant_clients();

    graph::client* find(const std::string& tenant) const;
    graph::token_source* tokens(const std::string& tenant) const;
    const credential_identity* credential(const std::string& tenant) const;
    // Prometheus text: containd_graph_calls_total{tenant,status}.
    std::string metrics() const;

private:
    struct tenant_stack {
        std::unique_ptr<graph::https_client> http;
        std::unique_ptr<graph::token_source> tokens;
        std::unique_ptr<graph::client> client;
        credential_identity identity;
    };
    std::map<std::string, tenant_stack> stacks_;
};

}  // namespace containd::daemon
