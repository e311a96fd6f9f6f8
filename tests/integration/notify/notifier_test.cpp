// The notifier end to end on loopback: the engine (manual clock, scripted runners) commits
// events, the pump queues them in the outbox, and deliveries go over real HTTPS to a receiver
// that checks every signature. Three subscribers: generic JSON (signed, every kind), Teams
// (only containment and attention) and Slack (one tenant's health and approvals).

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>

#include "core/log.hpp"
#include "notify/notification.hpp"
#include "notify/notifier.hpp"
#include "notify/outbox.hpp"
#include "support/engine_harness.hpp"
#include "support/fake_https_server.hpp"

namespace containd::testing {
namespace {

using json = nlohmann::json;
using test::fake_request;
using test::fake_response;

const std::string webhook_key = "webhook-hmac-key-3c1d0e";

class notifier_test : public ::testing::Test {
protected:
    void SetUp() override {
        tls = test::make_loopback_tls();
        receiver =
            std::make_unique<test::fake_https_server>(tls.server, [this](const fake_request& r) { return answer(r); });
        std::ofstream(h.dir_ / "ca.pem") << tls.authority.ca().cert_pem;
        std::ofstream(h.dir_ / "webhook.key") << webhook_key << "\n";
        settings.retry_first = seconds(10);
        settings.retry_max = seconds(60);
        settings.give_up_after = minutes(10);
        settings.timeout = seconds(5);
        auto sub = [&](std::string name, std::string format, std::vector<std::string> events) {
            config::notify_subscriber s;
            s.name = name;
            s.url = receiver->base_url() + "/hooks/" + name;
            s.format = std::move(format);
            s.events = std::move(events);
            s.ca_file = (h.dir_ / "ca.pem").string();
            if (s.format == "json") s.secret_file = (h.dir_ / "webhook.key").string();
            return s;
        };
        settings.subscribers = {sub("soc", "json", {}), sub("teams", "teams", {"contained", "attention_raised"}),
                                sub("slack", "slack", {"tenant_health", "approval_waiting"})};
        h.tenant.verification_offsets = {minutes(15), minutes(30), minutes(60)};
    }

    void open() {
        h.open();
        notifier = std::make_unique<notify::notifier>(h.ioc->get_executor(), *h.db, h.clock, settings);
    }

    fake_response answer(const fake_request& r) {
        const std::lock_guard lock(mutex);
        received.push_back(r);
        if (!failures.empty()) {
            const int code = failures.front();
            failures.erase(failures.begin());
            return fake_response::empty(code);
        }
        return fake_response::empty(204);
    }

    // The pump, then every due delivery (on the engine's io_context, as in the daemon).
    std::size_t flush() {
        notifier->pump();
        return test::run_coro(*h.ioc, notifier->deliver_due());
    }

    std::vector<fake_request> requests() {
        const std::lock_guard lock(mutex);
        return received;
    }

    // path -> kind -> sources seen (by delivery), checking every soc signature on the way.
    std::map<std::string, std::multiset<std::string>> kinds_by_path() {
        std::map<std::string, std::multiset<std::string>> out;
        std::set<std::string> deliveries;
        for (const auto& r : requests()) {
            const auto delivery = r.header("x-containd-delivery").value_or("");
            if (!deliveries.insert(r.path() + "#" + delivery).second) continue;  // an at-least-once repeat
            out[r.path()].insert(r.header("x-containd-event").value_or("?"));
        }
        return out;
    }

