#include "core/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <mutex>

namespace containd {
namespace {

std::mutex log_mutex;
std::optional<std::string> log_file;
std::string log_level = "info";

// "%*": the message as JSON members. An object produced by log_event contributes its members;
// any other text becomes "msg" (escaped by nlohmann, so no raw CR/LF reaches the line).
class json_payload final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
        const std::string text = format_log_payload(std::string_view(msg.payload.data(), msg.payload.size()));
        dest.append(text.data(), text.data() + text.size());
    }
    std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<json_payload>(); }
};

void install() {
    std::shared_ptr<spdlog::sinks::sink> sink;
    if (log_file)
        sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(*log_file);
    else
        sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    formatter->add_flag<json_payload>('*').set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l"%*})");
    sink->set_formatter(std::move(formatter));
    auto logger = std::make_shared<spdlog::logger>("containd", sink);
    logger->set_level(spdlog::level::from_str(log_level));
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
}

}  // namespace

// Built with append() rather than `"," + a + ":" + b`: GCC 12 at -O3 reports a false
// -Werror=restrict (PR 105329) on operator+(const char*, std::string&&), which broke the
// Release build.
std::string format_log_payload(std::string_view message) {
    constexpr auto replace = nlohmann::json::error_handler_t::replace;
    std::string out;
    if (message.size() >= 2 && message.front() == '{' && message.back() == '}') {
        auto parsed = nlohmann::json::parse(message, nullptr, false);
        if (parsed.is_object()) {
            for (const auto& [key, value] : parsed.items()) {
                out.push_back(',');
                out.append(nlohmann::json(key).dump());
                out.push_back(':');
                out.append(value.dump(-1, ' ', false, replace));
            }
            return out;
        }
    }
    out.append(",\"msg\":");
    out.append(nlohmann::json(std::string(message)).dump(-1, ' ', false, replace));
    return out;
}

void setup_logging(const std::optional<std::string>& file, std::string_view level) {
    std::lock_guard lock(log_mutex);
    log_file = file;
    log_level = std::string(level);
    install();
}

void reopen_logs() {
    std::lock_guard lock(log_mutex);
    if (log_file) install();
}

void log_event(spdlog::level::level_enum level, std::string_view event, const nlohmann::json& fields) {
    nlohmann::json line = {{"event", event}};
    if (fields.is_object()) line.update(fields);
    spdlog::log(level, "{}", line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace containd
