// Discovery sessions: login and the Full Feature Phase (RFC 7143 s.7.3, App. C).
#include <gtest/gtest.h>

#include "iscsi/login.h"
#include "login_test_support.h"

using namespace iscsi;
using namespace iscsi::testing;

namespace {

FixedPolicy discovery_policy() {
    FixedPolicy policy;
    policy.targets = {
        {"iqn.2026-01.org.example:disk1", {{"192.0.2.10", 3260, 1}, {"2001:db8::10", 3260, 1}}},
        {"iqn.2026-01.org.example:disk2", {{"192.0.2.11", 3261, 2}}},
    };
    return policy;
}

LoginStep discovery_login(LoginConnection& login, TextPairs extra = {}) {
    LoginPdu first;
    first.keys = {{"InitiatorName", kInitiator}, {"SessionType", "Discovery"}, {"AuthMethod", "None"}};
    first.keys.insert(first.keys.end(), extra.begin(), extra.end());
    first.transit = true;
    first.nsg = Stage::FullFeaturePhase;
    return login.on_pdu(first.build());
}

Pdu text_request(const TextPairs& keys, uint32_t itt = 0x20, uint32_t ttt = kReservedTag, uint32_t cmd_sn = 100) {
    TextRequestHeader h;
    h.set_final_bit(true);
    h.set_initiator_task_tag(itt);
    h.set_target_transfer_tag(ttt);
    h.set_cmd_sn(cmd_sn);
    Pdu pdu{h, {}, encode_text(keys)};
    pdu.bhs.set_data_segment_length(static_cast<uint32_t>(pdu.data.size()));
    return pdu;
}

std::vector<std::string> values_of(const Response& r, const std::string& key) {
    std::vector<std::string> out;
    for (const auto& kv : r.keys) {
        if (kv.key == key) out.push_back(kv.value);
    }
    return out;
}

}  // namespace

TEST(Discovery, login_enters_full_feature_phase_without_target_name) {
    FixedPolicy policy = discovery_policy();
    LoginConnection login(policy, endpoints(), limits());
    auto step = discovery_login(login, {{"MaxBurstLength", "65536"}});
    ASSERT_EQ(step.outcome, LoginStep::Outcome::DiscoveryFullFeature) << step.log;
    auto r = only_response(step);
    EXPECT_EQ(r.login().status(), LoginStatus::Success);
    EXPECT_EQ(r.value("MaxBurstLength"), "Irrelevant");
    EXPECT_FALSE(r.has("TargetPortalGroupTag"));
    EXPECT_EQ(policy.target_access_calls, 0);
}

TEST(Discovery, session_gets_the_tsih_the_registry_assigns) {
    FixedPolicy policy = discovery_policy();
    policy.admitted = {Admission::Verdict::NewSession, 42, {}};
    LoginConnection login(policy, endpoints(), limits());
    auto step = discovery_login(login);
    ASSERT_EQ(step.outcome, LoginStep::Outcome::DiscoveryFullFeature) << step.log;
    EXPECT_EQ(policy.admit_calls, 1);
    EXPECT_EQ(only_response(step).login().tsih(), 42)
        << "RFC 7143 s.11.13.3: every new session, Discovery included, gets the TSIH the target assigned";
}

TEST(Discovery, session_refused_when_the_registry_refuses) {
    FixedPolicy policy = discovery_policy();
    policy.admitted = {Admission::Verdict::TooManySessions, 0, "limit"};
    LoginConnection login(policy, endpoints(), limits());
    auto step = discovery_login(login);
    EXPECT_NE(step.outcome, LoginStep::Outcome::DiscoveryFullFeature);
    EXPECT_EQ(only_response(step).login().status(), LoginStatus::TooManyConnections);
}

TEST(Discovery, send_targets_all_lists_every_target_and_portal) {
    FixedPolicy policy = discovery_policy();
    LoginConnection login(policy, endpoints(), limits());
    discovery_login(login);
    auto step = login.on_pdu(text_request({{"SendTargets", "All"}}));
    ASSERT_EQ(step.outcome, LoginStep::Outcome::Continue) << step.log;
    auto r = only_response(step);
    EXPECT_EQ(r.pdu.bhs.opcode(), Opcode::TextResponse);
    EXPECT_TRUE(r.pdu.bhs.final_bit());
    EXPECT_EQ(TextResponseHeader(r.pdu.bhs).target_transfer_tag(), kReservedTag);
    EXPECT_EQ(policy.last_send_targets_name, "");
    ASSERT_EQ(r.keys.size(), 5u);
    EXPECT_EQ(r.keys[0], (KeyValue{"TargetName", "iqn.2026-01.org.example:disk1"}));
    EXPECT_EQ(r.keys[1], (KeyValue{"TargetAddress", "192.0.2.10:3260,1"}));
    EXPECT_EQ(r.keys[2], (KeyValue{"TargetAddress", "[2001:db8::10]:3260,1"}));
    EXPECT_EQ(r.keys[3], (KeyValue{"TargetName", "iqn.2026-01.org.example:disk2"}));
    EXPECT_EQ(r.keys[4], (KeyValue{"TargetAddress", "192.0.2.11:3261,2"}));
}

