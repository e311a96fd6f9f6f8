#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <type_traits>

#include "core/secret.hpp"

using namespace containd;

namespace {
template <class T, class = void>
struct streamable : std::false_type {};
template <class T>
struct streamable<T, std::void_t<decltype(std::declval<std::ostream&>() << std::declval<const T&>())>>
        : std::true_type {};

std::filesystem::path temp_file(const std::string& name, const std::string& content) {
    const auto path = std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()));
    std::ofstream(path, std::ios::binary) << content;
    return path;
}
}  // namespace

TEST(Secret, cannot_be_streamed_or_converted_to_a_string) {
    static_assert(!streamable<secret>::value);
    static_assert(!std::is_convertible_v<secret, std::string>);
    static_assert(!std::is_convertible_v<secret, std::string_view>);
    static_assert(!std::is_convertible_v<std::string, secret>);  // explicit construction only
    SUCCEED();
}

TEST(Secret, reveals_and_compares_its_value) {
    const secret a("hunter2"), b("hunter2"), c("hunter3");
    EXPECT_EQ(a.reveal(), "hunter2");
    EXPECT_TRUE(a.equals(b));
    EXPECT_FALSE(a.equals(c));
    EXPECT_FALSE(a.equals(secret("hunter")));
    secret moved(std::move(const_cast<secret&>(a)));
    EXPECT_EQ(moved.reveal(), "hunter2");
}

TEST(Secret, loads_from_a_file_without_the_trailing_newline) {
    const auto path = temp_file("containd-secret", "s3cr3t-value\r\n");
    const secret s = load_secret_file(path.string());
    EXPECT_EQ(s.reveal(), "s3cr3t-value");
    std::filesystem::remove(path);
}

TEST(Secret, file_errors_name_the_path_never_the_content) {
    const auto empty = temp_file("containd-secret-empty", "\n");
    try {
        load_secret_file(empty.string());
        FAIL();
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find(empty.string()), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("empty"), std::string::npos);
    }
    std::filesystem::remove(empty);
    EXPECT_THROW(load_secret_file("/nonexistent/containd/secret"), std::runtime_error);
}

TEST(Secret, loads_from_the_environment_and_names_only_the_variable_on_error) {
    ::setenv("CONTAIND_TEST_SECRET", "from-env-value", 1);
    EXPECT_EQ(load_secret_env("CONTAIND_TEST_SECRET").reveal(), "from-env-value");
    ::setenv("CONTAIND_TEST_SECRET", "", 1);
    try {
        load_secret_env("CONTAIND_TEST_SECRET");
        FAIL();
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("CONTAIND_TEST_SECRET"), std::string::npos);
    }
    ::unsetenv("CONTAIND_TEST_SECRET");
    EXPECT_THROW(load_secret_env("CONTAIND_TEST_SECRET"), std::runtime_error);
}
