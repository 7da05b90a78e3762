#include "config/json.h"

#include <gtest/gtest.h>

#include "sample.h"

using namespace iscsi::config;

TEST(ConfigJson, ParsesEveryFieldOfTheSample) {
    auto config = parse_config(kSampleConfig);
    ASSERT_TRUE(config) << config.error().to_string();
    ASSERT_EQ(config->targets.size(), 2u);
    const Target& t = config->targets[0];
    EXPECT_EQ(t.alias, "first");
    ASSERT_EQ(t.portal_groups.size(), 2u);
    EXPECT_EQ(t.portal_groups[0].portals[1].address, "::1");
    EXPECT_TRUE(t.portal_groups[1].demo_mode);
    EXPECT_TRUE(t.acls[0].mapped_luns[0].write_protect);
    ASSERT_TRUE(t.chap);
    EXPECT_EQ(t.chap->mutual_user, "target");
    EXPECT_EQ(t.parameters.max_burst_length, 1048576u);
    EXPECT_FALSE(t.parameters.initial_r2t);
    EXPECT_EQ(t.parameters.header_digest, (std::vector<std::string>{"CRC32C", "None"}));
    EXPECT_EQ(config->backstores[1].type, BackstoreType::Ramdisk);
    EXPECT_TRUE(config->targets[1].redirect->permanent);
    EXPECT_EQ(config->limits.login_timeout_s, 10u);
    EXPECT_EQ(config->limits.max_login_pdus, 64u);  // default kept
    EXPECT_EQ(config->security.chap_algorithms, (std::vector<uint8_t>{7, 6}));
}

TEST(ConfigJson, RoundTripsThroughToJson) {
    auto config = parse_config(kSampleConfig);
    ASSERT_TRUE(config);
    auto again = parse_config(to_json(*config).dump());
    ASSERT_TRUE(again) << again.error().to_string();
    EXPECT_EQ(to_json(*config), to_json(*again));
}

TEST(ConfigJson, WrongTypeNamesTheJsonPath) {
    auto config = parse_config(
        R"({"targets":[{"name":"iqn.2024-01.a:b","portal_groups":[{"tpgt":1,"portals":[{"address":"::1"},{"address":"::1","port":"x"}]}]}]})",
        "/etc/x.json");
    ASSERT_FALSE(config);
    EXPECT_EQ(config.error().file, "/etc/x.json");
    EXPECT_EQ(config.error().path, "targets[0].portal_groups[0].portals[1].port");
    EXPECT_NE(config.error().message.find("integer"), std::string::npos);
}

TEST(ConfigJson, PortOutOfRangeIsRefused) {
    auto config = parse_config(R"({"targets":[{"name":"n","portal_groups":[{"tpgt":1,"portals":[{"address":"::1","port":70000}]}]}]})");
    ASSERT_FALSE(config);
    EXPECT_EQ(config.error().path, "targets[0].portal_groups[0].portals[0].port");
}

TEST(ConfigJson, UnknownKeyIsRefused) {
    auto config = parse_config(R"({"targets":[{"name":"n","lunz":[]}]})");
    ASSERT_FALSE(config);
    EXPECT_EQ(config.error().path, "targets[0].lunz");
}

TEST(ConfigJson, MissingRequiredKeyIsRefused) {
    auto config = parse_config(R"({"targets":[{"alias":"x"}]})");
    ASSERT_FALSE(config);
    EXPECT_EQ(config.error().path, "targets[0]");
    EXPECT_NE(config.error().message.find("name"), std::string::npos);
}

TEST(ConfigJson, SyntaxErrorNamesTheFile) {
    auto config = parse_config("{\"targets\": [", "bad.json");
    ASSERT_FALSE(config);
    EXPECT_EQ(config.error().to_string().rfind("bad.json: not valid JSON", 0), 0u);
}

TEST(ConfigJson, UnknownBackstoreTypeIsRefused) {
    auto config = parse_config(R"({"backstores":[{"name":"a","type":"nvme"}]})");
    ASSERT_FALSE(config);
    EXPECT_EQ(config.error().path, "backstores[0].type");
}

TEST(ConfigJson, NegativeNumberIsRefused) {
    auto config = parse_config(R"({"limits":{"login_timeout_s":-1}})");
    ASSERT_FALSE(config);
    EXPECT_EQ(config.error().path, "limits.login_timeout_s");
}

TEST(SecretsJson, ParsesAndRefusesNonStrings) {
    auto secrets = parse_secrets(kSampleSecrets);
    ASSERT_TRUE(secrets);
    EXPECT_EQ(secrets->chap.at("alice"), "alice-secret-123");
    auto bad = parse_secrets(R"({"chap":{"bob":12}})");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().path, "chap.bob");
}
