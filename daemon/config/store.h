// Loading and saving the configuration files.
//
// This is the API the daemon and the D-Bus service use: load both files,
// validate them together, and save atomically (write a temporary file in
// the same directory, fsync it, rename it over the old one, fsync the
// directory), so a crash leaves either the old or the new file, never a
// torn one. secrets.json is always written with mode 0600.
#pragma once

#include <string>

#include "config/error.h"
#include "config/model.h"

namespace iscsi::config {

struct Files {
    std::string config_path = "/etc/iscsi-target/config.json";
    std::string secrets_path = "/etc/iscsi-target/secrets.json";
};

struct Loaded {
    Config config;
    Secrets secrets;
};

// Reads, parses and validates both files. A missing secrets file is an
// empty Secrets (valid as long as no CHAP user is configured); a missing
// config file is an error.
Result<Loaded> load(const Files& files);

Result<Config> load_config(const std::string& path);
Result<Secrets> load_secrets(const std::string& path);

// Validates, then writes atomically. Nothing is written when invalid.
Result<void> save(const Files& files, const Config& config, const Secrets& secrets);
Result<void> save_config(const std::string& path, const Config& config);
Result<void> save_secrets(const std::string& path, const Secrets& secrets);

// Writes `contents` to `path` atomically with the given mode.
Result<void> write_file_atomically(const std::string& path, const std::string& contents, unsigned mode);

}  // namespace iscsi::config
