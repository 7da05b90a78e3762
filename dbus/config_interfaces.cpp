// Properties of the configured objects: Target, PortalGroup, Portal, Lun,
// Backstore, Acl. Each object is found from its path on every call (fallback
// vtables, through the service's name index), so thousands of objects cost
// nothing until someone asks.
#include <cstring>

#include "dbus/bus_errors.h"
#include "dbus/bus_service.h"

namespace iscsi::dbus {
namespace {

using control::ErrorKind;

BusService& service_of(void* userdata) {
    return *static_cast<BusService*>(userdata);
}

std::string chap_user(const std::optional<config::ChapCredentials>& chap, bool mutual) {
    if (!chap) return {};
    return mutual ? chap->mutual_user : chap->user;
}

std::string redirect_text(const std::optional<config::Redirect>& redirect) {
    if (!redirect) return {};
    bool v6 = redirect->address.find(':') != std::string::npos;
    return (v6 ? "[" + redirect->address + "]" : redirect->address) + ":" + std::to_string(redirect->port) + "," +
           std::to_string(redirect->tpgt) + (redirect->permanent ? " permanent" : " temporary");
}

int gone(sd_bus_error* error, const char* path) {
    return set_error(error, ErrorKind::NotFound, std::string("object ") + path + " no longer exists");
}

struct Lookup {
    const config::Target* target = nullptr;
    ObjectId id;
};

Lookup lookup_target(BusService& service, const char* path) {
    Lookup found;
    auto id = parse_object_path(path);
    if (!id) return found;
    found.id = *id;
    found.target = service.find_target(id->target);
    return found;
}

int strv(sd_bus_message* reply, const std::vector<std::string>& values) {
    int r = sd_bus_message_open_container(reply, 'a', "s");
    for (const auto& value : values)
        if (r >= 0) r = sd_bus_message_append(reply, "s", value.c_str());
    return r < 0 ? r : sd_bus_message_close_container(reply);
}

int get_target(sd_bus*, const char* path, const char*, const char* property, sd_bus_message* reply, void* userdata,
               sd_bus_error* error) {
    auto found = lookup_target(service_of(userdata), path);
    if (!found.target) return gone(error, path);
    const auto& t = *found.target;
    std::string p = property;
    if (p == "Name") return sd_bus_message_append(reply, "s", t.name.c_str());
    if (p == "Alias") return sd_bus_message_append(reply, "s", t.alias.c_str());
    if (p == "MaxSessions") return sd_bus_message_append(reply, "u", t.max_sessions);
    if (p == "ChapUser") return sd_bus_message_append(reply, "s", chap_user(t.chap, false).c_str());
    if (p == "MutualChapUser") return sd_bus_message_append(reply, "s", chap_user(t.chap, true).c_str());
    if (p == "Redirect") return sd_bus_message_append(reply, "s", redirect_text(t.redirect).c_str());
    if (p == "PortalGroups") {
        int r = sd_bus_message_open_container(reply, 'a', "q");
        for (const auto& group : t.portal_groups)
            if (r >= 0) r = sd_bus_message_append(reply, "q", group.tpgt);
        return r < 0 ? r : sd_bus_message_close_container(reply);
    }
    if (p == "Luns") {
        int r = sd_bus_message_open_container(reply, 'a', "(us)");
        for (const auto& lun : t.luns)
            if (r >= 0) r = sd_bus_message_append(reply, "(us)", lun.lun, lun.backstore.c_str());
        return r < 0 ? r : sd_bus_message_close_container(reply);
    }
    if (p == "Acls") {
        std::vector<std::string> names;
        for (const auto& acl : t.acls) names.push_back(acl.initiator_name);
        return strv(reply, names);
    }
    if (p == "Sessions") return sd_bus_message_append(reply, "u", service_of(userdata).session_count(t.name));
    return -ENOENT;
}

int get_portal_group(sd_bus*, const char* path, const char*, const char* property, sd_bus_message* reply,
                     void* userdata, sd_bus_error* error) {
    auto found = lookup_target(service_of(userdata), path);
    const config::PortalGroup* g = found.target ? control::find_portal_group(*found.target, found.id.tpgt) : nullptr;
    if (!g) return gone(error, path);
    std::string p = property;
    if (p == "Target") return sd_bus_message_append(reply, "s", found.target->name.c_str());
    if (p == "Tpgt") return sd_bus_message_append(reply, "q", g->tpgt);
    if (p == "Enabled") return sd_bus_message_append(reply, "b", g->enabled);
    if (p == "DemoMode") return sd_bus_message_append(reply, "b", g->demo_mode);
    if (p == "DemoModeWriteProtect") return sd_bus_message_append(reply, "b", g->demo_mode_write_protect);
    if (p == "Redirect") return sd_bus_message_append(reply, "s", redirect_text(g->redirect).c_str());
    if (p == "NopInInterval") return sd_bus_message_append(reply, "u", g->nop_in_interval_s);
    if (p == "NopInTimeout") return sd_bus_message_append(reply, "u", g->nop_in_timeout_s);
    if (p == "Portals") {
        int r = sd_bus_message_open_container(reply, 'a', "(sq)");
        for (const auto& portal : g->portals)
            if (r >= 0) r = sd_bus_message_append(reply, "(sq)", portal.address.c_str(), portal.port);
        return r < 0 ? r : sd_bus_message_close_container(reply);
    }
    return -ENOENT;
}

int get_portal(sd_bus*, const char* path, const char*, const char* property, sd_bus_message* reply, void* userdata,
               sd_bus_error* error) {
    auto found = lookup_target(service_of(userdata), path);
    if (!found.target || !service_of(userdata).exists(found.id)) return gone(error, path);
    std::string p = property;
    if (p == "Target") return sd_bus_message_append(reply, "s", found.target->name.c_str());
    if (p == "Tpgt") return sd_bus_message_append(reply, "q", found.id.tpgt);
    if (p == "Address") return sd_bus_message_append(reply, "s", found.id.name.c_str());
    if (p == "Port") return sd_bus_message_append(reply, "q", found.id.port);
    return -ENOENT;
}

int get_lun(sd_bus*, const char* path, const char*, const char* property, sd_bus_message* reply, void* userdata,
            sd_bus_error* error) {
    auto found = lookup_target(service_of(userdata), path);
    const config::Lun* lun = found.target ? control::find_lun(*found.target, found.id.number) : nullptr;
    if (!lun) return gone(error, path);
    std::string p = property;
    if (p == "Target") return sd_bus_message_append(reply, "s", found.target->name.c_str());
    if (p == "Lun") return sd_bus_message_append(reply, "u", lun->lun);
    if (p == "Backstore") return sd_bus_message_append(reply, "s", lun->backstore.c_str());
    if (p == "BackstoreObject") return sd_bus_message_append(reply, "o", object_path(backstore_id(lun->backstore)).c_str());
    return -ENOENT;
}

int get_backstore(sd_bus*, const char* path, const char*, const char* property, sd_bus_message* reply, void* userdata,
                  sd_bus_error* error) {
    auto& service = service_of(userdata);
    auto id = parse_object_path(path);
    const config::Backstore* b = id ? service.find_backstore(id->name) : nullptr;
    if (!b) return gone(error, path);
    std::string p = property;
    if (p == "Name") return sd_bus_message_append(reply, "s", b->name.c_str());
    if (p == "Type") return sd_bus_message_append(reply, "s", control::to_string(b->type));
    if (p == "Path") return sd_bus_message_append(reply, "s", b->path.c_str());
    if (p == "SizeBytes") return sd_bus_message_append(reply, "t", b->size_bytes);
    if (p == "Wwn") return sd_bus_message_append(reply, "s", b->wwn.c_str());
    if (p == "WriteBack") return sd_bus_message_append(reply, "b", b->write_back);
    if (p == "Attributes") {
        int r = sd_bus_message_open_container(reply, 'a', "{ss}");
        for (const auto& [key, value] : b->attributes)
            if (r >= 0) r = sd_bus_message_append(reply, "{ss}", key.c_str(), value.c_str());
        return r < 0 ? r : sd_bus_message_close_container(reply);
    }
    if (p == "UsedBy") {
        // The LUN objects that use this backstore; deleting it is Busy while any does.
        int r = sd_bus_message_open_container(reply, 'a', "o");
        for (const auto& [target, lun] : service.backstore_users(b->name))
            if (r >= 0) r = sd_bus_message_append(reply, "o", object_path(lun_id(target->name, lun->lun)).c_str());
        return r < 0 ? r : sd_bus_message_close_container(reply);
    }
    return -ENOENT;
}

int get_acl(sd_bus*, const char* path, const char*, const char* property, sd_bus_message* reply, void* userdata,
            sd_bus_error* error) {
    auto found = lookup_target(service_of(userdata), path);
    const config::Acl* acl = found.target ? control::find_acl(*found.target, found.id.name) : nullptr;
    if (!acl) return gone(error, path);
    std::string p = property;
    if (p == "Target") return sd_bus_message_append(reply, "s", found.target->name.c_str());
    if (p == "InitiatorName") return sd_bus_message_append(reply, "s", acl->initiator_name.c_str());
    if (p == "AllowedNetworks") return strv(reply, acl->allowed_networks);
    if (p == "MappedLuns") {
        int r = sd_bus_message_open_container(reply, 'a', "(uub)");
        for (const auto& mapped : acl->mapped_luns)
            if (r >= 0) r = sd_bus_message_append(reply, "(uub)", mapped.mapped_lun, mapped.lun, mapped.write_protect);
        return r < 0 ? r : sd_bus_message_close_container(reply);
    }
    if (p == "ChapUser") return sd_bus_message_append(reply, "s", chap_user(acl->chap, false).c_str());
    if (p == "MutualChapUser") return sd_bus_message_append(reply, "s", chap_user(acl->chap, true).c_str());
    return -ENOENT;
}

constexpr uint64_t kChanges = SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE;
constexpr uint64_t kConst = SD_BUS_VTABLE_PROPERTY_CONST;

const sd_bus_vtable kTargetVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Name", "s", get_target, 0, kConst),
    SD_BUS_PROPERTY("Alias", "s", get_target, 0, kChanges),
    SD_BUS_PROPERTY("MaxSessions", "u", get_target, 0, kChanges),
    SD_BUS_PROPERTY("ChapUser", "s", get_target, 0, kChanges),
    SD_BUS_PROPERTY("MutualChapUser", "s", get_target, 0, kChanges),
    SD_BUS_PROPERTY("Redirect", "s", get_target, 0, kChanges),
    SD_BUS_PROPERTY("PortalGroups", "aq", get_target, 0, kChanges),
    SD_BUS_PROPERTY("Luns", "a(us)", get_target, 0, kChanges),
    SD_BUS_PROPERTY("Acls", "as", get_target, 0, kChanges),
    SD_BUS_PROPERTY("Sessions", "u", get_target, 0, kChanges),
    SD_BUS_VTABLE_END,
};

const sd_bus_vtable kPortalGroupVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Target", "s", get_portal_group, 0, kConst),
    SD_BUS_PROPERTY("Tpgt", "q", get_portal_group, 0, kConst),
    SD_BUS_PROPERTY("Enabled", "b", get_portal_group, 0, kChanges),
    SD_BUS_PROPERTY("DemoMode", "b", get_portal_group, 0, kChanges),
    SD_BUS_PROPERTY("DemoModeWriteProtect", "b", get_portal_group, 0, kChanges),
    SD_BUS_PROPERTY("Redirect", "s", get_portal_group, 0, kChanges),
    SD_BUS_PROPERTY("NopInInterval", "u", get_portal_group, 0, kChanges),
    SD_BUS_PROPERTY("NopInTimeout", "u", get_portal_group, 0, kChanges),
    SD_BUS_PROPERTY("Portals", "a(sq)", get_portal_group, 0, kChanges),
    SD_BUS_VTABLE_END,
};

