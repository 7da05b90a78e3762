// The daemon's LoginPolicy: answers the login state machine's questions
// from the configuration, the secrets and the session registry.
//
// Access to a target through a portal group, in this order:
//   1. the target exists and has an enabled portal group with the
//      connection's TPGT that contains the portal the connection came in on;
//   2. a redirect on the target or the portal group wins over everything else;
//   3. an ACL for the initiator whose allowed networks (if any) contain the
//      peer address, or demo mode on the portal group;
//   4. CHAP: the ACL's credentials, else the target's.
// Discovery lists a target only when step 1-3 would let the initiator in
// (or redirect it), never with link-local IPv6 portals unless
// discovery.include_link_local is set. Wildcard portals are listed with the
// address the discovery connection came in on.
#pragma once

#include <memory>

#include "config/model.h"
#include "iscsi/login_policy.h"
#include "sessions/registry.h"

namespace iscsi::policy {

class ConfigPolicy final : public LoginPolicy {
public:
    ConfigPolicy(sessions::Registry& registry, config::Config config, config::Secrets secrets);

    // Reload: later logins see the new configuration; logins in progress
    // keep the answers they already got.
    void update(config::Config config, config::Secrets secrets);
    const config::Config& config() const { return *config_; }

    TargetAccess target_access(const std::string& target_name, const std::string& initiator_name,
                               const ConnectionEndpoints& endpoints) override;
    std::optional<config::ChapCredentials> discovery_chap(const std::string& initiator_name) override;
    std::optional<std::string> chap_secret(const std::string& user) override;
    config::Security security() override;
    Admission check_admission(const LoginIdentity& identity) override;
    Admission admit(const LoginIdentity& identity, const ConnectionEndpoints& endpoints) override;
    void abandon(const LoginIdentity& identity, const Admission& admission) override;
    std::vector<SendTargetsEntry> send_targets(const std::string& initiator_name,
                                               const ConnectionEndpoints& endpoints,
                                               const std::string& target_name) override;

private:
    const config::Target* find_target(const std::string& name) const;
    sessions::AdmissionLimits limits_for(const std::string& target_name) const;
    // Steps 2-4 for one portal group.
    TargetAccess group_access(const config::Target& target, const config::PortalGroup& group,
                              const std::string& initiator_name, const std::string& peer_address) const;

    sessions::Registry& registry_;
    std::shared_ptr<const config::Config> config_;
    std::shared_ptr<const config::Secrets> secrets_;
};

}  // namespace iscsi::policy
