#include "sessions/registry.h"

#include <arpa/inet.h>
#include <time.h>

#include <algorithm>
#include <unordered_map>

namespace iscsi::sessions {
namespace {

uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

ConnectionRecord make_connection(uint16_t cid, const ConnectionEndpoints& endpoints) {
    ConnectionRecord c;
    c.cid = cid;
    c.peer_address = endpoints.peer_address;
    c.peer_port = endpoints.peer_port;
    c.local_address = endpoints.local_address;
    c.local_port = endpoints.local_port;
    c.start_time_ns = now_ns();
    return c;
}

Admission refuse(Admission::Verdict verdict, std::string reason) {
    Admission a;
    a.verdict = verdict;
    a.reason = std::move(reason);
    return a;
}

std::string address_of(const kmod::SocketAddress& address, uint16_t& port) {
    char text[64] = "";
    port = 0;
    if (address.storage.ss_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(&address.storage);
        inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
        port = ntohs(in->sin_port);
    } else if (address.storage.ss_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&address.storage);
        inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
        port = ntohs(in6->sin6_port);
    }
    return text;
}

}  // namespace

const char* to_string(ChangeKind kind) {
    switch (kind) {
        case ChangeKind::SessionAdded: return "session added";
        case ChangeKind::SessionRemoved: return "session removed";
        case ChangeKind::ConnectionAdded: return "connection added";
        case ChangeKind::ConnectionRemoved: return "connection removed";
        case ChangeKind::SessionUpdated: return "session updated";
    }
    return "unknown change";
}

Registry::Registry(Hooks hooks) : hooks_(std::move(hooks)) {}

void Registry::notify(ChangeKind kind, const Key& key, uint16_t cid) {
    if (hooks_.changed) hooks_.changed(Change{kind, key.target_name, key.tpgt, key.tsih, cid});
}

Registry::Sessions::const_iterator Registry::find_ssid(const LoginIdentity& identity) const {
    // RFC 7143 s.4.4.3: the I_T nexus is (InitiatorName, ISID, TargetName, TPGT).
    return std::find_if(sessions_.begin(), sessions_.end(), [&](const auto& entry) {
        const SessionRecord& s = entry.second;
        return s.tpgt == identity.tpgt && s.isid == identity.isid && s.initiator_name == identity.initiator_name &&
               s.target_name == identity.target_name;
    });
}

std::size_t Registry::normal_session_count() const {
    return static_cast<std::size_t>(std::count_if(sessions_.begin(), sessions_.end(),
                                                  [](const auto& e) { return !e.second.discovery(); }));
}

std::size_t Registry::session_count(const std::string& target_name) const {
    return static_cast<std::size_t>(std::count_if(
        sessions_.begin(), sessions_.end(), [&](const auto& e) { return e.second.target_name == target_name; }));
}

Admission Registry::decide(const LoginIdentity& identity, const AdmissionLimits& limits) const {
    if (identity.tsih == 0) {
        // Leading login (RFC 7143 s.6.3). A live session with the same
        // identity is reinstated: the new one replaces it (s.6.3.5).
        if (find_ssid(identity) != sessions_.end()) {
            Admission a;
            a.verdict = Admission::Verdict::ReinstateSession;
            a.reason = "session reinstatement: the live session with this ISID is closed first";
            return a;
        }
        bool normal = !identity.target_name.empty();
        if (normal && limits.target_max_sessions && session_count(identity.target_name) >= limits.target_max_sessions)
            return refuse(Admission::Verdict::TooManySessions,
                          "target " + identity.target_name + " already has its maximum of " +
                              std::to_string(limits.target_max_sessions) + " sessions");
        if (normal && limits.global_max_sessions && normal_session_count() >= limits.global_max_sessions)
            return refuse(Admission::Verdict::TooManySessions,
                          "the daemon already has its maximum of " + std::to_string(limits.global_max_sessions) +
                              " sessions");
        Admission a;
        a.verdict = Admission::Verdict::NewSession;
        return a;
    }

    // A non-zero TSIH adds a connection to an existing session (s.6.3.2).
    auto it = sessions_.find(Key{identity.target_name, identity.tpgt, identity.tsih});
    if (it == sessions_.end())
        return refuse(Admission::Verdict::SessionDoesNotExist,
                      "no session with TSIH " + std::to_string(identity.tsih) + " in this portal group");
    const SessionRecord& session = it->second;
    if (session.initiator_name != identity.initiator_name || session.isid != identity.isid)
        return refuse(Admission::Verdict::InitiatorMismatch,
                      "TSIH " + std::to_string(identity.tsih) + " belongs to another initiator or ISID");
    Admission a;
    a.tsih = identity.tsih;
    bool cid_live = std::any_of(session.connections.begin(), session.connections.end(),
                                [&](const ConnectionRecord& c) { return c.cid == identity.cid; });
    if (cid_live) {
        // Connection reinstatement (s.6.3.4): the old connection is logged out.
        a.verdict = Admission::Verdict::ReinstateConnection;
        a.reason = "connection reinstatement: CID " + std::to_string(identity.cid) + " is closed first";
        return a;
    }
    uint32_t allowed = std::max<uint32_t>(1, std::min(session.max_connections, limits.max_connections));
    if (session.connections.size() >= allowed)
        return refuse(Admission::Verdict::TooManyConnections,
                      "the session already has its " + std::to_string(allowed) + " connection(s) (MaxConnections)");
    a.verdict = Admission::Verdict::AddConnection;
    return a;
}

