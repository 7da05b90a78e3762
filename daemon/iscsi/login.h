// The login phase of one connection, and the Full Feature Phase of a
// Discovery session: a state machine with no I/O (RFC 7143 s.6, s.7.3).
//
// Usage by the runtime (daemon/net), one LoginConnection per accepted socket:
//
//   LoginConnection login(policy, endpoints, config.limits);
//   loop:
//     read 48 bytes -> Bhs
//     auto more = login.check_header(bhs);     // bytes still to read, or a
//     if (!more) { send more.error().responses; close if outcome == Close }
//     read *more bytes -> Pdu::parse(bhs, rest)
//     LoginStep step = login.on_pdu(pdu);
//     switch (step.outcome):
//       Continue:             send step.responses; keep reading
//       Close:                send step.responses; close the connection
//       DiscoveryFullFeature: send step.responses (the final Login Response);
//                             keep reading: Text/NOP-Out/Logout are answered
//                             by on_pdu() from now on
//       ReadyForHandoff:      do NOT send yet. Hand the socket and
//                             handoff_info() to the kernel; when it accepted
//                             it, send step.responses (the final Login
//                             Response, T=1 NSG=FullFeaturePhase); if it
//                             refused, send handoff_failed(reason).responses
//                             (status 0x0301) and close.
//   on the login timer: send on_timeout().responses and close.
//
// step.log is one line for the log (empty when there is nothing to say); it
// never contains a secret. Every refusal carries the RFC status in
// step.status and the reason in step.log.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

#include "config/model.h"
#include "data_path.h"
#include "iscsi/login_policy.h"
#include "iscsi/pdu.h"
#include "iscsi/status.h"

namespace iscsi {

enum class SessionType { Discovery, Normal };
const char* to_string(SessionType type);

// Tunables of the state machine that are not part of config::Limits.
struct LoginOptions {
    // The window opened by the final Login Response of a Normal session:
    // MaxCmdSN = CmdSN + command_window - 1. The kernel opens it further.
    uint32_t command_window = 1;
    // MaxRecvDataSegmentLength the target declares in Discovery sessions
    // (the one for Normal sessions comes from the target's parameters).
    uint32_t discovery_max_recv_data_segment_length = 8192;
    // Whether SendTargets lists IPv6 link-local portals (fe80::/10).
    bool include_link_local = false;
    // Tests only: CHAP_I and CHAP_C to send instead of random ones, so that
    // a test can compute the initiator's CHAP_R. Never set in the daemon.
    std::optional<std::pair<uint8_t, std::vector<uint8_t>>> fixed_chap_challenge;
};

struct LoginStep {
    // Wire-ready PDUs, in order.
    std::vector<std::vector<uint8_t>> responses;
    enum class Outcome { Continue, Close, ReadyForHandoff, DiscoveryFullFeature } outcome = Outcome::Continue;
    std::string log;
    // Set when this step refuses the login (a Login Response with a non-zero
    // status class is in responses).
    std::optional<LoginStatus> status;
};
const char* to_string(LoginStep::Outcome outcome);

// Everything the runtime passes to DataPath::handoff() besides the socket.
struct HandoffInfo {
    LoginIdentity identity;  // tsih: the assigned one (non-zero)
    Admission admission;
    SessionType session_type = SessionType::Normal;
    std::string initiator_alias;
    std::string target_alias;
    kmod::NegotiatedParameters negotiated;
    uint32_t cmd_sn = 0;       // CmdSN of the last Login Request
    uint32_t stat_sn = 0;      // the next StatSN, after the final Login Response
    uint32_t exp_stat_sn = 0;  // ExpStatSN of the last Login Request
    std::string chap_user;     // empty when no CHAP
};

class LoginConnection {
public:
    LoginConnection(LoginPolicy& policy, ConnectionEndpoints endpoints, const config::Limits& limits,
                    LoginOptions options = {});
    ~LoginConnection();
    LoginConnection(const LoginConnection&) = delete;
    LoginConnection& operator=(const LoginConnection&) = delete;

    // Before reading a PDU's body: how many more bytes it occupies, or the
    // step to take instead (answer and close) when the header is malformed.
    tl::expected<uint32_t, LoginStep> check_header(const Bhs& bhs);

    // One complete PDU in, responses out.
    LoginStep on_pdu(const Pdu& pdu);

    // Valid after on_pdu() returned ReadyForHandoff.
    HandoffInfo handoff_info() const;

    // The kernel refused the connection: the final response is replaced by
    // a Login Response with status 0x0301 and the registry is told
    // (policy.abandon()). Outcome Close.
    LoginStep handoff_failed(std::string reason);

    // The login timer fired (config::Limits::login_timeout_s). Outcome Close.
    LoginStep on_timeout();

    // For log lines: "iqn.initiator (192.0.2.1:51000)" once known.
    std::string peer_description() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace iscsi
