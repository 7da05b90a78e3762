// iscsictl auth set|clear|show: CHAP for discovery, a target or an ACL.
// Secrets are read from a file or standard input, never from the command
// line (where every user could read them in ps), and never shown.
#include <fstream>
#include <iostream>

#include "cli/common.h"
#include "dbus/names.h"

namespace iscsi::cli {
namespace {

struct AuthArgs {
    std::string scope;
    std::string target;
    std::string initiator;
    std::string user;
    std::string secret_file;
    std::string mutual_user;
    std::string mutual_secret_file;
};

std::optional<std::string> read_secret(const std::string& file, const char* what) {
    std::string line;
    if (!file.empty()) {
        std::ifstream in(file);
        if (!in || !std::getline(in, line)) {
            std::cerr << "iscsictl: cannot read the " << what << " from " << file << "\n";
            return std::nullopt;
        }
    } else if (!std::getline(std::cin, line)) {
        std::cerr << "iscsictl: give the " << what << " on standard input (one line) or with a file option\n";
        return std::nullopt;
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

void scope_options(CLI::App* command, AuthArgs& args) {
    command->add_option("scope", args.scope, "discovery, target or acl")
        ->required()
        ->check(CLI::IsMember({"discovery", "target", "acl"}));
    command->add_option("--target", args.target, "Target name (scopes target and acl)");
    command->add_option("--initiator", args.initiator, "Initiator name (scope acl)");
}

bool check_scope(const AuthArgs& args) {
    if (args.scope != "discovery" && args.target.empty()) {
        std::cerr << "iscsictl: scope " << args.scope << " needs --target\n";
        return false;
    }
    if (args.scope == "acl" && args.initiator.empty()) {
        std::cerr << "iscsictl: scope acl needs --initiator\n";
        return false;
    }
    return true;
}

}  // namespace

void setup_auth(CLI::App& app, Context& context) {
    auto args = std::make_shared<AuthArgs>();
    auto* noun = app.add_subcommand("auth", "CHAP authentication for discovery, targets and ACLs");

    auto* set = noun->add_subcommand("set", "Require CHAP (one-way, or mutual with --mutual-user)");
    scope_options(set, *args);
    set->add_option("--user", args->user, "CHAP_N the initiator presents")->required();
    set->add_option("--secret-file", args->secret_file, "File whose first line is the secret (default: standard input)");
    set->add_option("--mutual-user", args->mutual_user, "CHAP_N the target presents back (mutual CHAP)");
    set->add_option("--mutual-secret-file", args->mutual_secret_file,
                    "File whose first line is the target's secret (default: the next line of standard input)");
    on_run(set, context, [args](dbus::client::Client& client) {
        if (!check_scope(*args)) return Exit::Usage;
        auto secret = read_secret(args->secret_file, "secret");
        if (!secret) return Exit::Usage;
        std::string mutual_secret;
        if (!args->mutual_user.empty()) {
            auto read = read_secret(args->mutual_secret_file, "mutual secret");
            if (!read) return Exit::Usage;
            mutual_secret = *read;
        }
        return call_manager(client, "SetChap", [&](sd_bus_message* m) {
            return sd_bus_message_append(m, "sssssss", args->scope.c_str(), args->target.c_str(), args->initiator.c_str(),
                                         args->user.c_str(), secret->c_str(), args->mutual_user.c_str(), mutual_secret.c_str());
        });
    });

    auto* clear = noun->add_subcommand("clear", "Stop requiring CHAP (its secrets are forgotten)");
    scope_options(clear, *args);
    on_run(clear, context, [args](dbus::client::Client& client) {
        if (!check_scope(*args)) return Exit::Usage;
        return call_manager(client, "ClearChap", [&](sd_bus_message* m) {
            return sd_bus_message_append(m, "sss", args->scope.c_str(), args->target.c_str(), args->initiator.c_str());
        });
    });

    auto* show = noun->add_subcommand("show", "Show where CHAP is required and with which user names (never secrets)");
    add_json_flag(show, context);
    on_run(show, context, [&context](dbus::client::Client& client) {
        auto manager = client.properties(dbus::kRootPath, dbus::kManagerInterface);
        if (!manager) return report(manager.error());
        Exit failure = Exit::Ok;
        auto targets = objects_of(client, dbus::kTargetInterface, failure);
        if (!targets) return failure;
        auto acls = objects_of(client, dbus::kAclInterface, failure);
        if (!acls) return failure;
        Json entries = Json::array();
        auto add = [&](const std::string& scope, const std::string& target, const std::string& initiator, const Json& props) {
            if (text(props["ChapUser"]).empty()) return;
            entries.push_back({{"scope", scope}, {"target", target}, {"initiator", initiator}, {"user", props["ChapUser"]},
                               {"mutual_user", props["MutualChapUser"]}});
        };
        add("discovery", "", "", {{"ChapUser", (*manager)["DiscoveryChapUser"]}, {"MutualChapUser", (*manager)["DiscoveryMutualChapUser"]}});
        for (const auto& t : *targets) add("target", text(t["Name"]), "", t);
        for (const auto& a : *acls) add("acl", text(a["Target"]), text(a["InitiatorName"]), a);
        if (context.json) {
            print_json(entries);
            return Exit::Ok;
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& e : entries)
            rows.push_back({text(e["scope"]), text(e["target"]), text(e["initiator"]), text(e["user"]),
                            text(e["mutual_user"]).empty() ? "-" : text(e["mutual_user"])});
        print_table({"SCOPE", "TARGET", "INITIATOR", "USER", "MUTUAL USER"}, rows);
        return Exit::Ok;
    });
}

}  // namespace iscsi::cli
