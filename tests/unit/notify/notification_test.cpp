// The pure part of notifications: which events notify, what the payloads say (and never say),
// the three formats, and the signature.

#include <gtest/gtest.h>

#include "core/time.hpp"
#include "notify/notification.hpp"

namespace containd::notify {
namespace {

using json = nlohmann::json;

store::event_record event(std::int64_t id, std::string kind, json data, std::optional<int> seq = std::nullopt) {
    store::event_record e;
    e.id = id;
    e.incident_id = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
    e.at = *parse_rfc3339("2026-03-12T09:00:00Z");
    e.kind = std::move(kind);
    e.step_seq = seq;
    e.data = std::move(data);
    return e;
}

event_context ctx(std::optional<std::string> step_kind = std::nullopt) {
    event_context c;
    c.tenant = "contoso";
    c.external_ref = "SENTINEL-4711";
    c.status = "running";
    c.phase = "contain";
    c.step_kind = std::move(step_kind);
    return c;
}

TEST(NotificationSignature, IsHmacSha256OverTimestampDotBody) {
    // python3: hmac.new(b'webhook-key', b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    EXPECT_EQ(sign("webhook-key", "1700000000", R"({"a":1})"),
              "sha256=4ea5b77bd5ee978f109de0a670bdf8bb05fcbb78feae562e0c6c38c56baa1f17");
    const std::string header = sign("webhook-key", "1700000000", "body");
    EXPECT_TRUE(verify("webhook-key", "1700000000", "body", header));
    EXPECT_FALSE(verify("webhook-key", "1700000001", "body", header));   // another timestamp
    EXPECT_FALSE(verify("webhook-key", "1700000000", "body ", header));  // another body
    EXPECT_FALSE(verify("other-key", "1700000000", "body", header));
    EXPECT_FALSE(verify("webhook-key", "1700000000", "body", header.substr(0, 20)));
}

TEST(NotificationMapping, EachNotifiedEventKindBecomesItsNotification) {
    auto one = [](const store::event_record& e, const event_context& c) {
        auto out = from_event(e, c);
        EXPECT_EQ(out.size(), 1u) << e.kind;
        return out.empty() ? notification{} : out.front();
    };
    auto accepted = one(event(1, "accepted", {{"tenant", "contoso"}, {"steps", 30}, {"accounts", 4}}), ctx());
    EXPECT_EQ(accepted.kind, "accepted");
    EXPECT_EQ(accepted.source, "event:1");
    EXPECT_EQ(accepted.payload["details"]["accounts"], 4);
    EXPECT_EQ(accepted.payload["incident"]["external_ref"], "SENTINEL-4711");
    EXPECT_EQ(accepted.payload["schema"], "containd.notification.v1");

    auto contained = one(event(2, "contained_at_recorded", {{"contained_at", "2026-03-12T09:00:02Z"}}), ctx());
    EXPECT_EQ(contained.kind, "contained");
    EXPECT_EQ(contained.payload["details"]["contained_at"], "2026-03-12T09:00:02Z");

    auto attention = one(event(3, "status_changed",
                               {{"from", "running"},
                                {"to", "needs_attention"},
                                {"attention", {"step 4 (reset_password x) failed: HTTP 403"}}}),
                         ctx());
    EXPECT_EQ(attention.kind, "attention_raised");
    EXPECT_EQ(attention.payload["details"]["attention"][0], "step 4 (reset_password x) failed: HTTP 403");

    auto verdict =
        one(event(4, "step_succeeded",
                  {{"verdict", "attention"}, {"check", "+15m"}, {"diagnosis", {"203.0.113.66 still signs in"}}}, 20),
            ctx("verify_signins"));
    EXPECT_EQ(verdict.kind, "verification_verdict");
    EXPECT_EQ(verdict.payload["details"]["verdict"], "attention");
    EXPECT_EQ(verdict.payload["details"]["check"], "+15m");

    auto released = one(event(5, "step_succeeded", json::object(), 31), ctx("release_block"));
    EXPECT_EQ(released.kind, "released");

    auto waiting =
        approval_waiting("inc", ctx(), 27, "delete_application", "app-1", *parse_rfc3339("2026-03-12T09:00:00Z"));
    EXPECT_EQ(waiting.kind, "approval_waiting");
    EXPECT_EQ(waiting.source, "approval:inc:delete_application:app-1");

    auto health = tenant_health("contoso", false, {"missing application permission User.ReadWrite.All"}, 3,
                                *parse_rfc3339("2026-03-12T09:00:00Z"));
    EXPECT_EQ(health.kind, "tenant_health");
    EXPECT_EQ(health.source, "health:contoso:3");
    EXPECT_FALSE(health.payload.contains("incident"));
    EXPECT_EQ(health.payload["details"]["healthy"], false);
}

TEST(NotificationMapping, OtherEventsNotifyNobody) {
    for (const char* kind : {"step_started", "step_retry_scheduled", "step_failed", "phase_changed", "secret_stored",
                             "secret_revealed", "evidence_captured", "plan_refined"})
        EXPECT_TRUE(from_event(event(9, kind, {{"error", "x"}}, 3), ctx("reset_password")).empty()) << kind;
    // A status change to anything but needs_attention, and a success of an ordinary step.
    EXPECT_TRUE(from_event(event(9, "status_changed", {{"to", "verifying"}}), ctx()).empty());
    EXPECT_TRUE(from_event(event(9, "step_succeeded", {{"verdict", "contained"}}, 3), ctx("reset_password")).empty());
}

TEST(NotificationPayload, CarriesOnlyWhitelistedFields) {
    // An event whose data holds what must never leave: the payload copies none of it.
    const std::string marker = "PLANTED-SECRET-9f8e7d";
    const json data = {{"verdict", "contained"}, {"check", "+60m"},        {"password", marker},
                       {"tap", marker},          {"access_token", marker}, {"intent", {{"body", marker}}},
                       {"result", marker}};
    for (const auto& n : from_event(event(7, "step_succeeded", data, 22), ctx("verify_signins")))
        for (const char* format : {"json", "teams", "slack"})
            EXPECT_EQ(render(n.payload, format).find(marker), std::string::npos) << format;
    const json accepted = {{"steps", 3}, {"accounts", 1}, {"request", {{"secret", marker}}}};
    for (const auto& n : from_event(event(8, "accepted", accepted), ctx()))
        EXPECT_EQ(render(n.payload, "json").find(marker), std::string::npos);
}

TEST(NotificationPayload, LongForeignTextsAreBounded) {
    const std::string long_text(5000, 'x');
    const auto out =
        from_event(event(3, "status_changed", {{"to", "needs_attention"}, {"attention", {long_text}}}), ctx());
    ASSERT_EQ(out.size(), 1u);
    EXPECT_LT(out[0].payload.dump().size(), 2500u);
}

TEST(NotificationFormats, TeamsIsAnAdaptiveCardMessage) {
    const auto n = from_event(event(2, "contained_at_recorded", {{"contained_at", "2026-03-12T09:00:02Z"}}), ctx());
    const json teams = json::parse(render(n.at(0).payload, "teams"));
    EXPECT_EQ(teams["type"], "message");
    const auto& attachment = teams["attachments"].at(0);
    EXPECT_EQ(attachment["contentType"], "application/vnd.microsoft.card.adaptive");
    EXPECT_EQ(attachment["content"]["type"], "AdaptiveCard");
    EXPECT_EQ(attachment["content"]["body"][0]["text"], "Contained: emergency block in force");
    bool has_tenant = false;
    for (const auto& f : attachment["content"]["body"][2]["facts"])
        has_tenant |= f["title"] == "Tenant" && f["value"] == "contoso";
    EXPECT_TRUE(has_tenant);
}

TEST(NotificationFormats, SlackIsBlockKitInPlainText) {
    // A text with Slack markup must not become a mention or a link: plain_text only.
    auto c = ctx();
    c.external_ref = "<!channel> <https://evil.example|click>";
    const auto n = from_event(event(1, "accepted", {{"steps", 1}, {"accounts", 1}}), c);
    const json slack = json::parse(render(n.at(0).payload, "slack"));
    ASSERT_TRUE(slack["blocks"].is_array());
    EXPECT_EQ(slack["blocks"][0]["type"], "header");
    EXPECT_TRUE(slack["text"].is_string());
    for (const auto& block : slack["blocks"]) {
        if (block.contains("text")) {
            EXPECT_EQ(block["text"]["type"], "plain_text");
        }
        for (const auto& f : block.value("fields", json::array())) EXPECT_EQ(f["type"], "plain_text");
    }
    EXPECT_LE(slack["blocks"][0]["text"]["text"].get<std::string>().size(), 150u);
}

}  // namespace
}  // namespace containd::notify