const sd_bus_vtable kPortalVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Target", "s", get_portal, 0, kConst),
    SD_BUS_PROPERTY("Tpgt", "q", get_portal, 0, kConst),
    SD_BUS_PROPERTY("Address", "s", get_portal, 0, kConst),
    SD_BUS_PROPERTY("Port", "q", get_portal, 0, kConst),
    SD_BUS_VTABLE_END,
};

const sd_bus_vtable kLunVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Target", "s", get_lun, 0, kConst),
    SD_BUS_PROPERTY("Lun", "u", get_lun, 0, kConst),
    SD_BUS_PROPERTY("Backstore", "s", get_lun, 0, kConst),
    SD_BUS_PROPERTY("BackstoreObject", "o", get_lun, 0, kConst),
    SD_BUS_VTABLE_END,
};

const sd_bus_vtable kBackstoreVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Name", "s", get_backstore, 0, kConst),
    SD_BUS_PROPERTY("Type", "s", get_backstore, 0, kConst),
    SD_BUS_PROPERTY("Path", "s", get_backstore, 0, kConst),
    SD_BUS_PROPERTY("SizeBytes", "t", get_backstore, 0, kConst),
    SD_BUS_PROPERTY("Wwn", "s", get_backstore, 0, kConst),
    SD_BUS_PROPERTY("WriteBack", "b", get_backstore, 0, kConst),
    SD_BUS_PROPERTY("Attributes", "a{ss}", get_backstore, 0, kConst),
    SD_BUS_PROPERTY("UsedBy", "ao", get_backstore, 0, kChanges),
    SD_BUS_VTABLE_END,
};

const sd_bus_vtable kAclVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Target", "s", get_acl, 0, kConst),
    SD_BUS_PROPERTY("InitiatorName", "s", get_acl, 0, kConst),
    SD_BUS_PROPERTY("AllowedNetworks", "as", get_acl, 0, kConst),
    SD_BUS_PROPERTY("MappedLuns", "a(uub)", get_acl, 0, kConst),
    SD_BUS_PROPERTY("ChapUser", "s", get_acl, 0, kChanges),
    SD_BUS_PROPERTY("MutualChapUser", "s", get_acl, 0, kChanges),
    SD_BUS_VTABLE_END,
};

}  // namespace

const sd_bus_vtable* target_vtable() { return kTargetVtable; }
const sd_bus_vtable* portal_group_vtable() { return kPortalGroupVtable; }
const sd_bus_vtable* portal_vtable() { return kPortalVtable; }
const sd_bus_vtable* lun_vtable() { return kLunVtable; }
const sd_bus_vtable* backstore_vtable() { return kBackstoreVtable; }
const sd_bus_vtable* acl_vtable() { return kAclVtable; }

}  // namespace iscsi::dbus
