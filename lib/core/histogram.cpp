#include "core/histogram.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace containd {

histogram::histogram(std::vector<double> upper_bounds) : bounds_(std::move(upper_bounds)), counts_(bounds_.size(), 0) {
    if (!std::is_sorted(bounds_.begin(), bounds_.end()))
        throw std::invalid_argument("histogram: bounds must be sorted");
}

void histogram::observe(double seconds) {
    // The first bucket whose upper bound holds it; above them all, only +Inf (count) does.
    const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), seconds);
    if (it != bounds_.end()) ++counts_[static_cast<std::size_t>(it - bounds_.begin())];
    ++count_;
    sum_ += seconds;
}

void histogram::render(std::string& out, std::string_view name, std::string_view labels) const {
    const std::string first = labels.empty() ? std::string() : std::string(labels) + ",";         // before le
    const std::string braced = labels.empty() ? std::string() : "{" + std::string(labels) + "}";  // _sum, _count
    const auto line = [&](const std::string& series, const std::string& value) {
        out.append(name).append(series).append(" ").append(value).append("\n");
    };
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < bounds_.size(); ++i) {
        cumulative += counts_[i];
        line("_bucket{" + first + "le=\"" + prometheus_number(bounds_[i]) + "\"}", std::to_string(cumulative));
    }
    line("_bucket{" + first + "le=\"+Inf\"}", std::to_string(count_));
    line("_sum" + braced, prometheus_number(sum_));
    line("_count" + braced, std::to_string(count_));
}

std::string prometheus_number(double v) {
    std::ostringstream s;
    s.precision(9);
    s << v;
    return s.str();
}

}  // namespace containd
