#include "control/names.h"

#include <arpa/inet.h>
#include <cctype>
#include <charconv>

namespace iscsi::control {
namespace {

bool all_hex(std::string_view text) {
    for (char c : text)
        if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    return !text.empty();
}

// iqn.yyyy-mm.reversed.domain[:anything]
std::string check_iqn(std::string_view name) {
    std::string_view rest = name.substr(4);
    if (rest.size() < 8 || !std::isdigit(static_cast<unsigned char>(rest[0])) ||
        !std::isdigit(static_cast<unsigned char>(rest[1])) || !std::isdigit(static_cast<unsigned char>(rest[2])) ||
        !std::isdigit(static_cast<unsigned char>(rest[3])) || rest[4] != '-' ||
        !std::isdigit(static_cast<unsigned char>(rest[5])) || !std::isdigit(static_cast<unsigned char>(rest[6])))
        return "an iqn. name continues with the date yyyy-mm (RFC 7143 s.4.2.7.2), e.g. iqn.2003-01.org.example:disk1";
    int month = (rest[5] - '0') * 10 + (rest[6] - '0');
    if (month < 1 || month > 12) return "the month in an iqn. name is 01..12";
    if (rest.size() < 9 || rest[7] != '.' || rest.size() == 8)
        return "an iqn. name names a reversed domain after the date, e.g. iqn.2003-01.org.example";
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == ':';
        if (!ok) return std::string("character '") + c + "' is not allowed in an iSCSI name (lower case a-z, 0-9, '-', '.', ':')";
    }
    return {};
}

}  // namespace

std::string check_iscsi_name(std::string_view name) {
    if (name.empty()) return "the name is empty";
    if (name.size() > 223) return "an iSCSI name is at most 223 bytes (RFC 7143 s.6.1)";
    if (name.substr(0, 4) == "iqn.") return check_iqn(name);
    if (name.substr(0, 4) == "eui.") {
        if (name.size() != 20 || !all_hex(name.substr(4))) return "an eui. name has exactly 16 hex digits (RFC 7143 s.4.2.7.3)";
        return {};
    }
    if (name.substr(0, 4) == "naa.") {
        auto digits = name.substr(4);
        if ((digits.size() != 16 && digits.size() != 32) || !all_hex(digits))
            return "an naa. name has 16 or 32 hex digits (RFC 7143 s.4.2.7.4)";
        return {};
    }
    return "an iSCSI name starts with iqn., eui. or naa. (RFC 7143 s.4.2.7)";
}

std::string check_backstore_name(std::string_view name) {
    if (name.empty() || name.size() > 64) return "a backstore name has 1 to 64 characters";
    for (char c : name) {
        bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
        if (!ok) return "a backstore name has only letters, digits, '_', '.' and '-'";
    }
    if (name == "." || name == "..") return "a backstore name cannot be '.' or '..'";
    return {};
}

std::string check_address(std::string_view address) {
    std::string text(address);
    unsigned char buffer[sizeof(in6_addr)];
    if (::inet_pton(AF_INET, text.c_str(), buffer) == 1 || ::inet_pton(AF_INET6, text.c_str(), buffer) == 1) return {};
    return "'" + text + "' is not a numeric IPv4 or IPv6 address (no brackets, no host names)";
}

std::string check_network(std::string_view network) {
    auto slash = network.find('/');
    if (slash == std::string_view::npos) return "'" + std::string(network) + "' is not in CIDR form (address/prefix)";
    auto address = network.substr(0, slash);
    if (auto why = check_address(address); !why.empty()) return why;
    auto prefix_text = network.substr(slash + 1);
    unsigned prefix = 0;
    auto [end, ec] = std::from_chars(prefix_text.data(), prefix_text.data() + prefix_text.size(), prefix);
    unsigned max = address.find(':') == std::string_view::npos ? 32 : 128;
    if (ec != std::errc() || end != prefix_text.data() + prefix_text.size() || prefix > max)
        return "the prefix length of '" + std::string(network) + "' is not 0.." + std::to_string(max);
    return {};
}

std::string check_chap_user(std::string_view user) {
    if (user.empty() || user.size() > 255) return "a CHAP user name has 1 to 255 characters";
    for (char c : user)
        if (!std::isprint(static_cast<unsigned char>(c))) return "a CHAP user name has only printable characters";
    return {};
}

std::string check_chap_secret(std::string_view secret) {
    if (secret.size() < 12) return "a CHAP secret has at least 12 bytes (RFC 7143 s.12.1.3 asks for 96 bits)";
    if (secret.size() > 255) return "a CHAP secret has at most 255 bytes";
    return {};
}

}  // namespace iscsi::control
