// iscsictl backstore create|delete|list|show
#include <iostream>

#include "cli/common.h"
#include "dbus/names.h"
#include "dbus/object_paths.h"

namespace iscsi::cli {
namespace {

struct BackstoreArgs {
    std::string name;
    std::string type = "fileio";
    std::string path;
    std::string size;
    std::string wwn;
    bool write_back = false;
    std::vector<std::string> attributes;  // key=value
};

// "1048576", "512M", "10G", "1T" (powers of 1024).
std::optional<uint64_t> parse_size(const std::string& text) {
    if (text.empty()) return std::nullopt;
    size_t used = 0;
    uint64_t value = 0;
    try {
        value = std::stoull(text, &used);
    } catch (...) {
        return std::nullopt;
    }
    std::string unit = text.substr(used);
    uint64_t scale = 1;
    if (unit == "" || unit == "B") scale = 1;
    else if (unit == "K" || unit == "KiB") scale = 1ull << 10;
    else if (unit == "M" || unit == "MiB") scale = 1ull << 20;
    else if (unit == "G" || unit == "GiB") scale = 1ull << 30;
    else if (unit == "T" || unit == "TiB") scale = 1ull << 40;
    else return std::nullopt;
    return value * scale;
}

Exit list(dbus::client::Client& client, Context& context, const std::string& only) {
    Exit failure = Exit::Ok;
    auto backstores = all_or_one(client, dbus::kBackstoreInterface, only.empty() ? "" : dbus::object_path(dbus::backstore_id(only)),
                             "backstore " + only, failure);
    if (!backstores) return failure;
    if (context.json) {
        print_json(only.empty() ? Json(*backstores) : (*backstores)[0]);
        return Exit::Ok;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& b : *backstores)
        rows.push_back({text(b["Name"]), text(b["Type"]), text(b["Path"]), text(b["SizeBytes"]),
                        std::to_string(b["UsedBy"].size())});
    print_table({"NAME", "TYPE", "PATH", "SIZE", "LUNS"}, rows);
    return Exit::Ok;
}

}  // namespace

void setup_backstore(CLI::App& app, Context& context) {
    auto args = std::make_shared<BackstoreArgs>();
    auto* noun = app.add_subcommand("backstore", "Create, delete and show backstores (the storage behind LUNs)");

    auto* create = noun->add_subcommand("create", "Create a backstore");
    create->add_option("name", args->name, "Backstore name ([A-Za-z0-9_.-])")->required();
    create->add_option("--type", args->type, "fileio, block, ramdisk or user")
        ->check(CLI::IsMember({"fileio", "block", "ramdisk", "user"}))
        ->capture_default_str();
    create->add_option("--path", args->path, "File (fileio), block device (block) or TCMU config (user)");
    create->add_option("--size", args->size, "Size: bytes or with K, M, G, T (fileio to create the file, ramdisk)");
    create->add_option("--wwn", args->wwn, "Unit serial number (default: generated)");
    create->add_flag("--write-back", args->write_back, "fileio: use the page cache (write-back)");
    create->add_option("--attribute", args->attributes, "LIO core attribute KEY=VALUE (repeatable)");
    on_run(create, context, [args](dbus::client::Client& client) {
        Json options = Json::object();
        if (!args->path.empty()) options["Path"] = args->path;
        if (!args->size.empty()) {
            auto bytes = parse_size(args->size);
            if (!bytes) {
                std::cerr << "iscsictl: size '" << args->size << "' is not a number of bytes (suffixes K, M, G, T)\n";
                return Exit::Usage;
            }
            options["SizeBytes"] = *bytes;
        }
        if (!args->wwn.empty()) options["Wwn"] = args->wwn;
        if (args->write_back) options["WriteBack"] = true;
        if (!args->attributes.empty()) {
            Json attributes = Json::object();
            for (const auto& pair : args->attributes) {
                auto eq = pair.find('=');
                if (eq == std::string::npos || eq == 0) {
                    std::cerr << "iscsictl: attribute '" << pair << "' is not KEY=VALUE\n";
                    return Exit::Usage;
                }
                attributes[pair.substr(0, eq)] = pair.substr(eq + 1);
            }
            options["Attributes"] = attributes;
        }
        return call_manager(client, "CreateBackstore", [&](sd_bus_message* m) {
            int r = sd_bus_message_append(m, "ss", args->name.c_str(), args->type.c_str());
            return r < 0 ? r : dbus::client::append_options(m, options, [](const std::string& k) -> const char* {
                if (k == "SizeBytes") return "t";
                if (k == "WriteBack") return "b";
                if (k == "Attributes") return "a{ss}";
                return "s";
            });
        });
    });

    auto* remove = noun->add_subcommand("delete", "Delete a backstore (refused while a LUN uses it)");
    remove->add_option("name", args->name, "Backstore name")->required();
    on_run(remove, context, [args](dbus::client::Client& client) {
        return call_manager(client, "DeleteBackstore", [&](sd_bus_message* m) { return sd_bus_message_append(m, "s", args->name.c_str()); });
    });

    auto* list_cmd = noun->add_subcommand("list", "List backstores");
    add_json_flag(list_cmd, context);
    on_run(list_cmd, context, [&context](dbus::client::Client& client) { return list(client, context, ""); });

    auto* show = noun->add_subcommand("show", "Show one backstore");
    show->add_option("name", args->name, "Backstore name")->required();
    add_json_flag(show, context);
    on_run(show, context, [args, &context](dbus::client::Client& client) { return list(client, context, args->name); });
}

}  // namespace iscsi::cli
