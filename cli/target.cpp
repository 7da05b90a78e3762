// iscsictl target create|delete|list|show|redirect|unredirect
#include <iostream>
#include "cli/common.h"
#include "dbus/names.h"
#include "dbus/object_paths.h"

namespace iscsi::cli {
namespace {

struct TargetArgs {
    std::string name;
    std::string alias;
    uint32_t max_sessions = 0;
    // redirect
    std::string address;
    uint16_t port = 3260;
    uint16_t redirect_tpgt = 1;
    uint16_t portal_group = 0;
    bool permanent = false;
};

std::vector<std::string> row(const Json& t) {
    return {text(t["Name"]), text(t["Alias"]), text(t["PortalGroups"]), std::to_string(t["Luns"].size()),
            std::to_string(t["Acls"].size()), text(t["ChapUser"]).empty() ? "none" : "chap", text(t["Sessions"]),
            text(t["Redirect"])};
}

Exit list(dbus::client::Client& client, Context& context, const std::string& only) {
    Exit failure = Exit::Ok;
    auto targets = all_or_one(client, dbus::kTargetInterface, only.empty() ? "" : dbus::object_path(dbus::target_id(only)),
                             "target " + only, failure);
    if (!targets) return failure;
    if (context.json) {
        print_json(only.empty() ? Json(*targets) : (*targets)[0]);
        return Exit::Ok;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& t : *targets) rows.push_back(row(t));
    print_table({"NAME", "ALIAS", "TPGS", "LUNS", "ACLS", "AUTH", "SESSIONS", "REDIRECT"}, rows);
    return Exit::Ok;
}

}  // namespace

void setup_target(CLI::App& app, Context& context) {
    auto args = std::make_shared<TargetArgs>();
    auto* noun = app.add_subcommand("target", "Create, delete and show targets");

    auto* create = noun->add_subcommand("create", "Create a target (iqn./eui./naa. name)");
    create->add_option("name", args->name, "Target name, e.g. iqn.2003-01.org.example:disk1")->required();
    create->add_option("--alias", args->alias, "TargetAlias sent to initiators");
    create->add_option("--max-sessions", args->max_sessions, "Most sessions at once (0: unlimited)");
    on_run(create, context, [args](dbus::client::Client& client) {
        Json options = Json::object();
        if (!args->alias.empty()) options["Alias"] = args->alias;
        if (args->max_sessions) options["MaxSessions"] = args->max_sessions;
        return call_manager(client, "CreateTarget", [&](sd_bus_message* m) {
            int r = sd_bus_message_append(m, "s", args->name.c_str());
            return r < 0 ? r : dbus::client::append_options(m, options, [](const std::string& k) {
                return k == "Alias" ? "s" : "u";
            });
        });
    });

    auto* remove = noun->add_subcommand("delete", "Delete a target (refused while it has sessions)");
    remove->add_option("name", args->name, "Target name")->required();
    on_run(remove, context, [args](dbus::client::Client& client) {
        return call_manager(client, "DeleteTarget", [&](sd_bus_message* m) { return sd_bus_message_append(m, "s", args->name.c_str()); });
    });

    auto* list_cmd = noun->add_subcommand("list", "List targets");
    add_json_flag(list_cmd, context);
    on_run(list_cmd, context, [&context](dbus::client::Client& client) { return list(client, context, ""); });

    auto* show = noun->add_subcommand("show", "Show one target");
    show->add_option("name", args->name, "Target name")->required();
    add_json_flag(show, context);
    on_run(show, context, [args, &context](dbus::client::Client& client) { return list(client, context, args->name); });

    auto* redirect = noun->add_subcommand("redirect", "Redirect logins to another portal (RFC 7143 s.6.2)");
    redirect->add_option("name", args->name, "Target name")->required();
    redirect->add_option("address", args->address, "Address to redirect to")->required();
    redirect->add_option("--port", args->port, "Port to redirect to")->capture_default_str();
    redirect->add_option("--redirect-tpgt", args->redirect_tpgt, "Portal group tag sent in TargetAddress")->capture_default_str();
    redirect->add_option("--portal-group", args->portal_group, "Redirect only this portal group (default: the whole target)");
    redirect->add_flag("--permanent", args->permanent, "Target moved permanently (0x0102) instead of temporarily (0x0101)");
    on_run(redirect, context, [args](dbus::client::Client& client) {
        return call_manager(client, "SetRedirect", [&](sd_bus_message* m) {
            return sd_bus_message_append(m, "sqsqqb", args->name.c_str(), args->portal_group, args->address.c_str(), args->port,
                                         args->redirect_tpgt, args->permanent ? 1 : 0);
        });
    });

    auto* unredirect = noun->add_subcommand("unredirect", "Remove a redirect");
    unredirect->add_option("name", args->name, "Target name")->required();
    unredirect->add_option("--portal-group", args->portal_group, "The portal group's redirect (default: the target's)");
    on_run(unredirect, context, [args](dbus::client::Client& client) {
        return call_manager(client, "ClearRedirect", [&](sd_bus_message* m) {
            return sd_bus_message_append(m, "sq", args->name.c_str(), args->portal_group);
        });
    });
}

}  // namespace iscsi::cli
