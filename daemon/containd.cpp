// containd: the daemon. Thin main: arguments, configuration, logging, then daemon::run().
//
//   containd --config /etc/containd/containd.json
//   containd --config FILE --check-config     validate and exit (0 valid, 2 invalid)
//   containd --print-routes                   the API's routes, one "METHOD PATH ROLE" per line
//   containd --config FILE --check-tenant NAME   one tenant preflight as a table (0 ok, 3 a gap)
//
// Exit codes: 0 clean stop, 1 start-up failure (message on stderr), 2 bad arguments or config,
// 3 --check-tenant found a gap.
//
// Safe defaults whoever starts it (systemd or a shell): umask 077 first, so the database, its
// WAL and SHM, the log file and the vault key are 0600; a configuration writable by group or
// others, or a secret file or vault key readable by others, refuses the start (the message names
// the file). With systemd (Type=notify) it says READY=1 once it listens. SIGHUP reloads the API
// tokens from --config.

#include <cstdio>
#include <iostream>

#include <sys/stat.h>
#ifdef CONTAIND_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "api/server.hpp"
#include "app.hpp"
#include "config/config.hpp"
#include "core/log.hpp"

int main(int argc, char** argv) {
    ::umask(077);  // before any file is created; systemd's UMask=0077 says the same
    CLI::App cli{"containd: contains a compromised Microsoft 365 / Entra ID tenant, durably"};
    cli.set_version_flag("--version", "containd " CONTAIND_VERSION);
    std::string config_path;
    bool check_only = false;
    bool print_routes = false;
    cli.add_option("-c,--config", config_path, "JSON configuration file")->check(CLI::ExistingFile);
    cli.add_flag("--check-config", check_only, "validate the configuration and exit");
    cli.add_flag("--print-routes", print_routes, "print the REST API's routes and exit");
    std::string check_tenant;
    cli.add_option("--check-tenant", check_tenant,
                   "check one tenant's token and permissions, print a table, exit 0 (ok) or 3 (a gap)");
    CLI11_PARSE(cli, argc, argv);

    if (print_routes) {
        for (const auto& r : containd::api::route_table())
            std::cout << r.method << ' ' << r.path << ' ' << r.role << '\n';
        return 0;
    }
    if (config_path.empty()) {
        std::cerr << "containd: --config is required (see --help)\n";
        return 2;
    }
    auto loaded = containd::config::load_config_file(config_path);
    if (auto* errors = std::get_if<std::vector<containd::config::config_error>>(&loaded)) {
        std::cerr << "containd: " << config_path << " is not valid:\n" << containd::config::describe(*errors);
        return 2;
    }
    const auto& config = std::get<containd::config::daemon_config>(loaded);
    if (const auto unsafe = containd::config::unsafe_file_permissions(config, config_path); !unsafe.empty()) {
        std::cerr << "containd: refusing to start:\n";
        for (const auto& u : unsafe) std::cerr << "  " << u << '\n';
        return check_only ? 2 : 1;
    }
    if (check_only) {
        std::cout << config_path << ": valid\n";
        return 0;
    }

    if (!check_tenant.empty()) {
        try {
            containd::setup_logging(std::nullopt, "warn");
            return containd::daemon::check_tenant(config, check_tenant);
        } catch (const std::exception& e) {
            std::cerr << "containd: " << e.what() << '\n';
            return 1;
        }
    }

    try {
        containd::setup_logging(config.log.file, config.log.level);
        return containd::daemon::run(
            config,
            [](const containd::daemon::ready_info& ready) {
                nlohmann::json line = {{"listening", ready.api_url}, {"recovered", ready.recovered}};
                if (!ready.simulator_url.empty()) line["simulated_tenant"] = ready.simulator_url;
                std::cout << line.dump() << std::endl;  // one line scripts can wait for
#ifdef CONTAIND_HAVE_SYSTEMD
                // Type=notify: systemd counts the service as started only now (a no-op without
                // NOTIFY_SOCKET, i.e. when not started by systemd).
                sd_notifyf(0, "READY=1\nSTATUS=listening on %s, %zu incident(s) recovered", ready.api_url.c_str(),
                           ready.recovered);
#endif
            },
            config_path);
    } catch (const std::exception& e) {
        std::cerr << "containd: " << e.what() << '\n';
        return 1;
    }
}
