// discovery_text: the SendTargets answer iscsi_handoff.ko gives a Normal
// session in the Full Feature Phase (RFC 7143 s.11.10, Appendix C), computed
// from the configuration and stored per portal group with SET_DISCOVERY_TEXT.
#pragma once

#include <string>

#include "config/model.h"

namespace iscsi::kmod {

// "TargetName=<target>\0" then one "TargetAddress=<address>:<port>,<tpgt>\0"
// per portal of every enabled portal group of the target, in configuration
// order. A Normal session may only learn about its own target, so the text
// names that target alone. A wildcard portal (0.0.0.0, ::) is written as "*",
// which the kernel replaces with the address the connection reached (the
// Discovery session does the same with its local address). Link-local IPv6
// portals are left out unless discovery.include_link_local is set; with
// discovery disabled the text is empty (SendTargets then reports nothing,
// as in a Discovery session).
std::string discovery_text(const config::Config& config, const config::Target& target);

}  // namespace iscsi::kmod
