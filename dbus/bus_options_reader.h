// Reading the a{sv} option dictionaries of Manager methods with typed checks:
// an unknown key or a value of the wrong type is an InvalidArgument error that
// names the key, never a silently ignored option.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <systemd/sd-bus.h>

namespace iscsi::dbus {

class OptionReader {
public:
    OptionReader(sd_bus_message* message, sd_bus_error* error) : message_(message), error_(error) {}

    // Declare each accepted key with where its value goes, then read().
    void add(const std::string& key, bool* out) { handlers_[key] = {"b", [this, out] { return read_bool(out); }}; }
    void add(const std::string& key, uint32_t* out) { handlers_[key] = {"u", [this, out] { return sd_bus_message_read(message_, "u", out); }}; }
    void add(const std::string& key, uint64_t* out) { handlers_[key] = {"t", [this, out] { return sd_bus_message_read(message_, "t", out); }}; }
    void add(const std::string& key, std::string* out) { handlers_[key] = {"s", [this, out] { return read_string(out); }}; }
    void add(const std::string& key, std::vector<std::string>* out) { handlers_[key] = {"as", [this, out] { return read_strings(out); }}; }
    void add(const std::string& key, std::map<std::string, std::string>* out) { handlers_[key] = {"a{ss}", [this, out] { return read_string_map(out); }}; }
    void add_custom(const std::string& key, const std::string& signature, std::function<int()> read) {
        handlers_[key] = {signature, std::move(read)};
    }

    // Reads the a{sv} at the message's read position. Negative on error, with
    // *error set for the caller to return.
    int read();
    // Whether the caller gave this key.
    bool given(const std::string& key) const { return seen_.count(key) != 0; }

private:
    struct Handler {
        std::string signature;
        std::function<int()> read;
    };
    int read_bool(bool* out);
    int read_string(std::string* out);
    int read_strings(std::vector<std::string>* out);
    int read_string_map(std::map<std::string, std::string>* out);

    sd_bus_message* message_;
    sd_bus_error* error_;
    std::map<std::string, Handler> handlers_;
    std::map<std::string, bool> seen_;
};

}  // namespace iscsi::dbus
