// One test per negotiation rule of RFC 7143 s.6.2 and s.13, named for it.
#include "iscsi/negotiation.h"

#include <gtest/gtest.h>

using namespace iscsi;

namespace {

std::string answer(const NegotiationOutcome& out, const std::string& key) {
    for (const auto& kv : out.answers) {
        if (kv.key == key) return kv.value;
    }
    return "<none>";
}

NegotiationOutcome op(Negotiator& n, TextPairs pairs) { return n.process(pairs, Stage::LoginOperationalNegotiation); }

}  // namespace

TEST(Negotiation, numeric_min_answers_the_smaller_value) {
    Negotiator n(TargetOffer{});
    auto out = op(n, {{"MaxBurstLength", "1048576"}, {"MaxOutstandingR2T", "1"}});
    EXPECT_EQ(answer(out, "MaxBurstLength"), "262144");
    EXPECT_EQ(n.values().max_burst_length, 262144u);
    Negotiator m(TargetOffer{});
    out = op(m, {{"MaxBurstLength", "4096"}});
    EXPECT_EQ(answer(out, "MaxBurstLength"), "4096");
    EXPECT_EQ(m.values().max_burst_length, 4096u);
}

TEST(Negotiation, numeric_max_answers_the_larger_value) {
    Negotiator n(TargetOffer{});
    auto out = op(n, {{"DefaultTime2Wait", "0"}});
    EXPECT_EQ(answer(out, "DefaultTime2Wait"), "2");
    Negotiator m(TargetOffer{});
    out = op(m, {{"DefaultTime2Wait", "10"}});
    EXPECT_EQ(answer(out, "DefaultTime2Wait"), "10");
    EXPECT_EQ(m.values().default_time2wait, 10u);
}

TEST(Negotiation, numeric_out_of_range_is_answered_reject) {
    Negotiator n(TargetOffer{});
    auto out = op(n, {{"MaxBurstLength", "511"}, {"MaxConnections", "0"}, {"ErrorRecoveryLevel", "3"},
                      {"DefaultTime2Retain", "abc"}});
    EXPECT_FALSE(out.failure);
    EXPECT_EQ(answer(out, "MaxBurstLength"), "Reject");
    EXPECT_EQ(answer(out, "MaxConnections"), "Reject");
    EXPECT_EQ(answer(out, "ErrorRecoveryLevel"), "Reject");
    EXPECT_EQ(answer(out, "DefaultTime2Retain"), "Reject");
    EXPECT_EQ(n.values().max_burst_length, 262144u);  // default stands
}

TEST(Negotiation, numeric_accepts_hex_form) {
    Negotiator n(TargetOffer{});
    auto out = op(n, {{"MaxBurstLength", "0x1000"}});
    EXPECT_EQ(answer(out, "MaxBurstLength"), "4096");
}

TEST(Negotiation, boolean_and_is_yes_only_if_both_say_yes) {
    TargetOffer offer;
    offer.immediate_data = false;
    Negotiator n(offer);
    EXPECT_EQ(answer(op(n, {{"ImmediateData", "Yes"}}), "ImmediateData"), "No");
    EXPECT_FALSE(n.values().immediate_data);
    Negotiator m(TargetOffer{});
    EXPECT_EQ(answer(op(m, {{"ImmediateData", "Yes"}}), "ImmediateData"), "Yes");
    Negotiator k(TargetOffer{});
    EXPECT_EQ(answer(op(k, {{"ImmediateData", "No"}}), "ImmediateData"), "No");
}

TEST(Negotiation, boolean_or_is_yes_if_either_says_yes) {
    TargetOffer offer;
    offer.initial_r2t = false;
    Negotiator n(offer);
    EXPECT_EQ(answer(op(n, {{"InitialR2T", "No"}}), "InitialR2T"), "No");
    Negotiator m(TargetOffer{});
    EXPECT_EQ(answer(op(m, {{"InitialR2T", "No"}}), "InitialR2T"), "Yes");
    EXPECT_TRUE(m.values().initial_r2t);
}

