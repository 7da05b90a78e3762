// Reads the part of LIO's configfs tree that iscsi-targetd manages into a
// TreeState (configfs_state.h). Read-only; unknown entries are ignored.
#pragma once

#include <string>
#include <vector>

#include "configfs_state.h"

namespace iscsi::kmod {

// `root` is the target directory, normally /sys/kernel/config/target.
Result<TreeState> read_configfs_state(const std::string& root);

// Re-reads into `state` only the devices and targets that `paths` (relative
// to root, as in Operation::path) lie in, and the HBA and fabric directories
// themselves when a path names them: after a plan ran, this brings a state
// read before it up to date at the cost of what the plan touched, instead of
// the whole tree (reading 1,000 targets' attributes takes seconds).
Result<void> refresh_configfs_state(const std::string& root, const std::vector<std::string>& paths,
                                    TreeState& state);

// Whether the tree has exactly the fabric, HBAs, targets and devices (by
// name, ours and foreign) that `state` has: a few directory listings, to
// notice that someone else changed the tree since `state` was read.
bool configfs_names_match(const std::string& root, const TreeState& state);

}  // namespace iscsi::kmod
