#include "handoff_codec.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <random>

#include "message_builder.h"
#include "uapi/iscsi_handoff.h"

namespace iscsi::kmod {
namespace {

using test::find_attribute;
using test::KernelMessage;
using test::kFamily;

SocketAddress ipv4(const char* address, uint16_t port) {
    SocketAddress a;
    auto* in = reinterpret_cast<sockaddr_in*>(&a.storage);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    inet_pton(AF_INET, address, &in->sin_addr);
    a.length = sizeof(sockaddr_in);
    return a;
}

SocketAddress ipv6(const char* address, uint16_t port) {
    SocketAddress a;
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    inet_pton(AF_INET6, address, &in6->sin6_addr);
    a.length = sizeof(sockaddr_in6);
    return a;
}

HandoffRequest valid_request() {
    HandoffRequest r;
    r.fd = 7;
    r.target_name = "iqn.2003-01.org.example:disk1";
    r.tpgt = 3;
    r.initiator_name = "iqn.1994-05.com.redhat:client";
    r.initiator_alias = "client";
    r.isid = {0x80, 0x12, 0x34, 0x56, 0x78, 0x9a};
    r.tsih = 0x0102;
    r.cid = 5;
    r.peer = ipv4("192.0.2.10", 51000);
    r.local = ipv6("::1", 3260);
    r.cmd_sn = 0xfffffff0;
    r.stat_sn = 77;
    r.exp_stat_sn = 76;
    r.negotiated.header_digest = Digest::Crc32c;
    r.negotiated.data_digest = Digest::None;
    r.negotiated.max_recv_data_segment_length = 262144;
    r.negotiated.max_xmit_data_segment_length = 65536;
    r.negotiated.max_burst_length = 1048576;
    r.negotiated.first_burst_length = 262144;
    r.negotiated.initial_r2t = false;
    r.negotiated.immediate_data = true;
    r.negotiated.max_outstanding_r2t = 4;
    r.negotiated.data_pdu_in_order = true;
    r.negotiated.data_sequence_in_order = false;
    r.negotiated.error_recovery_level = 0;
    r.negotiated.default_time2wait = 3;
    r.negotiated.default_time2retain = 21;
    r.negotiated.max_connections = 2;
    r.chap_user = "alice";
    return r;
}

std::string string_of(const nlattr* a) {
    return a ? std::string(static_cast<const char*>(nla_data(a))) : std::string("<missing>");
}

const nlattr* nested(const nlattr* nest, int type) {
    return nla_find(static_cast<const nlattr*>(nla_data(nest)), nla_len(nest), type);
}

TEST(EncodeHandoff, CarriesEveryFieldOfTheContract) {
    auto msg = encode_handoff(kFamily, valid_request());
    ASSERT_TRUE(msg) << msg.error().message;
    const nlmsghdr* h = nlmsg_hdr(msg->get());
    EXPECT_EQ(h->nlmsg_type, kFamily);
    EXPECT_TRUE(h->nlmsg_flags & NLM_F_ACK);
    const auto* genl = static_cast<const genlmsghdr*>(nlmsg_data(h));
    EXPECT_EQ(genl->cmd, ISCSI_HANDOFF_CMD_HANDOFF);
    EXPECT_EQ(genl->version, ISCSI_HANDOFF_GENL_VERSION);

    EXPECT_EQ(nla_get_u32(find_attribute(h, ISCSI_HANDOFF_ATTR_FD)), 7u);
    EXPECT_EQ(string_of(find_attribute(h, ISCSI_HANDOFF_ATTR_TARGET_NAME)), "iqn.2003-01.org.example:disk1");
    EXPECT_EQ(nla_get_u16(find_attribute(h, ISCSI_HANDOFF_ATTR_TPGT)), 3);
    EXPECT_EQ(string_of(find_attribute(h, ISCSI_HANDOFF_ATTR_INITIATOR_NAME)), "iqn.1994-05.com.redhat:client");
    EXPECT_EQ(string_of(find_attribute(h, ISCSI_HANDOFF_ATTR_INITIATOR_ALIAS)), "client");
    const nlattr* isid = find_attribute(h, ISCSI_HANDOFF_ATTR_ISID);
    ASSERT_NE(isid, nullptr);
    ASSERT_EQ(nla_len(isid), 6);
    EXPECT_EQ(std::memcmp(nla_data(isid), valid_request().isid.data(), 6), 0) << "ISID is sent in wire order";
    EXPECT_EQ(nla_get_u16(find_attribute(h, ISCSI_HANDOFF_ATTR_TSIH)), 0x0102);
    EXPECT_EQ(nla_get_u16(find_attribute(h, ISCSI_HANDOFF_ATTR_CID)), 5);
    EXPECT_EQ(nla_get_u8(find_attribute(h, ISCSI_HANDOFF_ATTR_SESSION_TYPE)), ISCSI_HANDOFF_SESSION_NORMAL);
    EXPECT_EQ(nla_len(find_attribute(h, ISCSI_HANDOFF_ATTR_PEER_ADDR)), static_cast<int>(sizeof(sockaddr_in)));
    EXPECT_EQ(nla_len(find_attribute(h, ISCSI_HANDOFF_ATTR_LOCAL_ADDR)), static_cast<int>(sizeof(sockaddr_in6)));
    sockaddr_in peer{};
    std::memcpy(&peer, nla_data(find_attribute(h, ISCSI_HANDOFF_ATTR_PEER_ADDR)), sizeof peer);
    EXPECT_EQ(ntohs(peer.sin_port), 51000);
    EXPECT_EQ(nla_get_u32(find_attribute(h, ISCSI_HANDOFF_ATTR_CMDSN)), 0xfffffff0u);
    EXPECT_EQ(nla_get_u32(find_attribute(h, ISCSI_HANDOFF_ATTR_STATSN)), 77u);
    EXPECT_EQ(nla_get_u32(find_attribute(h, ISCSI_HANDOFF_ATTR_EXP_STATSN)), 76u);
    EXPECT_EQ(string_of(find_attribute(h, ISCSI_HANDOFF_ATTR_CHAP_USER)), "alice");

    const nlattr* n = find_attribute(h, ISCSI_HANDOFF_ATTR_NEGOTIATED);
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(nla_get_u8(nested(n, ISCSI_HANDOFF_PARAM_HEADER_DIGEST)), ISCSI_HANDOFF_DIGEST_CRC32C);
    EXPECT_EQ(nla_get_u8(nested(n, ISCSI_HANDOFF_PARAM_DATA_DIGEST)), ISCSI_HANDOFF_DIGEST_NONE);
    EXPECT_EQ(nla_get_u32(nested(n, ISCSI_HANDOFF_PARAM_MAX_RECV_DSL)), 262144u);
    EXPECT_EQ(nla_get_u32(nested(n, ISCSI_HANDOFF_PARAM_MAX_XMIT_DSL)), 65536u);
    EXPECT_EQ(nla_get_u32(nested(n, ISCSI_HANDOFF_PARAM_MAX_BURST_LENGTH)), 1048576u);
    EXPECT_EQ(nla_get_u32(nested(n, ISCSI_HANDOFF_PARAM_FIRST_BURST_LENGTH)), 262144u);
    EXPECT_EQ(nla_get_u8(nested(n, ISCSI_HANDOFF_PARAM_INITIAL_R2T)), 0);
    EXPECT_EQ(nla_get_u8(nested(n, ISCSI_HANDOFF_PARAM_IMMEDIATE_DATA)), 1);
    EXPECT_EQ(nla_get_u32(nested(n, ISCSI_HANDOFF_PARAM_MAX_OUTSTANDING_R2T)), 4u);
    EXPECT_EQ(nla_get_u8(nested(n, ISCSI_HANDOFF_PARAM_DATA_PDU_IN_ORDER)), 1);
    EXPECT_EQ(nla_get_u8(nested(n, ISCSI_HANDOFF_PARAM_DATA_SEQUENCE_IN_ORDER)), 0);
    EXPECT_EQ(nla_get_u8(nested(n, ISCSI_HANDOFF_PARAM_ERROR_RECOVERY_LEVEL)), 0);
    EXPECT_EQ(nla_get_u32(nested(n, ISCSI_HANDOFF_PARAM_DEFAULT_TIME2WAIT)), 3u);
    EXPECT_EQ(nla_get_u32(nested(n, ISCSI_HANDOFF_PARAM_DEFAULT_TIME2RETAIN)), 21u);
    EXPECT_EQ(nla_get_u32(nested(n, ISCSI_HANDOFF_PARAM_MAX_CONNECTIONS)), 2u);
}

TEST(EncodeHandoff, LeavesOutAnEmptyAliasAndChapUser) {
    HandoffRequest r = valid_request();
    r.initiator_alias.clear();
    r.chap_user.clear();
    auto msg = encode_handoff(kFamily, r);
    ASSERT_TRUE(msg);
    EXPECT_EQ(find_attribute(nlmsg_hdr(msg->get()), ISCSI_HANDOFF_ATTR_INITIATOR_ALIAS), nullptr);
    EXPECT_EQ(find_attribute(nlmsg_hdr(msg->get()), ISCSI_HANDOFF_ATTR_CHAP_USER), nullptr);
}

struct BadRequest {
    const char* name;
    void (*spoil)(HandoffRequest&);
    const char* mentions;
};

class EncodeHandoffRefuses : public ::testing::TestWithParam<BadRequest> {};

TEST_P(EncodeHandoffRefuses, WithANamedReason) {
    HandoffRequest r = valid_request();
    GetParam().spoil(r);
    auto msg = encode_handoff(kFamily, r);
    ASSERT_FALSE(msg) << GetParam().name;
    EXPECT_EQ(msg.error().code, EINVAL);
    EXPECT_NE(msg.error().message.find(GetParam().mentions), std::string::npos) << msg.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    BadInput, EncodeHandoffRefuses,
    ::testing::Values(
        BadRequest{"no fd", [](HandoffRequest& r) { r.fd = -1; }, "fd"},
        BadRequest{"empty target", [](HandoffRequest& r) { r.target_name.clear(); }, "TargetName"},
        BadRequest{"long target", [](HandoffRequest& r) { r.target_name = "iqn." + std::string(224, 'a'); },
                   "TargetName"},
        BadRequest{"empty initiator", [](HandoffRequest& r) { r.initiator_name.clear(); }, "InitiatorName"},
        BadRequest{"NUL in initiator", [](HandoffRequest& r) { r.initiator_name.push_back('\0'); }, "NUL"},
        BadRequest{"long alias", [](HandoffRequest& r) { r.initiator_alias = std::string(256, 'a'); },
                   "InitiatorAlias"},
        BadRequest{"long CHAP user", [](HandoffRequest& r) { r.chap_user = std::string(256, 'u'); }, "CHAP"},
        BadRequest{"TPGT 0", [](HandoffRequest& r) { r.tpgt = 0; }, "TPGT"},
        BadRequest{"TSIH 0", [](HandoffRequest& r) { r.tsih = 0; }, "TSIH"},
        BadRequest{"no peer address", [](HandoffRequest& r) { r.peer = SocketAddress{}; }, "peer address"},
        BadRequest{"short IPv6 local address", [](HandoffRequest& r) { r.local.length = sizeof(sockaddr_in); },
                   "local address"},
        BadRequest{"MRDSL too small", [](HandoffRequest& r) { r.negotiated.max_recv_data_segment_length = 511; },
                   "MaxRecvDataSegmentLength"},
        BadRequest{"MRDSL too large",
                   [](HandoffRequest& r) { r.negotiated.max_xmit_data_segment_length = 16777216; },
                   "MaxRecvDataSegmentLength"},
        BadRequest{"FirstBurst > MaxBurst",
                   [](HandoffRequest& r) {
                       r.negotiated.first_burst_length = 65536;
                       r.negotiated.max_burst_length = 8192;
                   },
                   "FirstBurstLength"},
        BadRequest{"MaxOutstandingR2T 0", [](HandoffRequest& r) { r.negotiated.max_outstanding_r2t = 0; },
                   "MaxOutstandingR2T"},
        BadRequest{"ERL 3", [](HandoffRequest& r) { r.negotiated.error_recovery_level = 3; },
                   "ErrorRecoveryLevel"},
        BadRequest{"Time2Wait 3601", [](HandoffRequest& r) { r.negotiated.default_time2wait = 3601; },
                   "DefaultTime2Wait"},
        BadRequest{"MaxConnections 0", [](HandoffRequest& r) { r.negotiated.max_connections = 0; },
                   "MaxConnections"},
        BadRequest{"unknown digest", [](HandoffRequest& r) { r.negotiated.data_digest = static_cast<Digest>(9); },
                   "digest"}),
    [](const auto& param_info) {
        std::string name = param_info.param.name;
        for (char& c : name) {
            if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
        }
        return name;
    });

TEST(EncodeCommands, TerminateLogoutAndQueriesCarryTheirAttributes) {
    auto conn = encode_conn_terminate(kFamily, 0xabcdef, 9);
    ASSERT_TRUE(conn);
    EXPECT_EQ(nla_get_u64(find_attribute(nlmsg_hdr(conn->get()), ISCSI_HANDOFF_ATTR_SESSION_HANDLE)), 0xabcdefu);
    EXPECT_EQ(nla_get_u16(find_attribute(nlmsg_hdr(conn->get()), ISCSI_HANDOFF_ATTR_CID)), 9);
    EXPECT_EQ(nla_get_u32(find_attribute(nlmsg_hdr(conn->get()), ISCSI_HANDOFF_ATTR_REASON)),
              static_cast<uint32_t>(ISCSI_HANDOFF_REASON_ADMIN));

    auto session = encode_session_terminate(kFamily, 42);
    ASSERT_TRUE(session);
    EXPECT_EQ(static_cast<const genlmsghdr*>(nlmsg_data(nlmsg_hdr(session->get())))->cmd,
              ISCSI_HANDOFF_CMD_SESSION_TERMINATE);
    EXPECT_EQ(nla_get_u64(find_attribute(nlmsg_hdr(session->get()), ISCSI_HANDOFF_ATTR_SESSION_HANDLE)), 42u);

    auto logout = encode_session_logout(kFamily, 42, 10);
    ASSERT_TRUE(logout);
    EXPECT_EQ(nla_get_u32(find_attribute(nlmsg_hdr(logout->get()), ISCSI_HANDOFF_ATTR_LOGOUT_DEADLINE)), 10u);
    EXPECT_FALSE(encode_session_logout(kFamily, 42, 0)) << "deadline is 1..3600 s";
    EXPECT_FALSE(encode_session_logout(kFamily, 42, 3601)) << "deadline is 1..3600 s";

    auto list = encode_session_list(kFamily);
    ASSERT_TRUE(list);
    EXPECT_EQ(nlmsg_hdr(list->get())->nlmsg_flags & NLM_F_DUMP, NLM_F_DUMP) << "SESSION_LIST is a dump";

    auto version = encode_get_version(kFamily);
    ASSERT_TRUE(version);
    EXPECT_EQ(static_cast<const genlmsghdr*>(nlmsg_data(nlmsg_hdr(version->get())))->cmd,
              ISCSI_HANDOFF_CMD_GET_VERSION);
    EXPECT_TRUE(encode_get_limits(kFamily));
}

TEST(EncodeCommands, DiscoveryTextFitsOneAttribute) {
    std::string text = "TargetName=iqn.2003-01.org.example:a";
    text.push_back('\0');
    auto small = encode_set_discovery_text(kFamily, "iqn.2003-01.org.example:a", 1, text);
    ASSERT_TRUE(small) << small.error().message;
    const nlattr* a = find_attribute(nlmsg_hdr(small->get()), ISCSI_HANDOFF_ATTR_DISCOVERY_TEXT);
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(std::string(static_cast<const char*>(nla_data(a)), nla_len(a)), text);
    auto largest = encode_set_discovery_text(kFamily, "iqn.x:a", 1, std::string(65531, 'x'));
    ASSERT_TRUE(largest) << largest.error().message;
    const nlattr* big = find_attribute(nlmsg_hdr(largest->get()), ISCSI_HANDOFF_ATTR_DISCOVERY_TEXT);
    ASSERT_NE(big, nullptr);
    EXPECT_EQ(nla_len(big), 65531) << "nla_len is 16 bits: 65531 is the largest payload";
    EXPECT_FALSE(encode_set_discovery_text(kFamily, "iqn.x:a", 1, std::string(65532, 'x')));
}

TEST(DecodeHandoffReply, ReturnsBothHandles) {
    KernelMessage m(ISCSI_HANDOFF_CMD_HANDOFF);
    m.u64(ISCSI_HANDOFF_ATTR_SESSION_HANDLE, 0x1111).u64(ISCSI_HANDOFF_ATTR_CONN_HANDLE, 0x2222);
    auto r = decode_handoff_reply(m.header());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->session_handle, 0x1111u);
    EXPECT_EQ(r->connection_handle, 0x2222u);
}

TEST(DecodeHandoffReply, RefusesAMissingHandle) {
    KernelMessage m(ISCSI_HANDOFF_CMD_HANDOFF);
    m.u64(ISCSI_HANDOFF_ATTR_SESSION_HANDLE, 0x1111);
    auto r = decode_handoff_reply(m.header());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, EBADMSG);
    EXPECT_NE(r.error().message.find("CONN_HANDLE"), std::string::npos) << r.error().message;
}

