// One accepted TCP connection while the daemon owns it: the login phase of
// any session, and the whole life of a Discovery session.
//
// Reads one PDU at a time and never past its end: 48 bytes of BHS, then
// exactly the AHS + data + padding that the header announces. After the last
// Login Request of a Normal session nothing more is read, so the first bytes
// of the Full Feature Phase stay in the socket for the kernel (DESIGN.md,
// "the handoff contract").
//
// Every path ends in finish(): the owner (Server) is told and destroys the
// object, which removes its event sources before closing the descriptor.
#pragma once

#include <systemd/sd-event.h>

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "data_path.h"
#include "iscsi/login.h"
#include "log/log.h"
#include "net/unique_fd.h"
#include "sessions/registry.h"

namespace iscsi::net {

// What every connection shares; owned by the Server.
struct ConnectionContext {
    sd_event* event = nullptr;
    LoginPolicy* policy = nullptr;
    sessions::Registry* registry = nullptr;
    kmod::DataPath* data_path = nullptr;  // null: no data path at all
    config::Limits limits;
    LoginOptions options;
};

class Connection {
public:
    using ClosedHandler = std::function<void(Connection*)>;

    Connection(const ConnectionContext& context, UniqueFd fd, ConnectionEndpoints endpoints,
               ClosedHandler on_closed);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Registers the socket and the login timer; false (and logged) on failure.
    bool start();

    bool in_login() const { return state_ == State::Login; }

    // Closes at once (daemon shutdown). The owner destroys the object.
    void abort(const std::string& why);

private:
    enum class State {
        Login,         // reading Login PDUs
        Discovery,     // Discovery session in Full Feature Phase
        Handoff,       // socket given to the kernel: flushing the final response
        Closing,       // flushing the last responses, then draining
        Draining,      // write side shut; discarding input until EOF or the timer
        Done,
    };

    static int on_io(sd_event_source* source, int fd, uint32_t events, void* userdata);
    static int on_timer(sd_event_source* source, uint64_t usec, void* userdata);

    void read_ready();
    bool read_one_pdu();  // false: stop reading (would block, closed, or state changed)
    void process_pdu();
    void apply(LoginStep step);
    void hand_off(LoginStep step);
    void queue(std::vector<std::vector<uint8_t>> pdus);
    void write_ready();
    void after_flush();
    void start_draining();
    void arm_timer(uint64_t microseconds);
    void finish();
    void update_events();
    log::Peer peer() const;

    const ConnectionContext& context_;
    UniqueFd fd_;
    ConnectionEndpoints endpoints_;
    ClosedHandler on_closed_;
    LoginConnection login_;
    State state_ = State::Login;
    sd_event_source* io_ = nullptr;
    sd_event_source* timer_ = nullptr;

    // Reader: the header, then the rest of one PDU.
    std::array<uint8_t, kBhsLength> header_{};
    std::size_t header_have_ = 0;
    std::vector<uint8_t> body_;
    std::size_t body_have_ = 0;
    bool in_body_ = false;
    bool skip_body_ = false;  // a rejected PDU whose body is read and dropped
    uint32_t pdus_ = 0;
    uint64_t bytes_ = 0;

    // Writer: whole PDUs; out_offset_ into the front one.
    std::deque<std::vector<uint8_t>> out_;
    std::size_t out_offset_ = 0;

    // A Discovery session is in the registry until its connection closes.
    uint16_t discovery_tsih_ = 0;
};

}  // namespace iscsi::net
