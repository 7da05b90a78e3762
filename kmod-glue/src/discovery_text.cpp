#include "discovery_text.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace iscsi::kmod {
namespace {

bool is_wildcard(const std::string& address) {
    return address == "0.0.0.0" || address == "::" || address == "0:0:0:0:0:0:0:0";
}

// fe80::/10, written without brackets as the configuration holds it.
bool is_link_local(const std::string& address) {
    if (address.size() < 4 || address.find(':') == std::string::npos) return false;
    std::string prefix = address.substr(0, 4);
    std::transform(prefix.begin(), prefix.end(), prefix.begin(), [](unsigned char c) { return std::tolower(c); });
    return prefix[0] == 'f' && prefix[1] == 'e' && (prefix[2] >= '8' && prefix[2] <= 'b');
}

void append_pair(std::string& out, const std::string& key, const std::string& value) {
    out += key;
    out += '=';
    out += value;
    out += '\0';
}

}  // namespace

std::string discovery_text(const config::Config& config, const config::Target& target) {
    std::string out;
    if (!config.discovery.enabled) return out;
    std::vector<std::string> listed;
    for (const auto& group : target.portal_groups) {
        if (!group.enabled) continue;
        for (const auto& portal : group.portals) {
            std::string host;
            if (is_wildcard(portal.address)) {
                host = "*";
            } else if (is_link_local(portal.address) && !config.discovery.include_link_local) {
                continue;
            } else if (portal.address.find(':') != std::string::npos) {
                host = "[" + portal.address + "]";
            } else {
                host = portal.address;
            }
            std::string address = host + ":" + std::to_string(portal.port) + "," + std::to_string(group.tpgt);
            if (std::find(listed.begin(), listed.end(), address) != listed.end()) continue;
            listed.push_back(std::move(address));
        }
    }
    if (listed.empty()) return out;
    append_pair(out, "TargetName", target.name);
    for (const auto& address : listed) append_pair(out, "TargetAddress", address);
    return out;
}

}  // namespace iscsi::kmod
