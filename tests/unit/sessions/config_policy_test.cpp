// The daemon's LoginPolicy over configuration, secrets and registry.
#include "policy/config_policy.h"

#include <gtest/gtest.h>

#include "config/json.h"

using namespace iscsi;
using Verdict = TargetAccess::Verdict;

namespace {

const std::string kConfig = R"({
  "targets": [
    {"name": "iqn.2024-01.org.example:acl",
     "portal_groups": [{"tpgt": 1, "portals": [{"address": "127.0.0.1", "port": 3260}, {"address": "fe80::1", "port": 3260}]},
                       {"tpgt": 2, "portals": [{"address": "0.0.0.0", "port": 3261}]}],
     "acls": [{"initiator_name": "iqn.2024-01.org.example:alice", "allowed_networks": ["10.0.0.0/8"]},
              {"initiator_name": "iqn.2024-01.org.example:bob", "chap": {"user": "bob"}}],
     "chap": {"user": "target-user"},
     "max_sessions": 1,
     "parameters": {"max_connections": 2}},
    {"name": "iqn.2024-01.org.example:demo",
     "portal_groups": [{"tpgt": 1, "demo_mode": true, "portals": [{"address": "127.0.0.1", "port": 3260}]},
                       {"tpgt": 3, "demo_mode": true, "portals": [{"address": "127.0.0.2", "port": 3262}],
                        "redirect": {"address": "192.0.2.1", "port": 3260, "tpgt": 1, "permanent": true}}]}
  ],
  "discovery": {"chap": {"user": "target-user"}}
})";
const std::string kSecrets = R"({"chap": {"bob": "bob-secret-12345", "target-user": "target-secret-12"}})";

ConnectionEndpoints endpoints(const std::string& peer, uint16_t tpgt = 1, const std::string& local = "127.0.0.1",
                              uint16_t port = 3260) {
    return {tpgt, peer, 40000, local, port};
}

struct PolicyTest : ::testing::Test {
    sessions::Registry registry;
    policy::ConfigPolicy policy{registry, *config::parse_config(kConfig), *config::parse_secrets(kSecrets)};
};

}  // namespace

TEST_F(PolicyTest, UnknownTargetIsNotFound) {
    EXPECT_EQ(policy.target_access("iqn.2024-01.org.example:nope", "iqn.2024-01.org.example:alice",
                                   endpoints("10.1.1.1"))
                  .verdict,
              Verdict::NotFound);
}

TEST_F(PolicyTest, TargetNotServedOnThisPortalIsNotFound) {
    auto access = policy.target_access("iqn.2024-01.org.example:demo", "iqn.2024-01.org.example:x",
                                       endpoints("127.0.0.1", 2, "127.0.0.1", 3261));
    EXPECT_EQ(access.verdict, Verdict::NotFound);
    EXPECT_NE(access.reason.find("3261"), std::string::npos);
}

TEST_F(PolicyTest, AclAllowsItsInitiatorFromAllowedNetworks) {
    auto access = policy.target_access("iqn.2024-01.org.example:acl", "iqn.2024-01.org.example:alice",
                                       endpoints("10.1.2.3"));
    EXPECT_EQ(access.verdict, Verdict::Allowed);
    ASSERT_TRUE(access.chap);
    EXPECT_EQ(access.chap->user, "target-user") << "the target's CHAP applies without an ACL override";
    EXPECT_EQ(access.parameters.max_connections, 2u);
}

TEST_F(PolicyTest, AclRefusesAddressesOutsideAllowedNetworks) {
    auto access = policy.target_access("iqn.2024-01.org.example:acl", "iqn.2024-01.org.example:alice",
                                       endpoints("127.0.0.1"));
    EXPECT_EQ(access.verdict, Verdict::NotAuthorized);
    EXPECT_NE(access.reason.find("127.0.0.1"), std::string::npos);
}

TEST_F(PolicyTest, InitiatorWithoutAclIsNotAuthorizedWithoutDemoMode) {
    EXPECT_EQ(policy.target_access("iqn.2024-01.org.example:acl", "iqn.2024-01.org.example:eve",
                                   endpoints("10.1.2.3"))
                  .verdict,
              Verdict::NotAuthorized);
}

TEST_F(PolicyTest, DemoModeAllowsAnyInitiator) {
    EXPECT_EQ(policy.target_access("iqn.2024-01.org.example:demo", "iqn.2024-01.org.example:eve",
                                   endpoints("127.0.0.1"))
                  .verdict,
              Verdict::Allowed);
}

