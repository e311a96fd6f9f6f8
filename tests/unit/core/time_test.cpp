#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "core/time.hpp"

using namespace containd;

TEST(Time, parses_utc_and_offsets_to_the_same_instant) {
    const auto utc = parse_rfc3339("2026-03-12T00:00:00Z");
    const auto offset = parse_rfc3339("2026-03-12T01:30:00+01:30");
    ASSERT_TRUE(utc && offset);
    EXPECT_EQ(*utc, *offset);
    EXPECT_EQ(to_unix_ms(*utc), 1773273600000);
}

TEST(Time, keeps_milliseconds_of_any_fraction) {
    const auto t = parse_rfc3339("2022-06-02T16:21:09.765173Z");
    ASSERT_TRUE(t);
    EXPECT_EQ(format_rfc3339(*t), "2022-06-02T16:21:09.765Z");
}

TEST(Time, refuses_malformed_or_impossible_timestamps) {
    for (const char* bad : {"", "2026-03-12", "2026-03-12T00:00:00", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
                            "2026-03-12T24:00:00Z", "2026-03-12T00:00:00.Z", "2026-03-12T00:00:00Zjunk",
                            "2026-03-12 00:00:00Z", "２026-03-12T00:00:00Z"})
        EXPECT_FALSE(parse_rfc3339(bad)) << bad;
}

TEST(Time, round_trips_http_dates) {
    const auto t = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT");
    ASSERT_TRUE(t);
    EXPECT_EQ(format_http_date(*t), "Sun, 06 Nov 1994 08:49:37 GMT");
    EXPECT_FALSE(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"));
    EXPECT_FALSE(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"));
}

// Found by tests/fuzz (fuzz_graph_text, fuzz_submission): a year outside what the nanosecond
// time_point holds overflowed a signed multiplication (UBSan) and produced a wrong instant; a
// timestamp from Graph ("0001-01-01T00:00:00Z" is a common "never") or a submission could hit it.
TEST(Time, refuses_instants_a_time_point_cannot_hold) {
    for (const char* far : {"0001-01-01T00:00:00Z", "0466-03-12T00:00:00Z", "1677-09-21T00:00:00Z",
                            "2262-04-12T00:00:00Z", "2824-02-29t23:59:59.9z", "9999-12-31T23:59:59.999Z"})
        EXPECT_FALSE(parse_rfc3339(far)) << far;
    EXPECT_FALSE(parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT"));
    EXPECT_FALSE(parse_http_date("Mon, 01 Jan 0001 00:00:00 GMT"));
    // The last representable days still parse, and format -> parse keeps the instant.
    for (const char* edge : {"1677-09-22T00:00:00Z", "2262-04-10T23:59:59.999Z", "1677-09-22T00:30:00+01:00"}) {
        const auto t = parse_rfc3339(edge);
        ASSERT_TRUE(t) << edge;
        EXPECT_EQ(parse_rfc3339(format_rfc3339(*t)), t) << edge;
    }
    EXPECT_TRUE(parse_http_date("Sat, 10 Apr 2262 00:00:00 GMT"));
}

TEST(Clock, manual_clock_moves_only_when_told) {
    manual_clock clock(from_unix_ms(1000));
    EXPECT_EQ(to_unix_ms(clock.now()), 1000);
    clock.advance(minutes(15));
    EXPECT_EQ(to_unix_ms(clock.now()), 1000 + 15 * 60 * 1000);
    clock.set(from_unix_ms(5));
    EXPECT_EQ(to_unix_ms(clock.now()), 5);
}

TEST(Clock, scaled_clock_runs_faster_from_its_origin) {
    const auto origin = *parse_rfc3339("2026-03-12T09:00:00Z");
    scaled_clock clock(origin, 3600.0);
    const auto a = clock.now();
    EXPECT_GE(a, origin);
    const auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(5)) {}
    EXPECT_GE(clock.now() - a, seconds(15)) << "5 ms of real time is at least 18 s of scaled time";
}

// Retry-After (RFC 9110 §10.2.3): delay-seconds = 1*DIGIT, Graph's decimal seconds, or an HTTP
// date. lib/graph and lib/engine both read it through this one parser; before there were two
// and the graph one took "0x10" as 16 s and "1e3" as 1000 s (strtod) where the engine refused.
TEST(RetryAfter, parses_delay_seconds_decimals_and_http_dates) {
    const time_point now = *parse_rfc3339("2026-03-12T09:00:00Z");
    EXPECT_EQ(parse_retry_after("7", now), seconds(7));
    EXPECT_EQ(parse_retry_after(" 0 ", now), seconds(0));
    EXPECT_EQ(parse_retry_after("\t120\t", now), seconds(120));
    EXPECT_EQ(parse_retry_after("007", now), seconds(7));
    EXPECT_EQ(parse_retry_after("2.128", now), milliseconds(2128));
    EXPECT_EQ(parse_retry_after(" 2.128 ", now), milliseconds(2128));
    EXPECT_EQ(parse_retry_after("0.5", now), milliseconds(500));
    EXPECT_EQ(parse_retry_after(format_http_date(now + seconds(42)), now), seconds(42));
    EXPECT_FALSE(parse_retry_after(format_http_date(now - seconds(5)), now)) << "a date in the past";
    EXPECT_FALSE(parse_retry_after(format_http_date(now), now)) << "a date that is now";
}

TEST(RetryAfter, refuses_what_is_not_delay_seconds) {
    const time_point now = *parse_rfc3339("2026-03-12T09:00:00Z");
    for (const char* bad : {"", " ", "soon", "-3", "+3", "-1", "7s", "2.", ".5", "1e3", "1E3", "0x10", "0X10", "1 2",
                            "7,5", "1.2.3", "inf", "nan", "Wed, 32 Foo 2026 00:00:00 GMT"})
        EXPECT_FALSE(parse_retry_after(bad, now)) << bad;
}

TEST(RetryAfter, caps_absurd_delays_instead_of_overflowing) {
    const time_point now = *parse_rfc3339("2026-03-12T09:00:00Z");
    const auto year = std::chrono::duration_cast<duration>(std::chrono::hours(24 * 365));
    EXPECT_EQ(parse_retry_after("99999999999999999999999999", now), year);
    EXPECT_EQ(parse_retry_after("31536000", now), year);
    EXPECT_EQ(parse_retry_after("31535999", now), seconds(31535999));
}
