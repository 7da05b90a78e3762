// The reader against a directory tree shaped like LIO's configfs (plain
// directories, files and relative symlinks, as configfs reports them), and
// the executor against a temporary directory.
#include "configfs_reader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "config_fixture.h"
#include "configfs_manager.h"

namespace iscsi::kmod {
namespace {

namespace fs = std::filesystem;
using test::kInitiator;
using test::kTarget;

class FakeConfigfs : public ::testing::Test {
protected:
    void SetUp() override {
        root_ = fs::temp_directory_path() / ("kmod-glue-reader-" + std::to_string(::getpid()) + "-" +
                                             ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(root_);
        fs::create_directories(root_ / "core");
    }
    void TearDown() override { fs::remove_all(root_); }

    void file(const fs::path& relative, const std::string& text) {
        fs::create_directories((root_ / relative).parent_path());
        std::ofstream(root_ / relative) << text;
    }
    void link(const fs::path& relative, const fs::path& target) {
        fs::create_directories((root_ / relative).parent_path());
        fs::create_symlink(target, root_ / relative);
    }
    void dir(const fs::path& relative) { fs::create_directories(root_ / relative); }

    // The tree LIO would show after one_target() was applied.
    void populate_applied_tree() {
        TreeState wanted = *desired_state(test::one_target());
        const std::string disk = "core/fileio_7143/disk1";
        file(disk + "/alias", wanted.devices.at("disk1").alias + "\n");
        file(disk + "/enable", "1\n");
        file(disk + "/attrib/emulate_tpu", "1\n");
        file(disk + "/attrib/block_size", "512\n");
        file(disk + "/wwn/vpd_unit_serial", "T10 VPD Unit Serial Number: 0123456789abcdef\n");
        const std::string ram = "core/rd_mcp_7143/ram1";
        file(ram + "/alias", wanted.devices.at("ram1").alias + "\n");
        file(ram + "/enable", "1\n");
        file("core/rd_mcp_7143/hba_info", "HBA Index: 7143\n");
        const std::string tpg = std::string("iscsi_handoff/") + kTarget + "/tpgt_1";
        dir("iscsi_handoff/discovery_auth");
        dir(std::string("iscsi_handoff/") + kTarget + "/fabric_statistics");
        file(tpg + "/enable", "1\n");
        for (const auto& [name, value] : wanted.targets.at(kTarget).tpgs.at(1).attributes) {
            file(tpg + "/attrib/" + name, value + "\n");
        }
        link(tpg + "/lun/lun_0/backstore", "../../../../../core/fileio_7143/disk1");
        dir(tpg + "/lun/lun_0/statistics");
        link(tpg + "/lun/lun_1/backstore", "../../../../../core/rd_mcp_7143/ram1");
        const std::string acl = tpg + "/acls/" + kInitiator;
        dir(acl + "/attrib");
        dir(acl + "/auth");
        link(acl + "/lun_0/tpg_lun", "../../../lun/lun_0");
        file(acl + "/lun_0/write_protect", "0\n");
        link(acl + "/lun_5/tpg_lun", "../../../lun/lun_1");
        file(acl + "/lun_5/write_protect", "1\n");
    }

    fs::path root_;
};

TEST_F(FakeConfigfs, ReadsTheManagedPartOfTheTree) {
    populate_applied_tree();
    file("core/fileio_7143/foreign/alias", "made by targetcli\n");
    file("core/fileio_0/other/alias", "\n");
    auto state = read_configfs_state(root_.string());
    ASSERT_TRUE(state) << state.error().message;
    EXPECT_TRUE(state->fabric_present);
    EXPECT_EQ(state->hbas, (std::set<std::string>{"fileio_7143", "rd_mcp_7143"}));
    EXPECT_EQ(state->foreign_devices, (std::set<std::string>{"fileio_7143/foreign"}))
        << "devices outside our HBAs are not even looked at";
    ASSERT_EQ(state->devices.size(), 2u);
    EXPECT_TRUE(state->devices.at("disk1").enabled);
    EXPECT_EQ(state->devices.at("disk1").attributes.at("block_size"), "512");
    ASSERT_EQ(state->targets.size(), 1u) << "discovery_auth is not a target";
    const TpgState& tpg = state->targets.at(kTarget).tpgs.at(1);
    EXPECT_EQ(tpg.enabled, std::optional<bool>(true));
    EXPECT_EQ(tpg.luns.at(0).hba, "fileio_7143");
    EXPECT_EQ(tpg.luns.at(0).device, "disk1");
    EXPECT_EQ(tpg.luns.at(0).link_name, "backstore");
    EXPECT_EQ(tpg.luns.at(1).device, "ram1");
    const AclState& acl = tpg.acls.at(kInitiator);
    ASSERT_EQ(acl.mapped_luns.size(), 2u) << "attrib and auth are LIO's groups, not mapped LUNs";
    EXPECT_EQ(acl.mapped_luns.at(5).lun, 1u);
    EXPECT_TRUE(acl.mapped_luns.at(5).write_protect);
    EXPECT_EQ(acl.mapped_luns.at(0).link_name, "tpg_lun");
}

TEST_F(FakeConfigfs, AnAppliedTreeNeedsNoChange) {
    populate_applied_tree();
    ConfigfsManager manager(root_.string());
    auto ops = manager.plan(test::one_target());
    ASSERT_TRUE(ops) << ops.error().message;
    std::string text;
    for (const auto& op : *ops) {
        text += to_string(op) + "\n";
    }
    EXPECT_TRUE(ops->empty()) << text;
}

TEST_F(FakeConfigfs, AMissingRootIsAnError) {
    auto state = read_configfs_state((root_ / "absent").string());
    ASSERT_FALSE(state);
    EXPECT_EQ(state.error().code, ENOENT);
    EXPECT_NE(state.error().message.find("configfs mounted"), std::string::npos);
}

TEST_F(FakeConfigfs, ExecutesOperationsAndNamesTheOneThatFails) {
    using K = Operation::Kind;
    file("x/present", "");
    ConfigfsManager manager(root_.string());
    auto ok = manager.execute({
        {K::MakeDirectory, "a", "", false},
        {K::MakeDirectory, "a/b", "", false},
        {K::Symlink, "a/link", "a/b", false},
        {K::Write, "x/present", "1", false},
        {K::Write, "x/absent", "1", true},
        {K::Unlink, "a/link", "", false},
        {K::RemoveDirectory, "a/b", "", false},
    });
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_TRUE(fs::is_directory(root_ / "a"));
    EXPECT_FALSE(fs::exists(root_ / "a/b"));
    std::ifstream in(root_ / "x/present");
    std::string value;
    in >> value;
    EXPECT_EQ(value, "1");

    auto failed = manager.execute({{K::Write, "x/absent", "1", false}, {K::MakeDirectory, "never", "", false}});
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, ENOENT);
    EXPECT_NE(failed.error().message.find("write x/absent"), std::string::npos) << failed.error().message;
    EXPECT_FALSE(fs::exists(root_ / "never")) << "execution stops at the first failure";
}

// The manager keeps what it read and re-reads only what a plan touched: that
// must give what a full read gives.
TEST_F(FakeConfigfs, ARefreshedStateMatchesAFullRead) {
    populate_applied_tree();
    auto state = read_configfs_state(root_.string());
    ASSERT_TRUE(state) << state.error().message;
    EXPECT_TRUE(configfs_names_match(root_.string(), *state));

    const std::string tpg = std::string("iscsi_handoff/") + kTarget + "/tpgt_1";
    const std::string other = "iqn.2026-12.org.example:other";
    file("core/fileio_7143/disk2/alias", std::string(kOwnedAliasPrefix) + "disk2\n");
    file("core/fileio_7143/disk2/enable", "1\n");
    link(tpg + "/lun/lun_2/backstore", "../../../../../core/fileio_7143/disk2");
    fs::remove(root_ / (tpg + "/lun/lun_1/backstore"));
    fs::remove_all(root_ / "core/rd_mcp_7143");
    dir("iscsi_handoff/" + other + "/tpgt_3/lun");
    EXPECT_FALSE(configfs_names_match(root_.string(), *state)) << "a device and a target came and went";

    auto ok = refresh_configfs_state(root_.string(),
                                     {"core/fileio_7143/disk2", "core/fileio_7143/disk2/enable",
                                      tpg + "/lun/lun_2/backstore", tpg + "/lun/lun_1/backstore",
                                      "core/rd_mcp_7143/ram1", "core/rd_mcp_7143", "iscsi_handoff/" + other + "/tpgt_3"},
                                     *state);
    ASSERT_TRUE(ok) << ok.error().message;
    auto full = read_configfs_state(root_.string());
    ASSERT_TRUE(full) << full.error().message;
    EXPECT_TRUE(configfs_names_match(root_.string(), *state));
    EXPECT_EQ(state->hbas, full->hbas);
    EXPECT_EQ(state->foreign_devices, full->foreign_devices);
    ASSERT_EQ(state->devices.size(), full->devices.size());
    for (const auto& [name, device] : full->devices) {
        ASSERT_TRUE(state->devices.count(name)) << name;
        EXPECT_EQ(state->devices.at(name).alias, device.alias);
        EXPECT_EQ(state->devices.at(name).attributes, device.attributes);
    }
    ASSERT_EQ(state->targets.size(), 2u);
    for (const auto& [name, target] : full->targets) {
        ASSERT_TRUE(state->targets.count(name)) << name;
        ASSERT_EQ(state->targets.at(name).tpgs.size(), target.tpgs.size()) << name;
        for (const auto& [tag, group] : target.tpgs) {
            const TpgState& mine = state->targets.at(name).tpgs.at(tag);
            ASSERT_EQ(mine.luns.size(), group.luns.size()) << name << " tpgt " << tag;
            for (const auto& [lun, where] : group.luns) {
                EXPECT_TRUE(mine.luns.at(lun).same_storage(where)) << name << " lun " << lun;
            }
            EXPECT_EQ(mine.attributes, group.attributes);
        }
    }
    EXPECT_EQ(state->targets.at(kTarget).tpgs.at(1).luns.at(2).device, "disk2");
}

}  // namespace
}  // namespace iscsi::kmod
