#include "configfs_state.h"

#include <gtest/gtest.h>

#include "config_fixture.h"

namespace iscsi::kmod {
namespace {

using test::kInitiator;
using test::kTarget;
using test::one_target;

TEST(DesiredState, DescribesBackstoresInOurHbas) {
    auto state = desired_state(one_target());
    ASSERT_TRUE(state) << state.error().message;
    EXPECT_EQ(state->hbas, (std::set<std::string>{"fileio_7143", "rd_mcp_7143"}));
    const DeviceState& disk = state->devices.at("disk1");
    EXPECT_EQ(disk.control, "fd_dev_name=/var/lib/iscsi-target/disk1.img,fd_dev_size=1073741824");
    EXPECT_EQ(disk.udev_path, "/var/lib/iscsi-target/disk1.img");
    EXPECT_EQ(disk.serial, "0123456789abcdef");
    EXPECT_EQ(disk.alias.rfind(kOwnedAliasPrefix, 0), 0u) << "the alias marks the device as ours";
    EXPECT_NE(disk.alias.find("size=1073741824"), std::string::npos);
    EXPECT_EQ(disk.attributes.at("emulate_tpu"), "1");
    EXPECT_EQ(state->devices.at("ram1").control, "rd_pages=16384") << "64 MiB in 4 KiB pages";
}

TEST(DesiredState, WriteBackFileioUsesBufferedIo) {
    config::Config c = one_target();
    c.backstores[0].write_back = true;
    auto state = desired_state(c);
    ASSERT_TRUE(state);
    EXPECT_EQ(state->devices.at("disk1").control,
              "fd_dev_name=/var/lib/iscsi-target/disk1.img,fd_dev_size=1073741824,fd_buffered_io=1");
    auto plain = desired_state(one_target());
    EXPECT_NE(state->devices.at("disk1").alias, plain->devices.at("disk1").alias)
        << "a cache mode change must re-create the device";
}

TEST(DesiredState, BlockAndUserBackstores) {
    config::Config c;
    config::Backstore block;
    block.name = "sdb";
    block.type = config::BackstoreType::Block;
    block.path = "/dev/sdb";
    config::Backstore user;
    user.name = "u";
    user.type = config::BackstoreType::User;
    user.path = "file//srv/u.img";
    user.size_bytes = 4096;
    c.backstores = {block, user};
    auto state = desired_state(c);
    ASSERT_TRUE(state) << state.error().message;
    EXPECT_EQ(state->devices.at("sdb").control, "udev_path=/dev/sdb");
    EXPECT_EQ(state->devices.at("u").control, "dev_config=file//srv/u.img,dev_size=4096");
    EXPECT_EQ(state->hbas, (std::set<std::string>{"iblock_7143", "user_7143"}));
    EXPECT_FALSE(state->fabric_present) << "no target: the fabric directory is not needed";
}

TEST(DesiredState, FileioWithoutSizeTakesTheFilesSize) {
    config::Config c = one_target();
    c.backstores[0].size_bytes = 0;
    auto state = desired_state(c, [](const std::string&) { return std::optional<uint64_t>(8192); });
    ASSERT_TRUE(state);
    EXPECT_EQ(state->devices.at("disk1").control, "fd_dev_name=/var/lib/iscsi-target/disk1.img,fd_dev_size=8192");
    auto missing = desired_state(c, [](const std::string&) { return std::optional<uint64_t>(); });
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("disk1"), std::string::npos);
}

TEST(DesiredState, EveryPortalGroupCarriesTheTargetsLunsAndAcls) {
    config::Config c = one_target();
    config::PortalGroup second;
    second.tpgt = 2;
    second.demo_mode = true;
    second.enabled = false;
    c.targets[0].portal_groups.push_back(second);
    auto state = desired_state(c);
    ASSERT_TRUE(state);
    const TargetState& t = state->targets.at(kTarget);
    ASSERT_EQ(t.tpgs.size(), 2u);
    const TpgState& one = t.tpgs.at(1);
    const TpgState& two = t.tpgs.at(2);
    EXPECT_EQ(one.luns.size(), 2u);
    EXPECT_EQ(two.luns.size(), 2u);
    EXPECT_EQ(two.luns.at(1).hba, "rd_mcp_7143");
    EXPECT_EQ(two.luns.at(1).device, "ram1");
    EXPECT_EQ(one.acls.at(kInitiator).mapped_luns.at(5).lun, 1u);
    EXPECT_TRUE(one.acls.at(kInitiator).mapped_luns.at(5).write_protect);
    EXPECT_EQ(one.attributes.at(kAttribGenerateNodeAcls), "0");
    EXPECT_EQ(two.attributes.at(kAttribGenerateNodeAcls), "1");
    EXPECT_EQ(two.attributes.at(kAttribCacheDynamicAcls), "1");
    EXPECT_EQ(one.attributes.at(kAttribNopInInterval), "15");
    EXPECT_EQ(one.optional_attributes.count(kAttribNopInInterval), 1u);
    EXPECT_EQ(one.enabled, std::optional<bool>(true));
    EXPECT_EQ(two.enabled, std::optional<bool>(false));
}

TEST(DesiredState, AnAclWithoutMappedLunsSeesEveryLun) {
    config::Config c = one_target();
    c.targets[0].acls[0].mapped_luns.clear();
    auto state = desired_state(c);
    ASSERT_TRUE(state);
    const auto& mapped = state->targets.at(kTarget).tpgs.at(1).acls.at(kInitiator).mapped_luns;
    ASSERT_EQ(mapped.size(), 2u);
    EXPECT_EQ(mapped.at(0).lun, 0u);
    EXPECT_EQ(mapped.at(1).lun, 1u);
}

struct Unusable {
    const char* name;
    void (*spoil)(config::Config&);
    const char* mentions;
};

class DesiredStateRefuses : public ::testing::TestWithParam<Unusable> {};

TEST_P(DesiredStateRefuses, WithAReason) {
    config::Config c = one_target();
    GetParam().spoil(c);
    auto state = desired_state(c);
    ASSERT_FALSE(state) << GetParam().name;
    EXPECT_EQ(state.error().code, EINVAL);
    EXPECT_NE(state.error().message.find(GetParam().mentions), std::string::npos) << state.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Bad, DesiredStateRefuses,
    ::testing::Values(
        Unusable{"comma in path", [](config::Config& c) { c.backstores[0].path = "/a,b"; }, "comma"},
        Unusable{"relative path", [](config::Config& c) { c.backstores[0].path = "disk.img"; }, "absolute"},
        Unusable{"slash in name", [](config::Config& c) { c.backstores[0].name = "a/b"; }, "directory name"},
        Unusable{"duplicate backstore", [](config::Config& c) { c.backstores[1].name = "disk1"; }, "twice"},
        Unusable{"ramdisk of size 0", [](config::Config& c) { c.backstores[1].size_bytes = 0; }, "size 0"},
        Unusable{"LUN on unknown backstore", [](config::Config& c) { c.targets[0].luns[0].backstore = "nope"; },
                 "unknown backstore nope"},
        Unusable{"duplicate LUN", [](config::Config& c) { c.targets[0].luns[1].lun = 0; }, "LUN 0"},
        Unusable{"ACL maps unknown LUN", [](config::Config& c) { c.targets[0].acls[0].mapped_luns[0].lun = 9; },
                 "maps LUN 9"},
        Unusable{"ACL maps a number twice",
                 [](config::Config& c) { c.targets[0].acls[0].mapped_luns[1].mapped_lun = 0; }, "twice"},
        Unusable{"TPGT 0", [](config::Config& c) { c.targets[0].portal_groups[0].tpgt = 0; }, "tag 0"},
        Unusable{"duplicate TPGT",
                 [](config::Config& c) { c.targets[0].portal_groups.push_back(c.targets[0].portal_groups[0]); },
                 "configured twice"},
        Unusable{"duplicate target", [](config::Config& c) { c.targets.push_back(c.targets[0]); },
                 "configured twice"}),
    [](const auto& param_info) {
        std::string name = param_info.param.name;
        for (char& ch : name) {
            if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
        }
        return name;
    });

TEST(DesiredState, LongIdentitiesAreHashedIntoTheAlias) {
    config::Config c = one_target();
    c.backstores[0].path = "/" + std::string(600, 'p');
    auto state = desired_state(c);
    ASSERT_TRUE(state);
    const std::string& alias = state->devices.at("disk1").alias;
    EXPECT_LE(alias.size(), 500u);
    EXPECT_EQ(alias.rfind(std::string(kOwnedAliasPrefix) + "fnv1a=", 0), 0u);
    c.backstores[0].size_bytes += 512;
    EXPECT_NE(desired_state(c)->devices.at("disk1").alias, alias) << "the hash still sees a size change";
}

}  // namespace
}  // namespace iscsi::kmod
