// iSCSI names (RFC 3722; RFC 7143 section 4.2.7).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace iscsi::config {

// Longest iSCSI name in bytes, RFC 7143 s.4.2.7.1.
inline constexpr std::size_t kMaxIscsiNameBytes = 223;

// Checks an iSCSI name in one of the three forms:
//   iqn.YYYY-MM.reversed.domain[:anything]   (s.4.2.7.2; lowercase, after RFC 3722 stringprep)
//   eui.<16 hex digits>                       (s.4.2.7.3)
//   naa.<16 or 32 hex digits>                 (s.4.2.7.4, RFC 3980)
// Returns nothing when valid, else why not. Names must already be in the
// normalized form (no ASCII upper case in iqn names) so that two spellings
// of one name cannot both be configured.
std::optional<std::string> check_iscsi_name(std::string_view name);

}  // namespace iscsi::config
