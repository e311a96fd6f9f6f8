#include "core/clock.hpp"

namespace containd {

manual_clock::manual_clock(time_point start) : ticks_(start.time_since_epoch().count()) {}

time_point manual_clock::now() const { return time_point(duration(ticks_.load())); }

void manual_clock::advance(duration d) { ticks_.fetch_add(d.count()); }

void manual_clock::set(time_point t) { ticks_.store(t.time_since_epoch().count()); }

scaled_clock::scaled_clock(time_point origin, double scale)
        : origin_(origin), started_(std::chrono::steady_clock::now()), scale_(scale) {}

time_point scaled_clock::now() const {
    const auto real = std::chrono::steady_clock::now() - started_;
    return origin_ +
           std::chrono::duration_cast<duration>(std::chrono::duration<double, std::nano>(
               static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(real).count()) * scale_));
}

std::int64_t to_unix_ms(time_point t) { return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count(); }

time_point from_unix_ms(std::int64_t ms) { return time_point(std::chrono::duration_cast<duration>(milliseconds(ms))); }

}  // namespace containd
