#pragma once
// The API's own view of a request and a response: plain data, no Beast, so routing, auth and
// the handlers are pure functions of their inputs (and the store).

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/config.hpp"

namespace containd::api::detail {

struct request {
    std::string method;                          // "GET", "POST", ...
    std::string path;                            // percent-encoded, without the query
    std::map<std::string, std::string> query;    // decoded; a repeated key keeps the last value
    std::map<std::string, std::string> headers;  // lower-case names; repeated ones joined by ","
    std::string body;

    const std::string* header(const std::string& lower_name) const {
        auto it = headers.find(lower_name);
        return it == headers.end() ? nullptr : &it->second;
    }
};

// Who called: the token's configured name (the `who` of actions) and its role.
struct caller {
    std::string name;
    config::role granted = config::role::viewer;
};

// The session switches into a live event stream instead of writing a body.
struct event_stream {
    std::string incident_id;
    std::int64_t after = 0;
    bool viewer = false;  // the caller has the viewer role: events without their data (issue 15)
};

struct response {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::optional<event_stream> stream;

    response& header(std::string name, std::string value) {
        headers.emplace_back(std::move(name), std::move(value));
        return *this;
    }
};

// Percent-decoding ("%27" -> "'"); nullopt for a malformed escape. plus_as_space for queries.
std::optional<std::string> percent_decode(std::string_view in, bool plus_as_space);
// "a=1&b=x%20y" -> {a: 1, b: "x y"}; nullopt when an escape is malformed.
std::optional<std::map<std::string, std::string>> parse_query(std::string_view query);

}  // namespace containd::api::detail
