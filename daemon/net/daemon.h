// iscsi-targetd as an object: the event loop, the configuration, the
// session registry, the login policy, the portals and the data path.
//
// This is the API the D-Bus service builds on:
//   config() / secrets()       the configuration in force (read-only)
//   replace_configuration()    validate, apply (data path, portals, policy)
//                              and optionally save atomically; on failure
//                              nothing changes
//   reload()                   re-read the files (SIGHUP does the same)
//   registry()                 sessions and connections: snapshots, terminate
//   data_path()                may be unavailable (available() == false)
//   event()                    the sd-event loop to attach sd-bus to
// Everything runs on the one event loop thread.
#pragma once

#include <systemd/sd-event.h>

#include <functional>
#include <memory>
#include <string>

#include <tl/expected.hpp>

#include "config/store.h"
#include "data_path.h"
#include "net/server.h"
#include "policy/config_policy.h"
#include "sessions/registry.h"

namespace iscsi::net {

struct DaemonOptions {
    config::Files files;
    std::string state_dir = "/var/lib/iscsi-target";
};

using DataPathFactory = std::function<std::unique_ptr<kmod::DataPath>(sd_event*)>;

class Daemon {
public:
    // Loads and validates the configuration; the error is one line naming
    // the file, the JSON path and the problem.
    static tl::expected<std::unique_ptr<Daemon>, std::string> create(const DaemonOptions& options,
                                                                     const DataPathFactory& data_path_factory);
    ~Daemon();

    // Opens the portals, tells systemd READY=1 and runs until SIGTERM/SIGINT.
    // Returns the exit status.
    int run();
    void request_stop();

    // SIGHUP: re-reads the files, or runs the reload handler when one is set
    // (the D-Bus control plane, which owns the stored configuration then).
    tl::expected<void, std::string> reload();
    void set_reload_handler(std::function<tl::expected<void, std::string>()> handler) {
        reload_handler_ = std::move(handler);
    }
    tl::expected<void, std::string> replace_configuration(config::Config config, config::Secrets secrets, bool save);
    // Takes a configuration that is already validated, stored and applied to
    // the kernel by someone else (the control plane): only the login policy
    // and the portals follow it.
    void adopt_configuration(config::Config config, config::Secrets secrets);

    const config::Config& config() const { return loaded_.config; }
    const config::Secrets& secrets() const { return loaded_.secrets; }
    const DaemonOptions& options() const { return options_; }
    sessions::Registry& registry() { return registry_; }
    kmod::DataPath& data_path() { return *data_path_; }
    sd_event* event() { return event_; }
    Server& server() { return *server_; }

    // Called after a configuration change took effect (for D-Bus signals).
    void set_configuration_observer(std::function<void()> observer) { configuration_observer_ = std::move(observer); }
    // Called after sessions or connections came or went in the registry.
    void set_sessions_observer(std::function<void()> observer) { sessions_observer_ = std::move(observer); }

private:
    Daemon() = default;
    tl::expected<void, std::string> apply(config::Config config, config::Secrets secrets, bool to_kernel);
    void on_data_path_event(const kmod::DataPathEvent& event);
    void reconcile_with_kernel();
    void notify_status();
    static int on_signal(sd_event_source* source, const struct signalfd_siginfo* info, void* userdata);

    DaemonOptions options_;
    config::Loaded loaded_;
    sd_event* event_ = nullptr;
    std::unique_ptr<kmod::DataPath> data_path_;
    sessions::Registry registry_;
    std::unique_ptr<policy::ConfigPolicy> policy_;
    std::unique_ptr<Server> server_;
    std::function<void()> configuration_observer_;
    std::function<void()> sessions_observer_;
    std::function<tl::expected<void, std::string>()> reload_handler_;
    int exit_status_ = 0;
};

}  // namespace iscsi::net
