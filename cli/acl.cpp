// iscsictl acl create|delete|list
#include <iostream>

#include "cli/common.h"
#include "dbus/names.h"

namespace iscsi::cli {
namespace {

struct AclArgs {
    std::string target;
    std::string initiator;
    std::vector<std::string> networks;
    std::vector<std::string> maps;  // MAPPED=LUN[:ro]
};

// "0=3" maps the target's LUN 3 as LUN 0; "1=4:ro" write-protected.
std::optional<Json> parse_map(const std::string& text) {
    auto eq = text.find('=');
    if (eq == std::string::npos) return std::nullopt;
    std::string rest = text.substr(eq + 1);
    bool read_only = false;
    if (rest.size() > 3 && rest.substr(rest.size() - 3) == ":ro") {
        read_only = true;
        rest.resize(rest.size() - 3);
    }
    try {
        size_t a = 0, b = 0;
        unsigned long mapped = std::stoul(text.substr(0, eq), &a);
        unsigned long lun = std::stoul(rest, &b);
        if (a != eq || b != rest.size()) return std::nullopt;
        return Json::array({mapped, lun, read_only});
    } catch (...) {
        return std::nullopt;
    }
}

}  // namespace

void setup_acl(CLI::App& app, Context& context) {
    auto args = std::make_shared<AclArgs>();
    auto* noun = app.add_subcommand("acl", "Allow initiators to log in to a target");

    auto* create = noun->add_subcommand("create", "Allow an initiator");
    create->add_option("target", args->target, "Target name")->required();
    create->add_option("initiator", args->initiator, "Initiator name (iqn./eui./naa.)")->required();
    create->add_option("--network", args->networks, "Allowed source network in CIDR form (repeatable; default: any)");
    create->add_option("--map", args->maps, "MAPPED=LUN[:ro]: the initiator sees the target's LUN as MAPPED (repeatable; default: every LUN)");
    on_run(create, context, [args](dbus::client::Client& client) {
        Json options = Json::object();
        if (!args->networks.empty()) options["AllowedNetworks"] = args->networks;
        if (!args->maps.empty()) {
            Json maps = Json::array();
            for (const auto& text : args->maps) {
                auto parsed = parse_map(text);
                if (!parsed) {
                    std::cerr << "iscsictl: --map '" << text << "' is not MAPPED=LUN or MAPPED=LUN:ro\n";
                    return Exit::Usage;
                }
                maps.push_back(*parsed);
            }
            options["MappedLuns"] = maps;
        }
        return call_manager(client, "CreateAcl", [&](sd_bus_message* m) {
            int r = sd_bus_message_append(m, "ss", args->target.c_str(), args->initiator.c_str());
            return r < 0 ? r : dbus::client::append_options(m, options, [](const std::string& k) {
                return k == "AllowedNetworks" ? "as" : "a(uub)";
            });
        });
    });

    auto* remove = noun->add_subcommand("delete", "Remove an initiator's ACL (refused while it is logged in)");
    remove->add_option("target", args->target, "Target name")->required();
    remove->add_option("initiator", args->initiator, "Initiator name")->required();
    on_run(remove, context, [args](dbus::client::Client& client) {
        return call_manager(client, "DeleteAcl", [&](sd_bus_message* m) {
            return sd_bus_message_append(m, "ss", args->target.c_str(), args->initiator.c_str());
        });
    });

    auto* list = noun->add_subcommand("list", "List ACLs");
    list->add_option("target", args->target, "Only this target's");
    add_json_flag(list, context);
    on_run(list, context, [args, &context](dbus::client::Client& client) {
        Exit failure = Exit::Ok;
        auto acls = objects_of(client, dbus::kAclInterface, failure);
        if (!acls) return failure;
        if (!args->target.empty()) std::erase_if(*acls, [&](const Json& a) { return a["Target"] != args->target; });
        if (context.json) {
            print_json(*acls);
            return Exit::Ok;
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& a : *acls) {
            std::string maps;
            for (const auto& m : a["MappedLuns"])
                maps += (maps.empty() ? "" : ",") + text(m[0]) + "=" + text(m[1]) + (m[2].get<bool>() ? ":ro" : "");
            rows.push_back({text(a["Target"]), text(a["InitiatorName"]), text(a["AllowedNetworks"]), maps.empty() ? "all" : maps,
                            text(a["ChapUser"]).empty() ? "-" : text(a["ChapUser"])});
        }
        print_table({"TARGET", "INITIATOR", "NETWORKS", "LUNS", "CHAP USER"}, rows);
        return Exit::Ok;
    });
}

}  // namespace iscsi::cli
