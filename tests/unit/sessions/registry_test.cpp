// One test per registry rule (RFC 7143 s.4.4, s.6.3).
#include "sessions/registry.h"

#include <arpa/inet.h>

#include <set>

#include <gtest/gtest.h>

using namespace iscsi;
using namespace iscsi::sessions;
using Verdict = Admission::Verdict;

namespace {

const std::string kTarget = "iqn.2024-01.org.example:t";
const std::string kInitiator = "iqn.2024-01.org.example:i";

LoginIdentity identity(uint16_t tsih = 0, uint16_t cid = 1, uint8_t isid_last = 1,
                       const std::string& initiator = kInitiator) {
    LoginIdentity id;
    id.initiator_name = initiator;
    id.target_name = kTarget;
    id.tpgt = 1;
    id.isid = {0x80, 0, 0, 0, 0, isid_last};
    id.tsih = tsih;
    id.cid = cid;
    return id;
}

ConnectionEndpoints endpoints(uint16_t port = 50000) { return {1, "127.0.0.1", port, "127.0.0.1", 3260}; }

struct RegistryTest : ::testing::Test {
    std::vector<uint16_t> terminated_sessions;
    std::vector<std::pair<uint16_t, uint16_t>> terminated_connections;
    std::vector<Change> changes;
    Registry registry{Hooks{
        [this](const SessionRecord& s) { terminated_sessions.push_back(s.tsih); },
        [this](const SessionRecord& s, const ConnectionRecord& c) { terminated_connections.push_back({s.tsih, c.cid}); },
        [this](const Change& c) { changes.push_back(c); },
    }};
    AdmissionLimits limits{4, 0, 0};

    uint16_t login(LoginIdentity id = identity()) {
        auto a = registry.admit(id, endpoints(), limits);
        EXPECT_EQ(a.verdict, Verdict::NewSession) << a.reason;
        return a.tsih;
    }
};

}  // namespace

TEST_F(RegistryTest, LeadingLoginGetsNonZeroTsih) {
    auto check = registry.check(identity(), limits);
    EXPECT_EQ(check.verdict, Verdict::NewSession);
    EXPECT_TRUE(registry.sessions().empty()) << "check() must not record anything";
    uint16_t tsih = login();
    EXPECT_NE(tsih, 0);
    ASSERT_EQ(registry.sessions().size(), 1u);
    EXPECT_EQ(registry.sessions()[0].connections[0].cid, 1);
}

TEST_F(RegistryTest, TsihsAreUniqueWithinPortalGroup) {
    std::set<uint16_t> seen;
    for (uint8_t i = 0; i < 50; ++i) EXPECT_TRUE(seen.insert(login(identity(0, 1, i))).second);
}

TEST_F(RegistryTest, TsihIsNotReusedWhileLiveAfterWrapAround) {
    uint16_t first = login(identity(0, 1, 1));
    // Free and allocate many TSIHs: the live one must never come back.
    for (int i = 0; i < 70000; ++i) {
        auto id = identity(0, 1, 2);
        auto a = registry.admit(id, endpoints(), limits);
        ASSERT_EQ(a.verdict, Verdict::NewSession);
        ASSERT_NE(a.tsih, first);
        ASSERT_NE(a.tsih, 0);
        registry.abandon(id, a);
    }
}

TEST_F(RegistryTest, JustFreedTsihIsNotHandedOutAgainAtOnce) {
    auto id = identity();
    auto a = registry.admit(id, endpoints(), limits);
    registry.abandon(id, a);
    EXPECT_NE(login(), a.tsih);
}

TEST_F(RegistryTest, SessionReinstatementClosesOldSessionFirst) {
    uint16_t old_tsih = login();
    auto check = registry.check(identity(), limits);
    EXPECT_EQ(check.verdict, Verdict::ReinstateSession);
    EXPECT_TRUE(terminated_sessions.empty());
    auto a = registry.admit(identity(), endpoints(), limits);
    EXPECT_EQ(a.verdict, Verdict::ReinstateSession);
    EXPECT_EQ(terminated_sessions, std::vector<uint16_t>{old_tsih});
    EXPECT_NE(a.tsih, old_tsih);
    ASSERT_EQ(registry.sessions().size(), 1u);
    EXPECT_EQ(registry.sessions()[0].tsih, a.tsih);
}

