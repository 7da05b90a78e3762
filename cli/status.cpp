// iscsictl status: is the daemon there, what version, is the data path loaded,
// how many of everything.
#include "cli/common.h"
#include "dbus/names.h"

namespace iscsi::cli {

void setup_status(CLI::App& app, Context& context) {
    auto* status = app.add_subcommand("status", "Show the daemon's version, data path and object counts");
    add_json_flag(status, context);
    on_run(status, context, [&context](dbus::client::Client& client) {
        auto manager = client.properties(dbus::kRootPath, dbus::kManagerInterface);
        if (!manager) return report(manager.error());
        auto objects = client.managed_objects();
        if (!objects) return report(objects.error());
        Json counts = Json::object();
        for (const auto& [path, interfaces] : objects->items())
            for (const auto& [interface, properties] : interfaces.items())
                if (interface.rfind("org.iscsictl.target1.", 0) == 0) {
                    std::string kind = interface.substr(21);
                    counts[kind] = counts.value(kind, 0) + 1;
                }
        Json out = *manager;
        out["Objects"] = counts;
        if (context.json) {
            print_json(out);
            return Exit::Ok;
        }
        std::cout << "Version:  " << text(out["Version"]) << "\n"
                  << "DataPath: " << text(out["DataPath"]) << "\n"
                  << "Config:   " << text(out["ConfigurationFiles"]) << "\n";
        for (const auto& kind : {"Target", "PortalGroup", "Portal", "Lun", "Backstore", "Acl", "Session", "Connection"})
            std::cout << kind << "s: " << counts.value(kind, 0) << "\n";
        return Exit::Ok;
    });
}

}  // namespace iscsi::cli
