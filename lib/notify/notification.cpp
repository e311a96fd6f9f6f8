#include "notify/notification.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/crypto.hpp"
#include "core/text.hpp"
#include "core/time.hpp"

namespace containd::notify {
namespace {

using json = nlohmann::json;

// Texts we did not write (attention items, diagnosis) are bounded: a message is a nudge to
// look at the incident, not its report.
std::string bounded(std::string text, std::size_t limit = 500) {
    if (text.size() > limit) text = text.substr(0, limit - 3) + "...";
    return text;
}

std::vector<std::string> bounded_list(const json& v, std::size_t items = 10) {
    std::vector<std::string> out;
    if (!v.is_array()) return out;
    for (const auto& x : v) {
        if (out.size() == items) break;
        if (x.is_string()) out.push_back(bounded(x.get<std::string>()));
    }
    return out;
}

std::string label(const std::string& incident_id, const event_context& ctx) {
    return ctx.external_ref ? *ctx.external_ref + " (" + incident_id + ")" : incident_id;
}

json base_payload(std::string_view kind, const std::string& source, time_point at, const std::string& tenant) {
    return {{"schema", "containd.notification.v1"},
            {"id", source},
            {"kind", kind},
            {"occurred_at", format_rfc3339(at)},
            {"tenant", tenant}};
}

notification make(std::string kind, std::string source, const std::string& incident_id, const event_context& ctx,
                  time_point at, std::string title, std::string summary, json details) {
    notification n;
    n.payload = base_payload(kind, source, at, ctx.tenant);
    json incident = {{"id", incident_id}, {"status", ctx.status}, {"phase", ctx.phase}};
    if (ctx.external_ref) incident["external_ref"] = *ctx.external_ref;
    n.payload["incident"] = std::move(incident);
    n.payload["title"] = std::move(title);
    n.payload["summary"] = std::move(summary);
    n.payload["details"] = std::move(details);
    n.kind = std::move(kind);
    n.source = std::move(source);
    n.incident_id = incident_id;
    n.tenant = ctx.tenant;
    return n;
}

}  // namespace

std::vector<notification> from_event(const store::event_record& e, const event_context& ctx) {
    const std::string source = "event:" + std::to_string(e.id);
    const std::string who = label(e.incident_id, ctx);
    std::vector<notification> out;
    if (e.kind == "accepted") {
        const json details = {{"accounts", e.data.value("accounts", 0)}, {"steps", e.data.value("steps", 0)}};
        out.push_back(make("accepted", source, e.incident_id, ctx, e.at, "Incident accepted: " + who,
                           "containd accepted incident " + who + " for tenant " + ctx.tenant + ": " +
                               std::to_string(details["accounts"].get<int>()) + " account(s), " +
                               std::to_string(details["steps"].get<int>()) + " step(s) planned.",
                           details));
    } else if (e.kind == "contained_at_recorded") {
        const std::string at = e.data.value("contained_at", format_rfc3339(e.at));
        out.push_back(make("contained", source, e.incident_id, ctx, e.at, "Contained: emergency block in force",
                           "The emergency Conditional Access block is in force for incident " + who + " (tenant " +
                               ctx.tenant + ") since " + at + ". Sessions, passwords and methods follow.",
                           {{"contained_at", at}}));
    } else if (e.kind == "status_changed" && e.data.value("to", "") == "needs_attention") {
        const auto attention = bounded_list(e.data.value("attention", json::array()));
        out.push_back(
            make("attention_raised", source, e.incident_id, ctx, e.at, "Needs attention: " + who,
                 attention.empty() ? "Incident " + who + " needs a human." : bounded(join(attention, "; "), 1000),
                 {{"attention", attention}, {"from", e.data.value("from", "")}}));
    } else if (e.kind == "step_succeeded" && ctx.step_kind == "verify_signins") {
        const std::string verdict = e.data.value("verdict", "");
        const std::string check = e.data.value("check", "");
        const auto diagnosis = bounded_list(e.data.value("diagnosis", json::array()));
        json details = {{"check", check}, {"verdict", verdict}, {"diagnosis", diagnosis}};
        if (e.data.contains("lateness_ms") && e.data["lateness_ms"].is_number_integer())
            details["lateness_ms"] = e.data["lateness_ms"];
        out.push_back(make("verification_verdict", source, e.incident_id, ctx, e.at,
                           "Verification " + check + ": " + verdict + " (" + who + ")",
                           diagnosis.empty() ? "Sign-in check " + check + " of incident " + who + ": " + verdict + "."
                                             : bounded(join(diagnosis, " "), 1000),
                           details));
    } else if (e.kind == "step_succeeded" && ctx.step_kind == "release_block") {
        out.push_back(make("released", source, e.incident_id, ctx, e.at,
                           "Released: emergency block lifted (" + who + ")",
                           "The accounts of incident " + who + " have left the emergency Conditional Access policy.",
                           {{"step", e.step_seq.value_or(0)}}));
    }
    return out;
}

notification approval_waiting(const std::string& incident_id, const event_context& ctx, int seq,
                              const std::string& step_kind, const std::string& target, time_point at) {
    const std::string who = label(incident_id, ctx);
    return make("approval_waiting", "approval:" + incident_id + ":" + step_kind + ":" + target, incident_id, ctx, at,
                "Approval waiting: " + step_kind + " " + target,
                "Step " + std::to_string(seq) + " (" + step_kind + " " + target + ") of incident " + who +
                    " waits for an operator's approval.",
                {{"step", seq}, {"step_kind", step_kind}, {"target", target}});
}

notification tenant_health(const std::string& tenant, bool healthy, const std::vector<std::string>& gaps,
                           std::int64_t n, time_point at) {
    notification out;
    out.source = "health:" + tenant + ":" + std::to_string(n);
    out.kind = "tenant_health";
    out.tenant = tenant;
    out.payload = base_payload("tenant_health", out.source, at, tenant);
    std::vector<std::string> bounded_gaps;
    for (const auto& g : gaps)
        if (bounded_gaps.size() < 20) bounded_gaps.push_back(bounded(g));
    out.payload["title"] = healthy ? "Tenant " + tenant + " is healthy" : "Tenant " + tenant + " is not ready";
    out.payload["summary"] = healthy ? "Every permission and credential check of tenant " + tenant + " passes."
                                     : bounded(join(bounded_gaps, "; "), 1000);
    out.payload["details"] = {{"healthy", healthy}, {"gaps", bounded_gaps}};
    return out;
}

namespace {

json facts(const json& p) {
    json out = json::array();
    auto add = [&](const char* title, const std::string& value) {
        if (!value.empty()) out.push_back({{"title", title}, {"value", value}});
    };
    add("Event", p.value("kind", ""));
    add("Tenant", p.value("tenant", ""));
    if (p.contains("incident")) {
        const auto& i = p["incident"];
        add("Incident", i.value("id", ""));
        add("Reference", i.value("external_ref", ""));
        add("Status", i.value("status", ""));
    }
    add("At", p.value("occurred_at", ""));
    return out;
}

json teams(const json& p) {
    json body = json::array();
    body.push_back({{"type", "TextBlock"},
                    {"size", "Medium"},
                    {"weight", "Bolder"},
                    {"wrap", true},
                    {"text", p.value("title", "")}});
    body.push_back({{"type", "TextBlock"}, {"wrap", true}, {"text", p.value("summary", "")}});
    body.push_back({{"type", "FactSet"}, {"facts", facts(p)}});
    const json card = {{"$schema", "http://adaptivecards.io/schemas/adaptive-card.json"},
                       {"type", "AdaptiveCard"},
                       {"version", "1.4"},
                       {"body", body}};
    return {{"type", "message"},
            {"attachments", json::array({{{"contentType", "application/vnd.microsoft.card.adaptive"},
                                          {"contentUrl", nullptr},
                                          {"content", card}}})}};
}

json slack(const json& p) {
    // plain_text everywhere: no mrkdwn, so nothing in a text can become a link or a mention.
    const std::string title = bounded(p.value("title", ""), 150);
    json fields = json::array();
    for (const auto& f : facts(p))
        if (fields.size() < 10)
            fields.push_back({{"type", "plain_text"},
                              {"text", f["title"].get<std::string>() + ": " + f["value"].get<std::string>()}});
    json blocks = json::array();
    blocks.push_back({{"type", "header"}, {"text", {{"type", "plain_text"}, {"text", title}}}});
    blocks.push_back(
        {{"type", "section"}, {"text", {{"type", "plain_text"}, {"text", bounded(p.value("summary", ""), 3000)}}}});
    blocks.push_back({{"type", "section"}, {"fields", fields}});
    return {{"text", title}, {"blocks", blocks}};
}

}  // namespace

std::string render(const nlohmann::json& payload, std::string_view format) {
    constexpr auto replace = nlohmann::json::error_handler_t::replace;
    if (format == "teams") return teams(payload).dump(-1, ' ', false, replace);
    if (format == "slack") return slack(payload).dump(-1, ' ', false, replace);
    return payload.dump(-1, ' ', false, replace);
}

std::string sign(std::string_view key, std::string_view timestamp, std::string_view body) {
    std::string message;
    message.reserve(timestamp.size() + 1 + body.size());
    message.append(timestamp).append(".").append(body);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
              reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len))
        throw std::runtime_error("HMAC-SHA256 failed");
    return "sha256=" + hex_encode(std::string_view(reinterpret_cast<const char*>(mac), len));
}

bool verify(std::string_view key, std::string_view timestamp, std::string_view body, std::string_view header) {
    const std::string expected = sign(key, timestamp, body);
    return expected.size() == header.size() && CRYPTO_memcmp(expected.data(), header.data(), header.size()) == 0;
}

}  // namespace containd::notify
