// The client side of org.iscsictl.target1, for iscsictl: one connection to
// the system bus, method calls with named errors, and any reply turned into
// JSON so that the command line can print it as a table or as --json.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>
#include <systemd/sd-bus.h>
#include <tl/expected.hpp>

#include "dbus/sd_bus_ptr.h"

namespace iscsi::dbus::client {

// What went wrong, with the D-Bus error name when the daemon answered one.
struct CallError {
    std::string name;     // e.g. org.iscsictl.target1.Error.NotFound; empty for local failures
    std::string message;  // one line a person can act on
    bool not_running = false;  // nobody owns org.iscsictl.target1
};

template <typename T>
using Result = tl::expected<T, CallError>;

class Client {
public:
    // Connects to the system bus (DBUS_SYSTEM_BUS_ADDRESS is honoured) and
    // checks that the daemon owns its name.
    static Result<Client> connect();

    // Calls a method; append adds the arguments (may be empty). The reply's
    // arguments are returned as a JSON array, one element per argument.
    Result<nlohmann::json> call(const std::string& path, const std::string& interface, const std::string& method,
                                const std::function<int(sd_bus_message*)>& append = {});
    // The same call, with the reply as it came: for replies too large to
    // turn into a tree, written out with dbus/client/json_text.h instead.
    Result<MessagePtr> call_message(const std::string& path, const std::string& interface, const std::string& method,
                                    const std::function<int(sd_bus_message*)>& append = {});
    // Every object with its interfaces and properties (ObjectManager).
    Result<nlohmann::json> managed_objects();
    Result<nlohmann::json> properties(const std::string& path, const std::string& interface);

private:
    explicit Client(BusPtr bus) : bus_(std::move(bus)) {}
    BusPtr bus_;
};

// Converts the remaining arguments of a message into JSON: dictionaries become
// objects, structs and arrays become arrays, variants are unwrapped.
int message_to_json(sd_bus_message* message, nlohmann::json& out);

// Appends an a{sv} of options from a JSON object whose values are bool,
// unsigned, string or string arrays; the D-Bus types are given per key.
int append_options(sd_bus_message* message, const nlohmann::json& options,
                   const std::function<const char*(const std::string& key)>& type_of);

}  // namespace iscsi::dbus::client
