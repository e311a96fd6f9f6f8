// The client-credentials token endpoint (login.microsoftonline.com) and Graph's bearer check.
#include <algorithm>
#include <cstring>

#include <openssl/crypto.h>

#include "core/crypto.hpp"
#include "core/ids.hpp"
#include "core/text.hpp"
#include "core/time.hpp"
#include "sim/tenant.hpp"
#include "sim/tls.hpp"

namespace containd::sim {
namespace {

constexpr auto assertion_skew = minutes(5);  // Entra tolerates about five minutes of clock skew

// "2016-01-09 02:02:12Z"
std::string aad_timestamp(time_point t) {
    auto s = format_rfc3339(t);
    return s.substr(0, 10) + " " + s.substr(11, 8) + "Z";
}

bool equal_ct(const std::string& a, const std::string& b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

http_response tenant::token_error(int status, const std::string& error, int code, const std::string& description,
                                  time_point now) const {
    const std::string trace = const_cast<tenant*>(this)->new_guid();
    const std::string corr = const_cast<tenant*>(this)->new_guid();
    const std::string ts = aad_timestamp(now);
    json body = {{"error", error},
                 {"error_description", "AADSTS" + std::to_string(code) + ": " + description + "\r\nTrace ID: " + trace +
                                           "\r\nCorrelation ID: " + corr + "\r\nTimestamp: " + ts},
                 {"error_codes", json::array({code})},
                 {"timestamp", ts},
                 {"trace_id", trace},
                 {"correlation_id", corr},
                 {"error_uri", "https://login.microsoftonline.com/error?code=" + std::to_string(code)}};
    http_response r;
    r.status = status;
    r.headers = {{"Content-Type", "application/json; charset=utf-8"},
                 {"Cache-Control", "no-store, no-cache"},
                 {"Pragma", "no-cache"},
                 {"x-ms-request-id", trace}};
    r.body = body.dump();
    return r;
}

http_response tenant::token_request(const std::string& tenant_segment, const std::string& method,
                                    const http_request& req, time_point now, std::string& client_id_out) {
    advance(now);
    if (method != "POST")
        return token_error(400, "invalid_request", 900561,
                           "The endpoint only accepts POST requests. Received a " + method + " request.", now);
    const auto ts = lower(tenant_segment);
    if (ts == "common" || ts == "consumers" || ts == "organizations")
        return token_error(400, "invalid_request", 9001023,
                           "The grant type isn't supported over the /common or /consumers endpoints. Please use the "
                           "/organizations or tenant-specific endpoint.",
                           now);
    if (!is_tenant_name(tenant_segment))
        return token_error(400, "invalid_request", 90002,
                           "Tenant '" + tenant_segment +
                               "' not found. Check to make sure you have the correct tenant ID and are signing into "
                               "the correct cloud.",
                           now);
    auto form = odata::parse_query(req.body);
    if (!form)
        return token_error(400, "invalid_request", 900144,
                           "The request body must contain the following parameter: 'grant_type'.", now);
    auto get = [&](const char* k) -> std::string {
        auto it = form->find(k);
        return it == form->end() ? std::string() : it->second;
    };
    std::string client_id = get("client_id");
    std::string secret = get("client_secret");
    // HTTP Basic client authentication (RFC 6749 §2.3.1) instead of form fields.
    const auto authz = req.header("authorization");
    if (authz.size() > 6 && lower(authz.substr(0, 6)) == "basic ") {
        if (auto dec = base64_decode(authz.substr(6))) {
            const auto colon = dec->find(':');
            if (colon != std::string::npos) {
                client_id = odata::percent_decode(dec->substr(0, colon), true).value_or("");
                secret = odata::percent_decode(dec->substr(colon + 1), true).value_or("");
            }
        }
    }
    client_id_out = client_id;
    for (const char* required : {"grant_type"})
        if (get(required).empty())
            return token_error(
                400, "invalid_request", 900144,
                std::string("The request body must contain the following parameter: '") + required + "'.", now);
    if (get("grant_type") != "client_credentials")
        return token_error(400, "unsupported_grant_type", 70003,
                           "The app requested an unsupported grant type '" + get("grant_type") + "'.", now);
    if (client_id.empty())
        return token_error(400, "invalid_request", 900144,
                           "The request body must contain the following parameter: 'client_id'.", now);
    if (get("scope").empty())
        return token_error(400, "invalid_request", 900144,
                           "The request body must contain the following parameter: 'scope'.", now);

    // Who is asking: a registered client, or an application of the scenario.
    const registered_client* reg = nullptr;
    for (const auto& c : clients_)
        if (lower(c.client_id) == lower(client_id)) reg = &c;
    app_rec* app = app_by_app_id(client_id);
    if (!reg && !app)
        return token_error(400, "unauthorized_client", 700016,
                           "Application with identifier '" + client_id + "' was not found in the directory '" +
                               display_name_ +
                               "'. This can happen if the application has not been installed by the administrator of "
                               "the tenant or consented to by any user in the tenant. You may have sent your "
                               "authentication request to the wrong tenant.",
                           now);
    if (sp_rec* sp = sp_by_app_id(client_id); sp && !sp->g.value("accountEnabled", true))
        return token_error(400, "unauthorized_client", 7000112,
                           "Application '" + client_id + "'(" + sp->g.value("displayName", "") + ") is disabled.", now);

    const std::string scope = get("scope");
    if (scope.find(' ') != std::string::npos)
        return token_error(
            400, "invalid_scope", 70011,
            "The provided request must include a 'scope' input parameter. The provided value for the input parameter "
            "'scope' is not valid. Only one resource may be requested with the /.default scope.",
            now);
    // Client credentials need "<resource>/.default"; a resource the tenant has no service
    // principal for is invalid_resource (AADSTS500011), not a bad scope.
    static const std::string default_suffix = "/.default";
    const bool dot_default =
        scope.size() > default_suffix.size() &&
        scope.compare(scope.size() - default_suffix.size(), default_suffix.size(), default_suffix) == 0;
    if (!dot_default)
        return token_error(
            400, "invalid_scope", 70011,
            "The provided value for the input parameter 'scope' is not valid. The scope " + scope + " is not valid.",
            now);
    const std::string resource = scope.substr(0, scope.size() - default_suffix.size());
    if (resource != "https://graph.microsoft.com" && resource != "00000003-0000-0000-c000-000000000000")
        return token_error(400, "invalid_resource", 500011,
                           "The resource principal named " + resource + " was not found in the tenant named " +
                               display_name_ +
                               ". This can happen if the application has not been installed by the administrator of "
                               "the tenant or consented to by any user in the tenant. You might have sent your "
                               "authentication request to the wrong tenant.",
                           now);

    const std::string assertion = get("client_assertion");
    if (secret.empty() && assertion.empty())
        return token_error(
            401, "invalid_client", 7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.", now);
    if (!secret.empty()) {
        // The registered client's secret is a credential of its application (tenant_self.cpp),
        // with its expiry, like any scenario application's.
        bool good = false;
        bool expired = false;
        if (app) {
            for (const json* owner : {&app->g, sp_by_app_id(client_id) ? &sp_by_app_id(client_id)->g : nullptr}) {
                if (!owner) continue;
                for (const auto& p : (*owner)["passwordCredentials"]) {
                    auto v = secret_values_.find(p["keyId"].get<std::string>());
                    if (v == secret_values_.end() || !equal_ct(v->second, secret)) continue;
                    const auto end = parse_rfc3339(p.value("endDateTime", ""));
                    if (end && now >= *end)
                        expired = true;
                    else
                        good = true;
                }
            }
        }
        if (!good && expired)
            return token_error(401, "invalid_client", 7000222,
                               "The provided client secret keys for app '" + client_id + "' are expired.", now);
        if (!good)
            return token_error(401, "invalid_client", 7000215,
                               "Invalid client secret provided. Ensure the secret being sent in the request is the "
                               "client secret value, not the client secret ID, for a secret added to app '" +
                                   client_id + "'.",
                               now);
    } else {
        if (get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
            return token_error(400, "invalid_request", 900144,
                               "The request body must contain the following parameter: 'client_assertion_type'.", now);
        const auto d1 = assertion.find('.');
        const auto d2 = assertion.rfind('.');
        if (d1 == std::string::npos || d2 == d1)
            return token_error(401, "invalid_client", 50027, "JWT token is invalid or malformed.", now);
        auto hdr_raw = base64url_decode(assertion.substr(0, d1));
        auto pay_raw = base64url_decode(assertion.substr(d1 + 1, d2 - d1 - 1));
        auto sig = base64url_decode(assertion.substr(d2 + 1));
        json hdr = hdr_raw ? json::parse(*hdr_raw, nullptr, false) : json();
        json pay = pay_raw ? json::parse(*pay_raw, nullptr, false) : json();
        if (!sig || !hdr.is_object() || !pay.is_object())
            return token_error(401, "invalid_client", 50027, "JWT token is invalid or malformed.", now);
        const std::string alg = hdr.value("alg", "");
        if (alg != "RS256" && alg != "PS256")
            return token_error(401, "invalid_client", 5002738,
                               "Invalid JWT token. '" + alg + "' is not a supported signature algorithm.", now);
        const std::string x5t = hdr.value("x5t", "");
        const std::string x5t256 = hdr.value("x5t#S256", "");
        // Certificates that may sign: the application's keyCredentials (the registered client's
        // certificate is one of them, tenant_self.cpp), each until its endDateTime.
        struct registered_cert {
            certificate_facts facts;
            std::optional<time_point> end;
        };
        std::vector<registered_cert> certs;
        if (app)
            for (const auto& k : app->g["keyCredentials"])
                if (auto f = read_certificate_der_base64(k.value("key", "")))
                    certs.push_back({*f, parse_rfc3339(k.value("endDateTime", ""))});
        const certificate_facts* cert = nullptr;
        const registered_cert* expired_cert = nullptr;
        for (const auto& c : certs) {
            if (!((!x5t.empty() && c.facts.sha1_x5t == x5t) || (!x5t256.empty() && c.facts.sha256_x5t == x5t256)))
                continue;
            if (c.end && now >= *c.end)
                expired_cert = &c;
            else
                cert = &c.facts;
        }
        const std::string thumbprint = x5t.empty() ? x5t256 : x5t;
        if (!cert && expired_cert)
            return token_error(401, "invalid_client", 700027,
                               "Client assertion contains an invalid signature. [Reason - The key used is expired., "
                               "Thumbprint of key used by client: '" +
                                   thumbprint + "', key expired " + aad_timestamp(*expired_cert->end) + "]",
                               now);
        if (!cert)
            return token_error(401, "invalid_client", 700027,
                               "The certificate with identifier used to sign the client assertion is not registered on "
                               "application. [Reason - The key was not found., Thumbprint of key used by client: '" +
                                   thumbprint + "']",
                               now);
        if (!verify_jws_signature(alg, cert->public_key_pem, assertion.substr(0, d2), *sig))
            return token_error(401, "invalid_client", 700027, "Client assertion failed signature validation.", now);
        const std::string iss = pay.value("iss", ""), sub = pay.value("sub", "");
        if (iss != sub)
            return token_error(401, "invalid_client", 50048, "Subject mismatches Issuer claim in the client assertion.",
                               now);
        if (lower(iss) != lower(client_id))
            return token_error(401, "invalid_client", 700021,
                               "Client assertion application identifier doesn't match 'client_id' parameter.", now);
        const std::string aud = pay.value("aud", "");
        bool aud_ok = false;
        for (const auto& name : [&] {
                 std::vector<std::string> v{id_};
                 v.insert(v.end(), domains_.begin(), domains_.end());
                 return v;
             }())
            aud_ok = aud_ok || lower(aud) == lower(base_url_ + "/" + name + "/oauth2/v2.0/token");
        if (!aud_ok)
            return token_error(
                401, "invalid_client", 700212,
                "No matching federated identity record found for presented assertion audience '" + aud + "'.", now);
        if (!pay.contains("exp") || !pay["exp"].is_number())
            return token_error(401, "invalid_client", 50027, "JWT token is invalid or malformed.", now);
        const auto nowsec = to_unix_ms(now) / 1000;
        const auto skew = std::chrono::duration_cast<std::chrono::seconds>(assertion_skew).count();
        const auto exp = pay["exp"].get<std::int64_t>();
        const auto nbf = pay.contains("nbf") && pay["nbf"].is_number() ? pay["nbf"].get<std::int64_t>() : 0;
        if (nowsec > exp + skew || nowsec + skew < nbf)
            return token_error(401, "invalid_client", 500133, "Assertion is not within its valid time range.", now);
    }

    const std::string token = make_access_token(client_id);
    tokens_[token] = {client_id, now + times_.access_token_lifetime};
    // Forget expired tokens now and then, so a long run does not accumulate them.
    if (tokens_.size() > 1000)
        for (auto it = tokens_.begin(); it != tokens_.end();)
            it = it->second.expires <= now ? tokens_.erase(it) : std::next(it);
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(times_.access_token_lifetime).count();
    json body = {{"token_type", "Bearer"},
                 {"expires_in", std::max<long long>(1, secs - 1)},
                 {"ext_expires_in", std::max<long long>(1, secs - 1)},
                 {"access_token", token}};
    http_response r;
    r.status = 200;
    r.headers = {{"Content-Type", "application/json; charset=utf-8"},
                 {"Cache-Control", "no-store, no-cache"},
                 {"Pragma", "no-cache"},
                 {"x-ms-request-id", new_guid()}};
    r.body = body.dump();
    return r;
}

std::optional<std::string> tenant::authenticate(const std::string& authorization, time_point now,
                                                graph_reply& failure) {
    graph_call c;
    c.request_id = new_guid();
    c.client_request_id = c.request_id;
    auto fail = [&](const std::string& msg) {
        failure = error(401, "InvalidAuthenticationToken", msg, c, now);
        failure.headers.emplace_back(
            "WWW-Authenticate",
            "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", "
            "client_id=\"00000003-0000-0000-c000-000000000000\"");
        return std::nullopt;
    };
    if (authorization.empty()) return fail("Access token is empty.");
    if (authorization.size() < 7 || lower(authorization.substr(0, 7)) != "bearer ")
        return fail("Access token is empty.");
    const std::string token = authorization.substr(7);
    auto it = tokens_.find(token);
    if (it == tokens_.end()) return fail("CompactToken parsing failed with error code: 80049217");
    if (now >= it->second.expires) return fail("Access token has expired or is not yet valid.");
    return it->second.client_id;
}

}  // namespace containd::sim
