#pragma once
// OData literals, $filter expressions and URL encoding for Graph requests.
//
// Encoding decisions (tested in tests/unit/graph/odata_test.cpp):
// - A string literal is validated (valid UTF-8, no control characters C0/DEL/C1, at most
//   max_literal_bytes bytes), its single quotes are doubled (OData ABNF: SQUOTE-in-string =
//   "''"), it is wrapped in single quotes, and then percent-encoded for a URL query.
// - Query encoding keeps RFC 3986 unreserved characters and the OData punctuation ' ( ) , : /
//   literal (all are legal in a query, and Graph's own examples send them raw) and encodes
//   every other byte, including space (%20, never '+'), '@', '%', '&', '#', '+', '=', ';', '$'
//   and all non-ASCII bytes. So o'brien@contoso.com becomes 'o''brien%40contoso.com'. A value
//   that itself contains "%27" is sent as %2527: the server decodes it back to the three
//   characters, never to a quote, so a value can never end the literal or widen the filter.
// - Path segments (a UPN in /users/{upn}) are percent-encoded except unreserved characters,
//   '@' and the apostrophe, which RFC 3986 allows in a segment and Graph expects raw: the
//   apostrophe in /users/o'brien@contoso.com is NOT doubled (doubling is only for literals in
//   parentheses or $filter). '#' becomes %23 (B2B UPNs), '/' %2F. A UPN starting with '$' must
//   use the key form /users('$x@y.com') (Graph treats a leading $ as a system segment), so
//   user_path() produces that form, with the literal's quotes doubled.

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"

namespace containd::graph::odata {

inline constexpr std::size_t max_literal_bytes = 1024;

// Why a value cannot be used; nullopt when it can. Empty values are allowed here (an empty
// literal '' matches nothing); path segments refuse them separately.
std::optional<std::string> check_value(std::string_view value);

// Thrown by the encoders below for a value check_value() refuses. what() names the reason,
// not the value.
struct invalid_value : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

// 'value' with quotes doubled, NOT URL-encoded (for building expressions). Throws invalid_value.
std::string literal(std::string_view value);
// literal(value), percent-encoded for a URL query. Throws invalid_value.
std::string quote(std::string_view value);

// Percent-encodes for a URL query component (see the rules above). Any bytes.
std::string encode_query(std::string_view raw);
// Percent-encodes one path segment. Any bytes.
std::string encode_path_segment(std::string_view raw);
// Form encoding (application/x-www-form-urlencoded): unreserved kept, everything else %XX.
std::string encode_form(std::string_view raw);
// Decodes %XX (and nothing else); nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view text);

// "/users/{segment}" for an object id or UPN; "/users('...')" for a UPN starting with '$'.
// Throws invalid_value for an empty value, ".", "..", or anything check_value() refuses.
std::string user_path(std::string_view id_or_upn);
// "/{collection}/{segment}" for an object id or other key (applications, servicePrincipals,
// oauth2PermissionGrants, ...). Same refusals as user_path.
std::string entity_path(std::string_view collection, std::string_view key);
// "/{collection}({property}='{value}')": alternate-key addressing, e.g.
// "/servicePrincipals(appId='...')". Same refusals as user_path.
std::string alternate_key_path(std::string_view collection, std::string_view property, std::string_view value);

// A $filter expression built only from code-defined property paths and validated literals.
// Terms are joined with " and ". str() is the raw expression; query() is "$filter=" plus the
// encoded expression, ready to append after '?' or '&'.
class filter {
public:
    // property eq 'value'
    filter& eq(std::string_view property, std::string_view value);
    // property eq <number> (e.g. status/errorCode eq 0)
    filter& eq_number(std::string_view property, long long value);
    // startswith(property, 'value')
    filter& starts_with(std::string_view property, std::string_view value);
    // property ge|le|lt <DateTimeOffset> (unquoted, "2024-05-01T10:00:00Z" form)
    filter& ge(std::string_view property, time_point t);
    filter& le(std::string_view property, time_point t);
    filter& lt(std::string_view property, time_point t);
    // collection/any(t: t eq 'value')                        (signInEventTypes)
    filter& any_eq(std::string_view collection, std::string_view value);
    // collection/any(t: t/property eq 'value')               (targetResources/any(t: t/id eq '...'))
    filter& any_property_eq(std::string_view collection, std::string_view property, std::string_view value);

    bool empty() const { return terms_.empty(); }
    std::string str() const;
    std::string query() const;

private:
    filter& add(std::string term);
    std::vector<std::string> terms_;
};

// DateTimeOffset literal as Graph filters expect it: UTC, seconds precision ("...T10:00:00Z").
std::string datetime_literal(time_point t);

}  // namespace containd::graph::odata
