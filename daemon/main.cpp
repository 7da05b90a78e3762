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
#include "config/json.h"
#include "control/control_plane.h"
#include "dbus/bus_service.h"
#endif

namespace {

#ifdef ISCSI_WITH_DBUS
// The control plane stores the configuration through the daemon's own JSON
// encoding and loader, so what D-Bus saves is exactly what the daemon reads.
iscsi::control::ConfigCodec daemon_codec() {
    iscsi::control::ConfigCodec codec;
    codec.encode_config = [](const iscsi::config::Config& c) { return iscsi::config::to_json(c).dump(2) + "\n"; };
    codec.encode_secrets = [](const iscsi::config::Secrets& s) { return iscsi::config::to_json(s).dump(2) + "\n"; };
    codec.load = [](const std::string& config_path, const std::string& secrets_path)
        -> tl::expected<iscsi::control::StoredConfiguration, std::string> {
        auto loaded = iscsi::config::load({config_path, secrets_path}, /*missing_config_is_empty=*/true);
        if (!loaded) return tl::unexpected(loaded.error().to_string());
        return iscsi::control::StoredConfiguration{std::move(loaded->config), std::move(loaded->secrets)};
    };
    return codec;
}
#endif

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"iscsi-targetd: iSCSI target login daemon (the kernel module iscsi_handoff runs the data path)"};
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
    iscsi::net::Daemon& d = **daemon;
    iscsi::control::FileConfigStore store(options.files.config_path, options.files.secrets_path, daemon_codec());
    iscsi::control::DataPathSessionSource sessions(&d.data_path());
    iscsi::control::ControlPlane control({d.config(), d.secrets()}, store, &d.data_path(), sessions);
    // Changes made over D-Bus are validated, applied to the kernel and saved
    // by the control plane; the login policy and the portals follow them.
    control.on_change([&d](const iscsi::config::Config& config, const iscsi::config::Secrets& secrets) {
        d.adopt_configuration(config, secrets);
    });
    // BusService::start logs a warning and returns null when there is no
    // system bus (e.g. in a minimal guest): the daemon serves anyway.
    auto bus = iscsi::dbus::BusService::start(d.event(), control);
    if (bus) {
        iscsi::dbus::BusService* service = bus.get();
        d.set_sessions_observer([service] { service->sessions_changed(); });
        d.set_reload_handler([&control]() -> tl::expected<void, std::string> {
            auto reloaded = control.reload();
            if (!reloaded) return tl::unexpected(reloaded.error().message);
            return {};
        });
    } else {
        iscsi::log::warning("running without D-Bus: manage the target with the configuration file and SIGHUP");
    }
    int status = d.run();
    // The service refers to the daemon's objects: it goes first.
    d.set_sessions_observer(nullptr);
    bus.reset();
    return status;
#else
    iscsi::log::warning("built without the D-Bus service: manage the target with the configuration file and SIGHUP");
#endif
    return (*daemon)->run();
}
