#include "configfs_state.h"

#include <cerrno>
#include <cstdio>

namespace iscsi::kmod {
namespace {

constexpr size_t kAliasMax = 500;     // LIO keeps 512 bytes (SE_DEV_ALIAS_LEN)
constexpr uint64_t kRamdiskPage = 4096;  // rd_pages counts PAGE_SIZE pages (x86, arm64 4K)

Error invalid(const std::string& what) {
    return Error{EINVAL, "configuration cannot be applied to configfs: " + what};
}

// LIO splits `control` on commas and newlines (match_token), so a value
// holding one would be cut in two.
Result<void> check_control_value(const std::string& value, const std::string& what) {
    if (value.find_first_of(",\n") != std::string::npos || value.find('\0') != std::string::npos) {
        return tl::unexpected(invalid(what + " \"" + value + "\" contains a comma, newline or NUL"));
    }
    return {};
}

// A configfs directory name: one path component.
Result<void> check_directory_name(const std::string& value, const std::string& what) {
    if (value.empty() || value == "." || value == ".." || value.find('/') != std::string::npos ||
        value.find('\0') != std::string::npos || value.find('\n') != std::string::npos) {
        return tl::unexpected(invalid(what + " \"" + value + "\" is not usable as a configfs directory name"));
    }
    return {};
}

uint64_t fnv1a(const std::string& text) {
    uint64_t hash = 14695981039346656037ull;
    for (unsigned char c : text) {
        hash = (hash ^ c) * 1099511628211ull;
    }
    return hash;
}

// The alias records what the device was created from; when the identity is
// too long for LIO's alias it is replaced by a stable hash of itself.
std::string owned_alias(const std::string& identity) {
    std::string alias = std::string(kOwnedAliasPrefix) + identity;
    if (alias.size() > kAliasMax) {
        char hex[17];
        std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a(identity)));
        alias = std::string(kOwnedAliasPrefix) + "fnv1a=" + hex;
    }
    return alias;
}

Result<DeviceState> desired_device(const config::Backstore& b, const FileSizeLookup& file_size) {
    if (auto ok = check_directory_name(b.name, "backstore name"); !ok) {
        return tl::unexpected(ok.error());
    }
    DeviceState d;
    d.type = b.type;
    d.name = b.name;
    d.serial = b.wwn;
    d.attributes = b.attributes;
    std::string identity = std::string(subsystem_name(b.type));
    switch (b.type) {
    case config::BackstoreType::FileIo: {
        if (b.path.empty() || b.path.front() != '/') {
            return tl::unexpected(invalid("fileio backstore " + b.name + " needs an absolute path"));
        }
        if (auto ok = check_control_value(b.path, "fileio path"); !ok) {
            return tl::unexpected(ok.error());
        }
        uint64_t size = b.size_bytes;
        if (size == 0 && file_size) {
            size = file_size(b.path).value_or(0);
        }
        if (size == 0) {
            return tl::unexpected(invalid("fileio backstore " + b.name + " has no size and " + b.path +
                                          " does not exist or is empty"));
        }
        d.control = "fd_dev_name=" + b.path + ",fd_dev_size=" + std::to_string(size);
        if (b.write_back) {
            d.control += ",fd_buffered_io=1";
        }
        d.udev_path = b.path;
        identity += " path=" + b.path + " size=" + std::to_string(size) + " wb=" + (b.write_back ? "1" : "0");
        break;
    }
    case config::BackstoreType::Block:
        if (b.path.empty() || b.path.front() != '/') {
            return tl::unexpected(invalid("block backstore " + b.name + " needs an absolute device path"));
        }
        if (auto ok = check_control_value(b.path, "block device path"); !ok) {
            return tl::unexpected(ok.error());
        }
        d.control = "udev_path=" + b.path;
        d.udev_path = b.path;
        identity += " path=" + b.path;
        break;
    case config::BackstoreType::Ramdisk: {
        if (b.size_bytes == 0) {
            return tl::unexpected(invalid("ramdisk backstore " + b.name + " has size 0"));
        }
        const uint64_t pages = (b.size_bytes + kRamdiskPage - 1) / kRamdiskPage;
        d.control = "rd_pages=" + std::to_string(pages);
        identity += " pages=" + std::to_string(pages);
        break;
    }
    case config::BackstoreType::User:
        // TCMU: `path` is the handler's dev_config ("handler/cfgstring").
        if (b.path.empty() || b.size_bytes == 0) {
            return tl::unexpected(invalid("user backstore " + b.name + " needs a dev_config path and a size"));
        }
        if (auto ok = check_control_value(b.path, "user backstore dev_config"); !ok) {
            return tl::unexpected(ok.error());
        }
        d.control = "dev_config=" + b.path + ",dev_size=" + std::to_string(b.size_bytes);
        identity += " config=" + b.path + " size=" + std::to_string(b.size_bytes);
        break;
    }
    if (!b.wwn.empty()) {
        if (b.wwn.size() >= 254 || b.wwn.find_first_of("\n\0", 0, 2) != std::string::npos) {
            return tl::unexpected(invalid("unit serial of backstore " + b.name + " is too long or has a newline"));
        }
        identity += " serial=" + b.wwn;
    }
    d.alias = owned_alias(identity);
    return d;
}

}  // namespace