TEST(Discovery, send_targets_name_lists_that_target_only) {
    FixedPolicy policy = discovery_policy();
    LoginConnection login(policy, endpoints(), limits());
    discovery_login(login);
    auto r = only_response(login.on_pdu(text_request({{"SendTargets", "iqn.2026-01.org.example:disk2"}})));
    EXPECT_EQ(policy.last_send_targets_name, "iqn.2026-01.org.example:disk2");
    EXPECT_EQ(values_of(r, "TargetName"), (std::vector<std::string>{"iqn.2026-01.org.example:disk2"}));
}

TEST(Discovery, send_targets_empty_in_discovery_session_lists_nothing) {
    FixedPolicy policy = discovery_policy();
    LoginConnection login(policy, endpoints(), limits());
    discovery_login(login);
    auto r = only_response(login.on_pdu(text_request({{"SendTargets", ""}})));
    EXPECT_EQ(r.pdu.bhs.opcode(), Opcode::TextResponse);
    EXPECT_TRUE(r.keys.empty());
}

TEST(Discovery, link_local_and_wildcard_portals) {
    FixedPolicy policy;
    policy.targets = {{"iqn.2026-01.org.example:disk1",
                       {{"fe80::1", 3260, 1}, {"0.0.0.0", 3260, 1}, {"127.0.0.1", 3260, 1}}}};
    LoginConnection login(policy, endpoints(), limits());
    discovery_login(login);
    auto r = only_response(login.on_pdu(text_request({{"SendTargets", "All"}})));
    // fe80:: is left out, the wildcard becomes the local address, and the
    // duplicate it then makes is listed once.
    EXPECT_EQ(values_of(r, "TargetAddress"), (std::vector<std::string>{"127.0.0.1:3260,1"}));

    LoginOptions options;
    options.include_link_local = true;
    LoginConnection login2(policy, endpoints(), limits(), options);
    discovery_login(login2);
    auto r2 = only_response(login2.on_pdu(text_request({{"SendTargets", "All"}})));
    EXPECT_EQ(values_of(r2, "TargetAddress").front(), "[fe80::1]:3260,1");
}

TEST(Discovery, long_answer_is_split_with_continuation_by_initiator_mrdsl) {
    FixedPolicy policy;
    for (int i = 0; i < 40; ++i) {
        policy.targets.push_back({"iqn.2026-01.org.example:target-number-" + std::to_string(i),
                                  {{"192.0.2." + std::to_string(i), 3260, 1}}});
    }
    LoginConnection login(policy, endpoints(), limits());
    discovery_login(login, {{"MaxRecvDataSegmentLength", "512"}});
    auto step = login.on_pdu(text_request({{"SendTargets", "All"}}, 0x33));
    std::vector<uint8_t> all;
    int pdus = 0;
    uint32_t cmd_sn = 101;
    while (true) {
        auto r = only_response(step);
        ++pdus;
        ASSERT_LE(r.pdu.data.size(), 512u);
        all.insert(all.end(), r.pdu.data.begin(), r.pdu.data.end());
        TextResponseHeader h(r.pdu.bhs);
        EXPECT_EQ(h.initiator_task_tag(), 0x33u);
        if (!h.continue_bit()) {
            EXPECT_TRUE(h.final_bit());
            EXPECT_EQ(h.target_transfer_tag(), kReservedTag);
            break;
        }
        EXPECT_FALSE(h.final_bit());
        EXPECT_NE(h.target_transfer_tag(), kReservedTag);
        step = login.on_pdu(text_request({}, 0x33, h.target_transfer_tag(), cmd_sn++));
        ASSERT_LT(pdus, 100);
    }
    EXPECT_GT(pdus, 1);
    auto pairs = parse_text(all, true);
    ASSERT_TRUE(pairs) << pairs.error().message;
    EXPECT_EQ(pairs->size(), 80u);
}

