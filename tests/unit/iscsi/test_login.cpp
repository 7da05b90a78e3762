// Whole logins against a fixed-answer LoginPolicy.
#include "iscsi/login.h"

#include <gtest/gtest.h>

#include "login_test_support.h"

using namespace iscsi;
using namespace iscsi::testing;

namespace {

std::vector<uint8_t> fixed_challenge() { return std::vector<uint8_t>(16, 0xc5); }
constexpr uint8_t kFixedId = 0x11;

LoginOptions chap_options() {
    LoginOptions o;
    o.fixed_chap_challenge = std::make_pair(kFixedId, fixed_challenge());
    return o;
}

void expect_refused(const LoginStep& step, LoginStatus status) {
    EXPECT_EQ(step.outcome, LoginStep::Outcome::Close) << step.log;
    ASSERT_TRUE(step.status) << step.log;
    EXPECT_EQ(*step.status, status) << step.log;
    auto r = only_response(step);
    EXPECT_EQ(r.pdu.bhs.opcode(), Opcode::LoginResponse);
    EXPECT_EQ(r.login().status(), status);
    EXPECT_FALSE(step.log.empty());
}

// The first two PDUs of a CHAP login; returns the response with CHAP_C.
Response chap_until_challenge(LoginConnection& login, const std::string& algorithms = "5") {
    LoginPdu first;
    first.keys = {{"InitiatorName", kInitiator}, {"TargetName", kTarget}, {"AuthMethod", "CHAP,None"}};
    auto r1 = only_response(login.on_pdu(first.build()));
    EXPECT_EQ(r1.value("AuthMethod"), "CHAP");
    EXPECT_FALSE(r1.login().transit());
    LoginPdu second;
    second.keys = {{"CHAP_A", algorithms}};
    second.exp_stat_sn = 501;
    return only_response(login.on_pdu(second.build()));
}

LoginPdu chap_answer(const std::string& user, const std::string& secret, ChapAlgorithm algorithm = ChapAlgorithm::Md5) {
    LoginPdu third;
    third.transit = true;
    third.nsg = Stage::LoginOperationalNegotiation;
    third.exp_stat_sn = 502;
    auto r = chap_response(algorithm, kFixedId, secret, fixed_challenge());
    third.keys = {{"CHAP_N", user}, {"CHAP_R", encode_hex(*r)}};
    return third;
}

}  // namespace

TEST(Login, none_authentication_normal_session_reaches_handoff) {
    FixedPolicy policy;
    LoginConnection login(policy, endpoints(), limits());
    auto step = start_normal(login);
    EXPECT_EQ(step.outcome, LoginStep::Outcome::Continue) << step.log;
    auto r = only_response(step);
    EXPECT_EQ(r.login().status(), LoginStatus::Success);
    EXPECT_TRUE(r.login().transit());
    EXPECT_EQ(r.login().csg(), 0);
    EXPECT_EQ(r.login().nsg(), 1);
    EXPECT_EQ(r.value("AuthMethod"), "None");
    EXPECT_EQ(r.value("TargetPortalGroupTag"), "1");  // s.13.9: first response
    EXPECT_EQ(r.value("TargetAlias"), "disk1");
    EXPECT_EQ(r.login().stat_sn(), 500u);  // starts at the initiator's ExpStatSN
    EXPECT_EQ(r.login().exp_cmd_sn(), 100u);
    EXPECT_EQ(r.login().initiator_task_tag(), 0x10u);
    EXPECT_EQ(r.login().isid(), test_isid());

    step = operational(login, {{"HeaderDigest", "None"}, {"MaxRecvDataSegmentLength", "65536"},
                               {"MaxBurstLength", "1048576"}, {"ImmediateData", "Yes"}});
    ASSERT_EQ(step.outcome, LoginStep::Outcome::ReadyForHandoff) << step.log;
    r = only_response(step);
    EXPECT_TRUE(r.login().transit());
    EXPECT_EQ(r.login().nsg(), 3);
    EXPECT_EQ(r.login().tsih(), 7);  // assigned by admit()
    EXPECT_EQ(r.login().stat_sn(), 501u);
    EXPECT_EQ(r.value("MaxBurstLength"), "262144");
    EXPECT_EQ(policy.admit_calls, 1);

    auto info = login.handoff_info();
    EXPECT_EQ(info.identity.tsih, 7);
    EXPECT_EQ(info.identity.initiator_name, kInitiator);
    EXPECT_EQ(info.identity.target_name, kTarget);
    EXPECT_EQ(info.identity.cid, 1);
    EXPECT_EQ(info.stat_sn, 502u);  // next after the final response
    EXPECT_EQ(info.cmd_sn, 100u);
    EXPECT_EQ(info.exp_stat_sn, 501u);
    EXPECT_EQ(info.negotiated.max_xmit_data_segment_length, 65536u);
    EXPECT_EQ(info.negotiated.max_burst_length, 262144u);
    EXPECT_EQ(info.target_alias, "disk1");
    EXPECT_TRUE(info.chap_user.empty());
}

