#pragma once
// RFC 3339 / ISO 8601 timestamps (what Graph and our API speak) and HTTP dates (Retry-After).

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"

namespace containd {

// Parses "2026-03-12T00:00:00Z", with optional fractional seconds (any precision, kept to the
// millisecond) and a "Z" or "+hh:mm"/"-hh:mm" offset. Returns nullopt for anything else,
// including out-of-range fields (month 13, Feb 30) and instants a time_point cannot hold
// (outside about 1677-09-21 to 2262-04-11 with libstdc++'s nanosecond system_clock).
std::optional<time_point> parse_rfc3339(std::string_view text);

// Formats as "2026-03-12T00:00:00.000Z" (UTC, milliseconds).
std::string format_rfc3339(time_point t);

// Parses an IMF-fixdate HTTP date ("Sun, 06 Nov 1994 08:49:37 GMT", RFC 9110 §5.6.7); nullopt
// for a malformed date or one a time_point cannot hold.
std::optional<time_point> parse_http_date(std::string_view text);
std::string format_http_date(time_point t);

// Retry-After (RFC 9110 §10.2.3): delay-seconds (1*DIGIT, "7"), the decimal seconds Graph has
// been seen to send ("2.128", digits '.' digits, kept to the millisecond) or an HTTP date (the
// time left until it). Surrounding spaces and tabs are ignored. Anything else gives nullopt:
// signs, hex ("0x10"), exponents ("1e3"), units ("7s"), "2." and ".5", and dates not after
// `now`. Absurdly long delays are capped at 365 days (callers cap far lower anyway).
// The one parser of the project: lib/graph ($batch items, the pacer) and lib/engine (retries).
std::optional<duration> parse_retry_after(std::string_view value, time_point now);

}  // namespace containd
