#include "incident/status.hpp"

#include <array>
#include <cstddef>

namespace containd::incident {
namespace {

constexpr std::array incident_status_names = {"running",   "waiting_approval", "verifying",
                                              "contained", "needs_attention",  "cancelled"};
constexpr std::array step_status_names = {"pending", "running", "succeeded", "failed", "skipped", "waiting_approval"};

template <typename Enum, std::size_t N>
std::optional<Enum> lookup(const std::array<const char*, N>& names, std::string_view s) {
    for (std::size_t i = 0; i < N; ++i)
        if (s == names[i]) return static_cast<Enum>(i);
    return std::nullopt;
}

}  // namespace

std::string_view to_string(incident_status s) { return incident_status_names[static_cast<std::size_t>(s)]; }
std::string_view to_string(step_status s) { return step_status_names[static_cast<std::size_t>(s)]; }
std::optional<incident_status> incident_status_from_string(std::string_view s) {
    return lookup<incident_status>(incident_status_names, s);
}
std::optional<step_status> step_status_from_string(std::string_view s) {
    return lookup<step_status>(step_status_names, s);
}
bool is_final(incident_status s) { return s == incident_status::contained || s == incident_status::cancelled; }

}  // namespace containd::incident
