// iscsictl lun create|delete|list
#include "cli/common.h"
#include "dbus/names.h"

namespace iscsi::cli {
namespace {

struct LunArgs {
    std::string target;
    uint32_t lun = 0;
    std::string backstore;
};

}  // namespace

void setup_lun(CLI::App& app, Context& context) {
    auto args = std::make_shared<LunArgs>();
    auto* noun = app.add_subcommand("lun", "Map backstores to LUNs of a target");

    auto* create = noun->add_subcommand("create", "Export a backstore as a LUN");
    create->add_option("target", args->target, "Target name")->required();
    create->add_option("lun", args->lun, "LUN number (0..65535)")->required();
    create->add_option("backstore", args->backstore, "Backstore name")->required();
    on_run(create, context, [args](dbus::client::Client& client) {
        return call_manager(client, "CreateLun", [&](sd_bus_message* m) {
            return sd_bus_message_append(m, "sus", args->target.c_str(), args->lun, args->backstore.c_str());
        });
    });

    auto* remove = noun->add_subcommand("delete", "Remove a LUN (refused while mapped by an ACL or in use)");
    remove->add_option("target", args->target, "Target name")->required();
    remove->add_option("lun", args->lun, "LUN number")->required();
    on_run(remove, context, [args](dbus::client::Client& client) {
        return call_manager(client, "DeleteLun",
                            [&](sd_bus_message* m) { return sd_bus_message_append(m, "su", args->target.c_str(), args->lun); });
    });

    auto* list = noun->add_subcommand("list", "List LUNs");
    list->add_option("target", args->target, "Only this target's");
    add_json_flag(list, context);
    on_run(list, context, [args, &context](dbus::client::Client& client) {
        Exit failure = Exit::Ok;
        auto luns = objects_of(client, dbus::kLunInterface, failure);
        if (!luns) return failure;
        if (!args->target.empty()) std::erase_if(*luns, [&](const Json& l) { return l["Target"] != args->target; });
        if (context.json) {
            print_json(*luns);
            return Exit::Ok;
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& l : *luns) rows.push_back({text(l["Target"]), text(l["Lun"]), text(l["Backstore"])});
        print_table({"TARGET", "LUN", "BACKSTORE"}, rows);
        return Exit::Ok;
    });
}

}  // namespace iscsi::cli
