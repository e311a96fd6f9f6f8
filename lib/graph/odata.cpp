#include "graph/odata.hpp"

#include <cctype>

#include "core/time.hpp"

namespace containd::graph::odata {
namespace {

bool is_unreserved(unsigned char c) { return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~'; }

std::string encode(std::string_view raw, std::string_view keep) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(raw.size() * 3);
    for (const char ch : raw) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x80 && (is_unreserved(c) || keep.find(ch) != std::string_view::npos)) {
            out.push_back(ch);
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 0x0f]);
        }
    }
    return out;
}

// Property paths come from our code, never from input; still, refuse anything that is not a
// plain identifier path so a mistake cannot inject syntax.
void check_property(std::string_view p) {
    if (p.empty()) throw std::invalid_argument("empty OData property path");
    for (const char c : p)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_'))
            throw std::invalid_argument("invalid OData property path");
}

// Returns the number of bytes of the UTF-8 sequence at s[i] and its code point, or 0 if invalid.
std::size_t utf8_sequence(std::string_view s, std::size_t i, char32_t& cp) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t len;
    if (b0 < 0x80) {
        cp = b0;
        return 1;
    }
    if ((b0 & 0xe0) == 0xc0) {
        len = 2;
        cp = b0 & 0x1f;
    } else if ((b0 & 0xf0) == 0xe0) {
        len = 3;
        cp = b0 & 0x0f;
    } else if ((b0 & 0xf8) == 0xf0) {
        len = 4;
        cp = b0 & 0x07;
    } else
        return 0;
    if (i + len > s.size()) return 0;
    for (std::size_t k = 1; k < len; ++k) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        if ((b & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (b & 0x3f);
    }
    // Overlong forms, surrogates and values beyond U+10FFFF are not valid UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return 0;
    if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return 0;
    return len;
}

}  // namespace

std::optional<std::string> check_value(std::string_view value) {
    if (value.size() > max_literal_bytes) return "longer than " + std::to_string(max_literal_bytes) + " bytes";
    for (std::size_t i = 0; i < value.size();) {
        char32_t cp = 0;
        const std::size_t n = utf8_sequence(value, i, cp);
        if (n == 0) return "not valid UTF-8 (byte " + std::to_string(i) + ")";
        if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
            return "contains a control character (byte " + std::to_string(i) + ")";
        i += n;
    }
    return std::nullopt;
}

std::string literal(std::string_view value) {
    if (auto reason = check_value(value)) throw invalid_value("invalid OData value: " + *reason);
    std::string out = "'";
    for (const char c : value) {
        out.push_back(c);
        if (c == '\'') out.push_back('\'');
    }
    out.push_back('\'');
    return out;
}

std::string quote(std::string_view value) { return encode_query(literal(value)); }

std::string encode_query(std::string_view raw) { return encode(raw, "'(),:/"); }
std::string encode_path_segment(std::string_view raw) { return encode(raw, "@'"); }
std::string encode_form(std::string_view raw) { return encode(raw, ""); }

std::optional<std::string> percent_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out.push_back(text[i]);
            continue;
        }
        if (i + 2 >= text.size() || !std::isxdigit(static_cast<unsigned char>(text[i + 1])) ||
            !std::isxdigit(static_cast<unsigned char>(text[i + 2])))
            return std::nullopt;
        out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
        i += 2;
    }
    return out;
}

std::string entity_path(std::string_view collection, std::string_view key) {
    if (key.empty() || key == "." || key == "..") throw invalid_value("invalid key: empty or a dot segment");
    if (auto reason = check_value(key)) throw invalid_value("invalid key: " + *reason);
    return "/" + std::string(collection) + "/" + encode_path_segment(key);
}

std::string alternate_key_path(std::string_view collection, std::string_view property, std::string_view value) {
    if (value.empty()) throw invalid_value("invalid key: empty");
    return "/" + std::string(collection) + "(" + std::string(property) + "=" + encode_path_segment(literal(value)) +
           ")";
}

std::string user_path(std::string_view id_or_upn) {
    if (!id_or_upn.empty() && id_or_upn.front() == '$') {
        // Key-in-parentheses form; the literal's content is encoded like a segment.
        const std::string lit = literal(id_or_upn);
        return "/users(" + encode_path_segment(lit) + ")";
    }
    return entity_path("users", id_or_upn);
}

std::string datetime_literal(time_point t) {
    // floor, not time_point_cast (which rounds towards 1970: a second up before it; tests/fuzz).
    std::string s = format_rfc3339(std::chrono::floor<std::chrono::seconds>(t));
    // format_rfc3339 writes milliseconds: "...T10:00:00.000Z" -> "...T10:00:00Z".
    if (const auto dot = s.find('.'); dot != std::string::npos) s = s.substr(0, dot) + "Z";
    return s;
}

filter& filter::add(std::string term) {
    terms_.push_back(std::move(term));
    return *this;
}

filter& filter::eq(std::string_view property, std::string_view value) {
    check_property(property);
    return add(std::string(property) + " eq " + literal(value));
}

filter& filter::eq_number(std::string_view property, long long value) {
    check_property(property);
    return add(std::string(property) + " eq " + std::to_string(value));
}

filter& filter::starts_with(std::string_view property, std::string_view value) {
    check_property(property);
    return add("startswith(" + std::string(property) + "," + literal(value) + ")");
}

filter& filter::ge(std::string_view property, time_point t) {
    check_property(property);
    return add(std::string(property) + " ge " + datetime_literal(t));
}

filter& filter::le(std::string_view property, time_point t) {
    check_property(property);
    return add(std::string(property) + " le " + datetime_literal(t));
}

filter& filter::lt(std::string_view property, time_point t) {
    check_property(property);
    return add(std::string(property) + " lt " + datetime_literal(t));
}

filter& filter::any_eq(std::string_view collection, std::string_view value) {
    check_property(collection);
    return add(std::string(collection) + "/any(t: t eq " + literal(value) + ")");
}

filter& filter::any_property_eq(std::string_view collection, std::string_view property, std::string_view value) {
    check_property(collection);
    check_property(property);
    return add(std::string(collection) + "/any(t: t/" + std::string(property) + " eq " + literal(value) + ")");
}

std::string filter::str() const {
    std::string out;
    for (std::size_t i = 0; i < terms_.size(); ++i) {
        if (i) out += " and ";
        out += terms_[i];
    }
    return out;
}

std::string filter::query() const { return "$filter=" + encode_query(str()); }

}  // namespace containd::graph::odata