    engine_harness h{"notify"};
    test::loopback_tls tls;
    std::unique_ptr<test::fake_https_server> receiver;
    config::notify_settings settings;
    std::unique_ptr<notify::notifier> notifier;
    std::mutex mutex;
    std::vector<fake_request> received;
    std::vector<int> failures;  // the next answers' codes, then 204
};

json walkthrough_with_deletion() {
    auto body = walkthrough_submission();
    body["malicious_apps"][0]["delete_application"] = true;
    return body;
}

TEST_F(notifier_test, EveryKindIsDeliveredSignedOncePerSubscriber) {
    open();
    const std::string id = h.submit(walkthrough_with_deletion());
    ASSERT_TRUE(h.drive());
    ASSERT_EQ(h.db->get_incident(id)->status, store::incident_status::contained);
    ASSERT_EQ(h.eng->release(id, "ir-lead").result, engine::action_result::done);
    ASSERT_TRUE(h.drive());
    notifier->tenant_checked("contoso", false, {"the token lacks UserAuthenticationMethod.ReadWrite.All"});
    notifier->tenant_checked("contoso", false,
                             {"the token lacks UserAuthenticationMethod.ReadWrite.All"});  // no change
    notifier->tenant_checked("contoso", true, {});

    // A second incident whose password reset is refused: attention.
    *h.runners.behaviour = [base = healthy_tenant()](const engine::step_context& ctx) {
        if (ctx.step.kind == incident::step_kind::reset_password && ctx.incident.external_ref == "SENTINEL-4712") {
            script_result r;
            r.outcome = engine::step_outcome::give_up("HTTP 403 Authorization_RequestDenied");
            return r;
        }
        return base(ctx);
    };
    const std::string failing = h.submit(walkthrough_submission("SENTINEL-4712"));
    ASSERT_TRUE(h.drive());
    ASSERT_EQ(h.db->get_incident(failing)->status, store::incident_status::needs_attention);

    flush();
    const auto kinds = kinds_by_path();
    const std::multiset<std::string> soc = kinds.at("/hooks/soc");
    // accepted x2, contained x2, one approval (the first incident's app deletion), the first's
    // 3 verdicts and release, the second's attention, tenant health twice (broken, then healthy).
    EXPECT_EQ(soc.count("accepted"), 2u);
    EXPECT_EQ(soc.count("contained"), 2u);
    EXPECT_EQ(soc.count("approval_waiting"), 1u);
    // One verdict per sign-in check that ran (the first incident's three; the engine may run the
    // failing one's too, its block being in force).
    std::size_t checks = 0;
    for (const auto& incident_id : {id, failing})
        for (const auto& st : h.db->steps(incident_id))
            checks += st.kind == incident::step_kind::verify_signins && st.status == store::step_status::succeeded;
    EXPECT_GE(checks, 3u);
    EXPECT_EQ(soc.count("verification_verdict"), checks);
    EXPECT_EQ(soc.count("released"), 1u);
    EXPECT_EQ(soc.count("attention_raised"), 1u);
    EXPECT_EQ(soc.count("tenant_health"), 2u);
    EXPECT_EQ(kinds.at("/hooks/teams"), (std::multiset<std::string>{"contained", "contained", "attention_raised"}));
    EXPECT_EQ(kinds.at("/hooks/slack"),
              (std::multiset<std::string>{"approval_waiting", "tenant_health", "tenant_health"}));

    std::set<std::string> sources;
    for (const auto& r : requests()) {
        const auto ts = r.header("x-containd-timestamp");
        ASSERT_TRUE(ts.has_value());
        if (r.path() == "/hooks/soc") {
            const auto sig = r.header("x-containd-signature");
            ASSERT_TRUE(sig.has_value());
            EXPECT_TRUE(notify::verify(webhook_key, *ts, r.body, *sig));
            EXPECT_FALSE(notify::verify(webhook_key, *ts, r.body + " ", *sig));
            const json p = json::parse(r.body);
            EXPECT_EQ(p["kind"], r.header("x-containd-event").value_or(""));
            EXPECT_TRUE(sources.insert(p["id"].get<std::string>()).second) << "the same cause twice: " << p["id"];
        } else {
            EXPECT_FALSE(r.header("x-containd-signature").has_value());  // no key configured for them
        }
        if (r.path() == "/hooks/teams") {
            EXPECT_EQ(json::parse(r.body)["attachments"][0]["content"]["type"], "AdaptiveCard");
        }
        if (r.path() == "/hooks/slack") {
            EXPECT_TRUE(json::parse(r.body)["blocks"].is_array());
        }
    }

    // Nothing is sent twice: a second pass finds nothing due.
    const auto before = requests().size();
    EXPECT_EQ(flush(), 0u);
    EXPECT_EQ(requests().size(), before);
    const auto counts = notify::outbox::counts(*h.db);
    EXPECT_EQ(counts.count({"soc", "pending"}), 0u);
    EXPECT_EQ(counts.at({"soc", "delivered"}), static_cast<std::int64_t>(9 + checks));
    // Both incidents were contained at once on the manual clock: time to containment 0 s.
    const std::string metrics = notifier->metrics();
    EXPECT_NE(metrics.find("containd_time_to_containment_seconds_bucket{le=\"5\"} 2\n"), std::string::npos) << metrics;
    EXPECT_NE(metrics.find("containd_time_to_containment_seconds_count 2\n"), std::string::npos) << metrics;
    EXPECT_NE(metrics.find("containd_notification_attempts_total{subscriber=\"soc\",outcome=\"delivered\"} " +
                           std::to_string(9 + checks)),
              std::string::npos)
        << metrics;
}

TEST_F(notifier_test, RetriesA500WithBackoffAndSurvivesARestart) {
    failures = {500, 503};
    settings.subscribers.resize(1);
    settings.subscribers[0].events = {"accepted"};  // one delivery to follow
    open();
    const std::string id = h.submit(walkthrough_submission());
    h.ioc->poll();
    notifier->pump();
    test::run_coro(*h.ioc, notifier->deliver_due());  // the first answer is 500: the rest waits
    ASSERT_EQ(requests().size(), 1u);
    auto rows = notify::outbox::list(*h.db, {});
    auto first = std::find_if(rows.begin(), rows.end(), [](const auto& d) { return d.kind == "accepted"; });
    ASSERT_NE(first, rows.end());
    EXPECT_EQ(first->status, "pending");
    EXPECT_EQ(first->attempts, 1);
    EXPECT_EQ(first->last_code, 500);
    EXPECT_EQ(first->next_attempt_at, h.clock.now() + seconds(10));

    // Nothing is due before the backoff has passed.
    h.clock.advance(seconds(9));
    EXPECT_EQ(test::run_coro(*h.ioc, notifier->deliver_due()), 0u);

    // A crash here: the outbox is durable, the new process sends what is owed.
    notifier.reset();
    h.crash();
    open();
    h.clock.advance(seconds(2));
    test::run_coro(*h.ioc, notifier->deliver_due());  // 503: doubled backoff
    rows = notify::outbox::list(*h.db, {});
    first = std::find_if(rows.begin(), rows.end(), [](const auto& d) { return d.kind == "accepted"; });
    EXPECT_EQ(first->attempts, 2);
    EXPECT_EQ(first->last_code, 503);
    EXPECT_EQ(first->next_attempt_at, h.clock.now() + seconds(20));
    h.clock.advance(seconds(20));
    test::run_coro(*h.ioc, notifier->deliver_due());
    rows = notify::outbox::list(*h.db, {});
    first = std::find_if(rows.begin(), rows.end(), [](const auto& d) { return d.kind == "accepted"; });
    EXPECT_EQ(first->status, "delivered");
    EXPECT_EQ(first->attempts, 3);
    EXPECT_EQ(first->last_code, 204);
    // Three attempts of the same delivery, the same id each time.
    std::set<std::string> ids;
    for (const auto& r : requests())
        if (r.header("x-containd-event") == "accepted") ids.insert(r.header("x-containd-delivery").value_or(""));
    EXPECT_EQ(ids.size(), 1u);
    (void)id;
}

TEST_F(notifier_test, AClientErrorFailsTheDeliveryAndAnUnreachableReceiverGivesUpInTime) {
    failures = {404};
    settings.subscribers.resize(1);
    open();
    notifier->tenant_checked("contoso", false, {"gap"});
    test::run_coro(*h.ioc, notifier->deliver_due());
    auto rows = notify::outbox::list(*h.db, {});
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].status, "failed");
    EXPECT_EQ(rows[0].last_error, "HTTP 404");
    EXPECT_NE(notifier->metrics().find("containd_notifications{subscriber=\"soc\",state=\"failed\"} 1"),
              std::string::npos);

