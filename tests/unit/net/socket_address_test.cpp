#include "net/socket_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <gtest/gtest.h>

using namespace iscsi::net;

TEST(SocketAddress, RoundTripsIpv4AndIpv6) {
    auto v4 = socket_address("192.0.2.1", 3260);
    ASSERT_TRUE(v4);
    Endpoint e4 = endpoint_of(v4->storage);
    EXPECT_EQ(e4.address, "192.0.2.1");
    EXPECT_EQ(e4.port, 3260);
    EXPECT_EQ(e4.to_string(), "192.0.2.1:3260");
    auto v6 = socket_address("2001:db8::1", 3261);
    ASSERT_TRUE(v6);
    EXPECT_EQ(endpoint_of(v6->storage).to_string(), "[2001:db8::1]:3261");
}

TEST(SocketAddress, UnmapsIpv4MappedPeers) {
    auto mapped = socket_address("::ffff:192.0.2.9", 1);
    ASSERT_TRUE(mapped);
    EXPECT_EQ(endpoint_of(mapped->storage).address, "192.0.2.9");
}

TEST(SocketAddress, RefusesNames) { EXPECT_FALSE(socket_address("localhost", 1)); }
