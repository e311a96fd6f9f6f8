#pragma once
// One function per route (router.cpp's table). Each runs synchronously on the work executor,
// reads and writes through the store and the engine, and returns the whole response; the live
// event stream is the exception: its handler only checks the request and asks the session to
// stream. cached_get is the one fast path: it runs on the network thread and touches only the
// view cache.

#include "api/http_types.hpp"
#include "api/router.hpp"
#include "api/state.hpp"

namespace containd::api::detail {

response handle_healthz(api_state&, const request&, const caller&, const path_params&);
response handle_readyz(api_state&, const request&, const caller&, const path_params&);
response handle_metrics(api_state&, const request&, const caller&, const path_params&);
response handle_submit(api_state&, const request&, const caller&, const path_params&);
response handle_list(api_state&, const request&, const caller&, const path_params&);
response handle_get(api_state&, const request&, const caller&, const path_params&);
std::optional<response> cached_get(api_state&, const request&, const caller&, const path_params&);
response handle_events(api_state&, const request&, const caller&, const path_params&);
response handle_report(api_state&, const request&, const caller&, const path_params&);
response handle_approve(api_state&, const request&, const caller&, const path_params&);
response handle_cancel(api_state&, const request&, const caller&, const path_params&);
response handle_retry(api_state&, const request&, const caller&, const path_params&);
response handle_release(api_state&, const request&, const caller&, const path_params&);
response handle_extend(api_state&, const request&, const caller&, const path_params&);
response handle_reverify(api_state&, const request&, const caller&, const path_params&);
response handle_override_guard(api_state&, const request&, const caller&, const path_params&);
response handle_issue_tap(api_state&, const request&, const caller&, const path_params&);
response handle_reveal(api_state&, const request&, const caller&, const path_params&);

}  // namespace containd::api::detail
