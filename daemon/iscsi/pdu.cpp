#include "iscsi/pdu.h"

#include <algorithm>

namespace iscsi {

const char* to_string(Opcode opcode) {
    switch (opcode) {
        case Opcode::NopOut: return "NOP-Out";
        case Opcode::ScsiCommand: return "SCSI Command";
        case Opcode::TaskManagementRequest: return "Task Management Function Request";
        case Opcode::LoginRequest: return "Login Request";
        case Opcode::TextRequest: return "Text Request";
        case Opcode::DataOut: return "SCSI Data-Out";
        case Opcode::LogoutRequest: return "Logout Request";
        case Opcode::SnackRequest: return "SNACK Request";
        case Opcode::NopIn: return "NOP-In";
        case Opcode::ScsiResponse: return "SCSI Response";
        case Opcode::TaskManagementResponse: return "Task Management Function Response";
        case Opcode::LoginResponse: return "Login Response";
        case Opcode::TextResponse: return "Text Response";
        case Opcode::DataIn: return "SCSI Data-In";
        case Opcode::LogoutResponse: return "Logout Response";
        case Opcode::ReadyToTransfer: return "Ready To Transfer (R2T)";
        case Opcode::AsyncMessage: return "Asynchronous Message";
        case Opcode::Reject: return "Reject";
    }
    return "undefined opcode";
}

bool is_initiator_opcode(uint8_t value) {
    return value <= 0x06 || value == 0x10;
}

bool is_defined_opcode(uint8_t value) {
    if (is_initiator_opcode(value)) return true;
    return (value >= 0x20 && value <= 0x26) || value == 0x31 || value == 0x32 || value == 0x3f;
}

const char* to_string(Stage stage) {
    switch (stage) {
        case Stage::SecurityNegotiation: return "SecurityNegotiation";
        case Stage::LoginOperationalNegotiation: return "LoginOperationalNegotiation";
        case Stage::Reserved: return "Reserved";
        case Stage::FullFeaturePhase: return "FullFeaturePhase";
    }
    return "invalid stage";
}

Bhs::Bhs(std::span<const uint8_t, kBhsLength> bytes) {
    std::copy(bytes.begin(), bytes.end(), bytes_.begin());
}

std::optional<Bhs> Bhs::from_bytes(std::span<const uint8_t> bytes) {
    if (bytes.size() < kBhsLength) return std::nullopt;
    return Bhs(bytes.first<kBhsLength>());
}

void Bhs::set_opcode(Opcode opcode) {
    bytes_[0] = static_cast<uint8_t>((bytes_[0] & 0xc0) | (static_cast<uint8_t>(opcode) & 0x3f));
}

void Bhs::set_immediate(bool on) {
    bytes_[0] = static_cast<uint8_t>(on ? (bytes_[0] | 0x40) : (bytes_[0] & ~0x40));
}

void Bhs::set_final_bit(bool on) {
    bytes_[1] = static_cast<uint8_t>(on ? (bytes_[1] | 0x80) : (bytes_[1] & ~0x80));
}

void Bhs::set_data_segment_length(uint32_t length) { set24(5, length & kMaxDataSegmentLength); }

uint16_t Bhs::get16(size_t o) const {
    return static_cast<uint16_t>((bytes_[o] << 8) | bytes_[o + 1]);
}
uint32_t Bhs::get24(size_t o) const {
    return (uint32_t{bytes_[o]} << 16) | (uint32_t{bytes_[o + 1]} << 8) | bytes_[o + 2];
}
uint32_t Bhs::get32(size_t o) const {
    return (uint32_t{bytes_[o]} << 24) | (uint32_t{bytes_[o + 1]} << 16) |
           (uint32_t{bytes_[o + 2]} << 8) | bytes_[o + 3];
}
uint64_t Bhs::get64(size_t o) const {
    return (uint64_t{get32(o)} << 32) | get32(o + 4);
}
void Bhs::set16(size_t o, uint16_t v) {
    bytes_[o] = static_cast<uint8_t>(v >> 8);
    bytes_[o + 1] = static_cast<uint8_t>(v);
}
void Bhs::set24(size_t o, uint32_t v) {
    bytes_[o] = static_cast<uint8_t>(v >> 16);
    bytes_[o + 1] = static_cast<uint8_t>(v >> 8);
    bytes_[o + 2] = static_cast<uint8_t>(v);
}
void Bhs::set32(size_t o, uint32_t v) {
    set16(o, static_cast<uint16_t>(v >> 16));
    set16(o + 2, static_cast<uint16_t>(v));
}
void Bhs::set64(size_t o, uint64_t v) {
    set32(o, static_cast<uint32_t>(v >> 32));
    set32(o + 4, static_cast<uint32_t>(v));
}

namespace {
uint8_t with_bit(uint8_t byte, uint8_t mask, bool on) {
    return static_cast<uint8_t>(on ? (byte | mask) : (byte & ~mask));
}
uint8_t with_csg(uint8_t byte, Stage stage) {
    return static_cast<uint8_t>((byte & ~0x0c) | ((static_cast<uint8_t>(stage) & 0x3) << 2));
}
uint8_t with_nsg(uint8_t byte, Stage stage) {
    return static_cast<uint8_t>((byte & ~0x03) | (static_cast<uint8_t>(stage) & 0x3));
}
}  // namespace

void LoginRequestHeader::set_continue_bit(bool on) { bytes_[1] = with_bit(bytes_[1], 0x40, on); }
void LoginRequestHeader::set_csg(Stage stage) { bytes_[1] = with_csg(bytes_[1], stage); }
void LoginRequestHeader::set_nsg(Stage stage) { bytes_[1] = with_nsg(bytes_[1], stage); }
Isid LoginRequestHeader::isid() const {
    Isid isid;
    std::copy(bytes_.begin() + 8, bytes_.begin() + 14, isid.begin());
    return isid;
}
void LoginRequestHeader::set_isid(const Isid& isid) {
    std::copy(isid.begin(), isid.end(), bytes_.begin() + 8);
}

void LoginResponseHeader::set_continue_bit(bool on) { bytes_[1] = with_bit(bytes_[1], 0x40, on); }
void LoginResponseHeader::set_csg(Stage stage) { bytes_[1] = with_csg(bytes_[1], stage); }
void LoginResponseHeader::set_nsg(Stage stage) { bytes_[1] = with_nsg(bytes_[1], stage); }
Isid LoginResponseHeader::isid() const {
    Isid isid;
    std::copy(bytes_.begin() + 8, bytes_.begin() + 14, isid.begin());
    return isid;
}
void LoginResponseHeader::set_isid(const Isid& isid) {
    std::copy(isid.begin(), isid.end(), bytes_.begin() + 8);
}

void TextRequestHeader::set_continue_bit(bool on) { bytes_[1] = with_bit(bytes_[1], 0x40, on); }
void TextResponseHeader::set_continue_bit(bool on) { bytes_[1] = with_bit(bytes_[1], 0x40, on); }

void LogoutRequestHeader::set_reason(LogoutReason reason) {
    bytes_[1] = static_cast<uint8_t>(0x80 | (static_cast<uint8_t>(reason) & 0x7f));
}

uint32_t remaining_length(const Bhs& bhs) {
    return uint32_t{bhs.total_ahs_length()} * 4 + padded_length(bhs.data_segment_length());
}

tl::expected<Pdu, std::string> Pdu::parse(const Bhs& bhs, std::span<const uint8_t> rest) {
    const uint32_t expected = remaining_length(bhs);
    if (rest.size() != expected) {
        return tl::make_unexpected("PDU body is " + std::to_string(rest.size()) + " bytes, header says " +
                                   std::to_string(expected));
    }
    Pdu pdu;
    pdu.bhs = bhs;
    const size_t ahs_length = size_t{bhs.total_ahs_length()} * 4;
    pdu.ahs.assign(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(ahs_length));
    const auto data = rest.subspan(ahs_length, bhs.data_segment_length());
    pdu.data.assign(data.begin(), data.end());
    return pdu;
}

tl::expected<Pdu, std::string> Pdu::parse(std::span<const uint8_t> whole) {
    auto bhs = Bhs::from_bytes(whole);
    if (!bhs) return tl::make_unexpected("truncated header: " + std::to_string(whole.size()) + " of 48 bytes");
    return parse(*bhs, whole.subspan(kBhsLength));
}

std::vector<uint8_t> Pdu::serialize() const {
    Bhs header = bhs;
    // Ahs is whole words by construction of its producers; pad defensively.
    const uint32_t ahs_words = static_cast<uint32_t>(padded_length(static_cast<uint32_t>(ahs.size())) / 4);
    header.set_total_ahs_length(static_cast<uint8_t>(std::min<uint32_t>(ahs_words, 255)));
    header.set_data_segment_length(static_cast<uint32_t>(data.size()));
    std::vector<uint8_t> out;
    out.reserve(kBhsLength + ahs_words * 4 + padded_length(static_cast<uint32_t>(data.size())));
    out.insert(out.end(), header.bytes().begin(), header.bytes().end());
    out.insert(out.end(), ahs.begin(), ahs.end());
    out.resize(kBhsLength + size_t{header.total_ahs_length()} * 4, 0);
    out.insert(out.end(), data.begin(), data.end());
    out.resize(out.size() + (padded_length(static_cast<uint32_t>(data.size())) - data.size()), 0);
    return out;
}

const char* to_string(PduError::Kind kind) {
    switch (kind) {
        case PduError::Kind::UndefinedOpcode: return "undefined opcode";
        case PduError::Kind::TargetOpcode: return "target opcode from an initiator";
        case PduError::Kind::DataSegmentTooLong: return "data segment too long";
    }
    return "unknown PDU error";
}

tl::expected<void, PduError> check_header(const Bhs& bhs, const HeaderLimits& limits) {
    const uint8_t raw = bhs.raw_opcode();
    if (!is_defined_opcode(raw)) {
        // RFC 7143 s.11.17.1: an unsupported opcode is rejected with "Command
        // not supported"; its length fields are still trustworthy enough to
        // skip the PDU only if they are within limits, so that is checked too.
        PduError error{PduError::Kind::UndefinedOpcode, PduError::Action::Reject,
                       RejectReason::CommandNotSupported,
                       "opcode 0x" + std::string(1, "0123456789abcdef"[raw >> 4]) +
                           std::string(1, "0123456789abcdef"[raw & 0xf]) + " is reserved or vendor-specific"};
        if (bhs.data_segment_length() > limits.max_recv_data_segment_length) error.action = PduError::Action::Close;
        return tl::make_unexpected(error);
    }
    if (!is_initiator_opcode(raw)) {
        PduError error{PduError::Kind::TargetOpcode, PduError::Action::Reject, RejectReason::ProtocolError,
                       std::string(to_string(bhs.opcode())) + " is a target opcode"};
        if (bhs.data_segment_length() > limits.max_recv_data_segment_length) error.action = PduError::Action::Close;
        return tl::make_unexpected(error);
    }
    if (bhs.data_segment_length() > limits.max_recv_data_segment_length) {
        // The data cannot be read into a bounded buffer, so the stream cannot
        // be resynchronised: answer and close (RFC 7143 s.7.2 protocol error).
        return tl::make_unexpected(PduError{
            PduError::Kind::DataSegmentTooLong, PduError::Action::Close, RejectReason::ProtocolError,
            "DataSegmentLength " + std::to_string(bhs.data_segment_length()) +
                " exceeds MaxRecvDataSegmentLength " + std::to_string(limits.max_recv_data_segment_length)});
    }
    // AHS are allowed by the framing and skipped by Pdu::parse: nothing in
    // the login or discovery phases defines one (RFC 7143 s.11.2.2).
    return {};
}

Pdu make_reject(const Bhs& rejected, RejectReason reason, uint32_t stat_sn, uint32_t exp_cmd_sn,
                uint32_t max_cmd_sn) {
    RejectHeader header;
    header.set_reason(reason);
    header.set_stat_sn(stat_sn);
    header.set_exp_cmd_sn(exp_cmd_sn);
    header.set_max_cmd_sn(max_cmd_sn);
    Pdu pdu;
    pdu.bhs = header;
    pdu.data.assign(rejected.bytes().begin(), rejected.bytes().end());
    return pdu;
}

}  // namespace iscsi
