#include "netlink.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <linux/genetlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "uapi/iscsi_handoff.h"

namespace iscsi::kmod {
namespace {

// How long a request may wait for the module's answer. The module answers
// from process context without waiting for the network, so seconds mean
// something is badly wrong; without a bound the daemon's loop would hang.
constexpr int kReplyTimeoutSeconds = 5;
// The events socket's receive buffer (see GenlSocket::open).
constexpr int kEventsReceiveBuffer = 8 * 1024 * 1024;

struct FreeDeleter {
    void operator()(unsigned char* p) const { std::free(p); }
};

// Reads the extended-ack attributes that follow a NLMSG_ERROR or NLMSG_DONE
// payload (linux/netlink.h: NLMSGERR_ATTR_*).
std::string read_ext_ack(const unsigned char* tlvs, long length) {
    std::string text;
    std::string detail;
    while (length >= static_cast<long>(NLA_HDRLEN)) {
        const auto* attr = reinterpret_cast<const nlattr*>(tlvs);
        if (attr->nla_len < NLA_HDRLEN || attr->nla_len > length) {
            break;  // a malformed ack is not worth failing over: keep what we have
        }
        const auto* data = reinterpret_cast<const char*>(tlvs + NLA_HDRLEN);
        const size_t data_len = attr->nla_len - NLA_HDRLEN;
        switch (attr->nla_type & NLA_TYPE_MASK) {
        case NLMSGERR_ATTR_MSG:
            text.assign(data, strnlen(data, data_len));
            break;
        case NLMSGERR_ATTR_OFFS:
            if (data_len >= sizeof(uint32_t)) {
                uint32_t offset = 0;
                std::memcpy(&offset, data, sizeof offset);
                detail = "offending attribute at byte " + std::to_string(offset) + " of the request";
            }
            break;
        case NLMSGERR_ATTR_MISS_TYPE:
            if (data_len >= sizeof(uint32_t)) {
                uint32_t type = 0;
                std::memcpy(&type, data, sizeof type);
                detail = "missing attribute type " + std::to_string(type);
            }
            break;
        default:
            break;
        }
        const long step = NLA_ALIGN(attr->nla_len);
        tlvs += step;
        length -= step;
    }
    if (!detail.empty()) {
        text = text.empty() ? detail : text + " (" + detail + ")";
    }
    return text;
}

Error with_kernel_text(int code, const std::string& ext_ack) {
    std::string message = std::strerror(code);
    if (!ext_ack.empty()) {
        message = ext_ack + ": " + message;
    }
    return Error{code, message};
}

}  // namespace

NetlinkMessage::NetlinkMessage(const nlmsghdr* header)
    : bytes_((header->nlmsg_len + sizeof(uint64_t) - 1) / sizeof(uint64_t)) {
    std::memcpy(bytes_.data(), header, header->nlmsg_len);
}

Error libnl_error(const std::string& what, int nl_error) {
    return Error{EIO, what + ": " + nl_geterror(nl_error)};
}

Error errno_error(const std::string& what, int code) {
    return Error{code, what + ": " + std::strerror(code)};
}

Error error_from_nlmsgerr(const nlmsghdr* header) {
    const size_t payload = header->nlmsg_len - NLMSG_HDRLEN;
    if (header->nlmsg_len < NLMSG_HDRLEN || payload < sizeof(nlmsgerr)) {
        return Error{EBADMSG, "truncated netlink error message from the kernel"};
    }
    const auto* base = reinterpret_cast<const unsigned char*>(header) + NLMSG_HDRLEN;
    nlmsgerr err{};
    std::memcpy(&err, base, sizeof err);
    // The kernel sends a negative errno; anything else is not an errno.
    const int code = err.error <= 0 ? -err.error : EPROTO;
    if (code == 0) {
        return Error{0, "success"};
    }
    std::string ext_ack;
    if (header->nlmsg_flags & NLM_F_ACK_TLVS) {
        // Without NLM_F_CAPPED the whole request is echoed before the TLVs.
        size_t offset = sizeof(nlmsgerr);
        if (!(header->nlmsg_flags & NLM_F_CAPPED)) {
            if (err.msg.nlmsg_len < NLMSG_HDRLEN) {
                return with_kernel_text(code, "");
            }
            offset = sizeof(err.error) + NLMSG_ALIGN(err.msg.nlmsg_len);
        }
        if (offset <= payload) {
            ext_ack = read_ext_ack(base + offset, static_cast<long>(payload - offset));
        }
    }
    return with_kernel_text(code, ext_ack);
}

Result<ReplyChunk> split_reply(const void* buffer, size_t length, uint32_t sequence, uint16_t family_id) {
    ReplyChunk chunk;
    const auto* bytes = static_cast<const unsigned char*>(buffer);
    long remaining = static_cast<long>(length);
    while (remaining > 0) {
        if (remaining < static_cast<long>(NLMSG_HDRLEN)) {
            return tl::unexpected(Error{EBADMSG, "truncated netlink header in the kernel's reply"});
        }
        nlmsghdr peek{};
        std::memcpy(&peek, bytes, sizeof peek);
        if (peek.nlmsg_len < NLMSG_HDRLEN || peek.nlmsg_len > remaining) {
            return tl::unexpected(Error{EBADMSG, "netlink message length " + std::to_string(peek.nlmsg_len) +
                                                     " does not fit the " + std::to_string(remaining) +
                                                     " bytes received"});
        }
        NetlinkMessage message(reinterpret_cast<const nlmsghdr*>(bytes));
        const long step = NLMSG_ALIGN(peek.nlmsg_len);
        bytes += step;
        remaining -= step;

        if (peek.nlmsg_seq != sequence || peek.nlmsg_type == NLMSG_NOOP) {
            continue;  // a late answer to an earlier request, or padding
        }
        switch (peek.nlmsg_type) {
        case NLMSG_ERROR: {
            Error error = error_from_nlmsgerr(message.header());
            if (error.code != 0) {
                return tl::unexpected(std::move(error));
            }
            chunk.finished = true;
            return chunk;
        }
        case NLMSG_DONE: {
            // A dump may end with a negative errno (and an extended ack).
            const size_t payload = peek.nlmsg_len - NLMSG_HDRLEN;
            if (payload >= sizeof(int)) {
                int status = 0;
                std::memcpy(&status, message.header() + 1, sizeof status);
                if (status < 0) {
                    std::string ext_ack;
                    if (peek.nlmsg_flags & NLM_F_ACK_TLVS) {
                        ext_ack = read_ext_ack(reinterpret_cast<const unsigned char*>(message.header()) +
                                                   NLMSG_HDRLEN + sizeof(int),
                                               static_cast<long>(payload - sizeof(int)));
                    }
                    return tl::unexpected(with_kernel_text(-status, ext_ack));
                }
            }
            chunk.finished = true;
            return chunk;
        }
        case NLMSG_OVERRUN:
            return tl::unexpected(Error{ENOBUFS, "netlink overrun: the kernel's reply was lost"});
        default:
            break;
        }
        if (peek.nlmsg_type != family_id) {
            return tl::unexpected(Error{EPROTO, "unexpected netlink message type " +
                                                    std::to_string(peek.nlmsg_type) + " (family is " +
                                                    std::to_string(family_id) + ")"});
        }
        if (peek.nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN) {
            return tl::unexpected(Error{EBADMSG, "generic netlink message without a genl header"});
        }
        chunk.messages.push_back(std::move(message));
    }
    return chunk;
}

Result<GenlSocket> GenlSocket::open(bool events_group) {
    GenlSocket result;
    result.sock_.reset(nl_socket_alloc());
    if (!result.sock_) {
        return tl::unexpected(Error{ENOMEM, "cannot allocate a netlink socket"});
    }
    nl_sock* sock = result.sock_.get();
    if (int rc = genl_connect(sock); rc < 0) {
        return tl::unexpected(libnl_error("cannot open a generic netlink socket", rc));
    }
    // Extended acks carry the module's explanation of a refusal; capped acks
    // keep them from echoing the whole request back. Old kernels lack both,
    // which only costs the explanation.
    const int one = 1;
    (void)setsockopt(nl_socket_get_fd(sock), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
    (void)setsockopt(nl_socket_get_fd(sock), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
    nl_socket_disable_auto_ack(sock);
    nl_socket_enable_msg_peek(sock);  // session dumps can exceed a page

    const int family = genl_ctrl_resolve(sock, ISCSI_HANDOFF_GENL_NAME);
    if (family < 0) {
        return tl::unexpected(Error{ENOENT, "generic netlink family " ISCSI_HANDOFF_GENL_NAME
                                            " not found: is iscsi_handoff.ko loaded?"});
    }
    result.family_id_ = static_cast<uint16_t>(family);

    if (events_group) {
        const int group = genl_ctrl_resolve_grp(sock, ISCSI_HANDOFF_GENL_NAME, ISCSI_HANDOFF_MCGRP_EVENTS);
        if (group < 0) {
            return tl::unexpected(Error{ENOENT, "generic netlink family " ISCSI_HANDOFF_GENL_NAME
                                                " has no multicast group \"" ISCSI_HANDOFF_MCGRP_EVENTS
                                                "\": the module does not match this daemon"});
        }
        result.events_group_id_ = static_cast<uint32_t>(group);
        nl_socket_disable_seq_check(sock);
        if (int rc = nl_socket_add_membership(sock, group); rc < 0) {
            return tl::unexpected(libnl_error("cannot join the iscsi_handoff events group", rc));
        }
        if (int rc = nl_socket_set_nonblocking(sock); rc < 0) {
            return tl::unexpected(libnl_error("cannot make the events socket non-blocking", rc));
        }
        // Two events per closing connection: a thousand initiators gone at
        // once (a switch reboot) overrun the default 208 KiB. Root may go past
        // net.core.rmem_max; an overrun left is reconciled (EventsLost).
        const int bytes = kEventsReceiveBuffer;
        if (setsockopt(nl_socket_get_fd(sock), SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) < 0) {
            (void)setsockopt(nl_socket_get_fd(sock), SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
        }
    } else {
        timeval timeout{kReplyTimeoutSeconds, 0};
        if (setsockopt(nl_socket_get_fd(sock), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) < 0) {
            return tl::unexpected(errno_error("cannot set the netlink receive timeout", errno));
        }
    }
    return result;
}

int GenlSocket::fd() const {
    return nl_socket_get_fd(sock_.get());
}

Result<std::vector<NetlinkMessage>> GenlSocket::transact(NlMsg request) {
    nl_sock* sock = sock_.get();
    if (int rc = nl_send_auto(sock, request.get()); rc < 0) {
        return tl::unexpected(libnl_error("cannot send to iscsi_handoff", rc));
    }
    const uint32_t sequence = nlmsg_hdr(request.get())->nlmsg_seq;
    std::vector<NetlinkMessage> replies;
    for (;;) {
        sockaddr_nl from{};
        unsigned char* raw = nullptr;
        const int received = nl_recv(sock, &from, &raw, nullptr);
        std::unique_ptr<unsigned char, FreeDeleter> buffer(raw);
        if (received == -NLE_AGAIN) {
            return tl::unexpected(Error{ETIMEDOUT, "iscsi_handoff did not answer within " +
                                                       std::to_string(kReplyTimeoutSeconds) + " s"});
        }
        if (received < 0) {
            return tl::unexpected(libnl_error("cannot receive from iscsi_handoff", received));
        }
        if (received == 0) {
            return tl::unexpected(Error{EPIPE, "the netlink socket was closed while waiting for iscsi_handoff"});
        }
        if (from.nl_pid != 0) {
            continue;  // only the kernel may answer; ignore anything else
        }
        auto chunk = split_reply(buffer.get(), static_cast<size_t>(received), sequence, family_id_);
        if (!chunk) {
            return tl::unexpected(chunk.error());
        }
        for (auto& message : chunk->messages) {
            replies.push_back(std::move(message));
        }
        if (chunk->finished) {
            return replies;
        }
    }
}

}  // namespace iscsi::kmod
