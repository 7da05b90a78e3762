// Named status values of the login and discovery phases (RFC 7143).
//
// Every number that goes on the wire as a status, a reason or an event code
// has a name here, so that no code elsewhere writes 0x0202 or 0x04.
#pragma once

#include <cstdint>

namespace iscsi {

// Login Response Status-Class (RFC 7143 s.11.13.5).
enum class StatusClass : uint8_t {
    Success = 0x00,
    Redirection = 0x01,
    InitiatorError = 0x02,
    TargetError = 0x03,
};
const char* to_string(StatusClass status_class);

// Login Response Status-Class and Status-Detail as one 16-bit value,
// class in the high byte (RFC 7143 s.11.13.5).
enum class LoginStatus : uint16_t {
    Success = 0x0000,
    TargetMovedTemporarily = 0x0101,
    TargetMovedPermanently = 0x0102,
    InitiatorError = 0x0200,
    AuthenticationFailure = 0x0201,
    AuthorizationFailure = 0x0202,
    NotFound = 0x0203,
    TargetRemoved = 0x0204,
    UnsupportedVersion = 0x0205,
    TooManyConnections = 0x0206,
    MissingParameter = 0x0207,
    CantIncludeInSession = 0x0208,
    SessionTypeNotSupported = 0x0209,
    SessionDoesNotExist = 0x020a,
    InvalidDuringLogin = 0x020b,
    TargetError = 0x0300,
    ServiceUnavailable = 0x0301,
    OutOfResources = 0x0302,
};
const char* to_string(LoginStatus status);
constexpr StatusClass status_class(LoginStatus status) {
    return static_cast<StatusClass>(static_cast<uint16_t>(status) >> 8);
}
constexpr uint8_t status_detail(LoginStatus status) {
    return static_cast<uint8_t>(static_cast<uint16_t>(status) & 0xff);
}

// Reject PDU reason codes (RFC 7143 s.11.17.1).
enum class RejectReason : uint8_t {
    DataDigestError = 0x02,
    SnackReject = 0x03,
    ProtocolError = 0x04,
    CommandNotSupported = 0x05,
    ImmediateCommandReject = 0x06,
    TaskInProgress = 0x07,
    InvalidDataAck = 0x08,
    InvalidPduField = 0x09,
    LongOperationReject = 0x0a,  // "out of resources" in RFC 3720
    NegotiationReset = 0x0b,     // deprecated by RFC 7143, kept to name it
    WaitingForLogout = 0x0c,
};
const char* to_string(RejectReason reason);

// Logout Request reason codes (RFC 7143 s.11.14.1).
enum class LogoutReason : uint8_t {
    CloseSession = 0,
    CloseConnection = 1,
    RemoveConnectionForRecovery = 2,
};
const char* to_string(LogoutReason reason);

// Logout Response codes (RFC 7143 s.11.15.1).
enum class LogoutResponseCode : uint8_t {
    Success = 0,
    CidNotFound = 1,
    ConnectionRecoveryNotSupported = 2,
    CleanupFailed = 3,
};
const char* to_string(LogoutResponseCode code);

// Asynchronous Message event codes (RFC 7143 s.11.9.1).
enum class AsyncEvent : uint8_t {
    ScsiAsyncEvent = 0,
    LogoutRequest = 1,
    ConnectionDropped = 2,
    SessionDropped = 3,
    NegotiationRequest = 4,
    TaskTermination = 5,
    VendorSpecific = 255,
};
const char* to_string(AsyncEvent event);

}  // namespace iscsi