Admission Registry::check(const LoginIdentity& identity, const AdmissionLimits& limits) const {
    return decide(identity, limits);
}

std::optional<uint16_t> Registry::allocate_tsih(const std::string& target_name, uint16_t tpgt) {
    uint16_t& next = next_tsih_[{target_name, tpgt}];
    for (uint32_t tries = 0; tries < 65535; ++tries) {
        uint16_t candidate = next == 0 ? 1 : next;
        next = static_cast<uint16_t>(candidate == 65535 ? 1 : candidate + 1);
        if (!sessions_.count(Key{target_name, tpgt, candidate})) return candidate;
    }
    return std::nullopt;
}

Admission Registry::admit(const LoginIdentity& identity, const ConnectionEndpoints& endpoints,
                          const AdmissionLimits& limits) {
    Admission a = decide(identity, limits);
    switch (a.verdict) {
        case Admission::Verdict::ReinstateSession: {
            auto old = sessions_.find(find_ssid(identity)->first);
            SessionRecord previous = old->second;
            if (hooks_.terminate_session) hooks_.terminate_session(previous);
            erase(old);
            [[fallthrough]];
        }
        case Admission::Verdict::NewSession: {
            auto tsih = allocate_tsih(identity.target_name, identity.tpgt);
            if (!tsih) return refuse(Admission::Verdict::TooManySessions, "every TSIH of this portal group is in use");
            a.tsih = *tsih;
            Key key{identity.target_name, identity.tpgt, *tsih};
            SessionRecord& s = sessions_[key];
            s.target_name = identity.target_name;
            s.tpgt = identity.tpgt;
            s.tsih = *tsih;
            s.isid = identity.isid;
            s.initiator_name = identity.initiator_name;
            s.max_connections = std::max<uint32_t>(1, limits.max_connections);
            s.start_time_ns = now_ns();
            s.connections.push_back(make_connection(identity.cid, endpoints));
            notify(ChangeKind::SessionAdded, key);
            notify(ChangeKind::ConnectionAdded, key, identity.cid);
            return a;
        }
        case Admission::Verdict::ReinstateConnection: {
            Key key{identity.target_name, identity.tpgt, identity.tsih};
            SessionRecord& s = sessions_.at(key);
            auto c = std::find_if(s.connections.begin(), s.connections.end(),
                                  [&](const ConnectionRecord& r) { return r.cid == identity.cid; });
            if (hooks_.terminate_connection) {
                hooks_.terminate_connection(s, *c);
                if (c->kernel_handle) ++expected_connection_downs_[{key, identity.cid}];
            }
            *c = make_connection(identity.cid, endpoints);
            notify(ChangeKind::ConnectionRemoved, key, identity.cid);
            notify(ChangeKind::ConnectionAdded, key, identity.cid);
            return a;
        }
        case Admission::Verdict::AddConnection: {
            Key key{identity.target_name, identity.tpgt, identity.tsih};
            sessions_.at(key).connections.push_back(make_connection(identity.cid, endpoints));
            notify(ChangeKind::ConnectionAdded, key, identity.cid);
            return a;
        }
        default:
            return a;
    }
}