TEST(DecodeHandoffReply, RefusesAZeroHandle) {
    KernelMessage m(ISCSI_HANDOFF_CMD_HANDOFF);
    m.u64(ISCSI_HANDOFF_ATTR_SESSION_HANDLE, 0).u64(ISCSI_HANDOFF_ATTR_CONN_HANDLE, 1);
    auto r = decode_handoff_reply(m.header());
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("SESSION_HANDLE is zero"), std::string::npos) << r.error().message;
}

TEST(DecodeHandoffReply, RefusesAHandleOfTheWrongSize) {
    KernelMessage m(ISCSI_HANDOFF_CMD_HANDOFF);
    m.u32(ISCSI_HANDOFF_ATTR_SESSION_HANDLE, 5).u64(ISCSI_HANDOFF_ATTR_CONN_HANDLE, 1);
    auto r = decode_handoff_reply(m.header());
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("SESSION_HANDLE has 4 bytes, expected 8"), std::string::npos)
        << r.error().message;
}

void put_connection(KernelMessage& m, uint16_t cid, uint64_t handle) {
    SocketAddress peer = ipv6("2001:db8::5", 40000 + cid);
    SocketAddress local = ipv4("192.0.2.1", 3260);
    m.begin(ISCSI_HANDOFF_ATTR_CONNECTION)
        .u16(ISCSI_HANDOFF_CONN_CID, cid)
        .u64(ISCSI_HANDOFF_CONN_HANDLE, handle)
        .bytes(ISCSI_HANDOFF_CONN_PEER_ADDR, &peer.storage, peer.length)
        .bytes(ISCSI_HANDOFF_CONN_LOCAL_ADDR, &local.storage, local.length)
        .u8(ISCSI_HANDOFF_CONN_STATE, ISCSI_HANDOFF_CONN_STATE_FULL_FEATURE)
        .u8(ISCSI_HANDOFF_CONN_HEADER_DIGEST, ISCSI_HANDOFF_DIGEST_CRC32C)
        .u8(ISCSI_HANDOFF_CONN_DATA_DIGEST, ISCSI_HANDOFF_DIGEST_NONE)
        .u32(ISCSI_HANDOFF_CONN_MAX_RECV_DSL, 262144)
        .u32(ISCSI_HANDOFF_CONN_MAX_XMIT_DSL, 8192)
        .u32(ISCSI_HANDOFF_CONN_STATSN, 1000 + cid)
        .begin(ISCSI_HANDOFF_CONN_STATS)
        .u64(ISCSI_HANDOFF_STATS_COMMANDS, 10 * cid)
        .u32(ISCSI_HANDOFF_STATS_IN_FLIGHT, cid)
        .end()
        .end();
}