TEST(Login, handoff_failure_replaces_final_response_with_service_unavailable) {
    FixedPolicy policy;
    LoginConnection login(policy, endpoints(), limits());
    start_normal(login);
    auto final_step = operational(login, {});
    ASSERT_EQ(final_step.outcome, LoginStep::Outcome::ReadyForHandoff) << final_step.log;
    const auto final_stat_sn = only_response(final_step).login().stat_sn();
    auto step = login.handoff_failed("module not loaded");
    expect_refused(step, LoginStatus::ServiceUnavailable);
    EXPECT_EQ(only_response(step).login().stat_sn(), final_stat_sn);
    EXPECT_EQ(policy.abandon_calls, 1);
    EXPECT_NE(step.log.find("module not loaded"), std::string::npos);
}

TEST(Login, nothing_is_read_while_the_handoff_is_pending) {
    FixedPolicy policy;
    LoginConnection login(policy, endpoints(), limits());
    start_normal(login);
    ASSERT_EQ(operational(login, {}).outcome, LoginStep::Outcome::ReadyForHandoff);
    Bhs next;
    next.set_opcode(Opcode::ScsiCommand);
    auto checked = login.check_header(next);
    ASSERT_FALSE(checked);
    EXPECT_EQ(checked.error().outcome, LoginStep::Outcome::Close);
}

TEST(Login, direct_transit_to_full_feature_from_security_stage) {
    FixedPolicy policy;
    LoginConnection login(policy, endpoints(), limits());
    LoginPdu first;
    first.keys = {{"InitiatorName", kInitiator}, {"TargetName", kTarget}, {"AuthMethod", "None"}};
    first.transit = true;
    first.nsg = Stage::FullFeaturePhase;
    auto step = login.on_pdu(first.build());
    EXPECT_EQ(step.outcome, LoginStep::Outcome::ReadyForHandoff) << step.log;
    EXPECT_EQ(only_response(step).login().nsg(), 3);
}

TEST(Login, target_lowers_next_stage_when_it_must_declare_values) {
    FixedPolicy policy;
    policy.access.parameters.max_recv_data_segment_length = 262144;
    LoginConnection login(policy, endpoints(), limits());
    LoginPdu first;
    first.keys = {{"InitiatorName", kInitiator}, {"TargetName", kTarget}, {"AuthMethod", "None"}};
    first.transit = true;
    first.nsg = Stage::FullFeaturePhase;
    auto r = only_response(login.on_pdu(first.build()));
    EXPECT_TRUE(r.login().transit());
    EXPECT_EQ(r.login().nsg(), 1);
    auto step = operational(login, {});
    ASSERT_EQ(step.outcome, LoginStep::Outcome::ReadyForHandoff) << step.log;
    EXPECT_EQ(only_response(step).value("MaxRecvDataSegmentLength"), "262144");
    EXPECT_EQ(login.handoff_info().negotiated.max_recv_data_segment_length, 262144u);
}

