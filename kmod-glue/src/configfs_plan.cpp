#include "configfs_plan.h"

#include <cerrno>
#include <set>

namespace iscsi::kmod {
namespace {

class Planner {
public:
    Planner(const TreeState& current, const TreeState& desired) : cur_(current), want_(desired) {}

    Result<std::vector<Operation>> run() {
        for (const auto& [name, device] : want_.devices) {
            const std::string key = owned_hba_directory(device.type) + "/" + name;
            if (cur_.foreign_devices.count(key) != 0) {
                return tl::unexpected(Error{EEXIST, "configfs core/" + key +
                                                        " exists but was not created by iscsi-targetd; "
                                                        "remove it or rename the backstore"});
            }
        }
        find_devices_to_remove();
        plan_removals();
        plan_creations();
        return std::move(ops_);
    }

private:
    // --- what goes ---------------------------------------------------------

    void find_devices_to_remove() {
        for (const auto& [name, device] : cur_.devices) {
            auto wanted = want_.devices.find(name);
            // LIO cannot change a live device's file, size, cache mode or
            // serial, so any change to them means a new device.
            if (wanted == want_.devices.end() || wanted->second.type != device.type ||
                wanted->second.alias != device.alias || !device.enabled) {
                removed_storage_.insert(owned_hba_directory(device.type) + "/" + name);
                removed_devices_.push_back(&device);
            }
        }
    }

    bool storage_removed(const LunState& lun) const {
        return removed_storage_.count(lun.hba + "/" + lun.device) != 0;
    }

    const TpgState* current_tpg(const std::string& target, uint16_t tpgt) const {
        auto t = cur_.targets.find(target);
        if (t == cur_.targets.end()) {
            return nullptr;
        }
        auto g = t->second.tpgs.find(tpgt);
        return g == t->second.tpgs.end() ? nullptr : &g->second;
    }

    const TpgState* desired_tpg(const std::string& target, uint16_t tpgt) const {
        auto t = want_.targets.find(target);
        if (t == want_.targets.end()) {
            return nullptr;
        }
        auto g = t->second.tpgs.find(tpgt);
        return g == t->second.tpgs.end() ? nullptr : &g->second;
    }

    // A current LUN stays when the desired TPG has it on the same storage and
    // that storage is not being re-created.
    bool lun_survives(const std::string& target, uint16_t tpgt, uint32_t number) const {
        const TpgState* now = current_tpg(target, tpgt);
        const TpgState* wanted = desired_tpg(target, tpgt);
        if (now == nullptr || wanted == nullptr) {
            return false;
        }
        auto current = now->luns.find(number);
        auto desired = wanted->luns.find(number);
        return current != now->luns.end() && desired != wanted->luns.end() &&
               current->second.same_storage(desired->second) && !storage_removed(current->second);
    }

    bool mapped_lun_survives(const std::string& target, uint16_t tpgt, const std::string& initiator,
                             uint32_t mapped) const {
        const TpgState* now = current_tpg(target, tpgt);
        const TpgState* wanted = desired_tpg(target, tpgt);
        if (now == nullptr || wanted == nullptr) {
            return false;
        }
        auto current_acl = now->acls.find(initiator);
        auto desired_acl = wanted->acls.find(initiator);
        if (current_acl == now->acls.end() || desired_acl == wanted->acls.end()) {
            return false;
        }
        auto current = current_acl->second.mapped_luns.find(mapped);
        auto desired = desired_acl->second.mapped_luns.find(mapped);
        return current != current_acl->second.mapped_luns.end() &&
               desired != desired_acl->second.mapped_luns.end() && current->second.lun == desired->second.lun &&
               lun_survives(target, tpgt, current->second.lun);
    }

