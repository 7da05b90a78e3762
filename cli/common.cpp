#include "cli/common.h"

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "dbus/names.h"

namespace iscsi::cli {

Exit report(const dbus::client::CallError& error) {
    std::cerr << "iscsictl: " << error.message << "\n";
    if (error.not_running) return Exit::NotRunning;
    static const std::pair<const char*, Exit> kNamed[] = {
        {"NotFound", Exit::NotFound},
        {"AlreadyExists", Exit::AlreadyExists},
        {"InvalidArgument", Exit::InvalidArgument},
        {"Busy", Exit::Busy},
        {"PermissionDenied", Exit::PermissionDenied},
        {"DataPathUnavailable", Exit::DataPathUnavailable},
        {"NotSupported", Exit::NotSupported},
    };
    for (const auto& [suffix, code] : kNamed)
        if (error.name == std::string(dbus::kErrorPrefix) + suffix) return code;
    if (error.name == "org.freedesktop.DBus.Error.AccessDenied") return Exit::PermissionDenied;
    return Exit::Failed;
}

void on_run(CLI::App* command, Context& context, Action action) {
    command->callback([&context, action = std::move(action)] {
        auto client = dbus::client::Client::connect();
        if (!client) {
            context.exit_code = static_cast<int>(report(client.error()));
            return;
        }
        context.exit_code = static_cast<int>(action(*client));
    });
}

void add_json_flag(CLI::App* command, Context& context) {
    command->add_flag("--json", context.json, "Print JSON for scripts instead of a table");
}

Exit call_manager(dbus::client::Client& client, const std::string& method,
                  const std::function<int(sd_bus_message*)>& append, Json* reply) {
    auto result = client.call(dbus::kRootPath, dbus::kManagerInterface, method, append);
    if (!result) return report(result.error());
    if (reply) *reply = std::move(*result);
    return Exit::Ok;
}

std::optional<std::vector<Json>> objects_of(dbus::client::Client& client, const std::string& interface, Exit& failure) {
    auto objects = client.managed_objects();
    if (!objects) {
        failure = report(objects.error());
        return std::nullopt;
    }
    std::vector<Json> found;
    for (auto& [path, interfaces] : objects->items()) {
        if (!interfaces.contains(interface)) continue;
        Json entry = std::move(interfaces.at(interface));
        entry["path"] = path;
        found.push_back(std::move(entry));
    }
    std::sort(found.begin(), found.end(), [](const Json& a, const Json& b) { return a["path"] < b["path"]; });
    return found;
}

std::optional<Json> object_at(dbus::client::Client& client, const std::string& path, const std::string& interface,
                              const std::string& what, Exit& failure) {
    auto properties = client.properties(path, interface);
    if (!properties) {
        // sd-bus answers for an object its fallback vtable does not find.
        const auto& name = properties.error().name;
        if (name == "org.freedesktop.DBus.Error.UnknownObject" || name == "org.freedesktop.DBus.Error.UnknownInterface") {
            std::cerr << "iscsictl: there is no " << what << "\n";
            failure = Exit::NotFound;
        } else {
            failure = report(properties.error());
        }
        return std::nullopt;
    }
    (*properties)["path"] = path;
    return std::move(*properties);
}

std::optional<std::vector<Json>> all_or_one(dbus::client::Client& client, const std::string& interface,
                                            const std::string& path, const std::string& what, Exit& failure) {
    if (path.empty()) return objects_of(client, interface, failure);
    auto one = object_at(client, path, interface, what, failure);
    if (!one) return std::nullopt;
    std::vector<Json> found;
    found.push_back(std::move(*one));
    return found;
}

void print_json(const Json& value) {
    std::cout << value.dump(2) << "\n";
}

std::string text(const Json& value) {
    if (value.is_string()) return value.get<std::string>();
    if (value.is_boolean()) return value.get<bool>() ? "yes" : "no";
    if (value.is_null()) return "";
    if (value.is_array()) {
        std::string joined;
        for (const auto& item : value) joined += (joined.empty() ? "" : ",") + text(item);
        return joined;
    }
    return value.dump();
}

void print_table(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows) {
    std::vector<size_t> widths(headers.size());
    for (size_t i = 0; i < headers.size(); ++i) widths[i] = headers[i].size();
    for (const auto& row : rows)
        for (size_t i = 0; i < row.size() && i < widths.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
    auto line = [&](const std::vector<std::string>& cells) {
        std::string out;
        for (size_t i = 0; i < cells.size(); ++i) {
            out += cells[i];
            if (i + 1 < cells.size()) out += std::string(widths[i] - cells[i].size() + 2, ' ');
        }
        std::cout << out << "\n";
    };
    line(headers);
    for (const auto& row : rows) line(row);
}

}  // namespace iscsi::cli
