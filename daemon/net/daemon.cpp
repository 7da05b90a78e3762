#include "net/daemon.h"

#include <signal.h>
#include <unistd.h>
#include <sys/signalfd.h>

#include <algorithm>
#include <cstring>

#include <systemd/sd-daemon.h>

#include "config/diff.h"
#include "config/validate.h"
#include "log/log.h"

namespace iscsi::net {

tl::expected<std::unique_ptr<Daemon>, std::string> Daemon::create(const DaemonOptions& options,
                                                                  const DataPathFactory& data_path_factory) {
    // A missing configuration file is an empty configuration (a fresh
    // install managed over D-Bus); a file that is there must be valid.
    auto loaded = config::load(options.files, /*missing_config_is_empty=*/true);
    if (!loaded) return tl::unexpected(loaded.error().to_string());
    if (::access(options.files.config_path.c_str(), F_OK) != 0)
        log::warning("no configuration file at " + options.files.config_path + ": starting with no targets");

    std::unique_ptr<Daemon> daemon(new Daemon());
    daemon->options_ = options;
    int rc = sd_event_default(&daemon->event_);
    if (rc < 0) return tl::unexpected(std::string("cannot create the event loop: ") + std::strerror(-rc));

    daemon->data_path_ = data_path_factory(daemon->event_);
    if (!daemon->data_path_) return tl::unexpected(std::string("no data path object"));
    kmod::DataPath& data_path = *daemon->data_path_;
    if (data_path.available()) {
        if (auto version = data_path.version()) log::info("kernel data path: iscsi_handoff " + version->text);
        // After a restart the kernel still serves the sessions it had: adopt
        // them so that their TSIHs stay unique (DESIGN.md, "Restart").
        if (auto sessions = data_path.list_sessions()) {
            daemon->registry_.restore(*sessions);
            if (!sessions->empty())
                log::info("restored " + std::to_string(sessions->size()) + " live session(s) from the kernel");
        } else {
            log::warning("cannot list the kernel's sessions: " + sessions.error().message);
        }
    } else {
        log::warning("no kernel data path: " + data_path.unavailable_reason() +
                     "; Normal logins will be refused with status 0x0301, discovery works");
    }
    Daemon* raw = daemon.get();
    data_path.set_event_handler([raw](const kmod::DataPathEvent& event) { raw->on_data_path_event(event); });
    daemon->registry_.set_hooks(sessions::Hooks{
        [raw](const sessions::SessionRecord& s) {
            if (!s.kernel_handle) return;
            if (auto r = raw->data_path_->terminate_session(s.kernel_handle); !r)
                log::warning("cannot terminate session TSIH " + std::to_string(s.tsih) + " of " + s.target_name +
                             ": " + r.error().message);
        },
        [raw](const sessions::SessionRecord& s, const sessions::ConnectionRecord& c) {
            if (!s.kernel_handle || !c.kernel_handle) return;
            if (auto r = raw->data_path_->terminate_connection(s.kernel_handle, c.cid); !r)
                log::warning("cannot terminate connection CID " + std::to_string(c.cid) + " of TSIH " +
                             std::to_string(s.tsih) + ": " + r.error().message);
        },
        [raw](const sessions::Change&) {
            if (raw->sessions_observer_) raw->sessions_observer_();
        }});

    daemon->policy_ = std::make_unique<policy::ConfigPolicy>(daemon->registry_, loaded->config, loaded->secrets);
    daemon->server_ = std::make_unique<Server>(daemon->event_, *daemon->policy_, daemon->registry_,
                                               daemon->data_path_.get());
    daemon->loaded_ = std::move(*loaded);
    return daemon;
}

Daemon::~Daemon() {
    server_.reset();
    policy_.reset();
    data_path_.reset();
    if (event_) sd_event_unref(event_);
}

tl::expected<void, std::string> Daemon::apply(config::Config config, config::Secrets secrets, bool to_kernel) {
    if (to_kernel && data_path_->available()) {
        if (auto applied = data_path_->apply(config); !applied)
            return tl::unexpected("the kernel refused the configuration: " + applied.error().message);
    }
    auto errors = server_->apply(config);
    for (const auto& e : errors) log::error(e);
    // Sessions of targets or portal groups that are gone end now.
    config::Diff diff = config::diff(loaded_.config, config);
    for (const auto& s : registry_.sessions()) {
        bool target_gone = std::find(diff.removed_targets.begin(), diff.removed_targets.end(), s.target_name) !=
                           diff.removed_targets.end();
        bool group_gone = std::find(diff.removed_portal_groups.begin(), diff.removed_portal_groups.end(),
                                    config::PortalGroupKey{s.target_name, s.tpgt}) != diff.removed_portal_groups.end();
        if (!s.discovery() && (target_gone || group_gone)) {
            log::info("terminating session TSIH " + std::to_string(s.tsih) + " of " + s.initiator_name +
                      ": its target or portal group was removed");
            registry_.terminate_session(s.target_name, s.tpgt, s.tsih);
        }
    }
    policy_->update(config, secrets);
    loaded_ = config::Loaded{std::move(config), std::move(secrets)};
    if (configuration_observer_) configuration_observer_();
    notify_status();
    if (!errors.empty()) return tl::unexpected(errors.front());
    return {};
}

tl::expected<void, std::string> Daemon::reload() {
    if (reload_handler_) return reload_handler_();
    auto loaded = config::load(options_.files, /*missing_config_is_empty=*/true);
    if (!loaded) return tl::unexpected(loaded.error().to_string());
    return apply(std::move(loaded->config), std::move(loaded->secrets), true);
}

void Daemon::adopt_configuration(config::Config config, config::Secrets secrets) {
    (void)apply(std::move(config), std::move(secrets), false);
}

tl::expected<void, std::string> Daemon::replace_configuration(config::Config config, config::Secrets secrets,
                                                              bool save) {
    auto errors = config::validate(config, secrets,
                                   config::FileNames{options_.files.config_path, options_.files.secrets_path});
    if (!errors.empty()) return tl::unexpected(errors.front().to_string());
    config::Config copy = config;
    config::Secrets secrets_copy = secrets;
    if (auto applied = apply(std::move(config), std::move(secrets), true); !applied) return applied;
    if (save) {
        if (auto saved = config::save(options_.files, copy, secrets_copy); !saved)
            return tl::unexpected(saved.error().to_string());
    }
    return {};
}

void Daemon::on_data_path_event(const kmod::DataPathEvent& event) {
    if (event.kind == kmod::DataPathEvent::Kind::EventsLost) {
        reconcile_with_kernel();
        return;
    }
    std::string what = event.kind == kmod::DataPathEvent::Kind::SessionDown ? "session" : "connection";
    log::info(what + " down: " + event.target_name + " TPGT " + std::to_string(event.tpgt) + " TSIH " +
              std::to_string(event.tsih) +
              (event.kind == kmod::DataPathEvent::Kind::ConnectionDown ? " CID " + std::to_string(event.cid) : "") +
              " (" + kmod::to_string(event.reason) + ")");
    if (event.kind == kmod::DataPathEvent::Kind::SessionDown) registry_.on_session_down(event);
    else registry_.on_connection_down(event);
    notify_status();
}

// Some SessionDown/ConnectionDown events never arrived: the kernel's list
// says which sessions and connections are gone.
void Daemon::reconcile_with_kernel() {
    auto sessions = data_path_->list_sessions();
    if (!sessions) {
        log::error("kernel events were lost and the kernel's session list cannot be read (" + sessions.error().message +
                   "); sessions that ended meanwhile stay listed until it can");
        return;
    }
    auto removed = registry_.reconcile(*sessions);
    log::info("reconciled with the kernel after lost events: " + std::to_string(removed.sessions) + " session(s) and " +
              std::to_string(removed.connections) + " connection(s) had ended");
    notify_status();
}

void Daemon::notify_status() {
    std::string status = "STATUS=" + std::to_string(loaded_.config.targets.size()) + " target(s), " +
                         std::to_string(registry_.normal_session_count()) + " session(s)" +
                         (data_path_->available() ? "" : ", no kernel data path");
    sd_notify(0, status.c_str());
}

int Daemon::on_signal(sd_event_source*, const struct signalfd_siginfo* info, void* userdata) {
    auto* self = static_cast<Daemon*>(userdata);
    switch (info->ssi_signo) {
        case SIGHUP: {
            log::info("SIGHUP: reloading " + self->options_.files.config_path);
            sd_notify(0, "RELOADING=1");
            auto reloaded = self->reload();
            if (reloaded) log::info("configuration reloaded");
            else log::error("reload failed, keeping the previous configuration: " + reloaded.error());
            sd_notify(0, "READY=1");
            break;
        }
        default:
            log::info(std::string("signal ") + strsignal(static_cast<int>(info->ssi_signo)) + ": stopping");
            self->request_stop();
            break;
    }
    return 0;
}

void Daemon::request_stop() {
    sd_notify(0, "STOPPING=1");
    sd_event_exit(event_, exit_status_);
}

int Daemon::run() {
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, nullptr);
    for (int signal : {SIGTERM, SIGINT, SIGHUP}) {
        int rc = sd_event_add_signal(event_, nullptr, signal, &Daemon::on_signal, this);
        if (rc < 0) {
            log::error(std::string("cannot watch signal ") + strsignal(signal) + ": " + std::strerror(-rc));
            return 1;
        }
    }
    ::signal(SIGPIPE, SIG_IGN);

    if (data_path_->available()) {
        if (auto applied = data_path_->apply(loaded_.config); !applied)
            log::error("the kernel refused the configuration: " + applied.error().message);
    }
    auto errors = server_->apply(loaded_.config);
    for (const auto& e : errors) log::error(e);
    // Portals that cannot be opened are logged; the daemon keeps running so
    // that the configuration can be fixed (SIGHUP, D-Bus) without a restart.
    sd_notify(0, "READY=1");
    notify_status();
    log::notice("iscsi-targetd ready: " + std::to_string(loaded_.config.targets.size()) + " target(s), " +
                std::to_string(server_->listener_descriptions().size()) + " portal(s)");
    int rc = sd_event_loop(event_);
    server_->stop();
    if (rc < 0) {
        log::error(std::string("event loop failed: ") + std::strerror(-rc));
        return 1;
    }
    return rc;
}

}  // namespace iscsi::net