TEST(Login, target_offers_configured_values_before_transit) {
    FixedPolicy policy;
    policy.access.parameters.immediate_data = false;
    LoginConnection login(policy, endpoints(), limits());
    start_normal(login);
    auto step = operational(login, {{"HeaderDigest", "None"}});
    EXPECT_EQ(step.outcome, LoginStep::Outcome::Continue) << step.log;
    auto r = only_response(step);
    EXPECT_FALSE(r.login().transit());
    EXPECT_EQ(r.value("ImmediateData"), "No");
    step = operational(login, {{"ImmediateData", "No"}}, true, 502);
    ASSERT_EQ(step.outcome, LoginStep::Outcome::ReadyForHandoff) << step.log;
    EXPECT_FALSE(login.handoff_info().negotiated.immediate_data);
}

TEST(Login, chap_one_way_succeeds) {
    FixedPolicy policy;
    policy.access.chap = config::ChapCredentials{"alice", ""};
    policy.secrets["alice"] = "alice-secret-123";
    LoginConnection login(policy, endpoints(), limits(), chap_options());
    auto r = chap_until_challenge(login, "7,5");
    EXPECT_EQ(r.value("CHAP_A"), "7");
    EXPECT_EQ(r.value("CHAP_I"), "17");
    EXPECT_EQ(r.value("CHAP_C"), encode_hex(fixed_challenge()));
    auto step = login.on_pdu(chap_answer("alice", "alice-secret-123", ChapAlgorithm::Sha256).build());
    EXPECT_EQ(step.outcome, LoginStep::Outcome::Continue) << step.log;
    auto r3 = only_response(step);
    EXPECT_TRUE(r3.login().transit());
    EXPECT_EQ(r3.login().nsg(), 1);
    EXPECT_FALSE(r3.has("CHAP_R"));
    step = operational(login, {}, true, 503);
    ASSERT_EQ(step.outcome, LoginStep::Outcome::ReadyForHandoff) << step.log;
    EXPECT_EQ(login.handoff_info().chap_user, "alice");
}

TEST(Login, chap_wrong_secret_is_authentication_failure) {
    FixedPolicy policy;
    policy.access.chap = config::ChapCredentials{"alice", ""};
    policy.secrets["alice"] = "alice-secret-123";
    LoginConnection login(policy, endpoints(), limits(), chap_options());
    chap_until_challenge(login);
    expect_refused(login.on_pdu(chap_answer("alice", "not-the-secret!").build()), LoginStatus::AuthenticationFailure);
}

TEST(Login, chap_unknown_user_is_authentication_failure) {
    FixedPolicy policy;
    policy.access.chap = config::ChapCredentials{"alice", ""};
    policy.secrets["alice"] = "alice-secret-123";
    LoginConnection login(policy, endpoints(), limits(), chap_options());
    chap_until_challenge(login);
    expect_refused(login.on_pdu(chap_answer("mallory", "alice-secret-123").build()),
                   LoginStatus::AuthenticationFailure);
}

TEST(Login, chap_response_of_wrong_length_is_authentication_failure) {
    FixedPolicy policy;
    policy.access.chap = config::ChapCredentials{"alice", ""};
    policy.secrets["alice"] = "alice-secret-123";
    LoginConnection login(policy, endpoints(), limits(), chap_options());
    chap_until_challenge(login);
    LoginPdu third = chap_answer("alice", "alice-secret-123");
    third.keys[1].value = encode_hex(std::vector<uint8_t>(20, 1));  // SHA-1 length for MD5
    auto step = login.on_pdu(third.build());
    expect_refused(step, LoginStatus::AuthenticationFailure);
    EXPECT_NE(step.log.find("20 bytes"), std::string::npos);
}

