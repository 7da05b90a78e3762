// Semantic checks of a configuration together with its secrets.
#pragma once

#include <string>
#include <vector>

#include "config/error.h"
#include "config/model.h"

namespace iscsi::config {

struct FileNames {
    std::string config = "config.json";
    std::string secrets = "secrets.json";
};

// Every problem found, in file order; empty means valid. Checks:
//  - iSCSI names (RFC 3722 / RFC 7143 s.4.2.7), unique targets and ACLs;
//  - backstore names unique and well formed, with what their type needs;
//  - LUNs unique and referencing existing backstores; mapped LUNs
//    referencing the target's LUNs;
//  - TPGTs unique per target; portals numeric addresses with ports 1-65535;
//    one portal address:port belongs to one TPGT across all targets (the
//    listener must know its TPGT before the target is named); no specific
//    address on a port that a wildcard of the same family also takes;
//  - CIDR networks; session parameters within RFC 7143 s.13 ranges and
//    FirstBurstLength <= MaxBurstLength;
//  - CHAP users present in the secrets, secrets 12-255 bytes, mutual
//    secrets different from the initiator's (RFC 7143 s.12.1.3);
//  - limits and CHAP algorithms.
std::vector<Error> validate(const Config& config, const Secrets& secrets, const FileNames& files = {});

}  // namespace iscsi::config
