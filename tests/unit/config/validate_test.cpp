#include "config/validate.h"

#include <gtest/gtest.h>

#include "config/json.h"
#include "sample.h"

using namespace iscsi::config;

namespace {

struct Fixture : ::testing::Test {
    Config config = *parse_config(kSampleConfig);
    Secrets secrets = *parse_secrets(kSampleSecrets);

    // The one error expected at `path`, or a test failure.
    ::testing::AssertionResult fails_at(const std::string& path) {
        auto errors = validate(config, secrets);
        for (const auto& e : errors)
            if (e.path == path) return ::testing::AssertionSuccess();
        auto result = ::testing::AssertionFailure() << "no error at " << path << "; got:";
        for (const auto& e : errors) result << "\n  " << e.to_string();
        return result;
    }
};

}  // namespace

TEST_F(Fixture, SampleIsValid) {
    auto errors = validate(config, secrets);
    for (const auto& e : errors) ADD_FAILURE() << e.to_string();
}
TEST_F(Fixture, InvalidTargetName) {
    config.targets[1].name = "iqn.2024-01.org.Example:Disk";
    EXPECT_TRUE(fails_at("targets[1].name"));
}
TEST_F(Fixture, DuplicateTargetName) {
    config.targets[1].name = config.targets[0].name;
    EXPECT_TRUE(fails_at("targets[1].name"));
}
TEST_F(Fixture, DuplicateTpgt) {
    config.targets[0].portal_groups[1].tpgt = 1;
    EXPECT_TRUE(fails_at("targets[0].portal_groups[1].tpgt"));
}
TEST_F(Fixture, PortalAddressMustBeNumeric) {
    config.targets[0].portal_groups[0].portals[1].address = "[::1]";
    EXPECT_TRUE(fails_at("targets[0].portal_groups[0].portals[1].address"));
}
TEST_F(Fixture, PortZeroIsRefused) {
    config.targets[0].portal_groups[0].portals[1].port = 0;
    EXPECT_TRUE(fails_at("targets[0].portal_groups[0].portals[1].port"));
}
TEST_F(Fixture, OnePortalBelongsToOneTpgt) {
    config.targets[1].portal_groups[0].tpgt = 3;
    EXPECT_TRUE(fails_at("targets[1].portal_groups[0].portals[0]"));
}
TEST_F(Fixture, WildcardAndSpecificAddressOnOnePortClash) {
    config.targets[1].portal_groups[0].portals.push_back({"0.0.0.0", 3260});
    EXPECT_TRUE(fails_at("targets[0].portal_groups[0].portals[0]"));
}
TEST_F(Fixture, LunMustReferenceExistingBackstore) {
    config.targets[0].luns[1].backstore = "nope";
    EXPECT_TRUE(fails_at("targets[0].luns[1].backstore"));
}
TEST_F(Fixture, DuplicateLun) {
    config.targets[0].luns[1].lun = 0;
    EXPECT_TRUE(fails_at("targets[0].luns[1].lun"));
}
TEST_F(Fixture, MappedLunMustReferenceTargetLun) {
    config.targets[0].acls[0].mapped_luns[0].lun = 7;
    EXPECT_TRUE(fails_at("targets[0].acls[0].mapped_luns[0].lun"));
}
TEST_F(Fixture, AclInitiatorNameMustBeValid) {
    config.targets[0].acls[0].initiator_name = "client";
    EXPECT_TRUE(fails_at("targets[0].acls[0].initiator_name"));
}
TEST_F(Fixture, AclNetworkMustBeCidr) {
    config.targets[0].acls[0].allowed_networks[1] = "::1/129";
    EXPECT_TRUE(fails_at("targets[0].acls[0].allowed_networks[1]"));
}
TEST_F(Fixture, ChapUserNeedsSecret) {
    secrets.chap.erase("alice");
    EXPECT_TRUE(fails_at("targets[0].chap.user"));
    EXPECT_TRUE(fails_at("discovery.chap.user"));
}
TEST_F(Fixture, MutualSecretMustDiffer) {
    secrets.chap["target"] = secrets.chap["alice"];
    EXPECT_TRUE(fails_at("targets[0].chap.mutual_user"));
}
TEST_F(Fixture, ShortSecretIsRefused) {
    secrets.chap["alice"] = "short";
    auto errors = validate(config, secrets, FileNames{"c.json", "s.json"});
    ASSERT_FALSE(errors.empty());
    EXPECT_EQ(errors[0].file, "s.json");
    EXPECT_EQ(errors[0].path, "chap.alice");
}
TEST_F(Fixture, FirstBurstMustNotExceedMaxBurst) {
    config.targets[0].parameters.first_burst_length = 2 * 1048576;
    EXPECT_TRUE(fails_at("targets[0].parameters.first_burst_length"));
}
TEST_F(Fixture, SessionParameterRanges) {
    config.targets[0].parameters.max_recv_data_segment_length = 100;
    config.targets[0].parameters.error_recovery_level = 3;
    config.targets[0].parameters.max_connections = 0;
    EXPECT_TRUE(fails_at("targets[0].parameters.max_recv_data_segment_length"));
    EXPECT_TRUE(fails_at("targets[0].parameters.error_recovery_level"));
    EXPECT_TRUE(fails_at("targets[0].parameters.max_connections"));
}
TEST_F(Fixture, DigestNamesAreChecked) {
    config.targets[0].parameters.data_digest = {"MD5"};
    EXPECT_TRUE(fails_at("targets[0].parameters.data_digest[0]"));
}
TEST_F(Fixture, RedirectNeedsAddressAndPort) {
    config.targets[1].redirect->address = "";
    config.targets[1].redirect->port = 0;
    EXPECT_TRUE(fails_at("targets[1].redirect.address"));
    EXPECT_TRUE(fails_at("targets[1].redirect.port"));
}
TEST_F(Fixture, ChapAlgorithmsMustBeKnownAndDistinct) {
    config.security.chap_algorithms = {7, 4, 7};
    EXPECT_TRUE(fails_at("security.chap_algorithms[1]"));
    EXPECT_TRUE(fails_at("security.chap_algorithms[2]"));
}
TEST_F(Fixture, LimitsAreChecked) {
    config.limits.login_timeout_s = 0;
    EXPECT_TRUE(fails_at("limits.login_timeout_s"));
}
TEST_F(Fixture, BackstoreNeedsPathOrSize) {
    config.backstores[0].path.clear();
    config.backstores[1].size_bytes = 0;
    EXPECT_TRUE(fails_at("backstores[0].path"));
    EXPECT_TRUE(fails_at("backstores[1].size_bytes"));
}
TEST_F(Fixture, DuplicateBackstoreName) {
    config.backstores[1].name = "disk0";
    EXPECT_TRUE(fails_at("backstores[1].name"));
}
