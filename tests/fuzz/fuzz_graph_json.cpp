// The readers of Graph response bodies (lib/graph/model, result, batch): bytes -> JSON (as
// client.cpp parses a body) -> every typed parser, the error-body reader and the $batch reader.
// Properties:
//  - no parser throws, whatever the shape (wrong types, nulls, arrays for objects);
//  - a parsed object carries the identifying field it was read from ("id" equal to the input's)
//    and the input as `raw`; typed fields equal the input's where it has the right type;
//    directory roles only from #microsoft.graph.directoryRole; inbox-rule recipients lower-case;
//    credentials always have a key id; key_credential_for_patch writes only the writable
//    properties and always the key id;
//  - describe() of an error result is one line (no CR/LF) and its message at most 303 bytes;
//  - the $batch reader returns one result per requested item, in order, with its id; an item
//    reported ok has a 2xx status; the retry plan names only failed retryable items (and 424
//    dependants), sorted, and never waits longer than max_retry_wait.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "core/time.hpp"
#include "fuzz_check.hpp"
#include "graph/batch.hpp"
#include "graph/model.hpp"
#include "graph/result.hpp"

using namespace containd;
using namespace containd::graph;
using containd::fuzz::shown;
using json = nlohmann::json;

namespace {

const time_point fixed_now = *parse_rfc3339("2026-03-12T09:00:00Z");

std::string id_of(const json& j) {
    if (!j.is_object()) return {};
    const auto it = j.find("id");
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string string_of(const json& j, const char* key) {
    if (!j.is_object()) return {};
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

template <class T>
void check_identified(const std::optional<T>& v, const json& j, const char* what) {
    if (!v) return;
    FUZZ_CHECK(!v->id.empty() && v->id == id_of(j), "%s: id %s not the input's", what, shown(v->id).c_str());
    FUZZ_CHECK(v->raw == j, "%s: raw differs from the input", what);
}

bool lower_case(const std::string& s) {
    return std::none_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

void check_credentials(const std::vector<password_credential>& pw, const std::vector<key_credential>& keys) {
    for (const auto& p : pw) FUZZ_CHECK(!p.key_id.empty(), "password credential without keyId");
    static const std::set<std::string> writable = {"customKeyIdentifier", "displayName", "endDateTime", "key", "keyId",
                                                   "startDateTime",       "type",        "usage"};
    for (const auto& k : keys) {
        FUZZ_CHECK(!k.key_id.empty(), "key credential without keyId");
        const json patch = key_credential_for_patch(k);
        FUZZ_CHECK(patch.is_object() && patch.value("keyId", "") == k.key_id, "patch without the key id");
        for (const auto& [name, value] : patch.items()) {
            FUZZ_CHECK(writable.count(name), "patch writes %s", shown(name).c_str());
            FUZZ_CHECK(!value.is_null(), "patch writes null for %s", shown(name).c_str());
        }
    }
}

void parse_entity(const json& j) {
    const auto user = parse_user(j);
    check_identified(user, j, "user");
    if (user && j.contains("accountEnabled") && j["accountEnabled"].is_boolean())
        FUZZ_CHECK(user->account_enabled == j["accountEnabled"].get<bool>(), "accountEnabled");

    const auto role = parse_directory_role(j);
    check_identified(role, j, "directoryRole");
    if (role) FUZZ_CHECK(string_of(j, "@odata.type") == "#microsoft.graph.directoryRole", "role from another type");

    const auto method = parse_auth_method(j);
    check_identified(method, j, "authenticationMethod");
    if (method) {
        FUZZ_CHECK(method->kind == method_kind_from_odata_type(string_of(j, "@odata.type")), "method kind");
        FUZZ_CHECK(method->created == (string_of(j, "createdDateTime").empty()
                                           ? std::nullopt
                                           : parse_rfc3339(string_of(j, "createdDateTime"))),
                   "createdDateTime");
        (void)to_string(method->kind);
        (void)delete_segment(method->kind);
    }

    const auto app = parse_application(j);
    check_identified(app, j, "application");
    if (app) check_credentials(app->password_credentials, app->key_credentials);
    const auto sp = parse_service_principal(j);
    check_identified(sp, j, "servicePrincipal");
    if (sp) check_credentials(sp->password_credentials, sp->key_credentials);
    if (j.is_object()) {
        for (const char* key : {"passwordCredentials", "keyCredentials", "value"}) {
            if (!j.contains(key)) continue;
            check_credentials(parse_password_credentials(j[key]), parse_key_credentials(j[key]));
        }
    }

    check_identified(parse_permission_grant(j), j, "oAuth2PermissionGrant");
    check_identified(parse_app_role_assignment(j), j, "appRoleAssignment");

    const auto rule = parse_message_rule(j);
    check_identified(rule, j, "messageRule");
    if (rule)
        for (const auto* list : {&rule->forward_to, &rule->redirect_to, &rule->forward_as_attachment_to})
            for (const auto& a : *list) FUZZ_CHECK(!a.empty() && lower_case(a), "recipient %s", shown(a).c_str());

    const auto signin = parse_sign_in(j);
    check_identified(signin, j, "signIn");
    if (signin) FUZZ_CHECK(parse_rfc3339(string_of(j, "createdDateTime")) == signin->created, "sign-in time");

    const auto audit = parse_directory_audit(j);
    check_identified(audit, j, "directoryAudit");
    if (audit) FUZZ_CHECK(parse_rfc3339(string_of(j, "activityDateTime")) == audit->activity_time, "audit time");
}

void check_one_line(const call_result& r) {
    const std::string d = describe(r);
    FUZZ_CHECK(d.find_first_of("\r\n") == std::string::npos, "describe() is not one line: %s", shown(d, 400).c_str());
    FUZZ_CHECK(r.error_message.size() <= 303, "error message of %zu bytes", r.error_message.size());
}

std::string fold(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

void parse_batch(const json& doc, int status) {
    // Our items: the ids the response names (up to 20, unique case-insensitively) plus one it
    // does not; every second item depends on the one before it.
    std::vector<batch_item> items;
    std::set<std::string> ids;
    auto add = [&](const std::string& id) {
        if (id.empty() || items.size() >= 20 || !ids.insert(fold(id)).second) return;
        batch_item it;
        it.id = id;
        it.request.path = "/users/" + std::to_string(items.size());
        if (items.size() % 2 == 1) it.depends_on = items.back().id;
        items.push_back(std::move(it));
    };
    if (doc.is_object())
        if (const auto r = doc.find("responses"); r != doc.end() && r->is_array())
            for (const auto& e : *r) add(id_of(e));
    add("containd-missing-item");
    std::vector<std::size_t> indices(items.size());
    for (std::size_t i = 0; i < indices.size(); ++i) indices[i] = i;

    call_result whole;
    whole.status = status;
    whole.body = doc;
    whole.request_id = "req-1";
    const auto results = parse_batch_response(whole, items, indices);
    FUZZ_CHECK(results.size() == items.size(), "%zu results for %zu items", results.size(), items.size());
    for (std::size_t i = 0; i < results.size(); ++i) {
        FUZZ_CHECK(results[i].id == items[i].id, "result %zu has id %s", i, shown(results[i].id).c_str());
        if (results[i].ok())
            FUZZ_CHECK(results[i].call.status >= 200 && results[i].call.status < 300, "ok without 2xx");
        check_one_line(results[i].call);
    }
    FUZZ_CHECK(!results.back().ok(), "an item missing from the response is ok");

    batch_settings settings;
    const auto plan = plan_batch_retry(items, results, fixed_now, settings);
    if (plan) {
        FUZZ_CHECK(!plan->indices.empty(), "empty retry plan");
        FUZZ_CHECK(std::is_sorted(plan->indices.begin(), plan->indices.end()) &&
                       std::adjacent_find(plan->indices.begin(), plan->indices.end()) == plan->indices.end(),
                   "retry indices not sorted and unique");
        FUZZ_CHECK(plan->wait >= duration::zero() && plan->wait <= settings.max_retry_wait, "retry wait out of range");
        for (const auto i : plan->indices) {
            const int s = results[i].call.status;
            FUZZ_CHECK(i < items.size() && !results[i].ok() && (retryable_item_status(s) || s == 424),
                       "retries item %zu with status %d", i, s);
        }
    }
    // The body of a retry round is well-formed whatever was answered.
    if (plan) {
        const json body = batch_body(items, plan->indices);
        FUZZ_CHECK(body["requests"].size() == plan->indices.size(), "batch body size");
    }
    (void)plan_batches(items, 20);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    json doc = json::parse(input, nullptr, false);
    if (doc.is_discarded()) return 0;

    // The entity itself, each element of a collection page, and each $batch item body.
    parse_entity(doc);
    if (doc.is_object()) {
        if (const auto v = doc.find("value"); v != doc.end() && v->is_array())
            for (const auto& e : *v) parse_entity(e);
        if (const auto r = doc.find("responses"); r != doc.end() && r->is_array())
            for (const auto& e : *r)
                if (e.is_object() && e.contains("body")) parse_entity(e["body"]);
    }

    // An error answer: Graph's and the token endpoint's shapes.
    for (const int status : {400, 401, 403, 404, 429, 503}) {
        call_result r;
        r.status = status;
        r.body = doc;
        parse_error_body(r);
        check_one_line(r);
        const auto outcome = interpret_delete(r).outcome;
        FUZZ_CHECK(outcome != removal::removed && (outcome == removal::already_absent) == (status == 404),
                   "a %d read as %s", status, std::string(to_string(outcome)).c_str());
    }

    parse_batch(doc, 200);
    parse_batch(doc, 503);
    return 0;
}
