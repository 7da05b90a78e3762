// Where the control plane keeps the configuration between restarts.
//
// The control plane decides *what* to store; the store decides how. The
// daemon's store is FileConfigStore over config.json / secrets.json, whose
// JSON encoding comes from config/ (the loader the daemon starts with), so
// that what is saved is exactly what is read back.
#pragma once

#include <functional>
#include <string>

#include "config/model.h"
#include "control/error.h"

namespace iscsi::control {

struct StoredConfiguration {
    config::Config config;
    config::Secrets secrets;
};

class ConfigStore {
public:
    virtual ~ConfigStore() = default;
    // Replaces the stored configuration; on failure the stored one is unchanged.
    virtual Result<void> save(const config::Config& config, const config::Secrets& secrets) = 0;
    virtual Result<StoredConfiguration> load() = 0;
    // For messages: where the configuration lives.
    virtual std::string describe() const = 0;
};

// How configuration is turned into file contents and back. Errors are
// messages naming the file, the JSON path and what is wrong.
struct ConfigCodec {
    std::function<std::string(const config::Config&)> encode_config;
    std::function<std::string(const config::Secrets&)> encode_secrets;
    // Reads both files; an absent file is an empty configuration.
    std::function<tl::expected<StoredConfiguration, std::string>(const std::string& config_path,
                                                                 const std::string& secrets_path)>
        load;
};

// config.json (0644, no secrets) and secrets.json (0600). Both are written to
// temporary files and synced before either is renamed, so a failed write
// leaves both files as they were.
class FileConfigStore final : public ConfigStore {
public:
    FileConfigStore(std::string config_path, std::string secrets_path, ConfigCodec codec);
    Result<void> save(const config::Config& config, const config::Secrets& secrets) override;
    Result<StoredConfiguration> load() override;
    std::string describe() const override;

private:
    std::string config_path_;
    std::string secrets_path_;
    ConfigCodec codec_;
};

}  // namespace iscsi::control
