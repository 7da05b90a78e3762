#include "cli/session_lookup.h"

#include <iostream>

namespace iscsi::cli {

void add_selector_options(CLI::App* command, SessionSelector& selector) {
    command->add_option("tsih", selector.tsih, "The session's TSIH")->required();
    command->add_option("--target", selector.target, "The session's target (when TSIHs collide)");
    command->add_option("--tpgt", selector.tpgt, "The session's portal group tag (when TSIHs collide)");
}

std::optional<Json> list_sessions(dbus::client::Client& client, Exit& failure) {
    Json reply;
    failure = call_manager(client, "ListSessions", {}, &reply);
    if (failure != Exit::Ok) return std::nullopt;
    return std::move(reply[0]);
}

std::optional<Json> select_session(dbus::client::Client& client, const SessionSelector& selector, Exit& failure) {
    auto sessions = list_sessions(client, failure);
    if (!sessions) return std::nullopt;
    std::vector<Json> matching;
    for (const auto& s : *sessions) {
        if (s["Tsih"] != selector.tsih) continue;
        if (!selector.target.empty() && s["TargetName"] != selector.target) continue;
        if (selector.tpgt != 0 && s["Tpgt"] != selector.tpgt) continue;
        matching.push_back(s);
    }
    if (matching.empty()) {
        std::cerr << "iscsictl: there is no live session with TSIH " << selector.tsih
                  << (selector.target.empty() ? "" : " on " + selector.target) << "\n";
        failure = Exit::NotFound;
        return std::nullopt;
    }
    if (matching.size() > 1) {
        std::cerr << "iscsictl: " << matching.size() << " sessions have TSIH " << selector.tsih
                  << "; name one with --target and --tpgt\n";
        failure = Exit::Usage;
        return std::nullopt;
    }
    return matching[0];
}

}  // namespace iscsi::cli
