// The text fields Graph sends that containd interprets: RFC 3339 timestamps (createdDateTime,
// ...), Retry-After (delta seconds or an HTTP date), and @odata.nextLink URLs.
// Properties:
//  - parse -> format -> parse is stable: a timestamp keeps its instant (to the millisecond), an
//    HTTP date its second; formatted timestamps have the fixed shape; the OData DateTimeOffset
//    literal of a timestamp parses back to its second;
//  - Retry-After (the one reader, core/time.hpp) is never negative; a value that starts with a
//    digit is accepted exactly when it is "digits[.digits]" (never "0x10" or "1e3"), is capped
//    at a year and equals the number to the millisecond;
//  - a parsed URL is https, with a non-empty lower-case host, a port from 1 to 65535, a target
//    starting with '/', no space, control character or fragment; re-parsing origin()+target
//    gives the same parts (what the nextLink origin check compares).
#include <cctype>
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

// digits, optionally '.' and 1 or more digits (RFC 9110 delay-seconds, or Graph's decimals).
bool plain_seconds(std::string_view s) {
    const auto dot = s.find('.');
    const auto whole = s.substr(0, dot);
    if (whole.empty() || whole.find_first_not_of("0123456789") != std::string_view::npos) return false;
    if (dot == std::string_view::npos) return true;
    const auto frac = s.substr(dot + 1);
    return !frac.empty() && frac.find_first_not_of("0123456789") == std::string_view::npos;
}

// The one Retry-After reader (core/time.hpp), which lib/graph and lib/engine share: a number is
// accepted exactly when it is plain delay-seconds (or decimal seconds), never "0x10" or "1e3",
// is never negative, is capped at a year, and agrees with the number to the millisecond.
void check_retry_after(const std::string& s) {
    const auto d = parse_retry_after(s, fixed_now);
    std::string_view trimmed = s;
    while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\t')) trimmed.remove_prefix(1);
    while (!trimmed.empty() && (trimmed.back() == ' ' || trimmed.back() == '\t')) trimmed.remove_suffix(1);
    const bool numeric = !trimmed.empty() && std::isdigit(static_cast<unsigned char>(trimmed.front()));
    if (numeric)
        FUZZ_CHECK(d.has_value() == plain_seconds(trimmed), "Retry-After %s: accepted %d", shown(s).c_str(),
                   int(d.has_value()));
    if (!d) return;
    FUZZ_CHECK(*d >= duration::zero(), "negative Retry-After from %s", shown(s).c_str());
    if (numeric) {
        FUZZ_CHECK(*d <= std::chrono::hours(24 * 365), "Retry-After %s above a year", shown(s).c_str());
        const auto whole = trimmed.substr(0, trimmed.find('.'));
        if (whole.size() <= 7) {
            const auto want =
                static_cast<long long>(std::stod(std::string(trimmed.substr(0, whole.size() + 4))) * 1000 + 0.5);
            const auto got = std::chrono::duration_cast<milliseconds>(*d).count();
            FUZZ_CHECK(got - want <= 1 && want - got <= 1, "Retry-After %s: %lld ms, not %lld", shown(s).c_str(),
                       static_cast<long long>(got), want);
        }
    }
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
            FUZZ_CHECK(static_cast<unsigned char>(c) > 0x20 && c != 0x7f && c != '#', "bad byte in %s",
                       shown(*part).c_str());
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
