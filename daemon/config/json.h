// config.json and secrets.json: parsing into model.h's types and back.
//
// Loading checks the JSON shape (types, unknown keys, enum spellings) and
// reports the first problem with the file and the JSON path. Semantic checks
// (names, references, ranges) are validate.h's. The schema is documented in
// packaging/man/iscsi-target.json.5.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "config/error.h"
#include "config/model.h"

namespace iscsi::config {

// From JSON text; `file` only names the source in errors.
Result<Config> parse_config(const std::string& text, const std::string& file = "config.json");
Result<Secrets> parse_secrets(const std::string& text, const std::string& file = "secrets.json");

// To JSON, in the same schema. Optional fields that are unset are left out.
nlohmann::json to_json(const Config& config);
nlohmann::json to_json(const Secrets& secrets);

const char* to_string(BackstoreType type);  // "fileio", "block", "ramdisk", "user"

}  // namespace iscsi::config
