#include "graph/pacer.hpp"

#include <algorithm>
#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace containd::graph {
namespace {
namespace asio = boost::asio;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

duration stretch(duration d, double margin) {
    return d + std::chrono::duration_cast<duration>(d * margin);
}
}  // namespace

rate_window::rate_window(std::size_t limit, duration window) : limit_(limit), window_(window) {
    if (limit == 0) throw std::invalid_argument("rate_window: limit must be positive");
}

void rate_window::prune(time_point now) {
    // Slots at or before now - window no longer constrain anything at or after now.
    while (!slots_.empty() && slots_.front() <= now - window_) slots_.pop_front();
}

time_point rate_window::reserve(time_point now) {
    prune(now);
    time_point t = now;
    if (!slots_.empty()) t = std::max(t, slots_.back());
    // With slots non-decreasing and t >= every slot, only the window ending at t matters: it
    // may hold at most limit - 1 earlier slots, i.e. t must be past the limit-th latest one.
    if (slots_.size() >= limit_) t = std::max(t, slots_[slots_.size() - limit_] + window_);
    slots_.push_back(t);
    return t;
}

void rate_window::release(time_point slot) {
    const auto it = std::find(slots_.rbegin(), slots_.rend(), slot);
    if (it != slots_.rend()) slots_.erase(std::next(it).base());
}

std::size_t rate_window::in_window(time_point now) const {
    return static_cast<std::size_t>(
        std::count_if(slots_.begin(), slots_.end(), [&](time_point s) { return s > now - window_; }));
}

asio::awaitable<bool> wait_on_clock(asio::any_io_executor executor, const clock_source& clock, time_point until,
                                    duration poll, duration max_real) {
    asio::steady_timer timer(executor);
    const auto real_deadline = std::chrono::steady_clock::now() + max_real;
    for (;;) {
        const time_point now = clock.now();
        if (now >= until) co_return true;
        const auto real_now = std::chrono::steady_clock::now();
        if (real_now >= real_deadline) co_return false;
        // Sleep the remaining clock time (exact for a real clock), but re-check at least every
        // poll so a manual clock moved by a test is noticed.
        auto step = std::min<std::chrono::steady_clock::duration>(until - now, poll);
        step = std::min<std::chrono::steady_clock::duration>(step, real_deadline - real_now);
        timer.expires_after(step);
        co_await timer.async_wait(use_nothrow);
        // Cancelled (the caller gave up): stop waiting; the caller gives the slot back.
        if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none) co_return false;
    }
}

struct pacer::impl {
    impl(asio::any_io_executor ex, const clock_source& c, pacing_settings s)
        : executor(std::move(ex)),
          clock(c),
          settings(s),
          protection(s.protection.limit, stretch(s.protection.window, s.safety_margin)),
          reports(s.reports.limit, stretch(s.reports.window, s.safety_margin)) {}
    asio::any_io_executor executor;
    const clock_source& clock;
    pacing_settings settings;
    rate_window protection;
    rate_window reports;
};

namespace {
asio::awaitable<std::optional<duration>> acquire_slot(std::shared_ptr<pacer::impl> self, pace_class cls) {
    if (!self->settings.enabled || cls == pace_class::none) co_return std::nullopt;
    rate_window& w = cls == pace_class::protection ? self->protection : self->reports;
    const time_point slot = w.reserve(self->clock.now());
    bool reached = false;
    try {
        reached = co_await wait_on_clock(self->executor, self->clock, slot, self->settings.poll_interval,
                                         self->settings.max_wait);
    } catch (...) {
        // Cancelled while waiting (the engine's attempt timeout cancels the step): nobody will
        // send in this slot, so it goes back; kept, it would push every later caller back.
        w.release(slot);
        throw;
    }
    if (reached) co_return std::nullopt;
    w.release(slot);
    const duration remaining = slot - self->clock.now();
    co_return std::max(remaining, duration(milliseconds(1)));
}
}  // namespace

pacer::pacer(asio::any_io_executor executor, const clock_source& clock, pacing_settings settings)
    : impl_(std::make_shared<impl>(std::move(executor), clock, settings)) {}

pacer::~pacer() = default;

asio::awaitable<std::optional<duration>> pacer::acquire(pace_class cls) { return acquire_slot(impl_, cls); }

const pacing_settings& pacer::settings() const { return impl_->settings; }

}  // namespace containd::graph
