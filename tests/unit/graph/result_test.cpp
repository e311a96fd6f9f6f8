#include <gtest/gtest.h>

#include "core/time.hpp"
#include "graph/api.hpp"
#include "graph/result.hpp"

using namespace containd;
using namespace containd::graph;

TEST(GraphResult, parses_the_graph_error_body) {
    call_result r;
    r.status = 404;
    r.body = nlohmann::json::parse(
        R"({"error":{"code":"Request_ResourceNotFound","message":"Resource 'x' does not exist.\r\nmore","innerError":{"request-id":"r"}}})");
    parse_error_body(r);
    EXPECT_EQ(r.error_code, "Request_ResourceNotFound");
    EXPECT_EQ(r.error_message, "Resource 'x' does not exist.");
}

TEST(GraphResult, parses_the_aadsts_token_error_body) {
    call_result r;
    r.status = 401;
    r.body = nlohmann::json::parse(
        R"({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1\r\nCorrelation ID: 2","error_codes":[7000215],"timestamp":"2024-01-01 00:00:00Z"})");
    parse_error_body(r);
    EXPECT_EQ(r.error_code, "invalid_client");
    EXPECT_EQ(r.error_message, "AADSTS7000215: Invalid client secret provided.");
    ASSERT_EQ(r.aadsts_codes.size(), 1u);
    EXPECT_EQ(r.aadsts_codes[0], 7000215);
}

// Found by tests/fuzz (fuzz_graph_json): an error code holding CR/LF made describe() -- the
// one-line text of logs and step records -- span several lines.
TEST(GraphResult, error_codes_with_line_breaks_keep_describe_on_one_line) {
    for (const char* body : {R"({"error":{"code":"Forbidden\r\nInjected: line","message":"m"}})",
                             R"({"error":"invalid_client\nInjected","error_description":"AADSTS7000215: x"})"}) {
        call_result r;
        r.status = 400;
        r.body = nlohmann::json::parse(body);
        parse_error_body(r);
        EXPECT_EQ(r.error_code.find_first_of("\r\n"), std::string::npos) << body;
        EXPECT_EQ(describe(r).find_first_of("\r\n"), std::string::npos) << describe(r);
    }
    call_result r;
    r.status = 400;
    r.body = {{"error", {{"code", std::string(500, 'C')}}}};
    parse_error_body(r);
    EXPECT_EQ(r.error_code, std::string(100, 'C') + "...");
}

TEST(GraphResult, other_bodies_leave_the_error_empty) {
    call_result r;
    r.body = nlohmann::json::parse(R"({"value":[]})");
    parse_error_body(r);
    EXPECT_TRUE(r.error_code.empty());
    r.body = nullptr;
    parse_error_body(r);
    EXPECT_TRUE(r.error_code.empty());
}

TEST(GraphResult, describe_gives_status_code_message_and_retry_after_but_no_body) {
    call_result r;
    r.status = 429;
    r.error_code = "TooManyRequests";
    r.error_message = "Please retry again later.";
    r.retry_after = "2.128";
    r.body = {{"marker", "BODY-CONTENT"}};
    const std::string d = describe(r);
    EXPECT_EQ(d, "HTTP 429 TooManyRequests: Please retry again later. (Retry-After: 2.128)");
    call_result t;
    t.transport = transport_error::timeout;
    t.transport_detail = "The socket was closed due to a timeout";
    EXPECT_EQ(describe(t), "transport timeout: The socket was closed due to a timeout");
    call_result tok;
    tok.status = 401;
    tok.token_failure = true;
    tok.error_code = "invalid_client";
    tok.aadsts_codes = {7000215};
    EXPECT_EQ(describe(tok), "token endpoint HTTP 401 invalid_client [7000215]");
}

TEST(GraphResult, ok_requires_2xx_and_a_usable_body) {
    call_result r;
    r.status = 204;
    EXPECT_TRUE(r.ok());
    r.malformed = true;
    EXPECT_FALSE(r.ok());
    r.malformed = false;
    r.status = 0;
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(r.is_transport_failure());
}

TEST(GraphResult, delete_results_distinguish_removed_and_already_absent) {
    call_result ok;
    ok.status = 204;
    EXPECT_EQ(interpret_delete(ok).outcome, removal::removed);
    call_result gone;
    gone.status = 404;
    EXPECT_EQ(interpret_delete(gone).outcome, removal::already_absent);
    EXPECT_TRUE(interpret_delete(gone).ok());
    call_result bad;
    bad.status = 400;
    EXPECT_EQ(interpret_delete(bad).outcome, removal::failed);
    call_result transport;
    EXPECT_EQ(interpret_delete(transport).outcome, removal::failed);
}

TEST(GraphResult, unknown_key_id_on_remove_password_counts_as_already_absent) {
    call_result r;
    r.status = 400;
    r.error_code = "Request_BadRequest";
    r.error_message = "No password credential found with keyId f0b0b335-1d71-4883-8f98-567911bfdca6.";
    EXPECT_EQ(interpret_remove_password(r, "f0b0b335-1d71-4883-8f98-567911bfdca6").outcome, removal::already_absent);
    r.error_message = "Key credential with keyId 'F0B0B335-1D71-4883-8F98-567911BFDCA6' not found";
    EXPECT_EQ(interpret_remove_password(r, "f0b0b335-1d71-4883-8f98-567911bfdca6").outcome, removal::already_absent);
    r.error_message =
        "Invalid value specified for property 'keyId' of resource 'f0b0b335-1d71-4883-8f98-567911bfdca6'.";
    EXPECT_EQ(interpret_remove_password(r, "f0b0b335-1d71-4883-8f98-567911bfdca6").outcome, removal::failed);
    r.error_message = "Insufficient privileges";
    EXPECT_EQ(interpret_remove_password(r, "k").outcome, removal::failed);
    r.status = 404;
    EXPECT_EQ(interpret_remove_password(r, "k").outcome, removal::already_absent);
    r.status = 204;
    EXPECT_EQ(interpret_remove_password(r, "k").outcome, removal::removed);
}

// Retry-After: tests/unit/core/time_test.cpp (RetryAfter.*), the one parser graph and engine share.
