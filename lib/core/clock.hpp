#pragma once
// The one injected clock. The daemon uses system_clock_source; tests use manual_clock so that the
// real 15/30/60-minute verification schedule runs in milliseconds.

#include <atomic>
#include <chrono>

namespace containd {

using time_point = std::chrono::system_clock::time_point;
using duration = std::chrono::system_clock::duration;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// Wall-clock time source. Implementations must be safe to call from any thread.
class clock_source {
public:
    virtual ~clock_source() = default;
    virtual time_point now() const = 0;
};

// The real wall clock.
class system_clock_source final : public clock_source {
public:
    time_point now() const override { return std::chrono::system_clock::now(); }
};

// A clock that moves only when told to. Thread-safe.
class manual_clock final : public clock_source {
public:
    explicit manual_clock(time_point start);
    time_point now() const override;
    void advance(duration d);
    void set(time_point t);  // may move backwards: tests use it to step the clock

private:
    std::atomic<duration::rep> ticks_;
};

// A clock that starts at `origin` and runs `scale` times faster than the wall clock: the demo
// plays the real 15/30/60-minute schedule (and the simulated tenant's delays) in about a minute.
class scaled_clock final : public clock_source {
public:
    scaled_clock(time_point origin, double scale);
    time_point now() const override;

private:
    time_point origin_;
    std::chrono::steady_clock::time_point started_;
    double scale_;
};

// Milliseconds since the Unix epoch: the unit every stored timestamp uses.
std::int64_t to_unix_ms(time_point t);
time_point from_unix_ms(std::int64_t ms);

}  // namespace containd