TEST(Discovery, unknown_target_transfer_tag_is_rejected) {
    FixedPolicy policy = discovery_policy();
    LoginConnection login(policy, endpoints(), limits());
    discovery_login(login);
    auto r = only_response(login.on_pdu(text_request({}, 0x20, 0x1234)));
    EXPECT_EQ(r.pdu.bhs.opcode(), Opcode::Reject);
    EXPECT_EQ(RejectHeader(r.pdu.bhs).reason(), RejectReason::InvalidPduField);
}

TEST(Discovery, other_keys_in_text_request) {
    FixedPolicy policy = discovery_policy();
    LoginConnection login(policy, endpoints(), limits());
    discovery_login(login);
    auto r = only_response(login.on_pdu(text_request({{"MaxBurstLength", "512"}, {"Foo", "1"}})));
    EXPECT_EQ(r.value("MaxBurstLength"), "Reject");
    EXPECT_EQ(r.value("Foo"), "NotUnderstood");
}

TEST(Discovery, malformed_text_request_is_rejected_and_session_continues) {
    FixedPolicy policy = discovery_policy();
    LoginConnection login(policy, endpoints(), limits());
    discovery_login(login);
    Pdu bad = text_request({});
    std::string raw("SendTargets");
    bad.data.assign(raw.begin(), raw.end());
    auto step = login.on_pdu(bad);
    EXPECT_EQ(step.outcome, LoginStep::Outcome::Continue);
    EXPECT_EQ(only_response(step).pdu.bhs.opcode(), Opcode::Reject);
    auto r = only_response(login.on_pdu(text_request({{"SendTargets", "All"}}, 0x21)));
    EXPECT_EQ(r.pdu.bhs.opcode(), Opcode::TextResponse);
}

TEST(Discovery, nop_out_is_answered_with_nop_in_echoing_data) {
    FixedPolicy policy = discovery_policy();
    LoginConnection login(policy, endpoints(), limits());
    discovery_login(login);
    NopOutHeader h;
    h.set_initiator_task_tag(0x55);
    h.set_target_transfer_tag(kReservedTag);
    h.set_immediate(true);
    Pdu ping{h, {}, {1, 2, 3}};
    auto r = only_response(login.on_pdu(ping));
    EXPECT_EQ(r.pdu.bhs.opcode(), Opcode::NopIn);
    EXPECT_EQ(r.pdu.bhs.initiator_task_tag(), 0x55u);
    EXPECT_EQ(NopInHeader(r.pdu.bhs).target_transfer_tag(), kReservedTag);
    EXPECT_EQ(r.pdu.data, (std::vector<uint8_t>{1, 2, 3}));
    NopOutHeader unsolicited;
    unsolicited.set_initiator_task_tag(kReservedTag);
    EXPECT_TRUE(login.on_pdu(Pdu{unsolicited, {}, {}}).responses.empty());
}

TEST(Discovery, stat_sn_advances_with_each_response) {
    FixedPolicy policy = discovery_policy();
    LoginConnection login(policy, endpoints(), limits());
    const uint32_t final_stat_sn = only_response(discovery_login(login)).login().stat_sn();
    auto r1 = only_response(login.on_pdu(text_request({{"SendTargets", "All"}}, 1, kReservedTag, 100)));
    auto r2 = only_response(login.on_pdu(text_request({{"SendTargets", "All"}}, 2, kReservedTag, 101)));
    EXPECT_EQ(TextResponseHeader(r1.pdu.bhs).stat_sn(), final_stat_sn + 1);
    EXPECT_EQ(TextResponseHeader(r2.pdu.bhs).stat_sn(), final_stat_sn + 2);
    EXPECT_EQ(TextResponseHeader(r2.pdu.bhs).exp_cmd_sn(), 102u);
}

TEST(Discovery, logout_is_answered_and_closes) {
    FixedPolicy policy = discovery_policy();
    LoginConnection login(policy, endpoints(), limits());
    discovery_login(login);
    LogoutRequestHeader h;
    h.set_reason(LogoutReason::CloseSession);
    h.set_initiator_task_tag(0x77);
    auto step = login.on_pdu(Pdu{h, {}, {}});
    EXPECT_EQ(step.outcome, LoginStep::Outcome::Close);
    auto r = only_response(step);
    EXPECT_EQ(r.pdu.bhs.opcode(), Opcode::LogoutResponse);
    EXPECT_EQ(LogoutResponseHeader(r.pdu.bhs).response(), LogoutResponseCode::Success);
    EXPECT_EQ(r.pdu.bhs.initiator_task_tag(), 0x77u);
}

