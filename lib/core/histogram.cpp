#include "core/histogram.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace containd {

histogram::histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size(), 0) {
    if (!std::is_sorted(bounds_.begin(), bounds_.end())) throw std::invalid_argument("histogram: bounds must be sorted");
}

void histogram::observe(double seconds) {
    // The first bucket whose upper bound holds it; above them all, only +Inf (count) does.
    const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), seconds);
    if (it != bounds_.end()) ++counts_[static_cast<std::size_t>(it - bounds_.begin())];
    ++count_;
    sum_ += seconds;
}

void histogram::render(std::string& out, std::string_view name, std::string_view labels) const {
    const std::string prefix = labels.empty() ? std::string() : std::string(labels) + ",";
    const std::string braces = labels.empty() ? std::string() : "{" + std::string(labels) + "}";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < bounds_.size(); ++i) {
        cumulative += counts_[i];
        out.append(name).append("_bucket{").append(prefix).append("le=\"").append(prometheus_number(bounds_[i]));
        out.append("\"} ").append(std::to_string(cumulative)).append("\n");
    }
    out.append(name).append("_bucket{").append(prefix).append("le=\"+Inf\"} ").append(std::to_string(count_)).append("\n");
    out.append(name).append("_sum").append(braces).append(" ").append(prometheus_number(sum_)).append("\n");
    out.append(name).append("_count").append(braces).append(" ").append(std::to_string(count_)).append("\n");
}

std::string prometheus_number(double v) {
    std::ostringstream s;
    s.precision(9);
    s << v;
    return s.str();
}

}  // namespace containd
