#include "kernel_data_path.h"

#include <cerrno>
#include <cstdlib>
#include <optional>
#include <utility>

#include <linux/genetlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/netlink.h>

#include "configfs_manager.h"
#include "discovery_text.h"
#include "log/log.h"
#include "handoff_codec.h"
#include "netlink.h"
#include "uapi/iscsi_handoff.h"

namespace iscsi::kmod {
namespace {

struct EventSourceDeleter {
    void operator()(sd_event_source* source) const { sd_event_source_disable_unref(source); }
};
using EventSource = std::unique_ptr<sd_event_source, EventSourceDeleter>;

class KernelDataPath final : public DataPath {
public:
    KernelDataPath(sd_event* event, const KernelDataPathOptions& options)
        : event_(event), configfs_(options.configfs_root) {
        connect();
    }

    bool available() const override {
        // The module may be loaded (or reloaded) after the daemon started:
        // while unavailable, every question re-probes, which is one netlink
        // round trip.
        return const_cast<KernelDataPath*>(this)->ensure().has_value();
    }

    std::string unavailable_reason() const override { return available() ? std::string() : reason_; }

    Result<Version> version() override {
        if (auto ok = ensure(); !ok) {
            return tl::unexpected(ok.error());
        }
        return version_;
    }

    Result<Limits> limits() override {
        auto reply = single_reply(encode_get_limits(family_id()), "GET_LIMITS");
        if (!reply) {
            return tl::unexpected(reply.error());
        }
        return decode_limits(reply->header());
    }

    Result<void> apply(const config::Config& config) override {
        if (auto ok = ensure(); !ok) {
            return ok;
        }
        if (auto applied = configfs_.apply(config); !applied) {
            return applied;
        }
        // Every portal group exists in configfs now: give each the SendTargets
        // answer for Text Requests in the Full Feature Phase (RFC 7143 s.11.10).
        for (const auto& target : config.targets) {
            const std::string text = discovery_text(config, target);
            for (const auto& group : target.portal_groups) {
                if (auto stored = set_discovery_text(target.name, group.tpgt, text); !stored) {
                    return stored;
                }
            }
        }
        return {};
    }

    Result<HandoffResult> handoff(const HandoffRequest& request) override {
        auto reply = single_reply(encode_handoff(family_id(), request), "HANDOFF");
        if (!reply) {
            return tl::unexpected(reply.error());
        }
        return decode_handoff_reply(reply->header());
    }

    Result<std::vector<KernelSession>> list_sessions() override {
        auto replies = transact(encode_session_list(family_id()), "SESSION_LIST");
        if (!replies) {
            return tl::unexpected(replies.error());
        }
        std::vector<KernelSession> sessions;
        for (const auto& message : *replies) {
            auto session = decode_session(message.header());
            if (!session) {
                return tl::unexpected(session.error());
            }
            sessions.push_back(std::move(*session));
        }
        return sessions;
    }

    Result<void> terminate_connection(uint64_t session_handle, uint16_t cid) override {
        return no_reply(encode_conn_terminate(family_id(), session_handle, cid), "CONN_TERMINATE");
    }

    Result<void> terminate_session(uint64_t session_handle) override {
        return no_reply(encode_session_terminate(family_id(), session_handle), "SESSION_TERMINATE");
    }

    Result<void> request_logout(uint64_t session_handle, uint32_t deadline_seconds) override {
        return no_reply(encode_session_logout(family_id(), session_handle, deadline_seconds), "SESSION_LOGOUT");
    }

    void set_event_handler(std::function<void(const DataPathEvent&)> handler) override {
        handler_ = std::move(handler);
    }

    Result<void> set_discovery_text(const std::string& target_name, uint16_t tpgt, const std::string& text) override {
        return no_reply(encode_set_discovery_text(family_id(), target_name, tpgt, text), "SET_DISCOVERY_TEXT");
    }

private:
    uint16_t family_id() const { return requests_ ? requests_->family_id() : 0; }

    // (Re)connects when there is no connection or the module went away.
    Result<void> ensure() {
        if (module_gone_) {
            disconnect("the iscsi_handoff module was unloaded");
        }
        if (!requests_ && !connect()) {
            return tl::unexpected(Error{ENOENT, reason_});
        }
        return {};
    }

    void disconnect(std::string reason) {
        source_.reset();
        events_.reset();
        requests_.reset();
        module_gone_ = false;
        reason_ = std::move(reason);
    }

