// Encoding requests to, and decoding answers and events from, iscsi_handoff.ko
// (kmod-glue/include/uapi/iscsi_handoff.h). No I/O: every function takes or
// returns a netlink message, so the whole wire format is unit-tested without
// the module.
//
// Decoders treat the kernel's messages as untrusted bytes: each attribute's
// length and type is checked against a table before it is read, required
// attributes must be present, and enumerated values must be known. Anything
// else is an Error naming the attribute, never a crash.
#pragma once

#include <cstdint>
#include <string>

#include <linux/netlink.h>

#include "data_path.h"
#include "netlink.h"

namespace iscsi::kmod {

Result<NlMsg> encode_handoff(uint16_t family_id, const HandoffRequest& request);
Result<NlMsg> encode_session_list(uint16_t family_id);
Result<NlMsg> encode_conn_terminate(uint16_t family_id, uint64_t session_handle, uint16_t cid);
Result<NlMsg> encode_session_terminate(uint16_t family_id, uint64_t session_handle);
Result<NlMsg> encode_session_logout(uint16_t family_id, uint64_t session_handle, uint32_t deadline_seconds);
Result<NlMsg> encode_get_limits(uint16_t family_id);
Result<NlMsg> encode_get_version(uint16_t family_id);
Result<NlMsg> encode_set_discovery_text(uint16_t family_id, const std::string& target_name, uint16_t tpgt,
                                        const std::string& text);

Result<HandoffResult> decode_handoff_reply(const nlmsghdr* message);
Result<KernelSession> decode_session(const nlmsghdr* message);
Result<Limits> decode_limits(const nlmsghdr* message);
Result<Version> decode_version(const nlmsghdr* message);
Result<DataPathEvent> decode_event(const nlmsghdr* message);

// "TARGET_NAME" for ISCSI_HANDOFF_ATTR_TARGET_NAME, "attribute 42" if unknown.
std::string attribute_name(int type);

// Checks that an address is a complete sockaddr_in or sockaddr_in6.
Result<void> check_socket_address(const SocketAddress& address, const char* what);

}  // namespace iscsi::kmod
