#include "api/auth.hpp"

#include <cctype>

#include <openssl/crypto.h>

#include "core/crypto.hpp"
#include "core/text.hpp"

namespace containd::api::detail {

std::string_view to_string(access a) {
    switch (a) {
    case access::none: return "none";
    case access::viewer: return "viewer";
    case access::submitter: return "submitter";
    case access::operator_: return "operator";
    }
    return "none";
}

bool allows(access required, config::role granted) {
    switch (required) {
    case access::none:
    case access::viewer: return true;
    case access::submitter: return granted == config::role::submitter || granted == config::role::operator_;
    case access::operator_: return granted == config::role::operator_;
    }
    return false;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

namespace {

bool iequals_prefix(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(s[i])) != std::tolower(static_cast<unsigned char>(prefix[i])))
            return false;
    return true;
}

}  // namespace

std::optional<caller> authenticate(const std::vector<config::api_token>& tokens, const std::string* authorization,
                                   time_point now) {
    if (!authorization) return std::nullopt;
    std::string_view h = *authorization;
    if (!iequals_prefix(h, "bearer ")) return std::nullopt;
    h.remove_prefix(7);
    while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
    while (!h.empty() && h.back() == ' ') h.remove_suffix(1);
    if (h.empty()) return std::nullopt;
    const std::string presented = sha256_hex(h);
    // Compare against every configured hash, whatever matches, so the timing does not say which.
    std::optional<caller> found;
    bool expired = false;
    for (const auto& t : tokens) {
        if (constant_time_equal(presented, lower(t.sha256_hex)) && !found) {
            found = caller{t.name, t.granted};
            expired = t.expires && *t.expires <= now;
        }
    }
    if (expired) return std::nullopt;
    return found;
}

}  // namespace containd::api::detail
