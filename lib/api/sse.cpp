#include "api/sse.hpp"

#include <vector>

#include "report/report.hpp"

namespace containd::api::detail {

std::string format_sse_event(const store::event_record& e, bool viewer) {
    // dump() without indentation is one line: JSON strings escape CR and LF, so the data line
    // cannot be split or forge another field. The kind is ours ([a-z_]), but stay defensive.
    std::string kind;
    for (char c : e.kind)
        if (c != '\n' && c != '\r') kind += c;
    std::string out = "id: " + std::to_string(e.id) + "\nevent: " + kind + "\ndata: ";
    const auto view = viewer ? report::viewer_event_view(report::event_view(e)) : report::event_view(e);
    out += view.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out += "\n\n";
    return out;
}

void stream_hub::remove(stream_subscriber* s) {
    auto [first, last] = subscribers_.equal_range(s->incident_id);
    for (auto it = first; it != last; ++it) {
        if (it->second == s) {
            subscribers_.erase(it);
            size_ = subscribers_.size();
            return;
        }
    }
}

void stream_hub::notify(const std::string& incident_id) {
    // Copy first: a wake-up never runs the stream inline (it cancels a timer), but stay safe.
    std::vector<stream_subscriber*> targets;
    auto [first, last] = subscribers_.equal_range(incident_id);
    for (auto it = first; it != last; ++it) targets.push_back(it->second);
    for (auto* s : targets) {
        s->dirty = true;
        if (s->wake) s->wake();
    }
}

void stream_hub::close_all() {
    closing_ = true;
    std::vector<stream_subscriber*> targets;
    for (auto& [id, s] : subscribers_) targets.push_back(s);
    for (auto* s : targets) {
        s->dirty = true;
        if (s->wake) s->wake();
    }
}

}  // namespace containd::api::detail
