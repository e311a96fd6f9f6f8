#include "core/net.hpp"

#include <arpa/inet.h>

#include <array>
#include <cstring>
#include <optional>

namespace containd {
namespace {

// Parses an address into 16 bytes (IPv4 mapped into ::ffff:0:0/96) and its family's bit offset.
std::optional<std::array<unsigned char, 16>> parse_address(const std::string& ip, int& offset_bits) {
    std::array<unsigned char, 16> out{};
    in_addr v4{};
    if (inet_pton(AF_INET, ip.c_str(), &v4) == 1) {
        out[10] = out[11] = 0xff;
        std::memcpy(out.data() + 12, &v4, 4);
        offset_bits = 96;
        return out;
    }
    in6_addr v6{};
    if (inet_pton(AF_INET6, ip.c_str(), &v6) == 1) {
        std::memcpy(out.data(), &v6, 16);
        offset_bits = 0;
        return out;
    }
    return std::nullopt;
}

}  // namespace

bool ip_in_ranges(const std::string& ip, const std::vector<std::string>& cidrs) {
    int ip_offset = 0;
    const auto address = parse_address(ip, ip_offset);
    if (!address) return false;
    for (const auto& cidr : cidrs) {
        const auto slash = cidr.find('/');
        int range_offset = 0;
        const auto network = parse_address(cidr.substr(0, slash), range_offset);
        if (!network || range_offset != ip_offset) continue;
        int prefix = range_offset == 96 ? 32 : 128;
        if (slash != std::string::npos) {
            try {
                prefix = std::stoi(cidr.substr(slash + 1));
            } catch (...) {
                continue;
            }
        }
        if (prefix < 0 || prefix > (range_offset == 96 ? 32 : 128)) continue;
        int bits = range_offset + prefix;
        bool match = true;
        for (int i = 0; i < 16 && bits > 0 && match; ++i, bits -= 8) {
            const unsigned char mask = bits >= 8 ? 0xff : static_cast<unsigned char>(0xff << (8 - bits));
            match = ((*address)[i] & mask) == ((*network)[i] & mask);
        }
        if (match) return true;
    }
    return false;
}

}  // namespace containd
