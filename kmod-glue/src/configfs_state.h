// The part of LIO's configfs tree (/sys/kernel/config/target) that
// iscsi-targetd manages, as plain values: what the tree holds now (read by
// configfs_reader) and what the configuration wants (desired_state). The plan
// (configfs_plan) is computed from two of these without touching configfs.
//
// Ownership: iscsi-targetd owns the whole iscsi_handoff fabric directory and
// the core backstores it created. Those live in one HBA per backstore type,
// core/<type>_<kOwnedHbaIndex>/<name>, and carry an alias starting with
// kOwnedAliasPrefix that also records how they were created (path, size,
// write-back, serial): a change there means delete and re-create, since LIO
// cannot change them on a live device. Anything else under core/ is someone
// else's (targetcli, another daemon) and is never touched.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "config/model.h"
#include "data_path.h"

namespace iscsi::kmod {

inline constexpr uint32_t kOwnedHbaIndex = 7143;  // RFC 7143; any free HBA index would do
inline constexpr const char* kOwnedAliasPrefix = "iscsi-targetd:";
inline constexpr const char* kFabricDirectory = "iscsi_handoff";

// "fileio_7143" for FileIo: the HBA directory of our backstores of a type.
std::string owned_hba_directory(config::BackstoreType type);
// "fileio", "iblock", "rd_mcp", "user": LIO's subsystem plugin names.
const char* subsystem_name(config::BackstoreType type);

struct DeviceState {
    config::BackstoreType type = config::BackstoreType::FileIo;
    std::string name;
    std::string alias;                              // kOwnedAliasPrefix + identity; decides re-creation
    bool enabled = true;                            // `enable` reads 1: configured by LIO
    std::string control;                            // desired only: what to write to `control`
    std::string udev_path;                          // desired only: informational path LIO shows
    std::string serial;                             // desired only: wwn/vpd_unit_serial, empty: core's
    std::map<std::string, std::string> attributes;  // attrib/<name>
};

struct MappedLunState {
    uint32_t lun = 0;  // the TPG's lun_N this maps to
    bool write_protect = false;
    std::string link_name;  // current only: the symlink in acls/<initiator>/lun_M
};

struct AclState {
    std::map<uint32_t, MappedLunState> mapped_luns;  // by mapped LUN number
};

// Where a LUN's symlink points: core/<hba>/<device>.
struct LunState {
    std::string hba;
    std::string device;
    std::string link_name;  // current only: the symlink in lun/lun_N
    bool same_storage(const LunState& other) const { return hba == other.hba && device == other.device; }
};

struct TpgState {
    std::map<uint32_t, LunState> luns;
    std::map<std::string, AclState> acls;            // by initiator name
    std::map<std::string, std::string> attributes;   // attrib/<name>; current: the files that exist
    std::set<std::string> optional_attributes;       // desired only: set only where the module has the file
    std::optional<bool> enabled;                     // the `enable` file; unset: the module has none
};

struct TargetState {
    std::map<uint16_t, TpgState> tpgs;
};

struct TreeState {
    std::map<std::string, DeviceState> devices;  // owned devices, by name
    std::set<std::string> foreign_devices;       // "<hba>/<name>" of devices in our HBAs that are not ours
    std::set<std::string> hbas;                  // our HBA directories that exist
    bool fabric_present = false;                 // iscsi_handoff/ exists
    std::map<std::string, TargetState> targets;  // by target name
};

// Size of an existing file, for fileio backstores configured without a size;
// nullopt when the file does not exist.
using FileSizeLookup = std::function<std::optional<uint64_t>(const std::string& path)>;

// TPG attribute names (tpgt_N/attrib/<name>) the manager sets.
inline constexpr const char* kAttribGenerateNodeAcls = "generate_node_acls";
inline constexpr const char* kAttribDemoModeWriteProtect = "demo_mode_write_protect";
inline constexpr const char* kAttribCacheDynamicAcls = "cache_dynamic_acls";
inline constexpr const char* kAttribNopInInterval = "nopin_interval";  // optional: only if the module has it
inline constexpr const char* kAttribNopInTimeout = "nopin_timeout";    // optional

// What `config` asks of configfs. Fails on what configfs cannot express
// (a path with a comma, a LUN naming an unknown backstore, ...).
Result<TreeState> desired_state(const config::Config& config, const FileSizeLookup& file_size = {});

}  // namespace iscsi::kmod