TEST_F(RegistryTest, OtherIsidIsANewSessionNotAReinstatement) {
    login(identity(0, 1, 1));
    EXPECT_EQ(registry.check(identity(0, 1, 2), limits).verdict, Verdict::NewSession);
}

TEST_F(RegistryTest, JoinWithUnknownTsihIsSessionDoesNotExist) {
    EXPECT_EQ(registry.check(identity(77, 2), limits).verdict, Verdict::SessionDoesNotExist);
}

TEST_F(RegistryTest, JoinFromAnotherInitiatorIsRefused) {
    uint16_t tsih = login();
    auto a = registry.admit(identity(tsih, 2, 1, "iqn.2024-01.org.example:other"), endpoints(), limits);
    EXPECT_EQ(a.verdict, Verdict::InitiatorMismatch);
    EXPECT_EQ(registry.sessions()[0].connections.size(), 1u);
}

TEST_F(RegistryTest, JoinWithAnotherIsidIsRefused) {
    uint16_t tsih = login();
    EXPECT_EQ(registry.check(identity(tsih, 2, 9), limits).verdict, Verdict::InitiatorMismatch);
}

TEST_F(RegistryTest, JoinWithinMaxConnectionsAddsConnection) {
    uint16_t tsih = login();
    auto a = registry.admit(identity(tsih, 2), endpoints(50001), limits);
    EXPECT_EQ(a.verdict, Verdict::AddConnection);
    EXPECT_EQ(a.tsih, tsih);
    EXPECT_EQ(registry.sessions()[0].connections.size(), 2u);
}

TEST_F(RegistryTest, JoinBeyondMaxConnectionsIsRefused) {
    limits.max_connections = 2;
    uint16_t tsih = login();
    EXPECT_EQ(registry.admit(identity(tsih, 2), endpoints(), limits).verdict, Verdict::AddConnection);
    EXPECT_EQ(registry.admit(identity(tsih, 3), endpoints(), limits).verdict, Verdict::TooManyConnections);
}

TEST_F(RegistryTest, NegotiatedMaxConnectionsLimitsJoins) {
    uint16_t tsih = login();
    Registry::Attachment attachment;
    attachment.negotiated.max_connections = 1;
    registry.attach(kTarget, 1, tsih, 1, attachment);
    EXPECT_EQ(registry.check(identity(tsih, 2), limits).verdict, Verdict::TooManyConnections);
}

TEST_F(RegistryTest, ConnectionReinstatementClosesOldConnectionFirst) {
    uint16_t tsih = login();
    auto a = registry.admit(identity(tsih, 1), endpoints(50002), limits);
    EXPECT_EQ(a.verdict, Verdict::ReinstateConnection);
    EXPECT_EQ(terminated_connections, (std::vector<std::pair<uint16_t, uint16_t>>{{tsih, 1}}));
    ASSERT_EQ(registry.sessions()[0].connections.size(), 1u);
    EXPECT_EQ(registry.sessions()[0].connections[0].peer_port, 50002);
}

TEST_F(RegistryTest, LateConnectionDownOfReinstatedConnectionKeepsSuccessor) {
    uint16_t tsih = login();
    Registry::Attachment attachment;
    attachment.session_handle = 10;
    attachment.connection_handle = 11;
    attachment.negotiated.max_connections = 2;
    registry.attach(kTarget, 1, tsih, 1, attachment);
    registry.admit(identity(tsih, 1), endpoints(50002), limits);
    kmod::DataPathEvent down{kmod::DataPathEvent::Kind::ConnectionDown, 10, kTarget, 1, tsih, 1,
                             kmod::DownReason::Reinstated};
    registry.on_connection_down(down);
    EXPECT_EQ(registry.sessions()[0].connections.size(), 1u);
    registry.on_connection_down(down);  // now the successor itself goes down
    EXPECT_TRUE(registry.sessions()[0].connections.empty());
}

TEST_F(RegistryTest, PerTargetSessionLimit) {
    limits.target_max_sessions = 2;
    login(identity(0, 1, 1));
    login(identity(0, 1, 2));
    auto a = registry.admit(identity(0, 1, 3), endpoints(), limits);
    EXPECT_EQ(a.verdict, Verdict::TooManySessions);
    EXPECT_NE(a.reason.find(kTarget), std::string::npos);
    // Reinstatement does not add a session, so it stays allowed at the limit.
    EXPECT_EQ(registry.check(identity(0, 1, 1), limits).verdict, Verdict::ReinstateSession);
}

