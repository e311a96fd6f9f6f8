// The OData encoder of Graph requests (lib/graph/odata). Input: two values split at the first NUL.
// Properties (the "no injection" promises of odata.hpp):
//  - literal(v) succeeds exactly when check_value(v) accepts v (UTF-8, no control characters, at
//    most 1024 bytes); quote(v) and the filters likewise;
//  - the literal, read the way Graph reads it, closes at its last character and holds exactly v:
//    a value can never end the quote early;
//  - a $filter built from validated values parses (with the simulator's OData parser) to exactly
//    the terms that were built, with the values unchanged: a value can never widen the filter;
//  - $filter=<query()> followed by "&$top=5" decodes to exactly those two options: a value can
//    never add a query option, and '+' never turns into a space;
//  - path segments decode back to the value and contain no '/', '?', '#'; user_path() of a UPN
//    starting with '$' is the key form whose key decodes back to the value;
//  - every encoder output holds only unreserved characters, its kept punctuation and %XX, and
//    percent_decode() inverts it; both percent decoders (graph, simulator) agree on any input;
//  - property paths that are not plain identifier paths are refused.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "fuzz_check.hpp"
#include "graph/odata.hpp"
#include "sim/odata.hpp"

using namespace containd;
namespace od = containd::graph::odata;
namespace so = containd::sim::odata;
using containd::fuzz::shown;

