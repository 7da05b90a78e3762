#include "config/names.h"

#include <gtest/gtest.h>

using iscsi::config::check_iscsi_name;

TEST(IscsiName, AcceptsIqnWithAndWithoutColonSuffix) {
    EXPECT_FALSE(check_iscsi_name("iqn.2003-01.org.linux-iscsi.host:sn.1234"));
    EXPECT_FALSE(check_iscsi_name("iqn.1992-01.com.example"));
}
TEST(IscsiName, AcceptsEuiAndNaaForms) {
    EXPECT_FALSE(check_iscsi_name("eui.02004567A425678D"));
    EXPECT_FALSE(check_iscsi_name("naa.52004567BA64678D"));
    EXPECT_FALSE(check_iscsi_name("naa.62004567BA64678D0123456789ABCDEF"));
}
TEST(IscsiName, RejectsUnknownPrefix) { EXPECT_TRUE(check_iscsi_name("iqx.2003-01.org.x")); }
TEST(IscsiName, RejectsBadIqnDate) {
    EXPECT_TRUE(check_iscsi_name("iqn.03-01.org.x"));
    EXPECT_TRUE(check_iscsi_name("iqn.2003-13.org.x"));
    EXPECT_TRUE(check_iscsi_name("iqn.2003-01"));
}
TEST(IscsiName, RejectsUpperCaseIqn) { EXPECT_TRUE(check_iscsi_name("iqn.2003-01.org.Example")); }
TEST(IscsiName, RejectsForbiddenCharacters) {
    EXPECT_TRUE(check_iscsi_name("iqn.2003-01.org.x:a b"));
    EXPECT_TRUE(check_iscsi_name("iqn.2003-01.org.x:a_b"));
}
TEST(IscsiName, RejectsInvalidUtf8) {
    EXPECT_TRUE(check_iscsi_name("iqn.2003-01.org.x:\xc3"));
    EXPECT_TRUE(check_iscsi_name("iqn.2003-01.org.x:\xc0\xaf"));  // overlong '/'
    EXPECT_FALSE(check_iscsi_name("iqn.2003-01.org.x:caf\xc3\xa9"));
}
TEST(IscsiName, RejectsNamesLongerThan223Bytes) {
    std::string base = "iqn.2003-01.org.x:";
    EXPECT_FALSE(check_iscsi_name(base + std::string(223 - base.size(), 'a')));
    auto why = check_iscsi_name(base + std::string(224 - base.size(), 'a'));
    ASSERT_TRUE(why);
    EXPECT_NE(why->find("223"), std::string::npos);
}
TEST(IscsiName, RejectsWrongEuiAndNaaLengths) {
    EXPECT_TRUE(check_iscsi_name("eui.02004567A425678"));
    EXPECT_TRUE(check_iscsi_name("naa.52004567BA64678D0"));
    EXPECT_TRUE(check_iscsi_name("eui.02004567A425678G"));
}
