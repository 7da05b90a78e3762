// The D-Bus API wired to iscsi-targetd: the one call daemon/main.cpp makes.
//
//   auto bus = iscsi::dbus::start_service(daemon, settings);
//
// Returns null (after a warning in the log) when there is no system bus or
// the name cannot be taken; the daemon then serves without D-Bus. Keep the
// returned object alive while the daemon runs.
#pragma once

#include <memory>

namespace iscsi::net {
class Daemon;
}

namespace iscsi::dbus {

class DaemonService;

struct DaemonServiceDeleter {
    void operator()(DaemonService* service) const;
};
using DaemonServicePtr = std::unique_ptr<DaemonService, DaemonServiceDeleter>;

// The daemon's D-Bus settings (its command line).
struct ServiceSettings {
    // Property reads, GetManagedObjects, ListSessions and introspection for
    // every uid; off: only root or holders of org.iscsictl.target1.manage.
    bool allow_unprivileged_reads = false;
};

DaemonServicePtr start_service(net::Daemon& daemon, const ServiceSettings& settings = {});

}  // namespace iscsi::dbus
