// Adapters from iscsi-targetd (net::Daemon, its registry and data path) to
// the control plane's seams, and the start of the bus service over them.
#include "dbus/service.h"

#include <arpa/inet.h>
#include <cstring>
#include <unordered_map>

#include "config/store.h"
#include "config/validate.h"
#include "control/control_plane.h"
#include "dbus/bus_service.h"
#include "log/log.h"
#include "net/daemon.h"

namespace iscsi::dbus {
namespace {

using control::ErrorKind;
using control::fail;

// Each change goes through Daemon::replace_configuration (validate, apply to
// the kernel, portals and login policy, save atomically). When the save
// fails after the change took effect, the previous configuration is put back
// without saving, so the files and the running state stay the same.
class DaemonBackend final : public control::ConfigurationBackend {
public:
    explicit DaemonBackend(net::Daemon& daemon) : daemon_(daemon) {}

    const config::Config& config() const override { return daemon_.config(); }
    const config::Secrets& secrets() const override { return daemon_.secrets(); }

    control::Result<void> replace(config::Config next, config::Secrets next_secrets) override {
        config::Config previous = daemon_.config();
        config::Secrets previous_secrets = daemon_.secrets();
        // Validate first: a refusal here has changed nothing at all.
        auto errors = config::validate(next, next_secrets,
                                       config::FileNames{daemon_.options().files.config_path,
                                                         daemon_.options().files.secrets_path});
        if (!errors.empty()) return fail(ErrorKind::InvalidArgument, errors.front().to_string());
        auto applied = daemon_.replace_configuration(next, next_secrets, false);
        if (!applied) {
            restore(previous, previous_secrets);
            return fail(ErrorKind::DataPathUnavailable, applied.error() + "; the previous configuration is back");
        }
        if (auto saved = config::save(daemon_.options().files, next, next_secrets); !saved) {
            restore(previous, previous_secrets);
            return fail(ErrorKind::Io, "the change was undone because the configuration could not be saved: " +
                                           saved.error().to_string());
        }
        return {};
    }

    control::Result<void> save() override {
        if (auto saved = config::save(daemon_.options().files, daemon_.config(), daemon_.secrets()); !saved)
            return fail(ErrorKind::Io, saved.error().to_string());
        return {};
    }

    control::Result<void> reload() override {
        // Daemon::reload() reads and validates both files before changing anything.
        if (auto reloaded = daemon_.reload(); !reloaded) return fail(ErrorKind::InvalidArgument, reloaded.error());
        return {};
    }

    control::DataPathStatus data_path_status() const override { return control::data_path_status_of(&daemon_.data_path()); }
    std::string location() const override {
        return daemon_.options().files.config_path + " and " + daemon_.options().files.secrets_path;
    }

private:
    void restore(const config::Config& previous, const config::Secrets& secrets) {
        if (auto back = daemon_.replace_configuration(previous, secrets, false); !back)
            log::error("could not put the previous configuration back: " + back.error());
    }
    net::Daemon& daemon_;
};

kmod::SocketAddress socket_address(const std::string& address, uint16_t port) {
    kmod::SocketAddress out;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        out.length = sizeof(sockaddr_in);
    } else if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        out.length = sizeof(sockaddr_in6);
    }
    return out;
}

// Sessions as the daemon's registry knows them (identity, negotiated values,
// addresses), with state and counters from the kernel where it has them.
// Discovery sessions are not listed: they never reach the Full Feature Phase.
class DaemonSessions final : public control::SessionSource {
public:
    explicit DaemonSessions(net::Daemon& daemon) : daemon_(daemon) {}

    control::Result<std::vector<kmod::KernelSession>> list() override {
        std::vector<kmod::KernelSession> kernel;
        bool kernel_listed = false;
        if (daemon_.data_path().available())
            if (auto listed = daemon_.data_path().list_sessions()) {
                kernel = std::move(*listed);
                kernel_listed = true;
            }
        // The kernel's sessions by handle: one pass each, not one scan of
        // the kernel's list per registry record (1,000 sessions would make
        // that a million comparisons per listing).
        std::unordered_map<uint64_t, kmod::KernelSession*> by_handle;
        by_handle.reserve(kernel.size());
        for (auto& k : kernel) by_handle.emplace(k.handle, &k);
        std::vector<kmod::KernelSession> out;
        out.reserve(by_handle.size());
        for (const auto& record : daemon_.registry().sessions()) {
            // A session exists for the bus once its login has completed and
            // the kernel has it (RFC 7143 s.6.3: the final Login Response
            // opens the Full Feature Phase). The registry records it at the
            // first Login Request, before negotiation: announcing it then
            // would publish placeholder values (InitiatorAlias, negotiated
            // keys) in InterfacesAdded that no PropertiesChanged corrects,
            // and a refused login would come and go on the bus.
            if (record.discovery() || record.kernel_handle == 0) continue;
            kmod::KernelSession session;
            if (auto found = by_handle.find(record.kernel_handle); found != by_handle.end())
                session = std::move(*found->second);
            else if (kernel_listed)
                continue;  // ended in the kernel; its event is on its way (or lost and reconciled)
            session.handle = record.kernel_handle;
            session.target_name = record.target_name;
            session.tpgt = record.tpgt;
            session.tsih = record.tsih;
            session.isid = record.isid;
            session.initiator_name = record.initiator_name;
            session.initiator_alias = record.initiator_alias;
            session.chap_user = record.chap_user;
            session.negotiated = record.negotiated;
            // One clock for StartTime whether or not the kernel's list was
            // read (it is a constant property): the registry's, which an
            // adopted session takes from the kernel.
            if (record.start_time_ns != 0) session.start_time_ns = record.start_time_ns;
            std::vector<kmod::KernelConnection> connections;
            for (const auto& c : record.connections) {
                // Likewise a connection still logging in to join the session.
                if (c.kernel_handle == 0) continue;
                kmod::KernelConnection connection;
                for (const auto& kc : session.connections)
                    if (kc.cid == c.cid) connection = kc;
                connection.cid = c.cid;
                connection.handle = c.kernel_handle;
                connection.peer = socket_address(c.peer_address, c.peer_port);
                connection.local = socket_address(c.local_address, c.local_port);
                if (connection.max_recv_data_segment_length == 0) {
                    connection.header_digest = record.negotiated.header_digest;
                    connection.data_digest = record.negotiated.data_digest;
                    connection.max_recv_data_segment_length = record.negotiated.max_recv_data_segment_length;
                    connection.max_xmit_data_segment_length = record.negotiated.max_xmit_data_segment_length;
                }
                connections.push_back(connection);
            }
            session.connections = std::move(connections);
            out.push_back(std::move(session));
        }
        return out;
    }