const char* subsystem_name(config::BackstoreType type) {
    switch (type) {
    case config::BackstoreType::FileIo: return "fileio";
    case config::BackstoreType::Block: return "iblock";
    case config::BackstoreType::Ramdisk: return "rd_mcp";
    case config::BackstoreType::User: return "user";
    }
    return "unknown";
}

std::string owned_hba_directory(config::BackstoreType type) {
    return std::string(subsystem_name(type)) + "_" + std::to_string(kOwnedHbaIndex);
}

Result<TreeState> desired_state(const config::Config& config, const FileSizeLookup& file_size) {
    TreeState state;
    for (const auto& backstore : config.backstores) {
        auto device = desired_device(backstore, file_size);
        if (!device) {
            return tl::unexpected(device.error());
        }
        if (state.devices.count(backstore.name) != 0) {
            return tl::unexpected(invalid("backstore name " + backstore.name + " is used twice"));
        }
        state.hbas.insert(owned_hba_directory(backstore.type));
        state.devices.emplace(backstore.name, std::move(*device));
    }
    state.fabric_present = !config.targets.empty();
    for (const auto& target : config.targets) {
        if (auto ok = check_directory_name(target.name, "target name"); !ok) {
            return tl::unexpected(ok.error());
        }
        if (state.targets.count(target.name) != 0) {
            return tl::unexpected(invalid("target " + target.name + " is configured twice"));
        }
        // LUNs and ACLs are per target in the model, per TPG in LIO: every
        // portal group of the target carries the same ones.
        std::map<uint32_t, LunState> luns;
        for (const auto& lun : target.luns) {
            auto device = state.devices.find(lun.backstore);
            if (device == state.devices.end()) {
                return tl::unexpected(invalid("LUN " + std::to_string(lun.lun) + " of " + target.name +
                                              " names unknown backstore " + lun.backstore));
            }
            if (!luns.emplace(lun.lun, LunState{owned_hba_directory(device->second.type), lun.backstore, {}}).second) {
                return tl::unexpected(invalid("LUN " + std::to_string(lun.lun) + " of " + target.name +
                                              " is configured twice"));
            }
        }
        std::map<std::string, AclState> acls;
        for (const auto& acl : target.acls) {
            if (auto ok = check_directory_name(acl.initiator_name, "initiator name"); !ok) {
                return tl::unexpected(ok.error());
            }
            AclState state_acl;
            if (acl.mapped_luns.empty()) {
                for (const auto& [number, lun] : luns) {
                    state_acl.mapped_luns[number] = MappedLunState{number, false, {}};
                }
            }
            for (const auto& mapped : acl.mapped_luns) {
                if (luns.count(mapped.lun) == 0) {
                    return tl::unexpected(invalid("ACL " + acl.initiator_name + " of " + target.name +
                                                  " maps LUN " + std::to_string(mapped.lun) +
                                                  ", which the target does not have"));
                }
                if (!state_acl.mapped_luns.emplace(mapped.mapped_lun, MappedLunState{mapped.lun, mapped.write_protect, {}})
                         .second) {
                    return tl::unexpected(invalid("ACL " + acl.initiator_name + " maps LUN number " +
                                                  std::to_string(mapped.mapped_lun) + " twice"));
                }
            }
            if (!acls.emplace(acl.initiator_name, std::move(state_acl)).second) {
                return tl::unexpected(invalid("ACL " + acl.initiator_name + " of " + target.name +
                                              " is configured twice"));
            }
        }
        TargetState target_state;
        for (const auto& group : target.portal_groups) {
            if (group.tpgt == 0) {
                return tl::unexpected(invalid("portal group tag 0 of " + target.name + " (TPGT is 1..65535)"));
            }
            TpgState tpg;
            tpg.luns = luns;
            tpg.acls = acls;
            tpg.attributes[kAttribGenerateNodeAcls] = group.demo_mode ? "1" : "0";
            tpg.attributes[kAttribCacheDynamicAcls] = group.demo_mode ? "1" : "0";
            tpg.attributes[kAttribDemoModeWriteProtect] = group.demo_mode_write_protect ? "1" : "0";
            tpg.attributes[kAttribNopInInterval] = std::to_string(group.nop_in_interval_s);
            tpg.attributes[kAttribNopInTimeout] = std::to_string(group.nop_in_timeout_s);
            tpg.optional_attributes = {kAttribNopInInterval, kAttribNopInTimeout};
            tpg.enabled = group.enabled;
            if (!target_state.tpgs.emplace(group.tpgt, std::move(tpg)).second) {
                return tl::unexpected(invalid("portal group " + std::to_string(group.tpgt) + " of " + target.name +
                                              " is configured twice"));
            }
        }
        state.targets.emplace(target.name, std::move(target_state));
    }
    return state;
}

}  // namespace iscsi::kmod
