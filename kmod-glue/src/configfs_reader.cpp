#include "configfs_reader.h"

#include <cerrno>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

namespace iscsi::kmod {
namespace {

namespace fs = std::filesystem;

Error filesystem_error(const fs::path& path, const std::error_code& ec) {
    return Error{ec.value(), "cannot read configfs " + path.string() + ": " + ec.message()};
}

// configfs attribute text without its trailing newline; nullopt when the
// file cannot be read (write-only attributes, races with removal).
std::optional<std::string> read_attribute(const fs::path& path) {
    std::ifstream in(path);
    if (!in) {
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    std::string value = text.str();
    while (!value.empty() && (value.back() == '\n' || value.back() == ' ')) {
        value.pop_back();
    }
    return value;
}

// The number in "<prefix><number>", e.g. "tpgt_1" or "lun_0".
template <typename T>
std::optional<T> numbered(const std::string& name, const std::string& prefix) {
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) {
        return std::nullopt;
    }
    T value{};
    const char* first = name.data() + prefix.size();
    const char* last = name.data() + name.size();
    auto [end, ec] = std::from_chars(first, last, value);
    if (ec != std::errc() || end != last) {
        return std::nullopt;
    }
    return value;
}

// Subdirectories of `dir` by name; an absent directory has none.
Result<std::vector<std::string>> subdirectories(const fs::path& dir) {
    std::vector<std::string> names;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        return names;
    }
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code type_ec;
        if (it->is_directory(type_ec) && !it->is_symlink(type_ec)) {
            names.push_back(it->path().filename().string());
        }
    }
    if (ec) {
        return tl::unexpected(filesystem_error(dir, ec));
    }
    return names;
}

// The one symlink in `dir` (LIO allows one per LUN or mapped LUN): its name
// and where it points.
std::optional<std::pair<std::string, fs::path>> find_link(const fs::path& dir) {
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code link_ec;
        if (it->is_symlink(link_ec)) {
            fs::path target = fs::read_symlink(it->path(), link_ec);
            if (!link_ec) {
                return std::make_pair(it->path().filename().string(), target);
            }
        }
    }
    return std::nullopt;
}

std::map<std::string, std::string> read_attributes(const fs::path& dir) {
    std::map<std::string, std::string> values;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code type_ec;
        if (it->is_regular_file(type_ec)) {
            if (auto value = read_attribute(it->path())) {
                values[it->path().filename().string()] = *value;
            }
        }
    }
    return values;
}

// One device of our HBA `hba` (of `type`) into `state`: ours (by its alias)
// into devices, anyone else's into foreign_devices.
void read_device(const fs::path& root, config::BackstoreType type, const std::string& hba, const std::string& name,
                 TreeState& state) {
    const fs::path dir = root / "core" / hba / name;
    const std::string alias = read_attribute(dir / "alias").value_or("");
    if (alias.rfind(kOwnedAliasPrefix, 0) != 0) {
        state.foreign_devices.insert(hba + "/" + name);
        return;
    }
    DeviceState device;
    device.type = type;
    device.name = name;
    device.alias = alias;
    device.enabled = read_attribute(dir / "enable").value_or("0") == "1";
    device.attributes = read_attributes(dir / "attrib");
    state.devices[name] = std::move(device);
}

Result<void> read_core(const fs::path& root, TreeState& state) {
    for (auto type : {config::BackstoreType::FileIo, config::BackstoreType::Block, config::BackstoreType::Ramdisk,
                      config::BackstoreType::User}) {
        const std::string hba = owned_hba_directory(type);
        const fs::path hba_dir = root / "core" / hba;
        std::error_code ec;
        if (!fs::is_directory(hba_dir, ec)) {
            continue;
        }
        state.hbas.insert(hba);
        auto devices = subdirectories(hba_dir);
        if (!devices) {
            return tl::unexpected(devices.error());
        }
        for (const auto& name : *devices) {
            read_device(root, type, hba, name, state);
        }
    }
    return {};
}

