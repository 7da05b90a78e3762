#include "control/control_plane.h"

#include <algorithm>
#include <set>
#include <sys/stat.h>

#include "control/names.h"

namespace iscsi::control {
namespace {

template <typename T>
T* mutable_ptr(const T* p) {
    return const_cast<T*>(p);
}

tl::unexpected<Error> invalid(const std::string& what, const std::string& why) {
    return fail(ErrorKind::InvalidArgument, what + ": " + why);
}

std::string portal_text(const config::Portal& portal) {
    if (portal.address.find(':') != std::string::npos)
        return "[" + portal.address + "]:" + std::to_string(portal.port);
    return portal.address + ":" + std::to_string(portal.port);
}

std::string lun_text(const std::string& target, uint32_t lun) {
    return "LUN " + std::to_string(lun) + " of " + target;
}

// CHAP user names referenced anywhere in the configuration.
std::set<std::string> chap_users(const config::Config& config) {
    std::set<std::string> users;
    auto add = [&](const std::optional<config::ChapCredentials>& chap) {
        if (!chap) return;
        if (!chap->user.empty()) users.insert(chap->user);
        if (!chap->mutual_user.empty()) users.insert(chap->mutual_user);
    };
    add(config.discovery.chap);
    for (const auto& target : config.targets) {
        add(target.chap);
        for (const auto& acl : target.acls) add(acl.chap);
    }
    return users;
}

// Secrets no longer referenced are dropped, so that clearing CHAP really
// forgets the secret.
void prune_secrets(const config::Config& config, config::Secrets& secrets) {
    auto users = chap_users(config);
    for (auto it = secrets.chap.begin(); it != secrets.chap.end();)
        it = users.count(it->first) ? std::next(it) : secrets.chap.erase(it);
}

}  // namespace

const char* to_string(ChapScope scope) {
    switch (scope) {
    case ChapScope::Discovery: return "discovery";
    case ChapScope::Target: return "target";
    case ChapScope::Acl: return "acl";
    }
    return "?";
}

std::optional<ChapScope> chap_scope_from_string(const std::string& text) {
    if (text == "discovery") return ChapScope::Discovery;
    if (text == "target") return ChapScope::Target;
    if (text == "acl") return ChapScope::Acl;
    return std::nullopt;
}

const char* to_string(config::BackstoreType type) {
    switch (type) {
    case config::BackstoreType::FileIo: return "fileio";
    case config::BackstoreType::Block: return "block";
    case config::BackstoreType::Ramdisk: return "ramdisk";
    case config::BackstoreType::User: return "user";
    }
    return "?";
}

std::optional<config::BackstoreType> backstore_type_from_string(const std::string& text) {
    if (text == "fileio") return config::BackstoreType::FileIo;
    if (text == "block") return config::BackstoreType::Block;
    if (text == "ramdisk") return config::BackstoreType::Ramdisk;
    if (text == "user") return config::BackstoreType::User;
    return std::nullopt;
}

const config::Target* find_target(const config::Config& config, const std::string& name) {
    for (const auto& target : config.targets)
        if (target.name == name) return &target;
    return nullptr;
}

const config::PortalGroup* find_portal_group(const config::Target& target, uint16_t tpgt) {
    for (const auto& group : target.portal_groups)
        if (group.tpgt == tpgt) return &group;
    return nullptr;
}

const config::Backstore* find_backstore(const config::Config& config, const std::string& name) {
    for (const auto& backstore : config.backstores)
        if (backstore.name == name) return &backstore;
    return nullptr;
}

const config::Lun* find_lun(const config::Target& target, uint32_t lun) {
    for (const auto& entry : target.luns)
        if (entry.lun == lun) return &entry;
    return nullptr;
}

const config::Acl* find_acl(const config::Target& target, const std::string& initiator) {
    for (const auto& acl : target.acls)
        if (acl.initiator_name == initiator) return &acl;
    return nullptr;
}

std::string check_configuration(const config::Config& config, const config::Secrets& secrets) {
    std::set<std::string> names;
    for (const auto& backstore : config.backstores) {
        if (auto why = check_backstore_name(backstore.name); !why.empty()) return "backstore " + backstore.name + ": " + why;
        if (!names.insert(backstore.name).second) return "backstore " + backstore.name + " is defined twice";
    }
    names.clear();
    for (const auto& target : config.targets) {
        if (auto why = check_iscsi_name(target.name); !why.empty()) return "target " + target.name + ": " + why;
        if (!names.insert(target.name).second) return "target " + target.name + " is defined twice";
        std::set<uint32_t> luns;
        for (const auto& lun : target.luns) {
            if (!luns.insert(lun.lun).second) return lun_text(target.name, lun.lun) + " is defined twice";
            if (!find_backstore(config, lun.backstore))
                return lun_text(target.name, lun.lun) + " names backstore " + lun.backstore + ", which does not exist";
        }
        std::set<uint16_t> groups;
        for (const auto& group : target.portal_groups)
            if (!groups.insert(group.tpgt).second)
                return "portal group " + std::to_string(group.tpgt) + " of " + target.name + " is defined twice";
        for (const auto& acl : target.acls)
            if (auto why = check_iscsi_name(acl.initiator_name); !why.empty())
                return "ACL " + acl.initiator_name + " of " + target.name + ": " + why;
    }
    for (const auto& user : chap_users(config))
        if (!secrets.chap.count(user)) return "CHAP user " + user + " has no secret in the secrets file";
    return {};
}

void ControlPlane::notify() {
    for (const auto& handler : handlers_) handler(backend_.config(), backend_.secrets());
}

Result<void> ControlPlane::commit(config::Config next, config::Secrets next_secrets) {
    prune_secrets(next, next_secrets);
    if (auto done = backend_.replace(std::move(next), std::move(next_secrets)); !done) return done;
    notify();
    return {};
}

Result<std::vector<kmod::KernelSession>> ControlPlane::live_sessions_of(const std::string& target) {
    auto all = sessions_.list();
    if (!all) return tl::unexpected(all.error());
    std::vector<kmod::KernelSession> matching;
    for (auto& session : *all)
        if (session.target_name == target) matching.push_back(std::move(session));
    return matching;
}

Result<void> ControlPlane::create_target(const TargetSpec& spec) {
    if (auto why = check_iscsi_name(spec.name); !why.empty()) return invalid("target name '" + spec.name + "'", why);
    if (spec.alias.size() > 255) return invalid("alias", "at most 255 bytes");
    if (find_target(config(), spec.name)) return fail(ErrorKind::AlreadyExists, "target " + spec.name + " already exists");
    config::Config next = config();
    config::Target target;
    target.name = spec.name;
    target.alias = spec.alias;
    target.max_sessions = spec.max_sessions;
    next.targets.push_back(std::move(target));
    return commit(std::move(next), backend_.secrets());
}

Result<void> ControlPlane::delete_target(const std::string& name) {
    if (!find_target(config(), name)) return fail(ErrorKind::NotFound, "there is no target " + name);
    auto live = live_sessions_of(name);
    if (!live) return tl::unexpected(live.error());
    if (!live->empty())
        return fail(ErrorKind::Busy, "target " + name + " has " + std::to_string(live->size()) +
                                         " live session(s); end them first (iscsictl session terminate)");
    config::Config next = config();
    std::erase_if(next.targets, [&](const config::Target& t) { return t.name == name; });
    return commit(std::move(next), backend_.secrets());
}

Result<void> ControlPlane::create_portal_group(const PortalGroupSpec& spec) {
    const auto* target = find_target(config(), spec.target);
    if (!target) return fail(ErrorKind::NotFound, "there is no target " + spec.target);
    if (spec.tpgt == 0) return invalid("portal group tag", "0 is reserved; use 1..65535");
    if (find_portal_group(*target, spec.tpgt))
        return fail(ErrorKind::AlreadyExists,
                    "target " + spec.target + " already has portal group " + std::to_string(spec.tpgt));
    config::Config next = config();
    config::PortalGroup group;
    group.tpgt = spec.tpgt;
    group.enabled = spec.enabled;
    group.demo_mode = spec.demo_mode;
    group.demo_mode_write_protect = spec.demo_mode_write_protect;
    mutable_ptr(find_target(next, spec.target))->portal_groups.push_back(std::move(group));
    return commit(std::move(next), backend_.secrets());
}

Result<void> ControlPlane::delete_portal_group(const std::string& target_name, uint16_t tpgt) {
    const auto* target = find_target(config(), target_name);
    if (!target) return fail(ErrorKind::NotFound, "there is no target " + target_name);
    if (!find_portal_group(*target, tpgt))
        return fail(ErrorKind::NotFound, "target " + target_name + " has no portal group " + std::to_string(tpgt));
    auto live = live_sessions_of(target_name);
    if (!live) return tl::unexpected(live.error());
    for (const auto& session : *live)
        if (session.tpgt == tpgt)
            return fail(ErrorKind::Busy, "portal group " + std::to_string(tpgt) + " of " + target_name +
                                             " has live sessions; end them first");
    config::Config next = config();
    std::erase_if(mutable_ptr(find_target(next, target_name))->portal_groups,
                  [&](const config::PortalGroup& g) { return g.tpgt == tpgt; });
    return commit(std::move(next), backend_.secrets());
}

Result<void> ControlPlane::create_portal(const PortalSpec& spec) {
    const auto* target = find_target(config(), spec.target);
    if (!target) return fail(ErrorKind::NotFound, "there is no target " + spec.target);
    const auto* group = find_portal_group(*target, spec.tpgt);
    if (!group)
        return fail(ErrorKind::NotFound, "target " + spec.target + " has no portal group " + std::to_string(spec.tpgt) +
                                             "; create it first (iscsictl portal-group create)");
    if (auto why = check_address(spec.portal.address); !why.empty()) return invalid("portal address", why);
    if (spec.portal.port == 0) return invalid("portal port", "0 is not a port; the iSCSI port is 3260");
    for (const auto& portal : group->portals)
        if (portal.address == spec.portal.address && portal.port == spec.portal.port)
            return fail(ErrorKind::AlreadyExists, "portal " + portal_text(spec.portal) + " is already in portal group " +
                                                      std::to_string(spec.tpgt) + " of " + spec.target);
    config::Config next = config();
    mutable_ptr(find_portal_group(*find_target(next, spec.target), spec.tpgt))->portals.push_back(spec.portal);
    return commit(std::move(next), backend_.secrets());
}

Result<void> ControlPlane::delete_portal(const PortalSpec& spec) {
    const auto* target = find_target(config(), spec.target);
    if (!target) return fail(ErrorKind::NotFound, "there is no target " + spec.target);
    const auto* group = find_portal_group(*target, spec.tpgt);
    if (!group)
        return fail(ErrorKind::NotFound, "target " + spec.target + " has no portal group " + std::to_string(spec.tpgt));
    auto same = [&](const config::Portal& p) { return p.address == spec.portal.address && p.port == spec.portal.port; };
    if (std::none_of(group->portals.begin(), group->portals.end(), same))
        return fail(ErrorKind::NotFound, "portal group " + std::to_string(spec.tpgt) + " of " + spec.target +
                                             " has no portal " + portal_text(spec.portal));
    config::Config next = config();
    std::erase_if(mutable_ptr(find_portal_group(*find_target(next, spec.target), spec.tpgt))->portals, same);
    return commit(std::move(next), backend_.secrets());
}

Result<void> ControlPlane::create_backstore(const config::Backstore& spec) {
    if (auto why = check_backstore_name(spec.name); !why.empty()) return invalid("backstore name '" + spec.name + "'", why);
    if (find_backstore(config(), spec.name))
        return fail(ErrorKind::AlreadyExists, "backstore " + spec.name + " already exists");
    struct stat info {};
    switch (spec.type) {
    case config::BackstoreType::FileIo:
        if (spec.path.empty() || spec.path[0] != '/') return invalid("fileio backstore", "Path must be an absolute path");
        if (::stat(spec.path.c_str(), &info) != 0) {
            if (spec.size_bytes == 0)
                return invalid("fileio backstore", spec.path + " does not exist; give a size to create it");
            auto parent = spec.path.substr(0, spec.path.rfind('/'));
            if (!parent.empty() && ::stat(parent.c_str(), &info) != 0)
                return invalid("fileio backstore", "directory " + parent + " does not exist");
        } else if (!S_ISREG(info.st_mode)) {
            return invalid("fileio backstore", spec.path + " is not a regular file (use a block backstore for devices)");
        }
        break;
    case config::BackstoreType::Block:
        if (::stat(spec.path.c_str(), &info) != 0) return invalid("block backstore", spec.path + " does not exist");
        if (!S_ISBLK(info.st_mode)) return invalid("block backstore", spec.path + " is not a block device");
        break;
    case config::BackstoreType::Ramdisk:
        if (spec.size_bytes == 0) return invalid("ramdisk backstore", "give its size in bytes");
        if (!spec.path.empty()) return invalid("ramdisk backstore", "a ramdisk has no path");
        break;
    case config::BackstoreType::User:
        if (spec.path.empty()) return invalid("user backstore", "give the TCMU handler configuration as its path");
        break;
    }
    config::Config next = config();
    next.backstores.push_back(spec);
    return commit(std::move(next), backend_.secrets());
}

Result<void> ControlPlane::delete_backstore(const std::string& name) {
    if (!find_backstore(config(), name)) return fail(ErrorKind::NotFound, "there is no backstore " + name);
    for (const auto& target : config().targets)
        for (const auto& lun : target.luns)
            if (lun.backstore == name)
                return fail(ErrorKind::Busy, "backstore " + name + " is in use by " + lun_text(target.name, lun.lun) +
                                                 "; delete the LUN first");
    config::Config next = config();
    std::erase_if(next.backstores, [&](const config::Backstore& b) { return b.name == name; });
    return commit(std::move(next), backend_.secrets());
}

Result<void> ControlPlane::create_lun(const LunSpec& spec) {
    const auto* target = find_target(config(), spec.target);
    if (!target) return fail(ErrorKind::NotFound, "there is no target " + spec.target);
    // LIO's LUN numbers are 0..65535 for a flat space (SAM-5 single level).
    if (spec.lun > 65535) return invalid("LUN number", "0..65535");
    if (!find_backstore(config(), spec.backstore))
        return fail(ErrorKind::NotFound, "there is no backstore " + spec.backstore + "; create it first");
    if (find_lun(*target, spec.lun))
        return fail(ErrorKind::AlreadyExists, lun_text(spec.target, spec.lun) + " already exists");
    for (const auto& lun : target->luns)
        if (lun.backstore == spec.backstore)
            return fail(ErrorKind::Busy, "backstore " + spec.backstore + " is already " + lun_text(spec.target, lun.lun));
    config::Config next = config();
    mutable_ptr(find_target(next, spec.target))->luns.push_back(config::Lun{spec.lun, spec.backstore});
    return commit(std::move(next), backend_.secrets());
}

Result<void> ControlPlane::delete_lun(const std::string& target_name, uint32_t lun) {
    const auto* target = find_target(config(), target_name);
    if (!target) return fail(ErrorKind::NotFound, "there is no target " + target_name);
    if (!find_lun(*target, lun)) return fail(ErrorKind::NotFound, lun_text(target_name, lun) + " does not exist");
    for (const auto& acl : target->acls)
        for (const auto& mapped : acl.mapped_luns)
            if (mapped.lun == lun)
                return fail(ErrorKind::Busy, lun_text(target_name, lun) + " is mapped for " + acl.initiator_name +
                                                 "; delete or change that ACL first");
    auto live = live_sessions_of(target_name);
    if (!live) return tl::unexpected(live.error());
    if (!live->empty())
        return fail(ErrorKind::Busy, "target " + target_name + " has live sessions that may use " +
                                         lun_text(target_name, lun) + "; end them first");
    config::Config next = config();
    std::erase_if(mutable_ptr(find_target(next, target_name))->luns, [&](const config::Lun& l) { return l.lun == lun; });
    return commit(std::move(next), backend_.secrets());
}

Result<void> ControlPlane::create_acl(const AclSpec& spec) {
    const auto* target = find_target(config(), spec.target);
    if (!target) return fail(ErrorKind::NotFound, "there is no target " + spec.target);
    const auto& acl = spec.acl;
    if (auto why = check_iscsi_name(acl.initiator_name); !why.empty())
        return invalid("initiator name '" + acl.initiator_name + "'", why);
    if (find_acl(*target, acl.initiator_name))
        return fail(ErrorKind::AlreadyExists, "target " + spec.target + " already has an ACL for " + acl.initiator_name);
    for (const auto& network : acl.allowed_networks)
        if (auto why = check_network(network); !why.empty()) return invalid("allowed network", why);
    std::set<uint32_t> seen;
    for (const auto& mapped : acl.mapped_luns) {
        if (!find_lun(*target, mapped.lun))
            return fail(ErrorKind::NotFound, "mapped LUN " + std::to_string(mapped.mapped_lun) + " points at " +
                                                 lun_text(spec.target, mapped.lun) + ", which does not exist");
        if (!seen.insert(mapped.mapped_lun).second)
            return invalid("mapped LUNs", "mapped LUN " + std::to_string(mapped.mapped_lun) + " is given twice");
    }
    config::Config next = config();
    config::Acl added = acl;
    added.chap.reset();
    mutable_ptr(find_target(next, spec.target))->acls.push_back(std::move(added));
    return commit(std::move(next), backend_.secrets());
}

Result<void> ControlPlane::delete_acl(const std::string& target_name, const std::string& initiator) {
    const auto* target = find_target(config(), target_name);
    if (!target) return fail(ErrorKind::NotFound, "there is no target " + target_name);
    if (!find_acl(*target, initiator))
        return fail(ErrorKind::NotFound, "target " + target_name + " has no ACL for " + initiator);
    auto live = live_sessions_of(target_name);
    if (!live) return tl::unexpected(live.error());
    for (const auto& session : *live)
        if (session.initiator_name == initiator)
            return fail(ErrorKind::Busy, initiator + " has a live session with " + target_name + "; end it first");
    config::Config next = config();
    std::erase_if(mutable_ptr(find_target(next, target_name))->acls,
                  [&](const config::Acl& a) { return a.initiator_name == initiator; });
    return commit(std::move(next), backend_.secrets());
}

namespace {

// Where a CHAP setting lives in a configuration, or an error naming what is missing.
Result<std::optional<config::ChapCredentials>*> chap_slot(config::Config& config, ChapScope scope,
                                                          const std::string& target_name, const std::string& initiator) {
    if (scope == ChapScope::Discovery) return &config.discovery.chap;
    auto* target = mutable_ptr(find_target(config, target_name));
    if (!target) return fail(ErrorKind::NotFound, "there is no target " + target_name);
    if (scope == ChapScope::Target) return &target->chap;
    auto* acl = mutable_ptr(find_acl(*target, initiator));
    if (!acl) return fail(ErrorKind::NotFound, "target " + target_name + " has no ACL for " + initiator);
    return &acl->chap;
}

}  // namespace

Result<void> ControlPlane::set_chap(const ChapSpec& spec) {
    if (auto why = check_chap_user(spec.user); !why.empty()) return invalid("CHAP user", why);
    if (auto why = check_chap_secret(spec.secret); !why.empty()) return invalid("CHAP secret", why);
    if (spec.mutual_user.empty() != spec.mutual_secret.empty())
        return invalid("mutual CHAP", "give both the mutual user and the mutual secret, or neither");
    if (!spec.mutual_user.empty()) {
        if (auto why = check_chap_user(spec.mutual_user); !why.empty()) return invalid("mutual CHAP user", why);
        if (auto why = check_chap_secret(spec.mutual_secret); !why.empty()) return invalid("mutual CHAP secret", why);
        // RFC 7143 s.12.1.3: the same secret must not be used in both directions.
        if (spec.mutual_secret == spec.secret)
            return invalid("mutual CHAP secret", "it must differ from the initiator's secret (RFC 7143 s.12.1.3)");
        if (spec.mutual_user == spec.user) return invalid("mutual CHAP user", "it must differ from the initiator's user");
    }
    config::Config next = config();
    config::Secrets next_secrets = backend_.secrets();
    auto slot = chap_slot(next, spec.scope, spec.target, spec.initiator);
    if (!slot) return tl::unexpected(slot.error());
    // One secret per user name: refuse to silently change the secret of a
    // user that another target or ACL also uses.
    auto users_elsewhere = [&] {
        config::Config without = next;
        **chap_slot(without, spec.scope, spec.target, spec.initiator) = std::nullopt;
        return chap_users(without);
    }();
    for (const auto& [user, secret] : {std::pair{spec.user, spec.secret}, std::pair{spec.mutual_user, spec.mutual_secret}}) {
        if (user.empty()) continue;
        if (users_elsewhere.count(user) && backend_.secrets().chap.count(user) && backend_.secrets().chap.at(user) != secret)
            return fail(ErrorKind::AlreadyExists,
                        "CHAP user " + user + " is used elsewhere with another secret; choose another user name");
        next_secrets.chap[user] = secret;
    }
    **slot = config::ChapCredentials{spec.user, spec.mutual_user};
    return commit(std::move(next), std::move(next_secrets));
}

Result<void> ControlPlane::clear_chap(ChapScope scope, const std::string& target, const std::string& initiator) {
    config::Config next = config();
    auto slot = chap_slot(next, scope, target, initiator);
    if (!slot) return tl::unexpected(slot.error());
    if (!**slot) return fail(ErrorKind::NotFound, std::string("no CHAP is set for this ") + to_string(scope));
    **slot = std::nullopt;
    return commit(std::move(next), backend_.secrets());
}

Result<void> ControlPlane::set_redirect(const RedirectSpec& spec) {
    const auto* target = find_target(config(), spec.target);
    if (!target) return fail(ErrorKind::NotFound, "there is no target " + spec.target);
    if (spec.redirect.address.empty()) return invalid("redirect", "give the address to redirect to");
    if (spec.redirect.port == 0) return invalid("redirect port", "0 is not a port");
    if (spec.redirect.tpgt == 0) return invalid("redirect portal group tag", "1..65535");
    config::Config next = config();
    auto* next_target = mutable_ptr(find_target(next, spec.target));
    if (spec.tpgt == 0) {
        next_target->redirect = spec.redirect;
    } else {
        auto* group = mutable_ptr(find_portal_group(*next_target, spec.tpgt));
        if (!group)
            return fail(ErrorKind::NotFound, "target " + spec.target + " has no portal group " + std::to_string(spec.tpgt));
        group->redirect = spec.redirect;
    }
    return commit(std::move(next), backend_.secrets());
}

Result<void> ControlPlane::clear_redirect(const std::string& target_name, uint16_t tpgt) {
    const auto* target = find_target(config(), target_name);
    if (!target) return fail(ErrorKind::NotFound, "there is no target " + target_name);
    config::Config next = config();
    auto* next_target = mutable_ptr(find_target(next, target_name));
    std::optional<config::Redirect>* slot = &next_target->redirect;
    if (tpgt != 0) {
        auto* group = mutable_ptr(find_portal_group(*next_target, tpgt));
        if (!group) return fail(ErrorKind::NotFound, "target " + target_name + " has no portal group " + std::to_string(tpgt));
        slot = &group->redirect;
    }
    if (!*slot) return fail(ErrorKind::NotFound, "no redirect is set there");
    slot->reset();
    return commit(std::move(next), backend_.secrets());
}

Result<void> ControlPlane::save() {
    return backend_.save();
}

Result<void> ControlPlane::reload() {
    if (auto done = backend_.reload(); !done) return done;
    notify();
    return {};
}

}  // namespace iscsi::control
