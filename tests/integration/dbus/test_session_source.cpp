#include "test_session_source.h"

#include <algorithm>
#include <arpa/inet.h>

namespace iscsi::testing {
namespace {

kmod::SocketAddress ipv4(const char* address, uint16_t port) {
    kmod::SocketAddress out;
    auto* in = reinterpret_cast<sockaddr_in*>(&out.storage);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    inet_pton(AF_INET, address, &in->sin_addr);
    out.length = sizeof(sockaddr_in);
    return out;
}

}  // namespace

TestSessionSource::TestSessionSource(const std::string& target, uint16_t tpgt, int count) {
    for (int i = 1; i <= count; ++i) {
        kmod::KernelSession session;
        session.handle = static_cast<uint64_t>(i);
        session.target_name = target;
        session.tpgt = tpgt;
        session.initiator_name = "iqn.1994-05.com.example:initiator" + std::to_string(i);
        session.initiator_alias = "host" + std::to_string(i);
        session.isid = {0x80, 0x12, 0x34, 0x56, 0x00, static_cast<uint8_t>(i)};
        session.tsih = static_cast<uint16_t>(i);
        session.chap_user = "u" + std::to_string(i);
        session.negotiated.max_burst_length = 1048576;
        session.negotiated.max_connections = 2;
        session.counters.commands = 100u * static_cast<unsigned>(i);
        session.start_time_ns = 1'700'000'000'000'000'000ull;
        for (uint16_t cid = 1; cid <= 2; ++cid) {
            kmod::KernelConnection connection;
            connection.cid = cid;
            connection.handle = static_cast<uint64_t>(i * 10 + cid);
            connection.peer = ipv4("127.0.0.1", static_cast<uint16_t>(40000 + i * 10 + cid));
            connection.local = ipv4("127.0.0.1", 3260);
            connection.header_digest = kmod::Digest::Crc32c;
            connection.max_recv_data_segment_length = 262144;
            connection.max_xmit_data_segment_length = 65536;
            session.connections.push_back(connection);
        }
        sessions_.push_back(std::move(session));
    }
}

kmod::KernelSession* TestSessionSource::find(const control::SessionId& id) {
    for (auto& session : sessions_)
        if (session.target_name == id.target_name && session.tpgt == id.tpgt && session.tsih == id.tsih) return &session;
    return nullptr;
}

control::Result<void> TestSessionSource::logout(const control::SessionId& id) {
    auto* session = find(id);
    if (!session) return control::fail(control::ErrorKind::NotFound, "no such session");
    session->state = kmod::SessionState::LogoutRequested;
    return {};
}

control::Result<void> TestSessionSource::terminate(const control::SessionId& id) {
    if (!find(id)) return control::fail(control::ErrorKind::NotFound, "no such session");
    std::erase_if(sessions_, [&](const kmod::KernelSession& s) { return s.tsih == id.tsih && s.tpgt == id.tpgt && s.target_name == id.target_name; });
    return {};
}

control::Result<void> TestSessionSource::terminate_connection(const control::SessionId& id, uint16_t cid) {
    auto* session = find(id);
    if (!session) return control::fail(control::ErrorKind::NotFound, "no such session");
    auto before = session->connections.size();
    std::erase_if(session->connections, [&](const kmod::KernelConnection& c) { return c.cid == cid; });
    if (session->connections.size() == before) return control::fail(control::ErrorKind::NotFound, "no such connection");
    return {};
}

}  // namespace iscsi::testing
