// The text fields Graph sends that containd interprets: RFC 3339 timestamps (createdDateTime,
// ...), Retry-After (delta seconds or an HTTP date), and @odata.nextLink URLs.
// Properties:
//  - parse -> format -> parse is stable: a timestamp keeps its instant (to the millisecond), an
//    HTTP date its second; formatted timestamps have the fixed shape; the OData DateTimeOffset
//    literal of a timestamp parses back to its second;
//  - Retry-After is never negative, and a number of seconds never above 1e7;
//  - a parsed URL is https, with a non-empty lower-case host, a port from 1 to 65535, a target
//    starting with '/', no space, control character or fragment; re-parsing origin()+target
//    gives the same parts (what the nextLink origin check compares).
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/time.hpp"
#include "fuzz_check.hpp"
#include "graph/odata.hpp"
#include "graph/result.hpp"
#include "graph/url.hpp"

using namespace containd;
using containd::fuzz::shown;

namespace {

const time_point fixed_now = *parse_rfc3339("2026-03-12T09:00:00Z");

void check_timestamp(const std::string& s) {
    const auto t = parse_rfc3339(s);
    if (!t) return;
    const std::string text = format_rfc3339(*t);
    FUZZ_CHECK(text.size() == 24 && text[4] == '-' && text[10] == 'T' && text[19] == '.' && text.back() == 'Z',
               "format_rfc3339 gives %s for %s", shown(text).c_str(), shown(s).c_str());
    const auto back = parse_rfc3339(text);
    FUZZ_CHECK(back && *back == std::chrono::time_point_cast<milliseconds>(*t), "%s -> %s does not parse back",
               shown(s).c_str(), text.c_str());
    const std::string lit = graph::odata::datetime_literal(*t);
    const auto lit_back = parse_rfc3339(lit);
    FUZZ_CHECK(lit_back && *lit_back == std::chrono::floor<seconds>(*t), "datetime literal %s", lit.c_str());
    (void)format_http_date(*t);
}

void check_http_date(const std::string& s) {
    const auto t = parse_http_date(s);
    if (!t) return;
    const std::string text = format_http_date(*t);
    const auto back = parse_http_date(text);
    FUZZ_CHECK(back && *back == *t, "%s -> %s does not parse back", shown(s).c_str(), text.c_str());
}

void check_retry_after(const std::string& s) {
    const auto d = graph::parse_retry_after(s, fixed_now);
    if (!d) return;
    FUZZ_CHECK(*d >= duration::zero(), "negative Retry-After from %s", shown(s).c_str());
    std::string_view trimmed = s;
    while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\t')) trimmed.remove_prefix(1);
    if (!trimmed.empty() && std::isdigit(static_cast<unsigned char>(trimmed.front()))) FUZZ_CHECK(*d <= seconds(10'000'000), "Retry-After %s above 1e7 s", shown(s).c_str());
}

void check_url(const std::string& s) {
    const auto u = graph::parse_url(s);
    if (!u) return;
    FUZZ_CHECK(u->scheme == "https", "scheme %s", shown(u->scheme).c_str());
    FUZZ_CHECK(!u->host.empty(), "empty host from %s", shown(s).c_str());
    for (const char c : u->host) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'), "host not lower-case");
    FUZZ_CHECK(!u->port.empty() && u->port.find_first_not_of("0123456789") == std::string::npos &&
                   std::stoul(u->port) >= 1 && std::stoul(u->port) <= 65535 && u->port.front() != '0',
               "port %s", shown(u->port).c_str());
    FUZZ_CHECK(!u->target.empty() && u->target.front() == '/', "target %s", shown(u->target).c_str());
    for (const std::string* part : {&u->host, &u->target})
        for (const char c : *part)
            FUZZ_CHECK(static_cast<unsigned char>(c) > 0x20 && c != 0x7f && c != '#', "bad byte in %s", shown(*part).c_str());
    const auto again = graph::parse_url(u->origin() + u->target);
    FUZZ_CHECK(again && again->origin() == u->origin() && again->target == u->target && again->host == u->host &&
                   again->port == u->port,
               "origin+target %s does not re-parse the same", shown(u->origin() + u->target).c_str());
    (void)u->host_header();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string s(reinterpret_cast<const char*>(data), size);
    check_timestamp(s);
    check_http_date(s);
    check_retry_after(s);
    check_url(s);
    return 0;
}
