// The connection layer end to end on loopback, with a test double for the
// kernel data path (the product never has one): one PDU at a time, no byte
// of the Full Feature Phase read by the daemon, the final response sent
// after the hand-off, the 0x0301 refusal, and every connection freed.
#include "net/server.h"

#include <sys/socket.h>

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "config/json.h"
#include "policy/config_policy.h"
#include "raw_client.h"

using namespace iscsi;
using namespace iscsi::testing;

namespace {

const std::string kTarget = "iqn.2024-01.org.example:disk";
const std::string kInitiator = "iqn.2024-01.org.example:init";

class FakeDataPath final : public kmod::DataPath {
public:
    bool is_available = true;
    std::vector<kmod::HandoffRequest> handoffs;
    std::string bytes_left_in_socket;

    bool available() const override { return is_available; }
    std::string unavailable_reason() const override { return "test: module not loaded"; }
    kmod::Result<kmod::Version> version() override { return kmod::Version{1, 0, "test"}; }
    kmod::Result<kmod::Limits> limits() override { return kmod::Limits{}; }
    kmod::Result<void> apply(const config::Config&) override { return {}; }
    kmod::Result<kmod::HandoffResult> handoff(const kmod::HandoffRequest& request) override {
        handoffs.push_back(request);
        // What the kernel would read first: it must all still be there.
        char buffer[4096];
        ssize_t n = ::recv(request.fd, buffer, sizeof buffer, MSG_DONTWAIT | MSG_PEEK);
        if (n > 0) bytes_left_in_socket.assign(buffer, size_t(n));
        return kmod::HandoffResult{100, 200};
    }
    kmod::Result<std::vector<kmod::KernelSession>> list_sessions() override { return std::vector<kmod::KernelSession>{}; }
    kmod::Result<void> terminate_connection(uint64_t, uint16_t) override { return {}; }
    kmod::Result<void> terminate_session(uint64_t) override { return {}; }
    kmod::Result<void> request_logout(uint64_t, uint32_t) override { return {}; }
    void set_event_handler(std::function<void(const kmod::DataPathEvent&)>) override {}
};

uint16_t free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&in), sizeof in);
    socklen_t length = sizeof in;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&in), &length);
    ::close(fd);
    return ntohs(in.sin_port);
}

struct ConnectionTest : ::testing::Test {
    sd_event* event = nullptr;
    uint16_t port = free_port();
    FakeDataPath data_path;
    sessions::Registry registry;
    std::unique_ptr<policy::ConfigPolicy> policy;
    std::unique_ptr<net::Server> server;

