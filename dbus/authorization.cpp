#include "dbus/authorization.h"

#include <cstring>

#include "dbus/names.h"
#include "dbus/sd_bus_ptr.h"

namespace iscsi::dbus {
namespace {

using control::ErrorKind;
using control::fail;

// CheckAuthorization can wait for polkit's rules engine; a caller must not
// hang the daemon's only event loop for long.
constexpr uint64_t kPolkitTimeoutUs = 5'000'000;

}  // namespace

control::Result<uid_t> Authorizer::caller_uid(sd_bus_message* message) const {
    sd_bus_creds* raw = nullptr;
    int r = sd_bus_query_sender_creds(message, SD_BUS_CREDS_EUID | SD_BUS_CREDS_UID | SD_BUS_CREDS_AUGMENT, &raw);
    CredsPtr creds(raw);
    if (r < 0) return fail(ErrorKind::PermissionDenied, std::string("cannot tell who the caller is: ") + std::strerror(-r));
    uid_t uid = 0;
    if (sd_bus_creds_get_euid(creds.get(), &uid) >= 0) return uid;
    if (sd_bus_creds_get_uid(creds.get(), &uid) >= 0) return uid;
    return fail(ErrorKind::PermissionDenied, "the bus did not say which user the caller is");
}

control::Result<void> Authorizer::ask_polkit(sd_bus_message* message) const {
    sd_bus* bus = sd_bus_message_get_bus(message);
    const char* sender = sd_bus_message_get_sender(message);
    if (sender == nullptr) return fail(ErrorKind::PermissionDenied, "the message has no sender to ask polkit about");

    sd_bus_message* raw = nullptr;
    int r = sd_bus_message_new_method_call(bus, &raw, "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
                                           "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization");
    MessagePtr request(raw);
    if (r >= 0) r = sd_bus_message_append(request.get(), "(sa{sv})s", "system-bus-name", 1, "name", "s", sender, kPolkitAction);
    if (r >= 0) r = sd_bus_message_append(request.get(), "a{ss}us", 0, 0u /* no user interaction */, "");
    if (r < 0) return fail(ErrorKind::PermissionDenied, std::string("cannot build the polkit request: ") + std::strerror(-r));

    BusError error;
    sd_bus_message* reply_raw = nullptr;
    r = sd_bus_call(bus, request.get(), kPolkitTimeoutUs, error.get(), &reply_raw);
    MessagePtr reply(reply_raw);
    if (r < 0)
        return fail(ErrorKind::PermissionDenied, std::string("only root may change the target: polkit could not be asked (") +
                                                     (error.is_set() ? error.message() : std::strerror(-r)) + ")");
    int authorized = 0, challenge = 0;
    r = sd_bus_message_enter_container(reply.get(), 'r', "bba{ss}");
    if (r >= 0) r = sd_bus_message_read(reply.get(), "bb", &authorized, &challenge);
    if (r < 0) return fail(ErrorKind::PermissionDenied, "polkit's answer could not be read");
    if (!authorized)
        return fail(ErrorKind::PermissionDenied, std::string("polkit does not allow ") + kPolkitAction +
                                                     (challenge ? " without authentication; run iscsictl as root" : " for this user"));
    return {};
}

control::Result<void> Authorizer::may_change(sd_bus_message* message) const {
    auto uid = caller_uid(message);
    if (!uid) return tl::unexpected(uid.error());
    if (*uid == 0) return {};
    if (!policy_.use_polkit)
        return fail(ErrorKind::PermissionDenied, "uid " + std::to_string(*uid) + " may not change the target; run as root");
    return ask_polkit(message);
}

control::Result<void> Authorizer::may_read(sd_bus_message* message) const {
    if (policy_.allow_unprivileged_reads) return {};
    auto uid = caller_uid(message);
    if (!uid) return tl::unexpected(uid.error());
    if (*uid == 0) return {};
    // Whoever may change the target may also read it.
    if (policy_.use_polkit && ask_polkit(message)) return {};
    return fail(ErrorKind::PermissionDenied, "uid " + std::to_string(*uid) +
                                                 " may not read the target's state: it needs root or the polkit action " +
                                                 kPolkitAction + " (or iscsi-targetd --allow-unprivileged-reads)");
}

}  // namespace iscsi::dbus
