// One listening portal: a non-blocking TCP socket on the event loop.
//
// IPv6 listeners set IPV6_V6ONLY so that "::" and "0.0.0.0" on the same port
// are two separate portals (each with its own TPGT if configured so), as
// they are in the configuration.
#pragma once

#include <systemd/sd-event.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <tl/expected.hpp>

#include "net/unique_fd.h"

namespace iscsi::net {

class Listener {
public:
    // Called for each accepted connection (non-blocking, close-on-exec).
    using AcceptHandler = std::function<void(UniqueFd fd, uint16_t tpgt)>;

    // Binds and listens; the error says which portal and why.
    static tl::expected<std::unique_ptr<Listener>, std::string> open(sd_event* event, const std::string& address,
                                                                     uint16_t port, uint16_t tpgt,
                                                                     AcceptHandler on_accept);
    ~Listener();
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;

    const std::string& address() const { return address_; }
    uint16_t port() const { return port_; }  // the bound port (useful when 0 was asked)
    uint16_t tpgt() const { return tpgt_; }
    std::string description() const;  // "127.0.0.1:3260 (TPGT 1)"

private:
    Listener() = default;
    static int on_readable(sd_event_source* source, int fd, uint32_t events, void* userdata);

    UniqueFd fd_;
    sd_event_source* source_ = nullptr;
    sd_event_source* pause_timer_ = nullptr;  // re-enables source_ after running out of fds
    std::string address_;
    uint16_t port_ = 0;
    uint16_t tpgt_ = 0;
    AcceptHandler on_accept_;
};

}  // namespace iscsi::net
