// iscsictl session list|show|logout|terminate
#include <cstring>
#include <iostream>

#include "cli/session_lookup.h"
#include "dbus/client/json_text.h"
#include "dbus/names.h"

namespace iscsi::cli {
namespace {

std::vector<std::string> row(const Json& s) {
    return {text(s["TargetName"]), text(s["Tpgt"]), text(s["Tsih"]), text(s["Isid"]), text(s["InitiatorName"]),
            std::to_string(s["Connections"].size()), text(s["State"]), text(s["Commands"])};
}

void print_session(const Json& s) {
    for (const auto& [key, value] : s.items()) {
        if (key == "Connections") continue;
        std::cout << key << ": " << text(value) << "\n";
    }
    for (const auto& c : s["Connections"])
        std::cout << "Connection " << text(c["Cid"]) << ": " << text(c["PeerAddress"]) << ":" << text(c["PeerPort"]) << " -> "
                  << text(c["LocalAddress"]) << ":" << text(c["LocalPort"]) << " " << text(c["State"])
                  << " HeaderDigest=" << text(c["HeaderDigest"]) << " DataDigest=" << text(c["DataDigest"])
                  << " MaxRecvDataSegmentLength=" << text(c["MaxRecvDataSegmentLength"])
                  << " MaxXmitDataSegmentLength=" << text(c["MaxXmitDataSegmentLength"]) << "\n";
}

Exit session_method(dbus::client::Client& client, const SessionSelector& selector, const char* method) {
    Exit failure = Exit::Ok;
    auto session = select_session(client, selector, failure);
    if (!session) return failure;
    auto done = client.call((*session)["Path"].get<std::string>(), dbus::kSessionInterface, method);
    return done ? Exit::Ok : report(done.error());
}

}  // namespace

void setup_session(CLI::App& app, Context& context) {
    auto selector = std::make_shared<SessionSelector>();
    auto* noun = app.add_subcommand("session", "List, show, log out and end live sessions");

    auto* list = noun->add_subcommand("list", "List live sessions (every field with --json)");
    add_json_flag(list, context);
    on_run(list, context, [&context](dbus::client::Client& client) {
        if (context.json) {
            // Written from the reply as it is read: with a thousand sessions
            // a JSON tree would cost more than the daemon and the bus.
            auto reply = client.call_message(dbus::kRootPath, dbus::kManagerInterface, "ListSessions");
            if (!reply) return report(reply.error());
            std::cout.flush();
            if (int r = dbus::client::write_argument_json(reply->get(), stdout); r < 0) {
                std::cerr << "iscsictl: cannot write the sessions: " << std::strerror(-r) << "\n";
                return Exit::Failed;
            }
            return Exit::Ok;
        }
        Exit failure = Exit::Ok;
        auto sessions = list_sessions(client, failure);
        if (!sessions) return failure;
        std::vector<std::vector<std::string>> rows;
        for (const auto& s : *sessions) rows.push_back(row(s));
        print_table({"TARGET", "TPGT", "TSIH", "ISID", "INITIATOR", "CONNS", "STATE", "COMMANDS"}, rows);
        return Exit::Ok;
    });

    auto* show = noun->add_subcommand("show", "Show one session with its negotiated values and connections");
    add_selector_options(show, *selector);
    add_json_flag(show, context);
    on_run(show, context, [selector, &context](dbus::client::Client& client) {
        Exit failure = Exit::Ok;
        auto session = select_session(client, *selector, failure);
        if (!session) return failure;
        if (context.json) print_json(*session);
        else print_session(*session);
        return Exit::Ok;
    });

    auto* logout = noun->add_subcommand("logout", "Ask the initiator to log out (Async Message)");
    add_selector_options(logout, *selector);
    on_run(logout, context, [selector](dbus::client::Client& client) { return session_method(client, *selector, "Logout"); });

    auto* terminate = noun->add_subcommand("terminate", "End the session now (its connections are closed)");
    add_selector_options(terminate, *selector);
    on_run(terminate, context, [selector](dbus::client::Client& client) { return session_method(client, *selector, "Terminate"); });
}

}  // namespace iscsi::cli
