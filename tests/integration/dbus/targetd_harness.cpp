// A process that serves the D-Bus API exactly as iscsi-targetd does (same
// control plane, same BusService), without portals or a kernel data path:
// the host integration tests drive it when build/bin/iscsi-targetd is not
// built. It prints "ready" once it owns its bus name.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include <systemd/sd-event.h>

#include "control/control_plane.h"
#include "dbus/bus_service.h"
#include "harness_codec.h"
#include "test_session_source.h"

int main(int argc, char** argv) {
    std::string config_path, secrets_path;
    bool unprivileged_reads = false;
    std::string test_sessions_target;
    int test_sessions = 0;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--config" && i + 1 < argc) config_path = argv[++i];
        else if (arg == "--secrets" && i + 1 < argc) secrets_path = argv[++i];
        else if (arg == "--allow-unprivileged-reads") unprivileged_reads = true;
        // --test-sessions TARGET COUNT: a test double of the kernel's session
        // list, so that Session and Connection objects can be tested on a host.
        else if (arg == "--test-sessions" && i + 2 < argc) {
            test_sessions_target = argv[++i];
            test_sessions = std::stoi(argv[++i]);
        }
        // Accepted for the same command line as iscsi-targetd.
        else if (arg == "--foreground") continue;
        else if ((arg == "--state-dir" || arg == "--log-level") && i + 1 < argc) ++i;
        else {
            std::fprintf(stderr, "usage: %s --config PATH --secrets PATH [--allow-unprivileged-reads]\n", argv[0]);
            return 2;
        }
    }
    if (config_path.empty() || secrets_path.empty()) {
        std::fprintf(stderr, "%s: --config and --secrets are required\n", argv[0]);
        return 2;
    }
    iscsi::control::FileConfigStore store(config_path, secrets_path, iscsi::testing::harness_codec());
    auto loaded = store.load();
    if (!loaded) {
        std::fprintf(stderr, "cannot load the configuration: %s\n", loaded.error().message.c_str());
        return 1;
    }
    iscsi::control::DataPathSessionSource no_sessions(nullptr);
    iscsi::testing::TestSessionSource test_sessions_source(test_sessions_target, 1, test_sessions);
    iscsi::control::SessionSource& sessions =
        test_sessions > 0 ? static_cast<iscsi::control::SessionSource&>(test_sessions_source) : no_sessions;
    iscsi::control::StandaloneBackend backend(std::move(*loaded), store, nullptr);
    iscsi::control::ControlPlane control(backend, sessions);

    sd_event* event = nullptr;
    if (sd_event_default(&event) < 0) return 1;
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, nullptr);
    sd_event_add_signal(event, nullptr, SIGTERM, nullptr, nullptr);
    sd_event_add_signal(event, nullptr, SIGINT, nullptr, nullptr);

    iscsi::dbus::BusOptions options;
    options.authorization.allow_unprivileged_reads = unprivileged_reads;
    auto service = iscsi::dbus::BusService::start(event, control, options);
    if (!service) return 1;
    std::printf("ready\n");
    std::fflush(stdout);
    int r = sd_event_loop(event);
    service.reset();
    sd_event_unref(event);
    return r < 0 ? 1 : 0;
}
