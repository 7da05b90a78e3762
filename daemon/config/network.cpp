#include "config/network.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace iscsi::config {

bool IpAddress::is_wildcard() const {
    std::size_t n = v6 ? 16 : 4;
    for (std::size_t i = 0; i < n; ++i)
        if (bytes[i] != 0) return false;
    return true;
}

bool IpAddress::is_link_local() const {
    return v6 && bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80;
}

std::optional<IpAddress> parse_address(std::string_view text) {
    if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
    std::string copy(text);
    IpAddress address;
    if (inet_pton(AF_INET, copy.c_str(), address.bytes.data()) == 1) return address;
    if (inet_pton(AF_INET6, copy.c_str(), address.bytes.data()) == 1) {
        static constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::memcmp(address.bytes.data(), kMappedPrefix, 12) == 0) {
            IpAddress v4;
            std::memcpy(v4.bytes.data(), address.bytes.data() + 12, 4);
            return v4;
        }
        address.v6 = true;
        return address;
    }
    return std::nullopt;
}

bool Network::contains(const IpAddress& address) const {
    if (address.v6 != base.v6) return false;
    unsigned full = prefix_length / 8, rest = prefix_length % 8;
    if (std::memcmp(address.bytes.data(), base.bytes.data(), full) != 0) return false;
    if (rest == 0) return true;
    uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
    return (address.bytes[full] & mask) == (base.bytes[full] & mask);
}

NetworkParse parse_network(std::string_view text) {
    NetworkParse result;
    std::string_view address_text = text, prefix_text;
    if (auto slash = text.find('/'); slash != std::string_view::npos) {
        address_text = text.substr(0, slash);
        prefix_text = text.substr(slash + 1);
    }
    auto address = parse_address(address_text);
    if (!address || (address_text.find(':') != std::string_view::npos && !address->v6)) {
        // An IPv4-mapped IPv6 network would silently become IPv4: refuse it.
        result.error = "'" + std::string(address_text) + "' is not a numeric IPv4 or IPv6 address";
        return result;
    }
    unsigned maximum = address->v6 ? 128 : 32, prefix = maximum;
    if (!prefix_text.empty() || text.find('/') != std::string_view::npos) {
        auto [end, ec] = std::from_chars(prefix_text.data(), prefix_text.data() + prefix_text.size(), prefix);
        if (ec != std::errc{} || end != prefix_text.data() + prefix_text.size() || prefix > maximum) {
            result.error = "prefix length must be a number from 0 to " + std::to_string(maximum);
            return result;
        }
    }
    Network network{*address, prefix};
    // Host bits beyond the prefix must be zero.
    IpAddress masked = *address;
    for (unsigned bit = prefix; bit < maximum; ++bit)
        masked.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
    if (!(masked == *address)) {
        result.error = "host bits are set beyond the /" + std::to_string(prefix) + " prefix";
        return result;
    }
    result.network = network;
    return result;
}

}  // namespace iscsi::config
