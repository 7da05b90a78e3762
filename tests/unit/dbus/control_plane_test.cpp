#include "control/control_plane.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using namespace iscsi;
using control::ErrorKind;

namespace {

// Records what was applied; refuses when told to.
class FakeDataPath final : public kmod::DataPath {
public:
    bool is_available = true;
    bool refuse_next_apply = false;
    std::vector<config::Config> applied;

    bool available() const override { return is_available; }
    std::string unavailable_reason() const override { return "module not loaded"; }
    kmod::Result<kmod::Version> version() override { return kmod::Version{1, 0, "1.0"}; }
    kmod::Result<kmod::Limits> limits() override { return kmod::Limits{}; }
    kmod::Result<void> apply(const config::Config& config) override {
        if (refuse_next_apply) {
            refuse_next_apply = false;
            return tl::unexpected(kmod::Error{EINVAL, "configfs said no"});
        }
        applied.push_back(config);
        return {};
    }
    kmod::Result<kmod::HandoffResult> handoff(const kmod::HandoffRequest&) override {
        return tl::unexpected(kmod::Error{ENOTSUP, "not in this test"});
    }
    kmod::Result<std::vector<kmod::KernelSession>> list_sessions() override { return sessions; }
    kmod::Result<void> terminate_connection(uint64_t, uint16_t) override { return {}; }
    kmod::Result<void> terminate_session(uint64_t handle) override {
        std::erase_if(sessions, [&](const kmod::KernelSession& s) { return s.handle == handle; });
        return {};
    }
    kmod::Result<void> request_logout(uint64_t, uint32_t) override { return {}; }
    void set_event_handler(std::function<void(const kmod::DataPathEvent&)>) override {}

    std::vector<kmod::KernelSession> sessions;
};

class MemoryStore final : public control::ConfigStore {
public:
    bool refuse_save = false;
    int saves = 0;
    control::StoredConfiguration stored;

    control::Result<void> save(const config::Config& config, const config::Secrets& secrets) override {
        if (refuse_save) return control::fail(ErrorKind::Io, "disk full");
        ++saves;
        stored = {config, secrets};
        return {};
    }
    control::Result<control::StoredConfiguration> load() override { return stored; }
    std::string describe() const override { return "memory"; }
};

class ControlPlaneTest : public ::testing::Test {
protected:
    const std::string target = "iqn.2003-01.org.example:disk1";
    FakeDataPath kernel;
    MemoryStore store;
    control::DataPathSessionSource sessions{&kernel};
    control::StandaloneBackend backend{{}, store, &kernel};
    control::ControlPlane plane{backend, sessions};

    void SetUp() override {
        ASSERT_TRUE(plane.create_target({target, "", 0}));
        config::Backstore ramdisk;
        ramdisk.name = "rd";
        ramdisk.type = config::BackstoreType::Ramdisk;
        ramdisk.size_bytes = 1 << 20;
        ASSERT_TRUE(plane.create_backstore(ramdisk));
    }

    void add_session(const std::string& initiator) {
        kmod::KernelSession session;
        session.handle = 7;
        session.target_name = target;
        session.tpgt = 1;
        session.tsih = 3;
        session.initiator_name = initiator;
        kernel.sessions.push_back(session);
    }
};

TEST_F(ControlPlaneTest, AChangeIsAppliedThenStored) {
    ASSERT_TRUE(plane.create_lun({target, 0, "rd"}));
    ASSERT_EQ(plane.config().targets[0].luns.size(), 1u);
    EXPECT_EQ(kernel.applied.back().targets[0].luns.size(), 1u);
    EXPECT_EQ(store.stored.config.targets[0].luns.size(), 1u);
}

TEST_F(ControlPlaneTest, AKernelRefusalRollsBackAndLeavesTheStoreUntouched) {
    int saves = store.saves;
    kernel.refuse_next_apply = true;
    auto result = plane.create_lun({target, 0, "rd"});
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().kind, ErrorKind::DataPathUnavailable);
    EXPECT_NE(result.error().message.find("configfs said no"), std::string::npos) << "the kernel's reason is passed on";
    EXPECT_TRUE(plane.config().targets[0].luns.empty());
    EXPECT_EQ(store.saves, saves) << "nothing is written when the kernel refuses";
    EXPECT_TRUE(kernel.applied.back().targets[0].luns.empty()) << "the previous configuration is put back";
}

TEST_F(ControlPlaneTest, AFailedSaveUndoesTheKernelChange) {
    store.refuse_save = true;
    auto result = plane.create_lun({target, 0, "rd"});
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().kind, ErrorKind::Io);
    EXPECT_TRUE(plane.config().targets[0].luns.empty());
    EXPECT_TRUE(kernel.applied.back().targets[0].luns.empty());
}

TEST_F(ControlPlaneTest, WithoutADataPathChangesAreStillStored) {
    kernel.is_available = false;
    auto applied = kernel.applied.size();
    ASSERT_TRUE(plane.create_lun({target, 0, "rd"}));
    EXPECT_EQ(kernel.applied.size(), applied);
    EXPECT_EQ(store.stored.config.targets[0].luns.size(), 1u);
    EXPECT_FALSE(plane.data_path_status().available);
    EXPECT_EQ(plane.data_path_status().reason, "module not loaded");
}

TEST_F(ControlPlaneTest, ALunNeedsAnExistingBackstore) {
    auto result = plane.create_lun({target, 0, "missing"});
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().kind, ErrorKind::NotFound);
}

