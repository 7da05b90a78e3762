#include "iscsi/names.h"

#include "iscsi/text.h"

namespace iscsi {

namespace {
bool all_hex(std::string_view s) {
    for (char c : s) {
        const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (!hex) return false;
    }
    return true;
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }
}  // namespace

tl::expected<void, std::string> validate_iscsi_name(std::string_view name) {
    if (name.empty()) return tl::make_unexpected(std::string("empty iSCSI name"));
    if (name.size() > kMaxIscsiNameLength) {
        return tl::make_unexpected("iSCSI name of " + std::to_string(name.size()) + " bytes (limit 223)");
    }
    if (!is_valid_utf8(name)) return tl::make_unexpected(std::string("iSCSI name is not valid UTF-8"));
    for (char c : name) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x80) continue;  // nameprep output beyond ASCII
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' || c == '.' ||
                        c == ':';
        if (!ok) {
            return tl::make_unexpected("iSCSI name contains '" + std::string(1, c) +
                                       "' (RFC 3722: letters, digits, '-', '.', ':')");
        }
    }
    const std::string_view type = name.substr(0, 4);
    if (type == "iqn." || type == "IQN.") {
        // iqn.yyyy-mm.<reversed domain>[:...]
        const std::string_view rest = name.substr(4);
        if (rest.size() < 9 || !is_digit(rest[0]) || !is_digit(rest[1]) || !is_digit(rest[2]) || !is_digit(rest[3]) ||
            rest[4] != '-' || !is_digit(rest[5]) || !is_digit(rest[6]) || rest[7] != '.') {
            return tl::make_unexpected(std::string("iqn name without a yyyy-mm date (RFC 7143 s.4.2.7.1)"));
        }
        const int month = (rest[5] - '0') * 10 + (rest[6] - '0');
        if (month < 1 || month > 12) return tl::make_unexpected(std::string("iqn name with month outside 01..12"));
        const std::string_view authority = rest.substr(8);
        if (authority.empty() || authority[0] == ':' || authority[0] == '.') {
            return tl::make_unexpected(std::string("iqn name without a naming authority"));
        }
        return {};
    }
    if (type == "eui." || type == "EUI.") {
        const std::string_view digits = name.substr(4);
        if (digits.size() != 16 || !all_hex(digits)) {
            return tl::make_unexpected(std::string("eui name needs exactly 16 hex digits (RFC 7143 s.4.2.7.2)"));
        }
        return {};
    }
    if (type == "naa." || type == "NAA.") {
        const std::string_view digits = name.substr(4);
        if ((digits.size() != 16 && digits.size() != 32) || !all_hex(digits)) {
            return tl::make_unexpected(std::string("naa name needs 16 or 32 hex digits (RFC 7143 s.4.2.7.3)"));
        }
        return {};
    }
    return tl::make_unexpected(std::string("iSCSI name must start with iqn., eui. or naa."));
}

}  // namespace iscsi
