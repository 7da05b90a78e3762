// Logins through a raw PDU client: the answers the daemon gives on this
// host, where no kernel data path exists.
#include <gtest/gtest.h>

#include "configs.h"
#include "daemon_process.h"
#include "raw_client.h"

using namespace iscsi::testing;

namespace {

struct LoginTest : ::testing::Test {
    std::unique_ptr<DaemonProcess> daemon;

    void start(const std::string& config = kOpenConfig) {
        daemon = std::make_unique<DaemonProcess>(config);
        ASSERT_TRUE(daemon->start()) << daemon->log();
    }
    RawClient connect() {
        RawClient client;
        EXPECT_TRUE(client.connect("127.0.0.1", daemon->port()));
        return client;
    }
};

}  // namespace

TEST_F(LoginTest, NormalLoginIsRefusedWithServiceUnavailableWithoutDataPath) {
    start();
    RawClient client = connect();
    RawPdu response;
    ASSERT_EQ(client.login({{"InitiatorName", kInitiator}, {"TargetName", kTargetA}, {"SessionType", "Normal"}},
                           response),
              Answer::Pdu);
    // The security stage may be answered first; go on to the end of login.
    if (response.status() == 0 && !(response.transit() && response.nsg() == 3)) {
        LoginFields next;
        next.csg = 1;
        next.nsg = 3;
        next.exp_stat_sn = response.stat_sn() + 1;
        ASSERT_TRUE(client.send(login_request(next, text_data({}))));
        ASSERT_EQ(client.receive(response), Answer::Pdu);
    }
    EXPECT_EQ(response.opcode(), 0x23);
    EXPECT_EQ(response.status(), 0x0301) << "RFC 7143 s.11.13.5: Target Error / Service Unavailable expected";
    EXPECT_TRUE(client.closed_within(5000));
    std::string log = daemon->log();
    EXPECT_NE(log.find("0x0301"), std::string::npos) << log;
    EXPECT_NE(log.find("no kernel data path"), std::string::npos) << log;
    EXPECT_NE(log.find(kInitiator), std::string::npos) << "log lines must name the initiator:\n" << log;
}

TEST_F(LoginTest, DiscoverySessionAnswersSendTargetsAndLogout) {
    start();
    RawClient client = connect();
    RawPdu response;
    ASSERT_EQ(client.login({{"InitiatorName", kInitiator}, {"SessionType", "Discovery"}}, response), Answer::Pdu);
    if (response.status() == 0 && !(response.transit() && response.nsg() == 3)) {
        LoginFields next;
        next.csg = 1;
        next.nsg = 3;
        next.exp_stat_sn = response.stat_sn() + 1;
        ASSERT_TRUE(client.send(login_request(next, text_data({}))));
        ASSERT_EQ(client.receive(response), Answer::Pdu);
    }
    ASSERT_EQ(response.status(), 0) << "discovery login refused";
    ASSERT_TRUE(response.transit());
    ASSERT_EQ(response.nsg(), 3);
    EXPECT_NE(response.tsih(), 0) << "the target assigns a TSIH (RFC 7143 s.11.13.4)";

    uint32_t exp_stat_sn = response.stat_sn() + 1;
    ASSERT_TRUE(client.send(text_request(2, 1, exp_stat_sn, text_data({{"SendTargets", "All"}}))));
    RawPdu text;
    ASSERT_EQ(client.receive(text), Answer::Pdu);
    EXPECT_EQ(text.opcode(), 0x24);
    Keys keys = parse_text(text.data);
    std::string port = std::to_string(daemon->port());
    int targets = 0;
    bool a_v4 = false, a_v6 = false;
    std::string current;
    for (const auto& [key, value] : keys) {
        if (key == "TargetName") {
            current = value;
            ++targets;
            EXPECT_NE(value, kHidden);
        }
        if (key == "TargetAddress" && current == kTargetA) {
            a_v4 |= value == "127.0.0.1:" + port + ",1";
            a_v6 |= value == "[::1]:" + port + ",1";
        }
    }
    EXPECT_EQ(targets, 2);
    EXPECT_TRUE(a_v4);
    EXPECT_TRUE(a_v6) << "IPv6 portals are listed in brackets";

    ASSERT_TRUE(client.send(logout_request(3, 2, text.stat_sn() + 1)));
    RawPdu logout;
    ASSERT_EQ(client.receive(logout), Answer::Pdu);
    EXPECT_EQ(logout.opcode(), 0x26);
    EXPECT_TRUE(client.closed_within(5000));
}

TEST_F(LoginTest, UnknownTargetIsNotFound) {
    start();
    RawClient client = connect();
    RawPdu response;
    ASSERT_EQ(client.login({{"InitiatorName", kInitiator}, {"TargetName", "iqn.2024-01.org.example:nope"}}, response),
              Answer::Pdu);
    EXPECT_EQ(response.status(), 0x0203);
}

TEST_F(LoginTest, InitiatorWithoutAclIsNotAuthorized) {
    start();
    RawClient client = connect();
    RawPdu response;
    ASSERT_EQ(client.login({{"InitiatorName", kInitiator}, {"TargetName", kHidden}}, response), Answer::Pdu);
    EXPECT_EQ(response.status(), 0x0202);
    EXPECT_NE(daemon->log().find("no ACL"), std::string::npos) << daemon->log();
}

TEST_F(LoginTest, RedirectedTargetAnswersWithTargetAddress) {
    start(R"({"targets": [{"name": "iqn.2024-01.org.example:disk-a",
        "portal_groups": [{"tpgt": 1, "portals": [{"address": "127.0.0.1", "port": @PORT@}]}],
        "redirect": {"address": "192.0.2.10", "port": 3261, "tpgt": 4}}]})");
    RawClient client = connect();
    RawPdu response;
    ASSERT_EQ(client.login({{"InitiatorName", kInitiator}, {"TargetName", kTargetA}}, response), Answer::Pdu);
    EXPECT_EQ(response.status(), 0x0101) << "temporary redirect";
    EXPECT_EQ(value_of(parse_text(response.data), "TargetAddress"), "192.0.2.10:3261,4");
}

TEST_F(LoginTest, IdleConnectionIsClosedAtTheLoginTimeout) {
    start();  // login_timeout_s is 3
    RawClient client = connect();
    EXPECT_TRUE(client.closed_within(8000));
    EXPECT_NE(daemon->log().find("timed out"), std::string::npos) << daemon->log();
}
