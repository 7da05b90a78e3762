#include "configfs_plan.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "config_fixture.h"

namespace iscsi::kmod {
namespace {

using test::as_read_back;
using test::kInitiator;
using test::kTarget;
using test::one_target;
using K = Operation::Kind;

TreeState desired(const config::Config& c) {
    auto state = desired_state(c);
    EXPECT_TRUE(state) << state.error().message;
    return *state;
}

std::vector<Operation> plan(const TreeState& current, const TreeState& wanted) {
    auto ops = plan_configfs(current, wanted);
    EXPECT_TRUE(ops) << ops.error().message;
    return ops ? *ops : std::vector<Operation>{};
}

std::string dump(const std::vector<Operation>& ops) {
    std::string text;
    for (const auto& op : ops) {
        text += to_string(op) + "\n";
    }
    return text;
}

size_t index_of(const std::vector<Operation>& ops, K kind, const std::string& path) {
    for (size_t i = 0; i < ops.size(); ++i) {
        if (ops[i].kind == kind && ops[i].path == path) {
            return i;
        }
    }
    ADD_FAILURE() << "no " << to_string(kind) << " " << path << " in\n" << dump(ops);
    return ops.size();
}

const std::string kTpg = std::string("iscsi_handoff/") + kTarget + "/tpgt_1";
const std::string kDisk = "core/fileio_7143/disk1";
const std::string kAcl = kTpg + "/acls/" + kInitiator;

TEST(PlanConfigfs, BuildsEverythingFromNothingInDependencyOrder) {
    auto ops = plan(TreeState{}, desired(one_target()));
    const std::vector<Operation> expected = {
        {K::MakeDirectory, "iscsi_handoff", "", false},
        {K::MakeDirectory, "core/fileio_7143", "", false},
        {K::MakeDirectory, "core/rd_mcp_7143", "", false},
        {K::MakeDirectory, kDisk, "", false},
        {K::Write, kDisk + "/alias", desired(one_target()).devices.at("disk1").alias, false},
        {K::Write, kDisk + "/control", "fd_dev_name=/var/lib/iscsi-target/disk1.img,fd_dev_size=1073741824", false},
        {K::Write, kDisk + "/udev_path", "/var/lib/iscsi-target/disk1.img", false},
        {K::Write, kDisk + "/wwn/vpd_unit_serial", "0123456789abcdef", false},
        {K::Write, kDisk + "/enable", "1", false},
        {K::Write, kDisk + "/attrib/emulate_tpu", "1", false},
        {K::MakeDirectory, "core/rd_mcp_7143/ram1", "", false},
        {K::Write, "core/rd_mcp_7143/ram1/alias", desired(one_target()).devices.at("ram1").alias, false},
        {K::Write, "core/rd_mcp_7143/ram1/control", "rd_pages=16384", false},
        {K::Write, "core/rd_mcp_7143/ram1/enable", "1", false},
        {K::MakeDirectory, std::string("iscsi_handoff/") + kTarget, "", false},
        {K::MakeDirectory, kTpg, "", false},
        {K::Write, kTpg + "/attrib/cache_dynamic_acls", "0", false},
        {K::Write, kTpg + "/attrib/demo_mode_write_protect", "0", false},
        {K::Write, kTpg + "/attrib/generate_node_acls", "0", false},
        {K::Write, kTpg + "/attrib/nopin_interval", "15", true},
        {K::Write, kTpg + "/attrib/nopin_timeout", "30", true},
        {K::MakeDirectory, kTpg + "/lun/lun_0", "", false},
        {K::Symlink, kTpg + "/lun/lun_0/backstore", kDisk, false},
        {K::MakeDirectory, kTpg + "/lun/lun_1", "", false},
        {K::Symlink, kTpg + "/lun/lun_1/backstore", "core/rd_mcp_7143/ram1", false},
        {K::MakeDirectory, kAcl, "", false},
        {K::MakeDirectory, kAcl + "/lun_0", "", false},
        {K::Symlink, kAcl + "/lun_0/tpg_lun", kTpg + "/lun/lun_0", false},
        {K::Write, kAcl + "/lun_0/write_protect", "0", false},
        {K::MakeDirectory, kAcl + "/lun_5", "", false},
        {K::Symlink, kAcl + "/lun_5/tpg_lun", kTpg + "/lun/lun_1", false},
        {K::Write, kAcl + "/lun_5/write_protect", "1", false},
        {K::Write, kTpg + "/enable", "1", true},
    };
    EXPECT_EQ(ops, expected) << dump(ops);
}

TEST(PlanConfigfs, IsEmptyWhenTheTreeAlreadyMatches) {
    TreeState wanted = desired(one_target());
    auto ops = plan(as_read_back(wanted), wanted);
    EXPECT_TRUE(ops.empty()) << dump(ops);
}

TEST(PlanConfigfs, RemovesOnlyADroppedAcl) {
    TreeState current = as_read_back(desired(one_target()));
    config::Config c = one_target();
    c.targets[0].acls.clear();
    auto ops = plan(current, desired(c));
    const std::vector<Operation> expected = {
        {K::Unlink, kAcl + "/lun_0/tpg_lun", "", false},
        {K::RemoveDirectory, kAcl + "/lun_0", "", false},
        {K::Unlink, kAcl + "/lun_5/tpg_lun", "", false},
        {K::RemoveDirectory, kAcl + "/lun_5", "", false},
        {K::RemoveDirectory, kAcl, "", false},
    };
    EXPECT_EQ(ops, expected) << dump(ops);
}

TEST(PlanConfigfs, ChangesABackstoreAttributeInPlace) {
    TreeState current = as_read_back(desired(one_target()));
    config::Config c = one_target();
    c.backstores[0].attributes["emulate_tpu"] = "0";
    c.backstores[0].attributes["is_nonrot"] = "1";
    auto ops = plan(current, desired(c));
    const std::vector<Operation> expected = {
        {K::Write, kDisk + "/attrib/emulate_tpu", "0", false},
        {K::Write, kDisk + "/attrib/is_nonrot", "1", false},
    };
    EXPECT_EQ(ops, expected) << dump(ops);
}

TEST(PlanConfigfs, RecreatesAResizedBackstoreAfterUnexportingIt) {
    TreeState current = as_read_back(desired(one_target()));
    config::Config c = one_target();
    c.backstores[0].size_bytes *= 2;
    auto ops = plan(current, desired(c));
    // Everything that exports disk1 goes first, then disk1, then it comes back.
    const size_t unmap = index_of(ops, K::Unlink, kAcl + "/lun_0/tpg_lun");
    const size_t unlink_lun = index_of(ops, K::Unlink, kTpg + "/lun/lun_0/backstore");
    const size_t rmdir_lun = index_of(ops, K::RemoveDirectory, kTpg + "/lun/lun_0");
    const size_t rmdir_disk = index_of(ops, K::RemoveDirectory, kDisk);
    const size_t mkdir_disk = index_of(ops, K::MakeDirectory, kDisk);
    const size_t mkdir_lun = index_of(ops, K::MakeDirectory, kTpg + "/lun/lun_0");
    const size_t relink = index_of(ops, K::Symlink, kAcl + "/lun_0/tpg_lun");
    EXPECT_LT(unmap, unlink_lun);
    EXPECT_LT(unlink_lun, rmdir_lun);
    EXPECT_LT(rmdir_lun, rmdir_disk);
    EXPECT_LT(rmdir_disk, mkdir_disk);
    EXPECT_LT(mkdir_disk, mkdir_lun);
    EXPECT_LT(mkdir_lun, relink);
    // The ramdisk, its LUN and the mapping to it are untouched.
    for (const auto& op : ops) {
        EXPECT_EQ(op.path.find("ram1"), std::string::npos) << to_string(op);
        EXPECT_EQ(op.path.find("lun_1"), std::string::npos) << to_string(op);
        EXPECT_EQ(op.path.find("lun_5"), std::string::npos) << to_string(op);
    }
    EXPECT_EQ(std::count_if(ops.begin(), ops.end(), [](const Operation& op) { return op.path == "iscsi_handoff"; }), 0);
}

TEST(PlanConfigfs, RecreatesADeviceThatNeverGotEnabled) {
    TreeState wanted = desired(one_target());
    TreeState current = as_read_back(wanted);
    current.devices.at("ram1").enabled = false;
    auto ops = plan(current, wanted);
    const size_t rmdir = index_of(ops, K::RemoveDirectory, "core/rd_mcp_7143/ram1");
    const size_t mkdir = index_of(ops, K::MakeDirectory, "core/rd_mcp_7143/ram1");
    EXPECT_LT(rmdir, mkdir);
}

TEST(PlanConfigfs, TogglesDemoModeWithOneWrite) {
    TreeState current = as_read_back(desired(one_target()));
    config::Config c = one_target();
    c.targets[0].portal_groups[0].demo_mode = true;
    auto ops = plan(current, desired(c));
    const std::vector<Operation> expected = {
        {K::Write, kTpg + "/attrib/cache_dynamic_acls", "1", false},
        {K::Write, kTpg + "/attrib/generate_node_acls", "1", false},
    };
    EXPECT_EQ(ops, expected) << dump(ops);
}

TEST(PlanConfigfs, ChangesWriteProtectInPlace) {
    TreeState current = as_read_back(desired(one_target()));
    config::Config c = one_target();
    c.targets[0].acls[0].mapped_luns[0].write_protect = true;
    auto ops = plan(current, desired(c));
    const std::vector<Operation> expected = {{K::Write, kAcl + "/lun_0/write_protect", "1", false}};
    EXPECT_EQ(ops, expected) << dump(ops);
}

TEST(PlanConfigfs, RepointsAMappedLun) {
    TreeState current = as_read_back(desired(one_target()));
    config::Config c = one_target();
    c.targets[0].acls[0].mapped_luns[1].lun = 0;  // mapped 5 -> lun 0 instead of lun 1
    auto ops = plan(current, desired(c));
    const std::vector<Operation> expected = {
        {K::Unlink, kAcl + "/lun_5/tpg_lun", "", false},
        {K::RemoveDirectory, kAcl + "/lun_5", "", false},
        {K::MakeDirectory, kAcl + "/lun_5", "", false},
        {K::Symlink, kAcl + "/lun_5/tpg_lun", kTpg + "/lun/lun_0", false},
        {K::Write, kAcl + "/lun_5/write_protect", "1", false},
    };
    EXPECT_EQ(ops, expected) << dump(ops);
}

TEST(PlanConfigfs, DisablesAPortalGroup) {
    TreeState current = as_read_back(desired(one_target()));
    config::Config c = one_target();
    c.targets[0].portal_groups[0].enabled = false;
    auto ops = plan(current, desired(c));
    const std::vector<Operation> expected = {{K::Write, kTpg + "/enable", "0", false}};
    EXPECT_EQ(ops, expected) << dump(ops);
}

TEST(PlanConfigfs, SkipsOptionalAttributesTheModuleDoesNotHave) {
    TreeState wanted = desired(one_target());
    TreeState current = as_read_back(wanted);
    auto& attributes = current.targets.at(kTarget).tpgs.at(1).attributes;
    attributes.erase(kAttribNopInInterval);
    attributes.erase(kAttribNopInTimeout);
    EXPECT_TRUE(plan(current, wanted).empty());
    attributes.erase(kAttribGenerateNodeAcls);
    auto ops = plan(current, wanted);
    const std::vector<Operation> expected = {{K::Write, kTpg + "/attrib/generate_node_acls", "0", false}};
    EXPECT_EQ(ops, expected) << "a required attribute is written even if missing, to fail loudly";
}

TEST(PlanConfigfs, TearsDownARemovedTargetInnermostFirst) {
    TreeState current = as_read_back(desired(one_target()));
    config::Config empty;
    auto ops = plan(current, desired(empty));
    const std::vector<Operation> expected = {
        {K::Write, kTpg + "/enable", "0", true},
        {K::Unlink, kAcl + "/lun_0/tpg_lun", "", false},
        {K::RemoveDirectory, kAcl + "/lun_0", "", false},
        {K::Unlink, kAcl + "/lun_5/tpg_lun", "", false},
        {K::RemoveDirectory, kAcl + "/lun_5", "", false},
        {K::RemoveDirectory, kAcl, "", false},
        {K::Unlink, kTpg + "/lun/lun_0/backstore", "", false},
        {K::RemoveDirectory, kTpg + "/lun/lun_0", "", false},
        {K::Unlink, kTpg + "/lun/lun_1/backstore", "", false},
        {K::RemoveDirectory, kTpg + "/lun/lun_1", "", false},
        {K::RemoveDirectory, kTpg, "", false},
        {K::RemoveDirectory, std::string("iscsi_handoff/") + kTarget, "", false},
        {K::RemoveDirectory, kDisk, "", false},
        {K::RemoveDirectory, "core/rd_mcp_7143/ram1", "", false},
        {K::RemoveDirectory, "core/fileio_7143", "", false},
        {K::RemoveDirectory, "core/rd_mcp_7143", "", false},
    };
    EXPECT_EQ(ops, expected) << dump(ops);
}

TEST(PlanConfigfs, NeverTouchesDevicesItDidNotCreate) {
    TreeState current = as_read_back(desired(one_target()));
    current.foreign_devices.insert("fileio_7143/someone_elses");
    config::Config empty;
    auto ops = plan(current, desired(empty));
    for (const auto& op : ops) {
        EXPECT_EQ(op.path.find("someone_elses"), std::string::npos) << to_string(op);
        EXPECT_NE(op.path, "core/fileio_7143") << "the HBA still holds a foreign device";
    }
    index_of(ops, K::RemoveDirectory, "core/rd_mcp_7143");
}

TEST(PlanConfigfs, RefusesToAdoptAForeignDeviceOfTheSameName) {
    TreeState current;
    current.hbas.insert("fileio_7143");
    current.foreign_devices.insert("fileio_7143/disk1");
    auto ops = plan_configfs(current, desired(one_target()));
    ASSERT_FALSE(ops);
    EXPECT_EQ(ops.error().code, EEXIST);
    EXPECT_NE(ops.error().message.find("fileio_7143/disk1"), std::string::npos) << ops.error().message;
}

TEST(PlanConfigfs, ReplacesALunWhoseLinkPointsElsewhere) {
    TreeState wanted = desired(one_target());
    TreeState current = as_read_back(wanted);
    auto& lun = current.targets.at(kTarget).tpgs.at(1).luns.at(1);
    lun.hba = "rd_mcp_0";  // e.g. left by another tool
    lun.device = "other";
    auto ops = plan(current, wanted);
    const size_t unmap = index_of(ops, K::Unlink, kAcl + "/lun_5/tpg_lun");
    const size_t unlink = index_of(ops, K::Unlink, kTpg + "/lun/lun_1/backstore");
    const size_t relink = index_of(ops, K::Symlink, kTpg + "/lun/lun_1/backstore");
    const size_t remap = index_of(ops, K::Symlink, kAcl + "/lun_5/tpg_lun");
    EXPECT_LT(unmap, unlink);
    EXPECT_LT(unlink, relink);
    EXPECT_LT(relink, remap);
    EXPECT_EQ(ops[relink].value, "core/rd_mcp_7143/ram1");
}

TEST(PlanConfigfs, AddsASecondPortalGroupWithoutTouchingTheFirst) {
    TreeState current = as_read_back(desired(one_target()));
    config::Config c = one_target();
    config::PortalGroup two;
    two.tpgt = 2;
    c.targets[0].portal_groups.push_back(two);
    auto ops = plan(current, desired(c));
    ASSERT_FALSE(ops.empty());
    for (const auto& op : ops) {
        EXPECT_EQ(op.path.find("tpgt_1"), std::string::npos) << to_string(op);
    }
    EXPECT_EQ(ops.front(), (Operation{K::MakeDirectory, std::string("iscsi_handoff/") + kTarget + "/tpgt_2", "", false}));
}

TEST(OperationToString, ReadsLikeAShellCommand) {
    EXPECT_EQ(to_string(Operation{K::Symlink, "a/b", "c/d", false}), "symlink a/b -> c/d");
    EXPECT_EQ(to_string(Operation{K::Write, "x/enable", "1", true}), "write x/enable = \"1\" (if present)");
    EXPECT_EQ(to_string(Operation{K::RemoveDirectory, "x", "", false}), "rmdir x");
}

}  // namespace
}  // namespace iscsi::kmod
