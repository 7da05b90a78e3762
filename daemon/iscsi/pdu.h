// Typed iSCSI PDUs for the login and discovery phases (RFC 7143 s.11).
//
// A PDU is a 48-byte Basic Header Segment (BHS), optional Additional Header
// Segments (AHS), and a data segment padded to a multiple of 4 bytes. The
// BHS is held as bytes and read through named, big-endian accessors: no code
// outside this file indexes into a header.
//
// Reading from a socket, the net layer does:
//   read kBhsLength bytes -> Bhs
//   check_header(bhs, limits) -> how many more bytes this PDU occupies (or an
//                                error saying what to answer)
//   read exactly that many -> Pdu::parse(bhs, rest)
// so it never reads past the PDU (the bytes after the last Login Request
// belong to the kernel's Full Feature Phase). Digests are never present here:
// they start only after login (RFC 7143 s.13.1), and discovery sessions of
// this target always negotiate None.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "iscsi/status.h"

namespace iscsi {

inline constexpr size_t kBhsLength = 48;
inline constexpr uint32_t kReservedTag = 0xffffffff;  // ITT/TTT "no tag" (RFC 7143 s.11.1)
inline constexpr uint32_t kMaxDataSegmentLength = 0xffffff;  // 24-bit field
// MaxRecvDataSegmentLength in force during login (RFC 7143 s.13.12: the
// default until the declared value takes effect after login).
inline constexpr uint32_t kLoginMaxRecvDataSegmentLength = 8192;

enum class Opcode : uint8_t {
    // Initiator opcodes (RFC 7143 s.11.1.1)
    NopOut = 0x00,
    ScsiCommand = 0x01,
    TaskManagementRequest = 0x02,
    LoginRequest = 0x03,
    TextRequest = 0x04,
    DataOut = 0x05,
    LogoutRequest = 0x06,
    SnackRequest = 0x10,
    // Target opcodes
    NopIn = 0x20,
    ScsiResponse = 0x21,
    TaskManagementResponse = 0x22,
    LoginResponse = 0x23,
    TextResponse = 0x24,
    DataIn = 0x25,
    LogoutResponse = 0x26,
    ReadyToTransfer = 0x31,
    AsyncMessage = 0x32,
    Reject = 0x3f,
};
const char* to_string(Opcode opcode);
// Whether the 6-bit value names an opcode RFC 7143 defines (vendor-specific
// 0x1c-0x1e and 0x3c-0x3e and the reserved values are not).
bool is_defined_opcode(uint8_t value);
// Whether an initiator may send it (the target opcodes are not).
bool is_initiator_opcode(uint8_t value);

// Login stages, the CSG/NSG fields (RFC 7143 s.11.12.3).
enum class Stage : uint8_t {
    SecurityNegotiation = 0,
    LoginOperationalNegotiation = 1,
    Reserved = 2,
    FullFeaturePhase = 3,
};
const char* to_string(Stage stage);

// The generic Basic Header Segment (RFC 7143 s.11.2.1).
class Bhs {
public:
    Bhs() = default;
    explicit Bhs(std::span<const uint8_t, kBhsLength> bytes);
    // The first kBhsLength bytes; nothing if there are fewer.
    static std::optional<Bhs> from_bytes(std::span<const uint8_t> bytes);

    const std::array<uint8_t, kBhsLength>& bytes() const { return bytes_; }

    uint8_t raw_opcode() const { return bytes_[0] & 0x3f; }
    // Only meaningful when is_defined_opcode(raw_opcode()).
    Opcode opcode() const { return static_cast<Opcode>(raw_opcode()); }
    void set_opcode(Opcode opcode);
    bool immediate() const { return (bytes_[0] & 0x40) != 0; }
    void set_immediate(bool on);
    // The F bit (byte 1, bit 7); for Login PDUs the same bit is T (transit).
    bool final_bit() const { return (bytes_[1] & 0x80) != 0; }
    void set_final_bit(bool on);
    // In 4-byte words (RFC 7143 s.11.2.1.2).
    uint8_t total_ahs_length() const { return bytes_[4]; }
    void set_total_ahs_length(uint8_t words) { bytes_[4] = words; }
    uint32_t data_segment_length() const { return get24(5); }
    void set_data_segment_length(uint32_t length);  // truncated to 24 bits
    uint64_t lun() const { return get64(8); }
    void set_lun(uint64_t lun) { set64(8, lun); }
    uint32_t initiator_task_tag() const { return get32(16); }
    void set_initiator_task_tag(uint32_t itt) { set32(16, itt); }

protected:
    uint16_t get16(size_t offset) const;
    uint32_t get24(size_t offset) const;
    uint32_t get32(size_t offset) const;
    uint64_t get64(size_t offset) const;
    void set16(size_t offset, uint16_t value);
    void set24(size_t offset, uint32_t value);
    void set32(size_t offset, uint32_t value);
    void set64(size_t offset, uint64_t value);

