// What changed between two configurations, for reload (SIGHUP, D-Bus Reload).
//
// The daemon applies a reload declaratively (as ctld does): listeners are
// opened for added portals and closed for removed ones; sessions of removed
// targets or portal groups are terminated; everything else takes effect at
// the next login.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/model.h"

namespace iscsi::config {

struct PortalKey {
    std::string address;
    uint16_t port = 0;
    uint16_t tpgt = 0;
    bool operator==(const PortalKey&) const = default;
    auto operator<=>(const PortalKey&) const = default;
};

struct PortalGroupKey {
    std::string target_name;
    uint16_t tpgt = 0;
    bool operator==(const PortalGroupKey&) const = default;
    auto operator<=>(const PortalGroupKey&) const = default;
};

struct Diff {
    std::vector<std::string> added_targets;
    std::vector<std::string> removed_targets;
    std::vector<std::string> changed_targets;  // present in both, any field differs
    std::vector<PortalGroupKey> removed_portal_groups;  // of targets present in both
    // The set of listening endpoints (address, port, tpgt) across all targets.
    std::vector<PortalKey> added_portals;
    std::vector<PortalKey> removed_portals;
    bool backstores_changed = false;
    bool discovery_changed = false;
    bool limits_changed = false;
    bool security_changed = false;

    bool empty() const;
};

Diff diff(const Config& before, const Config& after);

// Every distinct (address, port, tpgt) that enabled portal groups listen on.
std::vector<PortalKey> listening_portals(const Config& config);

}  // namespace iscsi::config
