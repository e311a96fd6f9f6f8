// The text fields Graph sends that containd interprets: RFC 3339 timestamps (createdDateTime,
// ...), Retry-After (delta seconds or an HTTP date), and @odata.nextLink URLs.
// Properties:
//  - parse -> format -> parse is stable: a timestamp keeps its instant (to the millisecond), an
//    HTTP date its second; formatted timestamps have the fixed shape; the OData DateTimeOffset
//    literal of a timestamp parses back to its second;
//  - Retry-After is never negative, and a number of seconds never above 1e7 ($batch reader) or a
//    year of delta-seconds (the engine's durable-retry reader); for plain "seconds[.fraction]" both readers agree
//    to the millisecond;
//  - a parsed URL is https, with a non-empty lower-case host, a port from 1 to 65535, a target
//    starting with '/', no space, control character or fragment; re-parsing origin()+target
//    gives the same parts (what the nextLink origin check compares).
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/time.hpp"
#include "engine/retry_policy.hpp"
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

// digits, optionally '.' and 1 to 3 digits, at most 7 digits before the dot.
bool plain_seconds(std::string_view s) {
    const auto dot = s.find('.');
    const auto whole = s.substr(0, dot);
    if (whole.empty() || whole.size() > 7 || whole.find_first_not_of("0123456789") != std::string_view::npos) return false;
    if (dot == std::string_view::npos) return true;
    const auto frac = s.substr(dot + 1);
    return !frac.empty() && frac.size() <= 3 && frac.find_first_not_of("0123456789") == std::string_view::npos;
}

void check_engine_retry_after(const std::string& s) {
    const auto d = engine::parse_retry_after(s, fixed_now);
    if (d) {
        FUZZ_CHECK(*d >= duration::zero(), "engine: negative Retry-After from %s", shown(s).c_str());
        // delta-seconds are capped at a year; a date may be further (decide_retry caps both).
        if (!parse_http_date(s) && s.find("GMT") == std::string::npos)
            FUZZ_CHECK(*d <= std::chrono::hours(24 * 366), "engine: Retry-After %s above a year", shown(s).c_str());
    }
    if (plain_seconds(s) && std::stod(s) <= 1e7) {
        const auto g = graph::parse_retry_after(s, fixed_now);
        FUZZ_CHECK(d && g, "a reader refused %s", shown(s).c_str());
        const auto dm = std::chrono::duration_cast<milliseconds>(*d).count();
        const auto gm = std::chrono::duration_cast<milliseconds>(*g).count();
        FUZZ_CHECK(dm - gm <= 1 && gm - dm <= 1, "readers disagree on %s: %lld ms vs %lld ms", shown(s).c_str(),
                   static_cast<long long>(dm), static_cast<long long>(gm));
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
    check_engine_retry_after(s);
    check_url(s);
    return 0;
}