    std::array<uint8_t, kBhsLength> bytes_{};
};

using Isid = std::array<uint8_t, 6>;

// Login Request (RFC 7143 s.11.12).
class LoginRequestHeader : public Bhs {
public:
    LoginRequestHeader() { set_opcode(Opcode::LoginRequest); set_immediate(true); }
    explicit LoginRequestHeader(const Bhs& bhs) : Bhs(bhs) {}
    bool transit() const { return final_bit(); }
    void set_transit(bool on) { set_final_bit(on); }
    bool continue_bit() const { return (bytes_[1] & 0x40) != 0; }
    void set_continue_bit(bool on);
    uint8_t csg() const { return (bytes_[1] >> 2) & 0x3; }
    uint8_t nsg() const { return bytes_[1] & 0x3; }
    void set_csg(Stage stage);
    void set_nsg(Stage stage);
    uint8_t version_max() const { return bytes_[2]; }
    uint8_t version_min() const { return bytes_[3]; }
    void set_version_max(uint8_t v) { bytes_[2] = v; }
    void set_version_min(uint8_t v) { bytes_[3] = v; }
    Isid isid() const;
    void set_isid(const Isid& isid);
    uint16_t tsih() const { return get16(14); }
    void set_tsih(uint16_t tsih) { set16(14, tsih); }
    uint16_t cid() const { return get16(20); }
    void set_cid(uint16_t cid) { set16(20, cid); }
    uint32_t cmd_sn() const { return get32(24); }
    void set_cmd_sn(uint32_t sn) { set32(24, sn); }
    uint32_t exp_stat_sn() const { return get32(28); }
    void set_exp_stat_sn(uint32_t sn) { set32(28, sn); }
};

// Login Response (RFC 7143 s.11.13).
class LoginResponseHeader : public Bhs {
public:
    LoginResponseHeader() { set_opcode(Opcode::LoginResponse); }
    explicit LoginResponseHeader(const Bhs& bhs) : Bhs(bhs) {}
    bool transit() const { return final_bit(); }
    void set_transit(bool on) { set_final_bit(on); }
    bool continue_bit() const { return (bytes_[1] & 0x40) != 0; }
    void set_continue_bit(bool on);
    uint8_t csg() const { return (bytes_[1] >> 2) & 0x3; }
    uint8_t nsg() const { return bytes_[1] & 0x3; }
    void set_csg(Stage stage);
    void set_nsg(Stage stage);
    uint8_t version_max() const { return bytes_[2]; }
    uint8_t version_active() const { return bytes_[3]; }
    void set_version_max(uint8_t v) { bytes_[2] = v; }
    void set_version_active(uint8_t v) { bytes_[3] = v; }
    Isid isid() const;
    void set_isid(const Isid& isid);
    uint16_t tsih() const { return get16(14); }
    void set_tsih(uint16_t tsih) { set16(14, tsih); }
    uint32_t stat_sn() const { return get32(24); }
    void set_stat_sn(uint32_t sn) { set32(24, sn); }
    uint32_t exp_cmd_sn() const { return get32(28); }
    void set_exp_cmd_sn(uint32_t sn) { set32(28, sn); }
    uint32_t max_cmd_sn() const { return get32(32); }
    void set_max_cmd_sn(uint32_t sn) { set32(32, sn); }
    LoginStatus status() const { return static_cast<LoginStatus>(get16(36)); }
    void set_status(LoginStatus status) { set16(36, static_cast<uint16_t>(status)); }
};

// Text Request (RFC 7143 s.11.10).
class TextRequestHeader : public Bhs {
public:
    TextRequestHeader() { set_opcode(Opcode::TextRequest); }
    explicit TextRequestHeader(const Bhs& bhs) : Bhs(bhs) {}
    bool continue_bit() const { return (bytes_[1] & 0x40) != 0; }
    void set_continue_bit(bool on);
    uint32_t target_transfer_tag() const { return get32(20); }
    void set_target_transfer_tag(uint32_t ttt) { set32(20, ttt); }
    uint32_t cmd_sn() const { return get32(24); }
    void set_cmd_sn(uint32_t sn) { set32(24, sn); }
    uint32_t exp_stat_sn() const { return get32(28); }
    void set_exp_stat_sn(uint32_t sn) { set32(28, sn); }
};

// Text Response (RFC 7143 s.11.11).
class TextResponseHeader : public Bhs {
public:
    TextResponseHeader() { set_opcode(Opcode::TextResponse); }
    explicit TextResponseHeader(const Bhs& bhs) : Bhs(bhs) {}
    bool continue_bit() const { return (bytes_[1] & 0x40) != 0; }
    void set_continue_bit(bool on);
    uint32_t target_transfer_tag() const { return get32(20); }
    void set_target_transfer_tag(uint32_t ttt) { set32(20, ttt); }
    uint32_t stat_sn() const { return get32(24); }
    void set_stat_sn(uint32_t sn) { set32(24, sn); }
    uint32_t exp_cmd_sn() const { return get32(28); }
    void set_exp_cmd_sn(uint32_t sn) { set32(28, sn); }
    uint32_t max_cmd_sn() const { return get32(32); }
    void set_max_cmd_sn(uint32_t sn) { set32(32, sn); }
};

// Logout Request (RFC 7143 s.11.14).
class LogoutRequestHeader : public Bhs {
public:
    LogoutRequestHeader() { set_opcode(Opcode::LogoutRequest); set_final_bit(true); }
    explicit LogoutRequestHeader(const Bhs& bhs) : Bhs(bhs) {}
    uint8_t raw_reason() const { return bytes_[1] & 0x7f; }
    void set_reason(LogoutReason reason);
    uint16_t cid() const { return get16(20); }
    void set_cid(uint16_t cid) { set16(20, cid); }
    uint32_t cmd_sn() const { return get32(24); }
    void set_cmd_sn(uint32_t sn) { set32(24, sn); }
    uint32_t exp_stat_sn() const { return get32(28); }
    void set_exp_stat_sn(uint32_t sn) { set32(28, sn); }
};

// Logout Response (RFC 7143 s.11.15).
class LogoutResponseHeader : public Bhs {
public:
    LogoutResponseHeader() { set_opcode(Opcode::LogoutResponse); set_final_bit(true); }
    explicit LogoutResponseHeader(const Bhs& bhs) : Bhs(bhs) {}
    LogoutResponseCode response() const { return static_cast<LogoutResponseCode>(bytes_[2]); }
    void set_response(LogoutResponseCode code) { bytes_[2] = static_cast<uint8_t>(code); }
    uint32_t stat_sn() const { return get32(24); }
    void set_stat_sn(uint32_t sn) { set32(24, sn); }
    uint32_t exp_cmd_sn() const { return get32(28); }
    void set_exp_cmd_sn(uint32_t sn) { set32(28, sn); }
    uint32_t max_cmd_sn() const { return get32(32); }
    void set_max_cmd_sn(uint32_t sn) { set32(32, sn); }
    uint16_t time2wait() const { return get16(40); }
    void set_time2wait(uint16_t seconds) { set16(40, seconds); }
    uint16_t time2retain() const { return get16(42); }
    void set_time2retain(uint16_t seconds) { set16(42, seconds); }
};

// NOP-Out (RFC 7143 s.11.18).
class NopOutHeader : public Bhs {
public:
    NopOutHeader() { set_opcode(Opcode::NopOut); set_final_bit(true); }
    explicit NopOutHeader(const Bhs& bhs) : Bhs(bhs) {}
    uint32_t target_transfer_tag() const { return get32(20); }
    void set_target_transfer_tag(uint32_t ttt) { set32(20, ttt); }
    uint32_t cmd_sn() const { return get32(24); }
    void set_cmd_sn(uint32_t sn) { set32(24, sn); }
    uint32_t exp_stat_sn() const { return get32(28); }
    void set_exp_stat_sn(uint32_t sn) { set32(28, sn); }
};

// NOP-In (RFC 7143 s.11.19).
class NopInHeader : public Bhs {
public:
    NopInHeader() { set_opcode(Opcode::NopIn); set_final_bit(true); }
    explicit NopInHeader(const Bhs& bhs) : Bhs(bhs) {}
    uint32_t target_transfer_tag() const { return get32(20); }
    void set_target_transfer_tag(uint32_t ttt) { set32(20, ttt); }
    uint32_t stat_sn() const { return get32(24); }
    void set_stat_sn(uint32_t sn) { set32(24, sn); }
    uint32_t exp_cmd_sn() const { return get32(28); }
    void set_exp_cmd_sn(uint32_t sn) { set32(28, sn); }
    uint32_t max_cmd_sn() const { return get32(32); }
    void set_max_cmd_sn(uint32_t sn) { set32(32, sn); }
};

// Reject (RFC 7143 s.11.17); its data segment is the rejected PDU's header.
class RejectHeader : public Bhs {
public:
    RejectHeader() {
        set_opcode(Opcode::Reject);
        set_final_bit(true);
        set_initiator_task_tag(kReservedTag);
    }
    explicit RejectHeader(const Bhs& bhs) : Bhs(bhs) {}
    uint8_t raw_reason() const { return bytes_[2]; }
    RejectReason reason() const { return static_cast<RejectReason>(bytes_[2]); }
    void set_reason(RejectReason reason) { bytes_[2] = static_cast<uint8_t>(reason); }
    uint32_t stat_sn() const { return get32(24); }
    void set_stat_sn(uint32_t sn) { set32(24, sn); }
    uint32_t exp_cmd_sn() const { return get32(28); }
    void set_exp_cmd_sn(uint32_t sn) { set32(28, sn); }
    uint32_t max_cmd_sn() const { return get32(32); }
    void set_max_cmd_sn(uint32_t sn) { set32(32, sn); }
    uint32_t data_sn() const { return get32(36); }
    void set_data_sn(uint32_t sn) { set32(36, sn); }
};

// Asynchronous Message (RFC 7143 s.11.9).
class AsyncMessageHeader : public Bhs {
public:
    AsyncMessageHeader() {
        set_opcode(Opcode::AsyncMessage);
        set_final_bit(true);
        set_initiator_task_tag(kReservedTag);
    }
    explicit AsyncMessageHeader(const Bhs& bhs) : Bhs(bhs) {}
    uint32_t stat_sn() const { return get32(24); }
    void set_stat_sn(uint32_t sn) { set32(24, sn); }
    uint32_t exp_cmd_sn() const { return get32(28); }
    void set_exp_cmd_sn(uint32_t sn) { set32(28, sn); }
    uint32_t max_cmd_sn() const { return get32(32); }
    void set_max_cmd_sn(uint32_t sn) { set32(32, sn); }
    AsyncEvent event() const { return static_cast<AsyncEvent>(bytes_[36]); }
    void set_event(AsyncEvent event) { bytes_[36] = static_cast<uint8_t>(event); }
    uint8_t vendor_code() const { return bytes_[37]; }
    void set_vendor_code(uint8_t code) { bytes_[37] = code; }
    uint16_t parameter1() const { return get16(38); }
    void set_parameter1(uint16_t v) { set16(38, v); }
    uint16_t parameter2() const { return get16(40); }
    void set_parameter2(uint16_t v) { set16(40, v); }
    uint16_t parameter3() const { return get16(42); }
    void set_parameter3(uint16_t v) { set16(42, v); }
};

// One whole PDU. ahs and data hold the segments without padding.
struct Pdu {
    Bhs bhs;
    std::vector<uint8_t> ahs;
    std::vector<uint8_t> data;

