#include "config/diff.h"

#include <gtest/gtest.h>

#include "config/json.h"
#include "sample.h"

using namespace iscsi::config;

TEST(ConfigDiff, IdenticalConfigsHaveAnEmptyDiff) {
    auto config = *parse_config(kSampleConfig);
    EXPECT_TRUE(diff(config, config).empty());
}

TEST(ConfigDiff, AddedAndRemovedTargets) {
    auto before = *parse_config(kSampleConfig);
    auto after = before;
    after.targets.erase(after.targets.begin() + 1);
    after.targets.push_back(before.targets[1]);
    after.targets.back().name = "iqn.2024-01.org.example:new";
    auto d = diff(before, after);
    EXPECT_EQ(d.added_targets, (std::vector<std::string>{"iqn.2024-01.org.example:new"}));
    EXPECT_EQ(d.removed_targets, (std::vector<std::string>{"iqn.2024-01.org.example:disk1"}));
    EXPECT_TRUE(d.changed_targets.empty());
}

TEST(ConfigDiff, ChangedTargetAndPortals) {
    auto before = *parse_config(kSampleConfig);
    auto after = before;
    after.targets[0].portal_groups[1].portals[0].port = 3262;
    auto d = diff(before, after);
    EXPECT_EQ(d.changed_targets, (std::vector<std::string>{"iqn.2024-01.org.example:disk0"}));
    EXPECT_EQ(d.added_portals, (std::vector<PortalKey>{{"127.0.0.2", 3262, 2}}));
    EXPECT_EQ(d.removed_portals, (std::vector<PortalKey>{{"127.0.0.2", 3261, 2}}));
}

TEST(ConfigDiff, DisabledPortalGroupIsRemoved) {
    auto before = *parse_config(kSampleConfig);
    auto after = before;
    after.targets[0].portal_groups[1].enabled = false;
    auto d = diff(before, after);
    EXPECT_EQ(d.removed_portal_groups, (std::vector<PortalGroupKey>{{"iqn.2024-01.org.example:disk0", 2}}));
}

TEST(ConfigDiff, SharedPortalStaysWhileOneTargetUsesIt) {
    auto before = *parse_config(kSampleConfig);
    auto after = before;
    after.targets.pop_back();  // disk1 also listened on 127.0.0.1:3260 tpgt 1
    auto d = diff(before, after);
    EXPECT_TRUE(d.removed_portals.empty());
}

TEST(ConfigDiff, GlobalSections) {
    auto before = *parse_config(kSampleConfig);
    auto after = before;
    after.limits.login_timeout_s = 5;
    after.discovery.include_link_local = true;
    auto d = diff(before, after);
    EXPECT_TRUE(d.limits_changed);
    EXPECT_TRUE(d.discovery_changed);
    EXPECT_FALSE(d.security_changed);
    EXPECT_FALSE(d.backstores_changed);
}
