#include "policy/config_policy.h"

#include <algorithm>
#include <cctype>

#include "config/network.h"

namespace iscsi::policy {
namespace {

using Verdict = TargetAccess::Verdict;

// iqn names are lower case by validation; eui and naa hex digits may be
// written in either case (RFC 3722 compares names after case folding).
bool same_name(const std::string& a, const std::string& b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
               return std::tolower(x) == std::tolower(y);
           });
}

bool portal_matches(const config::Portal& portal, const ConnectionEndpoints& endpoints) {
    if (portal.port != endpoints.local_port) return false;
    auto configured = config::parse_address(portal.address);
    auto local = config::parse_address(endpoints.local_address);
    if (!configured || !local) return false;
    if (configured->is_wildcard()) return configured->v6 == local->v6;
    return *configured == *local;
}

TargetAccess refusal(Verdict verdict, std::string reason) {
    TargetAccess access;
    access.verdict = verdict;
    access.reason = std::move(reason);
    return access;
}

}  // namespace

ConfigPolicy::ConfigPolicy(sessions::Registry& registry, config::Config config, config::Secrets secrets)
    : registry_(registry) {
    update(std::move(config), std::move(secrets));
}

void ConfigPolicy::update(config::Config config, config::Secrets secrets) {
    config_ = std::make_shared<const config::Config>(std::move(config));
    secrets_ = std::make_shared<const config::Secrets>(std::move(secrets));
}

const config::Target* ConfigPolicy::find_target(const std::string& name) const {
    for (const auto& target : config_->targets)
        if (same_name(target.name, name)) return &target;
    return nullptr;
}

TargetAccess ConfigPolicy::group_access(const config::Target& target, const config::PortalGroup& group,
                                        const std::string& initiator_name, const std::string& peer_address) const {
    if (target.redirect || group.redirect) {
        const config::Redirect& redirect = target.redirect ? *target.redirect : *group.redirect;
        TargetAccess access;
        access.verdict = Verdict::Redirect;
        access.redirect = redirect;
        access.reason = std::string("target is configured to redirect ") +
                        (redirect.permanent ? "permanently" : "temporarily") + " to " + redirect.address + ":" +
                        std::to_string(redirect.port);
        return access;
    }
    auto acl = std::find_if(target.acls.begin(), target.acls.end(),
                            [&](const config::Acl& a) { return same_name(a.initiator_name, initiator_name); });
    if (acl == target.acls.end() && !group.demo_mode)
        return refusal(Verdict::NotAuthorized, "no ACL for this initiator on " + target.name +
                                                   " and demo mode is off on TPGT " + std::to_string(group.tpgt));
    if (acl != target.acls.end() && !acl->allowed_networks.empty()) {
        auto peer = config::parse_address(peer_address);
        bool inside = peer && std::any_of(acl->allowed_networks.begin(), acl->allowed_networks.end(),
                                          [&](const std::string& text) {
                                              auto network = config::parse_network(text).network;
                                              return network && network->contains(*peer);
                                          });
        if (!inside)
            return refusal(Verdict::NotAuthorized,
                           "address " + peer_address + " is not in the ACL's allowed networks for " + target.name);
    }
    TargetAccess access;
    access.verdict = Verdict::Allowed;
    access.target_alias = target.alias;
    access.parameters = target.parameters;
    if (acl != target.acls.end() && acl->chap) access.chap = acl->chap;
    else access.chap = target.chap;
    access.reason = acl != target.acls.end() ? "ACL" : "demo mode";
    return access;
}

TargetAccess ConfigPolicy::target_access(const std::string& target_name, const std::string& initiator_name,
                                         const ConnectionEndpoints& endpoints) {
    const config::Target* target = find_target(target_name);
    if (!target) return refusal(Verdict::NotFound, "no target named " + target_name);
    auto group = std::find_if(target->portal_groups.begin(), target->portal_groups.end(), [&](const auto& g) {
        return g.tpgt == endpoints.tpgt && g.enabled &&
               std::any_of(g.portals.begin(), g.portals.end(),
                           [&](const config::Portal& p) { return portal_matches(p, endpoints); });
    });
    if (group == target->portal_groups.end())
        return refusal(Verdict::NotFound, target->name + " is not served on portal " + endpoints.local_address + ":" +
                                              std::to_string(endpoints.local_port) + " (TPGT " +
                                              std::to_string(endpoints.tpgt) + ")");
    return group_access(*target, *group, initiator_name, endpoints.peer_address);
}

std::optional<config::ChapCredentials> ConfigPolicy::discovery_chap(const std::string&) {
    return config_->discovery.chap;
}

std::optional<std::string> ConfigPolicy::chap_secret(const std::string& user) {
    auto it = secrets_->chap.find(user);
    if (it == secrets_->chap.end()) return std::nullopt;
    return it->second;
}

config::Security ConfigPolicy::security() { return config_->security; }

sessions::AdmissionLimits ConfigPolicy::limits_for(const std::string& target_name) const {
    sessions::AdmissionLimits limits;
    limits.global_max_sessions = config_->limits.max_sessions;
    if (const config::Target* target = find_target(target_name)) {
        limits.target_max_sessions = target->max_sessions;
        limits.max_connections = target->parameters.max_connections.value_or(1);
    }
    return limits;
}

Admission ConfigPolicy::check_admission(const LoginIdentity& identity) {
    return registry_.check(identity, limits_for(identity.target_name));
}

Admission ConfigPolicy::admit(const LoginIdentity& identity, const ConnectionEndpoints& endpoints) {
    return registry_.admit(identity, endpoints, limits_for(identity.target_name));
}

void ConfigPolicy::abandon(const LoginIdentity& identity, const Admission& admission) {
    registry_.abandon(identity, admission);
}

std::vector<SendTargetsEntry> ConfigPolicy::send_targets(const std::string& initiator_name,
                                                         const ConnectionEndpoints& endpoints,
                                                         const std::string& target_name) {
    std::vector<SendTargetsEntry> entries;
    auto local = config::parse_address(endpoints.local_address);
    for (const auto& target : config_->targets) {
        if (!target_name.empty() && !same_name(target.name, target_name)) continue;
        SendTargetsEntry entry;
        entry.target_name = target.name;
        for (const auto& group : target.portal_groups) {
            if (!group.enabled) continue;
            auto access = group_access(target, group, initiator_name, endpoints.peer_address);
            if (access.verdict != Verdict::Allowed && access.verdict != Verdict::Redirect) continue;
            for (const auto& portal : group.portals) {
                auto address = config::parse_address(portal.address);
                if (!address) continue;
                std::string listed = portal.address;
                if (address->is_wildcard()) {
                    // The initiator reached us at endpoints.local_address; that
                    // address is the useful one to give back for a wildcard.
                    if (!local || local->v6 != address->v6) continue;
                    listed = endpoints.local_address;
                    address = local;
                }
                if (address->is_link_local() && !config_->discovery.include_link_local) continue;
                entry.portals.push_back({listed, portal.port, group.tpgt});
            }
        }
        if (!entry.portals.empty()) entries.push_back(std::move(entry));
    }
    return entries;
}

}  // namespace iscsi::policy
