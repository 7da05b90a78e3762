// Generic netlink plumbing for the ISCSI_HANDOFF family: RAII owners for
// libnl's socket and message objects, and a request socket that sends one
// request and collects its replies, turning every failure (including the
// kernel's extended-ack text) into an Error a person can act on.
//
// libnl 3.7 does not surface extended acks, so replies are read as raw
// buffers and split by split_reply() (pure, unit-tested) rather than through
// nl_recvmsgs() callbacks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <linux/netlink.h>
#include <netlink/msg.h>
#include <netlink/socket.h>

#include "data_path.h"

namespace iscsi::kmod {

struct NlSocketDeleter {
    void operator()(nl_sock* sock) const { nl_socket_free(sock); }
};
using NlSocket = std::unique_ptr<nl_sock, NlSocketDeleter>;

struct NlMsgDeleter {
    void operator()(nl_msg* msg) const { nlmsg_free(msg); }
};
using NlMsg = std::unique_ptr<nl_msg, NlMsgDeleter>;

// One netlink message copied out of a receive buffer, so that replies spread
// over several reads outlive the buffer. header() is always a complete,
// length-checked message.
class NetlinkMessage {
public:
    explicit NetlinkMessage(const nlmsghdr* header);
    const nlmsghdr* header() const { return reinterpret_cast<const nlmsghdr*>(bytes_.data()); }
    nlmsghdr* header() { return reinterpret_cast<nlmsghdr*>(bytes_.data()); }

private:
    // uint64_t storage keeps the header and 64-bit attributes aligned.
    std::vector<uint64_t> bytes_;
};

// What one receive buffer contributed to a request's answer.
struct ReplyChunk {
    std::vector<NetlinkMessage> messages;  // data messages of the expected type
    bool finished = false;                 // an ACK or NLMSG_DONE ended the answer
};

// Splits one receive buffer into the replies to request `sequence`, sent on a
// family whose id is `family_id`. Messages for other sequence numbers are
// skipped (stale answers to requests that timed out). A NLMSG_ERROR with a
// non-zero code, a truncated or malformed message, or a message of another
// type, becomes an Error; the extended-ack message, when present, is the
// Error's message.
Result<ReplyChunk> split_reply(const void* buffer, size_t length, uint32_t sequence, uint16_t family_id);

// The Error carried by a NLMSG_ERROR message (code 0 included: an ACK).
Error error_from_nlmsgerr(const nlmsghdr* header);

// A generic netlink socket bound to the ISCSI_HANDOFF family.
class GenlSocket {
public:
    // Connects and resolves the family (and, if `events_group` is true, the
    // `events` multicast group). The Error says whether the module is missing.
    static Result<GenlSocket> open(bool events_group);

    uint16_t family_id() const { return family_id_; }
    uint32_t events_group_id() const { return events_group_id_; }
    int fd() const;
    nl_sock* raw() const { return sock_.get(); }

    // Sends `request` (built with genlmsg_put on family_id()) and waits for
    // the complete answer: for a dump every part until NLMSG_DONE, otherwise
    // the reply (if any) and the ACK. The request's nlmsg_flags decide which.
    Result<std::vector<NetlinkMessage>> transact(NlMsg request);

private:
    NlSocket sock_;
    uint16_t family_id_ = 0;
    uint32_t events_group_id_ = 0;
};

// Helpers for errors produced on this side.
Error libnl_error(const std::string& what, int nl_error);
Error errno_error(const std::string& what, int code);

}  // namespace iscsi::kmod
