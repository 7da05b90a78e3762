#include "control/session_source.h"

namespace iscsi::control {
namespace {

tl::unexpected<Error> kernel_error(const std::string& what, const kmod::Error& error) {
    return fail(ErrorKind::DataPathUnavailable, what + ": " + error.message +
                                                    (error.code ? " (errno " + std::to_string(error.code) + ")" : ""));
}

std::string describe(const SessionId& id) {
    return "session TSIH " + std::to_string(id.tsih) + " of " + id.target_name + " portal group " +
           std::to_string(id.tpgt);
}

}  // namespace

Result<std::vector<kmod::KernelSession>> DataPathSessionSource::list() {
    if (data_path_ == nullptr || !data_path_->available()) return std::vector<kmod::KernelSession>{};
    auto sessions = data_path_->list_sessions();
    if (!sessions) return kernel_error("the kernel did not list its sessions", sessions.error());
    return std::move(*sessions);
}

Result<kmod::KernelSession> DataPathSessionSource::find(const SessionId& id) {
    auto sessions = list();
    if (!sessions) return tl::unexpected(sessions.error());
    for (auto& session : *sessions)
        if (session.target_name == id.target_name && session.tpgt == id.tpgt && session.tsih == id.tsih)
            return std::move(session);
    return fail(ErrorKind::NotFound, "there is no live " + describe(id));
}

Result<void> DataPathSessionSource::logout(const SessionId& id) {
    auto session = find(id);
    if (!session) return tl::unexpected(session.error());
    if (auto done = data_path_->request_logout(session->handle, logout_deadline_s_); !done)
        return kernel_error("the kernel refused to request a logout of " + describe(id), done.error());
    return {};
}

Result<void> DataPathSessionSource::terminate(const SessionId& id) {
    auto session = find(id);
    if (!session) return tl::unexpected(session.error());
    if (auto done = data_path_->terminate_session(session->handle); !done)
        return kernel_error("the kernel refused to end " + describe(id), done.error());
    return {};
}

Result<void> DataPathSessionSource::terminate_connection(const SessionId& id, uint16_t cid) {
    auto session = find(id);
    if (!session) return tl::unexpected(session.error());
    bool known = false;
    for (const auto& connection : session->connections) known = known || connection.cid == cid;
    if (!known) return fail(ErrorKind::NotFound, describe(id) + " has no connection with CID " + std::to_string(cid));
    if (auto done = data_path_->terminate_connection(session->handle, cid); !done)
        return kernel_error("the kernel refused to end connection " + std::to_string(cid) + " of " + describe(id),
                            done.error());
    return {};
}

}  // namespace iscsi::control
