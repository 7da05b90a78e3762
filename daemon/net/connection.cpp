#include "net/connection.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "iscsi/status.h"
#include "net/socket_address.h"

namespace iscsi::net {
namespace {

constexpr uint64_t kUsecPerSecond = 1'000'000;
// After the last response of a refused login: how long to wait for the
// initiator to close before the daemon does (closing with unread input would
// send a reset that can destroy the response in flight).
constexpr uint64_t kDrainTimeoutUs = 2 * kUsecPerSecond;
// A backstop above the protocol library's own per-login limits: if those
// ever fail to stop a login, the connection still ends.
constexpr uint32_t kBackstopFactor = 2;

std::string status_text(const std::optional<LoginStatus>& status) {
    if (!status) return "";
    char code[8];
    std::snprintf(code, sizeof code, "0x%04x", static_cast<unsigned>(*status));
    return std::string(code) + " (" + to_string(*status) + ")";
}

}  // namespace

Connection::Connection(const ConnectionContext& context, UniqueFd fd, ConnectionEndpoints endpoints,
                       ClosedHandler on_closed)
    : context_(context),
      fd_(std::move(fd)),
      endpoints_(std::move(endpoints)),
      on_closed_(std::move(on_closed)),
      login_(*context.policy, endpoints_, context.limits, context.options) {}

Connection::~Connection() {
    // Sources first: an epoll registration outlives close() while another
    // reference to the socket exists (the kernel's, after a hand-off).
    if (io_) sd_event_source_disable_unref(io_);
    if (timer_) sd_event_source_disable_unref(timer_);
    if (discovery_tsih_) context_.registry->close_discovery(endpoints_.tpgt, discovery_tsih_);
}

log::Peer Connection::peer() const {
    log::Peer p;
    p.address = Endpoint{endpoints_.peer_address, endpoints_.peer_port}.to_string();
    // peer_description() is "initiator (address)" once the name is known.
    std::string description = login_.peer_description();
    if (auto open = description.find(" ("); open != std::string::npos) p.initiator = description.substr(0, open);
    return p;
}

bool Connection::start() {
    int rc = sd_event_add_io(context_.event, &io_, fd_.get(), EPOLLIN, &Connection::on_io, this);
    if (rc < 0) {
        auto p = peer();
        log::error(std::string("cannot watch the connection: ") + std::strerror(-rc), &p);
        return false;
    }
    arm_timer(uint64_t{context_.limits.login_timeout_s} * kUsecPerSecond);
    return timer_ != nullptr;
}

void Connection::arm_timer(uint64_t microseconds) {
    if (timer_) {
        sd_event_source_set_time_relative(timer_, microseconds);
        sd_event_source_set_enabled(timer_, SD_EVENT_ONESHOT);
        return;
    }
    int rc = sd_event_add_time_relative(context_.event, &timer_, CLOCK_MONOTONIC, microseconds, 0,
                                        &Connection::on_timer, this);
    if (rc < 0) {
        auto p = peer();
        log::error(std::string("cannot arm the login timer: ") + std::strerror(-rc), &p);
        timer_ = nullptr;
    }
}

int Connection::on_io(sd_event_source*, int, uint32_t events, void* userdata) {
    auto* self = static_cast<Connection*>(userdata);
    if (events & EPOLLOUT) self->write_ready();
    if (self->state_ != State::Done && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) self->read_ready();
    // finish() may have run: it hands `self` to its owner, which destroys it.
    // Nothing touches `self` after this point.
    if (self->state_ == State::Done) self->on_closed_(self);
    return 0;
}

int Connection::on_timer(sd_event_source*, uint64_t, void* userdata) {
    auto* self = static_cast<Connection*>(userdata);
    auto p = self->peer();
    switch (self->state_) {
        case State::Login: {
            LoginStep step = self->login_.on_timeout();
            log::notice("login timed out after " + std::to_string(self->context_.limits.login_timeout_s) + " s" +
                            (step.status ? ": " + status_text(step.status) : ""),
                        &p);
            self->apply(std::move(step));
            if (self->state_ == State::Login) self->start_draining();  // the step must end the login
            break;
        }
        case State::Discovery:
            log::info("discovery session idle for " + std::to_string(self->context_.limits.login_timeout_s) +
                          " s; closing",
                      &p);
            self->start_draining();
            break;
        case State::Handoff:
            // The kernel has the socket; the final response could not be sent.
            log::warning("final Login Response not sent in time after the hand-off", &p);
            self->finish();
            break;
        case State::Closing:
        case State::Draining:
            self->finish();
            break;
        case State::Done:
            break;
    }
    if (self->state_ == State::Done) self->on_closed_(self);
    return 0;
}

void Connection::read_ready() {
    if (state_ == State::Draining) {
        char discard[4096];
        for (;;) {
            ssize_t n = ::recv(fd_.get(), discard, sizeof discard, 0);
            if (n > 0) continue;
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
            finish();  // EOF or error: the initiator is gone
            return;
        }
    }
    while ((state_ == State::Login || state_ == State::Discovery) && read_one_pdu()) {
    }
}

bool Connection::read_one_pdu() {
    uint8_t* destination;
    std::size_t wanted;
    if (!in_body_) {
        destination = header_.data() + header_have_;
        wanted = kBhsLength - header_have_;
    } else {
        destination = body_.data() + body_have_;
        wanted = body_.size() - body_have_;
    }
    // Exactly what this PDU still needs, never more (see the file comment).
    ssize_t n = ::recv(fd_.get(), destination, wanted, 0);
    if (n < 0) {
        if (errno == EINTR) return true;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
        auto p = peer();
        log::info(std::string("connection error: ") + std::strerror(errno), &p);
        finish();
        return false;
    }
    if (n == 0) {
        auto p = peer();
        if (state_ == State::Login || header_have_ || in_body_)
            log::info(state_ == State::Login ? "initiator closed the connection during login"
                                             : "initiator closed the connection in the middle of a PDU",
                      &p);
        else
            log::debug("discovery session closed by the initiator", &p);
        finish();
        return false;
    }
    bytes_ += static_cast<uint64_t>(n);
    if (!in_body_) {
        header_have_ += static_cast<std::size_t>(n);
        if (header_have_ < kBhsLength) return true;
        ++pdus_;
        if (state_ == State::Login &&
            (pdus_ > context_.limits.max_login_pdus * kBackstopFactor ||
             bytes_ > uint64_t{context_.limits.max_login_bytes} * kBackstopFactor)) {
            auto p = peer();
            log::notice("login exceeded " + std::to_string(pdus_ - 1) + " PDUs / " + std::to_string(bytes_) +
                            " bytes; closing",
                        &p);
            finish();
            return false;
        }
        Bhs bhs{std::span<const uint8_t, kBhsLength>(header_)};
        auto remaining = login_.check_header(bhs);
        if (!remaining) {
            LoginStep step = std::move(remaining.error());
            if (step.outcome == LoginStep::Outcome::Continue) {
                // Rejected, but the connection goes on: the body is read and
                // dropped so that the next PDU starts where it should.
                uint32_t rest = iscsi::remaining_length(bhs);
                if (rest > context_.limits.max_login_bytes) {
                    step.outcome = LoginStep::Outcome::Close;
                } else if (rest > 0) {
                    body_.assign(rest, 0);
                    body_have_ = 0;
                    in_body_ = true;
                    skip_body_ = true;
                    header_have_ = 0;
                }
            }
            if (!in_body_) header_have_ = 0;
            apply(std::move(step));
            return state_ == State::Login || state_ == State::Discovery;
        }
        if (*remaining > context_.limits.max_login_bytes) {
            auto p = peer();
            log::notice("PDU of " + std::to_string(*remaining) + " bytes exceeds the login byte limit; closing", &p);
            finish();
            return false;
        }
        body_.assign(*remaining, 0);
        body_have_ = 0;
        in_body_ = *remaining > 0;
        if (!in_body_) process_pdu();
        return state_ == State::Login || state_ == State::Discovery;
    }
    body_have_ += static_cast<std::size_t>(n);
    if (body_have_ < body_.size()) return true;
    if (skip_body_) {
        skip_body_ = false;
        in_body_ = false;
        body_.clear();
        return true;
    }
    process_pdu();
    return state_ == State::Login || state_ == State::Discovery;
}

void Connection::process_pdu() {
    Bhs bhs{std::span<const uint8_t, kBhsLength>(header_)};
    auto pdu = Pdu::parse(bhs, body_);
    header_have_ = 0;
    in_body_ = false;
    std::vector<uint8_t>().swap(body_);  // idle connections keep no buffer
    if (!pdu) {
        auto p = peer();
        log::notice("malformed PDU: " + pdu.error() + "; closing", &p);
        finish();
        return;
    }
    if (state_ == State::Discovery) arm_timer(uint64_t{context_.limits.login_timeout_s} * kUsecPerSecond);
    apply(login_.on_pdu(*pdu));
}

void Connection::apply(LoginStep step) {
    auto p = peer();
    // The protocol library's lines usually name the peer and the status
    // already; add only what they lack.
    std::string status = status_text(step.status);
    std::string line = step.log;
    if (step.status && line.find(status.substr(0, 6)) == std::string::npos)
        line = "login refused: " + status + (line.empty() ? "" : ": " + line);
    if (!line.empty()) {
        p.in_message = line.find(login_.peer_description()) != std::string::npos;
        log::write(step.status ? log::Level::Notice : log::Level::Info, line, &p);
        p.in_message = false;
    }
    switch (step.outcome) {
        case LoginStep::Outcome::Continue:
            queue(std::move(step.responses));
            return;
        case LoginStep::Outcome::Close:
            state_ = State::Closing;
            queue(std::move(step.responses));
            return;
        case LoginStep::Outcome::DiscoveryFullFeature: {
            state_ = State::Discovery;
            HandoffInfo info = login_.handoff_info();
            if (info.identity.tsih && context_.registry->find("", endpoints_.tpgt, info.identity.tsih))
                discovery_tsih_ = info.identity.tsih;
            queue(std::move(step.responses));
            return;
        }
        case LoginStep::Outcome::ReadyForHandoff:
            hand_off(std::move(step));
            return;
    }
}

void Connection::hand_off(LoginStep step) {
    auto p = peer();
    HandoffInfo info = login_.handoff_info();
    kmod::DataPath* data_path = context_.data_path;
    if (!data_path || !data_path->available()) {
        // RFC 7143 s.11.13.5: 0x0301 Service Unavailable.
        std::string why = data_path ? data_path->unavailable_reason() : "no data path in this daemon";
        log::debug("no kernel data path for the login to " + info.identity.target_name + ": " + why, &p);
        apply(login_.handoff_failed("no kernel data path: " + why));
        return;
    }

    kmod::HandoffRequest request;
    request.fd = fd_.get();
    request.target_name = info.identity.target_name;
    request.tpgt = info.identity.tpgt;
    request.initiator_name = info.identity.initiator_name;
    request.initiator_alias = info.initiator_alias;
    request.isid = info.identity.isid;
    request.tsih = info.identity.tsih;
    request.cid = info.identity.cid;
    if (auto peer_address = peer_of(fd_.get())) request.peer = *peer_address;
    if (auto local_address = local_of(fd_.get())) request.local = *local_address;
    request.cmd_sn = info.cmd_sn;
    request.stat_sn = info.stat_sn;
    request.exp_stat_sn = info.exp_stat_sn;
    request.negotiated = info.negotiated;
    request.chap_user = info.chap_user;

    auto result = data_path->handoff(request);
    if (!result) {
        std::string why = result.error().message;
        if (result.error().code) why += std::string(" (") + std::strerror(result.error().code) + ")";
        log::debug("the kernel refused the hand-off: " + why, &p);
        apply(login_.handoff_failed("hand-off refused: " + why));
        return;
    }
    sessions::Registry::Attachment attachment;
    attachment.session_handle = result->session_handle;
    attachment.connection_handle = result->connection_handle;
    attachment.negotiated = info.negotiated;
    attachment.initiator_alias = info.initiator_alias;
    attachment.chap_user = info.chap_user;
    context_.registry->attach(info.identity.target_name, info.identity.tpgt, info.identity.tsih, info.identity.cid,
                              attachment);
    log::info("logged in to " + info.identity.target_name + " (TSIH " + std::to_string(info.identity.tsih) +
                  ", CID " + std::to_string(info.identity.cid) + "); the kernel has the connection",
              &p);
    // From now on the daemon only writes the final Login Response: the
    // initiator sends nothing before it has that response, and the kernel
    // reads everything after.
    state_ = State::Handoff;
    queue(std::move(step.responses));
}

void Connection::queue(std::vector<std::vector<uint8_t>> pdus) {
    for (auto& pdu : pdus)
        if (!pdu.empty()) out_.push_back(std::move(pdu));
    write_ready();
}

void Connection::write_ready() {
    while (!out_.empty()) {
        const auto& front = out_.front();
        ssize_t n = ::send(fd_.get(), front.data() + out_offset_, front.size() - out_offset_, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            auto p = peer();
            log::info(std::string("cannot send: ") + std::strerror(errno), &p);
            finish();
            return;
        }
        out_offset_ += static_cast<std::size_t>(n);
        if (out_offset_ == front.size()) {
            out_.pop_front();
            out_offset_ = 0;
        }
    }
    if (out_.empty()) after_flush();
    if (state_ != State::Done) update_events();
}

void Connection::after_flush() {
    switch (state_) {
        case State::Handoff: finish(); break;  // the kernel's reference keeps the socket
        case State::Closing: start_draining(); break;
        default: break;
    }
}

void Connection::start_draining() {
    state_ = State::Draining;
    out_.clear();
    ::shutdown(fd_.get(), SHUT_WR);
    arm_timer(kDrainTimeoutUs);
}

void Connection::update_events() {
    if (!io_) return;
    uint32_t events = 0;
    if (state_ == State::Login || state_ == State::Discovery || state_ == State::Draining) events |= EPOLLIN;
    if (!out_.empty()) events |= EPOLLOUT;
    if (events == 0) {
        sd_event_source_set_enabled(io_, SD_EVENT_OFF);
        return;
    }
    sd_event_source_set_io_events(io_, events);
    sd_event_source_set_enabled(io_, SD_EVENT_ON);
}

void Connection::abort(const std::string& why) {
    auto p = peer();
    log::info("closing: " + why, &p);
    finish();
}

void Connection::finish() {
    if (state_ == State::Done) return;
    state_ = State::Done;
    if (io_) sd_event_source_set_enabled(io_, SD_EVENT_OFF);
    if (timer_) sd_event_source_set_enabled(timer_, SD_EVENT_OFF);
}

}  // namespace iscsi::net
