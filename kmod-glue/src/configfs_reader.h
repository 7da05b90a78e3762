// Reads the part of LIO's configfs tree that iscsi-targetd manages into a
// TreeState (configfs_state.h). Read-only; unknown entries are ignored.
#pragma once

#include <string>

#include "configfs_state.h"

namespace iscsi::kmod {

// `root` is the target directory, normally /sys/kernel/config/target.
Result<TreeState> read_configfs_state(const std::string& root);

}  // namespace iscsi::kmod
