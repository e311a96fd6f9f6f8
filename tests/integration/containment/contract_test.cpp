// The Graph v1.0 contract of the client: the full walkthrough containment (engine + real Graph
// runners + lib/graph against the simulated tenant), then every request body the simulator
// received (its journal) is checked against Microsoft's v1.0 CSDL: the body type is resolved from
// the method and URL (entity sets, singletons, navigation properties, bound actions), $batch
// bodies item by item. Passwords in the journal are redaction markers, which are still strings.

#include <gtest/gtest.h>

#include <iostream>
#include <map>

#include "support/csdl_contract.hpp"
#include "support/live_tenant.hpp"
#include "support/walkthrough.hpp"

#ifndef CONTAIND_GRAPH_CSDL
#error "CONTAIND_GRAPH_CSDL must name Microsoft's Graph v1.0 CSDL (set by tests/integration.cmake)"
#endif

using namespace containd;
using namespace containd::testing;
using containd::test::csdl_model;
using containd::test::to_string;

namespace {

const csdl_model* graph_contract() { return csdl_model::shared(CONTAIND_GRAPH_CSDL); }

}  // namespace

TEST(ContainmentContract, every_request_body_of_the_walkthrough_conforms_to_graph_v1) {
    if (!graph_contract())
        GTEST_SKIP() << "!!! SKIPPED: Microsoft's Graph v1.0 CSDL is missing (" CONTAIND_GRAPH_CSDL
                        "): the client's requests are NOT checked against the Graph contract !!!";
    live_tenant t(walkthrough_options());
    t.open();
    const auto id = t.submit(seeds_incident());
    ASSERT_TRUE(t.drive());
    ASSERT_TRUE(t.db->get_incident(id));

    const auto journal = t.journal();
    std::size_t checked = 0, with_body = 0;
    std::map<std::string, int> by_route;
    for (const auto& e : journal) {
        if (e.path.rfind("/v1.0/", 0) != 0 && e.path.rfind("/beta/", 0) != 0) continue;  // token endpoint
        ++checked;
        nlohmann::json body = nullptr;
        if (!e.body.empty()) {
            body = nlohmann::json::parse(e.body, nullptr, false);
            ASSERT_FALSE(body.is_discarded())
                << e.method << " " << e.path << ": body is not JSON: " << e.body.substr(0, 200);
            ++with_body;
        }
        // The contract only knows the path; the query ($select, $filter) is not a body.
        const auto v = graph_contract()->check_request(e.method, e.path, body);
        EXPECT_TRUE(v.empty()) << e.method << " " << e.path << (e.query.empty() ? "" : "?" + e.query)
                               << " violates the Graph v1.0 contract:\n"
                               << to_string(v) << "body: " << e.body.substr(0, 600);
        ++by_route[e.method + " " + e.path.substr(0, e.path.find('/', 6))];
    }
    std::cout << "[ contract ] " << checked << " Graph requests checked (" << with_body << " with a body) of "
              << journal.size() << " journal entries\n";
    for (const auto& [route, n] : by_route) std::cout << "[ contract ]   " << n << "  " << route << "\n";
    EXPECT_GT(with_body, 10u);
}
