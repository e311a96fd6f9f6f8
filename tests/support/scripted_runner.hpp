#pragma once
// Scripted step runners for engine tests: every step kind runs a test-supplied function, which
// sees the attempt and decides the outcome. Records each invocation.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "core/time.hpp"
#include "engine/runner.hpp"

namespace containd::testing {

struct invocation {
    std::string incident_id;
    int seq;
    incident::step_kind kind;
    std::string target;
    int attempt;
    time_point at;  // the injected clock's time when it started
};

// What a scripted step does on one attempt.
struct script_result {
    engine::step_outcome outcome = engine::step_outcome::success();
    duration real_delay{};  // wait this long in real time first (hang: a long delay)
};

using script = std::function<script_result(const engine::step_context&)>;

// The default behaviour of a healthy tenant: every step succeeds; resolve reports directory
// facts from `admins`; the block step records the containment time; checks say "contained".
inline script healthy_tenant(std::vector<std::string> admins = {}) {
    return [admins](const engine::step_context& ctx) {
        using incident::step_kind;
        script_result r;
        switch (ctx.step.kind) {
        case step_kind::resolve_account: {
            nlohmann::json roles = nlohmann::json::array();
            for (const auto& a : admins)
                if (a == ctx.step.target) roles.push_back("Exchange Administrator");
            r.outcome.result = {{"object_id", "oid-" + ctx.step.target}, {"admin_roles", roles}};
            break;
        }
        case step_kind::enable_emergency_policy:
            ctx.db.set_contained_at(ctx.incident.id, ctx.clock.now());
            r.outcome.result = {{"state", "enabled"}};
            break;
        case step_kind::verify_signins:
            r.outcome.result = {{"verdict", "contained"}, {"diagnosis", nlohmann::json::array()}};
            break;
        default: break;
        }
        return r;
    };
}

// A healthy tenant except that every attempt `fails` picks fails with HTTP `status` (and a
// Retry-After when given); `fails` may count attempts to fail only the first ones.
inline script failing_where(std::function<bool(const engine::step_context&)> fails, int status, std::string message,
                            std::optional<std::string> retry_after = std::nullopt) {
    return [=, base = healthy_tenant()](const engine::step_context& ctx) {
        if (!fails(ctx)) return base(ctx);
        script_result r;
        r.outcome = engine::step_outcome::failed(status, message, retry_after);
        return r;
    };
}

class scripted_runner final : public engine::step_runner {
public:
    scripted_runner(std::shared_ptr<std::vector<invocation>> log, std::shared_ptr<script> behaviour,
                    std::size_t group_size = 1, std::shared_ptr<std::vector<std::size_t>> groups = nullptr)
            : log_(std::move(log)),
              behaviour_(std::move(behaviour)),
              group_size_(group_size),
              groups_(std::move(groups)) {}

    std::size_t group_size() const override { return group_size_; }

    boost::asio::awaitable<std::vector<engine::step_outcome>> run_group(
        std::vector<const engine::step_context*> steps) override {
        if (groups_) groups_->push_back(steps.size());
        return engine::step_runner::run_group(std::move(steps));
    }

    boost::asio::awaitable<engine::step_outcome> run(const engine::step_context& ctx) override {
        log_->push_back({ctx.incident.id, ctx.step.seq, ctx.step.kind, ctx.step.target, ctx.attempt, ctx.clock.now()});
        script_result r = (*behaviour_)(ctx);
        if (r.real_delay > duration::zero()) {
            boost::asio::steady_timer t(co_await boost::asio::this_coro::executor);
            t.expires_after(std::chrono::duration_cast<boost::asio::steady_timer::duration>(r.real_delay));
            auto [ec] = co_await t.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
            if (ec) co_return engine::step_outcome::failed(0, "cancelled");
        }
        co_return r.outcome;
    }

private:
    std::shared_ptr<std::vector<invocation>> log_;
    std::shared_ptr<script> behaviour_;
    std::size_t group_size_;
    std::shared_ptr<std::vector<std::size_t>> groups_;
};

// One scripted runner for every step kind, sharing a log and a (replaceable) behaviour.
struct scripted_runners {
    std::shared_ptr<std::vector<invocation>> log = std::make_shared<std::vector<invocation>>();
    std::shared_ptr<script> behaviour = std::make_shared<script>(healthy_tenant());
    // Kinds run in groups of 20, like the real runners' $batch; the size of each group run.
    std::vector<incident::step_kind> grouped;
    std::shared_ptr<std::vector<std::size_t>> groups = std::make_shared<std::vector<std::size_t>>();

    engine::runner_table table() const {
        engine::runner_table t;
        auto runner = std::make_shared<scripted_runner>(log, behaviour);
        auto in_groups = std::make_shared<scripted_runner>(log, behaviour, 20, groups);
        for (int k = 0; k <= static_cast<int>(incident::step_kind::confirm_block); ++k) {
            const auto kind = static_cast<incident::step_kind>(k);
            t[kind] = std::find(grouped.begin(), grouped.end(), kind) == grouped.end() ? runner : in_groups;
        }
        return t;
    }
};

}  // namespace containd::testing
