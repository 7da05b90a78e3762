// What every iscsictl noun shares: the connection to the daemon, exit codes
// that say what failed, and output as a table for people or JSON for scripts.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "dbus/client/client.h"

namespace iscsi::cli {

// Exit codes (documented in iscsictl(8)).
enum class Exit : int {
    Ok = 0,
    Failed = 1,           // anything not listed below
    Usage = 2,            // bad command line
    NotRunning = 3,       // iscsi-targetd is not running, or no system bus
    NotFound = 4,
    AlreadyExists = 5,
    InvalidArgument = 6,
    Busy = 7,
    PermissionDenied = 8,
    DataPathUnavailable = 9,
    NotSupported = 10,
};

struct Context {
    bool json = false;
    int exit_code = 0;
};

using Json = nlohmann::json;
using Action = std::function<Exit(dbus::client::Client&)>;

// Sets the subcommand's callback: connect, run, report any error on stderr
// in one line, and record the exit code.
void on_run(CLI::App* command, Context& context, Action action);
// Adds --json to a read command.
void add_json_flag(CLI::App* command, Context& context);

// Reports a failed call and returns the exit code for it.
Exit report(const dbus::client::CallError& error);

// Calls a Manager method; on success prints nothing and returns Ok.
Exit call_manager(dbus::client::Client& client, const std::string& method,
                  const std::function<int(sd_bus_message*)>& append, Json* reply = nullptr);

// Every object of one interface: [{"path": ..., <properties>...}], sorted by path.
std::optional<std::vector<Json>> objects_of(dbus::client::Client& client, const std::string& interface, Exit& failure);
// One object's properties (GetAll on its path, not every object's), with its
// "path" added as objects_of() does; NotFound after "there is no <what>" when
// the service has no such object.
std::optional<Json> object_at(dbus::client::Client& client, const std::string& path, const std::string& interface,
                              const std::string& what, Exit& failure);
// objects_of(interface) when path is empty, else just object_at(path).
std::optional<std::vector<Json>> all_or_one(dbus::client::Client& client, const std::string& interface,
                                            const std::string& path, const std::string& what, Exit& failure);

// Output.
void print_json(const Json& value);
void print_table(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows);
std::string text(const Json& value);  // a scalar or list as a table cell

// Setup functions, one per noun (cli/<noun>.cpp).
void setup_target(CLI::App& app, Context& context);
void setup_tpg(CLI::App& app, Context& context);
void setup_portal(CLI::App& app, Context& context);
void setup_lun(CLI::App& app, Context& context);
void setup_backstore(CLI::App& app, Context& context);
void setup_acl(CLI::App& app, Context& context);
void setup_auth(CLI::App& app, Context& context);
void setup_session(CLI::App& app, Context& context);
void setup_connection(CLI::App& app, Context& context);
void setup_config(CLI::App& app, Context& context);
void setup_status(CLI::App& app, Context& context);

}  // namespace iscsi::cli
