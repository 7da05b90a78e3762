#include "iscsi/names.h"

#include <gtest/gtest.h>

using namespace iscsi;

TEST(Names, accepts_the_three_forms) {
    EXPECT_TRUE(validate_iscsi_name("iqn.2026-01.org.example:target"));
    EXPECT_TRUE(validate_iscsi_name("iqn.1991-05.com.microsoft:host-1"));
    EXPECT_TRUE(validate_iscsi_name("eui.02004567A425678D"));
    EXPECT_TRUE(validate_iscsi_name("naa.52004567BA64678D"));
    EXPECT_TRUE(validate_iscsi_name("naa.62004567BA64678D0123456789ABCDEF"));
}

TEST(Names, refuses_names_longer_than_223_bytes) {
    std::string name = "iqn.2026-01.org.example:";
    name += std::string(223 - name.size(), 'a');
    EXPECT_TRUE(validate_iscsi_name(name));
    name.push_back('a');
    EXPECT_FALSE(validate_iscsi_name(name));
}

TEST(Names, refuses_malformed_names) {
    EXPECT_FALSE(validate_iscsi_name(""));
    EXPECT_FALSE(validate_iscsi_name("target1"));
    EXPECT_FALSE(validate_iscsi_name("iqn.2026.org.example"));
    EXPECT_FALSE(validate_iscsi_name("iqn.2026-13.org.example"));
    EXPECT_FALSE(validate_iscsi_name("iqn.2026-01."));
    EXPECT_FALSE(validate_iscsi_name("iqn.2026-01.org.example:with space"));
    EXPECT_FALSE(validate_iscsi_name("iqn.2026-01.org.example:a_b"));
    EXPECT_FALSE(validate_iscsi_name("eui.0123"));
    EXPECT_FALSE(validate_iscsi_name("naa.0123456789abcdefg"));
    EXPECT_FALSE(validate_iscsi_name("iqn.2026-01.org.example:\xff"));
}
