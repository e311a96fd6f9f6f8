// The emergency policy's standing snapshot: what counts as drift, and what containd's own writes
// change. Pure: no Graph, no store.
#include <gtest/gtest.h>

#include "runners/policy_keeper.hpp"

using namespace containd;
using nlohmann::json;
using runners::policy_differences;
using runners::policy_keeper;

namespace {

json block(std::vector<std::string> include, std::vector<std::string> exclude, std::string state = "enabled") {
    return {{"state", state},
            {"conditions",
             {{"users", {{"includeUsers", include}, {"excludeUsers", exclude}}},
              {"locations", {{"includeLocations", {"All"}}, {"excludeLocations", {"ir-location"}}}}}},
            {"grantControls", {{"operator", "OR"}, {"builtInControls", {"block"}}}}};
}

const time_point t0 = from_unix_ms(1'773'273'600'000);

}  // namespace

TEST(PolicyDifferences, none_when_the_policy_has_everything_and_more_users_blocked) {
    EXPECT_TRUE(policy_differences(block({"a", "b"}, {"bg"}), block({"a", "b", "admin-added"}, {"bg"})).empty());
    EXPECT_TRUE(policy_differences(block({"a"}, {"bg"}), block({"All"}, {"bg"})).empty());
}

TEST(PolicyDifferences, names_each_thing_another_writer_undid) {
    json edited = block({"a"}, {"bg", "b"}, "disabled");
    edited["conditions"]["locations"]["excludeLocations"] = json::array();
    edited["grantControls"]["builtInControls"] = {"mfa"};
    const auto d = policy_differences(block({"a", "b"}, {"bg"}), edited);
    const std::vector<std::string> expected = {"state is disabled, not enabled", "user b is not included",
                                               "user b is excluded", "named location ir-location is not excluded",
                                               "grant control block is missing"};
    EXPECT_EQ(d, expected);
}

TEST(PolicyDifferences, a_break_glass_account_taken_out_of_the_exclusions_is_drift) {
    EXPECT_EQ(policy_differences(block({"a"}, {"bg1", "bg2"}), block({"a"}, {"bg1"})),
              std::vector<std::string>{"user bg2 is no longer excluded"});
}

TEST(PolicyKeeper, containd_s_own_write_is_not_drift_but_someone_else_s_is) {
    policy_keeper keeper;
    EXPECT_FALSE(keeper.standing("contoso"));
    EXPECT_TRUE(keeper.remember_read("contoso", {"p1", block({"None"}, {"bg"}, "disabled"), t0}).empty())
        << "the first read has nothing to differ from";
    keeper.remember_write("contoso", "p1", block({"a", "b"}, {"bg"}), t0 + seconds(1));
    EXPECT_EQ(keeper.standing("contoso")->policy.value("state", ""), "enabled");
    EXPECT_TRUE(keeper.remember_read("contoso", {"p1", block({"a", "b"}, {"bg"}), t0 + seconds(2)}).empty());
    const auto drift = keeper.remember_read("contoso", {"p1", block({"a"}, {"bg"}), t0 + minutes(5)});
    EXPECT_EQ(drift, std::vector<std::string>{"user b is not included"});
    EXPECT_EQ(keeper.standing("contoso")->read_at, t0 + minutes(5)) << "the fresh read is the snapshot now";
}

TEST(PolicyKeeper, keeps_break_glass_ids_per_tenant) {
    policy_keeper keeper;
    keeper.remember_break_glass("contoso", "bg@contoso.com", "id-1");
    EXPECT_EQ(keeper.break_glass_id("contoso", "bg@contoso.com"), "id-1");
    EXPECT_FALSE(keeper.break_glass_id("fabrikam", "bg@contoso.com"));
}