TEST(Negotiation, boolean_with_other_value_is_answered_reject) {
    Negotiator n(TargetOffer{});
    EXPECT_EQ(answer(op(n, {{"DataPDUInOrder", "yes"}}), "DataPDUInOrder"), "Reject");
}

TEST(Negotiation, list_picks_first_offered_value_the_target_supports) {
    Negotiator n(TargetOffer{});
    auto out = op(n, {{"HeaderDigest", "CRC32C,None"}, {"DataDigest", "None,CRC32C"}});
    EXPECT_EQ(answer(out, "HeaderDigest"), "CRC32C");
    EXPECT_EQ(answer(out, "DataDigest"), "None");
    EXPECT_EQ(n.values().header_digest, kmod::Digest::Crc32c);
    EXPECT_EQ(n.values().to_kmod().header_digest, kmod::Digest::Crc32c);
}

TEST(Negotiation, list_without_supported_value_is_answered_reject) {
    Negotiator n(discovery_offer(8192));
    auto out = op(n, {{"HeaderDigest", "CRC32C"}, {"TaskReporting", "FastAbort"}});
    EXPECT_EQ(answer(out, "HeaderDigest"), "Reject");
    EXPECT_EQ(answer(out, "TaskReporting"), "Reject");
}

TEST(Negotiation, declarative_max_recv_data_segment_length_is_recorded_not_answered) {
    Negotiator n(TargetOffer{});
    auto out = op(n, {{"MaxRecvDataSegmentLength", "262144"}});
    EXPECT_FALSE(out.failure);
    EXPECT_EQ(answer(out, "MaxRecvDataSegmentLength"), "<none>");
    EXPECT_EQ(n.values().initiator_max_recv_data_segment_length, 262144u);
    EXPECT_EQ(n.values().to_kmod().max_xmit_data_segment_length, 262144u);
}

TEST(Negotiation, declarative_out_of_range_fails_the_login) {
    Negotiator n(TargetOffer{});
    auto out = op(n, {{"MaxRecvDataSegmentLength", "100"}});
    ASSERT_TRUE(out.failure);
    EXPECT_EQ(out.failure->status, LoginStatus::InitiatorError);
}

TEST(Negotiation, negotiated_once_renegotiation_fails_with_initiator_error) {
    Negotiator n(TargetOffer{});
    EXPECT_FALSE(op(n, {{"MaxBurstLength", "65536"}}).failure);
    auto out = op(n, {{"MaxBurstLength", "65536"}});
    ASSERT_TRUE(out.failure);
    EXPECT_EQ(out.failure->status, LoginStatus::InitiatorError);
    EXPECT_NE(out.failure->reason.find("negotiated once"), std::string::npos);
}

TEST(Negotiation, unknown_key_is_answered_not_understood) {
    Negotiator n(TargetOffer{});
    auto out = op(n, {{"FooBar", "1"}, {"X-com.example.Thing", "1"}, {"X#org.example", "2"}});
    EXPECT_EQ(answer(out, "FooBar"), "NotUnderstood");
    EXPECT_EQ(answer(out, "X-com.example.Thing"), "NotUnderstood");
    EXPECT_EQ(answer(out, "X#org.example"), "NotUnderstood");
}

TEST(Negotiation, target_only_key_from_initiator_fails) {
    Negotiator n(TargetOffer{});
    auto out = op(n, {{"TargetPortalGroupTag", "1"}});
    ASSERT_TRUE(out.failure);
    EXPECT_EQ(out.failure->status, LoginStatus::InitiatorError);
}

TEST(Negotiation, security_key_in_operational_stage_fails) {
    Negotiator n(TargetOffer{});
    auto out = op(n, {{"AuthMethod", "None"}});
    ASSERT_TRUE(out.failure);
    EXPECT_EQ(out.failure->status, LoginStatus::InitiatorError);
}