TEST(Discovery, scsi_command_is_rejected_with_protocol_error) {
    FixedPolicy policy = discovery_policy();
    LoginConnection login(policy, endpoints(), limits());
    discovery_login(login);
    Bhs h;
    h.set_opcode(Opcode::ScsiCommand);
    h.set_initiator_task_tag(9);
    auto step = login.on_pdu(Pdu{h, {}, {}});
    EXPECT_EQ(step.outcome, LoginStep::Outcome::Continue);
    auto r = only_response(step);
    EXPECT_EQ(r.pdu.bhs.opcode(), Opcode::Reject);
    EXPECT_EQ(RejectHeader(r.pdu.bhs).reason(), RejectReason::ProtocolError);
    ASSERT_EQ(r.pdu.data.size(), 48u);
    EXPECT_EQ(r.pdu.data[19], 9);
}

TEST(Discovery, oversized_text_request_header_closes_the_connection) {
    FixedPolicy policy = discovery_policy();
    LoginConnection login(policy, endpoints(), limits());
    discovery_login(login);
    TextRequestHeader h;
    h.set_data_segment_length(65536);
    auto checked = login.check_header(h);
    ASSERT_FALSE(checked);
    EXPECT_EQ(checked.error().outcome, LoginStep::Outcome::Close);
    EXPECT_EQ(only_response(checked.error()).pdu.bhs.opcode(), Opcode::Reject);
}

TEST(Discovery, chap_is_required_when_configured) {
    FixedPolicy policy = discovery_policy();
    policy.discovery_credentials = config::ChapCredentials{"disc", ""};
    policy.secrets["disc"] = "discovery-secret";
    LoginOptions options;
    options.fixed_chap_challenge = std::make_pair(uint8_t{1}, std::vector<uint8_t>(16, 0xab));
    LoginConnection refused(policy, endpoints(), limits(), options);
    auto step = discovery_login(refused);
    EXPECT_EQ(step.status, LoginStatus::AuthenticationFailure);

    LoginConnection login(policy, endpoints(), limits(), options);
    LoginPdu first;
    first.keys = {{"InitiatorName", kInitiator}, {"SessionType", "Discovery"}, {"AuthMethod", "CHAP"}};
    auto r1 = only_response(login.on_pdu(first.build()));
    EXPECT_EQ(r1.value("AuthMethod"), "CHAP");
    LoginPdu second;
    second.keys = {{"CHAP_A", "5"}};
    login.on_pdu(second.build());
    LoginPdu third;
    third.transit = true;
    third.nsg = Stage::FullFeaturePhase;
    third.keys = {{"CHAP_N", "disc"},
                  {"CHAP_R", encode_hex(*chap_response(ChapAlgorithm::Md5, 1, "discovery-secret",
                                                       std::vector<uint8_t>(16, 0xab)))}};
    step = login.on_pdu(third.build());
    EXPECT_EQ(step.outcome, LoginStep::Outcome::DiscoveryFullFeature) << step.log;
}

TEST(Discovery, disabled_discovery_is_refused) {
    FixedPolicy policy = discovery_policy();
    policy.discovery_enabled = false;
    LoginConnection login(policy, endpoints(), limits());
    EXPECT_EQ(discovery_login(login).status, LoginStatus::SessionTypeNotSupported);
}

TEST(Discovery, digests_are_not_offered_in_discovery) {
    FixedPolicy policy = discovery_policy();
    LoginConnection login(policy, endpoints(), limits());
    auto r = only_response(discovery_login(login, {{"HeaderDigest", "CRC32C,None"}}));
    EXPECT_EQ(r.value("HeaderDigest"), "None");
}

TEST(Discovery, undefined_opcode_is_rejected_with_command_not_supported) {
    FixedPolicy policy = discovery_policy();
    LoginConnection login(policy, endpoints(), limits());
    discovery_login(login);
    std::vector<uint8_t> bytes(48, 0);
    bytes[0] = 0x1c;  // vendor-specific initiator opcode
    Bhs h = *Bhs::from_bytes(bytes);
    auto more = login.check_header(h);
    ASSERT_TRUE(more);  // bounded: read it, then reject it
    auto step = login.on_pdu(Pdu{h, {}, {}});
    EXPECT_EQ(step.outcome, LoginStep::Outcome::Continue);
    auto r = only_response(step);
    EXPECT_EQ(r.pdu.bhs.opcode(), Opcode::Reject);
    EXPECT_EQ(RejectHeader(r.pdu.bhs).reason(), RejectReason::CommandNotSupported);
}