    bool connect() {
        auto requests = GenlSocket::open(false);
        if (!requests) {
            reason_ = requests.error().message;
            return false;
        }
        requests_.emplace(std::move(*requests));
        auto reply = single_reply(encode_get_version(family_id()), "GET_VERSION");
        auto version = reply ? decode_version(reply->header()) : Result<Version>(tl::unexpected(reply.error()));
        if (!version) {
            disconnect("cannot read the iscsi_handoff version: " + version.error().message);
            return false;
        }
        if (version->major != ISCSI_HANDOFF_GENL_VERSION) {
            disconnect("iscsi_handoff.ko speaks protocol version " + std::to_string(version->major) + "." +
                       std::to_string(version->minor) + ", this daemon needs major version " +
                       std::to_string(ISCSI_HANDOFF_GENL_VERSION) + ": install matching versions");
            return false;
        }
        version_ = *version;
        if (event_ != nullptr) {
            auto events = GenlSocket::open(true);
            if (!events) {
                disconnect(events.error().message);
                return false;
            }
            events_.emplace(std::move(*events));
            sd_event_source* source = nullptr;
            const int rc = sd_event_add_io(event_, &source, events_->fd(), EPOLLIN, &KernelDataPath::on_events, this);
            if (rc < 0) {
                disconnect(errno_error("cannot watch the iscsi_handoff events socket", -rc).message);
                return false;
            }
            source_.reset(source);
            (void)sd_event_source_set_description(source, "iscsi_handoff-events");
        }
        reason_.clear();
        return true;
    }

    Result<std::vector<NetlinkMessage>> transact(Result<NlMsg> request, const char* command) {
        if (auto ok = ensure(); !ok) {
            return tl::unexpected(ok.error());
        }
        if (!request) {
            return tl::unexpected(request.error());
        }
        // The family id is only known after ensure(): re-stamp the header.
        nlmsg_hdr(request->get())->nlmsg_type = requests_->family_id();
        auto replies = requests_->transact(std::move(*request));
        if (!replies) {
            check_family_still_there();
            Error error = replies.error();
            error.message = std::string(command) + " refused: " + error.message;
            return tl::unexpected(std::move(error));
        }
        return replies;
    }

    Result<NetlinkMessage> single_reply(Result<NlMsg> request, const char* command) {
        auto replies = transact(std::move(request), command);
        if (!replies) {
            return tl::unexpected(replies.error());
        }
        if (replies->size() != 1) {
            return tl::unexpected(Error{EPROTO, std::string(command) + ": iscsi_handoff sent " +
                                                    std::to_string(replies->size()) + " replies, expected one"});
        }
        return std::move(replies->front());
    }

    Result<void> no_reply(Result<NlMsg> request, const char* command) {
        auto replies = transact(std::move(request), command);
        if (!replies) {
            return tl::unexpected(replies.error());
        }
        return {};
    }

    // After a failed request: if the family is gone or was re-registered
    // (module reloaded), drop the sockets so the next call reconnects.
    void check_family_still_there() {
        if (!requests_) {
            return;
        }
        const int family = genl_ctrl_resolve(requests_->raw(), ISCSI_HANDOFF_GENL_NAME);
        if (family < 0 || family != requests_->family_id()) {
            module_gone_ = true;
        }
    }

    static int on_events(sd_event_source*, int, uint32_t, void* userdata) {
        static_cast<KernelDataPath*>(userdata)->drain_events();
        return 0;
    }

    void drain_events() {
        for (;;) {
            sockaddr_nl from{};
            unsigned char* raw = nullptr;
            const int received = nl_recv(events_->raw(), &from, &raw, nullptr);
            std::unique_ptr<unsigned char, void (*)(void*)> buffer(raw, std::free);
            if (received == -NLE_AGAIN || received == 0) {
                return;
            }
            if (received == -NLE_NOMEM) {
                // ENOBUFS (libnl: "out of memory"): the kernel dropped events
                // for this socket. What follows still arrives; what was lost
                // only the kernel's session list can tell.
                iscsi::log::warning("iscsi_handoff events: the kernel dropped events (receive buffer overrun); "
                                    "reconciling with its session list");
                if (handler_) {
                    DataPathEvent lost;
                    lost.kind = DataPathEvent::Kind::EventsLost;
                    handler_(lost);
                }
                continue;
            }
            if (received < 0) {
                iscsi::log::warning(std::string("iscsi_handoff events: ") + nl_geterror(received));
                return;
            }
            if (from.nl_pid != 0) {
                continue;
            }
            auto* header = reinterpret_cast<nlmsghdr*>(buffer.get());
            int remaining = received;
            for (; nlmsg_ok(header, remaining); header = nlmsg_next(header, &remaining)) {
                if (header->nlmsg_type != events_->family_id()) {
                    continue;
                }
                auto event = decode_event(header);
                if (!event) {
                    iscsi::log::warning("iscsi_handoff events: ignored: " + event.error().message);
                    continue;
                }
                if (event->reason == DownReason::ModuleUnload) {
                    module_gone_ = true;
                }
                if (handler_) {
                    handler_(*event);
                }
            }
        }
    }

    sd_event* event_;
    ConfigfsManager configfs_;
    std::optional<GenlSocket> requests_;
    std::optional<GenlSocket> events_;
    EventSource source_;
    bool module_gone_ = false;
    std::string reason_;
    Version version_;
    std::function<void(const DataPathEvent&)> handler_;
};

}  // namespace

const char* to_string(DownReason reason) {
    switch (reason) {
    case DownReason::Unspecified: return "unspecified";
    case DownReason::Logout: return "logout";
    case DownReason::PeerClosed: return "peer closed the connection";
    case DownReason::Admin: return "terminated by the administrator";
    case DownReason::ProtocolError: return "protocol error";
    case DownReason::DigestError: return "digest error";
    case DownReason::NopTimeout: return "NOP-In ping unanswered";
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
