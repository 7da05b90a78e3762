// The operations behind the D-Bus Manager methods.
//
// Every change follows one path (commit()): check the request against the
// current configuration, build the next configuration as a copy, apply it to
// the kernel data path, persist it, and only then make it current. A step that
// fails undoes the steps before it: the kernel is given the previous
// configuration back and the files are left as they were. The D-Bus layer
// adds authorization and signals; it holds no state of its own.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/model.h"
#include "control/backend.h"
#include "control/config_store.h"
#include "control/error.h"
#include "control/session_source.h"
#include "data_path.h"

namespace iscsi::control {

struct TargetSpec {
    std::string name;
    std::string alias;
    uint32_t max_sessions = 0;
};

struct PortalGroupSpec {
    std::string target;
    uint16_t tpgt = 1;
    bool enabled = true;
    bool demo_mode = false;
    bool demo_mode_write_protect = false;
};

struct PortalSpec {
    std::string target;
    uint16_t tpgt = 1;
    config::Portal portal;
};

struct LunSpec {
    std::string target;
    uint32_t lun = 0;
    std::string backstore;
};

struct AclSpec {
    std::string target;
    config::Acl acl;  // chap is set through set_chap()
};

enum class ChapScope { Discovery, Target, Acl };
const char* to_string(ChapScope scope);
std::optional<ChapScope> chap_scope_from_string(const std::string& text);

struct ChapSpec {
    ChapScope scope = ChapScope::Target;
    std::string target;     // Target, Acl
    std::string initiator;  // Acl
    std::string user;
    std::string secret;
    std::string mutual_user;  // empty: one-way CHAP
    std::string mutual_secret;
};

struct RedirectSpec {
    std::string target;
    uint16_t tpgt = 0;  // 0: every login to the target; else one portal group
    config::Redirect redirect;
};

class ControlPlane {
public:
    using ChangeHandler = std::function<void(const config::Config&, const config::Secrets&)>;

    ControlPlane(ConfigurationBackend& backend, SessionSource& sessions) : backend_(backend), sessions_(sessions) {}

    const config::Config& config() const { return backend_.config(); }
    bool has_secret(const std::string& user) const { return backend_.secrets().chap.count(user) != 0; }
    DataPathStatus data_path_status() const { return backend_.data_path_status(); }
    SessionSource& sessions() { return sessions_; }
    std::string store_location() const { return backend_.location(); }

    // Called after every committed change (and after reload) with the new
    // configuration, so the daemon's login policy and portals follow it.
    void on_change(ChangeHandler handler) { handlers_.push_back(std::move(handler)); }

    Result<void> create_target(const TargetSpec& spec);
    Result<void> delete_target(const std::string& name);
    Result<void> create_portal_group(const PortalGroupSpec& spec);
    Result<void> delete_portal_group(const std::string& target, uint16_t tpgt);
    Result<void> create_portal(const PortalSpec& spec);
    Result<void> delete_portal(const PortalSpec& spec);
    Result<void> create_backstore(const config::Backstore& spec);
    Result<void> delete_backstore(const std::string& name);
    Result<void> create_lun(const LunSpec& spec);
    Result<void> delete_lun(const std::string& target, uint32_t lun);
    Result<void> create_acl(const AclSpec& spec);
    Result<void> delete_acl(const std::string& target, const std::string& initiator);
    Result<void> set_chap(const ChapSpec& spec);
    Result<void> clear_chap(ChapScope scope, const std::string& target, const std::string& initiator);
    Result<void> set_redirect(const RedirectSpec& spec);
    Result<void> clear_redirect(const std::string& target, uint16_t tpgt);

    // Writes the current configuration (it is written after every change
    // anyway; this repairs a file edited or removed by hand).
    Result<void> save();
    // Reads the stored configuration and makes it current, as at start.
    Result<void> reload();

private:
    Result<void> commit(config::Config next, config::Secrets next_secrets);
    Result<std::vector<kmod::KernelSession>> live_sessions_of(const std::string& target);

    void notify();

    ConfigurationBackend& backend_;
    SessionSource& sessions_;
    std::vector<ChangeHandler> handlers_;
};

// Lookups shared with the D-Bus layer; null when absent.
const config::Target* find_target(const config::Config& config, const std::string& name);
const config::PortalGroup* find_portal_group(const config::Target& target, uint16_t tpgt);
const config::Backstore* find_backstore(const config::Config& config, const std::string& name);
const config::Lun* find_lun(const config::Target& target, uint32_t lun);
const config::Acl* find_acl(const config::Target& target, const std::string& initiator);

const char* to_string(config::BackstoreType type);
std::optional<config::BackstoreType> backstore_type_from_string(const std::string& text);

// Whole-configuration checks (names, references, duplicates), used when a
// configuration is loaded; the first problem found, or empty.
std::string check_configuration(const config::Config& config, const config::Secrets& secrets);

}  // namespace iscsi::control
