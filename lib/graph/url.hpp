#pragma once
// Absolute https URLs: the pieces https_client needs and the origin checks the Graph client uses
// (an @odata.nextLink is followed only to the configured Graph host).

#include <optional>
#include <string>
#include <string_view>

namespace containd::graph {

struct url_parts {
    std::string scheme;  // lower-case ("https")
    std::string host;    // lower-case; an IPv6 literal without its brackets
    std::string port;    // explicit or the scheme default ("443")
    std::string target;  // path and query, at least "/"; sent verbatim

    // "scheme://host:port" with the port always present: compare origins with it.
    std::string origin() const;
    // The Host header value: host, plus ":port" when not the default.
    std::string host_header() const;
};

// Parses "https://host[:port][/path][?query]". Rejects other schemes, userinfo ("user@host"),
// fragments, empty hosts, ports outside 1..65535 and control or space characters anywhere.
std::optional<url_parts> parse_url(std::string_view url);

// Joins a base ("https://graph.microsoft.com", trailing '/' tolerated) and a path that starts with
// '/'.
std::string join_url(std::string_view base, std::string_view path);

}  // namespace containd::graph
