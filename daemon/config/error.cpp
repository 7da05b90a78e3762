#include "config/error.h"

namespace iscsi::config {

std::string Error::to_string() const {
    std::string text;
    if (!file.empty()) text += file + ": ";
    if (!path.empty()) text += path + ": ";
    text += message;
    return text;
}

}  // namespace iscsi::config
