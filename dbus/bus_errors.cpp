#include "dbus/bus_errors.h"

#include "dbus/names.h"

namespace iscsi::dbus {

std::string error_name(control::ErrorKind kind) {
    return std::string(kErrorPrefix) + control::to_string(kind);
}

int set_error(sd_bus_error* error, control::ErrorKind kind, const std::string& message) {
    auto name = error_name(kind);
    return sd_bus_error_set(error, name.c_str(), message.c_str());
}

int set_error(sd_bus_error* error, const control::Error& failure) {
    return set_error(error, failure.kind, failure.message);
}

}  // namespace iscsi::dbus
