#pragma once
// Per-tenant pacing of the tightly throttled Graph endpoint classes, so the daemon stays under
// Microsoft's limits instead of collecting 429s it then has to wait out:
// - protection: Conditional Access policies, named locations, riskyUsers: 1 request per second
//   per tenant (Graph answers 429 without Retry-After there);
// - reports: sign-in logs and directory audits: 5 requests per 10 seconds per app and tenant.
//
// rate_window is the pure part (no I/O, tested with times only): a sliding-window limiter that
// hands out send slots, so that no window of `window` length ever holds more than `limit` sends.
// Unlike a token bucket refilling at limit/window it also guarantees the limit for servers that
// count in fixed or sliding windows, and it still allows a burst of `limit` sends.
//
// pacer is the coroutine-facing part: acquire() reserves the next slot and waits until the
// injected clock reaches it. Waiting polls the clock (a manual clock in tests moves when the
// test says so), bounded by max_wait of real time; if the slot is still in the future then,
// the reservation is released and acquire() returns the remaining wait, and the Graph client
// answers the call locally with 429 + Retry-After (sent=false) so that the engine's durable
// retry takes over. Never sends before the slot.

#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "core/clock.hpp"

namespace containd::graph {

enum class pace_class { none, protection, reports };

struct rate {
    std::size_t limit = 1;
    duration window = seconds(1);
};

struct pacing_settings {
    bool enabled = true;
    rate protection{1, seconds(1)};
    rate reports{5, seconds(10)};
    double safety_margin = 0.05;         // windows are stretched by this fraction (clock skew, latency jitter)
    duration max_wait = seconds(60);     // real time acquire() may wait before giving the slot back
    duration poll_interval = milliseconds(20);  // clock re-check period while waiting
};

class rate_window {
public:
    rate_window(std::size_t limit, duration window);

    // Reserves the earliest slot at or after `now` (and not before any earlier reservation)
    // that keeps every window within the limit. Returns the slot's time.
    time_point reserve(time_point now);
    // Gives a reserved slot back (its caller did not send).
    void release(time_point slot);
    // Sends counted in (now - window, now] plus reservations after now.
    std::size_t in_window(time_point now) const;

private:
    void prune(time_point now);
    std::size_t limit_;
    duration window_;
    std::deque<time_point> slots_;  // non-decreasing
};

class pacer {
public:
    pacer(boost::asio::any_io_executor executor, const clock_source& clock, pacing_settings settings = {});
    ~pacer();
    pacer(const pacer&) = delete;
    pacer& operator=(const pacer&) = delete;

    // Waits for a send slot of the class (returns nullopt at once for pace_class::none or when
    // pacing is disabled). Returns the remaining wait when it gave up after max_wait (see above).
    boost::asio::awaitable<std::optional<duration>> acquire(pace_class cls);

    const pacing_settings& settings() const;

    struct impl;  // implementation detail

private:
    std::shared_ptr<impl> impl_;
};

// Waits until clock.now() >= until, polling every `poll` of real time, for at most `max_real`.
// Returns true when the clock reached `until`.
boost::asio::awaitable<bool> wait_on_clock(boost::asio::any_io_executor executor, const clock_source& clock,
                                           time_point until, duration poll, duration max_real);

}  // namespace containd::graph
