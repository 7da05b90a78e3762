// Checks on the names and values an administrator gives the control plane.
// Each returns an empty string when the value is acceptable, else why not.
#pragma once

#include <string>
#include <string_view>

namespace iscsi::control {

// iqn., eui. and naa. forms (RFC 7143 s.4.2.7.2-4, RFC 3722): at most 223
// bytes, lower case, no spaces.
std::string check_iscsi_name(std::string_view name);
// Backstore names become configfs directory names: [A-Za-z0-9_.-]{1,64}.
std::string check_backstore_name(std::string_view name);
// A numeric IPv4 or IPv6 address without brackets.
std::string check_address(std::string_view address);
// "192.0.2.0/24", "::1/128".
std::string check_network(std::string_view network);
// CHAP user names are sent as CHAP_N: printable, 1..255 bytes.
std::string check_chap_user(std::string_view user);
// RFC 7143 s.12.1.3: secrets of at least 96 bits (12 bytes); at most 255.
std::string check_chap_secret(std::string_view secret);

}  // namespace iscsi::control
