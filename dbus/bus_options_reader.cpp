#include "dbus/bus_options_reader.h"

#include "dbus/bus_errors.h"

namespace iscsi::dbus {

int OptionReader::read_bool(bool* out) {
    int value = 0;
    int r = sd_bus_message_read(message_, "b", &value);
    if (r >= 0) *out = value != 0;
    return r;
}

int OptionReader::read_string(std::string* out) {
    const char* value = nullptr;
    int r = sd_bus_message_read(message_, "s", &value);
    if (r >= 0) *out = value;
    return r;
}

int OptionReader::read_strings(std::vector<std::string>* out) {
    char** values = nullptr;
    int r = sd_bus_message_read_strv(message_, &values);
    if (r < 0) return r;
    out->clear();
    for (char** p = values; p && *p; ++p) {
        out->emplace_back(*p);
        free(*p);
    }
    free(values);
    return r;
}

int OptionReader::read_string_map(std::map<std::string, std::string>* out) {
    int r = sd_bus_message_enter_container(message_, 'a', "{ss}");
    if (r < 0) return r;
    const char *key = nullptr, *value = nullptr;
    while ((r = sd_bus_message_read(message_, "{ss}", &key, &value)) > 0) (*out)[key] = value;
    if (r < 0) return r;
    return sd_bus_message_exit_container(message_);
}

int OptionReader::read() {
    int r = sd_bus_message_enter_container(message_, 'a', "{sv}");
    if (r < 0) return r;
    while ((r = sd_bus_message_enter_container(message_, 'e', "sv")) > 0) {
        const char* key = nullptr;
        if ((r = sd_bus_message_read(message_, "s", &key)) < 0) return r;
        auto handler = handlers_.find(key);
        if (handler == handlers_.end()) {
            std::string known;
            for (const auto& [name, h] : handlers_) known += (known.empty() ? "" : ", ") + name;
            return set_error(error_, control::ErrorKind::InvalidArgument,
                             std::string("unknown option '") + key + "'" + (known.empty() ? "; this method takes none" : "; known: " + known));
        }
        const char* contents = nullptr;
        if ((r = sd_bus_message_peek_type(message_, nullptr, &contents)) < 0) return r;
        if (contents == nullptr || handler->second.signature != contents)
            return set_error(error_, control::ErrorKind::InvalidArgument,
                             std::string("option '") + key + "' takes a value of type " + handler->second.signature +
                                 ", not " + (contents ? contents : "?"));
        if ((r = sd_bus_message_enter_container(message_, 'v', contents)) < 0) return r;
        if ((r = handler->second.read()) < 0) return r;
        if ((r = sd_bus_message_exit_container(message_)) < 0) return r;
        if ((r = sd_bus_message_exit_container(message_)) < 0) return r;
        seen_[key] = true;
    }
    if (r < 0) return r;
    return sd_bus_message_exit_container(message_);
}

}  // namespace iscsi::dbus