// A SESSION_LIST entry as the module sends it.
KernelMessage full_session() {
    KernelMessage m(ISCSI_HANDOFF_CMD_SESSION_LIST);
    const uint8_t isid[6] = {0x80, 1, 2, 3, 4, 5};
    m.u64(ISCSI_HANDOFF_ATTR_SESSION_HANDLE, 0xfeed)
        .str(ISCSI_HANDOFF_ATTR_TARGET_NAME, "iqn.2003-01.org.example:disk1")
        .u16(ISCSI_HANDOFF_ATTR_TPGT, 1)
        .str(ISCSI_HANDOFF_ATTR_INITIATOR_NAME, "iqn.1994-05.com.redhat:client")
        .str(ISCSI_HANDOFF_ATTR_INITIATOR_ALIAS, "client")
        .bytes(ISCSI_HANDOFF_ATTR_ISID, isid, 6)
        .u16(ISCSI_HANDOFF_ATTR_TSIH, 17)
        .str(ISCSI_HANDOFF_ATTR_CHAP_USER, "alice")
        .u8(ISCSI_HANDOFF_ATTR_SESSION_STATE, ISCSI_HANDOFF_SESSION_STATE_LOGOUT_REQUESTED)
        .u32(ISCSI_HANDOFF_ATTR_EXP_CMDSN, 100)
        .u32(ISCSI_HANDOFF_ATTR_MAX_CMDSN, 227)
        .u64(ISCSI_HANDOFF_ATTR_START_TIME, 1700000000000000000ull)
        .begin(ISCSI_HANDOFF_ATTR_NEGOTIATED)
        .u8(ISCSI_HANDOFF_PARAM_HEADER_DIGEST, ISCSI_HANDOFF_DIGEST_CRC32C)
        .u32(ISCSI_HANDOFF_PARAM_MAX_BURST_LENGTH, 1048576)
        .u8(ISCSI_HANDOFF_PARAM_INITIAL_R2T, 0)
        .u32(ISCSI_HANDOFF_PARAM_MAX_CONNECTIONS, 4)
        .end()
        .begin(ISCSI_HANDOFF_ATTR_STATS)
        .u64(ISCSI_HANDOFF_STATS_COMMANDS, 12345)
        .u64(ISCSI_HANDOFF_STATS_READ_BYTES, 1 << 20)
        .u64(ISCSI_HANDOFF_STATS_WRITE_BYTES, 1 << 21)
        .u64(ISCSI_HANDOFF_STATS_ERRORS, 2)
        .u32(ISCSI_HANDOFF_STATS_IN_FLIGHT, 3)
        .u64(ISCSI_HANDOFF_STATS_DIGEST_ERRORS, 1)
        .u64(ISCSI_HANDOFF_STATS_REJECTS, 1)
        .end()
        .begin(ISCSI_HANDOFF_ATTR_CONNECTIONS);
    put_connection(m, 1, 0xc1);
    put_connection(m, 2, 0xc2);
    m.end();
    return m;
}

