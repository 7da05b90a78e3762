// A raw iSCSI client for tests: builds PDUs byte by byte (independently of
// the daemon's own codec, so that a shared mistake cannot hide) and reads
// whatever the target answers.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace iscsi::testing {

using Keys = std::vector<std::pair<std::string, std::string>>;

// "key=value\0" for each pair.
std::vector<uint8_t> text_data(const Keys& keys);
// Parses "key=value\0..." (entries without '=' are kept with an empty value).
Keys parse_text(const std::vector<uint8_t>& data);
std::string value_of(const Keys& keys, const std::string& key);

struct RawPdu {
    std::array<uint8_t, 48> bhs{};
    std::vector<uint8_t> data;

    uint8_t opcode() const { return bhs[0] & 0x3f; }
    // Login Response (RFC 7143 s.11.13)
    uint8_t status_class() const { return bhs[36]; }
    uint8_t status_detail() const { return bhs[37]; }
    uint16_t status() const { return static_cast<uint16_t>(bhs[36] << 8 | bhs[37]); }
    uint16_t tsih() const { return static_cast<uint16_t>(bhs[14] << 8 | bhs[15]); }
    bool transit() const { return bhs[1] & 0x80; }
    uint8_t nsg() const { return bhs[1] & 3; }
    uint32_t stat_sn() const { return be32(24); }
    // Reject (s.11.17)
    uint8_t reject_reason() const { return bhs[2]; }
    uint32_t be32(size_t offset) const {
        return uint32_t(bhs[offset]) << 24 | uint32_t(bhs[offset + 1]) << 16 | uint32_t(bhs[offset + 2]) << 8 |
               bhs[offset + 3];
    }
};

struct LoginFields {
    bool transit = true;
    bool continue_bit = false;
    uint8_t csg = 0;
    uint8_t nsg = 1;
    std::array<uint8_t, 6> isid{0x80, 0x12, 0x34, 0x56, 0x00, 0x01};
    uint16_t tsih = 0;
    uint32_t itt = 1;
    uint16_t cid = 1;
    uint32_t cmd_sn = 1;
    uint32_t exp_stat_sn = 0;
};
std::vector<uint8_t> login_request(const LoginFields& fields, const std::vector<uint8_t>& data);
std::vector<uint8_t> text_request(uint32_t itt, uint32_t cmd_sn, uint32_t exp_stat_sn, const std::vector<uint8_t>& data);
std::vector<uint8_t> logout_request(uint32_t itt, uint32_t cmd_sn, uint32_t exp_stat_sn);
// Sets the 24-bit DataSegmentLength of a built PDU (to lie about it).
void set_data_segment_length(std::vector<uint8_t>& pdu, uint32_t length);

enum class Answer { Pdu, Closed, Timeout };

class RawClient {
public:
    RawClient() = default;
    ~RawClient();
    RawClient(RawClient&& other) noexcept;
    RawClient& operator=(RawClient&&) = delete;

    bool connect(const std::string& address, uint16_t port);
    bool send(const std::vector<uint8_t>& bytes);
    void shutdown_write();
    // Reads one PDU (header and padded data segment).
    Answer receive(RawPdu& pdu, int timeout_ms = 3000);
    // Whether the target closed the connection within the timeout (reading
    // and dropping anything it still sends).
    bool closed_within(int timeout_ms);

    // A whole login: security stage (AuthMethod=None) straight to the given
    // final stage. Returns the last Login Response.
    Answer login(const Keys& keys, RawPdu& response, uint8_t csg = 0, uint8_t nsg = 3);

private:
    bool read_exactly(uint8_t* buffer, size_t length, int timeout_ms, bool& closed);
    int fd_ = -1;
};

}  // namespace iscsi::testing
