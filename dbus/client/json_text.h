// D-Bus values written straight out as JSON text, without building a tree.
//
// iscsictl prints replies as --json. A ListSessions reply with 1,000 sessions
// is about a megabyte and 50,000 values; building a JSON tree of it (one heap
// node and one map per value) and then serializing that tree cost more than
// the daemon and the bus together. Walking the message once and appending text
// costs a fraction of that, and a tree, where one is needed, is parsed from
// the text.
//
// Mapping: a dictionary becomes an object (a non-string key is written as its
// JSON text in quotes), an array or a struct becomes an array, a variant is
// unwrapped, booleans are true/false, file descriptors their number. Layout is
// that of nlohmann::json::dump(2); keys keep the order of the message.
#pragma once

#include <cstdio>
#include <string>

#include <systemd/sd-bus.h>

namespace iscsi::dbus::client {

// Appends the message's remaining arguments (at the current read position) as
// one JSON array. Returns a negative errno if the message cannot be read.
int append_arguments_json(sd_bus_message* message, std::string& out);

// Writes the message's next argument as one JSON value and a newline to file,
// in pieces as it is read. Returns a negative errno if the message cannot be
// read or the file not written.
int write_argument_json(sd_bus_message* message, std::FILE* file);

}  // namespace iscsi::dbus::client
