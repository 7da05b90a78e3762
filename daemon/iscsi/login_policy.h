// What the login state machine asks of the rest of the daemon.
//
// daemon/iscsi/ does no I/O and holds no configuration: every decision that
// depends on who is configured, who is logged in, or which secrets exist is a
// question to this interface. The daemon implements it over the configuration
// (config/) and the session registry (sessions/); unit tests implement it
// with fixed answers.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/model.h"

namespace iscsi {

using Isid = std::array<uint8_t, 6>;

// Where the connection came in: the portal group it belongs to and both ends.
struct ConnectionEndpoints {
    uint16_t tpgt = 0;
    std::string peer_address;  // numeric, no brackets
    uint16_t peer_port = 0;
    std::string local_address;
    uint16_t local_port = 0;
};

// The answer to "may InitiatorName log in to TargetName through this portal group?"
struct TargetAccess {
    enum class Verdict {
        Allowed,
        NotFound,        // 0x0203 Not found (no such target on this portal group)
        NotAuthorized,   // 0x0202 Authorization failure (no ACL, address not allowed)
        Redirect,        // 0x0101/0x0102 with TargetAddress
        Removed,         // 0x0204 Target removed
        TooManySessions, // 0x0206 Too many connections / sessions (per-target limit)
    } verdict = Verdict::NotFound;
    std::string reason;  // for the log line; never sent to the initiator

    // Allowed:
    std::string target_alias;
    std::optional<config::ChapCredentials> chap;  // set: CHAP is required
    config::SessionParameters parameters;          // what the target offers

    // Redirect:
    std::optional<config::Redirect> redirect;
};

// The session identity a Normal login asks for (RFC 7143 s.4.4, s.6.3).
struct LoginIdentity {
    std::string initiator_name;
    std::string target_name;
    uint16_t tpgt = 0;
    Isid isid{};
    uint16_t tsih = 0;  // from the Login Request: 0 for a leading login
    uint16_t cid = 0;
};

// The registry's decision on a login identity.
struct Admission {
    enum class Verdict {
        NewSession,              // leading login; tsih is the newly assigned TSIH
        ReinstateSession,        // leading login matching a live session: it is closed first
        AddConnection,           // TSIH names a live session: join it (MC/S)
        ReinstateConnection,     // CID of a live connection of that session: it is closed first
        SessionDoesNotExist,     // 0x020a
        TooManyConnections,      // 0x0206
        InitiatorMismatch,       // 0x0202: TSIH of a session of another initiator (or ISID)
        TooManySessions,         // 0x0206 (per target or per daemon)
    } verdict = Verdict::SessionDoesNotExist;
    uint16_t tsih = 0;
    std::string reason;
};

struct SendTargetsPortal {
    std::string address;  // numeric; the protocol layer adds brackets to IPv6
    uint16_t port = 3260;
    uint16_t tpgt = 1;
};

struct SendTargetsEntry {
    std::string target_name;
    std::vector<SendTargetsPortal> portals;
};

class LoginPolicy {
public:
    virtual ~LoginPolicy() = default;

    // A Normal login names its target in the first Login Request.
    virtual TargetAccess target_access(const std::string& target_name,
                                       const std::string& initiator_name,
                                       const ConnectionEndpoints& endpoints) = 0;

    // Discovery sessions: CHAP required when set.
    virtual std::optional<config::ChapCredentials> discovery_chap(const std::string& initiator_name) = 0;

    // The CHAP secret of a user, or nothing. Compared in constant time by the caller.
    virtual std::optional<std::string> chap_secret(const std::string& user) = 0;
    virtual config::Security security() = 0;

    // Checked on the first Login Request of a connection; nothing changes yet.
    virtual Admission check_admission(const LoginIdentity& identity) = 0;
    // Called once, when the final Login Response is about to be sent; the
    // registry records the session/connection (assigning the TSIH for a new
    // session) and returns the decision. A later failure (hand-off refused)
    // is reported through abandon().
    virtual Admission admit(const LoginIdentity& identity, const ConnectionEndpoints& endpoints) = 0;
    virtual void abandon(const LoginIdentity& identity, const Admission& admission) = 0;

    // SendTargets=All (target_name empty) or SendTargets=<name>: the targets
    // this initiator may log in to, with every portal of each portal group.
    virtual std::vector<SendTargetsEntry> send_targets(const std::string& initiator_name,
                                                       const ConnectionEndpoints& endpoints,
                                                       const std::string& target_name) = 0;

    // Appended by the protocol library: whether this initiator may open a
    // Discovery session here (config::Discovery::enabled). Refused with
    // 0x0209 otherwise. Defaults to yes so implementations need not change.
    virtual bool discovery_allowed(const std::string& initiator_name, const ConnectionEndpoints& endpoints) {
        (void)initiator_name;
        (void)endpoints;
        return true;
    }
};

}  // namespace iscsi
