#include "dbus/config_index.h"

#include <gtest/gtest.h>

using namespace iscsi;

namespace {

config::Config two_targets() {
    config::Config c;
    for (const char* name : {"iqn.2003-01.org.example:a", "iqn.2003-01.org.example:b"}) {
        config::Target t;
        t.name = name;
        c.targets.push_back(t);
    }
    config::Backstore b;
    b.name = "disk";
    c.backstores.push_back(b);
    c.targets[1].luns.push_back(config::Lun{0, "disk"});
    c.targets[0].luns.push_back(config::Lun{3, "disk"});
    return c;
}

TEST(ConfigIndex, FindsTargetsAndBackstoresByNameAndNothingElse) {
    auto config = two_targets();
    dbus::ConfigIndex index;
    ASSERT_NE(index.target(config, "iqn.2003-01.org.example:b"), nullptr);
    EXPECT_EQ(index.target(config, "iqn.2003-01.org.example:b"), &config.targets[1]);
    EXPECT_EQ(index.target(config, "iqn.2003-01.org.example:zz"), nullptr);
    EXPECT_EQ(index.backstore(config, "disk"), &config.backstores[0]);
    EXPECT_EQ(index.backstore(config, "iqn.2003-01.org.example:a"), nullptr);
}

TEST(ConfigIndex, BackstoreUsersComeInConfigurationOrder) {
    auto config = two_targets();
    dbus::ConfigIndex index;
    auto users = index.users_of(config, "disk");
    ASSERT_EQ(users.size(), 2u);
    EXPECT_EQ(users[0].first->name, "iqn.2003-01.org.example:a");
    EXPECT_EQ(users[0].second->lun, 3u);
    EXPECT_EQ(users[1].second->lun, 0u);
    EXPECT_TRUE(index.users_of(config, "other").empty());
}

TEST(ConfigIndex, AConfigurationReplacedWithoutNoticeIsReindexedNotMisread) {
    auto config = two_targets();
    dbus::ConfigIndex index;
    ASSERT_NE(index.target(config, "iqn.2003-01.org.example:b"), nullptr);
    // Reordered behind the index's back: the recorded position now holds
    // another target, which must not be returned for this name.
    std::swap(config.targets[0], config.targets[1]);
    const auto* found = index.target(config, "iqn.2003-01.org.example:b");
    ASSERT_NE(found, nullptr);
    EXPECT_EQ(found->name, "iqn.2003-01.org.example:b");
    config.targets[1].luns.clear();  // a's LUN 3 gone
    auto users = index.users_of(config, "disk");
    ASSERT_EQ(users.size(), 1u);
    EXPECT_EQ(users[0].second->lun, 0u);
}

TEST(ConfigIndex, AnAddedTargetIsFoundAfterInvalidate) {
    auto config = two_targets();
    dbus::ConfigIndex index;
    EXPECT_EQ(index.target(config, "iqn.2003-01.org.example:c"), nullptr);
    config::Target t;
    t.name = "iqn.2003-01.org.example:c";
    config.targets.push_back(t);
    index.invalidate();
    ASSERT_NE(index.target(config, "iqn.2003-01.org.example:c"), nullptr);
}

}  // namespace
