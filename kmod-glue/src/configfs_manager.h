// Makes LIO's configfs tree match a configuration: read what is there,
// compute the plan (configfs_plan.h), apply it in order. Idempotent: applying
// the same configuration twice does nothing the second time.
//
// apply() keeps the state it read and, after a plan ran, re-reads only what
// the plan touched: one change among 1,000 targets then costs that target,
// not a read of every target's attributes (which made creating N objects one
// by one O(N^2) in configfs reads). The kept state is dropped, and the next
// apply reads the whole tree, when an operation fails or when the tree's
// fabric, HBA, target or device names no longer match it (someone else
// changed the tree, the module was reloaded).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/model.h"
#include "configfs_plan.h"

namespace iscsi::kmod {

class ConfigfsManager {
public:
    // `root`: LIO's configfs directory, normally /sys/kernel/config/target.
    explicit ConfigfsManager(std::string root) : root_(std::move(root)) {}

    // What apply() would do now, without doing it.
    Result<std::vector<Operation>> plan(const config::Config& config) const;

    // Applies the plan, stopping at the first operation LIO refuses (the
    // Error names it); the next apply resumes from whatever was done.
    Result<void> apply(const config::Config& config);

    // Runs operations against the tree; exposed for tests and tools.
    Result<void> execute(const std::vector<Operation>& operations);

    const std::string& root() const { return root_; }

private:
    std::string root_;
    std::optional<TreeState> current_;  // the tree as of the last apply, see above
};

}  // namespace iscsi::kmod
