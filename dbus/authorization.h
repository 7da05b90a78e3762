// Who may do what over the bus.
//
// Changes need uid 0 or the polkit action org.iscsictl.target1.manage;
// polkit is asked (org.freedesktop.PolicyKit1.Authority.CheckAuthorization)
// only for callers that are not root, without user interaction: iscsictl is
// a command-line tool and an authentication agent is not assumed.
//
// Reading non-secret state (property reads, GetManagedObjects, ListSessions,
// introspection) needs the same by default; iscsi-targetd
// --allow-unprivileged-reads opens it to every user. Secrets are never
// readable by anyone: no property or method returns one.
#pragma once

#include <string>

#include <systemd/sd-bus.h>

#include "control/error.h"

namespace iscsi::dbus {

struct AuthorizationPolicy {
    // Off unless the administrator opts in (iscsi-targetd --allow-unprivileged-reads).
    bool allow_unprivileged_reads = false;
    bool use_polkit = true;
};

class Authorizer {
public:
    explicit Authorizer(AuthorizationPolicy policy) : policy_(policy) {}
    const AuthorizationPolicy& policy() const { return policy_; }

    // Ok, or PermissionDenied with the reason (which uid, what polkit said).
    control::Result<void> may_change(sd_bus_message* message) const;
    control::Result<void> may_read(sd_bus_message* message) const;

private:
    control::Result<uid_t> caller_uid(sd_bus_message* message) const;
    control::Result<void> ask_polkit(sd_bus_message* message) const;
    AuthorizationPolicy policy_;
};

}  // namespace iscsi::dbus