TEST(Login, chap_disallowed_algorithm_is_authentication_failure) {
    FixedPolicy policy;
    policy.access.chap = config::ChapCredentials{"alice", ""};
    policy.secrets["alice"] = "alice-secret-123";
    policy.security_settings.chap_algorithms = {8, 7};
    LoginConnection login(policy, endpoints(), limits(), chap_options());
    LoginPdu first;
    first.keys = {{"InitiatorName", kInitiator}, {"TargetName", kTarget}, {"AuthMethod", "CHAP"}};
    login.on_pdu(first.build());
    LoginPdu second;
    second.keys = {{"CHAP_A", "5"}};
    expect_refused(login.on_pdu(second.build()), LoginStatus::AuthenticationFailure);
}

TEST(Login, chap_mutual_answers_the_initiator_challenge) {
    FixedPolicy policy;
    policy.access.chap = config::ChapCredentials{"alice", "target-bob"};
    policy.secrets["alice"] = "alice-secret-123";
    policy.secrets["target-bob"] = "bob-secret-4567";
    LoginConnection login(policy, endpoints(), limits(), chap_options());
    chap_until_challenge(login);
    LoginPdu third = chap_answer("alice", "alice-secret-123");
    std::vector<uint8_t> their(16, 0x3c);
    third.keys.push_back({"CHAP_I", "77"});
    third.keys.push_back({"CHAP_C", encode_hex(their)});
    auto step = login.on_pdu(third.build());
    ASSERT_EQ(step.outcome, LoginStep::Outcome::Continue) << step.log;
    auto r = only_response(step);
    EXPECT_EQ(r.value("CHAP_N"), "target-bob");
    EXPECT_EQ(r.value("CHAP_R"), encode_hex(*chap_response(ChapAlgorithm::Md5, 77, "bob-secret-4567", their)));
    EXPECT_TRUE(r.login().transit());
}

TEST(Login, chap_mutual_reflected_challenge_is_refused) {
    FixedPolicy policy;
    policy.access.chap = config::ChapCredentials{"alice", "target-bob"};
    policy.secrets["alice"] = "alice-secret-123";
    policy.secrets["target-bob"] = "bob-secret-4567";
    LoginConnection login(policy, endpoints(), limits(), chap_options());
    chap_until_challenge(login);
    LoginPdu third = chap_answer("alice", "alice-secret-123");
    third.keys.push_back({"CHAP_I", "5"});
    third.keys.push_back({"CHAP_C", encode_hex(fixed_challenge())});
    auto step = login.on_pdu(third.build());
    expect_refused(step, LoginStatus::AuthenticationFailure);
    EXPECT_NE(step.log.find("reflects"), std::string::npos);
}

TEST(Login, chap_mutual_without_configured_target_user_is_refused) {
    FixedPolicy policy;
    policy.access.chap = config::ChapCredentials{"alice", ""};
    policy.secrets["alice"] = "alice-secret-123";
    LoginConnection login(policy, endpoints(), limits(), chap_options());
    chap_until_challenge(login);
    LoginPdu third = chap_answer("alice", "alice-secret-123");
    third.keys.push_back({"CHAP_I", "5"});
    third.keys.push_back({"CHAP_C", encode_hex(std::vector<uint8_t>(16, 9))});
    expect_refused(login.on_pdu(third.build()), LoginStatus::AuthenticationFailure);
}

TEST(Login, chap_identifier_reuse_within_a_login_is_refused) {
    FixedPolicy policy;
    policy.access.chap = config::ChapCredentials{"alice", "target-bob"};
    policy.secrets["alice"] = "alice-secret-123";
    policy.secrets["target-bob"] = "bob-secret-4567";
    LoginConnection login(policy, endpoints(), limits(), chap_options());
    LoginPdu first;
    first.keys = {{"InitiatorName", kInitiator}, {"TargetName", kTarget}, {"AuthMethod", "CHAP"}};
    login.on_pdu(first.build());
    LoginPdu second;
    second.keys = {{"CHAP_A", "5"}, {"CHAP_I", "3"}};  // out of sequence
    expect_refused(login.on_pdu(second.build()), LoginStatus::AuthenticationFailure);
}