TEST(DecodeSession, ReadsIdentityStateCountersAndConnections) {
    KernelMessage m = full_session();
    auto s = decode_session(m.header());
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->handle, 0xfeedu);
    EXPECT_EQ(s->target_name, "iqn.2003-01.org.example:disk1");
    EXPECT_EQ(s->tpgt, 1);
    EXPECT_EQ(s->initiator_name, "iqn.1994-05.com.redhat:client");
    EXPECT_EQ(s->initiator_alias, "client");
    EXPECT_EQ(s->isid, (Isid{0x80, 1, 2, 3, 4, 5}));
    EXPECT_EQ(s->tsih, 17);
    EXPECT_EQ(s->chap_user, "alice");
    EXPECT_EQ(s->state, SessionState::LogoutRequested);
    EXPECT_EQ(s->exp_cmd_sn, 100u);
    EXPECT_EQ(s->max_cmd_sn, 227u);
    EXPECT_EQ(s->start_time_ns, 1700000000000000000ull);
    EXPECT_EQ(s->negotiated.header_digest, Digest::Crc32c);
    EXPECT_EQ(s->negotiated.max_burst_length, 1048576u);
    EXPECT_FALSE(s->negotiated.initial_r2t);
    EXPECT_EQ(s->negotiated.max_connections, 4u);
    EXPECT_EQ(s->negotiated.first_burst_length, 65536u) << "absent values keep the RFC default";
    EXPECT_EQ(s->counters.commands, 12345u);
    EXPECT_EQ(s->counters.read_bytes, 1u << 20);
    EXPECT_EQ(s->counters.write_bytes, 1u << 21);
    EXPECT_EQ(s->counters.errors, 2u);
    EXPECT_EQ(s->counters.in_flight, 3u);
    EXPECT_EQ(s->counters.digest_errors, 1u);
    EXPECT_EQ(s->counters.rejects, 1u);
    ASSERT_EQ(s->connections.size(), 2u);
    const KernelConnection& c = s->connections[1];
    EXPECT_EQ(c.cid, 2);
    EXPECT_EQ(c.handle, 0xc2u);
    EXPECT_EQ(c.peer.storage.ss_family, AF_INET6);
    EXPECT_EQ(ntohs(reinterpret_cast<const sockaddr_in6*>(&c.peer.storage)->sin6_port), 40002);
    EXPECT_EQ(c.local.storage.ss_family, AF_INET);
    EXPECT_EQ(c.state, ConnectionState::FullFeature);
    EXPECT_EQ(c.header_digest, Digest::Crc32c);
    EXPECT_EQ(c.max_recv_data_segment_length, 262144u);
    EXPECT_EQ(c.max_xmit_data_segment_length, 8192u);
    EXPECT_EQ(c.stat_sn, 1002u);
    EXPECT_EQ(c.counters.commands, 20u);
    EXPECT_EQ(c.counters.in_flight, 2u);
}

