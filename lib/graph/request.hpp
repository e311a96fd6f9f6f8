#pragma once
// A Graph request, described independently of how it is sent (alone through graph::client::send,
// or as an item of a $batch). Pure data: no Asio.

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "graph/http.hpp"
#include "graph/pacer.hpp"

namespace containd::graph {

enum class api_version { v1, beta };

// "/v1.0" or "/beta".
std::string_view version_root(api_version v);

struct graph_request {
    std::string method = "GET";
    // Under the version root, starting with '/', query included and already encoded
    // (build it with odata::user_path / entity_path / filter::query), e.g.
    // "/users/o'brien%40contoso.com?$select=id,userPrincipalName".
    std::string path;
    api_version version = api_version::v1;
    std::optional<nlohmann::json> body;  // sent as application/json
    pace_class pace = pace_class::none;
    header_list headers;  // extra headers (Prefer, ConsistencyLevel, ...)
    // Safe to re-send after a dead keep-alive connection (see https_client). Every Graph call
    // containd makes is idempotent in effect (PATCH sets values, DELETE of a gone object is 404,
    // revoke twice is harmless) except creating a TAP or a policy; those set it false.
    bool idempotent = true;
    std::optional<duration> timeout;  // per-attempt override
};

}  // namespace containd::graph
