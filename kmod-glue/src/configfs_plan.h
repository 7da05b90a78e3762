// The plan that turns one configfs tree state into another: a list of
// filesystem operations in an order LIO accepts. Pure: unit-tested without
// configfs.
//
// Order: everything that goes away is removed first, innermost first (a
// mapped LUN's link before its directory, before the ACL, before the TPG;
// a LUN's link before the backstore it exports); then everything new is
// created outermost first (backstore, target, TPG, LUN, ACL, mapped LUN),
// and a TPG is enabled last. Objects that did not change are not touched.
#pragma once

#include <string>
#include <vector>

#include "configfs_state.h"

namespace iscsi::kmod {

struct Operation {
    enum class Kind { MakeDirectory, RemoveDirectory, Symlink, Unlink, Write };
    Kind kind = Kind::MakeDirectory;
    std::string path;   // relative to the configfs root
    std::string value;  // Symlink: target, relative to the root; Write: the text
    bool only_if_present = false;  // Write: skip when the module has no such file
    bool operator==(const Operation&) const = default;
};

const char* to_string(Operation::Kind kind);
std::string to_string(const Operation& operation);

// Link names the manager gives the symlinks it creates.
inline constexpr const char* kLunLinkName = "backstore";
inline constexpr const char* kMappedLunLinkName = "tpg_lun";

Result<std::vector<Operation>> plan_configfs(const TreeState& current, const TreeState& desired);

// Paths, relative to the configfs root.
std::string device_path(const std::string& hba, const std::string& device);
std::string target_path(const std::string& target);
std::string tpg_path(const std::string& target, uint16_t tpgt);
std::string lun_path(const std::string& target, uint16_t tpgt, uint32_t lun);
std::string acl_path(const std::string& target, uint16_t tpgt, const std::string& initiator);
std::string mapped_lun_path(const std::string& target, uint16_t tpgt, const std::string& initiator, uint32_t mapped);

}  // namespace iscsi::kmod
