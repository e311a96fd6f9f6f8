#pragma once
// Server-sent events: the wire form of one audit event, and the hub that wakes every open stream
// of an incident when the engine (or the API) committed a change to it. The streams themselves
// are coroutines in server.cpp; the hub only holds pointers to their wake-up hooks, and each
// stream removes itself before its frame goes away. The network thread's alone, except size()
// (the metrics gauge, read on the work thread).

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <string>

#include "store/store.hpp"

namespace containd::api::detail {

inline constexpr std::chrono::seconds sse_heartbeat{15};

// "id: <event id>\nevent: <kind>\ndata: <event_view JSON on one line>\n\n"; for a viewer the
// event without its data (report::viewer_event_view).
std::string format_sse_event(const store::event_record& e, bool viewer = false);

struct stream_subscriber {
    std::string incident_id;
    bool dirty = false;          // a change arrived while the stream was not waiting
    std::function<void()> wake;  // cancels the stream's wait
};

class stream_hub {
public:
    void add(stream_subscriber* s) {
        subscribers_.emplace(s->incident_id, s);
        size_ = subscribers_.size();
    }
    void remove(stream_subscriber* s);
    void notify(const std::string& incident_id);
    // Ends every stream (server stop): closing() turns true and everyone is woken.
    void close_all();
    bool closing() const { return closing_; }
    std::size_t size() const { return size_; }

private:
    std::multimap<std::string, stream_subscriber*> subscribers_;
    bool closing_ = false;
    std::atomic<std::size_t> size_{0};
};

}  // namespace containd::api::detail