    void plan_removals() {
        for (const auto& [target, state] : cur_.targets) {
            const bool target_wanted = want_.targets.count(target) != 0;
            for (const auto& [tpgt, tpg] : state.tpgs) {
                const bool tpg_wanted = desired_tpg(target, tpgt) != nullptr;
                if (!tpg_wanted && tpg.enabled.value_or(false)) {
                    // Stop logins and I/O before tearing the TPG down.
                    write(tpg_path(target, tpgt) + "/enable", "0", true);
                }
                for (const auto& [initiator, acl] : tpg.acls) {
                    for (const auto& [mapped, mapped_lun] : acl.mapped_luns) {
                        if (!mapped_lun_survives(target, tpgt, initiator, mapped)) {
                            remove_mapped_lun(target, tpgt, initiator, mapped, mapped_lun);
                        }
                    }
                    if (!tpg_wanted || desired_tpg(target, tpgt)->acls.count(initiator) == 0) {
                        remove_directory(acl_path(target, tpgt, initiator));
                    }
                }
                for (const auto& [number, lun] : tpg.luns) {
                    if (!lun_survives(target, tpgt, number)) {
                        if (!lun.link_name.empty()) {
                            unlink(lun_path(target, tpgt, number) + "/" + lun.link_name);
                        }
                        remove_directory(lun_path(target, tpgt, number));
                    }
                }
                if (!tpg_wanted) {
                    remove_directory(tpg_path(target, tpgt));
                }
            }
            if (!target_wanted) {
                remove_directory(target_path(target));
            }
        }
        for (const DeviceState* device : removed_devices_) {
            remove_directory(device_path(owned_hba_directory(device->type), device->name));
        }
        // An HBA of ours that ends up empty goes too (LIO refuses to remove
        // one that still holds devices, ours or anybody's).
        for (const auto& hba : cur_.hbas) {
            if (want_.hbas.count(hba) != 0) {
                continue;
            }
            bool still_used = false;
            for (const auto& [name, device] : cur_.devices) {
                if (owned_hba_directory(device.type) == hba &&
                    removed_storage_.count(hba + "/" + name) == 0) {
                    still_used = true;
                }
            }
            for (const auto& foreign : cur_.foreign_devices) {
                if (foreign.rfind(hba + "/", 0) == 0) {
                    still_used = true;
                }
            }
            if (!still_used) {
                remove_directory("core/" + hba);
            }
        }
    }

    void remove_mapped_lun(const std::string& target, uint16_t tpgt, const std::string& initiator, uint32_t mapped,
                           const MappedLunState& state) {
        const std::string path = mapped_lun_path(target, tpgt, initiator, mapped);
        if (!state.link_name.empty()) {
            unlink(path + "/" + state.link_name);
        }
        remove_directory(path);
    }

    // --- what comes --------------------------------------------------------

    void plan_creations() {
        if (!want_.targets.empty() && !cur_.fabric_present) {
            make_directory(kFabricDirectory);
        }
        for (const auto& hba : want_.hbas) {
            if (cur_.hbas.count(hba) == 0) {
                make_directory("core/" + hba);
            }
        }
        for (const auto& [name, device] : want_.devices) {
            auto current = cur_.devices.find(name);
            const std::string path = device_path(owned_hba_directory(device.type), name);
            if (current != cur_.devices.end() && removed_storage_.count(owned_hba_directory(device.type) + "/" + name) == 0) {
                for (const auto& [attribute, value] : device.attributes) {
                    auto now = current->second.attributes.find(attribute);
                    if (now == current->second.attributes.end() || now->second != value) {
                        write(path + "/attrib/" + attribute, value, false);
                    }
                }
                continue;
            }
            make_directory(path);
            // The alias first: a device that fails later in this sequence is
            // still recognisably ours and is replaced by the next apply.
            write(path + "/alias", device.alias, false);
            write(path + "/control", device.control, false);
            if (!device.udev_path.empty()) {
                write(path + "/udev_path", device.udev_path, false);
            }
            if (!device.serial.empty()) {
                write(path + "/wwn/vpd_unit_serial", device.serial, false);
            }
            write(path + "/enable", "1", false);
            // Attributes after enable: configuring the device resets several
            // of them to the backend's values.
            for (const auto& [attribute, value] : device.attributes) {
                write(path + "/attrib/" + attribute, value, false);
            }
        }
        for (const auto& [target, state] : want_.targets) {
            if (cur_.targets.count(target) == 0) {
                make_directory(target_path(target));
            }
            for (const auto& [tpgt, tpg] : state.tpgs) {
                create_tpg_contents(target, tpgt, tpg);
            }
        }
    }

