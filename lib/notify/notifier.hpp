#pragma once
// The notifier: turns committed events into engine log lines and webhook deliveries, and sends
// those (signed) until each subscriber has taken them.
//
// - The pump reads the events table after its durable cursor (the store's event appends are
//   the engine's record of every step start, end, failure and retry and of every status change,
//   so the engine itself needs no hook): each event becomes one JSON log line (incident_id, step,
//   step_kind, tenant), and the notifications it causes are queued in the outbox for every
//   subscriber whose filters match, in the transaction that moves the cursor.
// - Deliveries: per subscriber one at a time, oldest first; 2xx delivers, 408/429/5xx and
//   transport errors are retried with doubling backoff until give_up_after, any other status
//   fails the delivery at once. A restart resumes whatever is pending (at least once; the
//   X-Containd-Delivery header lets a receiver drop a repeat).
// - Tenant health (tenant_checked) is recorded; a change queues a tenant_health notification.
//
// Threading: construct, call and run on the store's executor (one thread).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "store/store.hpp"

namespace containd::notify {

class notifier {
public:
    // Reads every subscriber's secret_file and url_file now: throws std::runtime_error naming the
    // file (never its content) when one cannot be read, or a CA file cannot be used.
    notifier(boost::asio::any_io_executor executor, store::store& db, const clock_source& clock,
             config::notify_settings settings);
    ~notifier();
    notifier(const notifier&) = delete;
    notifier& operator=(const notifier&) = delete;

    // Runs the pump and the deliveries every poll_interval until stop().
    void start();
    void stop();

    // One pass of the pump (the loop calls it; tests call it directly). Returns events read.
    std::size_t pump();
    // One pass of deliveries: every due delivery of every subscriber, each sent once.
    boost::asio::awaitable<std::size_t> deliver_due();
    // A tenant's preflight result; queues a tenant_health notification when the state changed.
    void tenant_checked(const std::string& tenant, bool healthy, const std::vector<std::string>& gaps);

    // Prometheus text: deliveries by subscriber and state, attempts by outcome.
    std::string metrics();

    struct impl;

private:
    std::shared_ptr<impl> impl_;
};

}  // namespace containd::notify