TEST_F(RegistryTest, GlobalSessionLimitCountsNormalSessionsOnly) {
    limits.global_max_sessions = 1;
    auto discovery = identity();
    discovery.target_name.clear();
    EXPECT_EQ(registry.admit(discovery, endpoints(), limits).verdict, Verdict::NewSession);
    login(identity(0, 1, 1));
    EXPECT_EQ(registry.check(identity(0, 1, 2), limits).verdict, Verdict::TooManySessions);
}

TEST_F(RegistryTest, AbandonUndoesNewSession) {
    auto a = registry.admit(identity(), endpoints(), limits);
    registry.abandon(identity(), a);
    EXPECT_TRUE(registry.sessions().empty());
}

TEST_F(RegistryTest, AbandonUndoesAddedConnectionOnly) {
    uint16_t tsih = login();
    auto a = registry.admit(identity(tsih, 2), endpoints(), limits);
    registry.abandon(identity(tsih, 2), a);
    ASSERT_EQ(registry.sessions().size(), 1u);
    EXPECT_EQ(registry.sessions()[0].connections.size(), 1u);
}

TEST_F(RegistryTest, CloseDiscoveryRemovesDiscoverySession) {
    auto discovery = identity();
    discovery.target_name.clear();
    auto a = registry.admit(discovery, endpoints(), limits);
    ASSERT_EQ(a.verdict, Verdict::NewSession);
    EXPECT_TRUE(registry.sessions()[0].discovery());
    registry.close_discovery(1, a.tsih);
    EXPECT_TRUE(registry.sessions().empty());
}

TEST_F(RegistryTest, SessionDownEventRemovesSessionByHandle) {
    uint16_t tsih = login();
    Registry::Attachment attachment;
    attachment.session_handle = 42;
    registry.attach(kTarget, 1, tsih, 1, attachment);
    kmod::DataPathEvent down;
    down.session_handle = 41;
    registry.on_session_down(down);
    EXPECT_EQ(registry.sessions().size(), 1u);
    down.session_handle = 42;
    registry.on_session_down(down);
    EXPECT_TRUE(registry.sessions().empty());
}

TEST_F(RegistryTest, RestoreFromKernelKeepsTsihsUnique) {
    kmod::KernelSession k;
    k.handle = 7;
    k.target_name = kTarget;
    k.tpgt = 1;
    k.initiator_name = kInitiator;
    k.isid = {0x80, 0, 0, 0, 0, 1};
    k.tsih = 1;
    k.connections.resize(1);
    k.connections[0].cid = 3;
    auto* in = reinterpret_cast<sockaddr_in*>(&k.connections[0].peer.storage);
    in->sin_family = AF_INET;
    in->sin_port = htons(51000);
    inet_pton(AF_INET, "192.0.2.7", &in->sin_addr);
    kmod::KernelSession k2 = k;
    k2.tsih = 5;
    k2.isid[5] = 2;
    registry.restore({k, k2});
    ASSERT_EQ(registry.sessions().size(), 2u);
    EXPECT_TRUE(registry.sessions()[0].restored);
    EXPECT_EQ(registry.sessions()[0].connections[0].peer_address, "192.0.2.7");
    EXPECT_EQ(registry.sessions()[0].connections[0].peer_port, 51000);
    for (uint8_t i = 10; i < 20; ++i) {
        uint16_t tsih = login(identity(0, 1, i));
        EXPECT_NE(tsih, 1);
        EXPECT_NE(tsih, 5);
    }
    // A restored session is reinstated like any other.
    EXPECT_EQ(registry.check(identity(0, 1, 1), limits).verdict, Verdict::ReinstateSession);
}

TEST_F(RegistryTest, AdministrativeTerminationAsksDataPathAndForgets) {
    uint16_t tsih = login();
    EXPECT_FALSE(registry.terminate_session(kTarget, 1, tsih + 1));
    EXPECT_TRUE(registry.terminate_session(kTarget, 1, tsih));
    EXPECT_EQ(terminated_sessions, std::vector<uint16_t>{tsih});
    EXPECT_TRUE(registry.sessions().empty());
}

