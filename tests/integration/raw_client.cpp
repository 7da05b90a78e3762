#include "raw_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

namespace iscsi::testing {
namespace {

void put32(std::vector<uint8_t>& b, size_t offset, uint32_t v) {
    b[offset] = uint8_t(v >> 24);
    b[offset + 1] = uint8_t(v >> 16);
    b[offset + 2] = uint8_t(v >> 8);
    b[offset + 3] = uint8_t(v);
}

std::vector<uint8_t> with_data(std::vector<uint8_t> header, const std::vector<uint8_t>& data) {
    set_data_segment_length(header, static_cast<uint32_t>(data.size()));
    header.insert(header.end(), data.begin(), data.end());
    while (header.size() % 4) header.push_back(0);
    return header;
}

}  // namespace

std::vector<uint8_t> text_data(const Keys& keys) {
    std::vector<uint8_t> data;
    for (const auto& [key, value] : keys) {
        std::string entry = key + "=" + value;
        data.insert(data.end(), entry.begin(), entry.end());
        data.push_back(0);
    }
    return data;
}

Keys parse_text(const std::vector<uint8_t>& data) {
    Keys keys;
    std::string current;
    for (uint8_t byte : data) {
        if (byte != 0) {
            current.push_back(static_cast<char>(byte));
            continue;
        }
        auto eq = current.find('=');
        if (eq == std::string::npos) keys.emplace_back(current, "");
        else keys.emplace_back(current.substr(0, eq), current.substr(eq + 1));
        current.clear();
    }
    return keys;
}

std::string value_of(const Keys& keys, const std::string& key) {
    for (const auto& [k, v] : keys)
        if (k == key) return v;
    return "";
}

void set_data_segment_length(std::vector<uint8_t>& pdu, uint32_t length) {
    pdu[5] = uint8_t(length >> 16);
    pdu[6] = uint8_t(length >> 8);
    pdu[7] = uint8_t(length);
}

std::vector<uint8_t> login_request(const LoginFields& f, const std::vector<uint8_t>& data) {
    std::vector<uint8_t> h(48, 0);
    h[0] = 0x40 | 0x03;  // immediate, Login Request
    h[1] = uint8_t((f.transit ? 0x80 : 0) | (f.continue_bit ? 0x40 : 0) | (f.csg << 2) | f.nsg);
    std::memcpy(&h[8], f.isid.data(), 6);
    h[14] = uint8_t(f.tsih >> 8);
    h[15] = uint8_t(f.tsih);
    put32(h, 16, f.itt);
    h[20] = uint8_t(f.cid >> 8);
    h[21] = uint8_t(f.cid);
    put32(h, 24, f.cmd_sn);
    put32(h, 28, f.exp_stat_sn);
    return with_data(h, data);
}

std::vector<uint8_t> text_request(uint32_t itt, uint32_t cmd_sn, uint32_t exp_stat_sn, const std::vector<uint8_t>& data) {
    std::vector<uint8_t> h(48, 0);
    h[0] = 0x40 | 0x04;
    h[1] = 0x80;  // F
    put32(h, 16, itt);
    put32(h, 20, 0xffffffff);  // TTT
    put32(h, 24, cmd_sn);
    put32(h, 28, exp_stat_sn);
    return with_data(h, data);
}

std::vector<uint8_t> logout_request(uint32_t itt, uint32_t cmd_sn, uint32_t exp_stat_sn) {
    std::vector<uint8_t> h(48, 0);
    h[0] = 0x40 | 0x06;
    h[1] = 0x80;  // close the session
    put32(h, 16, itt);
    put32(h, 24, cmd_sn);
    put32(h, 28, exp_stat_sn);
    return h;
}

RawClient::~RawClient() {
    if (fd_ >= 0) ::close(fd_);
}

RawClient::RawClient(RawClient&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

bool RawClient::connect(const std::string& address, uint16_t port) {
    sockaddr_storage storage{};
    socklen_t length;
    if (address.find(':') != std::string::npos) {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        if (inet_pton(AF_INET6, address.c_str(), &in6->sin6_addr) != 1) return false;
        length = sizeof *in6;
    } else {
        auto* in = reinterpret_cast<sockaddr_in*>(&storage);
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        if (inet_pton(AF_INET, address.c_str(), &in->sin_addr) != 1) return false;
        length = sizeof *in;
    }
    fd_ = ::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    return fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&storage), length) == 0;
}

bool RawClient::send(const std::vector<uint8_t>& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
        ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return false;
        sent += size_t(n);
    }
    return true;
}

void RawClient::shutdown_write() { ::shutdown(fd_, SHUT_WR); }

bool RawClient::read_exactly(uint8_t* buffer, size_t length, int timeout_ms, bool& closed) {
    closed = false;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    size_t have = 0;
    while (have < length) {
        int left = int(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
        if (left <= 0) return false;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, left) <= 0) continue;
        ssize_t n = ::recv(fd_, buffer + have, length - have, 0);
        if (n <= 0) {
            closed = true;
            return false;
        }
        have += size_t(n);
    }
    return true;
}

Answer RawClient::receive(RawPdu& pdu, int timeout_ms) {
    bool closed;
    if (!read_exactly(pdu.bhs.data(), 48, timeout_ms, closed)) return closed ? Answer::Closed : Answer::Timeout;
    uint32_t ahs = uint32_t(pdu.bhs[4]) * 4;
    uint32_t length = uint32_t(pdu.bhs[5]) << 16 | uint32_t(pdu.bhs[6]) << 8 | pdu.bhs[7];
    std::vector<uint8_t> rest(ahs + ((length + 3) & ~3u));
    if (!rest.empty() && !read_exactly(rest.data(), rest.size(), timeout_ms, closed))
        return closed ? Answer::Closed : Answer::Timeout;
    pdu.data.assign(rest.begin() + ahs, rest.begin() + ahs + length);
    return Answer::Pdu;
}

bool RawClient::closed_within(int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        int left = int(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
        if (left <= 0) return false;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, left) <= 0) continue;
        char buffer[4096];
        ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
        if (n <= 0) return true;
    }
}

Answer RawClient::login(const Keys& keys, RawPdu& response, uint8_t csg, uint8_t nsg) {
    LoginFields fields;
    fields.csg = csg;
    fields.nsg = nsg;
    Keys all = keys;
    if (csg == 0) all.emplace_back("AuthMethod", "None");
    if (!send(login_request(fields, text_data(all)))) return Answer::Closed;
    return receive(response);
}

}  // namespace iscsi::testing
