#pragma once
// Small text helpers shared by every module (ASCII only: UPNs, hosts, header names, OData
// keywords and hex digests are compared case-insensitively in ASCII, never by locale).

#include <string>
#include <string_view>
#include <vector>

namespace containd {

// `s` with A-Z mapped to a-z; every other byte (UTF-8 included) unchanged.
inline std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// The items with `sep` between them ("a, b, c").
inline std::string join(const std::vector<std::string>& items, std::string_view sep = ", ") {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i) out += sep;
        out += items[i];
    }
    return out;
}

}  // namespace containd
