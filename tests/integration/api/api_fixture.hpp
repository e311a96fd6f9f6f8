#pragma once
// The API in process: a real store in a temp dir, a real engine with scripted runners on a manual
// clock, the server on 127.0.0.1:0, on two threads as in the daemon: the io thread (store,
// engine, handlers) and the network thread (sockets, cached views, event streams). The test
// thread is the HTTP client and reaches the store and engine only through on_io(), which runs a
// function on the io thread and waits for it.

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <future>
#include <thread>

#include <spdlog/spdlog.h>

#include "api/server.hpp"
#include "core/crypto.hpp"
#include "core/log.hpp"
#include "support/api_client.hpp"
#include "support/engine_harness.hpp"

namespace containd::testing {

inline constexpr const char* viewer_token = "viewer-token-5b1f0c";
inline constexpr const char* submitter_token = "submitter-token-9e77aa";
inline constexpr const char* operator_token = "operator-token-31d4c2";

inline config::api_settings test_settings() {
    config::api_settings s;
    s.port = 0;
    s.body_limit = 64 * 1024;
    s.header_limit = 8 * 1024;
    s.read_timeout = milliseconds(800);
    s.idle_timeout = seconds(5);
    s.max_connections = 32;
    s.tokens = {{"dashboard", sha256_hex(viewer_token), config::role::viewer, {}},
                {"soar", sha256_hex(submitter_token), config::role::submitter, {}},
                {"alice", sha256_hex(operator_token), config::role::operator_, {}}};
    return s;
}

class api_fixture : public ::testing::Test {
protected:
    void SetUp() override { start_server(); }
    void TearDown() override { stop_all(); }

    // Opens the store and the engine, starts the server and the io thread.
    void start_server(config::api_settings settings = test_settings(),
                      std::map<std::string, incident::tenant_settings> tenants = {}) {
        log_path_ = (h.dir_ / "containd.log").string();
        setup_logging(log_path_, "debug");
        h.open();
        if (tenants.empty()) tenants = {{"contoso", h.tenant}};
        settings_ = settings;
        api::context ctx{*h.db, *h.eng, h.clock, std::move(tenants),
                         [] { return std::string("containd_graph_calls_total{status=\"200\"} 7\n"); }};
        network_ = std::make_unique<boost::asio::io_context>(1);
        srv = std::make_unique<api::server>(network_->get_executor(), h.ioc->get_executor(), settings, std::move(ctx));
        port = srv->start();
        srv->set_ready(true);
        work_.emplace(h.ioc->get_executor());
        network_work_.emplace(network_->get_executor());
        io_ = std::thread([this] { h.ioc->run(); });
        network_thread_ = std::thread([this] { network_->run(); });
    }

    void stop_all() {
        if (!io_.joinable()) return;
        on_network([this] { srv.reset(); });
        network_work_.reset();
        network_->stop();
        network_thread_.join();
        work_.reset();
        h.ioc->stop();
        io_.join();
        h.crash();
    }

    // Runs fn on the io thread and returns its result.
    template <class F>
    auto on_io(F fn) -> decltype(fn()) {
        return run_on(h.ioc->get_executor(), std::move(fn));
    }
    // Runs fn on the server's network thread (its constructor, start() and stop() belong there).
    template <class F>
    auto on_network(F fn) -> decltype(fn()) {
        return run_on(network_->get_executor(), std::move(fn));
    }

    template <class F>
    static auto run_on(boost::asio::io_context::executor_type ex, F fn) -> decltype(fn()) {
        using R = decltype(fn());
        std::promise<R> p;
        auto fut = p.get_future();
        boost::asio::post(ex, [&] {
            try {
                if constexpr (std::is_void_v<R>) {
                    fn();
                    p.set_value();
                } else {
                    p.set_value(fn());
                }
            } catch (...) {
                p.set_exception(std::current_exception());
            }
        });
        return fut.get();
    }

    store::incident_status status_of(const std::string& id) {
        return on_io([&] { return h.db->get_incident(id)->status; });
    }

    // Lets the engine run; whenever it is idle, moves the manual clock to its next timer. Stops
    // when the incident's status satisfies done (or after a bounded number of rounds).
    template <class Pred>
    bool drive_until(const std::string& id, Pred done, int rounds = 5000) {
        for (int i = 0; i < rounds; ++i) {
            const bool reached = on_io([&] {
                const auto rec = h.db->get_incident(id);
                if (rec && done(rec->status)) return true;
                if (h.eng->idle()) {
                    const auto next = h.eng->next_wakeup();
                    if (next && *next > h.clock.now()) h.clock.set(*next);
                    h.eng->poke();
                }
                return false;
            });
            if (reached) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        return false;
    }
    bool drive_to(const std::string& id, store::incident_status want) {
        return drive_until(id, [want](store::incident_status s) { return s == want; });
    }

    std::string log_text() {
        spdlog::default_logger()->flush();
        std::ifstream in(log_path_);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }

    // Submits the walkthrough incident (or body) as the SOAR token; returns the 201's id.
    std::string submit(const nlohmann::json& body = walkthrough_submission(), test::header_list headers = {}) {
        test::api_client c(port);
        auto r = c.post("/v1/incidents", submitter_token, body, std::move(headers));
        EXPECT_EQ(r.status, 201) << r.body;
        return r.json().value("id", "");
    }

    engine_harness h{"api"};
    std::unique_ptr<api::server> srv;
    std::uint16_t port = 0;
    config::api_settings settings_;

private:
    std::string log_path_;
    std::unique_ptr<boost::asio::io_context> network_;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_, network_work_;
    std::thread io_, network_thread_;
};

}  // namespace containd::testing