    // Connection refused: retried until give_up_after, then failed.
    receiver.reset();
    notifier->tenant_checked("contoso", true, {});
    for (int i = 0; i < 30; ++i) {
        test::run_coro(*h.ioc, notifier->deliver_due());
        h.clock.advance(seconds(60));
    }
    rows = notify::outbox::list(*h.db, {});
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].status, "failed");
    EXPECT_GE(rows[0].attempts, 10);
    EXPECT_EQ(rows[0].last_code, 0);
}

TEST_F(notifier_test, NoPlantedSecretReachesAnyPayload) {
    // Secrets of every kind the daemon holds: temporary passwords and TAPs in the vault, written
    // into step results and errors by a careless runner, and the webhook key itself.
    const std::string marker = "PLANTED-" + random_uuid();
    *h.runners.behaviour = [base = healthy_tenant(), marker](const engine::step_context& ctx) {
        auto r = base(ctx);
        if (ctx.step.kind == incident::step_kind::reset_password) {
            ctx.db.put_secret_once(ctx.incident.id, "password:" + ctx.step.target, marker + "-password");
            r.outcome.result["temporary_password"] = marker + "-password";
        }
        if (ctx.step.kind == incident::step_kind::issue_tap) r.outcome.result["tap"] = marker + "-tap";
        if (ctx.step.kind == incident::step_kind::verify_signins) r.outcome.result["token"] = marker + "-token";
        return r;
    };
    std::ofstream(h.dir_ / "webhook.key") << marker << "-webhook-key\n";
    open();
    const std::string id = h.submit(walkthrough_with_deletion());
    ASSERT_TRUE(h.drive());
    // A TAP is issued when an operator reveals it.
    ASSERT_EQ(h.eng->issue_tap(id, "finance.director@contoso.com", std::nullopt, "ir-lead", "issued at reveal"),
              engine::action_result::done);
    ASSERT_TRUE(h.drive());
    ASSERT_EQ(h.eng->release(id, "ir-lead").result, engine::action_result::done);
    ASSERT_TRUE(h.drive());
    flush();
    ASSERT_EQ(requests().size(), 9u);  // soc: 7 kinds of the walkthrough; Teams: contained; Slack: the approval
    for (const auto& r : requests()) {
        EXPECT_EQ(r.body.find("PLANTED-"), std::string::npos) << r.body;
        for (const auto& [name, value] : r.headers) EXPECT_EQ(value.find("PLANTED-"), std::string::npos) << name;
    }
    for (const auto& d : notify::outbox::list(*h.db, {}))
        EXPECT_EQ(d.payload.dump().find("PLANTED-"), std::string::npos);
}