// The module writes u64s with nla_put_u64_64bit, which may insert empty PAD
// attributes (top level, in STATS and in CONNECTION) to align them.
TEST(DecodeSession, AcceptsThePaddingTheKernelInserts) {
    KernelMessage m(ISCSI_HANDOFF_CMD_SESSION_LIST);
    const uint8_t isid[6] = {0x80, 1, 2, 3, 4, 5};
    const char none = 0;
    m.bytes(ISCSI_HANDOFF_ATTR_PAD, &none, 0)
        .u64(ISCSI_HANDOFF_ATTR_SESSION_HANDLE, 7)
        .str(ISCSI_HANDOFF_ATTR_TARGET_NAME, "iqn.x:t")
        .u16(ISCSI_HANDOFF_ATTR_TPGT, 1)
        .str(ISCSI_HANDOFF_ATTR_INITIATOR_NAME, "iqn.x:i")
        .bytes(ISCSI_HANDOFF_ATTR_ISID, isid, 6)
        .u16(ISCSI_HANDOFF_ATTR_TSIH, 3)
        .u8(ISCSI_HANDOFF_ATTR_SESSION_TYPE, ISCSI_HANDOFF_SESSION_NORMAL)
        .begin(ISCSI_HANDOFF_ATTR_STATS)
        .bytes(ISCSI_HANDOFF_STATS_PAD, &none, 0)
        .u64(ISCSI_HANDOFF_STATS_COMMANDS, 9)
        .end()
        .begin(ISCSI_HANDOFF_ATTR_CONNECTIONS)
        .begin(ISCSI_HANDOFF_ATTR_CONNECTION)
        .u16(ISCSI_HANDOFF_CONN_CID, 0)
        .bytes(ISCSI_HANDOFF_CONN_PAD, &none, 0)
        .u64(ISCSI_HANDOFF_CONN_HANDLE, 8)
        .end()
        .end();
    auto s = decode_session(m.header());
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->handle, 7u);
    EXPECT_EQ(s->counters.commands, 9u);
    ASSERT_EQ(s->connections.size(), 1u);
    EXPECT_EQ(s->connections[0].handle, 8u);
}

