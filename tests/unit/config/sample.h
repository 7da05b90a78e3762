// A valid configuration used by the config tests.
#pragma once

#include <string>

inline const std::string kSampleConfig = R"({
  "backstores": [
    {"name": "disk0", "type": "fileio", "path": "/var/lib/iscsi-target/disk0.img", "size_bytes": 1048576},
    {"name": "ram0", "type": "ramdisk", "size_bytes": 1048576}
  ],
  "targets": [
    {
      "name": "iqn.2024-01.org.example:disk0",
      "alias": "first",
      "portal_groups": [
        {"tpgt": 1, "portals": [{"address": "127.0.0.1", "port": 3260}, {"address": "::1", "port": 3260}]},
        {"tpgt": 2, "portals": [{"address": "127.0.0.2", "port": 3261}], "demo_mode": true}
      ],
      "luns": [{"lun": 0, "backstore": "disk0"}, {"lun": 1, "backstore": "ram0"}],
      "acls": [
        {"initiator_name": "iqn.1994-05.com.redhat:client", "allowed_networks": ["127.0.0.0/8", "::1/128"],
         "mapped_luns": [{"mapped_lun": 0, "lun": 1, "write_protect": true}]}
      ],
      "chap": {"user": "alice", "mutual_user": "target"},
      "max_sessions": 4,
      "parameters": {"max_burst_length": 1048576, "first_burst_length": 65536, "header_digest": ["CRC32C", "None"]}
    },
    {
      "name": "iqn.2024-01.org.example:disk1",
      "portal_groups": [{"tpgt": 1, "portals": [{"address": "127.0.0.1", "port": 3260}]}],
      "redirect": {"address": "192.0.2.10", "port": 3260, "tpgt": 1, "permanent": true}
    }
  ],
  "discovery": {"enabled": true, "chap": {"user": "alice"}},
  "limits": {"login_timeout_s": 10},
  "security": {"chap_algorithms": [7, 6]}
})";

inline const std::string kSampleSecrets = R"({"chap": {"alice": "alice-secret-123", "target": "target-secret-456"}})";