TEST(Login, chap_required_but_not_offered_is_refused) {
    FixedPolicy policy;
    policy.access.chap = config::ChapCredentials{"alice", ""};
    LoginConnection login(policy, endpoints(), limits());
    LoginPdu first;
    first.keys = {{"InitiatorName", kInitiator}, {"TargetName", kTarget}, {"AuthMethod", "None"}};
    expect_refused(login.on_pdu(first.build()), LoginStatus::AuthenticationFailure);
}

TEST(Login, chap_required_but_security_stage_skipped_is_refused) {
    FixedPolicy policy;
    policy.access.chap = config::ChapCredentials{"alice", ""};
    LoginConnection login(policy, endpoints(), limits());
    LoginPdu first;
    first.csg = Stage::LoginOperationalNegotiation;
    first.nsg = Stage::FullFeaturePhase;
    first.transit = true;
    first.keys = {{"InitiatorName", kInitiator}, {"TargetName", kTarget}};
    expect_refused(login.on_pdu(first.build()), LoginStatus::AuthenticationFailure);
}

TEST(Login, missing_initiator_name_is_missing_parameter) {
    FixedPolicy policy;
    LoginConnection login(policy, endpoints(), limits());
    LoginPdu first;
    first.keys = {{"TargetName", kTarget}, {"AuthMethod", "None"}};
    expect_refused(login.on_pdu(first.build()), LoginStatus::MissingParameter);
}

TEST(Login, missing_target_name_for_normal_session_is_missing_parameter) {
    FixedPolicy policy;
    LoginConnection login(policy, endpoints(), limits());
    LoginPdu first;
    first.keys = {{"InitiatorName", kInitiator}, {"AuthMethod", "None"}};
    expect_refused(login.on_pdu(first.build()), LoginStatus::MissingParameter);
}

TEST(Login, invalid_initiator_name_is_initiator_error) {
    FixedPolicy policy;
    LoginConnection login(policy, endpoints(), limits());
    LoginPdu first;
    first.keys = {{"InitiatorName", "not a name"}, {"TargetName", kTarget}};
    expect_refused(login.on_pdu(first.build()), LoginStatus::InitiatorError);
}

TEST(Login, overlong_target_name_is_not_found) {
    FixedPolicy policy;
    LoginConnection login(policy, endpoints(), limits());
    LoginPdu first;
    first.keys = {{"InitiatorName", kInitiator}, {"TargetName", "iqn.2026-01.org.example:" + std::string(200, 'x')}};
    expect_refused(login.on_pdu(first.build()), LoginStatus::NotFound);
    EXPECT_EQ(policy.target_access_calls, 0);
}

TEST(Login, unknown_session_type_is_not_supported) {
    FixedPolicy policy;
    LoginConnection login(policy, endpoints(), limits());
    LoginPdu first;
    first.keys = {{"InitiatorName", kInitiator}, {"SessionType", "Weird"}};
    expect_refused(login.on_pdu(first.build()), LoginStatus::SessionTypeNotSupported);
}

TEST(Login, every_target_access_verdict_maps_to_its_status) {
    const std::pair<TargetAccess::Verdict, LoginStatus> cases[] = {
        {TargetAccess::Verdict::NotFound, LoginStatus::NotFound},
        {TargetAccess::Verdict::NotAuthorized, LoginStatus::AuthorizationFailure},
        {TargetAccess::Verdict::Removed, LoginStatus::TargetRemoved},
        {TargetAccess::Verdict::TooManySessions, LoginStatus::TooManyConnections},
    };
    for (const auto& [verdict, status] : cases) {
        FixedPolicy policy;
        policy.access.verdict = verdict;
        LoginConnection login(policy, endpoints(), limits());
        expect_refused(start_normal(login), status);
    }
}