TEST_F(RegistryTest, ChangesAreReported) {
    uint16_t tsih = login();
    registry.terminate_session(kTarget, 1, tsih);
    ASSERT_EQ(changes.size(), 3u);
    EXPECT_EQ(changes[0].kind, ChangeKind::SessionAdded);
    EXPECT_EQ(changes[1].kind, ChangeKind::ConnectionAdded);
    EXPECT_EQ(changes[2].kind, ChangeKind::SessionRemoved);
    EXPECT_EQ(changes[2].tsih, tsih);
}

namespace {

kmod::KernelSession kernel_session(uint64_t handle, std::vector<std::pair<uint64_t, uint16_t>> connections) {
    kmod::KernelSession k;
    k.handle = handle;
    for (auto [connection_handle, cid] : connections) {
        kmod::KernelConnection c;
        c.handle = connection_handle;
        c.cid = cid;
        k.connections.push_back(c);
    }
    return k;
}

Registry::Attachment attachment_of(uint64_t session, uint64_t connection, uint32_t max_connections = 1) {
    Registry::Attachment a;
    a.session_handle = session;
    a.connection_handle = connection;
    a.negotiated.max_connections = max_connections;
    return a;
}

}  // namespace

TEST_F(RegistryTest, ReconcileRemovesSessionsTheKernelNoLongerHasAndKeepsLoginsInProgress) {
    uint16_t gone = login(identity(0, 1, 1));
    uint16_t live = login(identity(0, 1, 2));
    uint16_t logging_in = login(identity(0, 1, 3));
    registry.attach(kTarget, 1, gone, 1, attachment_of(10, 11));
    registry.attach(kTarget, 1, live, 1, attachment_of(20, 21));
    changes.clear();
    auto removed = registry.reconcile({kernel_session(20, {{21, 1}})});
    EXPECT_EQ(removed.sessions, 1u);
    EXPECT_EQ(removed.connections, 0u);
    std::set<uint16_t> left;
    for (const auto& s : registry.sessions()) left.insert(s.tsih);
    EXPECT_EQ(left, (std::set<uint16_t>{live, logging_in}));
    ASSERT_EQ(changes.size(), 1u) << "observers hear of the removal as from its event";
    EXPECT_EQ(changes[0].tsih, gone);
}

TEST_F(RegistryTest, ReconcileRemovesAConnectionTheKernelClosed) {
    uint16_t tsih = login();
    registry.attach(kTarget, 1, tsih, 1, attachment_of(10, 11, 2));
    ASSERT_EQ(registry.admit(identity(tsih, 2), endpoints(50001), limits).verdict, Verdict::AddConnection);
    registry.attach(kTarget, 1, tsih, 2, attachment_of(10, 12, 2));
    auto removed = registry.reconcile({kernel_session(10, {{11, 1}})});
    EXPECT_EQ(removed.sessions, 0u);
    EXPECT_EQ(removed.connections, 1u);
    ASSERT_EQ(registry.sessions().size(), 1u);
    ASSERT_EQ(registry.sessions()[0].connections.size(), 1u);
    EXPECT_EQ(registry.sessions()[0].connections[0].cid, 1);
}

TEST_F(RegistryTest, ReconcileForgetsTheLostConnectionDownOfAReinstatedConnection) {
    uint16_t tsih = login();
    registry.attach(kTarget, 1, tsih, 1, attachment_of(10, 11, 2));
    registry.admit(identity(tsih, 1), endpoints(50002), limits);  // reinstates CID 1
    registry.attach(kTarget, 1, tsih, 1, attachment_of(10, 12, 2));
    // The old connection's ConnectionDown was lost; the kernel has only the successor.
    registry.reconcile({kernel_session(10, {{12, 1}})});
    ASSERT_EQ(registry.sessions()[0].connections.size(), 1u);
    kmod::DataPathEvent down{kmod::DataPathEvent::Kind::ConnectionDown, 10, kTarget, 1, tsih, 1,
                             kmod::DownReason::PeerClosed};
    registry.on_connection_down(down);  // the successor's own end
    EXPECT_TRUE(registry.sessions()[0].connections.empty());
}
