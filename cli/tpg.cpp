// iscsictl tpg create|delete|list: target portal groups
#include "cli/common.h"
#include "dbus/names.h"

namespace iscsi::cli {
namespace {

struct TpgArgs {
    std::string target;
    uint16_t tpgt = 1;
    bool demo_mode = false;
    bool demo_write_protect = false;
    bool disabled = false;
};

}  // namespace

void setup_tpg(CLI::App& app, Context& context) {
    auto args = std::make_shared<TpgArgs>();
    auto* noun = app.add_subcommand("tpg", "Create, delete and list target portal groups");

    auto* create = noun->add_subcommand("create", "Create a portal group of a target");
    create->add_option("target", args->target, "Target name")->required();
    create->add_option("tpgt", args->tpgt, "Portal group tag (1..65535)")->required();
    create->add_flag("--demo-mode", args->demo_mode, "Let any initiator log in and see every LUN");
    create->add_flag("--demo-write-protect", args->demo_write_protect, "In demo mode, LUNs are read-only");
    create->add_flag("--disabled", args->disabled, "Create it disabled");
    on_run(create, context, [args](dbus::client::Client& client) {
        Json options = {{"Enabled", !args->disabled}, {"DemoMode", args->demo_mode},
                        {"DemoModeWriteProtect", args->demo_write_protect}};
        return call_manager(client, "CreatePortalGroup", [&](sd_bus_message* m) {
            int r = sd_bus_message_append(m, "sq", args->target.c_str(), args->tpgt);
            return r < 0 ? r : dbus::client::append_options(m, options, [](const std::string&) { return "b"; });
        });
    });

    auto* remove = noun->add_subcommand("delete", "Delete a portal group (refused while it has sessions)");
    remove->add_option("target", args->target, "Target name")->required();
    remove->add_option("tpgt", args->tpgt, "Portal group tag")->required();
    on_run(remove, context, [args](dbus::client::Client& client) {
        return call_manager(client, "DeletePortalGroup",
                            [&](sd_bus_message* m) { return sd_bus_message_append(m, "sq", args->target.c_str(), args->tpgt); });
    });

    auto* list = noun->add_subcommand("list", "List portal groups");
    list->add_option("target", args->target, "Only this target's");
    add_json_flag(list, context);
    on_run(list, context, [args, &context](dbus::client::Client& client) {
        Exit failure = Exit::Ok;
        auto groups = objects_of(client, dbus::kPortalGroupInterface, failure);
        if (!groups) return failure;
        if (!args->target.empty()) std::erase_if(*groups, [&](const Json& g) { return g["Target"] != args->target; });
        if (context.json) {
            print_json(*groups);
            return Exit::Ok;
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& g : *groups) {
            std::string portals;
            for (const auto& p : g["Portals"]) portals += (portals.empty() ? "" : ",") + text(p[0]) + ":" + text(p[1]);
            rows.push_back({text(g["Target"]), text(g["Tpgt"]), text(g["Enabled"]), text(g["DemoMode"]), portals,
                            text(g["Redirect"])});
        }
        print_table({"TARGET", "TPGT", "ENABLED", "DEMO", "PORTALS", "REDIRECT"}, rows);
        return Exit::Ok;
    });
}

}  // namespace iscsi::cli
