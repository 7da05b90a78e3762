// Conversions between socket addresses and the numeric text the rest of
// the daemon uses.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>

#include "data_path.h"

namespace iscsi::net {

struct Endpoint {
    std::string address;  // numeric, no brackets; IPv4-mapped IPv6 unmapped
    uint16_t port = 0;
    // "192.0.2.1:3260" or "[::1]:3260"
    std::string to_string() const;
};

Endpoint endpoint_of(const sockaddr_storage& storage);
// Numeric address and port to a socket address; nothing when not numeric.
std::optional<kmod::SocketAddress> socket_address(const std::string& address, uint16_t port);

// getpeername / getsockname of a connected socket.
std::optional<kmod::SocketAddress> peer_of(int fd);
std::optional<kmod::SocketAddress> local_of(int fd);

}  // namespace iscsi::net
