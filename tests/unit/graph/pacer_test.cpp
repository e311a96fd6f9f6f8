#include <gtest/gtest.h>

#include <deque>
#include <optional>
#include <random>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/clock.hpp"
#include "core/time.hpp"
#include "graph/pacer.hpp"

using namespace containd;
using namespace containd::graph;

namespace {
const time_point t0 = *parse_rfc3339("2024-05-01T10:00:00Z");

// No half-open window (x - w, x] may hold more than `limit` of the arrivals.
bool respects(const std::vector<time_point>& arrivals, std::size_t limit, duration w) {
    for (const auto end : arrivals) {
        std::size_t n = 0;
        for (const auto a : arrivals) n += (a > end - w && a <= end);
        if (n > limit) return false;
    }
    return true;
}
}  // namespace

TEST(RateWindow, one_per_second_counts_the_second_from_the_response) {
    rate_window w(1, seconds(1));
    const auto a = w.join(), b = w.join();
    EXPECT_TRUE(w.try_send(a, t0));
    EXPECT_FALSE(w.try_send(b, t0 + seconds(5))) << "a send in flight holds the place, however long it takes";
    EXPECT_EQ(w.next_free(t0 + seconds(5)), std::nullopt);
    w.finished(t0 + milliseconds(5300));  // a slow response
    EXPECT_EQ(w.next_free(t0 + milliseconds(5300)), t0 + milliseconds(6300));
    EXPECT_FALSE(w.try_send(b, t0 + milliseconds(6299)));
    EXPECT_TRUE(w.try_send(b, t0 + milliseconds(6300)));
}

TEST(RateWindow, five_per_ten_seconds_allows_a_burst_then_waits_for_the_window) {
    rate_window w(5, seconds(10));
    for (int i = 0; i < 5; ++i) {
        EXPECT_TRUE(w.try_send(w.join(), t0 + milliseconds(i)));
        w.finished(t0 + milliseconds(100 + i));
    }
    const auto sixth = w.join();
    EXPECT_FALSE(w.try_send(sixth, t0 + seconds(1)));
    EXPECT_EQ(w.next_free(t0 + seconds(1)), t0 + seconds(10) + milliseconds(100));
    EXPECT_TRUE(w.try_send(sixth, t0 + seconds(10) + milliseconds(100)));
    EXPECT_EQ(w.in_flight(), 1u);
}

TEST(RateWindow, idle_time_restores_the_full_burst) {
    rate_window w(5, seconds(10));
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(w.try_send(w.join(), t0));
        w.finished(t0);
    }
    const auto later = t0 + seconds(11);
    for (int i = 0; i < 5; ++i) EXPECT_TRUE(w.try_send(w.join(), later));
    EXPECT_EQ(w.in_flight(), 5u);
}

TEST(RateWindow, callers_are_served_in_order_and_a_leaver_gives_its_turn_back) {
    rate_window w(1, seconds(1));
    const auto a = w.join(), b = w.join(), c = w.join();
    EXPECT_FALSE(w.try_send(b, t0)) << "b is behind a";
    w.leave(a);
    EXPECT_FALSE(w.try_send(c, t0)) << "c is behind b";
    EXPECT_TRUE(w.try_send(b, t0));
    w.finished(t0);
    EXPECT_TRUE(w.try_send(c, t0 + seconds(1)));
}

