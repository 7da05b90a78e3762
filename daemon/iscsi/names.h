// iSCSI names (RFC 7143 s.4.2.7, RFC 3722 stringprep profile).
#pragma once

#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace iscsi {

inline constexpr size_t kMaxIscsiNameLength = 223;

// Checks the three forms:
//   iqn.yyyy-mm.reversed.domain[:any]   date and a naming authority required
//   eui.<16 hex digits>
//   naa.<16 or 32 hex digits>
// at most 223 bytes of valid UTF-8, ASCII limited to letters, digits, '-',
// '.', ':' (what RFC 3722's profile leaves). Upper-case ASCII is accepted:
// RFC 3722 maps it to lower case, and initiators that skip the mapping are
// common; comparisons elsewhere are exact.
tl::expected<void, std::string> validate_iscsi_name(std::string_view name);

}  // namespace iscsi
