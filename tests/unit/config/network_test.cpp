#include "config/network.h"

#include <gtest/gtest.h>

using namespace iscsi::config;

TEST(Network, ParsesIpv4AndIpv6Addresses) {
    auto v4 = parse_address("192.0.2.1");
    ASSERT_TRUE(v4);
    EXPECT_FALSE(v4->v6);
    auto v6 = parse_address("2001:db8::1");
    ASSERT_TRUE(v6);
    EXPECT_TRUE(v6->v6);
    EXPECT_FALSE(parse_address("host.example"));
    EXPECT_FALSE(parse_address("[::1]"));
}
TEST(Network, UnmapsIpv4MappedIpv6Peers) {
    auto mapped = parse_address("::ffff:192.0.2.1");
    ASSERT_TRUE(mapped);
    EXPECT_EQ(*mapped, *parse_address("192.0.2.1"));
}
TEST(Network, RecognisesWildcardsAndLinkLocal) {
    EXPECT_TRUE(parse_address("0.0.0.0")->is_wildcard());
    EXPECT_TRUE(parse_address("::")->is_wildcard());
    EXPECT_TRUE(parse_address("fe80::1")->is_link_local());
    EXPECT_FALSE(parse_address("2001:db8::1")->is_link_local());
}
TEST(Network, CidrContainsAddressesInsidePrefixOnly) {
    auto net = parse_network("192.0.2.0/25").network;
    ASSERT_TRUE(net);
    EXPECT_TRUE(net->contains(*parse_address("192.0.2.127")));
    EXPECT_FALSE(net->contains(*parse_address("192.0.2.128")));
    EXPECT_FALSE(net->contains(*parse_address("::1")));
    auto v6 = parse_network("2001:db8::/32").network;
    ASSERT_TRUE(v6);
    EXPECT_TRUE(v6->contains(*parse_address("2001:db8:ffff::1")));
    EXPECT_FALSE(v6->contains(*parse_address("2001:db9::1")));
}
TEST(Network, BareAddressIsAHostNetwork) {
    auto net = parse_network("127.0.0.1").network;
    ASSERT_TRUE(net);
    EXPECT_EQ(net->prefix_length, 32u);
}
TEST(Network, RefusesHostBitsBadPrefixesAndNames) {
    EXPECT_FALSE(parse_network("192.0.2.1/24").network);
    EXPECT_FALSE(parse_network("192.0.2.0/33").network);
    EXPECT_FALSE(parse_network("192.0.2.0/").network);
    EXPECT_FALSE(parse_network("example.com/24").network);
    EXPECT_FALSE(parse_network("::ffff:192.0.2.0/120").network);
    EXPECT_NE(parse_network("192.0.2.1/24").error, "");
}
