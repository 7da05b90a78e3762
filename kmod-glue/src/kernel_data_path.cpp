#include "kernel_data_path.h"

#include <cerrno>
#include <utility>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "uapi/iscsi_handoff.h"

namespace iscsi::kmod {
namespace {

class KernelDataPath final : public DataPath {
public:
    KernelDataPath(sd_event* event, KernelDataPathOptions options)
        : event_(event), options_(std::move(options)) {
        probe_family();
    }

    bool available() const override { return reason_.empty(); }
    std::string unavailable_reason() const override { return reason_; }

    Result<Version> version() override { return tl::unexpected(unavailable()); }
    Result<Limits> limits() override { return tl::unexpected(unavailable()); }
    Result<void> apply(const config::Config&) override { return tl::unexpected(unavailable()); }
    Result<HandoffResult> handoff(const HandoffRequest&) override { return tl::unexpected(unavailable()); }
    Result<std::vector<KernelSession>> list_sessions() override { return tl::unexpected(unavailable()); }
    Result<void> terminate_connection(uint64_t, uint16_t) override { return tl::unexpected(unavailable()); }
    Result<void> terminate_session(uint64_t) override { return tl::unexpected(unavailable()); }
    Result<void> request_logout(uint64_t, uint32_t) override { return tl::unexpected(unavailable()); }
    void set_event_handler(std::function<void(const DataPathEvent&)> handler) override {
        handler_ = std::move(handler);
    }

private:
    void probe_family() {
        nl_sock* sock = nl_socket_alloc();
        if (sock == nullptr) {
            reason_ = "cannot allocate a netlink socket";
            return;
        }
        if (genl_connect(sock) < 0) {
            reason_ = "cannot connect a generic netlink socket";
        } else if (genl_ctrl_resolve(sock, ISCSI_HANDOFF_GENL_NAME) < 0) {
            reason_ = "generic netlink family " ISCSI_HANDOFF_GENL_NAME
                      " not found: is iscsi_handoff.ko loaded?";
        } else {
            reason_ = "the kernel data path client is not implemented yet";
        }
        nl_socket_free(sock);
    }

    Error unavailable() const { return Error{ENOSYS, reason_}; }

    sd_event* event_;
    KernelDataPathOptions options_;
    std::string reason_;
    std::function<void(const DataPathEvent&)> handler_;
};

}  // namespace

const char* to_string(DownReason reason) {
    switch (reason) {
    case DownReason::Unspecified: return "unspecified";
    case DownReason::Logout: return "logout";
    case DownReason::PeerClosed: return "peer closed";
    case DownReason::Admin: return "terminated by the administrator";
    case DownReason::ProtocolError: return "protocol error";
    case DownReason::DigestError: return "digest error";
    case DownReason::NopTimeout: return "NOP-In ping timed out";
    case DownReason::LogoutTimeout: return "logout deadline passed";
    case DownReason::Reinstated: return "reinstated by a new login";
    case DownReason::ModuleUnload: return "module unloaded";
    case DownReason::ConfigRemoved: return "removed from the configuration";
    }
    return "unknown";
}

std::unique_ptr<DataPath> open_kernel_data_path(sd_event* event) {
    return open_kernel_data_path(event, KernelDataPathOptions{});
}

std::unique_ptr<DataPath> open_kernel_data_path(sd_event* event, const KernelDataPathOptions& options) {
    return std::make_unique<KernelDataPath>(event, options);
}

}  // namespace iscsi::kmod
