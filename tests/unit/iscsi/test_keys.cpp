#include "iscsi/keys.h"

#include <gtest/gtest.h>

using namespace iscsi;

TEST(Keys, every_rfc7143_section13_key_is_in_the_table) {
    for (const char* name :
         {"HeaderDigest", "DataDigest", "MaxConnections", "SendTargets", "TargetName", "InitiatorName", "TargetAlias",
          "InitiatorAlias", "TargetAddress", "TargetPortalGroupTag", "InitialR2T", "ImmediateData",
          "MaxRecvDataSegmentLength", "MaxBurstLength", "FirstBurstLength", "DefaultTime2Wait", "DefaultTime2Retain",
          "MaxOutstandingR2T", "DataPDUInOrder", "DataSequenceInOrder", "ErrorRecoveryLevel", "SessionType",
          "AuthMethod", "TaskReporting", "iSCSIProtocolLevel", "RDMAExtensions", "TargetRecvDataSegmentLength",
          "InitiatorRecvDataSegmentLength", "MaxOutstandingUnexpectedPDUs", "CHAP_A", "CHAP_I", "CHAP_C", "CHAP_N",
          "CHAP_R"}) {
        auto key = find_key(name);
        ASSERT_TRUE(key) << name;
        EXPECT_EQ(to_string(*key), name);
    }
    EXPECT_FALSE(find_key("maxburstlength"));  // names are case-sensitive
}

TEST(Keys, types_ranges_and_defaults_follow_rfc7143) {
    EXPECT_EQ(key_info(Key::MaxBurstLength).type, KeyType::NumericMin);
    EXPECT_EQ(key_info(Key::MaxBurstLength).min, 512u);
    EXPECT_EQ(key_info(Key::MaxBurstLength).max, 16777215u);
    EXPECT_EQ(key_info(Key::MaxBurstLength).default_number, 262144u);
    EXPECT_EQ(key_info(Key::DefaultTime2Wait).type, KeyType::NumericMax);
    EXPECT_EQ(key_info(Key::InitialR2T).type, KeyType::BooleanOr);
    EXPECT_EQ(key_info(Key::ImmediateData).type, KeyType::BooleanAnd);
    EXPECT_EQ(key_info(Key::HeaderDigest).type, KeyType::List);
    EXPECT_EQ(key_info(Key::MaxRecvDataSegmentLength).type, KeyType::Declarative);
    EXPECT_EQ(key_info(Key::MaxRecvDataSegmentLength).scope, Scope::Connection);
    EXPECT_EQ(key_info(Key::MaxConnections).use, Use::LeadingOnly);
    EXPECT_EQ(key_info(Key::AuthMethod).phase, Phase::Security);
    EXPECT_EQ(key_info(Key::TargetPortalGroupTag).sender, Sender::Target);
    EXPECT_TRUE(key_info(Key::MaxBurstLength).irrelevant_in_discovery);
    EXPECT_FALSE(key_info(Key::HeaderDigest).irrelevant_in_discovery);
    EXPECT_EQ(key_info(Key::ErrorRecoveryLevel).max, 2u);
    EXPECT_EQ(key_info(Key::RDMAExtensions).default_number, 0u);
    EXPECT_TRUE(key_table_is_indexed());
}

TEST(Keys, extension_keys_are_recognised) {
    EXPECT_TRUE(is_extension_key("X-com.example.Foo"));
    EXPECT_TRUE(is_extension_key("X#org.iana.Bar"));
    EXPECT_FALSE(is_extension_key("Xfoo"));
}
