#pragma once
// OData pieces the simulator needs to read requests the way Graph does: percent-decoding, query
// options, key segments ("users('x')", "applications(appId='y')") and a $filter parser and
// evaluator for the forms Graph documents (eq/ne/gt/ge/lt/le, and/or/not, parentheses,
// startswith/endswith/contains, any/all lambdas, string literals with doubled single quotes,
// unquoted DateTimeOffset, numbers, GUIDs, true/false/null).

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace containd::sim::odata {

// Percent-decodes; with plus_is_space, '+' becomes ' ' (query strings, as ASP.NET/Graph read them).
// nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space);

// Query options, decoded. Keys keep their case ("$filter", "$top", ...). nullopt on bad escapes.
std::optional<std::map<std::string, std::string>> parse_query(std::string_view query);

// A path segment with an OData key: "users('a''b')" -> {"users", {"" : "a'b"}};
// "servicePrincipals(appId='x')" -> {"servicePrincipals", {"appId": "x"}}.
struct key_segment {
    std::string name;
    std::string key_property;  // empty for a plain key
    std::string key_value;
};
std::optional<key_segment> parse_key_segment(std::string_view segment);

struct node;
using node_ptr = std::shared_ptr<const node>;

struct node {
    enum class kind { literal, property, compare, logical_and, logical_or, logical_not, call, lambda };
    kind k;
    // literal: value (string / number / bool / null; datetime literals as strings with is_datetime)
    nlohmann::json value;
    bool is_datetime = false;
    // property: path segments; first segment may be a lambda variable
    std::vector<std::string> path;
    // compare: op in eq ne gt ge lt le; call: function name; lambda: "any"/"all", var
    std::string op;
    std::string var;
    std::vector<node_ptr> args;  // compare: 2; and/or: 2; not: 1; call: n; lambda: [collection property, predicate]
};

struct parse_error {
    std::string message;
};

// Parses a $filter expression. On failure returns nullptr and sets err.
node_ptr parse_filter(std::string_view text, parse_error& err);

// Evaluates the filter against an entity (a JSON object). String comparisons are
// case-insensitive (as the directory and the report stores compare); DateTimeOffset literals
// compare as instants.
bool evaluate(const node& n, const nlohmann::json& entity);

// Every top-level property name the filter references (outside lambda variables), e.g. for
// "signInEventTypes/any(t: t eq 'x') and appId eq 'y'" -> {signInEventTypes, appId}.
std::vector<std::string> referenced_properties(const node& n);

}  // namespace containd::sim::odata
