#include <gtest/gtest.h>

#include <random>

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