// The property the server needs: whatever the latencies (a send arrives at some moment between
// its send and its response), no window of arrivals holds more than the limit.
TEST(RateWindow, random_latencies_never_put_more_than_the_limit_in_any_window_of_arrivals) {
    std::mt19937_64 rng(42);
    for (const auto& [limit, window] :
         {std::pair{std::size_t{1}, duration(seconds(1))}, std::pair{std::size_t{5}, duration(seconds(10))}}) {
        rate_window w(limit, window);
        std::vector<time_point> arrivals;
        std::vector<time_point> responses;  // of the sends in flight
        std::deque<rate_window::ticket> waiting;
        time_point now = t0;
        for (int i = 0; i < 3000 && arrivals.size() < 300; ++i) {
            now += milliseconds(std::uniform_int_distribution<int>(0, 400)(rng));
            if (std::uniform_int_distribution<int>(0, 2)(rng) == 0) waiting.push_back(w.join());
            std::sort(responses.begin(), responses.end());
            while (!responses.empty() && responses.front() <= now) {
                w.finished(responses.front());
                responses.erase(responses.begin());
            }
            while (!waiting.empty() && w.try_send(waiting.front(), now)) {
                waiting.pop_front();
                const auto latency = milliseconds(std::uniform_int_distribution<int>(1, 3000)(rng));
                const auto arrival_share = std::uniform_real_distribution<double>(0, 1)(rng);
                arrivals.push_back(now + std::chrono::duration_cast<duration>(latency * arrival_share));
                responses.push_back(now + latency);
            }
        }
        std::sort(arrivals.begin(), arrivals.end());
        EXPECT_GT(arrivals.size(), 50u);
        EXPECT_TRUE(respects(arrivals, limit, window)) << "limit " << limit;
    }
}

TEST(RateWindow, refuses_a_zero_limit) { EXPECT_THROW(rate_window(0, seconds(1)), std::invalid_argument); }

// Regression (found by tests/system/chaos_soak_test): an acquire() cancelled while it waits (the
// engine's attempt timeout cancels the step's coroutine) must give its slot back. It kept it:
// every timed-out attempt left a reservation no one would use, each retry queued behind them
// all, and under load the reports class stopped sending at all (every evidence step timed out).
TEST(Pacer, a_cancelled_wait_gives_its_slot_back) {
    namespace asio = boost::asio;
    using namespace asio::experimental::awaitable_operators;
    asio::io_context ioc;
    manual_clock clock(t0);
    pacing_settings s;
    s.reports = {1, seconds(10)};
    s.safety_margin = 0;
    s.max_wait = milliseconds(300);
    s.poll_interval = milliseconds(5);
    pacer p(ioc.get_executor(), clock, s);
    auto run = [&](auto awaitable) {
        using result_t = typename decltype(awaitable)::value_type;
        std::optional<result_t> out;
        asio::co_spawn(ioc, std::move(awaitable), [&](std::exception_ptr e, result_t r) {
            if (!e) out = std::move(r);
        });
        ioc.restart();
        ioc.run_for(std::chrono::seconds(5));
        return out;
    };
    // The first send of the window goes at once; its response is in at t0.
    {
        const auto first = run(p.acquire(pace_class::reports));
        ASSERT_TRUE(first);
        EXPECT_FALSE(first->refused_for);
    }
    // The second waits for t0 + 10 s; its caller gives up after 20 ms (the attempt timeout).
    auto timeout = [&]() -> asio::awaitable<void> {
        asio::steady_timer t(co_await asio::this_coro::executor);
        t.expires_after(std::chrono::milliseconds(20));
        co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    };
    auto raced = [&]() -> asio::awaitable<int> {
        auto r = co_await (p.acquire(pace_class::reports) || timeout());
        co_return static_cast<int>(r.index());
    };
    const auto winner = run(raced());
    ASSERT_TRUE(winner);
    EXPECT_EQ(*winner, 1) << "the timeout should have won";
    // Once the window has passed, the next caller gets the place at once: the cancelled wait
    // left the queue instead of standing first in it for good.
    clock.set(t0 + milliseconds(10500));
    const auto next = run(p.acquire(pace_class::reports));
    ASSERT_TRUE(next);
    EXPECT_FALSE(next->refused_for)
        << "still waiting " << std::chrono::duration_cast<milliseconds>(next->refused_for.value_or(duration{})).count()
        << " ms: the cancelled wait kept its place";
}
