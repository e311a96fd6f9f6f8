#include "graph/pacer.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace containd::graph {
namespace {
namespace asio = boost::asio;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

duration stretch(duration d, double margin) { return d + std::chrono::duration_cast<duration>(d * margin); }
}  // namespace

rate_window::rate_window(std::size_t limit, duration window) : limit_(limit), window_(window) {
    if (limit == 0) throw std::invalid_argument("rate_window: limit must be positive");
}

rate_window::ticket rate_window::join() {
    queue_.push_back(next_ticket_);
    return next_ticket_++;
}

bool rate_window::try_send(ticket t, time_point now) {
    if (queue_.empty() || queue_.front() != t) return false;
    // Responses at or before now - window no longer hold a place at or after now.
    while (!finished_.empty() && finished_.front() <= now - window_) finished_.pop_front();
    if (in_flight_ + finished_.size() >= limit_) return false;
    queue_.pop_front();
    ++in_flight_;
    return true;
}

void rate_window::leave(ticket t) {
    const auto it = std::find(queue_.begin(), queue_.end(), t);
    if (it != queue_.end()) queue_.erase(it);
}

void rate_window::finished(time_point now) {
    if (in_flight_ > 0) --in_flight_;
    // Sorted even if the wall clock stepped back between two responses.
    finished_.insert(std::upper_bound(finished_.begin(), finished_.end(), now), now);
}

std::optional<time_point> rate_window::next_free(time_point now) const {
    const auto live = std::find_if(finished_.begin(), finished_.end(), [&](time_point f) { return f > now - window_; });
    const auto recent = static_cast<std::size_t>(finished_.end() - live);
    const std::size_t held = in_flight_ + recent;
    if (held < limit_) return now;
    // held - limit + 1 places must free; only finished sends free on their own.
    const std::size_t must_free = held - limit_ + 1;
    if (recent < must_free) return std::nullopt;
    return *(live + static_cast<std::ptrdiff_t>(must_free - 1)) + window_;
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
        if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none)
            co_return false;
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

pacer::permit::permit(std::shared_ptr<impl> owner, rate_window* window) : owner_(std::move(owner)), window_(window) {}

pacer::permit::permit(permit&& other) noexcept
        : owner_(std::move(other.owner_)), window_(std::exchange(other.window_, nullptr)) {}

pacer::permit& pacer::permit::operator=(permit&& other) noexcept {
    if (this != &other) {
        finish();
        owner_ = std::move(other.owner_);
        window_ = std::exchange(other.window_, nullptr);
    }
    return *this;
}

pacer::permit::~permit() { finish(); }

void pacer::permit::finish() {
    if (window_) window_->finished(owner_->clock.now());
    window_ = nullptr;
    owner_.reset();
}

namespace {
// Leaves the queue unless the place was granted, however the wait ends (a cancelled coroutine
// included): a ticket left behind would hold every later caller back for good.
struct queued {
    rate_window& window;
    rate_window::ticket ticket;
    bool granted = false;
    ~queued() {
        if (!granted) window.leave(ticket);
    }
};

asio::awaitable<pacer::outcome> acquire_place(std::shared_ptr<pacer::impl> self, pace_class cls) {
    if (!self->settings.enabled || cls == pace_class::none) co_return pacer::outcome{};
    rate_window& w = cls == pace_class::protection ? self->protection : self->reports;
    queued q{w, w.join()};
    asio::steady_timer timer(self->executor);
    const auto real_deadline = std::chrono::steady_clock::now() + self->settings.max_wait;
    for (;;) {
        const time_point now = self->clock.now();
        if (w.try_send(q.ticket, now)) {
            q.granted = true;
            co_return pacer::outcome{std::nullopt, pacer::permit(self, &w)};
        }
        const auto free_at = w.next_free(now);
        const auto real_now = std::chrono::steady_clock::now();
        if (real_now >= real_deadline) {
            // Every place held by a send in flight: about one window once they are in.
            const rate& r = cls == pace_class::protection ? self->settings.protection : self->settings.reports;
            const duration remaining = free_at ? *free_at - now : r.window;
            co_return pacer::outcome{std::max(remaining, duration(milliseconds(1))), {}};
        }
        // Sleep until the next place frees (exact for a real clock), but re-check at least every
        // poll: a manual clock moves when a test says so, and a send in flight may finish.
        std::chrono::steady_clock::duration step = self->settings.poll_interval;
        if (free_at && *free_at > now) step = std::min<std::chrono::steady_clock::duration>(step, *free_at - now);
        step = std::min<std::chrono::steady_clock::duration>(step, real_deadline - real_now);
        timer.expires_after(step);
        co_await timer.async_wait(use_nothrow);
        if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none)
            co_return pacer::outcome{duration(milliseconds(1)), {}};
    }
}
}  // namespace

pacer::pacer(asio::any_io_executor executor, const clock_source& clock, pacing_settings settings)
        : impl_(std::make_shared<impl>(std::move(executor), clock, settings)) {}

pacer::~pacer() = default;

asio::awaitable<pacer::outcome> pacer::acquire(pace_class cls) { return acquire_place(impl_, cls); }

const pacing_settings& pacer::settings() const { return impl_->settings; }

}  // namespace containd::graph
