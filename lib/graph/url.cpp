#include "graph/url.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "core/text.hpp"

namespace containd::graph {
namespace {

bool valid_host_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_'; }

}  // namespace

std::string url_parts::origin() const {
    return scheme + "://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port;
}

std::string url_parts::host_header() const {
    std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    if (!(scheme == "https" && port == "443")) h += ":" + port;
    return h;
}

std::optional<url_parts> parse_url(std::string_view url) {
    for (const char c : url)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return std::nullopt;
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) return std::nullopt;
    url_parts parts;
    parts.scheme = lower(url.substr(0, scheme_end));
    if (parts.scheme != "https") return std::nullopt;
    std::string_view rest = url.substr(scheme_end + 3);
    if (rest.find('#') != std::string_view::npos) return std::nullopt;
    const auto authority_end = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, authority_end);
    std::string_view target = authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
    if (authority.find('@') != std::string_view::npos || authority.empty()) return std::nullopt;

    std::string_view host, port;
    if (authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        host = authority.substr(1, close - 1);
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return std::nullopt;
            port = after.substr(1);
        }
        if (host.empty() || host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos)
            return std::nullopt;
    } else {
        const auto colon = authority.find(':');
        host = authority.substr(0, colon);
        if (colon != std::string_view::npos) port = authority.substr(colon + 1);
        if (host.empty() || !std::all_of(host.begin(), host.end(), valid_host_char)) return std::nullopt;
    }
    if (port.empty()) {
        if (authority.back() == ':') return std::nullopt;
        port = "443";
    }
    unsigned value = 0;
    const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || ptr != port.data() + port.size() || value == 0 || value > 65535) return std::nullopt;

    parts.host = lower(host);
    parts.port = std::to_string(value);
    // Built with push_back/append rather than `"/" + std::string(target)`: GCC 12 at -O3 reports
    // a false -Werror=restrict (PR 105329) on that, as in lib/core/log.cpp.
    if (target.empty() || target.front() == '?') {
        parts.target.push_back('/');
        parts.target.append(target);
    } else {
        parts.target = std::string(target);
    }
    return parts;
}

std::string join_url(std::string_view base, std::string_view path) {
    while (!base.empty() && base.back() == '/') base.remove_suffix(1);
    std::string out(base);
    if (path.empty() || path.front() != '/') out.push_back('/');
    out.append(path);
    return out;
}

}  // namespace containd::graph
