#pragma once
// Property checks for the fuzz targets: a violated property prints what was expected and aborts,
// which libFuzzer reports as a crash and saves the input (crash-<sha1>) for replay.

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            std::fprintf(stderr, "\nPROPERTY VIOLATED at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            std::fprintf(stderr, "  " __VA_ARGS__);                                                \
            std::fprintf(stderr, "\n");                                                            \
            std::abort();                                                                          \
        }                                                                                          \
    } while (0)

namespace containd::fuzz {

// A short, printable rendering of a value for a violation message.
inline std::string shown(std::string_view s, std::size_t max = 200) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (const char ch : s.substr(0, max)) {
        const auto c = static_cast<unsigned char>(ch);
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out.push_back(ch);
        } else {
            out += "\\x";
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    if (s.size() > max) out += "...";
    return out;
}

}  // namespace containd::fuzz
