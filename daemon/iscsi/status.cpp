#include "iscsi/status.h"

namespace iscsi {

const char* to_string(StatusClass status_class) {
    switch (status_class) {
        case StatusClass::Success: return "Success";
        case StatusClass::Redirection: return "Redirection";
        case StatusClass::InitiatorError: return "Initiator Error";
        case StatusClass::TargetError: return "Target Error";
    }
    return "Unknown status class";
}

const char* to_string(LoginStatus status) {
    switch (status) {
        case LoginStatus::Success: return "Success";
        case LoginStatus::TargetMovedTemporarily: return "Target moved temporarily";
        case LoginStatus::TargetMovedPermanently: return "Target moved permanently";
        case LoginStatus::InitiatorError: return "Initiator error";
        case LoginStatus::AuthenticationFailure: return "Authentication failure";
        case LoginStatus::AuthorizationFailure: return "Authorization failure";
        case LoginStatus::NotFound: return "Not found";
        case LoginStatus::TargetRemoved: return "Target removed";
        case LoginStatus::UnsupportedVersion: return "Unsupported version";
        case LoginStatus::TooManyConnections: return "Too many connections";
        case LoginStatus::MissingParameter: return "Missing parameter";
        case LoginStatus::CantIncludeInSession: return "Can't include in session";
        case LoginStatus::SessionTypeNotSupported: return "Session type not supported";
        case LoginStatus::SessionDoesNotExist: return "Session does not exist";
        case LoginStatus::InvalidDuringLogin: return "Invalid request during login";
        case LoginStatus::TargetError: return "Target error";
        case LoginStatus::ServiceUnavailable: return "Service unavailable";
        case LoginStatus::OutOfResources: return "Out of resources";
    }
    return "Unknown login status";
}

const char* to_string(RejectReason reason) {
    switch (reason) {
        case RejectReason::DataDigestError: return "Data (payload) digest error";
        case RejectReason::SnackReject: return "SNACK Reject";
        case RejectReason::ProtocolError: return "Protocol Error";
        case RejectReason::CommandNotSupported: return "Command not supported";
        case RejectReason::ImmediateCommandReject: return "Immediate command reject";
        case RejectReason::TaskInProgress: return "Task in progress";
        case RejectReason::InvalidDataAck: return "Invalid data ack";
        case RejectReason::InvalidPduField: return "Invalid PDU field";
        case RejectReason::LongOperationReject: return "Long operation reject";
        case RejectReason::NegotiationReset: return "Deprecated (negotiation reset)";
        case RejectReason::WaitingForLogout: return "Waiting for Logout";
    }
    return "Unknown reject reason";
}

const char* to_string(LogoutReason reason) {
    switch (reason) {
        case LogoutReason::CloseSession: return "close the session";
        case LogoutReason::CloseConnection: return "close the connection";
        case LogoutReason::RemoveConnectionForRecovery: return "remove the connection for recovery";
    }
    return "unknown logout reason";
}

const char* to_string(LogoutResponseCode code) {
    switch (code) {
        case LogoutResponseCode::Success: return "connection or session closed successfully";
        case LogoutResponseCode::CidNotFound: return "CID not found";
        case LogoutResponseCode::ConnectionRecoveryNotSupported: return "connection recovery is not supported";
        case LogoutResponseCode::CleanupFailed: return "cleanup failed for various reasons";
    }
    return "unknown logout response";
}

const char* to_string(AsyncEvent event) {
    switch (event) {
        case AsyncEvent::ScsiAsyncEvent: return "SCSI asynchronous event";
        case AsyncEvent::LogoutRequest: return "logout request";
        case AsyncEvent::ConnectionDropped: return "connection dropped";
        case AsyncEvent::SessionDropped: return "session dropped";
        case AsyncEvent::NegotiationRequest: return "negotiation request";
        case AsyncEvent::TaskTermination: return "task termination";
        case AsyncEvent::VendorSpecific: return "vendor specific";
    }
    return "unknown async event";
}

}  // namespace iscsi
