#include "dbus/client/client.h"

#include <cerrno>
#include <cstring>

#include "dbus/client/json_text.h"
#include "dbus/names.h"

namespace iscsi::dbus::client {
namespace {

constexpr uint64_t kCallTimeoutUs = 30'000'000;
// Reload and SaveConfiguration apply or write the whole configuration: with
// thousands of objects on a slow machine that takes minutes, and giving up
// while the daemon goes on would report a failure that is not one.
constexpr uint64_t kWholeConfigurationTimeoutUs = 600'000'000;

uint64_t call_timeout_us(const std::string& method) {
    return method == "Reload" || method == "SaveConfiguration" ? kWholeConfigurationTimeoutUs : kCallTimeoutUs;
}

CallError local_error(const std::string& what, int r) {
    return CallError{"", what + ": " + std::strerror(-r), false};
}

}  // namespace

int message_to_json(sd_bus_message* message, nlohmann::json& out) {
    std::string text;
    int r = append_arguments_json(message, text);
    if (r < 0) return r;
    out = nlohmann::json::parse(text, nullptr, false);
    return out.is_discarded() ? -EBADMSG : 0;
}

Result<Client> Client::connect() {
    sd_bus* raw = nullptr;
    int r = sd_bus_open_system(&raw);
    BusPtr bus(raw);
    if (r < 0) return tl::unexpected(CallError{"", std::string("cannot reach the system bus: ") + std::strerror(-r), true});
    BusError error;
    sd_bus_message* reply_raw = nullptr;
    r = sd_bus_call_method(bus.get(), "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                           "NameHasOwner", error.get(), &reply_raw, "s", kBusName);
    MessagePtr reply(reply_raw);
    if (r < 0) return tl::unexpected(CallError{error.name(), std::string("the system bus did not answer: ") + error.message(), true});
    int has_owner = 0;
    if ((r = sd_bus_message_read(reply.get(), "b", &has_owner)) < 0) return tl::unexpected(local_error("bad bus reply", r));
    if (!has_owner) return tl::unexpected(CallError{"", "iscsi-targetd is not running", true});
    return Client(std::move(bus));
}

Result<MessagePtr> Client::call_message(const std::string& path, const std::string& interface, const std::string& method,
                                  const std::function<int(sd_bus_message*)>& append) {
    sd_bus_message* raw = nullptr;
    int r = sd_bus_message_new_method_call(bus_.get(), &raw, kBusName, path.c_str(), interface.c_str(), method.c_str());
    MessagePtr request(raw);
    if (r < 0) return tl::unexpected(local_error("cannot build the call", r));
    if (append && (r = append(request.get())) < 0) return tl::unexpected(local_error("cannot build the call arguments", r));
    BusError error;
    sd_bus_message* reply_raw = nullptr;
    r = sd_bus_call(bus_.get(), request.get(), call_timeout_us(method), error.get(), &reply_raw);
    MessagePtr reply(reply_raw);
    if (r < 0) {
        CallError failure{error.name(), error.is_set() ? error.message() : std::strerror(-r), false};
        if (failure.name == "org.freedesktop.DBus.Error.ServiceUnknown" ||
            failure.name == "org.freedesktop.DBus.Error.NameHasNoOwner") {
            failure.not_running = true;
            failure.message = "iscsi-targetd is not running";
        } else if (r == -ETIMEDOUT) {
            failure.message = method + " got no answer within " + std::to_string(call_timeout_us(method) / 1'000'000) +
                              " s; iscsi-targetd may still be working on it (see `iscsictl status`)";
        }
        return tl::unexpected(failure);
    }
    return reply;
}

Result<nlohmann::json> Client::call(const std::string& path, const std::string& interface, const std::string& method,
                                    const std::function<int(sd_bus_message*)>& append) {
    auto reply = call_message(path, interface, method, append);
    if (!reply) return tl::unexpected(reply.error());
    nlohmann::json out;
    if (int r = message_to_json(reply->get(), out); r < 0) return tl::unexpected(local_error("cannot read the reply", r));
    return out;
}

Result<nlohmann::json> Client::managed_objects() {
    auto reply = call(kRootPath, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects");
    if (!reply) return reply;
    return std::move((*reply)[0]);
}

Result<nlohmann::json> Client::properties(const std::string& path, const std::string& interface) {
    auto reply = call(path, "org.freedesktop.DBus.Properties", "GetAll",
                      [&](sd_bus_message* m) { return sd_bus_message_append(m, "s", interface.c_str()); });
    if (!reply) return reply;
    return std::move((*reply)[0]);
}

int append_options(sd_bus_message* m, const nlohmann::json& options,
                   const std::function<const char*(const std::string& key)>& type_of) {
    int r = sd_bus_message_open_container(m, 'a', "{sv}");
    if (r < 0) return r;
    for (const auto& [key, value] : options.items()) {
        const char* type = type_of(key);
        if (type == nullptr) return -EINVAL;
        if ((r = sd_bus_message_open_container(m, 'e', "sv")) < 0) return r;
        if ((r = sd_bus_message_append(m, "s", key.c_str())) < 0) return r;
        if ((r = sd_bus_message_open_container(m, 'v', type)) < 0) return r;
        std::string t = type;
        if (t == "b") r = sd_bus_message_append(m, "b", value.get<bool>() ? 1 : 0);
        else if (t == "u") r = sd_bus_message_append(m, "u", value.get<uint32_t>());
        else if (t == "t") r = sd_bus_message_append(m, "t", value.get<uint64_t>());
        else if (t == "s") r = sd_bus_message_append(m, "s", value.get<std::string>().c_str());
        else if (t == "as") {
            r = sd_bus_message_open_container(m, 'a', "s");
            for (const auto& item : value)
                if (r >= 0) r = sd_bus_message_append(m, "s", item.get<std::string>().c_str());
            if (r >= 0) r = sd_bus_message_close_container(m);
        } else if (t == "a{ss}") {
            r = sd_bus_message_open_container(m, 'a', "{ss}");
            for (const auto& [k, v] : value.items())
                if (r >= 0) r = sd_bus_message_append(m, "{ss}", k.c_str(), v.get<std::string>().c_str());
            if (r >= 0) r = sd_bus_message_close_container(m);
        } else if (t == "a(uub)") {
            r = sd_bus_message_open_container(m, 'a', "(uub)");
            for (const auto& item : value)
                if (r >= 0)
                    r = sd_bus_message_append(m, "(uub)", item[0].get<uint32_t>(), item[1].get<uint32_t>(),
                                              item[2].get<bool>() ? 1 : 0);
            if (r >= 0) r = sd_bus_message_close_container(m);
        } else {
            r = -EINVAL;
        }
        if (r < 0) return r;
        if ((r = sd_bus_message_close_container(m)) < 0) return r;
        if ((r = sd_bus_message_close_container(m)) < 0) return r;
    }
    return sd_bus_message_close_container(m);
}

}  // namespace iscsi::dbus::client
