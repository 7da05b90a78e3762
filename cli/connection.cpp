// iscsictl connection list|terminate
#include <iostream>

#include "cli/session_lookup.h"
#include "dbus/names.h"

namespace iscsi::cli {

void setup_connection(CLI::App& app, Context& context) {
    auto selector = std::make_shared<SessionSelector>();
    auto cid = std::make_shared<uint16_t>(0);
    auto* noun = app.add_subcommand("connection", "List and end the connections of live sessions");

    auto* list = noun->add_subcommand("list", "List connections");
    add_json_flag(list, context);
    on_run(list, context, [&context](dbus::client::Client& client) {
        Exit failure = Exit::Ok;
        auto sessions = list_sessions(client, failure);
        if (!sessions) return failure;
        Json connections = Json::array();
        for (const auto& s : *sessions)
            for (auto c : s["Connections"]) {
                c["TargetName"] = s["TargetName"];
                c["Tpgt"] = s["Tpgt"];
                c["Tsih"] = s["Tsih"];
                c["InitiatorName"] = s["InitiatorName"];
                connections.push_back(std::move(c));
            }
        if (context.json) {
            print_json(connections);
            return Exit::Ok;
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& c : connections)
            rows.push_back({text(c["TargetName"]), text(c["Tsih"]), text(c["Cid"]), text(c["PeerAddress"]) + ":" + text(c["PeerPort"]),
                            text(c["LocalAddress"]) + ":" + text(c["LocalPort"]), text(c["State"]),
                            text(c["HeaderDigest"]) + "/" + text(c["DataDigest"])});
        print_table({"TARGET", "TSIH", "CID", "PEER", "LOCAL", "STATE", "DIGESTS"}, rows);
        return Exit::Ok;
    });

    auto* terminate = noun->add_subcommand("terminate", "Close one connection of a session");
    add_selector_options(terminate, *selector);
    terminate->add_option("cid", *cid, "The connection's CID")->required();
    on_run(terminate, context, [selector, cid](dbus::client::Client& client) {
        Exit failure = Exit::Ok;
        auto session = select_session(client, *selector, failure);
        if (!session) return failure;
        for (const auto& c : (*session)["Connections"]) {
            if (c["Cid"] != *cid) continue;
            auto done = client.call(c["Path"].get<std::string>(), dbus::kConnectionInterface, "Terminate");
            return done ? Exit::Ok : report(done.error());
        }
        std::cerr << "iscsictl: session " << selector->tsih << " has no connection with CID " << *cid << "\n";
        return Exit::NotFound;
    });
}

}  // namespace iscsi::cli
