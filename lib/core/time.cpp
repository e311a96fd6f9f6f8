#include "core/time.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>

namespace containd {
namespace {

using namespace std::chrono;

bool parse_digits(std::string_view text, std::size_t pos, std::size_t count, int& out) {
    if (pos + count > text.size()) return false;
    int value = 0;
    for (std::size_t i = pos; i < pos + count; ++i) {
        const char c = text[i];
        if (c < '0' || c > '9') return false;
        value = value * 10 + (c - '0');
    }
    out = value;
    return true;
}

std::optional<sys_days> make_date(int y, int m, int d) {
    const year_month_day ymd{year{y}, month{static_cast<unsigned>(m)}, day{static_cast<unsigned>(d)}};
    if (!ymd.ok()) return std::nullopt;
    return sys_days{ymd};
}

// date + seconds_of_day + millis, if time_point can hold it. system_clock counts nanoseconds in
// libstdc++ (years 1677 to 2262): converting a date outside that range overflowed (undefined
// behaviour; found by tests/fuzz). The sum is done in 64-bit seconds, which cannot overflow.
std::optional<time_point> make_instant(sys_days date, std::int64_t seconds_of_day, std::int64_t millis) {
    constexpr std::int64_t max_s = duration_cast<seconds>(time_point::duration::max()).count() - 1;
    constexpr std::int64_t min_s = duration_cast<seconds>(time_point::duration::min()).count() + 1;
    const std::int64_t s = std::int64_t{date.time_since_epoch().count()} * 86400 + seconds_of_day;
    if (s < min_s || s > max_s) return std::nullopt;
    return time_point(duration_cast<duration>(seconds(s) + milliseconds(millis)));
}

constexpr std::array<std::string_view, 12> month_names = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> weekday_names = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

}  // namespace

std::optional<time_point> parse_rfc3339(std::string_view s) {
    int y, mo, d, h, mi, se;
    if (s.size() < 20 || !parse_digits(s, 0, 4, y) || s[4] != '-' || !parse_digits(s, 5, 2, mo) || s[7] != '-' ||
        !parse_digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't') || !parse_digits(s, 11, 2, h) || s[13] != ':' ||
        !parse_digits(s, 14, 2, mi) || s[16] != ':' || !parse_digits(s, 17, 2, se))
        return std::nullopt;
    if (h > 23 || mi > 59 || se > 59) return std::nullopt;
    const auto date = make_date(y, mo, d);
    if (!date) return std::nullopt;

    std::size_t pos = 19;
    std::int64_t millis = 0;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        const std::size_t start = pos;
        int scale = 100;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            millis += (s[pos] - '0') * scale;
            scale /= 10;
            ++pos;
        }
        if (pos == start) return std::nullopt;
    }
    int offset_minutes = 0;
    if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
        ++pos;
    } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
        int oh, om;
        if (!parse_digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
            !parse_digits(s, pos + 4, 2, om) || oh > 23 || om > 59)
            return std::nullopt;
        offset_minutes = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != s.size()) return std::nullopt;

    return make_instant(*date, std::int64_t{h} * 3600 + mi * 60 + se - std::int64_t{offset_minutes} * 60, millis);
}

std::string format_rfc3339(time_point t) {
    const auto ms = time_point_cast<milliseconds>(t);
    const auto day_start = floor<days>(ms);
    const year_month_day ymd{day_start};
    const hh_mm_ss hms{ms - day_start};
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()), static_cast<int>(hms.subseconds().count()));
    return buf;
}

std::optional<time_point> parse_http_date(std::string_view s) {
    // "Sun, 06 Nov 1994 08:49:37 GMT"
    if (s.size() != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' || s[19] != ':' ||
        s[22] != ':' || s[25] != ' ' || s.substr(26) != "GMT")
        return std::nullopt;
    int d, y, h, mi, se;
    if (!parse_digits(s, 5, 2, d) || !parse_digits(s, 12, 4, y) || !parse_digits(s, 17, 2, h) ||
        !parse_digits(s, 20, 2, mi) || !parse_digits(s, 23, 2, se) || h > 23 || mi > 59 || se > 60)
        return std::nullopt;
    int mo = 0;
    for (std::size_t i = 0; i < month_names.size(); ++i)
        if (s.substr(8, 3) == month_names[i]) mo = static_cast<int>(i) + 1;
    if (mo == 0) return std::nullopt;
    const auto date = make_date(y, mo, d);
    if (!date) return std::nullopt;
    return make_instant(*date, std::int64_t{h} * 3600 + mi * 60 + se, 0);
}

std::string format_http_date(time_point t) {
    const auto secs = time_point_cast<seconds>(t);
    const auto day_start = floor<days>(secs);
    const year_month_day ymd{day_start};
    const weekday wd{day_start};
    const hh_mm_ss hms{secs - day_start};
    char buf[40];
    std::snprintf(buf, sizeof buf, "%s, %02u %s %04d %02d:%02d:%02d GMT", weekday_names[wd.c_encoding()].data(),
                  static_cast<unsigned>(ymd.day()), month_names[static_cast<unsigned>(ymd.month()) - 1].data(),
                  static_cast<int>(ymd.year()), static_cast<int>(hms.hours().count()),
                  static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
    return buf;
}

std::optional<duration> parse_retry_after(std::string_view value, time_point now) {
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (value.empty()) return std::nullopt;
    const auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (digit(value.front())) {
        constexpr std::int64_t cap = 365LL * 24 * 3600;
        const std::size_t dot = value.find('.');
        const std::string_view whole = value.substr(0, dot);
        const std::string_view fraction = dot == std::string_view::npos ? std::string_view() : value.substr(dot + 1);
        if (dot != std::string_view::npos && fraction.empty()) return std::nullopt;
        std::int64_t secs = 0;
        for (const char c : whole) {
            if (!digit(c)) return std::nullopt;
            secs = std::min(cap, secs * 10 + (c - '0'));
        }
        std::int64_t millis = 0, scale = 100;
        for (const char c : fraction) {
            if (!digit(c)) return std::nullopt;
            millis += (c - '0') * scale;
            scale /= 10;
        }
        return std::chrono::duration_cast<duration>(seconds(secs) + milliseconds(secs == cap ? 0 : millis));
    }
    if (auto date = parse_http_date(value)) {
        if (*date <= now) return std::nullopt;
        return *date - now;
    }
    return std::nullopt;
}

}  // namespace containd
