// The D-Bus service org.iscsictl.target1: the one entry point the daemon calls.
//
//   auto bus = iscsi::dbus::BusService::start(event, control, options);
//
// start() returns null (after logging a warning) when no system bus can be
// opened or the name cannot be taken: the daemon then runs without D-Bus, as
// it must in a minimal guest. The service lives as long as the returned
// object; it is attached to the daemon's sd-event loop.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "control/control_plane.h"
#include "dbus/authorization.h"
#include "dbus/object_paths.h"
#include "dbus/sd_bus_ptr.h"

namespace iscsi::dbus {

struct BusOptions {
    AuthorizationPolicy authorization;
    std::string version = "0.1.0";  // the Manager's Version property
    // Where warnings go (priority as syslog(3)); default: stderr with an
    // sd-daemon(3) priority prefix, which journald understands.
    std::function<void(int priority, const std::string& message)> log;
};

class BusService {
public:
    static std::unique_ptr<BusService> start(sd_event* event, control::ControlPlane& control, BusOptions options = {});
    ~BusService();
    BusService(const BusService&) = delete;
    BusService& operator=(const BusService&) = delete;

    // The daemon calls this when sessions or connections came or went (after
    // a hand-off, on a data-path event): the service emits InterfacesAdded,
    // InterfacesRemoved and PropertiesChanged for what differs.
    void sessions_changed();

    // --- used by the interface implementations (vtables) ---
    control::ControlPlane& control() { return control_; }
    const BusOptions& options() const { return options_; }
    const Authorizer& authorizer() const { return authorizer_; }
    sd_bus* bus() { return bus_.get(); }
    // Live sessions, listed from the kernel at most once per refresh interval
    // so that GetAll and GetManagedObjects do not dump the kernel per property.
    const std::vector<kmod::KernelSession>& sessions();
    const kmod::KernelSession* find_session(const ObjectId& id);
    // Whether an object exists now.
    bool exists(const ObjectId& id);
    // Every object path with its interface.
    std::map<std::string, ObjectId> all_objects();
    // After a change to the configuration: signals for what came, went or changed.
    void configuration_changed();

private:
    BusService(control::ControlPlane& control, BusOptions options);
    int attach(sd_event* event);
    void emit_differences(std::map<std::string, std::string> now);
    void warn(const std::string& text) const;
    std::string fingerprint(const ObjectId& id);

    control::ControlPlane& control_;
    BusOptions options_;
    Authorizer authorizer_;
    BusPtr bus_;
    std::vector<SlotPtr> slots_;
    std::vector<kmod::KernelSession> sessions_cache_;
    std::chrono::steady_clock::time_point sessions_fetched_{};
    bool sessions_valid_ = false;
    // path -> fingerprint of its properties, as last announced.
    std::map<std::string, std::string> announced_;
    // The Manager's changing properties (data path, discovery CHAP users).
    std::string manager_fingerprint_;
    std::string manager_fingerprint() const;
};

// The vtables, one per interface (manager_interface.cpp, config_interfaces.cpp,
// session_interfaces.cpp).
const sd_bus_vtable* manager_vtable();
const sd_bus_vtable* target_vtable();
const sd_bus_vtable* portal_group_vtable();
const sd_bus_vtable* portal_vtable();
const sd_bus_vtable* lun_vtable();
const sd_bus_vtable* backstore_vtable();
const sd_bus_vtable* acl_vtable();
const sd_bus_vtable* session_vtable();
const sd_bus_vtable* connection_vtable();

// Appends one session (a{sv}, every field, connections included) for ListSessions.
int append_session_dict(sd_bus_message* reply, const kmod::KernelSession& session);

}  // namespace iscsi::dbus
