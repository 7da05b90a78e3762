// iscsictl portal create|delete|list
#include "cli/common.h"
#include "dbus/names.h"

namespace iscsi::cli {
namespace {

struct PortalArgs {
    std::string target;
    std::string address;
    uint16_t port = 3260;
    uint16_t tpgt = 1;
};

std::function<int(sd_bus_message*)> portal_arguments(const std::shared_ptr<PortalArgs>& args) {
    return [args](sd_bus_message* m) {
        return sd_bus_message_append(m, "sqsq", args->target.c_str(), args->tpgt, args->address.c_str(), args->port);
    };
}

void portal_options(CLI::App* command, PortalArgs& args) {
    command->add_option("target", args.target, "Target name")->required();
    command->add_option("address", args.address, "Numeric IPv4 or IPv6 address (0.0.0.0 and :: for all)")->required();
    command->add_option("--port", args.port, "TCP port")->capture_default_str();
    command->add_option("--tpgt", args.tpgt, "Portal group tag")->capture_default_str();
}

}  // namespace

void setup_portal(CLI::App& app, Context& context) {
    auto args = std::make_shared<PortalArgs>();
    auto* noun = app.add_subcommand("portal", "Add, remove and list the portals a portal group listens on");

    auto* create = noun->add_subcommand("create", "Add a portal to a portal group");
    portal_options(create, *args);
    on_run(create, context, [args](dbus::client::Client& client) { return call_manager(client, "CreatePortal", portal_arguments(args)); });

    auto* remove = noun->add_subcommand("delete", "Remove a portal");
    portal_options(remove, *args);
    on_run(remove, context, [args](dbus::client::Client& client) { return call_manager(client, "DeletePortal", portal_arguments(args)); });

    auto* list = noun->add_subcommand("list", "List portals");
    list->add_option("target", args->target, "Only this target's");
    add_json_flag(list, context);
    on_run(list, context, [args, &context](dbus::client::Client& client) {
        Exit failure = Exit::Ok;
        auto portals = objects_of(client, dbus::kPortalInterface, failure);
        if (!portals) return failure;
        if (!args->target.empty()) std::erase_if(*portals, [&](const Json& p) { return p["Target"] != args->target; });
        if (context.json) {
            print_json(*portals);
            return Exit::Ok;
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& p : *portals) rows.push_back({text(p["Target"]), text(p["Tpgt"]), text(p["Address"]), text(p["Port"])});
        print_table({"TARGET", "TPGT", "ADDRESS", "PORT"}, rows);
        return Exit::Ok;
    });
}

}  // namespace iscsi::cli
