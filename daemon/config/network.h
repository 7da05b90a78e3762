// Numeric IP addresses and CIDR networks as the configuration writes them.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace iscsi::config {

// An IPv4 or IPv6 address; IPv4 is kept as such (not mapped) so that
// "192.0.2.0/24" never matches an IPv6 peer by accident. An IPv4-mapped
// IPv6 peer (::ffff:192.0.2.1, seen on dual-stack sockets) is unmapped by
// parse_address.
struct IpAddress {
    bool v6 = false;
    std::array<uint8_t, 16> bytes{};  // IPv4 uses the first 4

    bool is_wildcard() const;
    bool is_link_local() const;  // fe80::/10 (IPv6 only)
    bool operator==(const IpAddress&) const = default;
};

// "192.0.2.1", "::1", "fe80::1%eth0" is refused (no zone ids in the config).
std::optional<IpAddress> parse_address(std::string_view text);

struct Network {
    IpAddress base;
    unsigned prefix_length = 0;

    bool contains(const IpAddress& address) const;
};

// "192.0.2.0/24", "2001:db8::/32", or a bare address (a /32 or /128).
// Host bits set beyond the prefix are refused: "192.0.2.1/24" is ambiguous.
// Returns the network or why the text is not one.
struct NetworkParse {
    std::optional<Network> network;
    std::string error;
};
NetworkParse parse_network(std::string_view text);

}  // namespace iscsi::config
