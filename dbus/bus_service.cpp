#include "dbus/bus_service.h"

#include <cstdio>
#include <cstring>

#include "dbus/bus_errors.h"
#include "dbus/names.h"

namespace iscsi::dbus {
namespace {

// How long a listing of the kernel's sessions serves property reads.
constexpr auto kSessionsRefresh = std::chrono::milliseconds(500);
// How long signals for the daemon's session events may wait, so that a burst
// of events is announced by one comparison.
constexpr uint64_t kSignalDelayUs = 100'000;

std::string session_key(const std::string& target, uint16_t tpgt, uint32_t tsih) {
    return target + '\n' + std::to_string(tpgt) + '\n' + std::to_string(tsih);
}

bool under(const std::string& path, const std::string& prefix) {
    return path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0 && path[prefix.size()] == '/';
}

int find_object(sd_bus*, const char* path, const char* interface, void* userdata, void** found, sd_bus_error*) {
    auto* service = static_cast<BusService*>(userdata);
    auto id = parse_object_path(path);
    if (!id || std::strcmp(interface_of(id->kind), interface) != 0 || !service->exists(*id)) return 0;
    *found = service;
    return 1;
}

int enumerate_objects(sd_bus*, const char* prefix, void* userdata, char*** nodes, sd_bus_error*) {
    auto* service = static_cast<BusService*>(userdata);
    auto objects = service->all_objects();
    char** list = static_cast<char**>(calloc(objects.size() + 1, sizeof(char*)));
    if (list == nullptr) return -ENOMEM;
    size_t n = 0;
    for (const auto& [path, id] : objects)
        if (under(path, prefix)) list[n++] = strdup(path.c_str());
    *nodes = list;
    return 0;
}

// Reads (property gets, GetManagedObjects, introspection) of the service's
// objects are checked here, before sd-bus answers them itself; ListSessions
// checks in its handler and every change in its own (root or polkit).
int filter_reads(sd_bus_message* m, void* userdata, sd_bus_error*) {
    auto* service = static_cast<BusService*>(userdata);
    if (service->authorizer().policy().allow_unprivileged_reads) return 0;
    if (!sd_bus_message_is_method_call(m, nullptr, nullptr)) return 0;
    const char* path = sd_bus_message_get_path(m);
    const char* interface = sd_bus_message_get_interface(m);
    if (path == nullptr || interface == nullptr) return 0;
    std::string p = path;
    if (p != kRootPath && !under(p, kRootPath)) return 0;
    // Properties.Set is refused by sd-bus anyway: every property is read-only.
    bool read = std::strcmp(interface, "org.freedesktop.DBus.Properties") == 0 ||
                std::strcmp(interface, "org.freedesktop.DBus.ObjectManager") == 0 ||
                std::strcmp(interface, "org.freedesktop.DBus.Introspectable") == 0;
    if (!read) return 0;
    auto allowed = service->authorizer().may_read(m);
    if (allowed) return 0;
    auto name = error_name(allowed.error().kind);
    sd_bus_reply_method_errorf(m, name.c_str(), "%s", allowed.error().message.c_str());
    return 1;
}

}  // namespace

void BusService::warn(const std::string& text) const {
    if (options_.log) {
        options_.log(4 /* LOG_WARNING */, "D-Bus: " + text);
        return;
    }
    // sd-daemon(3) priority prefix: journald files this as a warning.
    std::fprintf(stderr, "<4>D-Bus: %s\n", text.c_str());
}

std::string BusService::manager_fingerprint() const {
    auto status = control_.data_path_status();
    const auto& chap = control_.config().discovery.chap;
    return std::to_string(status.available) + status.version + status.reason + "|" +
           (chap ? chap->user + "\x1f" + chap->mutual_user : "-");
}

BusService::BusService(control::ControlPlane& control, BusOptions options)
    : control_(control), options_(std::move(options)), authorizer_(options_.authorization) {}

BusService::~BusService() {
    if (bus_) sd_bus_detach_event(bus_.get());
    slots_.clear();
}

std::unique_ptr<BusService> BusService::start(sd_event* event, control::ControlPlane& control, BusOptions options) {
    std::unique_ptr<BusService> service(new BusService(control, std::move(options)));
    if (service->attach(event) < 0) return nullptr;
    return service;
}

int BusService::attach(sd_event* event) {
    event_ = event;
    sd_bus* raw = nullptr;
    int r = sd_bus_open_system(&raw);
    bus_.reset(raw);
    if (r < 0) {
        warn(std::string("no system bus (") + std::strerror(-r) + "); running without the D-Bus API");
        return r;
    }
    auto keep = [this](sd_bus_slot* slot) { slots_.emplace_back(slot); };
    sd_bus_slot* slot = nullptr;
    const std::string root = kRootPath;
    struct Registration {
        std::string prefix;
        const char* interface;
        const sd_bus_vtable* vtable;
    };
    const Registration fallbacks[] = {
        {root + "/target", kTargetInterface, target_vtable()},
        {root + "/target", kPortalGroupInterface, portal_group_vtable()},
        {root + "/target", kPortalInterface, portal_vtable()},
        {root + "/target", kLunInterface, lun_vtable()},
        {root + "/target", kAclInterface, acl_vtable()},
        {root + "/backstore", kBackstoreInterface, backstore_vtable()},
        {root + "/session", kSessionInterface, session_vtable()},
        {root + "/session", kConnectionInterface, connection_vtable()},
    };
    if ((r = sd_bus_add_object_manager(bus_.get(), &slot, kRootPath)) >= 0) keep(slot);
    if (r >= 0 && (r = sd_bus_add_object_vtable(bus_.get(), &slot, kRootPath, kManagerInterface, manager_vtable(), this)) >= 0)
        keep(slot);
    for (const auto& registration : fallbacks) {
        if (r < 0) break;
        r = sd_bus_add_fallback_vtable(bus_.get(), &slot, registration.prefix.c_str(), registration.interface,
                                       registration.vtable, find_object, this);
        if (r >= 0) keep(slot);
    }
    // Enumerators at the root and at each prefix, so that both
    // GetManagedObjects and introspection of intermediate nodes see children.
    for (const std::string& prefix : {root, root + "/target", root + "/backstore", root + "/session"}) {
        if (r < 0) break;
        if ((r = sd_bus_add_node_enumerator(bus_.get(), &slot, prefix.c_str(), enumerate_objects, this)) >= 0) keep(slot);
    }
    if (r >= 0 && (r = sd_bus_add_filter(bus_.get(), &slot, filter_reads, this)) >= 0) keep(slot);
    if (r < 0) {
        warn(std::string("cannot register objects: ") + std::strerror(-r));
        return r;
    }
    if ((r = sd_bus_request_name(bus_.get(), kBusName, 0)) < 0) {
        warn(std::string("cannot own ") + kBusName + " (" + std::strerror(-r) +
             "); is another iscsi-targetd running, or is the bus policy file installed?");
        return r;
    }
    if ((r = sd_bus_attach_event(bus_.get(), event, SD_EVENT_PRIORITY_NORMAL)) < 0) {
        warn(std::string("cannot attach to the event loop: ") + std::strerror(-r));
        return r;
    }
    // What exists at start is not news: announce only later changes.
    announced_ = fingerprints();
    manager_fingerprint_ = manager_fingerprint();
    return 0;
}

const std::vector<kmod::KernelSession>& BusService::sessions() {
    auto now = std::chrono::steady_clock::now();
    if (!sessions_valid_ || now - sessions_fetched_ > kSessionsRefresh) {
        auto listed = control_.sessions().list();
        // A kernel that cannot list its sessions shows none rather than stale ones.
        sessions_cache_ = listed ? std::move(*listed) : std::vector<kmod::KernelSession>{};
        sessions_fetched_ = now;
        sessions_valid_ = true;
        session_positions_.clear();
        session_counts_.clear();
        for (size_t i = 0; i < sessions_cache_.size(); ++i) {
            const auto& session = sessions_cache_[i];
            session_positions_.emplace(session_key(session.target_name, session.tpgt, session.tsih), i);
            ++session_counts_[session.target_name];
        }
    }
    return sessions_cache_;
}

const kmod::KernelSession* BusService::find_session(const ObjectId& id) {
    const auto& live = sessions();
    auto it = session_positions_.find(session_key(id.target, id.tpgt, id.number));
    return it == session_positions_.end() ? nullptr : &live[it->second];
}

uint32_t BusService::session_count(const std::string& target) {
    sessions();
    auto it = session_counts_.find(target);
    return it == session_counts_.end() ? 0 : it->second;
}

bool BusService::exists(const ObjectId& id) {
    const config::Target* target = id.kind == ObjectKind::Backstore ? nullptr : find_target(id.target);
    switch (id.kind) {
    case ObjectKind::Target: return target != nullptr;
    case ObjectKind::PortalGroup: return target && control::find_portal_group(*target, id.tpgt);
    case ObjectKind::Portal: {
        const auto* group = target ? control::find_portal_group(*target, id.tpgt) : nullptr;
        if (!group) return false;
        for (const auto& portal : group->portals)
            if (portal.address == id.name && portal.port == id.port) return true;
        return false;
    }
    case ObjectKind::Lun: return target && control::find_lun(*target, id.number);
    case ObjectKind::Acl: return target && control::find_acl(*target, id.name);
    case ObjectKind::Backstore: return find_backstore(id.name) != nullptr;
    case ObjectKind::Session: return find_session(id) != nullptr;
    case ObjectKind::Connection: {
        const auto* session = find_session(id);
        if (!session) return false;
        for (const auto& connection : session->connections)
            if (connection.cid == id.cid) return true;
        return false;
    }
    }
    return false;
}

std::map<std::string, ObjectId> BusService::all_objects() {
    std::map<std::string, ObjectId> objects;
    auto add = [&](const ObjectId& id) { objects.emplace(object_path(id), id); };
    const auto& config = control_.config();
    for (const auto& backstore : config.backstores) add(backstore_id(backstore.name));
    for (const auto& target : config.targets) {
        add(target_id(target.name));
        for (const auto& group : target.portal_groups) {
            add(portal_group_id(target.name, group.tpgt));
            for (const auto& portal : group.portals) add(portal_id(target.name, group.tpgt, portal.address, portal.port));
        }
        for (const auto& lun : target.luns) add(lun_id(target.name, lun.lun));
        for (const auto& acl : target.acls) add(acl_id(target.name, acl.initiator_name));
    }
    for (const auto& session : sessions()) {
        add(session_id(session.target_name, session.tpgt, session.tsih));
        for (const auto& connection : session.connections)
            add(connection_id(session.target_name, session.tpgt, session.tsih, connection.cid));
    }
    return objects;
}

// A summary of the properties that announce changes; when it differs from
// the one last announced, PropertiesChanged is emitted. Portals and LUNs have
// only constant properties.
std::map<std::string, std::string> BusService::fingerprints() {
    const auto& config = control_.config();
    std::map<std::string, std::string> now;
    auto chap = [](const std::optional<config::ChapCredentials>& c) { return c ? c->user + "\x1f" + c->mutual_user : "-"; };
    auto redirect = [](const std::optional<config::Redirect>& r) {
        return r ? r->address + ":" + std::to_string(r->port) + "," + std::to_string(r->tpgt) + (r->permanent ? "p" : "t") : "-";
    };
    std::unordered_map<std::string, std::string> used_by;  // a backstore's UsedBy
    for (const auto& b : config.backstores) now.emplace(object_path(backstore_id(b.name)), std::string());
    for (const auto& t : config.targets) {
        std::string text = t.alias + "|" + std::to_string(t.max_sessions) + "|" + chap(t.chap) + "|" + redirect(t.redirect) + "|";
        for (const auto& g : t.portal_groups) text += std::to_string(g.tpgt) + ",";
        text += "|";
        for (const auto& l : t.luns) text += std::to_string(l.lun) + "=" + l.backstore + ",";
        text += "|";
        for (const auto& a : t.acls) text += a.initiator_name + ",";
        text += "|" + std::to_string(session_count(t.name));
        now.emplace(object_path(target_id(t.name)), std::move(text));
        for (const auto& g : t.portal_groups) {
            std::string group = std::to_string(g.enabled) + std::to_string(g.demo_mode) +
                                std::to_string(g.demo_mode_write_protect) + redirect(g.redirect) +
                                std::to_string(g.nop_in_interval_s) + "/" + std::to_string(g.nop_in_timeout_s);
            for (const auto& p : g.portals) {
                group += "|" + p.address + ":" + std::to_string(p.port);
                now.emplace(object_path(portal_id(t.name, g.tpgt, p.address, p.port)), std::string());
            }
            now.emplace(object_path(portal_group_id(t.name, g.tpgt)), std::move(group));
        }
        for (const auto& l : t.luns) {
            now.emplace(object_path(lun_id(t.name, l.lun)), std::string());
            used_by[l.backstore] += t.name + "/" + std::to_string(l.lun) + ",";
        }
        for (const auto& a : t.acls) now.emplace(object_path(acl_id(t.name, a.initiator_name)), chap(a.chap));
    }
    for (auto& [name, users] : used_by)
        if (auto it = now.find(object_path(backstore_id(name))); it != now.end()) it->second = std::move(users);
    for (const auto& s : sessions()) {
        std::string text = std::to_string(static_cast<int>(s.state));
        for (const auto& c : s.connections) {
            text += "," + std::to_string(c.cid);
            now.emplace(object_path(connection_id(s.target_name, s.tpgt, s.tsih, c.cid)),
                        std::to_string(static_cast<int>(c.state)));
        }
        now.emplace(object_path(session_id(s.target_name, s.tpgt, s.tsih)), std::move(text));
    }
    return now;
}

void BusService::emit_differences(std::map<std::string, std::string> now) {
    auto manager = manager_fingerprint();
    if (manager != manager_fingerprint_) {
        sd_bus_emit_properties_changed_strv(bus_.get(), kRootPath, kManagerInterface, nullptr);
        manager_fingerprint_ = std::move(manager);
    }
    for (auto it = announced_.begin(); it != announced_.end();) {
        if (!now.count(it->first)) {
            auto id = parse_object_path(it->first);
            sd_bus_emit_interfaces_removed(bus_.get(), it->first.c_str(), interface_of(id->kind), nullptr);
            it = announced_.erase(it);
        } else {
            ++it;
        }
    }
    for (auto& [path, print] : now) {
        auto id = parse_object_path(path);
        auto known = announced_.find(path);
        if (known == announced_.end()) {
            sd_bus_emit_interfaces_added(bus_.get(), path.c_str(), interface_of(id->kind), nullptr);
        } else if (known->second != print) {
            // No names: every property that announces changes.
            sd_bus_emit_properties_changed_strv(bus_.get(), path.c_str(), interface_of(id->kind), nullptr);
        }
        announced_[path] = std::move(print);
    }
}

void BusService::configuration_changed() {
    index_.invalidate();
    emit_differences(fingerprints());
}

void BusService::sessions_changed() {
    sessions_valid_ = false;
    signal_timer_.reset();
    // Session counts on targets change too, so everything is compared.
    emit_differences(fingerprints());
}

void BusService::sessions_changed_soon() {
    sessions_valid_ = false;
    if (signal_timer_) return;
    sd_event_source* source = nullptr;
    if (sd_event_add_time_relative(event_, &source, CLOCK_MONOTONIC, kSignalDelayUs, 0, on_signal_timer, this) < 0) {
        sessions_changed();
        return;
    }
    signal_timer_.reset(source);
}

int BusService::on_signal_timer(sd_event_source*, uint64_t, void* userdata) {
    auto* service = static_cast<BusService*>(userdata);
    // Not reset here: sessions_changed() drops the timer, which is this source.
    service->sessions_changed();
    return 0;
}

}  // namespace iscsi::dbus