TEST_F(ControlPlaneTest, ABackstoreInUseCannotBeDeleted) {
    ASSERT_TRUE(plane.create_lun({target, 0, "rd"}));
    auto result = plane.delete_backstore("rd");
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().kind, ErrorKind::Busy);
}

TEST_F(ControlPlaneTest, AFileBackstoreOnAMissingFileNeedsASize) {
    config::Backstore file;
    file.name = "f";
    file.path = "/nonexistent-dir-for-test/disk.img";
    file.size_bytes = 0;
    auto result = plane.create_backstore(file);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().kind, ErrorKind::InvalidArgument);
    file.size_bytes = 1 << 20;
    result = plane.create_backstore(file);
    ASSERT_FALSE(result) << "its directory does not exist either";
}

TEST_F(ControlPlaneTest, ATargetWithLiveSessionsIsBusy) {
    add_session("iqn.1994-05.com.example:a");
    auto result = plane.delete_target(target);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().kind, ErrorKind::Busy);
    ASSERT_TRUE(sessions.terminate({target, 1, 3}));
    EXPECT_TRUE(plane.delete_target(target));
}

TEST_F(ControlPlaneTest, AnAclOfALoggedInInitiatorIsBusy) {
    config::Acl acl;
    acl.initiator_name = "iqn.1994-05.com.example:a";
    ASSERT_TRUE(plane.create_acl({target, acl}));
    add_session(acl.initiator_name);
    auto result = plane.delete_acl(target, acl.initiator_name);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().kind, ErrorKind::Busy);
}

TEST_F(ControlPlaneTest, ClearingChapForgetsTheSecrets) {
    ASSERT_TRUE(plane.set_chap({control::ChapScope::Target, target, "", "alice", "alice-secret-1", "tgt", "target-secret-2"}));
    EXPECT_EQ(store.stored.secrets.chap.at("alice"), "alice-secret-1");
    EXPECT_TRUE(plane.has_secret("tgt"));
    ASSERT_TRUE(plane.clear_chap(control::ChapScope::Target, target, ""));
    EXPECT_TRUE(store.stored.secrets.chap.empty());
    EXPECT_FALSE(plane.config().targets[0].chap.has_value());
}

TEST_F(ControlPlaneTest, MutualChapNeedsADifferentSecret) {
    auto result = plane.set_chap({control::ChapScope::Target, target, "", "alice", "same-secret-12", "tgt", "same-secret-12"});
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().kind, ErrorKind::InvalidArgument);
}

TEST_F(ControlPlaneTest, AUserNameKeepsOneSecret) {
    ASSERT_TRUE(plane.set_chap({control::ChapScope::Discovery, "", "", "alice", "alice-secret-1", "", ""}));
    auto result = plane.set_chap({control::ChapScope::Target, target, "", "alice", "another-secret", "", ""});
    ASSERT_FALSE(result) << "changing alice's secret here would change it for discovery too";
    EXPECT_EQ(result.error().kind, ErrorKind::AlreadyExists);
    EXPECT_TRUE(plane.set_chap({control::ChapScope::Target, target, "", "alice", "alice-secret-1", "", ""}));
}

TEST_F(ControlPlaneTest, ReloadRefusesADanglingReferenceAndKeepsTheRunningConfiguration) {
    store.stored.config.targets[0].luns.push_back({5, "nope"});
    auto result = plane.reload();
    ASSERT_FALSE(result);
    EXPECT_NE(result.error().message.find("nope"), std::string::npos);
    EXPECT_TRUE(plane.config().targets[0].luns.empty());
}

TEST_F(ControlPlaneTest, ReloadAppliesTheStoredConfiguration) {
    store.stored.config.targets.clear();
    int notified = 0;
    plane.on_change([&](const config::Config&, const config::Secrets&) { ++notified; });
    ASSERT_TRUE(plane.reload());
    EXPECT_TRUE(plane.config().targets.empty());
    EXPECT_TRUE(kernel.applied.back().targets.empty());
    EXPECT_EQ(notified, 1);
}

TEST_F(ControlPlaneTest, ARedirectNeedsAnAddress) {
    auto result = plane.set_redirect({target, 0, config::Redirect{"", 3260, 1, false}});
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().kind, ErrorKind::InvalidArgument);
    ASSERT_TRUE(plane.set_redirect({target, 0, config::Redirect{"192.0.2.1", 3260, 1, true}}));
    EXPECT_TRUE(plane.config().targets[0].redirect->permanent);
}

TEST(FileConfigStore, WritesBothFilesAndTheSecretsFileIsPrivate) {
    char pattern[] = "/tmp/file-store-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    std::string dir = pattern;
    control::ConfigCodec codec;
    codec.encode_config = [](const config::Config& c) { return "targets=" + std::to_string(c.targets.size()); };
    codec.encode_secrets = [](const config::Secrets& s) { return "secrets=" + std::to_string(s.chap.size()); };
    codec.load = [](const std::string&, const std::string&) -> tl::expected<control::StoredConfiguration, std::string> {
        return tl::unexpected(std::string("not used"));
    };
    control::FileConfigStore store(dir + "/config.json", dir + "/secrets.json", codec);
    config::Secrets secrets;
    secrets.chap["u"] = "s";
    ASSERT_TRUE(store.save(config::Config{}, secrets));
    std::ifstream config_file(dir + "/config.json");
    std::string text((std::istreambuf_iterator<char>(config_file)), {});
    EXPECT_EQ(text, "targets=0");
    EXPECT_EQ(std::filesystem::status(dir + "/secrets.json").permissions() & std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    std::filesystem::remove_all(dir);
}

}  // namespace
