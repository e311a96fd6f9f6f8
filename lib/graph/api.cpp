#include "graph/api.hpp"

#include <algorithm>
#include <cctype>

#include "core/text.hpp"
#include "core/time.hpp"
#include "graph/odata.hpp"

namespace containd::graph {
namespace {

template <class Build>
std::optional<graph_request> build(Build&& b, call_result& error) {
    try {
        return b();
    } catch (const std::invalid_argument& e) {  // odata::invalid_value and non-deletable kinds
        error = local_failure(400, err_invalid_value, e.what());
    }
    return std::nullopt;
}

void mark_malformed(call_result& c, std::string message) {
    c.malformed = true;
    c.error_code = std::string(err_unexpected_body);
    c.error_message = std::move(message);
}

task<reply<void>> send_void(client& c, std::optional<graph_request> req, call_result error) {
    reply<void> out;
    if (!req) {
        out.call = std::move(error);
        co_return out;
    }
    out.call = co_await c.send(std::move(*req));
    co_return out;
}

task<removal_reply> send_delete(client& c, std::optional<graph_request> req, call_result error) {
    if (!req) co_return interpret_delete(std::move(error));
    call_result r = co_await c.send(std::move(*req));
    co_return interpret_delete(std::move(r));
}

template <class T>
task<list_reply<T>> send_list(client& c, std::optional<graph_request> req, call_result error,
                              std::optional<T> (*parse)(const nlohmann::json&),
                              std::optional<std::size_t> max_pages = std::nullopt) {
    list_reply<T> out;
    if (!req) {
        out.call = std::move(error);
        co_return out;
    }
    list_result r = co_await c.list(std::move(*req), max_pages);
    out.call = std::move(r.call);
    out.truncated = r.truncated;
    for (const auto& item : r.items)
        if (auto v = parse(item)) out.items.push_back(std::move(*v));
    co_return out;
}

std::optional<nlohmann::json> identity(const nlohmann::json& j) { return j; }

}  // namespace

task<reply<user_info>> get_user(client& c, std::string id_or_upn) {
    reply<user_info> out;
    auto req = build([&] { return requests::get_user(id_or_upn); }, out.call);
    if (!req) co_return out;
    out.call = co_await c.send(std::move(*req));
    if (!out.call.ok()) co_return out;
    if (out.call.status == 202 && !out.call.body.is_object()) {
        mark_malformed(out.call, "202 Accepted without the user");  // retry later
        co_return out;
    }
    auto user = parse_user(out.call.body);
    if (!user) {
        mark_malformed(out.call, "user response without id");
        co_return out;
    }
    out.value = std::move(*user);
    co_return out;
}

task<list_reply<directory_role>> list_directory_roles(client& c, std::string user, bool transitive) {
    call_result error;
    auto req = build([&] { return requests::list_member_of(user, transitive); }, error);
    co_return co_await send_list<directory_role>(c, std::move(req), std::move(error), &parse_directory_role);
}

task<reply<void>> revoke_sessions(client& c, std::string user) {
    call_result error;
    auto req = build([&] { return requests::revoke_sessions(user); }, error);
    co_return co_await send_void(c, std::move(req), std::move(error));
}

task<reply<void>> set_password(client& c, std::string user, secret password, bool force_change) {
    call_result error;
    auto req = build([&] { return requests::set_password(user, password, force_change); }, error);
    co_return co_await send_void(c, std::move(req), std::move(error));
}

task<reply<void>> set_account_enabled(client& c, std::string user, bool enabled) {
    call_result error;
    auto req = build([&] { return requests::set_account_enabled(user, enabled); }, error);
    co_return co_await send_void(c, std::move(req), std::move(error));
}

task<list_reply<auth_method>> list_auth_methods(client& c, std::string user) {
    call_result error;
    auto req = build([&] { return requests::list_auth_methods(user); }, error);
    co_return co_await send_list<auth_method>(c, std::move(req), std::move(error), &parse_auth_method);
}

task<removal_reply> delete_auth_method(client& c, std::string user, auth_method method) {
    call_result error;
    auto req = build([&] { return requests::delete_auth_method(user, method.kind, method.id); }, error);
    co_return co_await send_delete(c, std::move(req), std::move(error));
}

task<reply<temporary_access_pass>> create_tap(client& c, std::string user, int lifetime_minutes, bool usable_once) {
    reply<temporary_access_pass> out;
    auto req = build([&] { return requests::create_tap(user, lifetime_minutes, usable_once); }, out.call);
    if (!req) co_return out;
    out.call = co_await c.send(std::move(*req));
    auto& body = out.call.body;
    // The pass never stays in the generic body, whatever the status.
    std::optional<std::string> pass;
    if (body.is_object()) {
        if (auto it = body.find("temporaryAccessPass"); it != body.end()) {
            if (it->is_string()) pass = it->get<std::string>();
            body.erase(it);
        }
    }
    if (!out.call.ok()) co_return out;
    const std::string id =
        body.is_object() && body.contains("id") && body["id"].is_string() ? body["id"].get<std::string>() : "";
    if (!pass || pass->empty() || id.empty()) {
        mark_malformed(out.call, "TAP response without id or temporaryAccessPass");
        co_return out;
    }
    out.value.id = id;
    out.value.pass = secret(std::move(*pass));
    if (auto it = body.find("lifetimeInMinutes"); it != body.end() && it->is_number_integer())
        out.value.lifetime_minutes = it->get<int>();
    if (auto it = body.find("isUsableOnce"); it != body.end() && it->is_boolean())
        out.value.usable_once = it->get<bool>();
    if (auto it = body.find("startDateTime"); it != body.end() && it->is_string())
        out.value.start = parse_rfc3339(it->get<std::string>());
    out.value.raw = body;
    co_return out;
}

task<list_reply<nlohmann::json>> list_ca_policies(client& c) {
    auto req = requests::list_ca_policies();
    call_result no_error;  // named: GCC 12 destroys a braced temporary argument of a coroutine twice
    co_return co_await send_list<nlohmann::json>(c, std::move(req), std::move(no_error), &identity);
}

task<reply<nlohmann::json>> get_ca_policy(client& c, std::string policy_id) {
    reply<nlohmann::json> out;
    auto req = build([&] { return requests::get_ca_policy(policy_id); }, out.call);
    if (!req) co_return out;
    out.call = co_await c.send(std::move(*req));
    if (out.call.ok() && !out.call.body.is_object()) mark_malformed(out.call, "policy response is not an object");
    if (out.call.ok()) out.value = out.call.body;
    co_return out;
}

task<reply<nlohmann::json>> create_ca_policy(client& c, nlohmann::json policy) {
    reply<nlohmann::json> out;
    out.call = co_await c.send(requests::create_ca_policy(std::move(policy)));
    if (out.call.ok() && !(out.call.body.is_object() && out.call.body.contains("id")))
        mark_malformed(out.call, "created policy without id");
    if (out.call.ok()) out.value = out.call.body;
    co_return out;
}

task<reply<void>> patch_ca_policy(client& c, std::string policy_id, nlohmann::json changes) {
    call_result error;
    auto req = build([&] { return requests::patch_ca_policy(policy_id, std::move(changes)); }, error);
    co_return co_await send_void(c, std::move(req), std::move(error));
}

task<list_reply<nlohmann::json>> list_named_locations(client& c) {
    auto req = requests::list_named_locations();
    call_result no_error;  // named: GCC 12 destroys a braced temporary argument of a coroutine twice
    co_return co_await send_list<nlohmann::json>(c, std::move(req), std::move(no_error), &identity);
}

namespace {
template <class T>
task<reply<std::optional<T>>> find_one(client& c, std::optional<graph_request> req, call_result error,
                                       std::optional<T> (*parse)(const nlohmann::json&)) {
    reply<std::optional<T>> out;
    if (!req) {
        out.call = std::move(error);
        co_return out;
    }
    list_result r = co_await c.list(std::move(*req));
    out.call = std::move(r.call);
    if (!out.call.ok()) co_return out;
    for (const auto& item : r.items) {
        if (auto v = parse(item)) {
            out.value = std::move(*v);
            break;
        }
    }
    co_return out;
}

task<reply<std::vector<key_credential>>> get_keys(client& c, std::optional<graph_request> req, call_result error) {
    reply<std::vector<key_credential>> out;
    if (!req) {
        out.call = std::move(error);
        co_return out;
    }
    out.call = co_await c.send(std::move(*req));
    if (!out.call.ok()) co_return out;
    const auto& b = out.call.body;
    if (!b.is_object() || !b.contains("keyCredentials") ||
        !(b["keyCredentials"].is_array() || b["keyCredentials"].is_null())) {
        mark_malformed(out.call, "response without keyCredentials");
        co_return out;
    }
    out.value = parse_key_credentials(b["keyCredentials"]);
    co_return out;
}
}  // namespace

task<reply<std::optional<application_info>>> find_application(client& c, std::string app_id) {
    call_result error;
    auto req = build([&] { return requests::find_application(app_id); }, error);
    co_return co_await find_one<application_info>(c, std::move(req), std::move(error), &parse_application);
}

task<reply<std::optional<service_principal_info>>> find_service_principal(client& c, std::string app_id) {
    call_result error;
    auto req = build([&] { return requests::find_service_principal(app_id); }, error);
    co_return co_await find_one<service_principal_info>(c, std::move(req), std::move(error), &parse_service_principal);
}

task<list_reply<directory_role>> list_service_principal_directory_roles(client& c, std::string app_id,
                                                                        bool transitive) {
    call_result error;
    auto req = build([&] { return requests::list_service_principal_member_of(app_id, transitive); }, error);
    co_return co_await send_list<directory_role>(c, std::move(req), std::move(error), &parse_directory_role);
}

task<reply<std::vector<key_credential>>> get_application_key_credentials(client& c, std::string object_id) {
    call_result error;
    auto req = build([&] { return requests::get_application_key_credentials(object_id); }, error);
    co_return co_await get_keys(c, std::move(req), std::move(error));
}

task<reply<std::vector<key_credential>>> get_service_principal_key_credentials(client& c, std::string object_id) {
    call_result error;
    auto req = build([&] { return requests::get_service_principal_key_credentials(object_id); }, error);
    co_return co_await get_keys(c, std::move(req), std::move(error));
}

task<reply<void>> set_application_key_credentials(client& c, std::string object_id, std::vector<key_credential> keep) {
    call_result error;
    auto req = build([&] { return requests::set_application_key_credentials(object_id, keep); }, error);
    co_return co_await send_void(c, std::move(req), std::move(error));
}

task<reply<void>> set_service_principal_key_credentials(client& c, std::string object_id,
                                                        std::vector<key_credential> keep) {
    call_result error;
    auto req = build([&] { return requests::set_service_principal_key_credentials(object_id, keep); }, error);
    co_return co_await send_void(c, std::move(req), std::move(error));
}

removal_reply interpret_remove_password(call_result r, std::string_view key_id) {
    if (r.status == 400 && r.sent && !r.token_failure) {
        const std::string message = lower(r.error_message);
        const std::string key = lower(key_id);
        const bool names_key = !key.empty() && message.find(key) != std::string::npos;
        const bool says_missing = message.find("not found") != std::string::npos ||
                                  message.find("does not exist") != std::string::npos ||
                                  message.find("no password credential") != std::string::npos ||
                                  message.find("nonexistent") != std::string::npos;
        if (says_missing || (names_key && message.find("invalid") == std::string::npos)) {
            removal_reply out;
            out.outcome = removal::already_absent;
            out.call = std::move(r);
            return out;
        }
    }
    return interpret_delete(std::move(r));
}

task<removal_reply> remove_application_password(client& c, std::string object_id, std::string key_id) {
    call_result error;
    auto req = build([&] { return requests::remove_application_password(object_id, key_id); }, error);
    if (!req) co_return interpret_delete(std::move(error));
    call_result r = co_await c.send(std::move(*req));
    co_return interpret_remove_password(std::move(r), key_id);
}

task<removal_reply> remove_service_principal_password(client& c, std::string object_id, std::string key_id) {
    call_result error;
    auto req = build([&] { return requests::remove_service_principal_password(object_id, key_id); }, error);
    if (!req) co_return interpret_delete(std::move(error));
    call_result r = co_await c.send(std::move(*req));
    co_return interpret_remove_password(std::move(r), key_id);
}

task<reply<void>> set_service_principal_enabled(client& c, std::string object_id, bool enabled) {
    call_result error;
    auto req = build([&] { return requests::set_service_principal_enabled(object_id, enabled); }, error);
    co_return co_await send_void(c, std::move(req), std::move(error));
}

task<removal_reply> delete_application(client& c, std::string object_id) {
    call_result error;
    auto req = build([&] { return requests::delete_application(object_id); }, error);
    co_return co_await send_delete(c, std::move(req), std::move(error));
}

task<list_reply<permission_grant>> list_permission_grants(client& c, std::string client_sp_id) {
    call_result error;
    auto req = build([&] { return requests::list_permission_grants(client_sp_id); }, error);
    co_return co_await send_list<permission_grant>(c, std::move(req), std::move(error), &parse_permission_grant);
}

task<removal_reply> delete_permission_grant(client& c, std::string grant_id) {
    call_result error;
    auto req = build([&] { return requests::delete_permission_grant(grant_id); }, error);
    co_return co_await send_delete(c, std::move(req), std::move(error));
}

task<list_reply<app_role_assignment>> list_app_role_assignments(client& c, std::string sp_id) {
    call_result error;
    auto req = build([&] { return requests::list_app_role_assignments(sp_id); }, error);
    co_return co_await send_list<app_role_assignment>(c, std::move(req), std::move(error), &parse_app_role_assignment);
}

task<removal_reply> delete_app_role_assignment(client& c, std::string sp_id, std::string assignment_id) {
    call_result error;
    auto req = build([&] { return requests::delete_app_role_assignment(sp_id, assignment_id); }, error);
    co_return co_await send_delete(c, std::move(req), std::move(error));
}

task<reply<void>> confirm_compromised(client& c, std::vector<std::string> user_ids) {
    call_result error;
    auto req = build([&] { return requests::confirm_compromised(user_ids); }, error);
    co_return co_await send_void(c, std::move(req), std::move(error));
}

task<list_reply<sign_in>> list_sign_ins(client& c, requests::sign_in_query query,
                                        std::optional<std::size_t> max_pages) {
    call_result error;
    auto req = build([&] { return requests::list_sign_ins(query); }, error);
    co_return co_await send_list<sign_in>(c, std::move(req), std::move(error), &parse_sign_in, max_pages);
}

task<list_reply<directory_audit>> list_directory_audits(client& c, requests::audit_query query) {
    call_result error;
    auto req = build([&] { return requests::list_directory_audits(query); }, error);
    co_return co_await send_list<directory_audit>(c, std::move(req), std::move(error), &parse_directory_audit);
}

task<list_reply<message_rule>> list_inbox_rules(client& c, std::string user) {
    call_result error;
    auto req = build([&] { return requests::list_inbox_rules(user); }, error);
    co_return co_await send_list<message_rule>(c, std::move(req), std::move(error), &parse_message_rule);
}

task<removal_reply> delete_inbox_rule(client& c, std::string user, std::string rule_id) {
    call_result error;
    auto req = build([&] { return requests::delete_inbox_rule(user, rule_id); }, error);
    co_return co_await send_delete(c, std::move(req), std::move(error));
}

}  // namespace containd::graph
