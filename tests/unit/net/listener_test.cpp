#include "net/listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

using namespace iscsi::net;

namespace {

struct Loop : ::testing::Test {
    sd_event* event = nullptr;
    void SetUp() override { ASSERT_GE(sd_event_new(&event), 0); }
    void TearDown() override { sd_event_unref(event); }
};

bool connect_to(int family, const char* address, uint16_t port) {
    int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_storage s{};
    socklen_t length;
    if (family == AF_INET) {
        auto* in = reinterpret_cast<sockaddr_in*>(&s);
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        inet_pton(AF_INET, address, &in->sin_addr);
        length = sizeof *in;
    } else {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&s);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        inet_pton(AF_INET6, address, &in6->sin6_addr);
        length = sizeof *in6;
    }
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&s), length) == 0;
    ::close(fd);
    return ok;
}

}  // namespace

TEST_F(Loop, AcceptsAndReportsTheTpgt) {
    int accepted = 0;
    uint16_t seen_tpgt = 0;
    auto listener = Listener::open(event, "127.0.0.1", 0, 7, [&](UniqueFd fd, uint16_t tpgt) {
        EXPECT_TRUE(fd);
        ++accepted;
        seen_tpgt = tpgt;
    });
    ASSERT_TRUE(listener) << listener.error();
    ASSERT_NE((*listener)->port(), 0);
    ASSERT_TRUE(connect_to(AF_INET, "127.0.0.1", (*listener)->port()));
    ASSERT_TRUE(connect_to(AF_INET, "127.0.0.1", (*listener)->port()));
    for (int i = 0; i < 10 && accepted < 2; ++i) sd_event_run(event, 100000);
    EXPECT_EQ(accepted, 2);
    EXPECT_EQ(seen_tpgt, 7);
}

TEST_F(Loop, Ipv6WildcardIsV6OnlySoIpv4WildcardCanShareThePort) {
    auto v6 = Listener::open(event, "::", 0, 1, [](UniqueFd, uint16_t) {});
    ASSERT_TRUE(v6) << v6.error();
    auto v4 = Listener::open(event, "0.0.0.0", (*v6)->port(), 2, [](UniqueFd, uint16_t) {});
    EXPECT_TRUE(v4) << (v4 ? "" : v4.error());
}

TEST_F(Loop, BindErrorNamesThePortal) {
    auto first = Listener::open(event, "127.0.0.1", 0, 1, [](UniqueFd, uint16_t) {});
    ASSERT_TRUE(first);
    auto second = Listener::open(event, "127.0.0.1", (*first)->port(), 1, [](UniqueFd, uint16_t) {});
    ASSERT_FALSE(second);
    EXPECT_NE(second.error().find("127.0.0.1:" + std::to_string((*first)->port())), std::string::npos);
    EXPECT_NE(second.error().find("bind"), std::string::npos);
}

TEST_F(Loop, ClosingTheListenerStopsAccepting) {
    auto listener = Listener::open(event, "127.0.0.1", 0, 1, [](UniqueFd, uint16_t) {});
    ASSERT_TRUE(listener);
    uint16_t port = (*listener)->port();
    listener->reset();
    EXPECT_FALSE(connect_to(AF_INET, "127.0.0.1", port));
}
