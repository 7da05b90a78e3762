// iscsictl config save|reload|show
#include "cli/common.h"
#include "dbus/names.h"

namespace iscsi::cli {

void setup_config(CLI::App& app, Context& context) {
    auto* noun = app.add_subcommand("config", "Save, reload and show the whole configuration");

    auto* save = noun->add_subcommand("save", "Write the running configuration to its files (done after every change too)");
    on_run(save, context, [](dbus::client::Client& client) { return call_manager(client, "SaveConfiguration", {}); });

    auto* reload = noun->add_subcommand("reload", "Read the configuration files and apply them");
    on_run(reload, context, [](dbus::client::Client& client) { return call_manager(client, "Reload", {}); });

    auto* show = noun->add_subcommand("show", "Show every configured object (secrets are never shown)");
    add_json_flag(show, context);
    on_run(show, context, [&context](dbus::client::Client& client) {
        auto objects = client.managed_objects();
        if (!objects) return report(objects.error());
        if (context.json) {
            print_json(*objects);
            return Exit::Ok;
        }
        for (const auto& [path, interfaces] : objects->items())
            for (const auto& [interface, properties] : interfaces.items()) {
                if (interface.rfind("org.iscsictl.target1.", 0) != 0) continue;
                std::cout << path << " (" << interface.substr(21) << ")\n";
                for (const auto& [name, value] : properties.items()) std::cout << "  " << name << ": " << text(value) << "\n";
            }
        return Exit::Ok;
    });
}

}  // namespace iscsi::cli
