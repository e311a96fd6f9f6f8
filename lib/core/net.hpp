#pragma once
// Addresses: whether one names this host only (the daemon refuses a plaintext API on anything
// else, lib/config, and containctl warns before sending a token over http:// to anything else),
// and whether one lies inside a list of CIDR ranges (attacker IPs against the IR team's named
// locations, in the plan and in verification).

#include <string>
#include <string_view>
#include <vector>

namespace containd {

// True for "localhost", 127.0.0.0/8 in dotted-quad form and ::1 (with or without brackets);
// false for everything else, the wildcard addresses 0.0.0.0 and :: included.
inline bool is_loopback_host(std::string_view host) {
    if (host == "localhost" || host == "::1" || host == "[::1]") return true;
    if (host.substr(0, 4) != "127.") return false;
    int dots = 0, digits = 0;
    for (const char c : host) {
        if (c == '.') {
            if (digits == 0 || digits > 3) return false;
            ++dots;
            digits = 0;
        } else if (c >= '0' && c <= '9') {
            ++digits;
        } else {
            return false;
        }
    }
    return dots == 3 && digits > 0 && digits <= 3;
}

// True when `ip` (IPv4 or IPv6 text) lies inside one of `cidrs` ("203.0.113.0/24", "2001:db8::/32";
// a bare address is a /32 or /128). An IPv4 address never matches an IPv6 range. Malformed
// addresses or ranges match nothing.
bool ip_in_ranges(const std::string& ip, const std::vector<std::string>& cidrs);

}  // namespace containd