TEST(Login, every_admission_verdict_maps_to_its_status) {
    const std::pair<Admission::Verdict, LoginStatus> cases[] = {
        {Admission::Verdict::SessionDoesNotExist, LoginStatus::SessionDoesNotExist},
        {Admission::Verdict::TooManyConnections, LoginStatus::TooManyConnections},
        {Admission::Verdict::InitiatorMismatch, LoginStatus::AuthorizationFailure},
        {Admission::Verdict::TooManySessions, LoginStatus::TooManyConnections},
    };
    for (const auto& [verdict, status] : cases) {
        FixedPolicy policy;
        policy.check.verdict = verdict;
        LoginConnection login(policy, endpoints(), limits());
        expect_refused(start_normal(login), status);
        FixedPolicy late;
        late.admitted.verdict = verdict;  // refused only at admit()
        LoginConnection login2(late, endpoints(), limits());
        start_normal(login2);
        expect_refused(operational(login2, {}), status);
    }
}

TEST(Login, redirect_temporary_and_permanent_carry_target_address) {
    for (bool permanent : {false, true}) {
        FixedPolicy policy;
        policy.access.verdict = TargetAccess::Verdict::Redirect;
        policy.access.redirect = config::Redirect{"2001:db8::5", 3261, 2, permanent};
        LoginConnection login(policy, endpoints(), limits());
        auto step = start_normal(login);
        EXPECT_EQ(step.outcome, LoginStep::Outcome::Close);
        auto r = only_response(step);
        EXPECT_EQ(r.login().status(),
                  permanent ? LoginStatus::TargetMovedPermanently : LoginStatus::TargetMovedTemporarily);
        EXPECT_EQ(r.value("TargetAddress"), "[2001:db8::5]:3261,2");
    }
}

TEST(Login, unsupported_version_is_refused) {
    FixedPolicy policy;
    LoginConnection login(policy, endpoints(), limits());
    LoginPdu first;
    first.version_max = 2;
    first.version_min = 1;
    first.keys = {{"InitiatorName", kInitiator}, {"TargetName", kTarget}};
    expect_refused(login.on_pdu(first.build()), LoginStatus::UnsupportedVersion);
}

TEST(Login, transit_and_continue_together_is_initiator_error) {
    FixedPolicy policy;
    LoginConnection login(policy, endpoints(), limits());
    LoginPdu first;
    first.transit = true;
    first.cont = true;
    first.keys = {{"InitiatorName", kInitiator}};
    expect_refused(login.on_pdu(first.build()), LoginStatus::InitiatorError);
}

TEST(Login, transit_to_reserved_or_lower_stage_is_initiator_error) {
    FixedPolicy policy;
    LoginConnection login(policy, endpoints(), limits());
    LoginPdu first;
    first.transit = true;
    first.nsg = Stage::Reserved;
    first.keys = {{"InitiatorName", kInitiator}, {"TargetName", kTarget}};
    expect_refused(login.on_pdu(first.build()), LoginStatus::InitiatorError);
}

TEST(Login, csg_mismatch_is_initiator_error) {
    FixedPolicy policy;
    LoginConnection login(policy, endpoints(), limits());
    LoginPdu first;
    first.keys = {{"InitiatorName", kInitiator}, {"TargetName", kTarget}, {"AuthMethod", "None"}};
    login.on_pdu(first.build());  // T=0: still in the security stage
    expect_refused(operational(login, {}), LoginStatus::InitiatorError);
}

TEST(Login, isid_change_during_login_is_initiator_error) {
    FixedPolicy policy;
    LoginConnection login(policy, endpoints(), limits());
    start_normal(login);
    LoginPdu next;
    next.csg = Stage::LoginOperationalNegotiation;
    next.cid = 9;
    expect_refused(login.on_pdu(next.build()), LoginStatus::InitiatorError);
}

TEST(Login, renegotiation_of_a_key_is_initiator_error) {
    FixedPolicy policy;
    LoginConnection login(policy, endpoints(), limits());
    start_normal(login);
    operational(login, {{"MaxBurstLength", "65536"}}, false);
    auto step = operational(login, {{"MaxBurstLength", "65536"}}, false, 502);
    expect_refused(step, LoginStatus::InitiatorError);
    EXPECT_NE(step.log.find("renegotiation"), std::string::npos);
}