    void create_tpg_contents(const std::string& target, uint16_t tpgt, const TpgState& tpg) {
        const TpgState* now = current_tpg(target, tpgt);
        const std::string path = tpg_path(target, tpgt);
        if (now == nullptr) {
            make_directory(path);
        }
        for (const auto& [attribute, value] : tpg.attributes) {
            const bool optional = tpg.optional_attributes.count(attribute) != 0;
            if (now == nullptr) {
                write(path + "/attrib/" + attribute, value, optional);
                continue;
            }
            auto current = now->attributes.find(attribute);
            if (current == now->attributes.end()) {
                if (!optional) {
                    write(path + "/attrib/" + attribute, value, false);  // fails loudly: the module lacks it
                }
            } else if (current->second != value) {
                write(path + "/attrib/" + attribute, value, false);
            }
        }
        for (const auto& [number, lun] : tpg.luns) {
            if (!lun_survives(target, tpgt, number)) {
                const std::string lun_dir = lun_path(target, tpgt, number);
                make_directory(lun_dir);
                symlink(lun_dir + "/" + kLunLinkName, device_path(lun.hba, lun.device));
            }
        }
        for (const auto& [initiator, acl] : tpg.acls) {
            const bool acl_exists = now != nullptr && now->acls.count(initiator) != 0;
            if (!acl_exists) {
                make_directory(acl_path(target, tpgt, initiator));
            }
            for (const auto& [mapped, mapped_lun] : acl.mapped_luns) {
                const std::string mapped_dir = mapped_lun_path(target, tpgt, initiator, mapped);
                const std::string protect = mapped_lun.write_protect ? "1" : "0";
                if (!mapped_lun_survives(target, tpgt, initiator, mapped)) {
                    make_directory(mapped_dir);
                    symlink(mapped_dir + "/" + kMappedLunLinkName, lun_path(target, tpgt, mapped_lun.lun));
                    // Linking takes write protection from demo_mode_write_protect;
                    // set what the ACL says.
                    write(mapped_dir + "/write_protect", protect, false);
                } else if (now->acls.at(initiator).mapped_luns.at(mapped).write_protect != mapped_lun.write_protect) {
                    write(mapped_dir + "/write_protect", protect, false);
                }
            }
        }
        if (tpg.enabled.has_value()) {
            const std::string value = *tpg.enabled ? "1" : "0";
            if (now == nullptr) {
                write(path + "/enable", value, true);
            } else if (now->enabled.has_value() && *now->enabled != *tpg.enabled) {
                write(path + "/enable", value, false);
            }
        }
    }

    // --- operations --------------------------------------------------------

    void make_directory(const std::string& path) { ops_.push_back({Operation::Kind::MakeDirectory, path, {}, false}); }
    void remove_directory(const std::string& path) {
        ops_.push_back({Operation::Kind::RemoveDirectory, path, {}, false});
    }
    void symlink(const std::string& path, const std::string& target) {
        ops_.push_back({Operation::Kind::Symlink, path, target, false});
    }
    void unlink(const std::string& path) { ops_.push_back({Operation::Kind::Unlink, path, {}, false}); }
    void write(const std::string& path, const std::string& value, bool only_if_present) {
        ops_.push_back({Operation::Kind::Write, path, value, only_if_present});
    }

    const TreeState& cur_;
    const TreeState& want_;
    std::set<std::string> removed_storage_;  // "<hba>/<device>"
    std::vector<const DeviceState*> removed_devices_;
    std::vector<Operation> ops_;
};

}  // namespace

const char* to_string(Operation::Kind kind) {
    switch (kind) {
    case Operation::Kind::MakeDirectory: return "mkdir";
    case Operation::Kind::RemoveDirectory: return "rmdir";
    case Operation::Kind::Symlink: return "symlink";
    case Operation::Kind::Unlink: return "unlink";
    case Operation::Kind::Write: return "write";
    }
    return "unknown";
}

std::string to_string(const Operation& operation) {
    std::string text = std::string(to_string(operation.kind)) + " " + operation.path;
    if (operation.kind == Operation::Kind::Symlink) {
        text += " -> " + operation.value;
    } else if (operation.kind == Operation::Kind::Write) {
        text += " = \"" + operation.value + "\"";
        if (operation.only_if_present) {
            text += " (if present)";
        }
    }
    return text;
}

Result<std::vector<Operation>> plan_configfs(const TreeState& current, const TreeState& desired) {
    return Planner(current, desired).run();
}

std::string device_path(const std::string& hba, const std::string& device) {
    return "core/" + hba + "/" + device;
}

std::string target_path(const std::string& target) {
    return std::string(kFabricDirectory) + "/" + target;
}

std::string tpg_path(const std::string& target, uint16_t tpgt) {
    return target_path(target) + "/tpgt_" + std::to_string(tpgt);
}

std::string lun_path(const std::string& target, uint16_t tpgt, uint32_t lun) {
    return tpg_path(target, tpgt) + "/lun/lun_" + std::to_string(lun);
}

std::string acl_path(const std::string& target, uint16_t tpgt, const std::string& initiator) {
    return tpg_path(target, tpgt) + "/acls/" + initiator;
}

std::string mapped_lun_path(const std::string& target, uint16_t tpgt, const std::string& initiator, uint32_t mapped) {
    return acl_path(target, tpgt, initiator) + "/lun_" + std::to_string(mapped);
}

}  // namespace iscsi::kmod
