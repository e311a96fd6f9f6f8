#pragma once
// The lifecycle vocabulary of incidents and steps: what the scheduler decides, the store keeps and
// the API shows. Pure data (no I/O), so the scheduler and its tests need neither SQL nor sockets.

#include <optional>
#include <string_view>

namespace containd::incident {

enum class incident_status { running, waiting_approval, verifying, contained, needs_attention, cancelled };
enum class step_status { pending, running, succeeded, failed, skipped, waiting_approval };

std::string_view to_string(incident_status s);
std::string_view to_string(step_status s);
std::optional<incident_status> incident_status_from_string(std::string_view s);
std::optional<step_status> step_status_from_string(std::string_view s);
bool is_final(incident_status s);  // contained, cancelled (needs_attention can still be retried)

}  // namespace containd::incident
