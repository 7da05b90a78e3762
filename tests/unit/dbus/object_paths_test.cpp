#include "dbus/object_paths.h"

#include <gtest/gtest.h>

#include <systemd/sd-bus.h>

using namespace iscsi::dbus;

namespace {

void expect_round_trip(const ObjectId& id) {
    auto path = object_path(id);
    EXPECT_TRUE(sd_bus_object_path_is_valid(path.c_str())) << path;
    auto parsed = parse_object_path(path);
    ASSERT_TRUE(parsed.has_value()) << path;
    EXPECT_EQ(*parsed, id) << path;
}

}  // namespace

TEST(ObjectPaths, EveryKindSurvivesARoundTrip) {
    const std::string target = "iqn.2003-01.org.example:disk-1_x";
    expect_round_trip(target_id(target));
    expect_round_trip(portal_group_id(target, 65535));
    expect_round_trip(portal_id(target, 1, "127.0.0.1", 3260));
    expect_round_trip(portal_id(target, 2, "fe80::1%eth0", 3261));
    expect_round_trip(lun_id(target, 0));
    expect_round_trip(lun_id(target, 65535));
    expect_round_trip(acl_id(target, "iqn.1994-05.com.redhat:abc"));
    expect_round_trip(backstore_id("disk_1.img"));
    expect_round_trip(session_id(target, 1, 7));
    expect_round_trip(connection_id(target, 1, 7, 3));
}

TEST(ObjectPaths, NamesAreEscapedIntoOneLabel) {
    auto path = object_path(target_id("iqn.2003-01.org.example:a/b"));
    EXPECT_EQ(path.rfind("/org/iscsictl/target1/target/", 0), 0u);
    EXPECT_EQ(path.find('/', 29), std::string::npos) << "a slash in a name must not create a path level: " << path;
}

TEST(ObjectPaths, ForeignAndMalformedPathsAreRejected) {
    EXPECT_FALSE(parse_object_path("/org/iscsictl/target1"));
    EXPECT_FALSE(parse_object_path("/org/other/target/x"));
    EXPECT_FALSE(parse_object_path("/org/iscsictl/target1/target"));
    EXPECT_FALSE(parse_object_path("/org/iscsictl/target1/target/x/lun/notanumber"));
    EXPECT_FALSE(parse_object_path("/org/iscsictl/target1/target/x/tpg/70000"));
    EXPECT_FALSE(parse_object_path("/org/iscsictl/target1/session/x/1"));
    EXPECT_FALSE(parse_object_path("/org/iscsictl/target1/session/x/1/2/conn/3"));
    EXPECT_FALSE(parse_object_path("/org/iscsictl/target1/bogus/x"));
}

TEST(ObjectPaths, EachKindHasItsInterface) {
    EXPECT_STREQ(interface_of(ObjectKind::Session), "org.iscsictl.target1.Session");
    EXPECT_STREQ(interface_of(ObjectKind::PortalGroup), "org.iscsictl.target1.PortalGroup");
}
