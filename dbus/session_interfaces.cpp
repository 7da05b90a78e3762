// Session and Connection objects, and the session dictionary of
// Manager.ListSessions. One table of fields per kind serves both: a property
// is the same value as the dictionary entry of the same name.
#include <arpa/inet.h>
#include <cstdio>
#include <cstring>

#include "dbus/bus_errors.h"
#include "dbus/bus_service.h"

namespace iscsi::dbus {
namespace {

using control::ErrorKind;
using kmod::KernelConnection;
using kmod::KernelSession;

BusService& service_of(void* userdata) {
    return *static_cast<BusService*>(userdata);
}

const char* session_state(kmod::SessionState state) {
    switch (state) {
    case kmod::SessionState::Active: return "active";
    case kmod::SessionState::LogoutRequested: return "logout-requested";
    case kmod::SessionState::Closing: return "closing";
    }
    return "unknown";
}

const char* connection_state(kmod::ConnectionState state) {
    switch (state) {
    case kmod::ConnectionState::FullFeature: return "full-feature";
    case kmod::ConnectionState::LoggedOut: return "logged-out";
    case kmod::ConnectionState::Closing: return "closing";
    }
    return "unknown";
}

const char* digest(kmod::Digest value) {
    return value == kmod::Digest::Crc32c ? "CRC32C" : "None";
}

// RFC 7143 s.6.1 hex-constant form: 0x and 12 hex digits.
std::string isid_text(const kmod::Isid& isid) {
    char text[15];
    std::snprintf(text, sizeof text, "0x%02x%02x%02x%02x%02x%02x", isid[0], isid[1], isid[2], isid[3], isid[4], isid[5]);
    return text;
}

std::string address_text(const kmod::SocketAddress& address) {
    char text[INET6_ADDRSTRLEN] = "";
    if (address.storage.ss_family == AF_INET)
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(address.storage).sin_addr, text, sizeof text);
    else if (address.storage.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(address.storage).sin6_addr, text, sizeof text);
    return text;
}

uint16_t port_of(const kmod::SocketAddress& address) {
    if (address.storage.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(address.storage).sin_port);
    if (address.storage.ss_family == AF_INET6)
        return ntohs(reinterpret_cast<const sockaddr_in6&>(address.storage).sin6_port);
    return 0;
}

template <typename Entity>
struct Field {
    const char* name;
    const char* signature;
    int (*append)(sd_bus_message*, const Entity&);
};

#define STR(expr) [](sd_bus_message* m, const auto& e) -> int { (void)e; return sd_bus_message_append(m, "s", std::string(expr).c_str()); }
#define NUM(sig, type, expr) [](sd_bus_message* m, const auto& e) -> int { return sd_bus_message_append(m, sig, static_cast<type>(expr)); }
#define BOOL(expr) [](sd_bus_message* m, const auto& e) -> int { return sd_bus_message_append(m, "b", static_cast<int>(expr)); }

const Field<KernelSession> kSessionFields[] = {
    {"InitiatorName", "s", STR(e.initiator_name)},
    {"InitiatorAlias", "s", STR(e.initiator_alias)},
    {"Isid", "s", STR(isid_text(e.isid))},
    {"Tsih", "q", NUM("q", uint16_t, e.tsih)},
    {"TargetName", "s", STR(e.target_name)},
    {"Tpgt", "q", NUM("q", uint16_t, e.tpgt)},
    // Only Normal sessions reach the kernel; discovery sessions end in login.
    {"SessionType", "s", STR("Normal")},
    {"ChapUser", "s", STR(e.chap_user)},
    {"State", "s", STR(session_state(e.state))},
    {"ExpCmdSN", "u", NUM("u", uint32_t, e.exp_cmd_sn)},
    {"MaxCmdSN", "u", NUM("u", uint32_t, e.max_cmd_sn)},
    {"MaxBurstLength", "u", NUM("u", uint32_t, e.negotiated.max_burst_length)},
    {"FirstBurstLength", "u", NUM("u", uint32_t, e.negotiated.first_burst_length)},
    {"InitialR2T", "b", BOOL(e.negotiated.initial_r2t)},
    {"ImmediateData", "b", BOOL(e.negotiated.immediate_data)},
    {"MaxOutstandingR2T", "u", NUM("u", uint32_t, e.negotiated.max_outstanding_r2t)},
    {"DataPDUInOrder", "b", BOOL(e.negotiated.data_pdu_in_order)},
    {"DataSequenceInOrder", "b", BOOL(e.negotiated.data_sequence_in_order)},
    {"ErrorRecoveryLevel", "y", NUM("y", uint8_t, e.negotiated.error_recovery_level)},
    {"DefaultTime2Wait", "u", NUM("u", uint32_t, e.negotiated.default_time2wait)},
    {"DefaultTime2Retain", "u", NUM("u", uint32_t, e.negotiated.default_time2retain)},
    {"MaxConnections", "u", NUM("u", uint32_t, e.negotiated.max_connections)},
    {"Commands", "t", NUM("t", uint64_t, e.counters.commands)},
    {"ReadBytes", "t", NUM("t", uint64_t, e.counters.read_bytes)},
    {"WriteBytes", "t", NUM("t", uint64_t, e.counters.write_bytes)},
    {"Errors", "t", NUM("t", uint64_t, e.counters.errors)},
    {"InFlight", "u", NUM("u", uint32_t, e.counters.in_flight)},
    {"DigestErrors", "t", NUM("t", uint64_t, e.counters.digest_errors)},
    {"Rejects", "t", NUM("t", uint64_t, e.counters.rejects)},
    // Microseconds since the epoch, as systemd's timestamps.
    {"StartTime", "t", NUM("t", uint64_t, e.start_time_ns / 1000)},
};

const Field<KernelConnection> kConnectionFields[] = {
    {"Cid", "q", NUM("q", uint16_t, e.cid)},
    {"PeerAddress", "s", STR(address_text(e.peer))},
    {"PeerPort", "q", NUM("q", uint16_t, port_of(e.peer))},
    {"LocalAddress", "s", STR(address_text(e.local))},
    {"LocalPort", "q", NUM("q", uint16_t, port_of(e.local))},
    {"State", "s", STR(connection_state(e.state))},
    {"HeaderDigest", "s", STR(digest(e.header_digest))},
    {"DataDigest", "s", STR(digest(e.data_digest))},
    {"MaxRecvDataSegmentLength", "u", NUM("u", uint32_t, e.max_recv_data_segment_length)},
    {"MaxXmitDataSegmentLength", "u", NUM("u", uint32_t, e.max_xmit_data_segment_length)},
    {"StatSN", "u", NUM("u", uint32_t, e.stat_sn)},
    {"Commands", "t", NUM("t", uint64_t, e.counters.commands)},
    {"ReadBytes", "t", NUM("t", uint64_t, e.counters.read_bytes)},
    {"WriteBytes", "t", NUM("t", uint64_t, e.counters.write_bytes)},
    {"Errors", "t", NUM("t", uint64_t, e.counters.errors)},
    {"DigestErrors", "t", NUM("t", uint64_t, e.counters.digest_errors)},
};

#undef STR
#undef NUM
#undef BOOL

template <typename Entity, size_t N>
int append_field(sd_bus_message* m, const Field<Entity> (&fields)[N], const char* name, const Entity& entity) {
    for (const auto& field : fields)
        if (std::strcmp(field.name, name) == 0) return field.append(m, entity);
    return -ENOENT;
}

template <typename Entity, size_t N>
int append_dict_entries(sd_bus_message* m, const Field<Entity> (&fields)[N], const Entity& entity) {
    int r = 0;
    for (const auto& field : fields) {
        if ((r = sd_bus_message_open_container(m, 'e', "sv")) < 0) return r;
        if ((r = sd_bus_message_append(m, "s", field.name)) < 0) return r;
        if ((r = sd_bus_message_open_container(m, 'v', field.signature)) < 0) return r;
        if ((r = field.append(m, entity)) < 0) return r;
        if ((r = sd_bus_message_close_container(m)) < 0) return r;
        if ((r = sd_bus_message_close_container(m)) < 0) return r;
    }
    return r;
}

int append_path_entry(sd_bus_message* m, const std::string& path) {
    return sd_bus_message_append(m, "{sv}", "Path", "o", path.c_str());
}

int get_session(sd_bus*, const char* path, const char*, const char* property, sd_bus_message* reply, void* userdata,
                sd_bus_error* error) {
    auto id = parse_object_path(path);
    const KernelSession* session = id ? service_of(userdata).find_session(*id) : nullptr;
    if (!session) return set_error(error, ErrorKind::NotFound, std::string("session ") + path + " has ended");
    if (std::strcmp(property, "Connections") == 0) {
        int r = sd_bus_message_open_container(reply, 'a', "o");
        for (const auto& connection : session->connections)
            if (r >= 0)
                r = sd_bus_message_append(
                    reply, "o", object_path(connection_id(session->target_name, session->tpgt, session->tsih, connection.cid)).c_str());
        return r < 0 ? r : sd_bus_message_close_container(reply);
    }
    return append_field(reply, kSessionFields, property, *session);
}

const KernelConnection* find_connection(BusService& service, const char* path, const KernelSession** session_out) {
    auto id = parse_object_path(path);
    if (!id) return nullptr;
    const KernelSession* session = service.find_session(session_id(id->target, id->tpgt, static_cast<uint16_t>(id->number)));
    if (!session) return nullptr;
    *session_out = session;
    for (const auto& connection : session->connections)
        if (connection.cid == id->cid) return &connection;
    return nullptr;
}

int get_connection(sd_bus*, const char* path, const char*, const char* property, sd_bus_message* reply, void* userdata,
                   sd_bus_error* error) {
    const KernelSession* session = nullptr;
    const KernelConnection* connection = find_connection(service_of(userdata), path, &session);
    if (!connection) return set_error(error, ErrorKind::NotFound, std::string("connection ") + path + " has ended");
    if (std::strcmp(property, "Session") == 0)
        return sd_bus_message_append(reply, "o",
                                     object_path(session_id(session->target_name, session->tpgt, session->tsih)).c_str());
    return append_field(reply, kConnectionFields, property, *connection);
}

template <typename Action>
int session_action(sd_bus_message* m, void* userdata, sd_bus_error* error, Action&& action) {
    auto& service = service_of(userdata);
    if (auto allowed = service.authorizer().may_change(m); !allowed) return set_error(error, allowed.error());
    auto id = parse_object_path(sd_bus_message_get_path(m));
    if (!id) return set_error(error, ErrorKind::NotFound, "no such session");
    control::SessionId session{id->target, id->tpgt, static_cast<uint16_t>(id->number)};
    control::Result<void> done = action(service.control().sessions(), session, id->cid);
    if (!done) return set_error(error, done.error());
    service.sessions_changed();
    return sd_bus_reply_method_return(m, "");
}

int session_logout(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    return session_action(m, userdata, error,
                          [](control::SessionSource& s, const control::SessionId& id, uint16_t) { return s.logout(id); });
}

int session_terminate(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    return session_action(m, userdata, error,
                          [](control::SessionSource& s, const control::SessionId& id, uint16_t) { return s.terminate(id); });
}

int connection_terminate(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    return session_action(m, userdata, error, [](control::SessionSource& s, const control::SessionId& id, uint16_t cid) {
        return s.terminate_connection(id, cid);
    });
}

// Identity never changes; State does and is announced; counters change with
// every command and are read on demand, never signalled.
constexpr uint64_t kConst = SD_BUS_VTABLE_PROPERTY_CONST;
constexpr uint64_t kChanges = SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE;
constexpr uint64_t kVolatile = 0;

const sd_bus_vtable kSessionVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("InitiatorName", "s", get_session, 0, kConst),
    SD_BUS_PROPERTY("InitiatorAlias", "s", get_session, 0, kConst),
    SD_BUS_PROPERTY("Isid", "s", get_session, 0, kConst),
    SD_BUS_PROPERTY("Tsih", "q", get_session, 0, kConst),
    SD_BUS_PROPERTY("TargetName", "s", get_session, 0, kConst),
    SD_BUS_PROPERTY("Tpgt", "q", get_session, 0, kConst),
    SD_BUS_PROPERTY("SessionType", "s", get_session, 0, kConst),
    SD_BUS_PROPERTY("ChapUser", "s", get_session, 0, kConst),
    SD_BUS_PROPERTY("State", "s", get_session, 0, kChanges),
    SD_BUS_PROPERTY("ExpCmdSN", "u", get_session, 0, kVolatile),
    SD_BUS_PROPERTY("MaxCmdSN", "u", get_session, 0, kVolatile),
    SD_BUS_PROPERTY("MaxBurstLength", "u", get_session, 0, kConst),
    SD_BUS_PROPERTY("FirstBurstLength", "u", get_session, 0, kConst),
    SD_BUS_PROPERTY("InitialR2T", "b", get_session, 0, kConst),
    SD_BUS_PROPERTY("ImmediateData", "b", get_session, 0, kConst),
    SD_BUS_PROPERTY("MaxOutstandingR2T", "u", get_session, 0, kConst),
    SD_BUS_PROPERTY("DataPDUInOrder", "b", get_session, 0, kConst),
    SD_BUS_PROPERTY("DataSequenceInOrder", "b", get_session, 0, kConst),
    SD_BUS_PROPERTY("ErrorRecoveryLevel", "y", get_session, 0, kConst),
    SD_BUS_PROPERTY("DefaultTime2Wait", "u", get_session, 0, kConst),
    SD_BUS_PROPERTY("DefaultTime2Retain", "u", get_session, 0, kConst),
    SD_BUS_PROPERTY("MaxConnections", "u", get_session, 0, kConst),
    SD_BUS_PROPERTY("Commands", "t", get_session, 0, kVolatile),
    SD_BUS_PROPERTY("ReadBytes", "t", get_session, 0, kVolatile),
    SD_BUS_PROPERTY("WriteBytes", "t", get_session, 0, kVolatile),
    SD_BUS_PROPERTY("Errors", "t", get_session, 0, kVolatile),
    SD_BUS_PROPERTY("InFlight", "u", get_session, 0, kVolatile),
    SD_BUS_PROPERTY("DigestErrors", "t", get_session, 0, kVolatile),
    SD_BUS_PROPERTY("Rejects", "t", get_session, 0, kVolatile),
    SD_BUS_PROPERTY("StartTime", "t", get_session, 0, kConst),
    SD_BUS_PROPERTY("Connections", "ao", get_session, 0, kChanges),
    SD_BUS_METHOD_WITH_ARGS("Logout", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, session_logout, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("Terminate", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, session_terminate, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};

const sd_bus_vtable kConnectionVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Session", "o", get_connection, 0, kConst),
    SD_BUS_PROPERTY("Cid", "q", get_connection, 0, kConst),
    SD_BUS_PROPERTY("PeerAddress", "s", get_connection, 0, kConst),
    SD_BUS_PROPERTY("PeerPort", "q", get_connection, 0, kConst),
    SD_BUS_PROPERTY("LocalAddress", "s", get_connection, 0, kConst),
    SD_BUS_PROPERTY("LocalPort", "q", get_connection, 0, kConst),
    SD_BUS_PROPERTY("State", "s", get_connection, 0, kChanges),
    SD_BUS_PROPERTY("HeaderDigest", "s", get_connection, 0, kConst),
    SD_BUS_PROPERTY("DataDigest", "s", get_connection, 0, kConst),
    SD_BUS_PROPERTY("MaxRecvDataSegmentLength", "u", get_connection, 0, kConst),
    SD_BUS_PROPERTY("MaxXmitDataSegmentLength", "u", get_connection, 0, kConst),
    SD_BUS_PROPERTY("StatSN", "u", get_connection, 0, kVolatile),
    SD_BUS_PROPERTY("Commands", "t", get_connection, 0, kVolatile),
    SD_BUS_PROPERTY("ReadBytes", "t", get_connection, 0, kVolatile),
    SD_BUS_PROPERTY("WriteBytes", "t", get_connection, 0, kVolatile),
    SD_BUS_PROPERTY("Errors", "t", get_connection, 0, kVolatile),
    SD_BUS_PROPERTY("DigestErrors", "t", get_connection, 0, kVolatile),
    SD_BUS_METHOD_WITH_ARGS("Terminate", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, connection_terminate, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};

}  // namespace

int append_session_dict(sd_bus_message* reply, const KernelSession& session) {
    int r = sd_bus_message_open_container(reply, 'a', "{sv}");
    if (r < 0) return r;
    if ((r = append_path_entry(reply, object_path(session_id(session.target_name, session.tpgt, session.tsih)))) < 0) return r;
    if ((r = append_dict_entries(reply, kSessionFields, session)) < 0) return r;
    if ((r = sd_bus_message_open_container(reply, 'e', "sv")) < 0) return r;
    if ((r = sd_bus_message_append(reply, "s", "Connections")) < 0) return r;
    if ((r = sd_bus_message_open_container(reply, 'v', "aa{sv}")) < 0) return r;
    if ((r = sd_bus_message_open_container(reply, 'a', "a{sv}")) < 0) return r;
    for (const auto& connection : session.connections) {
        if ((r = sd_bus_message_open_container(reply, 'a', "{sv}")) < 0) return r;
        auto path = object_path(connection_id(session.target_name, session.tpgt, session.tsih, connection.cid));
        if ((r = append_path_entry(reply, path)) < 0) return r;
        if ((r = append_dict_entries(reply, kConnectionFields, connection)) < 0) return r;
        if ((r = sd_bus_message_close_container(reply)) < 0) return r;
    }
    for (int i = 0; i < 3; ++i)
        if ((r = sd_bus_message_close_container(reply)) < 0) return r;
    return sd_bus_message_close_container(reply);
}

const sd_bus_vtable* session_vtable() { return kSessionVtable; }
const sd_bus_vtable* connection_vtable() { return kConnectionVtable; }

}  // namespace iscsi::dbus
