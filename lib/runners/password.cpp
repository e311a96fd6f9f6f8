#include "runners/password.hpp"

#include <string_view>
#include <utility>

#include "core/crypto.hpp"

namespace containd::runners {
namespace {

constexpr std::string_view upper = "ABCDEFGHJKLMNPQRSTUVWXYZ";
constexpr std::string_view lower = "abcdefghijkmnopqrstuvwxyz";
constexpr std::string_view digits = "23456789";
constexpr std::string_view symbols = "!@#$%^&*()-_=+[]{};:,.?";

char pick(std::string_view alphabet) { return alphabet[random_below(static_cast<std::uint32_t>(alphabet.size()))]; }

}  // namespace

std::string generate_temporary_password() {
    std::string out;
    for (std::size_t i = 0; i < temporary_password_symbols; ++i) out += pick(symbols);
    out += pick(upper);
    out += pick(lower);
    out += pick(digits);
    static const std::string any = std::string(upper) + std::string(lower) + std::string(digits) + std::string(symbols);
    while (out.size() < temporary_password_length) out += pick(any);
    // Fisher-Yates with the CSPRNG, so the fixed classes are not at fixed positions.
    for (std::size_t i = out.size() - 1; i > 0; --i)
        std::swap(out[i], out[random_below(static_cast<std::uint32_t>(i + 1))]);
    return out;
}

}  // namespace containd::runners
