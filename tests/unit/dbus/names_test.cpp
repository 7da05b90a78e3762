#include "control/names.h"

#include <gtest/gtest.h>

using iscsi::control::check_address;
using iscsi::control::check_backstore_name;
using iscsi::control::check_chap_secret;
using iscsi::control::check_iscsi_name;
using iscsi::control::check_network;

TEST(IscsiName, AcceptsTheThreeFormsOfRfc7143Section4_2_7) {
    EXPECT_EQ(check_iscsi_name("iqn.2003-01.org.example:disk1"), "");
    EXPECT_EQ(check_iscsi_name("iqn.1994-05.com.redhat"), "");
    EXPECT_EQ(check_iscsi_name("eui.02004567A425678D"), "");
    EXPECT_EQ(check_iscsi_name("naa.52004567BA64678D"), "");
    EXPECT_EQ(check_iscsi_name("naa.62004567BA64678D0123456789ABCDEF"), "");
}

TEST(IscsiName, RejectsOtherPrefixesAndMalformedForms) {
    EXPECT_NE(check_iscsi_name(""), "");
    EXPECT_NE(check_iscsi_name("disk1"), "");
    EXPECT_NE(check_iscsi_name("iqn.03-01.org.example"), "") << "the date is yyyy-mm";
    EXPECT_NE(check_iscsi_name("iqn.2003-13.org.example"), "") << "month 13";
    EXPECT_NE(check_iscsi_name("iqn.2003-01"), "") << "no naming authority";
    EXPECT_NE(check_iscsi_name("iqn.2003-01.org.Example"), "") << "names are lower case after stringprep (RFC 3722)";
    EXPECT_NE(check_iscsi_name("iqn.2003-01.org.example:a b"), "");
    EXPECT_NE(check_iscsi_name("eui.02004567A425678"), "") << "15 digits";
    EXPECT_NE(check_iscsi_name("naa.52004567BA64678DXX"), "");
}

TEST(IscsiName, RejectsNamesOver223Bytes) {
    std::string name = "iqn.2003-01.org.example:" + std::string(199, 'a');
    EXPECT_EQ(name.size(), 223u);
    EXPECT_EQ(check_iscsi_name(name), "");
    EXPECT_NE(check_iscsi_name(name + "a"), "") << "RFC 7143 s.6.1: at most 223 bytes";
}

TEST(BackstoreName, IsASafeDirectoryName) {
    EXPECT_EQ(check_backstore_name("disk_1.img-a"), "");
    EXPECT_NE(check_backstore_name(""), "");
    EXPECT_NE(check_backstore_name("a/b"), "");
    EXPECT_NE(check_backstore_name(".."), "");
    EXPECT_NE(check_backstore_name(std::string(65, 'a')), "");
}

TEST(Addresses, AreNumericAndNetworksAreCidr) {
    EXPECT_EQ(check_address("127.0.0.1"), "");
    EXPECT_EQ(check_address("::1"), "");
    EXPECT_NE(check_address("[::1]"), "");
    EXPECT_NE(check_address("localhost"), "");
    EXPECT_EQ(check_network("192.0.2.0/24"), "");
    EXPECT_EQ(check_network("2001:db8::/32"), "");
    EXPECT_NE(check_network("192.0.2.0/33"), "");
    EXPECT_NE(check_network("192.0.2.0"), "");
    EXPECT_NE(check_network("::/129"), "");
}

TEST(ChapSecret, HasAtLeast96Bits) {
    EXPECT_NE(check_chap_secret("elevenbytes"), "") << "RFC 7143 s.12.1.3";
    EXPECT_EQ(check_chap_secret("twelve-bytes"), "");
}