namespace {

bool unreserved(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

// Only unreserved characters, `keep`, and %XX with upper-case hex digits.
void check_encoded(const std::string& out, std::string_view keep, const char* what) {
    for (std::size_t i = 0; i < out.size(); ++i) {
        const auto c = static_cast<unsigned char>(out[i]);
        if (c == '%') {
            FUZZ_CHECK(i + 2 < out.size() && std::isxdigit(static_cast<unsigned char>(out[i + 1])) &&
                           std::isxdigit(static_cast<unsigned char>(out[i + 2])) &&
                           !std::islower(static_cast<unsigned char>(out[i + 1])) &&
                           !std::islower(static_cast<unsigned char>(out[i + 2])),
                       "%s: bad escape in %s", what, shown(out).c_str());
            i += 2;
            continue;
        }
        FUZZ_CHECK(unreserved(c) || keep.find(static_cast<char>(c)) != std::string_view::npos,
                   "%s: raw byte 0x%02x in %s", what, c, shown(out).c_str());
    }
}

void check_inverse(std::string_view raw, const std::string& encoded, const char* what) {
    const auto back = od::percent_decode(encoded);
    FUZZ_CHECK(back && *back == raw, "%s does not decode back: %s", what, shown(encoded).c_str());
}

// A literal node holding exactly `value`.
void expect_literal(const so::node_ptr& n, const std::string& value) {
    FUZZ_CHECK(n && n->k == so::node::kind::literal && n->value.is_string() && !n->is_datetime,
               "expected a string literal");
    FUZZ_CHECK(n->value.get<std::string>() == value, "literal changed: %s != %s",
               shown(n->value.get<std::string>()).c_str(), shown(value).c_str());
}

void expect_property(const so::node_ptr& n, std::vector<std::string> path) {
    FUZZ_CHECK(n && n->k == so::node::kind::property && n->path == path, "expected property %s", path.back().c_str());
}

// "<property> eq <literal>"
void expect_eq(const so::node_ptr& n, std::vector<std::string> path, const std::string& value) {
    FUZZ_CHECK(n && n->k == so::node::kind::compare && n->op == "eq" && n->args.size() == 2, "expected eq");
    expect_property(n->args[0], std::move(path));
    expect_literal(n->args[1], value);
}

void check_value_encodings(const std::string& v) {
    const auto reason = od::check_value(v);
    std::string lit;
    bool threw = false;
    try {
        lit = od::literal(v);
    } catch (const od::invalid_value&) {
        threw = true;
    }
    FUZZ_CHECK(threw == reason.has_value(), "literal() and check_value() disagree on %s", shown(v).c_str());
    if (threw) {
        bool quote_threw = false;
        try {
            (void)od::quote(v);
        } catch (const od::invalid_value&) {
            quote_threw = true;
        }
        FUZZ_CHECK(quote_threw, "quote() accepted a refused value");
        return;
    }
    // The literal closes exactly at its end and holds v.
    FUZZ_CHECK(lit.size() >= 2 && lit.front() == '\'' && lit.back() == '\'', "literal not quoted");
    std::string inner;
    for (std::size_t i = 1; i + 1 < lit.size(); ++i) {
        if (lit[i] == '\'') {
            FUZZ_CHECK(i + 2 < lit.size() && lit[i + 1] == '\'', "the literal closes early at byte %zu: %s", i,
                       shown(lit).c_str());
            ++i;
        }
        inner.push_back(lit[i]);
    }
    FUZZ_CHECK(inner == v, "literal does not hold the value");

    const std::string q = od::quote(v);
    check_encoded(q, "'(),:/", "quote");
    check_inverse(lit, q, "quote");

    // Path forms.
    if (!v.empty() && v != "." && v != "..") {
        const std::string path = od::user_path(v);
        if (v.front() == '$') {
            FUZZ_CHECK(path.rfind("/users(", 0) == 0 && path.back() == ')', "no key form for %s", shown(v).c_str());
            const std::string enc = path.substr(7, path.size() - 8);
            check_encoded(enc, "@'", "user key");
            const auto dec = od::percent_decode(enc);
            FUZZ_CHECK(dec.has_value(), "user key does not decode");
            const auto key = so::parse_key_segment("users(" + *dec + ")");
            FUZZ_CHECK(key && key->key_property.empty() && key->key_value == v, "user key does not hold the value: %s",
                       shown(path).c_str());
        } else {
            FUZZ_CHECK(path.rfind("/users/", 0) == 0, "user path: %s", shown(path).c_str());
            const std::string seg = path.substr(7);
            FUZZ_CHECK(seg.find_first_of("/?#") == std::string::npos, "user path segment splits: %s",
                       shown(path).c_str());
            check_encoded(seg, "@'", "user path");
            check_inverse(v, seg, "user path");
        }
        const std::string entity = od::entity_path("applications", v);
        FUZZ_CHECK(entity == "/applications/" + od::encode_path_segment(v), "entity path");
    } else {
        bool refused = false;
        try {
            (void)od::user_path(v);
        } catch (const od::invalid_value&) {
            refused = true;
        }
        FUZZ_CHECK(refused, "user_path accepted an empty or dot segment");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    const auto nul = input.find('\0');
    const std::string v1 = input.substr(0, nul);
    const std::string v2 = nul == std::string::npos ? std::string("x") : input.substr(nul + 1);

    // Encoders of any bytes, and the two decoders.
    for (const std::string* raw : {&input, &v1}) {
        check_encoded(od::encode_form(*raw), "", "encode_form");
        check_inverse(*raw, od::encode_form(*raw), "encode_form");
        check_encoded(od::encode_query(*raw), "'(),:/", "encode_query");
        check_inverse(*raw, od::encode_query(*raw), "encode_query");
        check_encoded(od::encode_path_segment(*raw), "@'", "encode_path_segment");
        check_inverse(*raw, od::encode_path_segment(*raw), "encode_path_segment");
    }
    const auto g = od::percent_decode(input);
    const auto s = so::percent_decode(input, false);
    FUZZ_CHECK(g == s, "the percent decoders disagree on %s", shown(input).c_str());

    check_value_encodings(v1);
    check_value_encodings(v2);

    // Property paths: only identifier paths pass.
    {
        bool plain = !v1.empty();
        for (const char c : v1) plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_');
        bool accepted = true;
        try {
            od::filter f;
            f.eq(v1, "x");
        } catch (const std::invalid_argument&) {
            accepted = false;
        }
        FUZZ_CHECK(accepted == plain, "property path %s: accepted=%d", shown(v1).c_str(), accepted);
    }

    if (od::check_value(v1) || od::check_value(v2)) return 0;

    // A filter of validated values parses back to exactly its terms.
    od::filter f;
    f.eq("userPrincipalName", v1)
        .any_property_eq("targetResources", "id", v2)
        .starts_with("displayName", v1)
        .any_eq("signInEventTypes", v2);
    so::parse_error err;
    const auto tree = so::parse_filter(f.str(), err);
    FUZZ_CHECK(tree != nullptr, "our filter does not parse: %s: %s", err.message.c_str(), shown(f.str(), 400).c_str());
    // ((a and b) and c) and d
    FUZZ_CHECK(tree->k == so::node::kind::logical_and, "top is not 'and': %s", shown(f.str(), 400).c_str());
    const auto& abc = tree->args[0];
    const auto& d = tree->args[1];
    FUZZ_CHECK(abc && abc->k == so::node::kind::logical_and, "filter shape (abc): %s", shown(f.str(), 400).c_str());
    const auto& ab = abc->args[0];
    const auto& c = abc->args[1];
    FUZZ_CHECK(ab && ab->k == so::node::kind::logical_and, "filter shape (ab): %s", shown(f.str(), 400).c_str());
    expect_eq(ab->args[0], {"userPrincipalName"}, v1);
    const auto& b = ab->args[1];
    FUZZ_CHECK(b && b->k == so::node::kind::lambda && b->op == "any" && b->var == "t" && b->args.size() == 2,
               "expected any(): %s", shown(f.str(), 400).c_str());
    expect_property(b->args[0], {"targetResources"});
    expect_eq(b->args[1], {"t", "id"}, v2);
    FUZZ_CHECK(c && c->k == so::node::kind::call && c->op == "startswith" && c->args.size() == 2,
               "expected startswith");
    expect_property(c->args[0], {"displayName"});
    expect_literal(c->args[1], v1);
    FUZZ_CHECK(d && d->k == so::node::kind::lambda && d->op == "any" && d->args.size() == 2, "expected any() (d)");
    expect_property(d->args[0], {"signInEventTypes"});
    FUZZ_CHECK(d->args[1] && d->args[1]->k == so::node::kind::compare && d->args[1]->args.size() == 2, "expected t eq");
    expect_property(d->args[1]->args[0], {"t"});
    expect_literal(d->args[1]->args[1], v2);

    // The query string: exactly $filter and $top, the filter unchanged (Graph decodes '+' as space).
    const std::string query = f.query() + "&$top=5";
    const auto options = so::parse_query(query);
    FUZZ_CHECK(options && options->size() == 2 && options->count("$filter") && options->count("$top"),
               "query options injected: %s", shown(query, 400).c_str());
    FUZZ_CHECK(options->at("$filter") == f.str(), "the filter changed in the URL: %s", shown(query, 400).c_str());
    FUZZ_CHECK(options->at("$top") == "5", "$top changed");
    return 0;
}