TEST(DecodeSession, AcceptsASessionWithoutConnections) {
    KernelMessage m(ISCSI_HANDOFF_CMD_SESSION_LIST);
    const uint8_t isid[6] = {0x80, 1, 2, 3, 4, 5};
    m.u64(ISCSI_HANDOFF_ATTR_SESSION_HANDLE, 7)
        .str(ISCSI_HANDOFF_ATTR_TARGET_NAME, "iqn.x:t")
        .u16(ISCSI_HANDOFF_ATTR_TPGT, 1)
        .str(ISCSI_HANDOFF_ATTR_INITIATOR_NAME, "iqn.x:i")
        .bytes(ISCSI_HANDOFF_ATTR_ISID, isid, 6)
        .u16(ISCSI_HANDOFF_ATTR_TSIH, 3)
        .begin(ISCSI_HANDOFF_ATTR_CONNECTIONS)
        .end();
    auto s = decode_session(m.header());
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_TRUE(s->connections.empty());
}

TEST(DecodeSession, IgnoresAttributesAppendedByANewerModule) {
    KernelMessage m = full_session();
    m.u32(200, 1).u32(ISCSI_HANDOFF_ATTR_MAX + 1, 5);
    EXPECT_TRUE(decode_session(m.header()));
}

TEST(DecodeSession, RefusesAnEntryWithoutTsih) {
    KernelMessage m(ISCSI_HANDOFF_CMD_SESSION_LIST);
    const uint8_t isid[6] = {};
    m.u64(ISCSI_HANDOFF_ATTR_SESSION_HANDLE, 1)
        .str(ISCSI_HANDOFF_ATTR_TARGET_NAME, "iqn.x:t")
        .u16(ISCSI_HANDOFF_ATTR_TPGT, 1)
        .str(ISCSI_HANDOFF_ATTR_INITIATOR_NAME, "iqn.x:i")
        .bytes(ISCSI_HANDOFF_ATTR_ISID, isid, 6);
    auto s = decode_session(m.header());
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, EBADMSG);
    EXPECT_NE(s.error().message.find("lacks TSIH"), std::string::npos) << s.error().message;
}

// Each malformed variant must be refused with a message naming the problem.
struct Malformed {
    const char* name;
    void (*build)(KernelMessage&);
    const char* mentions;
};

void identity(KernelMessage& m, const void* isid, size_t isid_len) {
    m.u64(ISCSI_HANDOFF_ATTR_SESSION_HANDLE, 1)
        .str(ISCSI_HANDOFF_ATTR_TARGET_NAME, "iqn.x:t")
        .u16(ISCSI_HANDOFF_ATTR_TPGT, 1)
        .str(ISCSI_HANDOFF_ATTR_INITIATOR_NAME, "iqn.x:i")
        .bytes(ISCSI_HANDOFF_ATTR_ISID, isid, isid_len)
        .u16(ISCSI_HANDOFF_ATTR_TSIH, 1);
}

const uint8_t kIsid[6] = {0x80, 0, 0, 0, 0, 1};

class DecodeSessionRefuses : public ::testing::TestWithParam<Malformed> {};

