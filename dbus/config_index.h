// Configured targets and backstores found by name, for the property getters
// and the signal bookkeeping of the D-Bus service.
//
// Every property read of a Target, PortalGroup, Lun, Acl or Backstore object
// starts by finding its entry in the configuration. A linear scan made
// GetManagedObjects quadratic: with 1,000 targets (5,000 objects, about eight
// properties each) that was 40 million name comparisons. The index keeps
// positions, never pointers: a lookup checks that the entry at the recorded
// position still has the name asked for, so a configuration replaced behind
// the index's back costs a rebuild, never a dangling reference.
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "config/model.h"

namespace iscsi::dbus {

class ConfigIndex {
public:
    // After any change to the configuration (BusService::configuration_changed).
    void invalidate() { valid_ = false; }

    const config::Target* target(const config::Config& config, const std::string& name);
    const config::Backstore* backstore(const config::Config& config, const std::string& name);
    // The LUNs that use a backstore, in configuration order.
    std::vector<std::pair<const config::Target*, const config::Lun*>> users_of(const config::Config& config,
                                                                                const std::string& backstore);

private:
    void rebuild(const config::Config& config);
    template <typename Entry>
    const Entry* find(const config::Config& config, const std::vector<Entry>& entries,
                      const std::unordered_map<std::string, size_t>& index, const std::string& name);
    void ensure(const config::Config& config) {
        if (!valid_) rebuild(config);
    }
    bool valid_ = false;
    std::unordered_map<std::string, size_t> targets_;
    std::unordered_map<std::string, size_t> backstores_;
    // backstore -> (target position, LUN position)
    std::unordered_map<std::string, std::vector<std::pair<size_t, size_t>>> users_;
};

}  // namespace iscsi::dbus
