// Errors from loading, validating and saving the configuration.
//
// Every error names the file, the JSON path of the offending value (e.g.
// "targets[2].portal_groups[0].portals[1].port") and what is wrong, so that
// an administrator can fix the file from the one line the daemon prints.
#pragma once

#include <string>

#include <tl/expected.hpp>

namespace iscsi::config {

struct Error {
    std::string file;     // empty when not tied to a file (e.g. a D-Bus change)
    std::string path;     // JSON path; empty for whole-file errors
    std::string message;  // what is wrong, for a person

    // "FILE: PATH: MESSAGE", leaving out empty parts.
    std::string to_string() const;
};

template <typename T>
using Result = tl::expected<T, Error>;

}  // namespace iscsi::config
