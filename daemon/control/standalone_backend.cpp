#include "control/backend.h"
#include "control/control_plane.h"

namespace iscsi::control {

DataPathStatus data_path_status_of(kmod::DataPath* data_path) {
    DataPathStatus status;
    if (data_path == nullptr) {
        status.reason = "this daemon runs without a kernel data path";
        return status;
    }
    status.available = data_path->available();
    if (!status.available) {
        status.reason = data_path->unavailable_reason();
        return status;
    }
    if (auto version = data_path->version()) status.version = version->text;
    return status;
}

StandaloneBackend::StandaloneBackend(StoredConfiguration initial, ConfigStore& store, kmod::DataPath* data_path)
    : config_(std::move(initial.config)), secrets_(std::move(initial.secrets)), store_(store), data_path_(data_path) {}

Result<void> StandaloneBackend::apply_initial() {
    if (!kernel()) return {};
    if (auto applied = data_path_->apply(config_); !applied)
        return fail(ErrorKind::DataPathUnavailable, "the kernel refused the configuration: " + applied.error().message);
    return {};
}

Result<void> StandaloneBackend::replace(config::Config next, config::Secrets next_secrets) {
    if (kernel()) {
        if (auto applied = data_path_->apply(next); !applied) {
            // Put back what was there; the kernel's apply() touches only what
            // differs, so this undoes whatever part of the change it had made.
            (void)data_path_->apply(config_);
            return fail(ErrorKind::DataPathUnavailable,
                        "the kernel refused the change, nothing was changed: " + applied.error().message);
        }
    }
    if (auto saved = store_.save(next, next_secrets); !saved) {
        if (kernel()) (void)data_path_->apply(config_);
        return fail(saved.error().kind, "the change was undone because the configuration could not be saved: " +
                                            saved.error().message);
    }
    config_ = std::move(next);
    secrets_ = std::move(next_secrets);
    return {};
}

Result<void> StandaloneBackend::save() {
    return store_.save(config_, secrets_);
}

Result<void> StandaloneBackend::reload() {
    auto stored = store_.load();
    if (!stored) return tl::unexpected(stored.error());
    if (auto why = check_configuration(stored->config, stored->secrets); !why.empty())
        return fail(ErrorKind::InvalidArgument, store_.describe() + ": " + why + "; the running configuration is unchanged");
    if (kernel()) {
        if (auto applied = data_path_->apply(stored->config); !applied) {
            (void)data_path_->apply(config_);
            return fail(ErrorKind::DataPathUnavailable, "the kernel refused the stored configuration: " +
                                                            applied.error().message);
        }
    }
    config_ = std::move(stored->config);
    secrets_ = std::move(stored->secrets);
    return {};
}

}  // namespace iscsi::control
