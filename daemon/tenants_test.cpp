// The daemon's per-tenant Graph stacks: what the wiring promises beyond the modules' defaults.

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <cstdlib>

#include "tenants.hpp"

using namespace containd;

namespace {

config::tenant_config contoso() {
    config::tenant_config t;
    t.settings.name = "contoso";
    t.directory_tenant = "contoso.onmicrosoft.com";
    t.client_id = "0c0ffee0-0000-4000-8000-00000000c0de";
    t.credential.secret_env = "CONTAIND_TENANTS_TEST_SECRET";
    return t;
}

}  // namespace

// A paced call gives up its wait (and becomes a local 429 with Retry-After, a durable wait)
// well before the engine would cut the attempt as a timeout of unknown outcome.
TEST(TenantClients, pacing_waits_end_inside_the_attempt_timeout) {
    ::setenv("CONTAIND_TENANTS_TEST_SECRET", "not-a-real-secret", 1);
    boost::asio::io_context ioc;
    system_clock_source clock;
    for (const auto attempt_timeout : {seconds(10), seconds(60), seconds(600)}) {
        config::engine_settings engine;
        engine.attempt_timeout = attempt_timeout;
        daemon::tenant_clients clients(ioc.get_executor(), {contoso()}, clock, engine);
        const auto* client = clients.find("contoso");
        ASSERT_NE(client, nullptr);
        const auto max_wait = client->settings().pacing.max_wait;
        EXPECT_LE(max_wait, attempt_timeout / 2);
        EXPECT_GT(max_wait, duration::zero());
    }
}
