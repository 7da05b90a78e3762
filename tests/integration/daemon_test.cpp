// The daemon as a process: flags, bad configuration, signals, limits.
#include <signal.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "configs.h"
#include "daemon_process.h"
#include "raw_client.h"

using namespace iscsi::testing;

TEST(Daemon, BadConfigurationIsOneClearLineAndExitStatus1) {
    DaemonProcess daemon(R"({"targets": [{"name": "iqn.2024-01.org.example:a",
        "portal_groups": [{"tpgt": 1, "portals": [{"address": "127.0.0.1", "port": 0}]}]}]})");
    auto result = run_command(bin_dir() + "/iscsi-targetd --foreground --config " + daemon.config_path() +
                              " --secrets " + daemon.directory() + "/none.json");
    EXPECT_EQ(result.status, 1);
    EXPECT_EQ(result.output, "iscsi-targetd: " + daemon.config_path() +
                                 ": targets[0].portal_groups[0].portals[0].port: port must be from 1 to 65535\n");
}

TEST(Daemon, MissingConfigurationFileIsAnError) {
    auto result = run_command(bin_dir() + "/iscsi-targetd --foreground --config /nonexistent/config.json");
    EXPECT_EQ(result.status, 1);
    EXPECT_NE(result.output.find("/nonexistent/config.json: cannot open"), std::string::npos) << result.output;
}

TEST(Daemon, SigtermStopsCleanly) {
    DaemonProcess daemon(kOpenConfig);
    ASSERT_TRUE(daemon.start()) << daemon.log();
    EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

TEST(Daemon, SighupReloadsTheConfiguration) {
    DaemonProcess daemon(R"({"targets": [{"name": "iqn.2024-01.org.example:disk-a",
        "portal_groups": [{"tpgt": 1, "demo_mode": true, "portals": [{"address": "127.0.0.1", "port": @PORT@}]}]}]})");
    ASSERT_TRUE(daemon.start()) << daemon.log();
    std::string url = "iscsi-ls iscsi://127.0.0.1:" + std::to_string(daemon.port());
    EXPECT_EQ(run_command(url).output.find(kTargetB), std::string::npos);
    daemon.rewrite_config(kOpenConfig);
    daemon.send_signal(SIGHUP);
    std::string out;
    for (int i = 0; i < 40 && out.find(kTargetB) == std::string::npos; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        out = run_command(url).output;
    }
    EXPECT_NE(out.find(kTargetB), std::string::npos) << out << daemon.log();
}

TEST(Daemon, BadReloadKeepsThePreviousConfiguration) {
    DaemonProcess daemon(kOpenConfig);
    ASSERT_TRUE(daemon.start()) << daemon.log();
    daemon.rewrite_config("{ not json");
    daemon.send_signal(SIGHUP);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    ASSERT_TRUE(daemon.running());
    EXPECT_NE(daemon.log().find("reload failed"), std::string::npos) << daemon.log();
    std::string out = run_command("iscsi-ls iscsi://127.0.0.1:" + std::to_string(daemon.port())).output;
    EXPECT_NE(out.find(kTargetA), std::string::npos) << out;
}

TEST(Daemon, ConnectionsBeyondTheLoginLimitAreClosed) {
    DaemonProcess daemon(R"({"targets": [{"name": "iqn.2024-01.org.example:disk-a",
        "portal_groups": [{"tpgt": 1, "demo_mode": true, "portals": [{"address": "127.0.0.1", "port": @PORT@}]}]}],
        "limits": {"max_connections_in_login": 3}})");
    ASSERT_TRUE(daemon.start()) << daemon.log();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // start()'s probe connections are gone
    std::vector<RawClient> held(3);
    for (auto& c : held) ASSERT_TRUE(c.connect("127.0.0.1", daemon.port()));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    RawClient extra;
    ASSERT_TRUE(extra.connect("127.0.0.1", daemon.port()));
    EXPECT_TRUE(extra.closed_within(3000)) << daemon.log();
    EXPECT_NE(daemon.log().find("max_connections_in_login"), std::string::npos);
    held.clear();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    RawClient later;
    ASSERT_TRUE(later.connect("127.0.0.1", daemon.port()));
    EXPECT_FALSE(later.closed_within(500)) << "slots were not freed when connections closed";
}