void Registry::erase(Sessions::iterator it) {
    Key key = it->first;
    for (auto e = expected_connection_downs_.begin(); e != expected_connection_downs_.end();)
        e = e->first.first == key ? expected_connection_downs_.erase(e) : std::next(e);
    sessions_.erase(it);
    notify(ChangeKind::SessionRemoved, key);
}

void Registry::abandon(const LoginIdentity& identity, const Admission& admission) {
    Key key{identity.target_name, identity.tpgt, admission.tsih};
    auto it = sessions_.find(key);
    if (it == sessions_.end()) return;
    switch (admission.verdict) {
        case Admission::Verdict::NewSession:
        case Admission::Verdict::ReinstateSession:
            erase(it);
            return;
        case Admission::Verdict::AddConnection:
        case Admission::Verdict::ReinstateConnection: {
            auto& connections = it->second.connections;
            auto c = std::find_if(connections.begin(), connections.end(),
                                  [&](const ConnectionRecord& r) { return r.cid == identity.cid && !r.kernel_handle; });
            if (c == connections.end()) return;
            connections.erase(c);
            notify(ChangeKind::ConnectionRemoved, key, identity.cid);
            // A session the kernel never had ends with its last connection.
            if (connections.empty() && !it->second.kernel_handle) erase(it);
            return;
        }
        default:
            return;
    }
}

void Registry::attach(const std::string& target_name, uint16_t tpgt, uint16_t tsih, uint16_t cid,
                      const Attachment& attachment) {
    Key key{target_name, tpgt, tsih};
    auto it = sessions_.find(key);
    if (it == sessions_.end()) return;
    SessionRecord& s = it->second;
    s.kernel_handle = attachment.session_handle;
    s.negotiated = attachment.negotiated;
    s.max_connections = attachment.negotiated.max_connections;
    if (!attachment.initiator_alias.empty()) s.initiator_alias = attachment.initiator_alias;
    if (!attachment.chap_user.empty()) s.chap_user = attachment.chap_user;
    for (auto& c : s.connections)
        if (c.cid == cid) c.kernel_handle = attachment.connection_handle;
    notify(ChangeKind::SessionUpdated, key);
}

void Registry::close_discovery(uint16_t tpgt, uint16_t tsih) {
    auto it = sessions_.find(Key{"", tpgt, tsih});
    if (it != sessions_.end()) erase(it);
}

void Registry::on_session_down(const kmod::DataPathEvent& event) {
    auto it = std::find_if(sessions_.begin(), sessions_.end(), [&](const auto& e) {
        if (event.session_handle) return e.second.kernel_handle == event.session_handle;
        return e.first == Key{event.target_name, event.tpgt, event.tsih};
    });
    if (it != sessions_.end()) erase(it);
}

void Registry::on_connection_down(const kmod::DataPathEvent& event) {
    auto it = std::find_if(sessions_.begin(), sessions_.end(), [&](const auto& e) {
        if (event.session_handle) return e.second.kernel_handle == event.session_handle;
        return e.first == Key{event.target_name, event.tpgt, event.tsih};
    });
    if (it == sessions_.end()) return;
    auto expected = expected_connection_downs_.find({it->first, event.cid});
    if (expected != expected_connection_downs_.end()) {
        // The old connection of a reinstatement: its successor stays.
        if (--expected->second == 0) expected_connection_downs_.erase(expected);
        return;
    }
    auto& connections = it->second.connections;
    auto c = std::find_if(connections.begin(), connections.end(),
                          [&](const ConnectionRecord& r) { return r.cid == event.cid; });
    if (c == connections.end()) return;
    connections.erase(c);
    notify(ChangeKind::ConnectionRemoved, it->first, event.cid);
}