    control::Result<void> logout(const control::SessionId& id) override {
        auto handle = kernel_handle(id);
        if (!handle) return tl::unexpected(handle.error());
        if (auto done = daemon_.data_path().request_logout(*handle, 10); !done)
            return fail(ErrorKind::DataPathUnavailable, "the kernel refused to request a logout: " + done.error().message);
        return {};
    }

    control::Result<void> terminate(const control::SessionId& id) override {
        if (!daemon_.registry().terminate_session(id.target_name, id.tpgt, id.tsih)) return not_found(id);
        return {};
    }

    control::Result<void> terminate_connection(const control::SessionId& id, uint16_t cid) override {
        if (!daemon_.registry().terminate_connection(id.target_name, id.tpgt, id.tsih, cid))
            return fail(ErrorKind::NotFound, "there is no connection " + std::to_string(cid) + " of session TSIH " +
                                                 std::to_string(id.tsih) + " of " + id.target_name);
        return {};
    }

private:
    static tl::unexpected<control::Error> not_found(const control::SessionId& id) {
        return fail(ErrorKind::NotFound, "there is no live session TSIH " + std::to_string(id.tsih) + " of " +
                                             id.target_name + " portal group " + std::to_string(id.tpgt));
    }
    control::Result<uint64_t> kernel_handle(const control::SessionId& id) {
        for (const auto& record : daemon_.registry().sessions())
            if (record.target_name == id.target_name && record.tpgt == id.tpgt && record.tsih == id.tsih) {
                if (record.kernel_handle == 0)
                    return fail(ErrorKind::Busy, "session TSIH " + std::to_string(id.tsih) + " is still logging in");
                return record.kernel_handle;
            }
        return not_found(id);
    }
    net::Daemon& daemon_;
};

}  // namespace

class DaemonService {
public:
    explicit DaemonService(net::Daemon& daemon)
        : daemon_(daemon), backend_(daemon), sessions_(daemon), control_(backend_, sessions_) {}
    ~DaemonService() {
        // The daemon outlives the service: it must not call into a freed bus.
        daemon_.set_sessions_observer(nullptr);
        daemon_.set_configuration_observer(nullptr);
    }
    net::Daemon& daemon_;
    DaemonBackend backend_;
    DaemonSessions sessions_;
    control::ControlPlane control_;
    std::unique_ptr<BusService> bus_;
};

void DaemonServiceDeleter::operator()(DaemonService* service) const {
    delete service;
}

DaemonServicePtr start_service(net::Daemon& daemon, const ServiceSettings& settings) {
    DaemonServicePtr service(new DaemonService(daemon));
    BusOptions options;
    options.authorization.allow_unprivileged_reads = settings.allow_unprivileged_reads;
    options.log = [](int priority, const std::string& message) {
        if (priority <= 3) log::error(message);
        else if (priority == 4) log::warning(message);
        else log::info(message);
    };
    service->bus_ = BusService::start(daemon.event(), service->control_, options);
    if (!service->bus_) return nullptr;
    BusService* bus = service->bus_.get();
    // SIGHUP reloads and changes made by the service itself both end here.
    daemon.set_configuration_observer([bus] { bus->configuration_changed(); });
    // Logins, hand-offs and kernel events: InterfacesAdded/Removed as they happen.
    daemon.set_sessions_observer([bus] { bus->sessions_changed_soon(); });
    log::info(std::string("D-Bus: serving org.iscsictl.target1; reading its state is open to ") +
              (settings.allow_unprivileged_reads ? "every user" : "root and org.iscsictl.target1.manage only"));
    return service;
}

}  // namespace iscsi::dbus
