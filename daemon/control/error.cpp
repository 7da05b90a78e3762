#include "control/error.h"

namespace iscsi::control {

const char* to_string(ErrorKind kind) {
    switch (kind) {
    case ErrorKind::NotFound: return "NotFound";
    case ErrorKind::AlreadyExists: return "AlreadyExists";
    case ErrorKind::InvalidArgument: return "InvalidArgument";
    case ErrorKind::Busy: return "Busy";
    case ErrorKind::NotSupported: return "NotSupported";
    case ErrorKind::DataPathUnavailable: return "DataPathUnavailable";
    case ErrorKind::PermissionDenied: return "PermissionDenied";
    case ErrorKind::Io: return "Io";
    }
    return "Failed";
}

}  // namespace iscsi::control
