#include <gtest/gtest.h>

#include "core/net.hpp"
#include "core/text.hpp"

using namespace containd;

TEST(Text, lower_maps_ascii_letters_only) {
    EXPECT_EQ(lower("Finance.Director@CONTOSO.com"), "finance.director@contoso.com");
    EXPECT_EQ(lower("Bearer ABCxyz-09_@[`{"), "bearer abcxyz-09_@[`{");
    EXPECT_EQ(lower(""), "");
    // UTF-8 bytes pass through untouched (no locale-dependent folding of "É" or "İ").
    EXPECT_EQ(lower("J\xC3\x89R\xC3\x94ME"), "j\xC3\x89r\xC3\x94me");
    EXPECT_EQ(lower(std::string("A\0B", 3)), std::string("a\0b", 3));
}

TEST(Net, loopback_hosts_are_this_host_only) {
    for (const char* yes : {"localhost", "127.0.0.1", "127.1.2.3", "127.255.255.255", "::1", "[::1]"})
        EXPECT_TRUE(is_loopback_host(yes)) << yes;
    for (const char* no : {"", "0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "127.0.0.1.evil.example", "127.0.0",
                           "127..0.1", "127.0.0.1234", "localhost.example", "LOCALHOST2", "::ffff:127.0.0.1"})
        EXPECT_FALSE(is_loopback_host(no)) << no;
}

TEST(Net, matches_ipv4_and_ipv6_ranges) {
    EXPECT_TRUE(ip_in_ranges("198.51.100.200", {"198.51.100.0/24"}));
    EXPECT_FALSE(ip_in_ranges("198.51.101.1", {"198.51.100.0/24"}));
    EXPECT_TRUE(ip_in_ranges("2001:db8::1", {"2001:db8::/32"}));
    EXPECT_FALSE(ip_in_ranges("2001:db9::1", {"2001:db8::/32"}));
    EXPECT_TRUE(ip_in_ranges("192.0.2.1", {"192.0.2.1"}));
    EXPECT_FALSE(ip_in_ranges("not-an-ip", {"0.0.0.0/0"}));
    EXPECT_FALSE(ip_in_ranges("192.0.2.1", {"2001:db8::/32", "bad/99"}));
}
