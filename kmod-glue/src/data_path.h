// The seam between the daemon and whatever runs the Full Feature Phase.
//
// The daemon logs a Normal session in and then calls DataPath::handoff() with
// the socket and everything negotiated (the handoff contract of DESIGN.md).
// The production implementation is KernelDataPath (kernel_data_path.h): generic
// netlink to iscsi_handoff.ko plus configfs. Unit and host integration tests use
// a test double; a product path never does. When no data path is available the
// daemon refuses Normal logins with status 0x0301 (Target Error / Service
// Unavailable, RFC 7143 s.11.13.5) and says why in the log.
#pragma once

#include <array>
#include <cerrno>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>

#include <tl/expected.hpp>

namespace iscsi::config {
struct Config;
}

namespace iscsi::kmod {

// An error a person can act on: the errno from the kernel (or 0) and a
// message, usually the kernel's extended-ack text.
struct Error {
    int code = 0;
    std::string message;
};

template <typename T>
using Result = tl::expected<T, Error>;

enum class Digest : uint8_t { None = 0, Crc32c = 1 };

// Values negotiated during login that the Full Feature Phase needs
// (RFC 7143 section 13). Defaults are the RFC's.
struct NegotiatedParameters {
    Digest header_digest = Digest::None;
    Digest data_digest = Digest::None;
    uint32_t max_recv_data_segment_length = 8192;  // the target's: what we accept
    uint32_t max_xmit_data_segment_length = 8192;  // the initiator's MaxRecvDataSegmentLength
    uint32_t max_burst_length = 262144;
    uint32_t first_burst_length = 65536;
    bool initial_r2t = true;
    bool immediate_data = true;
    uint32_t max_outstanding_r2t = 1;
    bool data_pdu_in_order = true;
    bool data_sequence_in_order = true;
    uint8_t error_recovery_level = 0;
    uint32_t default_time2wait = 2;
    uint32_t default_time2retain = 20;
    uint32_t max_connections = 1;
};

using Isid = std::array<uint8_t, 6>;

// A socket address, IPv4 or IPv6, as the kernel reports and accepts it.
struct SocketAddress {
    sockaddr_storage storage{};
    socklen_t length = 0;
};

// Everything the kernel needs to take over a logged-in connection.
struct HandoffRequest {
    int fd = -1;  // the established TCP socket; the daemon closes its copy after success
    std::string target_name;
    uint16_t tpgt = 0;
    std::string initiator_name;
    std::string initiator_alias;
    Isid isid{};
    uint16_t tsih = 0;  // non-zero; names an existing session when adding a connection (MC/S)
    uint16_t cid = 0;
    SocketAddress peer;
    SocketAddress local;
    uint32_t cmd_sn = 0;      // CmdSN of the last Login Request: the first FFP command carries it
    uint32_t stat_sn = 0;     // the next StatSN the target sends
    uint32_t exp_stat_sn = 0; // ExpStatSN of the last Login Request
    NegotiatedParameters negotiated;
    std::string chap_user;  // empty when no CHAP
};

struct HandoffResult {
    uint64_t session_handle = 0;
    uint64_t connection_handle = 0;
};

struct Counters {
    uint64_t commands = 0;
    uint64_t read_bytes = 0;
    uint64_t write_bytes = 0;
    uint64_t errors = 0;
    uint32_t in_flight = 0;
    uint64_t digest_errors = 0;
    uint64_t rejects = 0;
};

enum class SessionState : uint8_t { Active = 1, LogoutRequested = 2, Closing = 3 };
enum class ConnectionState : uint8_t { FullFeature = 1, LoggedOut = 2, Closing = 3 };

struct KernelConnection {
    uint16_t cid = 0;
    uint64_t handle = 0;
    SocketAddress peer;
    SocketAddress local;
    ConnectionState state = ConnectionState::FullFeature;
    Digest header_digest = Digest::None;
    Digest data_digest = Digest::None;
    uint32_t max_recv_data_segment_length = 0;
    uint32_t max_xmit_data_segment_length = 0;
    uint32_t stat_sn = 0;
    Counters counters;
};

// One entry of SESSION_LIST: what the kernel knows of a live session.
struct KernelSession {
    uint64_t handle = 0;
    std::string target_name;
    uint16_t tpgt = 0;
    std::string initiator_name;
    std::string initiator_alias;
    Isid isid{};
    uint16_t tsih = 0;
    std::string chap_user;
    SessionState state = SessionState::Active;
    uint32_t exp_cmd_sn = 0;
    uint32_t max_cmd_sn = 0;
    NegotiatedParameters negotiated;
    Counters counters;
    uint64_t start_time_ns = 0;  // CLOCK_REALTIME
    std::vector<KernelConnection> connections;
};

// Mirrors enum iscsi_handoff_down_reason.
enum class DownReason : uint32_t {
    Unspecified = 0,
    Logout = 1,
    PeerClosed = 2,
    Admin = 3,
    ProtocolError = 4,
    DigestError = 5,
    NopTimeout = 6,
    LogoutTimeout = 7,
    Reinstated = 8,
    ModuleUnload = 9,
    ConfigRemoved = 10,
};
const char* to_string(DownReason reason);

struct DataPathEvent {
    // EventsLost: the kernel dropped events (the daemon's socket overran, as
    // when a thousand connections close at once); no other field is set and
    // the kernel's session list is the only truth left (list_sessions()).
    enum class Kind { ConnectionDown, SessionDown, EventsLost } kind = Kind::SessionDown;
    uint64_t session_handle = 0;
    std::string target_name;
    uint16_t tpgt = 0;
    uint16_t tsih = 0;
    uint16_t cid = 0;  // ConnectionDown only
    DownReason reason = DownReason::Unspecified;
};

struct Limits {
    uint32_t max_sessions = 0;
    uint32_t max_connections_per_session = 0;
    uint32_t max_data_segment_length = 0;
    uint32_t max_burst_length = 0;
    uint32_t queue_depth = 0;
};

struct Version {
    uint32_t major = 0;
    uint32_t minor = 0;
    std::string text;
};

class DataPath {
public:
    virtual ~DataPath() = default;