TEST_P(DecodeSessionRefuses, WithANamedError) {
    KernelMessage m(ISCSI_HANDOFF_CMD_SESSION_LIST);
    GetParam().build(m);
    auto s = decode_session(m.header());
    ASSERT_FALSE(s) << GetParam().name;
    EXPECT_EQ(s.error().code, EBADMSG);
    EXPECT_NE(s.error().message.find(GetParam().mentions), std::string::npos) << s.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, DecodeSessionRefuses,
    ::testing::Values(
        Malformed{"short ISID", [](KernelMessage& m) { identity(m, kIsid, 5); }, "ISID has 5 bytes"},
        Malformed{"unterminated name",
                  [](KernelMessage& m) {
                      identity(m, kIsid, 6);
                      m.bytes(ISCSI_HANDOFF_ATTR_INITIATOR_NAME, "abc", 3);
                  },
                  "INITIATOR_NAME is not a NUL-terminated string"},
        Malformed{"overlong name",
                  [](KernelMessage& m) {
                      identity(m, kIsid, 6);
                      m.str(ISCSI_HANDOFF_ATTR_TARGET_NAME, std::string(224, 'n'));
                  },
                  "TARGET_NAME is longer than 223"},
        Malformed{"u8 state as u32",
                  [](KernelMessage& m) {
                      identity(m, kIsid, 6);
                      m.u32(ISCSI_HANDOFF_ATTR_SESSION_STATE, 1);
                  },
                  "SESSION_STATE has 4 bytes, expected 1"},
        Malformed{"unknown session state",
                  [](KernelMessage& m) {
                      identity(m, kIsid, 6);
                      m.u8(ISCSI_HANDOFF_ATTR_SESSION_STATE, 9);
                  },
                  "SESSION_STATE 9 is unknown"},
        Malformed{"unknown digest",
                  [](KernelMessage& m) {
                      identity(m, kIsid, 6);
                      m.begin(ISCSI_HANDOFF_ATTR_NEGOTIATED).u8(ISCSI_HANDOFF_PARAM_DATA_DIGEST, 2).end();
                  },
                  "NEGOTIATED.DATA_DIGEST is 2"},
        Malformed{"flag 2",
                  [](KernelMessage& m) {
                      identity(m, kIsid, 6);
                      m.begin(ISCSI_HANDOFF_ATTR_NEGOTIATED).u8(ISCSI_HANDOFF_PARAM_IMMEDIATE_DATA, 2).end();
                  },
                  "NEGOTIATED.IMMEDIATE_DATA is 2"},
        Malformed{"wrong element in CONNECTIONS",
                  [](KernelMessage& m) {
                      identity(m, kIsid, 6);
                      m.begin(ISCSI_HANDOFF_ATTR_CONNECTIONS).u32(ISCSI_HANDOFF_ATTR_TPGT, 1).end();
                  },
                  "CONNECTIONS holds TPGT"},
        Malformed{"connection without CID",
                  [](KernelMessage& m) {
                      identity(m, kIsid, 6);
                      m.begin(ISCSI_HANDOFF_ATTR_CONNECTIONS)
                          .begin(ISCSI_HANDOFF_ATTR_CONNECTION)
                          .u64(ISCSI_HANDOFF_CONN_HANDLE, 1)
                          .end()
                          .end();
                  },
                  "lacks CONNECTION.CID"},
        Malformed{"address of unknown family",
                  [](KernelMessage& m) {
                      identity(m, kIsid, 6);
                      sockaddr_in bogus{};
                      bogus.sin_family = AF_UNIX;
                      m.begin(ISCSI_HANDOFF_ATTR_CONNECTIONS)
                          .begin(ISCSI_HANDOFF_ATTR_CONNECTION)
                          .u16(ISCSI_HANDOFF_CONN_CID, 1)
                          .u64(ISCSI_HANDOFF_CONN_HANDLE, 1)
                          .bytes(ISCSI_HANDOFF_CONN_PEER_ADDR, &bogus, sizeof bogus)
                          .end()
                          .end();
                  },
                  "CONNECTION.PEER_ADDR is not a complete"},
        Malformed{"unknown connection state",
                  [](KernelMessage& m) {
                      identity(m, kIsid, 6);
                      m.begin(ISCSI_HANDOFF_ATTR_CONNECTIONS)
                          .begin(ISCSI_HANDOFF_ATTR_CONNECTION)
                          .u16(ISCSI_HANDOFF_CONN_CID, 1)
                          .u64(ISCSI_HANDOFF_CONN_HANDLE, 1)
                          .u8(ISCSI_HANDOFF_CONN_STATE, 0)
                          .end()
                          .end();
                  },
                  "CONNECTION.STATE 0 is unknown"},
        Malformed{"short counter",
                  [](KernelMessage& m) {
                      identity(m, kIsid, 6);
                      m.begin(ISCSI_HANDOFF_ATTR_STATS).u32(ISCSI_HANDOFF_STATS_COMMANDS, 1).end();
                  },
                  "STATS.COMMANDS has 4 bytes, expected 8"}),
    [](const auto& param_info) {
        std::string name = param_info.param.name;
        for (char& c : name) {
            if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
        }
        return name;
    });

TEST(DecodeSession, RefusesAnAttributeCutShort) {
    KernelMessage m = full_session();
    nlmsghdr* h = m.header();
    h->nlmsg_len -= 6;  // the last attribute now runs past the message
    auto s = decode_session(h);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, EBADMSG);
}

TEST(DecodeSession, RefusesAMessageWithoutGenlHeader) {
    nlmsghdr h{};
    h.nlmsg_len = NLMSG_HDRLEN;
    h.nlmsg_type = test::kFamily;
    auto s = decode_session(&h);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, EBADMSG);
}

// Every single-byte corruption of a valid entry is either decoded or refused
// with an Error; none may crash or read outside the message (run under
// ISCSI_SANITIZE=ON to make the second half of that claim checkable).
TEST(DecodeSession, SurvivesEveryByteCorruption) {
    KernelMessage original = full_session();
    const nlmsghdr* h = original.header();
    const size_t length = h->nlmsg_len;
    std::mt19937 random(7143);
    size_t refused = 0;
    for (size_t offset = NLMSG_HDRLEN + GENL_HDRLEN; offset < length; ++offset) {
        for (int round = 0; round < 4; ++round) {
            std::vector<uint64_t> copy((length + 7) / 8);
            std::memcpy(copy.data(), h, length);
            reinterpret_cast<uint8_t*>(copy.data())[offset] = static_cast<uint8_t>(random());
            auto s = decode_session(reinterpret_cast<const nlmsghdr*>(copy.data()));
            if (!s) {
                ++refused;
                EXPECT_FALSE(s.error().message.empty());
            }
        }
    }
    EXPECT_GT(refused, 0u) << "corruptions of lengths and types must be noticed";
}

TEST(DecodeEvent, ReadsAConnectionDown) {
    KernelMessage m(ISCSI_HANDOFF_CMD_EVENT_CONN_DOWN, 0);
    m.u64(ISCSI_HANDOFF_ATTR_SESSION_HANDLE, 0x99)
        .u16(ISCSI_HANDOFF_ATTR_TSIH, 4)
        .u16(ISCSI_HANDOFF_ATTR_CID, 2)
        .str(ISCSI_HANDOFF_ATTR_TARGET_NAME, "iqn.x:t")
        .u16(ISCSI_HANDOFF_ATTR_TPGT, 1)
        .u32(ISCSI_HANDOFF_ATTR_REASON, ISCSI_HANDOFF_REASON_PEER_CLOSED);
    auto e = decode_event(m.header());
    ASSERT_TRUE(e) << e.error().message;
    EXPECT_EQ(e->kind, DataPathEvent::Kind::ConnectionDown);
    EXPECT_EQ(e->session_handle, 0x99u);
    EXPECT_EQ(e->tsih, 4);
    EXPECT_EQ(e->cid, 2);
    EXPECT_EQ(e->target_name, "iqn.x:t");
    EXPECT_EQ(e->tpgt, 1);
    EXPECT_EQ(e->reason, DownReason::PeerClosed);
    EXPECT_STREQ(to_string(e->reason), "peer closed the connection");
}