TEST(Negotiation, full_feature_only_key_during_login_is_answered_reject) {
    Negotiator n(TargetOffer{});
    EXPECT_EQ(answer(op(n, {{"SendTargets", "All"}}), "SendTargets"), "Reject");
}

TEST(Negotiation, discovery_irrelevant_keys_are_answered_irrelevant) {
    Negotiator n(discovery_offer(8192));
    n.set_session(true, true);
    auto out = op(n, {{"MaxBurstLength", "65536"}, {"InitialR2T", "No"}, {"MaxConnections", "4"},
                      {"DataDigest", "None"}});
    EXPECT_EQ(answer(out, "MaxBurstLength"), "Irrelevant");
    EXPECT_EQ(answer(out, "InitialR2T"), "Irrelevant");
    EXPECT_EQ(answer(out, "MaxConnections"), "Irrelevant");
    EXPECT_EQ(answer(out, "DataDigest"), "None");
}

TEST(Negotiation, leading_only_keys_on_non_leading_connection_are_irrelevant) {
    Negotiator n(TargetOffer{});
    n.set_session(false, false);
    auto out = op(n, {{"MaxBurstLength", "65536"}, {"HeaderDigest", "None"}});
    EXPECT_EQ(answer(out, "MaxBurstLength"), "Irrelevant");
    EXPECT_EQ(answer(out, "HeaderDigest"), "None");
}

TEST(Negotiation, first_burst_length_is_clamped_to_max_burst_length) {
    Negotiator n(TargetOffer{});
    auto out = op(n, {{"FirstBurstLength", "65536"}, {"MaxBurstLength", "16384"}});
    EXPECT_EQ(answer(out, "MaxBurstLength"), "16384");
    EXPECT_EQ(answer(out, "FirstBurstLength"), "16384");
    EXPECT_FALSE(n.finish());
}

TEST(Negotiation, first_burst_length_above_max_burst_length_across_pdus_fails_at_finish) {
    Negotiator n(TargetOffer{});
    op(n, {{"FirstBurstLength", "65536"}});
    op(n, {{"MaxBurstLength", "16384"}});
    auto failure = n.finish();
    ASSERT_TRUE(failure);
    EXPECT_NE(failure->reason.find("s.13.14"), std::string::npos);
}

TEST(Negotiation, first_burst_length_irrelevant_when_initial_r2t_yes_and_immediate_data_no) {
    Negotiator n(TargetOffer{});
    auto out = op(n, {{"FirstBurstLength", "4096"}, {"InitialR2T", "Yes"}, {"ImmediateData", "No"}});
    EXPECT_EQ(answer(out, "FirstBurstLength"), "Irrelevant");
}

TEST(Negotiation, rdma_extensions_answered_no_and_iser_keys_irrelevant) {
    Negotiator n(TargetOffer{});
    auto out = op(n, {{"RDMAExtensions", "Yes"}, {"TargetRecvDataSegmentLength", "8192"},
                      {"InitiatorRecvDataSegmentLength", "8192"}, {"MaxOutstandingUnexpectedPDUs", "0"}});
    EXPECT_EQ(answer(out, "RDMAExtensions"), "No");
    EXPECT_EQ(answer(out, "TargetRecvDataSegmentLength"), "Irrelevant");
    EXPECT_EQ(answer(out, "InitiatorRecvDataSegmentLength"), "Irrelevant");
    EXPECT_EQ(answer(out, "MaxOutstandingUnexpectedPDUs"), "Irrelevant");
}

TEST(Negotiation, obsolete_marker_keys_get_fixed_answers) {
    Negotiator n(TargetOffer{});
    auto out = op(n, {{"IFMarker", "No"}, {"OFMarker", "Yes"}, {"OFMarkInt", "2048~8192"}});
    EXPECT_EQ(answer(out, "IFMarker"), "No");
    EXPECT_EQ(answer(out, "OFMarker"), "No");
    EXPECT_EQ(answer(out, "OFMarkInt"), "Reject");
}

