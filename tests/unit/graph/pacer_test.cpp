#include <gtest/gtest.h>

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

// No half-open window (x - w, x] may hold more than `limit` of the slots.
bool respects(const std::vector<time_point>& slots, std::size_t limit, duration w) {
    for (const auto end : slots) {
        std::size_t n = 0;
        for (const auto s : slots) n += (s > end - w && s <= end);
        if (n > limit) return false;
    }
    return true;
}
}  // namespace

TEST(RateWindow, one_per_second_spaces_requests_a_second_apart) {
    rate_window w(1, seconds(1));
    EXPECT_EQ(w.reserve(t0), t0);
    EXPECT_EQ(w.reserve(t0), t0 + seconds(1));
    EXPECT_EQ(w.reserve(t0), t0 + seconds(2));
    // Later callers never jump ahead of earlier reservations.
    EXPECT_EQ(w.reserve(t0 + milliseconds(500)), t0 + seconds(3));
}

TEST(RateWindow, five_per_ten_seconds_allows_a_burst_then_waits_for_the_window) {
    rate_window w(5, seconds(10));
    for (int i = 0; i < 5; ++i) EXPECT_EQ(w.reserve(t0 + milliseconds(i)), t0 + milliseconds(i));
    EXPECT_EQ(w.reserve(t0 + seconds(1)), t0 + seconds(10));
    EXPECT_EQ(w.reserve(t0 + seconds(1)), t0 + seconds(10) + milliseconds(1));
    EXPECT_EQ(w.in_window(t0 + seconds(1)), 7u);
}

TEST(RateWindow, idle_time_restores_the_full_burst) {
    rate_window w(5, seconds(10));
    for (int i = 0; i < 5; ++i) w.reserve(t0);
    const auto later = t0 + seconds(11);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(w.reserve(later), later);
    EXPECT_EQ(w.in_window(later), 5u);
}

TEST(RateWindow, released_slots_are_given_back) {
    rate_window w(1, seconds(1));
    w.reserve(t0);
    const auto slot = w.reserve(t0);
    EXPECT_EQ(slot, t0 + seconds(1));
    w.release(slot);
    EXPECT_EQ(w.reserve(t0), t0 + seconds(1));
}

TEST(RateWindow, random_arrivals_never_exceed_the_limit_in_any_window) {
    std::mt19937_64 rng(42);
    for (const auto& [limit, window] : {std::pair{std::size_t{1}, duration(seconds(1))},
                                        std::pair{std::size_t{5}, duration(seconds(10))}}) {
        rate_window w(limit, window);
        std::vector<time_point> slots;
        time_point now = t0;
        for (int i = 0; i < 300; ++i) {
            now += milliseconds(std::uniform_int_distribution<int>(0, 1500)(rng));
            const auto s = w.reserve(now);
            EXPECT_GE(s, now);
            slots.push_back(s);
        }
        EXPECT_TRUE(respects(slots, limit, window));
        EXPECT_TRUE(std::is_sorted(slots.begin(), slots.end()));
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
    // The first send of the window goes at once.
    const auto first = run(p.acquire(pace_class::reports));
    ASSERT_TRUE(first);
    EXPECT_FALSE(*first);
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
    // Once the window has passed, the next caller gets the slot the cancelled one gave back
    // (t0 + 10 s), not one behind it (t0 + 20 s).
    clock.set(t0 + milliseconds(10500));
    const auto next = run(p.acquire(pace_class::reports));
    ASSERT_TRUE(next);
    EXPECT_FALSE(*next) << "still waiting " << std::chrono::duration_cast<milliseconds>(next->value_or(duration{})).count()
                        << " ms: the cancelled wait kept its slot";
}