Result<TpgState> read_tpg(const fs::path& dir) {
    TpgState tpg;
    auto luns = subdirectories(dir / "lun");
    if (!luns) {
        return tl::unexpected(luns.error());
    }
    for (const auto& name : *luns) {
        auto number = numbered<uint32_t>(name, "lun_");
        if (!number) {
            continue;
        }
        LunState lun;
        if (auto link = find_link(dir / "lun" / name)) {
            // configfs answers with a relative path ending in core/<hba>/<device>.
            lun.link_name = link->first;
            lun.device = link->second.filename().string();
            lun.hba = link->second.parent_path().filename().string();
        }
        tpg.luns[*number] = std::move(lun);
    }
    auto acls = subdirectories(dir / "acls");
    if (!acls) {
        return tl::unexpected(acls.error());
    }
    for (const auto& initiator : *acls) {
        AclState acl;
        auto mapped = subdirectories(dir / "acls" / initiator);
        if (!mapped) {
            return tl::unexpected(mapped.error());
        }
        for (const auto& name : *mapped) {
            auto number = numbered<uint32_t>(name, "lun_");
            if (!number) {
                continue;  // attrib, auth, param, fabric: LIO's own groups
            }
            const fs::path mapped_dir = dir / "acls" / initiator / name;
            MappedLunState state;
            // A mapped LUN without a link maps nothing: 'lun' stays an
            // impossible value so the plan replaces it.
            state.lun = UINT32_MAX;
            if (auto link = find_link(mapped_dir)) {
                state.link_name = link->first;
                state.lun = numbered<uint32_t>(link->second.filename().string(), "lun_").value_or(UINT32_MAX);
            }
            state.write_protect = read_attribute(mapped_dir / "write_protect").value_or("0") == "1";
            acl.mapped_luns[*number] = std::move(state);
        }
        tpg.acls[initiator] = std::move(acl);
    }
    tpg.attributes = read_attributes(dir / "attrib");
    if (auto enabled = read_attribute(dir / "enable")) {
        tpg.enabled = *enabled == "1";
    }
    return tpg;
}

// One target of our fabric into `state`.
Result<void> read_target(const fs::path& fabric, const std::string& name, TreeState& state) {
    TargetState target;
    auto groups = subdirectories(fabric / name);
    if (!groups) {
        return tl::unexpected(groups.error());
    }
    for (const auto& group : *groups) {
        auto tpgt = numbered<uint16_t>(group, "tpgt_");
        if (!tpgt) {
            continue;  // fabric_statistics, param
        }
        auto tpg = read_tpg(fabric / name / group);
        if (!tpg) {
            return tl::unexpected(tpg.error());
        }
        target.tpgs[*tpgt] = std::move(*tpg);
    }
    state.targets[name] = std::move(target);
    return {};
}

Result<void> read_fabric(const fs::path& root, TreeState& state) {
    const fs::path fabric = root / kFabricDirectory;
    std::error_code ec;
    if (!fs::is_directory(fabric, ec)) {
        return {};
    }
    state.fabric_present = true;
    auto targets = subdirectories(fabric);
    if (!targets) {
        return tl::unexpected(targets.error());
    }
    for (const auto& name : *targets) {
        if (name == "discovery_auth") {
            continue;  // LIO's fabric-wide default group, not a target
        }
        if (auto ok = read_target(fabric, name, state); !ok) {
            return ok;
        }
    }
    return {};
}

std::optional<config::BackstoreType> owned_hba_type(const std::string& hba) {
    for (auto type : {config::BackstoreType::FileIo, config::BackstoreType::Block, config::BackstoreType::Ramdisk,
                      config::BackstoreType::User}) {
        if (owned_hba_directory(type) == hba) {
            return type;
        }
    }
    return std::nullopt;
}

// The first `count` components of a relative path ("a/b/c", 2: {"a", "b"}).
std::vector<std::string> leading_components(const std::string& path, size_t count) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (parts.size() < count && start <= path.size()) {
        const size_t slash = path.find('/', start);
        parts.push_back(path.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
        if (slash == std::string::npos) {
            break;
        }
        start = slash + 1;
    }
    return parts;
}

}  // namespace

