#include "config/diff.h"

#include <algorithm>
#include <map>
#include <set>

#include "config/json.h"

namespace iscsi::config {
namespace {

template <typename T>
std::vector<T> minus(const std::set<T>& a, const std::set<T>& b) {
    std::vector<T> out;
    std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
    return out;
}

}  // namespace

bool Diff::empty() const {
    return added_targets.empty() && removed_targets.empty() && changed_targets.empty() &&
           removed_portal_groups.empty() && added_portals.empty() && removed_portals.empty() &&
           !backstores_changed && !discovery_changed && !limits_changed && !security_changed;
}

std::vector<PortalKey> listening_portals(const Config& config) {
    std::set<PortalKey> keys;
    for (const auto& target : config.targets)
        for (const auto& group : target.portal_groups)
            if (group.enabled)
                for (const auto& portal : group.portals) keys.insert({portal.address, portal.port, group.tpgt});
    return {keys.begin(), keys.end()};
}

Diff diff(const Config& before, const Config& after) {
    Diff d;
    nlohmann::json old_json = to_json(before), new_json = to_json(after);

    std::map<std::string, nlohmann::json> old_targets, new_targets;
    for (const auto& t : old_json["targets"]) old_targets[t["name"]] = t;
    for (const auto& t : new_json["targets"]) new_targets[t["name"]] = t;
    for (const auto& [name, t] : new_targets) {
        auto old = old_targets.find(name);
        if (old == old_targets.end()) d.added_targets.push_back(name);
        // Compared through the JSON form: one definition of equality for every
        // field, which cannot fall behind when model.h grows.
        else if (old->second != t) d.changed_targets.push_back(name);
    }
    for (const auto& [name, t] : old_targets)
        if (!new_targets.count(name)) d.removed_targets.push_back(name);

    std::set<PortalGroupKey> old_groups, new_groups;
    for (const auto& t : before.targets)
        if (new_targets.count(t.name))
            for (const auto& g : t.portal_groups)
                if (g.enabled) old_groups.insert({t.name, g.tpgt});
    for (const auto& t : after.targets)
        for (const auto& g : t.portal_groups)
            if (g.enabled) new_groups.insert({t.name, g.tpgt});
    d.removed_portal_groups = minus(old_groups, new_groups);

    auto old_portals = listening_portals(before), new_portals = listening_portals(after);
    std::set<PortalKey> old_set(old_portals.begin(), old_portals.end()), new_set(new_portals.begin(), new_portals.end());
    d.added_portals = minus(new_set, old_set);
    d.removed_portals = minus(old_set, new_set);

    d.backstores_changed = old_json["backstores"] != new_json["backstores"];
    d.discovery_changed = old_json["discovery"] != new_json["discovery"];
    d.limits_changed = old_json["limits"] != new_json["limits"];
    d.security_changed = old_json["security"] != new_json["security"];
    return d;
}

}  // namespace iscsi::config
