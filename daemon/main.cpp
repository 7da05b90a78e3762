// iscsi-targetd: the iSCSI login daemon.
//
// Runs in the foreground as systemd expects of a Type=notify service (no
// fork); --foreground only sends the log to stderr instead of the journal.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include <CLI/CLI.hpp>

#include "kernel_data_path.h"
#include "log/log.h"
#include "net/daemon.h"

#ifdef ISCSI_WITH_DBUS
#include "dbus/service.h"
#endif

int main(int argc, char** argv) {
    CLI::App app{"iscsi-targetd: iSCSI target login daemon (the kernel module iscsi_handoff runs the data path)"};
    app.set_version_flag("--version", "iscsi-targetd " ISCSI_TARGET_VERSION);
    iscsi::net::DaemonOptions options;
    std::string level_text = "info";
    bool foreground = false;
    app.add_option("--config", options.files.config_path, "configuration file (JSON, see iscsi-target.json(5))")
        ->capture_default_str();
    app.add_option("--secrets", options.files.secrets_path, "CHAP secrets file (JSON, mode 0600)")
        ->capture_default_str();
    app.add_option("--state-dir", options.state_dir, "directory for runtime state")->capture_default_str();
    app.add_option("--log-level", level_text, "error, warning, notice, info or debug")
        ->capture_default_str()
        ->check(CLI::IsMember({"error", "warning", "notice", "info", "debug"}));
    app.add_flag("--foreground", foreground, "log to stderr instead of the journal");
    bool unprivileged_reads = false;
    app.add_flag("--allow-unprivileged-reads", unprivileged_reads,
                 "let every user read non-secret state over D-Bus (changes still need root or polkit)");
    CLI11_PARSE(app, argc, argv);

    iscsi::log::init({*iscsi::log::parse_level(level_text), foreground});

    auto daemon = iscsi::net::Daemon::create(options, [](sd_event* event) {
        return iscsi::kmod::open_kernel_data_path(event);
    });
    if (!daemon) {
        // One line, naming the file, the JSON path and what is wrong.
        std::fprintf(stderr, "iscsi-targetd: %s\n", daemon.error().c_str());
        if (!foreground) iscsi::log::error(daemon.error());
        return 1;
    }
    if (::mkdir(options.state_dir.c_str(), 0755) != 0 && errno != EEXIST)
        iscsi::log::warning("cannot create state directory " + options.state_dir + ": " + std::strerror(errno));

#ifdef ISCSI_WITH_DBUS
    // Logs a warning and returns null when there is no system bus (e.g. in a
    // minimal guest): the daemon serves anyway, managed by file and SIGHUP.
    iscsi::dbus::ServiceSettings bus_settings;
    bus_settings.allow_unprivileged_reads = unprivileged_reads;
    auto bus = iscsi::dbus::start_service(**daemon, bus_settings);
#else
    iscsi::log::warning("built without the D-Bus service: manage the target with the configuration file and SIGHUP");
#endif
    return (*daemon)->run();
}
