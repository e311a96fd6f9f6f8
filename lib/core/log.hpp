#pragma once
// Structured logs: one JSON object per line (spdlog underneath), to stderr or a file.
//
//   log_event(spdlog::level::info, "step_succeeded", {{"incident", id}, {"step", 3}});
//   -> {"time":"2026-03-12T09:00:00.123Z","level":"info","event":"step_succeeded","incident":"…","step":3}
//
// Plain spdlog calls still work: their text becomes a JSON-escaped "msg" field, so CR/LF and
// control characters in user input can never forge a line. Secrets cannot be logged because
// containd::secret cannot be formatted at all.

#include <optional>
#include <string>
#include <string_view>

#include <spdlog/common.h>
#include <nlohmann/json.hpp>

namespace containd {

// Installs the JSON-lines default logger. file: append to it; nullopt: stderr.
void setup_logging(const std::optional<std::string>& file, std::string_view level);
// Reopens the log file (SIGHUP after rotation). No-op for stderr.
void reopen_logs();

void log_event(spdlog::level::level_enum level, std::string_view event, const nlohmann::json& fields = {});

// The formatted JSON line for a message, as the sink writes it (exposed for tests).
std::string format_log_payload(std::string_view message);

}  // namespace containd