TEST(DecodeEvent, ReadsASessionDownWithAReasonFromANewerModule) {
    KernelMessage m(ISCSI_HANDOFF_CMD_EVENT_SESSION_DOWN, 0);
    m.u64(ISCSI_HANDOFF_ATTR_SESSION_HANDLE, 0x99)
        .u16(ISCSI_HANDOFF_ATTR_TSIH, 4)
        .str(ISCSI_HANDOFF_ATTR_TARGET_NAME, "iqn.x:t")
        .u16(ISCSI_HANDOFF_ATTR_TPGT, 1)
        .u32(ISCSI_HANDOFF_ATTR_REASON, 77);
    auto e = decode_event(m.header());
    ASSERT_TRUE(e) << e.error().message;
    EXPECT_EQ(e->kind, DataPathEvent::Kind::SessionDown);
    EXPECT_STREQ(to_string(e->reason), "unknown");
}

TEST(DecodeEvent, RefusesAConnectionDownWithoutCid) {
    KernelMessage m(ISCSI_HANDOFF_CMD_EVENT_CONN_DOWN, 0);
    m.u64(ISCSI_HANDOFF_ATTR_SESSION_HANDLE, 0x99)
        .u16(ISCSI_HANDOFF_ATTR_TSIH, 4)
        .str(ISCSI_HANDOFF_ATTR_TARGET_NAME, "iqn.x:t")
        .u16(ISCSI_HANDOFF_ATTR_TPGT, 1)
        .u32(ISCSI_HANDOFF_ATTR_REASON, 1);
    auto e = decode_event(m.header());
    ASSERT_FALSE(e);
    EXPECT_NE(e.error().message.find("CID"), std::string::npos) << e.error().message;
}

TEST(DecodeEvent, RefusesACommandThatIsNotAnEvent) {
    KernelMessage m(ISCSI_HANDOFF_CMD_HANDOFF, 0);
    auto e = decode_event(m.header());
    ASSERT_FALSE(e);
    EXPECT_NE(e.error().message.find("not an event"), std::string::npos);
}

TEST(DecodeVersionAndLimits, ReadTheirAttributes) {
    KernelMessage v(ISCSI_HANDOFF_CMD_GET_VERSION);
    v.u32(ISCSI_HANDOFF_ATTR_VERSION_MAJOR, 1)
        .u32(ISCSI_HANDOFF_ATTR_VERSION_MINOR, 3)
        .str(ISCSI_HANDOFF_ATTR_VERSION_STRING, "iscsi_handoff 0.1.0");
    auto version = decode_version(v.header());
    ASSERT_TRUE(version) << version.error().message;
    EXPECT_EQ(version->major, 1u);
    EXPECT_EQ(version->minor, 3u);
    EXPECT_EQ(version->text, "iscsi_handoff 0.1.0");

    KernelMessage l(ISCSI_HANDOFF_CMD_GET_LIMITS);
    l.u32(ISCSI_HANDOFF_ATTR_LIMIT_MAX_SESSIONS, 1024)
        .u32(ISCSI_HANDOFF_ATTR_LIMIT_MAX_CONNECTIONS, 8)
        .u32(ISCSI_HANDOFF_ATTR_LIMIT_MAX_DSL, 16777215)
        .u32(ISCSI_HANDOFF_ATTR_LIMIT_MAX_BURST, 16777215)
        .u32(ISCSI_HANDOFF_ATTR_LIMIT_QUEUE_DEPTH, 128);
    auto limits = decode_limits(l.header());
    ASSERT_TRUE(limits) << limits.error().message;
    EXPECT_EQ(limits->max_sessions, 1024u);
    EXPECT_EQ(limits->max_connections_per_session, 8u);
    EXPECT_EQ(limits->max_data_segment_length, 16777215u);
    EXPECT_EQ(limits->max_burst_length, 16777215u);
    EXPECT_EQ(limits->queue_depth, 128u);
}

TEST(DecodeVersionAndLimits, RefuseMissingAttributes) {
    KernelMessage v(ISCSI_HANDOFF_CMD_GET_VERSION);
    v.u32(ISCSI_HANDOFF_ATTR_VERSION_MAJOR, 1);
    auto version = decode_version(v.header());
    ASSERT_FALSE(version);
    EXPECT_NE(version.error().message.find("VERSION_MINOR"), std::string::npos);

    KernelMessage l(ISCSI_HANDOFF_CMD_GET_LIMITS);
    l.u32(ISCSI_HANDOFF_ATTR_LIMIT_MAX_SESSIONS, 1);
    auto limits = decode_limits(l.header());
    ASSERT_FALSE(limits);
    EXPECT_NE(limits.error().message.find("LIMIT_MAX_CONNECTIONS"), std::string::npos);
}

TEST(AttributeName, NamesKnownAttributesAndNumbersOthers) {
    EXPECT_EQ(attribute_name(ISCSI_HANDOFF_ATTR_ISID), "ISID");
    EXPECT_EQ(attribute_name(250), "attribute 250");
}

}  // namespace
}  // namespace iscsi::kmod
