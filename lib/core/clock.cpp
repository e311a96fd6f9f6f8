#include "core/clock.hpp"

namespace containd {

manual_clock::manual_clock(time_point start) : ticks_(start.time_since_epoch().count()) {}

time_point manual_clock::now() const { return time_point(duration(ticks_.load())); }

void manual_clock::advance(duration d) { ticks_.fetch_add(d.count()); }

void manual_clock::set(time_point t) { ticks_.store(t.time_since_epoch().count()); }

std::int64_t to_unix_ms(time_point t) {
    return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}

time_point from_unix_ms(std::int64_t ms) {
    return time_point(std::chrono::duration_cast<duration>(milliseconds(ms)));
}

}  // namespace containd
