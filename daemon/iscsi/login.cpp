#include "iscsi/login.h"

namespace iscsi {

const char* to_string(SessionType type) {
    return type == SessionType::Discovery ? "Discovery" : "Normal";
}

const char* to_string(LoginStep::Outcome outcome) {
    switch (outcome) {
        case LoginStep::Outcome::Continue: return "continue";
        case LoginStep::Outcome::Close: return "close";
        case LoginStep::Outcome::ReadyForHandoff: return "ready for hand-off";
        case LoginStep::Outcome::DiscoveryFullFeature: return "discovery full feature phase";
    }
    return "unknown outcome";
}

// First committed version: the public shape only. Every login is refused
// with a Target Error until the state machine lands.
struct LoginConnection::Impl {
    LoginPolicy& policy;
    ConnectionEndpoints endpoints;
    config::Limits limits;
    LoginOptions options;
};

LoginConnection::LoginConnection(LoginPolicy& policy, ConnectionEndpoints endpoints, const config::Limits& limits,
                                 LoginOptions options)
    : impl_(std::make_unique<Impl>(Impl{policy, std::move(endpoints), limits, options})) {}
LoginConnection::~LoginConnection() = default;

tl::expected<uint32_t, LoginStep> LoginConnection::check_header(const Bhs& bhs) {
    return remaining_length(bhs);
}

LoginStep LoginConnection::on_pdu(const Pdu&) {
    LoginStep step;
    step.outcome = LoginStep::Outcome::Close;
    step.status = LoginStatus::TargetError;
    step.log = "login state machine not implemented yet";
    return step;
}

HandoffInfo LoginConnection::handoff_info() const { return {}; }

LoginStep LoginConnection::handoff_failed(std::string reason) {
    LoginStep step;
    step.outcome = LoginStep::Outcome::Close;
    step.status = LoginStatus::ServiceUnavailable;
    step.log = std::move(reason);
    return step;
}

LoginStep LoginConnection::on_timeout() {
    LoginStep step;
    step.outcome = LoginStep::Outcome::Close;
    step.log = "login timed out";
    return step;
}

std::string LoginConnection::peer_description() const {
    return impl_->endpoints.peer_address + ":" + std::to_string(impl_->endpoints.peer_port);
}

}  // namespace iscsi
