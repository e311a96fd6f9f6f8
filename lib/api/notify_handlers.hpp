#pragma once
// GET /v1/notifications: the webhook outbox (lib/notify) as the operator sees it: each
// delivery's subscriber, kind, incident, state, attempts, last answer and next attempt. The
// payloads are not listed (they are what the receivers got; the incident itself is the record).

#include "api/http_types.hpp"
#include "api/router.hpp"
#include "api/state.hpp"

namespace containd::api::detail {

response handle_notifications(api_state&, const request&, const caller&, const path_params&);

}  // namespace containd::api::detail