    void SetUp() override {
        ASSERT_GE(sd_event_new(&event), 0);
        auto config = config::parse_config(R"({"targets": [{"name": ")" + kTarget +
                                           R"(", "portal_groups": [{"tpgt": 1, "demo_mode": true,
            "portals": [{"address": "127.0.0.1", "port": )" + std::to_string(port) +
                                           R"(}]}]}], "limits": {"login_timeout_s": 2}})");
        ASSERT_TRUE(config) << config.error().to_string();
        policy = std::make_unique<policy::ConfigPolicy>(registry, *config, config::Secrets{});
        server = std::make_unique<net::Server>(event, *policy, registry, &data_path);
        ASSERT_TRUE(server->apply(*config).empty());
    }
    void TearDown() override {
        server.reset();
        sd_event_unref(event);
    }
    // Runs the loop until `client` finishes (it runs in its own thread).
    void run_with(std::function<void()> client) {
        std::atomic<bool> done{false};
        std::thread thread([&] {
            client();
            done = true;
        });
        for (int i = 0; i < 500 && !done; ++i) sd_event_run(event, 10000);
        thread.join();
        // Let the daemon see the last closes.
        for (int i = 0; i < 50 && server->connection_count(); ++i) sd_event_run(event, 10000);
    }
    // Security stage, then the operational stage whose PDU is followed at
    // once (same send) by `trailing` bytes of "Full Feature Phase".
    static RawPdu normal_login(RawClient& client, const std::string& trailing) {
        RawPdu response;
        LoginFields first;
        first.csg = 0;
        first.nsg = 1;
        EXPECT_TRUE(client.send(login_request(first, text_data({{"InitiatorName", kInitiator},
                                                                {"TargetName", kTarget},
                                                                {"AuthMethod", "None"}}))));
        EXPECT_EQ(client.receive(response), Answer::Pdu);
        EXPECT_EQ(response.status(), 0);
        LoginFields second;
        second.csg = 1;
        second.nsg = 3;
        second.exp_stat_sn = response.stat_sn() + 1;
        std::vector<uint8_t> bytes = login_request(second, text_data({}));
        bytes.insert(bytes.end(), trailing.begin(), trailing.end());
        EXPECT_TRUE(client.send(bytes));
        EXPECT_EQ(client.receive(response), Answer::Pdu);
        return response;
    }
};

}  // namespace

TEST_F(ConnectionTest, HandoffLeavesEveryFullFeatureByteInTheSocket) {
    const std::string ffp(100, 'F');
    RawPdu final_response;
    run_with([&] {
        RawClient client;
        ASSERT_TRUE(client.connect("127.0.0.1", port));
        final_response = normal_login(client, ffp);
    });
    ASSERT_EQ(data_path.handoffs.size(), 1u);
    EXPECT_EQ(data_path.bytes_left_in_socket, ffp) << "the daemon read past the last Login PDU";
    EXPECT_EQ(final_response.status(), 0);
    EXPECT_TRUE(final_response.transit());
    EXPECT_EQ(final_response.nsg(), 3) << "final Login Response sent after the hand-off";
    const auto& request = data_path.handoffs[0];
    EXPECT_EQ(request.target_name, kTarget);
    EXPECT_EQ(request.initiator_name, kInitiator);
    EXPECT_EQ(request.tpgt, 1);
    EXPECT_NE(request.tsih, 0);
    EXPECT_EQ(final_response.tsih(), request.tsih);
    ASSERT_EQ(registry.sessions().size(), 1u);
    EXPECT_EQ(registry.sessions()[0].kernel_handle, 100u);
    EXPECT_EQ(registry.sessions()[0].connections[0].kernel_handle, 200u);
    EXPECT_EQ(server->connection_count(), 0u) << "the daemon's side of a handed-off connection is freed";
}

TEST_F(ConnectionTest, UnavailableDataPathRefusesWith0301AndForgetsTheSession) {
    data_path.is_available = false;
    RawPdu final_response;
    run_with([&] {
        RawClient client;
        ASSERT_TRUE(client.connect("127.0.0.1", port));
        final_response = normal_login(client, "");
        EXPECT_TRUE(client.closed_within(3000));
    });
    EXPECT_TRUE(data_path.handoffs.empty());
    EXPECT_EQ(final_response.status(), 0x0301);
    EXPECT_TRUE(registry.sessions().empty()) << "a refused login must not stay in the registry";
    EXPECT_EQ(server->connection_count(), 0u);
}

TEST_F(ConnectionTest, ClientsThatVanishMidLoginAreFreed) {
    run_with([&] {
        for (int i = 0; i < 50; ++i) {
            RawClient client;
            ASSERT_TRUE(client.connect("127.0.0.1", port));
            std::vector<uint8_t> half = login_request(LoginFields{}, text_data({{"InitiatorName", kInitiator}}));
            half.resize(i % 2 ? 20 : half.size() - 4);
            ASSERT_TRUE(client.send(half));
        }
    });
    EXPECT_EQ(server->connection_count(), 0u);
}

TEST_F(ConnectionTest, LoginTimeoutClosesASilentConnection) {
    bool closed = false;
    run_with([&] {
        RawClient client;
        ASSERT_TRUE(client.connect("127.0.0.1", port));
        closed = client.closed_within(5000);  // login_timeout_s is 2
    });
    EXPECT_TRUE(closed);
    EXPECT_EQ(server->connection_count(), 0u);
}
