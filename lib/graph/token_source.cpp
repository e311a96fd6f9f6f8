#include "graph/token_source.hpp"

#include <cctype>
#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "graph/https_client.hpp"
#include "graph/odata.hpp"
#include "graph/url.hpp"

namespace containd::graph {
namespace {

namespace asio = boost::asio;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

bool valid_tenant(std::string_view t) {
    if (t.empty() || t.size() > 253) return false;
    for (const char c : t)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.')) return false;
    return t != "common" && t != "organizations" && t != "consumers";
}

// expires_in is a number in v2.0 responses; older endpoints sent it as a string.
std::optional<long long> read_expires_in(const nlohmann::json& body) {
    const auto it = body.find("expires_in");
    if (it == body.end()) return std::nullopt;
    if (it->is_number_integer()) return it->get<long long>();
    if (it->is_number()) return static_cast<long long>(it->get<double>());
    if (it->is_string()) {
        try {
            return std::stoll(it->get<std::string>());
        } catch (const std::exception&) {
            return std::nullopt;
        }
    }
    return std::nullopt;
}

}  // namespace

struct token_source::impl {
    impl(https_client& h, const clock_source& c, token_settings s, credential cr)
            : http(h), clock(c), settings(std::move(s)), cred(std::move(cr)) {}

    https_client& http;
    const clock_source& clock;
    token_settings settings;
    credential cred;
    std::optional<certificate_signer> signer;
    std::string endpoint;

    secret cached;
    time_point refresh_at{};
    std::size_t requests = 0;

    struct flight {
        explicit flight(const asio::any_io_executor& ex) : done(ex) {
            done.expires_at(asio::steady_timer::time_point::max());
        }
        asio::steady_timer done;
        token_reply outcome;
    };
    std::shared_ptr<flight> current;
};

namespace {

std::string form_body(token_source::impl& self) {
    std::string body = "client_id=" + odata::encode_form(self.settings.client_id) +
                       "&scope=" + odata::encode_form(self.settings.scope) + "&grant_type=client_credentials";
    if (const auto* s = std::get_if<client_secret_credential>(&self.cred)) {
        body += "&client_secret=" + odata::encode_form(s->value.reveal());
    } else {
        const auto& c = std::get<certificate_credential>(self.cred);
        assertion_claims claims;
        claims.audience = self.endpoint;
        claims.client_id = self.settings.client_id;
        claims.now = self.clock.now();
        claims.lifetime = self.settings.assertion_lifetime;
        body +=
            "&client_assertion_type=" + odata::encode_form("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") +
            "&client_assertion=" + self.signer->make_assertion(claims, c.alg);
    }
    return body;
}

asio::awaitable<token_reply> fetch(std::shared_ptr<token_source::impl> self) {
    token_reply out;
    out.call.token_failure = true;
    http_request req;
    req.method = "POST";
    req.url = self->endpoint;
    req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    req.idempotent = true;  // a repeated token request only yields another token
    req.timeout = self->settings.timeout;
    try {
        req.body = form_body(*self);
    } catch (const std::exception& e) {
        out.call = local_failure(400, "containd.assertion_failed", e.what());
        out.call.token_failure = true;
        co_return out;
    }
    const time_point sent_at = self->clock.now();
    ++self->requests;
    http_result res = co_await self->http.send(std::move(req));
    if (!res.ok()) {
        out.call.transport = res.error;
        out.call.transport_detail = res.detail;
        co_return out;
    }
    auto& call = out.call;
    call.status = res.response.status;
    call.retry_after = res.response.header("Retry-After");
    call.request_id = res.response.header("x-ms-request-id").value_or("");
    call.body = nlohmann::json::parse(res.response.body, nullptr, false);
    if (call.body.is_discarded()) call.body = nullptr;
    if (call.status != 200) {
        parse_error_body(call);
        co_return out;
    }
    const auto token_it = call.body.is_object() ? call.body.find("access_token") : call.body.end();
    const auto expires_in = call.body.is_object() ? read_expires_in(call.body) : std::nullopt;
    if (token_it == call.body.end() || !token_it->is_string() || token_it->get_ref<const std::string&>().empty() ||
        !expires_in || *expires_in <= 0) {
        if (call.body.is_object()) call.body.erase("access_token");
        call.malformed = true;
        call.error_code = std::string(err_unexpected_body);
        call.error_message = "token response without access_token/expires_in";
        co_return out;
    }
    out.token = secret(token_it->get<std::string>());
    call.body.erase("access_token");
    call.token_failure = false;

    const duration lifetime = seconds(*expires_in);
    const duration margin = std::min<duration>(self->settings.refresh_margin, lifetime / 2);
    self->cached = out.token;
    self->refresh_at = sent_at + lifetime - margin;
    co_return out;
}

asio::awaitable<token_reply> get_token(std::shared_ptr<token_source::impl> self) {
    if (!self->cached.empty() && self->clock.now() < self->refresh_at) {
        token_reply r;
        r.token = self->cached;
        r.call.status = 200;
        co_return r;
    }
    if (auto f = self->current) {
        co_await f->done.async_wait(use_nothrow);
        co_return f->outcome;
    }
    auto f = std::make_shared<token_source::impl::flight>(self->http.get_executor());
    self->current = f;
    token_reply r;
    try {
        r = co_await fetch(self);
    } catch (const std::exception& e) {
        r.call = local_failure(400, "containd.token_request_failed", e.what());
        r.call.token_failure = true;
    }
    f->outcome = r;
    self->current.reset();
    f->done.cancel();
    co_return r;
}

}  // namespace

token_source::token_source(https_client& http, const clock_source& clock, token_settings settings, credential cred)
        : impl_(std::make_shared<impl>(http, clock, std::move(settings), std::move(cred))) {
    auto& s = impl_->settings;
    if (s.client_id.empty()) throw std::invalid_argument("token source: client_id is empty");
    if (!valid_tenant(s.tenant)) throw std::invalid_argument("token source: invalid tenant '" + s.tenant + "'");
    if (!parse_url(s.login_base)) throw std::invalid_argument("token source: login_base is not an https URL");
    impl_->endpoint = join_url(s.login_base, "/" + s.tenant + "/oauth2/v2.0/token");
    if (auto* c = std::get_if<certificate_credential>(&impl_->cred))
        impl_->signer.emplace(c->private_key_pem, c->certificate_pem);
    else if (std::get<client_secret_credential>(impl_->cred).value.empty())
        throw std::invalid_argument("token source: the client secret is empty");
}

token_source::~token_source() = default;

boost::asio::awaitable<token_reply> token_source::get() { return get_token(impl_); }

void token_source::invalidate(const secret& rejected) {
    if (impl_->cached.equals(rejected)) invalidate();
}

void token_source::invalidate() {
    impl_->cached = secret();
    impl_->refresh_at = time_point{};
}

const std::string& token_source::endpoint() const { return impl_->endpoint; }
std::size_t token_source::requests_made() const { return impl_->requests; }

std::optional<time_point> token_source::cached_until() const {
    if (impl_->cached.empty()) return std::nullopt;
    return impl_->refresh_at;
}

}  // namespace containd::graph
