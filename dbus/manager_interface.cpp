// org.iscsictl.target1.Manager on /org/iscsictl/target1.
//
// Each handler reads its arguments, checks authorization, asks the control
// plane (which validates, applies, persists, or changes nothing), lets the
// service emit the signals for what changed, and replies, in that order.
#include <cerrno>

#include "dbus/bus_errors.h"
#include "dbus/bus_options_reader.h"
#include "dbus/bus_service.h"
#include "dbus/names.h"

namespace iscsi::dbus {
namespace {

BusService& service_of(void* userdata) {
    return *static_cast<BusService*>(userdata);
}

// Authorization, the change itself, signals; 0 on success, else the error to return.
template <typename Change>
int change(sd_bus_message* m, void* userdata, sd_bus_error* error, Change&& apply) {
    auto& service = service_of(userdata);
    if (auto allowed = service.authorizer().may_change(m); !allowed) return set_error(error, allowed.error());
    control::Result<void> done = apply(service.control());
    if (!done) return set_error(error, done.error());
    service.configuration_changed();
    return 0;
}

int reply_path(sd_bus_message* m, const ObjectId& id) {
    return sd_bus_reply_method_return(m, "o", object_path(id).c_str());
}

int create_target(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    const char* name = nullptr;
    int r = sd_bus_message_read(m, "s", &name);
    if (r < 0) return r;
    control::TargetSpec spec;
    spec.name = name;
    OptionReader options(m, error);
    options.add("Alias", &spec.alias);
    options.add("MaxSessions", &spec.max_sessions);
    if ((r = options.read()) < 0) return r;
    if ((r = change(m, userdata, error, [&](control::ControlPlane& c) { return c.create_target(spec); })) < 0) return r;
    return reply_path(m, target_id(spec.name));
}

int delete_target(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    const char* name = nullptr;
    int r = sd_bus_message_read(m, "s", &name);
    if (r < 0) return r;
    if ((r = change(m, userdata, error, [&](control::ControlPlane& c) { return c.delete_target(name); })) < 0) return r;
    return sd_bus_reply_method_return(m, "");
}

int create_portal_group(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    const char* target = nullptr;
    control::PortalGroupSpec spec;
    int r = sd_bus_message_read(m, "sq", &target, &spec.tpgt);
    if (r < 0) return r;
    spec.target = target;
    OptionReader options(m, error);
    options.add("Enabled", &spec.enabled);
    options.add("DemoMode", &spec.demo_mode);
    options.add("DemoModeWriteProtect", &spec.demo_mode_write_protect);
    if ((r = options.read()) < 0) return r;
    if ((r = change(m, userdata, error, [&](control::ControlPlane& c) { return c.create_portal_group(spec); })) < 0) return r;
    return reply_path(m, portal_group_id(spec.target, spec.tpgt));
}

int delete_portal_group(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    const char* target = nullptr;
    uint16_t tpgt = 0;
    int r = sd_bus_message_read(m, "sq", &target, &tpgt);
    if (r < 0) return r;
    if ((r = change(m, userdata, error, [&](control::ControlPlane& c) { return c.delete_portal_group(target, tpgt); })) < 0)
        return r;
    return sd_bus_reply_method_return(m, "");
}

int read_portal(sd_bus_message* m, control::PortalSpec& spec) {
    const char *target = nullptr, *address = nullptr;
    int r = sd_bus_message_read(m, "sqsq", &target, &spec.tpgt, &address, &spec.portal.port);
    if (r < 0) return r;
    spec.target = target;
    spec.portal.address = address;
    return r;
}

int create_portal(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    control::PortalSpec spec;
    int r = read_portal(m, spec);
    if (r < 0) return r;
    if ((r = change(m, userdata, error, [&](control::ControlPlane& c) { return c.create_portal(spec); })) < 0) return r;
    return reply_path(m, portal_id(spec.target, spec.tpgt, spec.portal.address, spec.portal.port));
}

int delete_portal(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    control::PortalSpec spec;
    int r = read_portal(m, spec);
    if (r < 0) return r;
    if ((r = change(m, userdata, error, [&](control::ControlPlane& c) { return c.delete_portal(spec); })) < 0) return r;
    return sd_bus_reply_method_return(m, "");
}

int create_backstore(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    const char *name = nullptr, *type = nullptr;
    int r = sd_bus_message_read(m, "ss", &name, &type);
    if (r < 0) return r;
    config::Backstore spec;
    spec.name = name;
    auto parsed_type = control::backstore_type_from_string(type);
    if (!parsed_type)
        return set_error(error, control::ErrorKind::InvalidArgument,
                         std::string("backstore type '") + type + "' is not one of fileio, block, ramdisk, user");
    spec.type = *parsed_type;
    OptionReader options(m, error);
    options.add("Path", &spec.path);
    options.add("SizeBytes", &spec.size_bytes);
    options.add("Wwn", &spec.wwn);
    options.add("WriteBack", &spec.write_back);
    options.add("Attributes", &spec.attributes);
    if ((r = options.read()) < 0) return r;
    if ((r = change(m, userdata, error, [&](control::ControlPlane& c) { return c.create_backstore(spec); })) < 0) return r;
    return reply_path(m, backstore_id(spec.name));
}

int delete_backstore(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    const char* name = nullptr;
    int r = sd_bus_message_read(m, "s", &name);
    if (r < 0) return r;
    if ((r = change(m, userdata, error, [&](control::ControlPlane& c) { return c.delete_backstore(name); })) < 0) return r;
    return sd_bus_reply_method_return(m, "");
}

int create_lun(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    const char *target = nullptr, *backstore = nullptr;
    control::LunSpec spec;
    int r = sd_bus_message_read(m, "sus", &target, &spec.lun, &backstore);
    if (r < 0) return r;
    spec.target = target;
    spec.backstore = backstore;
    if ((r = change(m, userdata, error, [&](control::ControlPlane& c) { return c.create_lun(spec); })) < 0) return r;
    return reply_path(m, lun_id(spec.target, spec.lun));
}

int delete_lun(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    const char* target = nullptr;
    uint32_t lun = 0;
    int r = sd_bus_message_read(m, "su", &target, &lun);
    if (r < 0) return r;
    if ((r = change(m, userdata, error, [&](control::ControlPlane& c) { return c.delete_lun(target, lun); })) < 0) return r;
    return sd_bus_reply_method_return(m, "");
}

int read_mapped_luns(sd_bus_message* m, std::vector<config::MappedLun>* out) {
    int r = sd_bus_message_enter_container(m, 'a', "(uub)");
    if (r < 0) return r;
    config::MappedLun mapped;
    int write_protect = 0;
    while ((r = sd_bus_message_read(m, "(uub)", &mapped.mapped_lun, &mapped.lun, &write_protect)) > 0) {
        mapped.write_protect = write_protect != 0;
        out->push_back(mapped);
    }
    if (r < 0) return r;
    return sd_bus_message_exit_container(m);
}

int create_acl(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    const char *target = nullptr, *initiator = nullptr;
    int r = sd_bus_message_read(m, "ss", &target, &initiator);
    if (r < 0) return r;
    control::AclSpec spec;
    spec.target = target;
    spec.acl.initiator_name = initiator;
    OptionReader options(m, error);
    options.add("AllowedNetworks", &spec.acl.allowed_networks);
    options.add_custom("MappedLuns", "a(uub)", [&] { return read_mapped_luns(m, &spec.acl.mapped_luns); });
    if ((r = options.read()) < 0) return r;
    if ((r = change(m, userdata, error, [&](control::ControlPlane& c) { return c.create_acl(spec); })) < 0) return r;
    return reply_path(m, acl_id(spec.target, spec.acl.initiator_name));
}

int delete_acl(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    const char *target = nullptr, *initiator = nullptr;
    int r = sd_bus_message_read(m, "ss", &target, &initiator);
    if (r < 0) return r;
    if ((r = change(m, userdata, error, [&](control::ControlPlane& c) { return c.delete_acl(target, initiator); })) < 0)
        return r;
    return sd_bus_reply_method_return(m, "");
}

int read_scope(const char* text, control::ChapScope* scope, sd_bus_error* error) {
    auto parsed = control::chap_scope_from_string(text);
    if (!parsed)
        return set_error(error, control::ErrorKind::InvalidArgument,
                         std::string("CHAP scope '") + text + "' is not one of discovery, target, acl");
    *scope = *parsed;
    return 0;
}

int set_chap(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    const char *scope = nullptr, *target = nullptr, *initiator = nullptr, *user = nullptr, *secret = nullptr,
               *mutual_user = nullptr, *mutual_secret = nullptr;
    int r = sd_bus_message_read(m, "sssssss", &scope, &target, &initiator, &user, &secret, &mutual_user, &mutual_secret);
    if (r < 0) return r;
    control::ChapSpec spec{control::ChapScope::Target, target, initiator, user, secret, mutual_user, mutual_secret};
    if ((r = read_scope(scope, &spec.scope, error)) < 0) return r;
    if ((r = change(m, userdata, error, [&](control::ControlPlane& c) { return c.set_chap(spec); })) < 0) return r;
    return sd_bus_reply_method_return(m, "");
}

int clear_chap(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    const char *scope_text = nullptr, *target = nullptr, *initiator = nullptr;
    int r = sd_bus_message_read(m, "sss", &scope_text, &target, &initiator);
    if (r < 0) return r;
    control::ChapScope scope{};
    if ((r = read_scope(scope_text, &scope, error)) < 0) return r;
    if ((r = change(m, userdata, error, [&](control::ControlPlane& c) { return c.clear_chap(scope, target, initiator); })) < 0)
        return r;
    return sd_bus_reply_method_return(m, "");
}

int set_redirect(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    const char *target = nullptr, *address = nullptr;
    control::RedirectSpec spec;
    int permanent = 0;
    int r = sd_bus_message_read(m, "sqsqqb", &target, &spec.tpgt, &address, &spec.redirect.port, &spec.redirect.tpgt,
                                &permanent);
    if (r < 0) return r;
    spec.target = target;
    spec.redirect.address = address;
    spec.redirect.permanent = permanent != 0;
    if ((r = change(m, userdata, error, [&](control::ControlPlane& c) { return c.set_redirect(spec); })) < 0) return r;
    return sd_bus_reply_method_return(m, "");
}

int clear_redirect(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    const char* target = nullptr;
    uint16_t tpgt = 0;
    int r = sd_bus_message_read(m, "sq", &target, &tpgt);
    if (r < 0) return r;
    if ((r = change(m, userdata, error, [&](control::ControlPlane& c) { return c.clear_redirect(target, tpgt); })) < 0)
        return r;
    return sd_bus_reply_method_return(m, "");
}

int list_sessions(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    auto& service = service_of(userdata);
    if (auto allowed = service.authorizer().may_read(m); !allowed) return set_error(error, allowed.error());
    auto sessions = service.control().sessions().list();
    if (!sessions) return set_error(error, sessions.error());
    sd_bus_message* raw = nullptr;
    int r = sd_bus_message_new_method_return(m, &raw);
    MessagePtr reply(raw);
    if (r < 0) return r;
    if ((r = sd_bus_message_open_container(reply.get(), 'a', "a{sv}")) < 0) return r;
    for (const auto& session : *sessions)
        if ((r = append_session_dict(reply.get(), session)) < 0) return r;
    if ((r = sd_bus_message_close_container(reply.get())) < 0) return r;
    return sd_bus_send(nullptr, reply.get(), nullptr);
}

int save_configuration(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    int r = change(m, userdata, error, [](control::ControlPlane& c) { return c.save(); });
    if (r < 0) return r;
    return sd_bus_reply_method_return(m, "");
}

int reload(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    int r = change(m, userdata, error, [](control::ControlPlane& c) { return c.reload(); });
    if (r < 0) return r;
    return sd_bus_reply_method_return(m, "");
}

int get_version(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* userdata, sd_bus_error*) {
    return sd_bus_message_append(reply, "s", service_of(userdata).options().version.c_str());
}

int get_data_path(sd_bus*, const char*, const char*, const char* property, sd_bus_message* reply, void* userdata,
                  sd_bus_error*) {
    auto status = service_of(userdata).control().data_path_status();
    if (std::string(property) == "DataPathAvailable") return sd_bus_message_append(reply, "b", status.available);
    // "iscsi_handoff <version>" when the kernel module serves, else why not.
    std::string text = status.available ? "iscsi_handoff " + status.version : "unavailable: " + status.reason;
    return sd_bus_message_append(reply, "s", text.c_str());
}

int get_discovery_chap(sd_bus*, const char*, const char*, const char* property, sd_bus_message* reply, void* userdata,
                       sd_bus_error*) {
    const auto& chap = service_of(userdata).control().config().discovery.chap;
    std::string user;
    if (chap) user = std::string(property) == "DiscoveryChapUser" ? chap->user : chap->mutual_user;
    return sd_bus_message_append(reply, "s", user.c_str());
}

int get_configuration_files(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* userdata,
                            sd_bus_error*) {
    return sd_bus_message_append(reply, "s", service_of(userdata).control().store_location().c_str());
}

const sd_bus_vtable kManagerVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Version", "s", get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("DataPath", "s", get_data_path, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("DataPathAvailable", "b", get_data_path, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("DiscoveryChapUser", "s", get_discovery_chap, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("DiscoveryMutualChapUser", "s", get_discovery_chap, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("ConfigurationFiles", "s", get_configuration_files, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_METHOD_WITH_ARGS("CreateTarget", SD_BUS_ARGS("s", name, "a{sv}", options), SD_BUS_RESULT("o", target),
                            create_target, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("DeleteTarget", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT, delete_target,
                            SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("CreatePortalGroup", SD_BUS_ARGS("s", target, "q", tpgt, "a{sv}", options),
                            SD_BUS_RESULT("o", portal_group), create_portal_group, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("DeletePortalGroup", SD_BUS_ARGS("s", target, "q", tpgt), SD_BUS_NO_RESULT,
                            delete_portal_group, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("CreatePortal", SD_BUS_ARGS("s", target, "q", tpgt, "s", address, "q", port),
                            SD_BUS_RESULT("o", portal), create_portal, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("DeletePortal", SD_BUS_ARGS("s", target, "q", tpgt, "s", address, "q", port),
                            SD_BUS_NO_RESULT, delete_portal, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("CreateBackstore", SD_BUS_ARGS("s", name, "s", type, "a{sv}", options),
                            SD_BUS_RESULT("o", backstore), create_backstore, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("DeleteBackstore", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT, delete_backstore,
                            SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("CreateLun", SD_BUS_ARGS("s", target, "u", lun, "s", backstore), SD_BUS_RESULT("o", lun_object),
                            create_lun, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("DeleteLun", SD_BUS_ARGS("s", target, "u", lun), SD_BUS_NO_RESULT, delete_lun,
                            SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("CreateAcl", SD_BUS_ARGS("s", target, "s", initiator, "a{sv}", options),
                            SD_BUS_RESULT("o", acl), create_acl, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("DeleteAcl", SD_BUS_ARGS("s", target, "s", initiator), SD_BUS_NO_RESULT, delete_acl,
                            SD_BUS_VTABLE_UNPRIVILEGED),
    // Secrets go in and never come out: no method or property returns one.
    SD_BUS_METHOD_WITH_ARGS("SetChap",
                            SD_BUS_ARGS("s", scope, "s", target, "s", initiator, "s", user, "s", secret, "s", mutual_user,
                                        "s", mutual_secret),
                            SD_BUS_NO_RESULT, set_chap, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
    SD_BUS_METHOD_WITH_ARGS("ClearChap", SD_BUS_ARGS("s", scope, "s", target, "s", initiator), SD_BUS_NO_RESULT,
                            clear_chap, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("SetRedirect",
                            SD_BUS_ARGS("s", target, "q", tpgt, "s", address, "q", port, "q", redirect_tpgt, "b", permanent),
                            SD_BUS_NO_RESULT, set_redirect, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("ClearRedirect", SD_BUS_ARGS("s", target, "q", tpgt), SD_BUS_NO_RESULT, clear_redirect,
                            SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("ListSessions", SD_BUS_NO_ARGS, SD_BUS_RESULT("aa{sv}", sessions), list_sessions,
                            SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("SaveConfiguration", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, save_configuration,
                            SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("Reload", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, reload, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};

}  // namespace

const sd_bus_vtable* manager_vtable() {
    return kManagerVtable;
}

}  // namespace iscsi::dbus
