// Discovery with a real initiator: libiscsi's iscsi-ls against the daemon.
#include <gtest/gtest.h>

#include "configs.h"
#include "daemon_process.h"

using namespace iscsi::testing;

namespace {

// Without -s: iscsi-ls stops at the first target whose LUNs it cannot list,
// and on this host every Normal login is refused (no kernel data path).
std::string iscsi_ls(const std::string& url, const std::string& environment = "") {
    return run_command((environment.empty() ? "" : "env " + environment) + " iscsi-ls " + url).output;
}

}  // namespace

TEST(Discovery, IscsiLsListsConfiguredTargetsAndPortals) {
    DaemonProcess daemon(kOpenConfig);
    ASSERT_TRUE(daemon.start()) << daemon.log();
    std::string port = std::to_string(daemon.port());
    std::string out = iscsi_ls("iscsi://127.0.0.1:" + port);
    EXPECT_NE(out.find("Target:" + kTargetA + " Portal:127.0.0.1:" + port + ",1"), std::string::npos) << out;
    EXPECT_NE(out.find("Target:" + kTargetA + " Portal:[::1]:" + port + ",1"), std::string::npos) << out;
    EXPECT_NE(out.find("Target:" + kTargetB + " Portal:127.0.0.1:" + port + ",1"), std::string::npos) << out;
    EXPECT_EQ(out.find(kHidden), std::string::npos) << "a target whose ACL excludes the initiator was listed:\n" << out;
    std::string log = daemon.log();
    EXPECT_NE(log.find("discovery session"), std::string::npos) << log;
    EXPECT_NE(log.find(kLibiscsiInitiator), std::string::npos) << "log lines name the initiator:\n" << log;
}

TEST(Discovery, IscsiLsShowLunsGetsServiceUnavailableForTheNormalLogin) {
    DaemonProcess daemon(kOpenConfig);
    ASSERT_TRUE(daemon.start()) << daemon.log();
    std::string out = run_command("iscsi-ls -s iscsi://127.0.0.1:" + std::to_string(daemon.port())).output;
    // Discovery worked (a target is listed), then -s logs in to list LUNs:
    // without iscsi_handoff.ko that is refused with 0x0301 (769).
    EXPECT_NE(out.find("Target:iqn.2024-01.org.example:disk-"), std::string::npos) << out;
    EXPECT_NE(out.find("Service unavailable(769)"), std::string::npos) << out;
    EXPECT_NE(daemon.log().find("0x0301"), std::string::npos) << daemon.log();
}

TEST(Discovery, IscsiLsOverIpv6Loopback) {
    DaemonProcess daemon(kOpenConfig);
    ASSERT_TRUE(daemon.start(/*ipv6=*/true)) << daemon.log();
    std::string port = std::to_string(daemon.port());
    std::string out = iscsi_ls("'iscsi://[::1]:" + port + "'");
    EXPECT_NE(out.find("Target:" + kTargetA + " Portal:[::1]:" + port + ",1"), std::string::npos) << out;
}

TEST(Discovery, ChapSucceedsWithTheRightSecret) {
    DaemonProcess daemon(kChapConfig, kChapSecrets);
    ASSERT_TRUE(daemon.start()) << daemon.log();
    std::string out = iscsi_ls("'iscsi://disc%discovery-secret-1@127.0.0.1:" + std::to_string(daemon.port()) + "'");
    EXPECT_NE(out.find("Target:" + kTargetA), std::string::npos) << out << daemon.log();
}

TEST(Discovery, ChapFailsWithTheWrongSecret) {
    DaemonProcess daemon(kChapConfig, kChapSecrets);
    ASSERT_TRUE(daemon.start()) << daemon.log();
    std::string out = iscsi_ls("'iscsi://disc%wrong-secret-99@127.0.0.1:" + std::to_string(daemon.port()) + "'");
    EXPECT_EQ(out.find("Target:"), std::string::npos) << out;
    EXPECT_NE(daemon.log().find("0x0201"), std::string::npos) << "refusal not logged with its status:\n" << daemon.log();
}

TEST(Discovery, ChapIsRequiredWhenConfigured) {
    DaemonProcess daemon(kChapConfig, kChapSecrets);
    ASSERT_TRUE(daemon.start()) << daemon.log();
    std::string out = iscsi_ls("iscsi://127.0.0.1:" + std::to_string(daemon.port()));
    EXPECT_EQ(out.find("Target:"), std::string::npos) << out;
}

TEST(Discovery, MutualChapSucceedsWithTheRightTargetSecret) {
    DaemonProcess daemon(kChapConfig, kChapSecrets);
    ASSERT_TRUE(daemon.start()) << daemon.log();
    std::string out = iscsi_ls("'iscsi://disc%discovery-secret-1@127.0.0.1:" + std::to_string(daemon.port()) + "'",
                               "LIBISCSI_CHAP_TARGET_USERNAME=target LIBISCSI_CHAP_TARGET_PASSWORD=target-secret-22");
    EXPECT_NE(out.find("Target:" + kTargetA), std::string::npos) << out << daemon.log();
}

TEST(Discovery, MutualChapFailsWhenTheTargetSecretIsWrong) {
    DaemonProcess daemon(kChapConfig, kChapSecrets);
    ASSERT_TRUE(daemon.start()) << daemon.log();
    // The initiator checks the target's answer: with the wrong secret on its
    // side the target's CHAP_R does not verify and the initiator gives up.
    std::string out = iscsi_ls("'iscsi://disc%discovery-secret-1@127.0.0.1:" + std::to_string(daemon.port()) + "'",
                               "LIBISCSI_CHAP_TARGET_USERNAME=target LIBISCSI_CHAP_TARGET_PASSWORD=not-the-secret-1");
    EXPECT_EQ(out.find("Target:"), std::string::npos) << out;
}
