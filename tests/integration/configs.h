// Configurations shared by the integration tests ("@PORT@" is the test's port).
#pragma once

#include <string>

namespace iscsi::testing {

inline const std::string kTargetA = "iqn.2024-01.org.example:disk-a";
inline const std::string kTargetB = "iqn.2024-01.org.example:disk-b";
inline const std::string kHidden = "iqn.2024-01.org.example:hidden";
inline const std::string kInitiator = "iqn.2024-01.org.example:initiator";
inline const std::string kLibiscsiInitiator = "iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-ls";

// Two targets open to everyone (demo mode) on 127.0.0.1 and ::1, and one
// whose ACL names another initiator, which discovery must not list.
inline const std::string kOpenConfig = R"({
  "backstores": [{"name": "ram0", "type": "ramdisk", "size_bytes": 1048576}],
  "targets": [
    {"name": "iqn.2024-01.org.example:disk-a",
     "portal_groups": [{"tpgt": 1, "demo_mode": true,
                        "portals": [{"address": "127.0.0.1", "port": @PORT@}, {"address": "::1", "port": @PORT@}]}],
     "luns": [{"lun": 0, "backstore": "ram0"}]},
    {"name": "iqn.2024-01.org.example:disk-b",
     "portal_groups": [{"tpgt": 1, "demo_mode": true, "portals": [{"address": "127.0.0.1", "port": @PORT@}]}]},
    {"name": "iqn.2024-01.org.example:hidden",
     "portal_groups": [{"tpgt": 1, "portals": [{"address": "127.0.0.1", "port": @PORT@}]}],
     "acls": [{"initiator_name": "iqn.2024-01.org.example:someone-else"}]}
  ],
  "limits": {"login_timeout_s": 3}
})";

// Discovery needs CHAP (user "disc"), mutual with "target".
inline const std::string kChapConfig = R"({
  "targets": [
    {"name": "iqn.2024-01.org.example:disk-a",
     "portal_groups": [{"tpgt": 1, "demo_mode": true, "portals": [{"address": "127.0.0.1", "port": @PORT@}]}]}
  ],
  "discovery": {"chap": {"user": "disc", "mutual_user": "target"}}
})";
inline const std::string kChapSecrets = R"({"chap": {"disc": "discovery-secret-1", "target": "target-secret-22"}})";

}  // namespace iscsi::testing
