// Finding a live session by TSIH (and target, when TSIHs of several portal
// groups collide) from Manager.ListSessions.
#pragma once

#include "cli/common.h"

namespace iscsi::cli {

struct SessionSelector {
    uint16_t tsih = 0;
    std::string target;  // optional
    uint16_t tpgt = 0;   // optional (0: any)
};

void add_selector_options(CLI::App* command, SessionSelector& selector);

// All sessions (every field), or the exit code of the failure.
std::optional<Json> list_sessions(dbus::client::Client& client, Exit& failure);
// The one session the selector names; prints why not and sets failure.
std::optional<Json> select_session(dbus::client::Client& client, const SessionSelector& selector, Exit& failure);

}  // namespace iscsi::cli