    // Whether Normal sessions can be handed off now, and if not, why (for
    // the log line that goes with a 0x0301 refusal).
    virtual bool available() const = 0;
    virtual std::string unavailable_reason() const = 0;

    virtual Result<Version> version() = 0;
    virtual Result<Limits> limits() = 0;

    // Makes the kernel's view (configfs: backstores, fabric targets, TPGs,
    // LUNs, ACLs) match the configuration, touching only what changed.
    virtual Result<void> apply(const config::Config& config) = 0;

    virtual Result<HandoffResult> handoff(const HandoffRequest& request) = 0;
    virtual Result<std::vector<KernelSession>> list_sessions() = 0;
    virtual Result<void> terminate_connection(uint64_t session_handle, uint16_t cid) = 0;
    virtual Result<void> terminate_session(uint64_t session_handle) = 0;
    virtual Result<void> request_logout(uint64_t session_handle, uint32_t deadline_seconds) = 0;

    // Events (connection and session down) are delivered to this callback
    // from the daemon's event loop.
    virtual void set_event_handler(std::function<void(const DataPathEvent&)> handler) = 0;

    // Appended (kmod-glue): stores the SendTargets answer the daemon computed
    // for a portal group, so that a Text Request in the Full Feature Phase
    // (RFC 7143 s.11.10) is answered in the kernel (CMD_SET_DISCOVERY_TEXT).
    // `text` is the key=value\0 sequence as sent on the wire; empty clears it.
    // Not pure, so test doubles written before it still compile.
    virtual Result<void> set_discovery_text(const std::string& /*target_name*/, uint16_t /*tpgt*/,
                                            const std::string& /*text*/) {
        return tl::unexpected(Error{EOPNOTSUPP, "this data path keeps no discovery text"});
    }
};

}  // namespace iscsi::kmod
