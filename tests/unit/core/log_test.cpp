#include <gtest/gtest.h>

#include "core/log.hpp"

using namespace containd;

TEST(Log, structured_events_become_json_members) {
    const auto line =
        "{\"time\":\"t\",\"level\":\"info\"" + format_log_payload(R"({"event":"step_succeeded","step":3})") + "}";
    const auto parsed = nlohmann::json::parse(line);
    EXPECT_EQ(parsed["event"], "step_succeeded");
    EXPECT_EQ(parsed["step"], 3);
}

TEST(Log, plain_text_is_escaped_so_input_cannot_forge_a_line) {
    const std::string hostile = "ap.clerk@contoso.com\r\n{\"level\":\"info\",\"event\":\"forged\"}\x01";
    const auto payload = format_log_payload(hostile);
    EXPECT_EQ(payload.find('\n'), std::string::npos);
    EXPECT_EQ(payload.find('\r'), std::string::npos);
    const auto parsed = nlohmann::json::parse("{\"level\":\"info\"" + payload + "}");
    EXPECT_EQ(parsed["msg"], hostile);
}
