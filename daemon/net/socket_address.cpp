#include "net/socket_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace iscsi::net {

std::string Endpoint::to_string() const {
    if (address.find(':') != std::string::npos) return "[" + address + "]:" + std::to_string(port);
    return address + ":" + std::to_string(port);
}

Endpoint endpoint_of(const sockaddr_storage& storage) {
    Endpoint endpoint;
    char text[INET6_ADDRSTRLEN] = "";
    if (storage.ss_family == AF_INET) {
        const auto& in = reinterpret_cast<const sockaddr_in&>(storage);
        inet_ntop(AF_INET, &in.sin_addr, text, sizeof text);
        endpoint.port = ntohs(in.sin_port);
    } else if (storage.ss_family == AF_INET6) {
        const auto& in6 = reinterpret_cast<const sockaddr_in6&>(storage);
        if (IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr)) inet_ntop(AF_INET, &in6.sin6_addr.s6_addr[12], text, sizeof text);
        else inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof text);
        endpoint.port = ntohs(in6.sin6_port);
    }
    endpoint.address = text;
    return endpoint;
}

std::optional<kmod::SocketAddress> socket_address(const std::string& address, uint16_t port) {
    kmod::SocketAddress result;
    auto* in = reinterpret_cast<sockaddr_in*>(&result.storage);
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&result.storage);
    if (inet_pton(AF_INET, address.c_str(), &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        result.length = sizeof(sockaddr_in);
        return result;
    }
    if (inet_pton(AF_INET6, address.c_str(), &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        result.length = sizeof(sockaddr_in6);
        return result;
    }
    return std::nullopt;
}

std::optional<kmod::SocketAddress> peer_of(int fd) {
    kmod::SocketAddress result;
    result.length = sizeof result.storage;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&result.storage), &result.length) != 0) return std::nullopt;
    return result;
}

std::optional<kmod::SocketAddress> local_of(int fd) {
    kmod::SocketAddress result;
    result.length = sizeof result.storage;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&result.storage), &result.length) != 0) return std::nullopt;
    return result;
}

}  // namespace iscsi::net
