#include "control/atomic_file.h"
#include "control/config_store.h"

namespace iscsi::control {

FileConfigStore::FileConfigStore(std::string config_path, std::string secrets_path, ConfigCodec codec)
    : config_path_(std::move(config_path)), secrets_path_(std::move(secrets_path)), codec_(std::move(codec)) {}

Result<void> FileConfigStore::save(const config::Config& config, const config::Secrets& secrets) {
    auto staged_secrets = StagedFile::write(secrets_path_, codec_.encode_secrets(secrets), 0600);
    if (!staged_secrets) return tl::unexpected(staged_secrets.error());
    auto staged_config = StagedFile::write(config_path_, codec_.encode_config(config), 0644);
    if (!staged_config) return tl::unexpected(staged_config.error());
    if (auto done = staged_secrets->commit(); !done) return done;
    return staged_config->commit();
}

Result<StoredConfiguration> FileConfigStore::load() {
    auto loaded = codec_.load(config_path_, secrets_path_);
    if (!loaded) return fail(ErrorKind::InvalidArgument, loaded.error());
    return std::move(*loaded);
}

std::string FileConfigStore::describe() const {
    return config_path_ + " and " + secrets_path_;
}

}  // namespace iscsi::control
