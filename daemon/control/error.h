// Errors of the control plane: a kind that callers map to a named D-Bus error
// (org.iscsictl.target1.Error.<Kind>) and a message a person can act on.
#pragma once

#include <string>

#include <tl/expected.hpp>

namespace iscsi::control {

enum class ErrorKind {
    NotFound,
    AlreadyExists,
    InvalidArgument,
    Busy,
    NotSupported,
    DataPathUnavailable,
    PermissionDenied,
    Io,  // the configuration could not be written or read
};

// The last component of the D-Bus error name, e.g. "NotFound".
const char* to_string(ErrorKind kind);

struct Error {
    ErrorKind kind = ErrorKind::InvalidArgument;
    std::string message;
};

template <typename T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> fail(ErrorKind kind, std::string message) {
    return tl::unexpected<Error>(Error{kind, std::move(message)});
}

}  // namespace iscsi::control