TEST_F(PolicyTest, AclChapOverridesTargetChap) {
    auto access = policy.target_access("iqn.2024-01.org.example:acl", "iqn.2024-01.org.example:bob",
                                       endpoints("127.0.0.1"));
    ASSERT_EQ(access.verdict, Verdict::Allowed);
    EXPECT_EQ(access.chap->user, "bob");
}

TEST_F(PolicyTest, WildcardPortalMatchesAnyLocalAddressOfItsFamily) {
    EXPECT_EQ(policy.target_access("iqn.2024-01.org.example:acl", "iqn.2024-01.org.example:bob",
                                   endpoints("127.0.0.1", 2, "192.0.2.5", 3261))
                  .verdict,
              Verdict::Allowed);
}

TEST_F(PolicyTest, PortalGroupRedirectWins) {
    auto access = policy.target_access("iqn.2024-01.org.example:demo", "iqn.2024-01.org.example:eve",
                                       endpoints("127.0.0.1", 3, "127.0.0.2", 3262));
    ASSERT_EQ(access.verdict, Verdict::Redirect);
    ASSERT_TRUE(access.redirect);
    EXPECT_TRUE(access.redirect->permanent);
    EXPECT_EQ(access.redirect->address, "192.0.2.1");
}

TEST_F(PolicyTest, SecretsAndDiscoveryChap) {
    EXPECT_EQ(policy.chap_secret("bob"), "bob-secret-12345");
    EXPECT_FALSE(policy.chap_secret("nobody"));
    ASSERT_TRUE(policy.discovery_chap("iqn.2024-01.org.example:any"));
    EXPECT_EQ(policy.discovery_chap("iqn.2024-01.org.example:any")->user, "target-user");
}

TEST_F(PolicyTest, SendTargetsListsOnlyReachableTargets) {
    auto entries = policy.send_targets("iqn.2024-01.org.example:eve", endpoints("127.0.0.1"), "");
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].target_name, "iqn.2024-01.org.example:demo");
    // Both groups: the redirecting one too, the initiator is sent on from there.
    EXPECT_EQ(entries[0].portals.size(), 2u);
}

TEST_F(PolicyTest, SendTargetsHidesLinkLocalAndFillsWildcards) {
    auto entries = policy.send_targets("iqn.2024-01.org.example:bob", endpoints("127.0.0.1", 1, "192.0.2.5", 3260),
                                       "iqn.2024-01.org.example:acl");
    ASSERT_EQ(entries.size(), 1u);
    std::vector<std::string> listed;
    for (const auto& p : entries[0].portals) listed.push_back(p.address + ":" + std::to_string(p.port));
    EXPECT_EQ(listed, (std::vector<std::string>{"127.0.0.1:3260", "192.0.2.5:3261"}));
}

TEST_F(PolicyTest, SendTargetsShowsLinkLocalWhenConfigured) {
    auto config = *config::parse_config(kConfig);
    config.discovery.include_link_local = true;
    policy.update(config, *config::parse_secrets(kSecrets));
    auto entries = policy.send_targets("iqn.2024-01.org.example:bob", endpoints("127.0.0.1"), "iqn.2024-01.org.example:acl");
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].portals.size(), 3u);
}

TEST_F(PolicyTest, AdmissionUsesTheTargetSessionLimit) {
    LoginIdentity id{"iqn.2024-01.org.example:bob", "iqn.2024-01.org.example:acl", 1, {0x80, 0, 0, 0, 0, 1}, 0, 1};
    auto first = policy.admit(id, endpoints("127.0.0.1"));
    EXPECT_EQ(first.verdict, Admission::Verdict::NewSession);
    id.isid[5] = 2;
    EXPECT_EQ(policy.check_admission(id).verdict, Admission::Verdict::TooManySessions) << "max_sessions is 1";
}

TEST_F(PolicyTest, AbandonForgetsTheSession) {
    LoginIdentity id{"iqn.2024-01.org.example:bob", "iqn.2024-01.org.example:acl", 1, {0x80, 0, 0, 0, 0, 1}, 0, 1};
    auto admission = policy.admit(id, endpoints("127.0.0.1"));
    policy.abandon(id, admission);
    EXPECT_TRUE(registry.sessions().empty());
}
