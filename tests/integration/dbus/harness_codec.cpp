#include "harness_codec.h"

#include "config/json.h"
#include "config/store.h"

namespace iscsi::testing {

// The daemon's own JSON encoding and loader (config/), so that the harness
// reads and writes exactly the files iscsi-targetd does.
control::ConfigCodec harness_codec() {
    control::ConfigCodec codec;
    codec.encode_config = [](const config::Config& c) { return config::to_json(c).dump(2) + "\n"; };
    codec.encode_secrets = [](const config::Secrets& s) { return config::to_json(s).dump(2) + "\n"; };
    codec.load = [](const std::string& config_path,
                    const std::string& secrets_path) -> tl::expected<control::StoredConfiguration, std::string> {
        auto loaded = config::load(config::Files{config_path, secrets_path});
        if (!loaded) return tl::unexpected(loaded.error().to_string());
        return control::StoredConfiguration{std::move(loaded->config), std::move(loaded->secrets)};
    };
    return codec;
}

}  // namespace iscsi::testing
