#include <gtest/gtest.h>

#include <set>

#include "core/crypto.hpp"
#include "core/ids.hpp"

using namespace containd;

TEST(Crypto, sha256_matches_the_standard_vector) {
    EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Crypto, base64url_round_trips_without_padding) {
    const std::string data = "\xff\xfe\x00hello?>";
    const std::string encoded = base64url_encode(data);
    EXPECT_EQ(encoded.find('='), std::string::npos);
    EXPECT_EQ(base64url_decode(encoded), data);
    EXPECT_EQ(base64_decode(base64_encode("ab")), "ab");
    EXPECT_FALSE(base64_decode("a*=="));
}

TEST(Ids, random_uuids_are_canonical_and_distinct) {
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i) {
        const std::string id = random_uuid();
        EXPECT_TRUE(is_guid(id)) << id;
        EXPECT_EQ(id[14], '4');
        seen.insert(id);
    }
    EXPECT_EQ(seen.size(), 100u);
    EXPECT_FALSE(is_guid("not-a-guid"));
    EXPECT_FALSE(is_guid("0000000g-0000-0000-0000-000000000000"));
}