TEST(Login, initiator_name_twice_is_renegotiation) {
    FixedPolicy policy;
    LoginConnection login(policy, endpoints(), limits());
    start_normal(login);
    expect_refused(operational(login, {{"InitiatorName", kInitiator}}), LoginStatus::InitiatorError);
}

TEST(Login, key_without_equals_is_initiator_error) {
    FixedPolicy policy;
    LoginConnection login(policy, endpoints(), limits());
    LoginPdu first;
    std::string raw = std::string("InitiatorName=") + kInitiator;
    raw.push_back('\0');
    raw += "AuthMethod";
    raw.push_back('\0');
    first.raw_data.assign(raw.begin(), raw.end());
    expect_refused(login.on_pdu(first.build()), LoginStatus::InitiatorError);
}

TEST(Login, duplicate_key_in_one_request_is_initiator_error) {
    FixedPolicy policy;
    LoginConnection login(policy, endpoints(), limits());
    LoginPdu first;
    first.keys = {{"InitiatorName", kInitiator}, {"TargetName", kTarget}, {"TargetName", kTarget}};
    expect_refused(login.on_pdu(first.build()), LoginStatus::InitiatorError);
}

TEST(Login, invalid_utf8_value_is_initiator_error) {
    FixedPolicy policy;
    LoginConnection login(policy, endpoints(), limits());
    LoginPdu first;
    first.keys = {{"InitiatorName", kInitiator}, {"TargetName", kTarget}, {"InitiatorAlias", "\xff\xfe"}};
    expect_refused(login.on_pdu(first.build()), LoginStatus::InitiatorError);
}

TEST(Login, unknown_keys_are_answered_not_understood) {
    FixedPolicy policy;
    LoginConnection login(policy, endpoints(), limits());
    start_normal(login);
    auto step = operational(login, {{"X-com.example.Foo", "1"}, {"Bogus", "2"}});
    EXPECT_EQ(step.outcome, LoginStep::Outcome::ReadyForHandoff) << step.log;
    auto r = only_response(step);
    EXPECT_EQ(r.value("X-com.example.Foo"), "NotUnderstood");
    EXPECT_EQ(r.value("Bogus"), "NotUnderstood");
}

TEST(Login, text_continuation_is_reassembled_and_acknowledged_empty) {
    FixedPolicy policy;
    LoginConnection login(policy, endpoints(), limits());
    TextPairs keys = {{"InitiatorName", kInitiator}, {"TargetName", kTarget}, {"AuthMethod", "None"}};
    auto text = encode_text(keys);
    LoginPdu part1;
    part1.cont = true;
    part1.raw_data.assign(text.begin(), text.begin() + 20);
    auto step = login.on_pdu(part1.build());
    ASSERT_EQ(step.outcome, LoginStep::Outcome::Continue) << step.log;
    auto ack = only_response(step);
    EXPECT_TRUE(ack.pdu.data.empty());
    EXPECT_FALSE(ack.login().transit());
    LoginPdu part2;
    part2.transit = true;
    part2.exp_stat_sn = 501;
    part2.raw_data.assign(text.begin() + 20, text.end());
    step = login.on_pdu(part2.build());
    ASSERT_EQ(step.outcome, LoginStep::Outcome::Continue) << step.log;
    EXPECT_EQ(only_response(step).value("AuthMethod"), "None");
}

TEST(Login, continuation_beyond_byte_cap_is_out_of_resources) {
    FixedPolicy policy;
    config::Limits small = limits();
    small.max_login_bytes = 9000;
    LoginConnection login(policy, endpoints(), small);
    LoginStep step;
    for (int i = 0; i < 3 && step.outcome == LoginStep::Outcome::Continue; ++i) {
        LoginPdu part;
        part.cont = true;
        part.raw_data.assign(4000, 'A');
        step = login.on_pdu(part.build());
    }
    expect_refused(step, LoginStatus::OutOfResources);
}

