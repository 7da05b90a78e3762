// The session registry: who is logged in where (RFC 7143 s.4.4, s.6.3).
//
// A session is identified by SSID = (ISID, TPGT) together with the
// InitiatorName and the TargetName; the target assigns it a TSIH (non-zero,
// unique within the target portal group, never reused while the session
// lives). Connections are identified by CID within their session.
//
// The registry decides admissions (leading login, session reinstatement,
// MC/S join, connection reinstatement and the refusals), records sessions
// from admission until the data path reports them down, and can be rebuilt
// from the kernel's session list after a daemon restart so that TSIHs stay
// unique. It is single-threaded: it lives on the daemon's event loop.
//
// Lifecycle of a Normal login, as the daemon drives it:
//   check(identity)                 first Login Request: nothing changes yet
//   admit(identity, endpoints)      final Login Response about to go out:
//                                   the session/connection is recorded (and
//                                   an old one it reinstates is terminated
//                                   through Hooks first)
//   attach(...)                     the kernel accepted the socket
//   abandon(identity, admission)    or it refused it: undo admit()
//   on_session_down / on_connection_down   kernel events
// Discovery sessions (empty target name) are recorded the same way and are
// removed with close_discovery() when their connection closes.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "data_path.h"
#include "iscsi/login_policy.h"

namespace iscsi::sessions {

struct ConnectionRecord {
    uint16_t cid = 0;
    std::string peer_address;
    uint16_t peer_port = 0;
    std::string local_address;
    uint16_t local_port = 0;
    uint64_t kernel_handle = 0;  // 0 until handed off
    uint64_t start_time_ns = 0;  // CLOCK_REALTIME
};

struct SessionRecord {
    std::string target_name;  // empty: a Discovery session
    uint16_t tpgt = 0;
    uint16_t tsih = 0;
    Isid isid{};
    std::string initiator_name;
    std::string initiator_alias;
    std::string chap_user;
    uint64_t kernel_handle = 0;     // 0 until handed off
    uint32_t max_connections = 1;   // negotiated (or the target's offer until known)
    kmod::NegotiatedParameters negotiated;
    bool restored = false;  // rebuilt from the kernel's list after a restart
    uint64_t start_time_ns = 0;
    std::vector<ConnectionRecord> connections;

    bool discovery() const { return target_name.empty(); }
};

// Limits that come from the configuration, passed with each admission.
struct AdmissionLimits {
    uint32_t max_connections = 1;      // the target's MaxConnections
    uint32_t target_max_sessions = 0;  // 0: unlimited
    uint32_t global_max_sessions = 0;  // 0: unlimited (Normal sessions of all targets)
};

enum class ChangeKind { SessionAdded, SessionRemoved, ConnectionAdded, ConnectionRemoved, SessionUpdated };
const char* to_string(ChangeKind kind);

struct Change {
    ChangeKind kind = ChangeKind::SessionAdded;
    std::string target_name;
    uint16_t tpgt = 0;
    uint16_t tsih = 0;
    uint16_t cid = 0;  // connection changes
};

struct Hooks {
    // Ask the data path to end a session or connection that is being
    // reinstated or terminated by an administrator. Called before the
    // registry forgets it. Unset: nothing to ask (no data path).
    std::function<void(const SessionRecord&)> terminate_session;
    std::function<void(const SessionRecord&, const ConnectionRecord&)> terminate_connection;
    // Told after every change (for D-Bus signals). Unset: nobody listens.
    std::function<void(const Change&)> changed;
};

class Registry {
public:
    explicit Registry(Hooks hooks = {});

    void set_hooks(Hooks hooks) { hooks_ = std::move(hooks); }

    // The decision for a login identity without changing anything. For a
    // leading login the TSIH in the answer is 0 (assigned at admit()).
    Admission check(const LoginIdentity& identity, const AdmissionLimits& limits) const;

    // Decides again (state may have changed during the login) and records.
    Admission admit(const LoginIdentity& identity, const ConnectionEndpoints& endpoints,
                    const AdmissionLimits& limits);

    // Undoes admit() for a login that did not complete (hand-off refused).
    void abandon(const LoginIdentity& identity, const Admission& admission);

    // The kernel took the connection over.
    struct Attachment {
        uint64_t session_handle = 0;
        uint64_t connection_handle = 0;
        kmod::NegotiatedParameters negotiated;
        std::string initiator_alias;
        std::string chap_user;
    };
    void attach(const std::string& target_name, uint16_t tpgt, uint16_t tsih, uint16_t cid,
                const Attachment& attachment);

    // A Discovery session's connection closed.
    void close_discovery(uint16_t tpgt, uint16_t tsih);

    // Kernel events. A handle of 0 falls back to the TSIH.
    void on_session_down(const kmod::DataPathEvent& event);
    void on_connection_down(const kmod::DataPathEvent& event);

    // After a restart: adopt the kernel's live sessions (drops everything
    // recorded before). TSIH allocation continues after the highest one.
    void restore(const std::vector<kmod::KernelSession>& sessions);

    // After kernel events were lost: every handed-off session or connection
    // the kernel no longer has is removed, as its event would have done.
    // Logins in progress (not handed off) are left alone. Returns how many
    // sessions and connections were removed.
    struct Reconciled {
        std::size_t sessions = 0;
        std::size_t connections = 0;
    };
    Reconciled reconcile(const std::vector<kmod::KernelSession>& kernel_sessions);

    // Administrative termination; false when there is no such session/connection.
    bool terminate_session(const std::string& target_name, uint16_t tpgt, uint16_t tsih);
    bool terminate_connection(const std::string& target_name, uint16_t tpgt, uint16_t tsih, uint16_t cid);

    // Snapshots (copies), for D-Bus and logs.
    std::vector<SessionRecord> sessions() const;
    std::optional<SessionRecord> find(const std::string& target_name, uint16_t tpgt, uint16_t tsih) const;
    std::size_t normal_session_count() const;
    std::size_t session_count(const std::string& target_name) const;

private:
    struct Key {
        std::string target_name;
        uint16_t tpgt = 0;
        uint16_t tsih = 0;
        auto operator<=>(const Key&) const = default;
    };
    using Sessions = std::map<Key, SessionRecord>;

    Sessions::const_iterator find_ssid(const LoginIdentity& identity) const;
    std::optional<uint16_t> allocate_tsih(const std::string& target_name, uint16_t tpgt);
    Admission decide(const LoginIdentity& identity, const AdmissionLimits& limits) const;
    void erase(Sessions::iterator it);
    void notify(ChangeKind kind, const Key& key, uint16_t cid = 0);

    Hooks hooks_;
    Sessions sessions_;
    // The next TSIH to try per portal group (target, tpgt): allocation rolls
    // forward so that a TSIH just freed is not handed out again at once.
    std::map<std::pair<std::string, uint16_t>, uint16_t> next_tsih_;
    // Connections terminated by reinstatement whose ConnectionDown event is
    // still to come: that event must not remove their successor.
    std::map<std::pair<Key, uint16_t>, unsigned> expected_connection_downs_;
};

}  // namespace iscsi::sessions
