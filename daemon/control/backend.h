// What the control plane changes: the configuration in force, applied and
// persisted all or nothing.
//
// Two implementations: StandaloneBackend (this file) keeps the configuration
// itself and applies it through a DataPath and a ConfigStore; the daemon's
// backend (dbus/service.cpp) hands each change to iscsi-targetd, which also
// updates its portals and login policy.
#pragma once

#include <string>

#include "config/model.h"
#include "control/config_store.h"
#include "control/error.h"
#include "data_path.h"

namespace iscsi::control {

// What the data path is doing, for the Manager's DataPath property.
struct DataPathStatus {
    bool available = false;
    std::string version;  // the module's version text when available
    std::string reason;   // why not, when unavailable
};

DataPathStatus data_path_status_of(kmod::DataPath* data_path);

class ConfigurationBackend {
public:
    virtual ~ConfigurationBackend() = default;
    virtual const config::Config& config() const = 0;
    virtual const config::Secrets& secrets() const = 0;
    // Applies and persists `next`; on failure nothing has changed: not the
    // kernel, not the files, not what config() returns.
    virtual Result<void> replace(config::Config next, config::Secrets next_secrets) = 0;
    // Writes the configuration in force to its files.
    virtual Result<void> save() = 0;
    // Reads the files and makes them the configuration in force (or changes nothing).
    virtual Result<void> reload() = 0;
    virtual DataPathStatus data_path_status() const = 0;
    // For messages: where the configuration lives.
    virtual std::string location() const = 0;
};

class StandaloneBackend final : public ConfigurationBackend {
public:
    // data_path may be null (no kernel data path in this process): changes
    // are then stored and applied by the next daemon that has one.
    StandaloneBackend(StoredConfiguration initial, ConfigStore& store, kmod::DataPath* data_path);

    const config::Config& config() const override { return config_; }
    const config::Secrets& secrets() const override { return secrets_; }
    Result<void> replace(config::Config next, config::Secrets next_secrets) override;
    Result<void> save() override;
    Result<void> reload() override;
    DataPathStatus data_path_status() const override { return data_path_status_of(data_path_); }
    std::string location() const override { return store_.describe(); }

    // Applies the initial configuration to the data path at start.
    Result<void> apply_initial();

private:
    bool kernel() const { return data_path_ != nullptr && data_path_->available(); }
    config::Config config_;
    config::Secrets secrets_;
    ConfigStore& store_;
    kmod::DataPath* data_path_;
};

}  // namespace iscsi::control
