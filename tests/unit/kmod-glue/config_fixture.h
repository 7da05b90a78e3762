// A small configuration used by the configfs tests.
#pragma once

#include "config/model.h"
#include "configfs_plan.h"
#include "configfs_state.h"

namespace iscsi::kmod::test {

inline const char* kTarget = "iqn.2003-01.org.example:disk1";
inline const char* kInitiator = "iqn.1994-05.com.example:host";

inline config::Config one_target() {
    config::Config c;
    config::Backstore disk;
    disk.name = "disk1";
    disk.type = config::BackstoreType::FileIo;
    disk.path = "/var/lib/iscsi-target/disk1.img";
    disk.size_bytes = 1 << 30;
    disk.wwn = "0123456789abcdef";
    disk.attributes["emulate_tpu"] = "1";
    c.backstores.push_back(disk);
    config::Backstore ram;
    ram.name = "ram1";
    ram.type = config::BackstoreType::Ramdisk;
    ram.size_bytes = 64 << 20;
    c.backstores.push_back(ram);

    config::Target t;
    t.name = kTarget;
    config::PortalGroup g;
    g.tpgt = 1;
    g.portals.push_back({"127.0.0.1", 3260});
    t.portal_groups.push_back(g);
    t.luns.push_back({0, "disk1"});
    t.luns.push_back({1, "ram1"});
    config::Acl acl;
    acl.initiator_name = kInitiator;
    acl.mapped_luns.push_back({0, 0, false});
    acl.mapped_luns.push_back({5, 1, true});
    t.acls.push_back(acl);
    c.targets.push_back(t);
    return c;
}

// What the reader would find after the desired state was applied.
inline TreeState as_read_back(TreeState state) {
    for (auto& [name, device] : state.devices) {
        device.control.clear();
        device.udev_path.clear();
        device.serial.clear();
        device.enabled = true;
    }
    for (auto& [target, t] : state.targets) {
        for (auto& [tpgt, tpg] : t.tpgs) {
            for (auto& [number, lun] : tpg.luns) {
                lun.link_name = kLunLinkName;
            }
            for (auto& [initiator, acl] : tpg.acls) {
                for (auto& [mapped, m] : acl.mapped_luns) {
                    m.link_name = kMappedLunLinkName;
                }
            }
            tpg.optional_attributes.clear();
        }
    }
    state.fabric_present = !state.targets.empty();
    return state;
}

}  // namespace iscsi::kmod::test
