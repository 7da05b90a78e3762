#include "config/names.h"

#include <cctype>

namespace iscsi::config {
namespace {

bool all_hex(std::string_view text) {
    for (char c : text)
        if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    return !text.empty();
}

// Length of the UTF-8 sequence starting at text[i], or 0 when invalid
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    unsigned char lead = byte(i);
    std::size_t length;
    uint32_t code;
    if (lead < 0x80) return 1;
    if ((lead & 0xe0) == 0xc0) { length = 2; code = lead & 0x1f; }
    else if ((lead & 0xf0) == 0xe0) { length = 3; code = lead & 0x0f; }
    else if ((lead & 0xf8) == 0xf0) { length = 4; code = lead & 0x07; }
    else return 0;
    if (i + length > text.size()) return 0;
    for (std::size_t k = 1; k < length; ++k) {
        if ((byte(i + k) & 0xc0) != 0x80) return 0;
        code = (code << 6) | (byte(i + k) & 0x3f);
    }
    static constexpr uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < kMinimum[length] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return 0;
    return length;
}

std::optional<std::string> check_iqn(std::string_view name) {
    // "iqn." + "YYYY-MM" + "." + naming authority (at least one character).
    std::string_view rest = name.substr(4);
    if (rest.size() < 9 || rest[4] != '-' || rest[7] != '.')
        return "an iqn name must start with iqn.YYYY-MM. followed by a reversed domain name";
    for (int i : {0, 1, 2, 3, 5, 6})
        if (!std::isdigit(static_cast<unsigned char>(rest[i])))
            return "the date in an iqn name must be YYYY-MM";
    int month = (rest[5] - '0') * 10 + (rest[6] - '0');
    if (month < 1 || month > 12) return "the month in an iqn name must be 01 to 12";
    if (rest[8] == '.' || rest[8] == ':' || rest[8] == '-')
        return "the naming authority after the date must start with a letter or digit";
    for (std::size_t i = 8; i < rest.size();) {
        unsigned char c = static_cast<unsigned char>(rest[i]);
        if (c >= 0x80) {
            std::size_t length = utf8_sequence_length(rest, i);
            if (length == 0) return "the name is not valid UTF-8";
            i += length;
            continue;
        }
        if (std::isupper(c))
            return "iqn names are lower case (RFC 3722 maps upper case to lower case)";
        if (!(std::islower(c) || std::isdigit(c) || c == '-' || c == '.' || c == ':'))
            return std::string("character '") + static_cast<char>(c) +
                   "' is not allowed in an iSCSI name (a-z 0-9 - . : only)";
        ++i;
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> check_iscsi_name(std::string_view name) {
    if (name.empty()) return "the name is empty";
    if (name.size() > kMaxIscsiNameBytes)
        return "the name is " + std::to_string(name.size()) + " bytes long; at most 223 are allowed";
    std::string_view type = name.substr(0, 4);
    if (type == "iqn.") return check_iqn(name);
    if (type == "eui.") {
        if (name.size() != 20 || !all_hex(name.substr(4)))
            return "an eui name is eui. followed by exactly 16 hexadecimal digits";
        return std::nullopt;
    }
    if (type == "naa.") {
        std::string_view digits = name.substr(4);
        if ((digits.size() != 16 && digits.size() != 32) || !all_hex(digits))
            return "a naa name is naa. followed by 16 or 32 hexadecimal digits";
        return std::nullopt;
    }
    return "an iSCSI name starts with iqn., eui. or naa. (RFC 7143 s.4.2.7)";
}

}  // namespace iscsi::config