TEST(Login, too_many_login_pdus_is_refused) {
    FixedPolicy policy;
    config::Limits small = limits();
    small.max_login_pdus = 4;
    LoginConnection login(policy, endpoints(), small);
    LoginStep step;
    for (int i = 0; i < 5 && step.outcome == LoginStep::Outcome::Continue; ++i) {
        LoginPdu part;
        part.cont = true;
        part.raw_data.assign(10, 'A');
        step = login.on_pdu(part.build());
    }
    expect_refused(step, LoginStatus::InitiatorError);
}

TEST(Login, data_segment_beyond_8192_during_login_closes_after_answer) {
    FixedPolicy policy;
    LoginConnection login(policy, endpoints(), limits());
    LoginRequestHeader h;
    h.set_data_segment_length(8193);
    auto checked = login.check_header(h);
    ASSERT_FALSE(checked);
    expect_refused(checked.error(), LoginStatus::InitiatorError);
    LoginRequestHeader ok;
    ok.set_data_segment_length(10);
    LoginConnection login2(policy, endpoints(), limits());
    auto fine = login2.check_header(ok);
    ASSERT_TRUE(fine);
    EXPECT_EQ(*fine, 12u);
}

TEST(Login, non_login_pdu_during_login_is_invalid_during_login) {
    FixedPolicy policy;
    LoginConnection login(policy, endpoints(), limits());
    Pdu text;
    text.bhs = TextRequestHeader();
    expect_refused(login.on_pdu(text), LoginStatus::InvalidDuringLogin);
}

TEST(Login, timeout_closes_without_answer) {
    FixedPolicy policy;
    LoginConnection login(policy, endpoints(), limits());
    auto step = login.on_timeout();
    EXPECT_EQ(step.outcome, LoginStep::Outcome::Close);
    EXPECT_TRUE(step.responses.empty());
    EXPECT_NE(step.log.find("timed out"), std::string::npos);
}

TEST(Login, first_burst_above_max_burst_across_pdus_is_refused_at_transit) {
    FixedPolicy policy;
    LoginConnection login(policy, endpoints(), limits());
    start_normal(login);
    operational(login, {{"FirstBurstLength", "65536"}, {"ImmediateData", "Yes"}}, false);
    expect_refused(operational(login, {{"MaxBurstLength", "16384"}}, true, 502), LoginStatus::InitiatorError);
}

TEST(Login, non_leading_login_keeps_tsih_and_answers_leading_keys_irrelevant) {
    FixedPolicy policy;
    policy.check = {Admission::Verdict::AddConnection, 0, {}};
    policy.admitted = {Admission::Verdict::AddConnection, 0, {}};
    LoginConnection login(policy, endpoints(), limits());
    LoginPdu first;
    first.tsih = 42;
    first.cid = 2;
    first.keys = {{"InitiatorName", kInitiator}, {"TargetName", kTarget}, {"AuthMethod", "None"}};
    first.transit = true;
    login.on_pdu(first.build());
    LoginPdu second;
    second.tsih = 42;
    second.cid = 2;
    second.csg = Stage::LoginOperationalNegotiation;
    second.nsg = Stage::FullFeaturePhase;
    second.transit = true;
    second.keys = {{"MaxBurstLength", "65536"}, {"MaxRecvDataSegmentLength", "16384"}};
    auto step = login.on_pdu(second.build());
    ASSERT_EQ(step.outcome, LoginStep::Outcome::ReadyForHandoff) << step.log;
    auto r = only_response(step);
    EXPECT_EQ(r.login().tsih(), 42);
    EXPECT_EQ(r.value("MaxBurstLength"), "Irrelevant");
    EXPECT_EQ(login.handoff_info().negotiated.max_xmit_data_segment_length, 16384u);
}
