// Control-plane errors as named D-Bus errors: org.iscsictl.target1.Error.<Kind>.
#pragma once

#include <string>

#include <systemd/sd-bus.h>

#include "control/error.h"

namespace iscsi::dbus {

std::string error_name(control::ErrorKind kind);

// Sets *error and returns the negative value an sd-bus handler returns.
int set_error(sd_bus_error* error, const control::Error& failure);
int set_error(sd_bus_error* error, control::ErrorKind kind, const std::string& message);

}  // namespace iscsi::dbus