Result<TreeState> read_configfs_state(const std::string& root) {
    TreeState state;
    std::error_code ec;
    if (!fs::is_directory(root, ec)) {
        return tl::unexpected(Error{ENOENT, root + " is not a directory: is configfs mounted and "
                                                   "target_core_mod loaded?"});
    }
    if (auto ok = read_core(root, state); !ok) {
        return tl::unexpected(ok.error());
    }
    if (auto ok = read_fabric(root, state); !ok) {
        return tl::unexpected(ok.error());
    }
    return state;
}

bool configfs_names_match(const std::string& root_text, const TreeState& state) {
    const fs::path root = root_text;
    std::error_code ec;
    const fs::path fabric = root / kFabricDirectory;
    if (fs::is_directory(fabric, ec) != state.fabric_present) {
        return false;
    }
    if (state.fabric_present) {
        auto targets = subdirectories(fabric);
        if (!targets) {
            return false;
        }
        std::set<std::string> names(targets->begin(), targets->end());
        names.erase("discovery_auth");
        if (names.size() != state.targets.size()) {
            return false;
        }
        for (const auto& [name, target] : state.targets) {
            if (!names.count(name)) {
                return false;
            }
        }
    }
    std::set<std::string> devices;
    for (auto type : {config::BackstoreType::FileIo, config::BackstoreType::Block, config::BackstoreType::Ramdisk,
                      config::BackstoreType::User}) {
        const std::string hba = owned_hba_directory(type);
        if (fs::is_directory(root / "core" / hba, ec) != (state.hbas.count(hba) != 0)) {
            return false;
        }
        auto names = subdirectories(root / "core" / hba);
        if (!names) {
            return false;
        }
        for (const auto& name : *names) {
            devices.insert(hba + "/" + name);
        }
    }
    std::set<std::string> known = state.foreign_devices;
    for (const auto& [name, device] : state.devices) {
        known.insert(owned_hba_directory(device.type) + "/" + name);
    }
    return devices == known;
}

Result<void> refresh_configfs_state(const std::string& root_text, const std::vector<std::string>& paths,
                                    TreeState& state) {
    const fs::path root = root_text;
    std::set<std::string> devices, targets;
    bool hbas = false, fabric = false;
    for (const auto& path : paths) {
        const auto parts = leading_components(path, 3);
        if (parts.size() >= 2 && parts[0] == "core") {
            if (!owned_hba_type(parts[1])) {
                continue;  // never ours: the plan does not go there
            }
            if (parts.size() == 2) {
                hbas = true;
            } else {
                devices.insert(parts[1] + "/" + parts[2]);
            }
        } else if (!parts.empty() && parts[0] == kFabricDirectory) {
            if (parts.size() == 1) {
                fabric = true;
            } else if (parts[1] != "discovery_auth") {
                targets.insert(parts[1]);
            }
        }
    }
    std::error_code ec;
    if (hbas) {
        state.hbas.clear();
        for (auto type : {config::BackstoreType::FileIo, config::BackstoreType::Block,
                          config::BackstoreType::Ramdisk, config::BackstoreType::User}) {
            const std::string hba = owned_hba_directory(type);
            if (fs::is_directory(root / "core" / hba, ec)) {
                state.hbas.insert(hba);
            }
        }
    }
    for (const auto& key : devices) {
        const std::string hba = key.substr(0, key.find('/'));
        const std::string name = key.substr(key.find('/') + 1);
        state.foreign_devices.erase(key);
        if (auto it = state.devices.find(name); it != state.devices.end() && owned_hba_directory(it->second.type) == hba) {
            state.devices.erase(it);
        }
        if (fs::is_directory(root / "core" / hba / name, ec)) {
            read_device(root, *owned_hba_type(hba), hba, name, state);
        }
    }
    if (fabric) {
        state.fabric_present = fs::is_directory(root / kFabricDirectory, ec);
        if (!state.fabric_present) {
            state.targets.clear();
        }
    }
    for (const auto& name : targets) {
        state.targets.erase(name);
        if (fs::is_directory(root / kFabricDirectory / name, ec)) {
            if (auto ok = read_target(root / kFabricDirectory, name, state); !ok) {
                return ok;
            }
        }
    }
    return {};
}

}  // namespace iscsi::kmod