    // Splits the bytes that follow a header (exactly remaining_length(bhs)
    // of them) into AHS and data, dropping the padding.
    static tl::expected<Pdu, std::string> parse(const Bhs& bhs, std::span<const uint8_t> rest);
    // Header and rest in one buffer.
    static tl::expected<Pdu, std::string> parse(std::span<const uint8_t> whole);

    // Wire form: BHS (with TotalAHSLength and DataSegmentLength set from the
    // segments), AHS, data, zero padding to a multiple of 4.
    std::vector<uint8_t> serialize() const;
};

constexpr uint32_t padded_length(uint32_t length) { return (length + 3u) & ~3u; }

// How many bytes follow this header on the wire: AHS + data + padding.
// No digests: see the file comment.
uint32_t remaining_length(const Bhs& bhs);

// What the receiver must do about a header it cannot accept.
struct PduError {
    enum class Kind {
        UndefinedOpcode,      // reserved or vendor-specific opcode
        TargetOpcode,         // an opcode only a target sends
        DataSegmentTooLong,   // beyond the receiver's MaxRecvDataSegmentLength
    } kind = Kind::UndefinedOpcode;
    // Reject the PDU and go on, or give up on the connection. Where the
    // header is too long to be read safely the connection must close: the
    // answer is sent first (RFC 7143 s.7.2, s.11.17.1).
    enum class Action { Reject, Close } action = Action::Reject;
    RejectReason reject_reason = RejectReason::ProtocolError;
    std::string message;
};
const char* to_string(PduError::Kind kind);

struct HeaderLimits {
    uint32_t max_recv_data_segment_length = kLoginMaxRecvDataSegmentLength;
};

// Checks a header from an initiator before reading the rest of the PDU.
tl::expected<void, PduError> check_header(const Bhs& bhs, const HeaderLimits& limits);

// Builds a Reject PDU for a rejected header (its data is that header).
Pdu make_reject(const Bhs& rejected, RejectReason reason, uint32_t stat_sn, uint32_t exp_cmd_sn,
                uint32_t max_cmd_sn);

}  // namespace iscsi
