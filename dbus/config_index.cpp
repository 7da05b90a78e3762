#include "dbus/config_index.h"

namespace iscsi::dbus {
namespace {

enum class Lookup { Found, Absent, Stale };

// The entry recorded for name, if the configuration still has it there.
template <typename Entry>
Lookup look(const std::vector<Entry>& entries, const std::unordered_map<std::string, size_t>& index,
            const std::string& name, const Entry** found) {
    *found = nullptr;
    auto it = index.find(name);
    if (it == index.end()) return Lookup::Absent;
    if (it->second >= entries.size() || entries[it->second].name != name) return Lookup::Stale;
    *found = &entries[it->second];
    return Lookup::Found;
}

}  // namespace

void ConfigIndex::rebuild(const config::Config& config) {
    targets_.clear();
    backstores_.clear();
    users_.clear();
    for (size_t t = 0; t < config.targets.size(); ++t) {
        targets_.emplace(config.targets[t].name, t);
        const auto& luns = config.targets[t].luns;
        for (size_t l = 0; l < luns.size(); ++l) users_[luns[l].backstore].emplace_back(t, l);
    }
    for (size_t b = 0; b < config.backstores.size(); ++b) backstores_.emplace(config.backstores[b].name, b);
    valid_ = true;
}

template <typename Entry>
const Entry* ConfigIndex::find(const config::Config& config, const std::vector<Entry>& entries,
                               const std::unordered_map<std::string, size_t>& index, const std::string& name) {
    ensure(config);
    const Entry* found = nullptr;
    if (look(entries, index, name, &found) == Lookup::Stale) {
        rebuild(config);
        look(entries, index, name, &found);
    }
    return found;
}

const config::Target* ConfigIndex::target(const config::Config& config, const std::string& name) {
    return find(config, config.targets, targets_, name);
}

const config::Backstore* ConfigIndex::backstore(const config::Config& config, const std::string& name) {
    return find(config, config.backstores, backstores_, name);
}

std::vector<std::pair<const config::Target*, const config::Lun*>> ConfigIndex::users_of(const config::Config& config,
                                                                                        const std::string& backstore) {
    ensure(config);
    std::vector<std::pair<const config::Target*, const config::Lun*>> users;
    auto it = users_.find(backstore);
    if (it == users_.end()) return users;
    for (auto [t, l] : it->second) {
        // Positions from before a change the index was not told of: start over.
        if (t >= config.targets.size() || l >= config.targets[t].luns.size() ||
            config.targets[t].luns[l].backstore != backstore) {
            rebuild(config);
            return users_of(config, backstore);
        }
        users.emplace_back(&config.targets[t], &config.targets[t].luns[l]);
    }
    return users;
}

}  // namespace iscsi::dbus
