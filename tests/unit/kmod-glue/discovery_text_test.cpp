// discovery_text: the SendTargets answer stored in the kernel per portal group.
#include "discovery_text.h"

#include <gtest/gtest.h>

namespace {

using iscsi::kmod::discovery_text;

std::string pairs(std::initializer_list<std::string> list) {
    std::string out;
    for (const auto& p : list) {
        out += p;
        out += '\0';
    }
    return out;
}

iscsi::config::Config two_groups() {
    iscsi::config::Config config;
    iscsi::config::Target target;
    target.name = "iqn.2026-12.org.example:disk";
    iscsi::config::PortalGroup one;
    one.tpgt = 1;
    one.portals = {{"0.0.0.0", 3260}, {"192.0.2.1", 3261}};
    iscsi::config::PortalGroup two;
    two.tpgt = 2;
    two.portals = {{"2001:db8::1", 3260}, {"fe80::1", 3260}};
    target.portal_groups = {one, two};
    config.targets.push_back(target);
    return config;
}

TEST(DiscoveryText, names_the_target_and_every_portal_with_wildcards_as_star) {
    auto config = two_groups();
    EXPECT_EQ(discovery_text(config, config.targets[0]),
              pairs({"TargetName=iqn.2026-12.org.example:disk", "TargetAddress=*:3260,1",
                     "TargetAddress=192.0.2.1:3261,1", "TargetAddress=[2001:db8::1]:3260,2"}));
}

TEST(DiscoveryText, link_local_portals_only_when_asked) {
    auto config = two_groups();
    config.discovery.include_link_local = true;
    EXPECT_NE(discovery_text(config, config.targets[0]).find("TargetAddress=[fe80::1]:3260,2"), std::string::npos);
}

TEST(DiscoveryText, disabled_groups_are_left_out) {
    auto config = two_groups();
    config.targets[0].portal_groups[1].enabled = false;
    EXPECT_EQ(discovery_text(config, config.targets[0]).find(",2"), std::string::npos);
}

TEST(DiscoveryText, empty_when_discovery_is_disabled_or_nothing_is_reachable) {
    auto config = two_groups();
    config.discovery.enabled = false;
    EXPECT_EQ(discovery_text(config, config.targets[0]), "");
    config.discovery.enabled = true;
    config.targets[0].portal_groups.clear();
    EXPECT_EQ(discovery_text(config, config.targets[0]), "");
}

}  // namespace