TEST_F(notifier_test, EveryStepEventBecomesAJsonLogLineWithIncidentStepAndTenant) {
    const auto log_path = (h.dir_ / "containd.log").string();
    setup_logging(log_path, "info");
    settings.subscribers.clear();
    open();
    *h.runners.behaviour = [base = healthy_tenant(), n = 0](const engine::step_context& ctx) mutable {
        if (ctx.step.kind == incident::step_kind::revoke_sessions && n++ == 0) {
            script_result r;
            r.outcome = engine::step_outcome::failed(429, "HTTP 429 TooManyRequests", "3");
            return r;
        }
        return base(ctx);
    };
    const std::string id = h.submit(walkthrough_submission());
    ASSERT_TRUE(h.drive());
    notifier->pump();
    setup_logging(std::nullopt, "info");

    std::ifstream in(log_path);
    std::map<std::string, int> seen;
    std::string line;
    while (std::getline(in, line)) {
        const json j = json::parse(line);
        const std::string ev = j.value("event", "");
        ++seen[ev];
        if (ev.rfind("step_", 0) == 0) {
            EXPECT_EQ(j.value("incident_id", ""), id) << line;
            EXPECT_EQ(j.value("tenant", ""), "contoso") << line;
            EXPECT_TRUE(j.contains("step") && j.contains("step_kind")) << line;
        }
    }
    const auto steps = h.db->steps(id).size();
    EXPECT_EQ(static_cast<std::size_t>(seen["step_started"]), steps + 1);  // one retry
    EXPECT_EQ(static_cast<std::size_t>(seen["step_succeeded"]), steps);
    EXPECT_EQ(seen["step_retry"], 1);
    EXPECT_EQ(seen["step_throttled"], 1);
    EXPECT_GE(seen["incident_status_changed"], 2);
    EXPECT_EQ(seen["incident_accepted"], 1);
    EXPECT_EQ(seen["incident_contained"], 1);

    // The pump's cursor is durable: a second pass logs nothing again.
    setup_logging(log_path + ".2", "info");
    EXPECT_EQ(notifier->pump(), 0u);
    setup_logging(std::nullopt, "info");
}

}  // namespace
}  // namespace containd::testing
