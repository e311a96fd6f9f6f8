#pragma once
// Per-tenant pacing of the tightly throttled Graph endpoint classes, so the daemon stays under
// Microsoft's limits instead of collecting 429s it then has to wait out:
// - protection: Conditional Access policies, named locations, riskyUsers: 1 request per second
//   per tenant (Graph answers 429 without Retry-After there);
// - reports: sign-in logs and directory audits: 5 requests per 10 seconds per app and tenant.
//
// rate_window is the pure part (no I/O, tested with times only). A send holds one of `limit`
// places from the moment it goes out until `window` after its response is in. Microsoft counts a
// request when it arrives, which is after we send it and before we hear back, so counting from
// the response keeps every window of arrivals within the limit whatever the latency and its
// jitter. Counting from the send (a plain sliding window) does not: a slow request followed by a
// fast one arrive closer together than they were sent, and on a loaded machine or a compressed
// demo clock the 1-per-second class then collected a 429 on nearly every second call. Callers
// are served first come, first served.
//
// pacer is the coroutine-facing part: acquire() queues for a place and waits until the injected
// clock gives it one, polling the clock (a manual clock in tests moves when the test says so),
// for at most max_wait of real time. Granted, it returns a permit the caller holds until the
// response is in (or the send failed or was cancelled): dropping the permit starts the window.
// If no place came within max_wait it leaves the queue and returns the expected remaining wait,
// and the Graph client answers the call locally with 429 + Retry-After (sent=false) so that the
// engine's durable retry takes over. Never sends while the class is at its limit.

#include <cstddef>
#include <cstdint>
#include <deque>
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
    double safety_margin = 0.05;                // windows are stretched by this fraction (clock skew, latency jitter)
    duration max_wait = seconds(60);            // real time acquire() may wait before giving the slot back
    duration poll_interval = milliseconds(20);  // clock re-check period while waiting
};

class rate_window {
public:
    using ticket = std::uint64_t;

    rate_window(std::size_t limit, duration window);

    // Queues a caller.
    ticket join();
    // True when `t` is first in the queue and a place is free at `now`: the caller leaves the
    // queue, sends now, and calls finished() once the response (or the failure) is in.
    bool try_send(ticket t, time_point now);
    // A queued caller gave up waiting.
    void leave(ticket t);
    // A send's response is in at `now`: its place frees `window` later.
    void finished(time_point now);
    // When the next place frees: `now` if one is free, the time a finished send's window ends,
    // or nullopt while every place is held by a send still in flight.
    std::optional<time_point> next_free(time_point now) const;
    std::size_t in_flight() const { return in_flight_; }

private:
    std::size_t limit_;
    duration window_;
    std::deque<ticket> queue_;
    ticket next_ticket_ = 0;
    std::size_t in_flight_ = 0;
    std::deque<time_point> finished_;  // sorted: the responses whose window may not have ended
};

class pacer {
public:
    struct impl;  // implementation detail

    // A granted send's place in its class; destroying it (after the response) starts the window.
    class permit {
    public:
        permit() = default;  // nothing held: an unpaced class, or pacing disabled
        permit(std::shared_ptr<impl> owner, rate_window* window);
        permit(permit&& other) noexcept;
        permit& operator=(permit&& other) noexcept;
        ~permit();

    private:
        void finish();
        std::shared_ptr<impl> owner_;
        rate_window* window_ = nullptr;
    };

    struct outcome {
        std::optional<duration> refused_for;  // no place within max_wait: the expected remaining wait
        permit held;                          // granted: hold it until the response is in
    };

    pacer(boost::asio::any_io_executor executor, const clock_source& clock, pacing_settings settings = {});
    ~pacer();
    pacer(const pacer&) = delete;
    pacer& operator=(const pacer&) = delete;

    // Waits for a place in the class (granted at once for pace_class::none or when pacing is
    // disabled). Cancelled while waiting, it leaves the queue.
    boost::asio::awaitable<outcome> acquire(pace_class cls);

    const pacing_settings& settings() const;

private:
    std::shared_ptr<impl> impl_;
};

// Waits until clock.now() >= until, polling every `poll` of real time, for at most `max_real`.
// Returns true when the clock reached `until`.
boost::asio::awaitable<bool> wait_on_clock(boost::asio::any_io_executor executor, const clock_source& clock,
                                           time_point until, duration poll, duration max_real);

}  // namespace containd::graph
