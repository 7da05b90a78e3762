// Builds generic netlink messages the way iscsi_handoff.ko would, so that
// decoders can be fed well-formed and deliberately broken kernel replies.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <linux/genetlink.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include "netlink.h"

namespace iscsi::kmod::test {

inline constexpr uint16_t kFamily = 0x1d;

class KernelMessage {
public:
    explicit KernelMessage(uint8_t command, uint32_t sequence = 1) : msg_(nlmsg_alloc_size(65536 + 4096)) {
        genlmsg_put(msg_.get(), 0, sequence, kFamily, 0, 0, command, 1);
    }
    KernelMessage& u8(int type, uint8_t v) { return check(nla_put_u8(msg_.get(), type, v)); }
    KernelMessage& u16(int type, uint16_t v) { return check(nla_put_u16(msg_.get(), type, v)); }
    KernelMessage& u32(int type, uint32_t v) { return check(nla_put_u32(msg_.get(), type, v)); }
    KernelMessage& u64(int type, uint64_t v) { return check(nla_put_u64(msg_.get(), type, v)); }
    KernelMessage& str(int type, const std::string& v) { return check(nla_put_string(msg_.get(), type, v.c_str())); }
    KernelMessage& bytes(int type, const void* data, size_t length) {
        return check(nla_put(msg_.get(), type, static_cast<int>(length), data));
    }
    KernelMessage& begin(int type) {
        nests_.push_back(nla_nest_start(msg_.get(), type));
        return *this;
    }
    KernelMessage& end() {
        nla_nest_end(msg_.get(), nests_.back());
        nests_.pop_back();
        return *this;
    }
    nlmsghdr* header() { return nlmsg_hdr(msg_.get()); }
    nl_msg* raw() { return msg_.get(); }

private:
    KernelMessage& check(int rc) {
        if (rc < 0) {
            throw std::runtime_error("test message too small");
        }
        return *this;
    }
    NlMsg msg_;
    std::vector<nlattr*> nests_;
};

// Finds a top-level attribute of a message (for checking encoders).
inline const nlattr* find_attribute(const nlmsghdr* header, int type) {
    const auto* genl = static_cast<const genlmsghdr*>(nlmsg_data(header));
    const auto* head = reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(genl) + GENL_HDRLEN);
    return nla_find(head, static_cast<int>(header->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN), type);
}

}  // namespace iscsi::kmod::test
