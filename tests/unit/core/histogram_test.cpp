// The /metrics histogram: what Prometheus reads (cumulative buckets, +Inf, _sum, _count).
#include <gtest/gtest.h>

#include "core/histogram.hpp"

using containd::histogram;

TEST(Histogram, renders_cumulative_buckets_with_inf_sum_and_count) {
    histogram h({0.1, 1, 10});
    for (double s : {0.05, 0.1, 0.5, 20.0}) h.observe(s);
    std::string out;
    h.render(out, "x_seconds", "tenant=\"contoso\"");
    EXPECT_EQ(out,
              "x_seconds_bucket{tenant=\"contoso\",le=\"0.1\"} 2\n"  // 0.1 lies in le=0.1: upper bounds are inclusive
              "x_seconds_bucket{tenant=\"contoso\",le=\"1\"} 3\n"
              "x_seconds_bucket{tenant=\"contoso\",le=\"10\"} 3\n"
              "x_seconds_bucket{tenant=\"contoso\",le=\"+Inf\"} 4\n"
              "x_seconds_sum{tenant=\"contoso\"} 20.65\n"
              "x_seconds_count{tenant=\"contoso\"} 4\n");
}

TEST(Histogram, without_labels_has_no_braces_on_sum_and_count) {
    histogram h({1});
    std::string out;
    h.render(out, "y");
    EXPECT_EQ(out, "y_bucket{le=\"1\"} 0\ny_bucket{le=\"+Inf\"} 0\ny_sum 0\ny_count 0\n");
}

TEST(Histogram, refuses_unsorted_bounds) { EXPECT_THROW(histogram({1, 0.5}), std::invalid_argument); }
