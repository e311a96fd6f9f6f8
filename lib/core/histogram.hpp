#pragma once
// A Prometheus histogram of seconds (text exposition format 0.0.4): fixed upper bounds, counts
// kept per bucket and rendered cumulative, with _sum and _count. The one histogram of the
// daemon's /metrics (API latency, Graph latency, time to containment). Not thread-safe: its
// owner guards it.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace containd {

class histogram {
public:
    explicit histogram(std::vector<double> upper_bounds);

    void observe(double seconds);

    // Appends `name`_bucket{labels,le="..."} lines (cumulative, ending with +Inf), `name`_sum and
    // `name`_count. `labels` is "" or the rendered label pairs without braces: tenant="contoso".
    void render(std::string& out, std::string_view name, std::string_view labels = {}) const;

    std::uint64_t count() const { return count_; }

private:
    std::vector<double> bounds_;
    std::vector<std::uint64_t> counts_;  // per bucket, not cumulative
    std::uint64_t count_ = 0;
    double sum_ = 0;
};

// A number as Prometheus reads it (up to 9 significant digits).
std::string prometheus_number(double v);

}  // namespace containd
