// KernelDataPath: the production DataPath, backed by iscsi_handoff.ko.
//
// It speaks generic netlink (family ISCSI_HANDOFF) for handoff, session list,
// terminate and events, and writes configfs (/sys/kernel/config/target) to
// make LIO's view match the configuration. When the module is not loaded the
// object still exists: available() is false, unavailable_reason() says why,
// and every call fails with a named Error, so the daemon can refuse Normal
// logins with 0x0301 and log the reason.
#pragma once

#include <memory>
#include <string>

#include <systemd/sd-event.h>

#include "data_path.h"

namespace iscsi::kmod {

struct KernelDataPathOptions {
    // Where LIO's configfs tree lives; guest tests point this at the real one.
    std::string configfs_root = "/sys/kernel/config/target";
};

// Opens the data path and attaches its event socket to `event` (may be null:
// then no events are delivered). Never returns null.
std::unique_ptr<DataPath> open_kernel_data_path(sd_event* event);
std::unique_ptr<DataPath> open_kernel_data_path(sd_event* event, const KernelDataPathOptions& options);

}  // namespace iscsi::kmod
