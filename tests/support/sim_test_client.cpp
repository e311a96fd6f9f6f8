#include "support/sim_test_client.hpp"

#include <optional>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "core/crypto.hpp"
#include "core/text.hpp"
#include "support/beast_names.hpp"

namespace containd::test {
namespace {

using namespace beast_names;

}  // namespace

struct sim_test_client::impl {
    std::string host, verify_host, ca_pem;
    std::uint16_t port;
    asio::io_context ioc;
    ssl::context ctx{ssl::context::tls_client};
    std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> stream;
    beast::flat_buffer buffer;
    int opened = 0;

    struct exchange {
        http::request<http::string_body> req;
        sim_response res;
        bool done = false;
    };

    static asio::awaitable<void> run(impl* self, std::shared_ptr<exchange> ex) {
        for (int attempt = 0; attempt < 2; ++attempt) {
            const bool fresh = !self->stream;
            if (fresh) {
                self->stream = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(self->ioc, self->ctx);
                self->buffer.clear();
                boost::system::error_code addr_ec;
                const auto addr = asio::ip::make_address(self->verify_host, addr_ec);
                (void)addr;
                if (addr_ec) SSL_set_tlsext_host_name(self->stream->native_handle(), self->verify_host.c_str());
                self->stream->set_verify_mode(ssl::verify_peer);
                self->stream->set_verify_callback(ssl::host_name_verification(self->verify_host));
                tcp::endpoint ep(asio::ip::make_address(self->host), self->port);
                auto [cec] = co_await beast::get_lowest_layer(*self->stream).async_connect(ep, use_nothrow);
                if (cec) {
                    ex->res.error = "connect: " + cec.message();
                    self->stream.reset();
                    break;
                }
                ++self->opened;
                auto [hec] = co_await self->stream->async_handshake(ssl::stream_base::client, use_nothrow);
                if (hec) {
                    ex->res.error = "handshake: " + hec.message();
                    self->stream.reset();
                    break;
                }
            }
            auto [wec, wn] = co_await http::async_write(*self->stream, ex->req, use_nothrow);
            (void)wn;
            if (wec) {
                self->stream.reset();
                if (!fresh) continue;  // stale keep-alive connection: retry once on a new one
                ex->res.error = "write: " + wec.message();
                break;
            }
            http::response_parser<http::string_body> parser;
            parser.body_limit(64 * 1024 * 1024);
            auto [rec, rn] = co_await http::async_read(*self->stream, self->buffer, parser, use_nothrow);
            (void)rn;
            if (rec) {
                self->stream.reset();
                if (!fresh && rec == http::error::end_of_stream) continue;
                ex->res.error = rec == asio::error::connection_reset ? "reset" : "read: " + rec.message();
                break;
            }
            auto& msg = parser.get();
            ex->res.status = static_cast<int>(msg.result_int());
            for (const auto& f : msg) {
                std::string name = lower(f.name_string());
                ex->res.headers[name] = std::string(f.value());
            }
            ex->res.body = msg.body();
            if (!msg.keep_alive()) self->stream.reset();
            break;
        }
        ex->done = true;
    }
};

sim_test_client::sim_test_client(std::string connect_host, std::uint16_t port, std::string ca_pem,
                                 std::string verify_host)
        : impl_(std::make_unique<impl>()) {
    impl_->host = std::move(connect_host);
    impl_->port = port;
    impl_->ca_pem = std::move(ca_pem);
    impl_->verify_host = std::move(verify_host);
    impl_->ctx.add_certificate_authority(asio::buffer(impl_->ca_pem));
}

sim_test_client::~sim_test_client() = default;

void sim_test_client::close() { impl_->stream.reset(); }

int sim_test_client::connections_opened() const { return impl_->opened; }

sim_response sim_test_client::request(const std::string& method, const std::string& target, const std::string& body,
                                      const std::vector<std::pair<std::string, std::string>>& headers,
                                      std::chrono::milliseconds timeout) {
    auto ex = std::make_shared<impl::exchange>();
    ex->req.method_string(method);
    ex->req.target(target);
    ex->req.version(11);
    ex->req.set(http::field::host, impl_->verify_host + ":" + std::to_string(impl_->port));
    ex->req.keep_alive(true);
    for (const auto& [k, v] : headers) ex->req.set(k, v);
    ex->req.body() = body;
    ex->req.prepare_payload();
    impl_->ioc.restart();
    asio::co_spawn(impl_->ioc, impl::run(impl_.get(), ex), asio::detached);
    impl_->ioc.run_for(timeout);
    if (!ex->done) {
        // Give up: drop the connection and let the aborted operations finish.
        if (impl_->stream) {
            boost::system::error_code ec;
            beast::get_lowest_layer(*impl_->stream).socket().close(ec);
        }
        impl_->ioc.restart();
        impl_->ioc.run_for(std::chrono::milliseconds(500));
        impl_->stream.reset();
        sim_response r;
        r.error = "timeout";
        return r;
    }
    return ex->res;
}

sim_response sim_test_client::graph(const std::string& method, const std::string& target, const std::string& bearer,
                                    const nlohmann::json& body,
                                    std::vector<std::pair<std::string, std::string>> headers) {
    if (!bearer.empty()) headers.emplace_back("Authorization", "Bearer " + bearer);
    std::string b;
    if (!body.is_null()) {
        b = body.dump();
        headers.emplace_back("Content-Type", "application/json");
    }
    return request(method, target, b, headers);
}

std::string sim_test_client::token_with_secret(const std::string& tenant, const std::string& client_id,
                                               const std::string& secret, sim_response* last) {
    auto r = request("POST", "/" + tenant + "/oauth2/v2.0/token",
                     form_encode({{"client_id", client_id},
                                  {"scope", "https://graph.microsoft.com/.default"},
                                  {"client_secret", secret},
                                  {"grant_type", "client_credentials"}}),
                     {{"Content-Type", "application/x-www-form-urlencoded"}});
    if (last) *last = r;
    if (r.status != 200) return {};
    auto j = r.json();
    return j.value("access_token", "");
}

std::string url_encode(const std::string& s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    return out;
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
    std::string out;
    for (const auto& [k, v] : fields) out += (out.empty() ? "" : "&") + url_encode(k) + "=" + url_encode(v);
    return out;
}

test_certificate make_test_certificate(const std::string& common_name) {
    EVP_PKEY* key = EVP_RSA_gen(2048);
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600L * 24 * 365);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name.c_str()),
                               -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509_sign(cert, key, EVP_sha256());
    test_certificate out;
    BIO* b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, cert);
    char* data = nullptr;
    long n = BIO_get_mem_data(b, &data);
    out.cert_pem.assign(data, static_cast<std::size_t>(n));
    BIO_free(b);
    b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
    n = BIO_get_mem_data(b, &data);
    out.key_pem.assign(data, static_cast<std::size_t>(n));
    BIO_free(b);
    unsigned char* der = nullptr;
    const int len = i2d_X509(cert, &der);
    out.der.assign(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    X509_free(cert);
    EVP_PKEY_free(key);
    return out;
}

std::string sign_jwt(nlohmann::json header, const nlohmann::json& claims, const std::string& key_pem,
                     const std::string& alg) {
    header["alg"] = alg;
    if (!header.contains("typ")) header["typ"] = "JWT";
    const std::string input = base64url_encode(header.dump()) + "." + base64url_encode(claims.dump());
    BIO* b = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(b, nullptr, nullptr, nullptr);
    BIO_free(b);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX* pctx = nullptr;
    EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), nullptr, key);
    if (alg == "PS256") {
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
    }
    std::size_t siglen = 0;
    EVP_DigestSign(ctx, nullptr, &siglen, reinterpret_cast<const unsigned char*>(input.data()), input.size());
    std::string sig(siglen, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &siglen,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    sig.resize(siglen);
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    return input + "." + base64url_encode(sig);
}

std::string x5t_sha1(const std::string& der) {
    unsigned char out[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(der.data()), der.size(), out);
    return base64url_encode(std::string(reinterpret_cast<char*>(out), sizeof out));
}

std::string x5t_sha256(const std::string& der) { return base64url_encode(sha256_raw(der)); }

}  // namespace containd::test
