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
#include <unordered_map>
#include <vector>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "control/control_plane.h"
#include "dbus/authorization.h"
#include "dbus/config_index.h"
#include "dbus/object_paths.h"
#include "dbus/sd_bus_ptr.h"

namespace iscsi::dbus {

struct BusOptions {
    AuthorizationPolicy authorization;
    std::string version = ISCSI_TARGET_VERSION;  // the Manager's Version property
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

    // Sessions or connections came or went, or changed state: the service
    // emits InterfacesAdded, InterfacesRemoved and PropertiesChanged for what
    // differs, now (after a method of the service ended a session).
    void sessions_changed();
    // The same for the daemon's observer (logins, hand-offs, kernel events):
    // property reads see the change at once, and the signals follow within
    // 100 ms (kSignalDelayUs in bus_service.cpp). A burst (a thousand
    // initiators reconnecting) then costs one comparison of every object, not
    // one per event.
    void sessions_changed_soon();

    // --- used by the interface implementations (vtables) ---
    control::ControlPlane& control() { return control_; }
    const BusOptions& options() const { return options_; }
    const Authorizer& authorizer() const { return authorizer_; }
    sd_bus* bus() { return bus_.get(); }
    // Live sessions, listed from the kernel at most once per refresh interval
    // so that GetAll and GetManagedObjects do not dump the kernel per property.
    const std::vector<kmod::KernelSession>& sessions();
    const kmod::KernelSession* find_session(const ObjectId& id);
    // Live sessions of a target (its Sessions property).
    uint32_t session_count(const std::string& target);
    // Configured objects by name (config_index.h).
    const config::Target* find_target(const std::string& name) { return index_.target(control_.config(), name); }
    const config::Backstore* find_backstore(const std::string& name) {
        return index_.backstore(control_.config(), name);
    }
    std::vector<std::pair<const config::Target*, const config::Lun*>> backstore_users(const std::string& name) {
        return index_.users_of(control_.config(), name);
    }
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
    // Every object's path with a summary of its properties that announce
    // changes, in one pass over the configuration and the sessions.
    std::map<std::string, std::string> fingerprints();
    std::string manager_fingerprint() const;
    static int on_signal_timer(sd_event_source* source, uint64_t usec, void* userdata);

    control::ControlPlane& control_;
    BusOptions options_;
    Authorizer authorizer_;
    BusPtr bus_;
    sd_event* event_ = nullptr;
    std::vector<SlotPtr> slots_;
    ConfigIndex index_;
    std::vector<kmod::KernelSession> sessions_cache_;
    // "target\ntpgt\ntsih" -> position in sessions_cache_; target -> count.
    std::unordered_map<std::string, size_t> session_positions_;
    std::unordered_map<std::string, uint32_t> session_counts_;
    std::chrono::steady_clock::time_point sessions_fetched_{};
    bool sessions_valid_ = false;
    EventSourcePtr signal_timer_;
    // path -> fingerprint of its properties, as last announced.
    std::map<std::string, std::string> announced_;
    // The Manager's changing properties (data path, discovery CHAP users).
    std::string manager_fingerprint_;
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