void Registry::restore(const std::vector<kmod::KernelSession>& kernel_sessions) {
    while (!sessions_.empty()) erase(sessions_.begin());
    next_tsih_.clear();
    expected_connection_downs_.clear();
    for (const auto& k : kernel_sessions) {
        Key key{k.target_name, k.tpgt, k.tsih};
        SessionRecord& s = sessions_[key];
        s.target_name = k.target_name;
        s.tpgt = k.tpgt;
        s.tsih = k.tsih;
        s.isid = k.isid;
        s.initiator_name = k.initiator_name;
        s.initiator_alias = k.initiator_alias;
        s.chap_user = k.chap_user;
        s.kernel_handle = k.handle;
        s.negotiated = k.negotiated;
        s.max_connections = k.negotiated.max_connections;
        s.restored = true;
        s.start_time_ns = k.start_time_ns;
        for (const auto& kc : k.connections) {
            ConnectionRecord c;
            c.cid = kc.cid;
            c.kernel_handle = kc.handle;
            c.peer_address = address_of(kc.peer, c.peer_port);
            c.local_address = address_of(kc.local, c.local_port);
            s.connections.push_back(c);
        }
        uint16_t& next = next_tsih_[{k.target_name, k.tpgt}];
        if (k.tsih >= next) next = static_cast<uint16_t>(k.tsih == 65535 ? 1 : k.tsih + 1);
        notify(ChangeKind::SessionAdded, key);
    }
}

Registry::Reconciled Registry::reconcile(const std::vector<kmod::KernelSession>& kernel_sessions) {
    std::unordered_map<uint64_t, const kmod::KernelSession*> by_handle;
    for (const auto& k : kernel_sessions) by_handle.emplace(k.handle, &k);
    Reconciled removed;
    for (auto it = sessions_.begin(); it != sessions_.end();) {
        SessionRecord& s = it->second;
        auto next = std::next(it);
        if (s.kernel_handle == 0) {
            it = next;
            continue;
        }
        auto found = by_handle.find(s.kernel_handle);
        if (found == by_handle.end()) {
            erase(it);
            ++removed.sessions;
            it = next;
            continue;
        }
        const auto& live = found->second->connections;
        auto in_kernel = [&](uint64_t handle) {
            return std::any_of(live.begin(), live.end(), [&](const kmod::KernelConnection& k) { return k.handle == handle; });
        };
        for (auto c = s.connections.begin(); c != s.connections.end();) {
            if (c->kernel_handle == 0 || in_kernel(c->kernel_handle)) {
                ++c;
                continue;
            }
            uint16_t cid = c->cid;
            c = s.connections.erase(c);
            ++removed.connections;
            notify(ChangeKind::ConnectionRemoved, it->first, cid);
        }
        // A reinstated connection's ConnectionDown may have been among the
        // lost events: expect only the old connections the kernel still has
        // besides their successor, or the successor's own end would be
        // swallowed later.
        for (auto e = expected_connection_downs_.begin(); e != expected_connection_downs_.end();) {
            if (!(e->first.first == it->first)) {
                ++e;
                continue;
            }
            auto same_cid = static_cast<unsigned>(std::count_if(
                live.begin(), live.end(), [&](const kmod::KernelConnection& k) { return k.cid == e->first.second; }));
            unsigned still = same_cid > 0 ? same_cid - 1 : 0;
            if (still == 0) {
                e = expected_connection_downs_.erase(e);
            } else {
                e->second = std::min(e->second, still);
                ++e;
            }
        }
        it = next;
    }
    return removed;
}

bool Registry::terminate_session(const std::string& target_name, uint16_t tpgt, uint16_t tsih) {
    auto it = sessions_.find(Key{target_name, tpgt, tsih});
    if (it == sessions_.end()) return false;
    if (hooks_.terminate_session) hooks_.terminate_session(it->second);
    erase(it);
    return true;
}

bool Registry::terminate_connection(const std::string& target_name, uint16_t tpgt, uint16_t tsih, uint16_t cid) {
    Key key{target_name, tpgt, tsih};
    auto it = sessions_.find(key);
    if (it == sessions_.end()) return false;
    auto& connections = it->second.connections;
    auto c = std::find_if(connections.begin(), connections.end(), [&](const ConnectionRecord& r) { return r.cid == cid; });
    if (c == connections.end()) return false;
    if (hooks_.terminate_connection) hooks_.terminate_connection(it->second, *c);
    connections.erase(c);
    notify(ChangeKind::ConnectionRemoved, key, cid);
    return true;
}

std::vector<SessionRecord> Registry::sessions() const {
    std::vector<SessionRecord> out;
    out.reserve(sessions_.size());
    for (const auto& [key, s] : sessions_) out.push_back(s);
    return out;
}

std::optional<SessionRecord> Registry::find(const std::string& target_name, uint16_t tpgt, uint16_t tsih) const {
    auto it = sessions_.find(Key{target_name, tpgt, tsih});
    if (it == sessions_.end()) return std::nullopt;
    return it->second;
}

}  // namespace iscsi::sessions