TEST(Negotiation, error_recovery_level_is_limited_to_target_level) {
    Negotiator n(TargetOffer{});
    EXPECT_EQ(answer(op(n, {{"ErrorRecoveryLevel", "2"}}), "ErrorRecoveryLevel"), "0");
}

TEST(Negotiation, identity_and_security_keys_go_to_the_login) {
    Negotiator n(TargetOffer{});
    auto out = n.process({{"InitiatorName", "iqn.2026-01.x:y"}, {"AuthMethod", "None"}, {"CHAP_A", "5"}},
                         Stage::SecurityNegotiation);
    EXPECT_FALSE(out.failure);
    EXPECT_EQ(out.for_login.size(), 3u);
    EXPECT_TRUE(out.answers.empty());
}

TEST(Negotiation, target_declares_max_recv_data_segment_length_once) {
    TargetOffer offer;
    offer.max_recv_data_segment_length = 65536;
    Negotiator n(offer);
    EXPECT_TRUE(n.owes_declarations());
    auto first = n.target_declarations(false);
    ASSERT_EQ(first.size(), 1u);
    EXPECT_EQ(first[0].key, "MaxRecvDataSegmentLength");
    EXPECT_EQ(first[0].value, "65536");
    EXPECT_TRUE(n.target_declarations(false).empty());
    EXPECT_FALSE(n.owes_declarations());
    EXPECT_EQ(n.values().to_kmod().max_recv_data_segment_length, 65536u);
}

TEST(Negotiation, target_offers_non_default_values_and_waits_for_answers) {
    TargetOffer offer;
    offer.max_burst_length = 1048576;
    offer.immediate_data = false;
    Negotiator n(offer);
    n.set_session(false, true);
    op(n, {{"HeaderDigest", "None"}});
    auto offers = n.target_declarations(true);
    bool offered_burst = false, offered_immediate = false;
    for (const auto& kv : offers) {
        if (kv.key == "MaxBurstLength") offered_burst = kv.value == "1048576";
        if (kv.key == "ImmediateData") offered_immediate = kv.value == "No";
    }
    EXPECT_TRUE(offered_burst);
    EXPECT_TRUE(offered_immediate);
    EXPECT_TRUE(n.awaiting_answers());
    auto out = op(n, {{"MaxBurstLength", "524288"}, {"ImmediateData", "No"}});
    EXPECT_FALSE(out.failure);
    EXPECT_TRUE(out.answers.empty());  // answers to our offers are not answered
    EXPECT_FALSE(n.awaiting_answers());
    EXPECT_EQ(n.values().max_burst_length, 524288u);
    EXPECT_FALSE(n.values().immediate_data);
}

TEST(Negotiation, answer_to_target_offer_outside_the_function_fails) {
    TargetOffer offer;
    offer.max_burst_length = 65536;
    Negotiator n(offer);
    n.set_session(false, true);
    n.target_declarations(true);
    auto out = op(n, {{"MaxBurstLength", "131072"}});  // numeric-min answer above our offer
    ASSERT_TRUE(out.failure);
    EXPECT_EQ(out.failure->status, LoginStatus::InitiatorError);
}

TEST(Negotiation, target_offer_from_configuration_clamps_values) {
    config::SessionParameters p;
    p.max_burst_length = 100;  // below the RFC minimum
    p.first_burst_length = 1u << 30;
    p.header_digest = {"CRC32C", "Bogus"};
    auto offer = target_offer_from(p);
    EXPECT_EQ(offer.max_burst_length, 512u);
    EXPECT_EQ(offer.first_burst_length, 512u);  // never above MaxBurstLength
    EXPECT_EQ(offer.header_digests, (std::vector<std::string>{"CRC32C"}));
}
