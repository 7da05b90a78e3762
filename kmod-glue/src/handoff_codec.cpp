#include "handoff_codec.h"

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include <netlink/attr.h>
#include <netlink/genl/genl.h>

#include "uapi/iscsi_handoff.h"

namespace iscsi::kmod {
namespace {

// ---------------------------------------------------------------------------
// Attribute tables: what each attribute number may look like on the wire.

enum class Kind { U8, U16, U32, U64, String, Binary, Nested };

struct AttrSpec {
    const char* name = nullptr;  // null: unknown number, ignored (appended by a newer module)
    Kind kind = Kind::Binary;
    uint32_t min_len = 0;  // Binary only
    uint32_t max_len = 0;  // String: characters without the NUL; Binary: bytes
};

constexpr uint32_t kSockaddrMin = sizeof(sockaddr_in);
constexpr uint32_t kSockaddrMax = sizeof(sockaddr_in6);
constexpr uint32_t kDiscoveryTextMax = 65536;
constexpr uint32_t kVersionStringMax = 255;

constexpr std::array<AttrSpec, ISCSI_HANDOFF_ATTR_MAX + 1> kTopLevel = [] {
    std::array<AttrSpec, ISCSI_HANDOFF_ATTR_MAX + 1> t{};
    t[ISCSI_HANDOFF_ATTR_FD] = {"FD", Kind::U32};
    t[ISCSI_HANDOFF_ATTR_TARGET_NAME] = {"TARGET_NAME", Kind::String, 0, ISCSI_HANDOFF_NAME_MAX};
    t[ISCSI_HANDOFF_ATTR_TPGT] = {"TPGT", Kind::U16};
    t[ISCSI_HANDOFF_ATTR_INITIATOR_NAME] = {"INITIATOR_NAME", Kind::String, 0, ISCSI_HANDOFF_NAME_MAX};
    t[ISCSI_HANDOFF_ATTR_INITIATOR_ALIAS] = {"INITIATOR_ALIAS", Kind::String, 0, ISCSI_HANDOFF_ALIAS_MAX};
    t[ISCSI_HANDOFF_ATTR_ISID] = {"ISID", Kind::Binary, ISCSI_HANDOFF_ISID_LEN, ISCSI_HANDOFF_ISID_LEN};
    t[ISCSI_HANDOFF_ATTR_TSIH] = {"TSIH", Kind::U16};
    t[ISCSI_HANDOFF_ATTR_CID] = {"CID", Kind::U16};
    t[ISCSI_HANDOFF_ATTR_SESSION_TYPE] = {"SESSION_TYPE", Kind::U8};
    t[ISCSI_HANDOFF_ATTR_PEER_ADDR] = {"PEER_ADDR", Kind::Binary, kSockaddrMin, kSockaddrMax};
    t[ISCSI_HANDOFF_ATTR_LOCAL_ADDR] = {"LOCAL_ADDR", Kind::Binary, kSockaddrMin, kSockaddrMax};
    t[ISCSI_HANDOFF_ATTR_CMDSN] = {"CMDSN", Kind::U32};
    t[ISCSI_HANDOFF_ATTR_STATSN] = {"STATSN", Kind::U32};
    t[ISCSI_HANDOFF_ATTR_EXP_STATSN] = {"EXP_STATSN", Kind::U32};
    t[ISCSI_HANDOFF_ATTR_NEGOTIATED] = {"NEGOTIATED", Kind::Nested};
    t[ISCSI_HANDOFF_ATTR_CHAP_USER] = {"CHAP_USER", Kind::String, 0, ISCSI_HANDOFF_CHAP_USER_MAX};
    t[ISCSI_HANDOFF_ATTR_SESSION_HANDLE] = {"SESSION_HANDLE", Kind::U64};
    t[ISCSI_HANDOFF_ATTR_CONN_HANDLE] = {"CONN_HANDLE", Kind::U64};
    t[ISCSI_HANDOFF_ATTR_REASON] = {"REASON", Kind::U32};
    t[ISCSI_HANDOFF_ATTR_LOGOUT_DEADLINE] = {"LOGOUT_DEADLINE", Kind::U32};
    t[ISCSI_HANDOFF_ATTR_SESSION_STATE] = {"SESSION_STATE", Kind::U8};
    t[ISCSI_HANDOFF_ATTR_EXP_CMDSN] = {"EXP_CMDSN", Kind::U32};
    t[ISCSI_HANDOFF_ATTR_MAX_CMDSN] = {"MAX_CMDSN", Kind::U32};
    t[ISCSI_HANDOFF_ATTR_STATS] = {"STATS", Kind::Nested};
    t[ISCSI_HANDOFF_ATTR_CONNECTIONS] = {"CONNECTIONS", Kind::Nested};
    t[ISCSI_HANDOFF_ATTR_CONNECTION] = {"CONNECTION", Kind::Nested};
    t[ISCSI_HANDOFF_ATTR_VERSION_MAJOR] = {"VERSION_MAJOR", Kind::U32};
    t[ISCSI_HANDOFF_ATTR_VERSION_MINOR] = {"VERSION_MINOR", Kind::U32};
    t[ISCSI_HANDOFF_ATTR_VERSION_STRING] = {"VERSION_STRING", Kind::String, 0, kVersionStringMax};
    t[ISCSI_HANDOFF_ATTR_LIMIT_MAX_SESSIONS] = {"LIMIT_MAX_SESSIONS", Kind::U32};
    t[ISCSI_HANDOFF_ATTR_LIMIT_MAX_CONNECTIONS] = {"LIMIT_MAX_CONNECTIONS", Kind::U32};
    t[ISCSI_HANDOFF_ATTR_LIMIT_MAX_DSL] = {"LIMIT_MAX_DSL", Kind::U32};
    t[ISCSI_HANDOFF_ATTR_LIMIT_MAX_BURST] = {"LIMIT_MAX_BURST", Kind::U32};
    t[ISCSI_HANDOFF_ATTR_LIMIT_QUEUE_DEPTH] = {"LIMIT_QUEUE_DEPTH", Kind::U32};
    t[ISCSI_HANDOFF_ATTR_START_TIME] = {"START_TIME", Kind::U64};
    t[ISCSI_HANDOFF_ATTR_DISCOVERY_TEXT] = {"DISCOVERY_TEXT", Kind::Binary, 0, kDiscoveryTextMax};
    t[ISCSI_HANDOFF_ATTR_PAD] = {"PAD", Kind::Binary, 0, 0xffff};
    return t;
}();

constexpr std::array<AttrSpec, ISCSI_HANDOFF_PARAM_MAX + 1> kParams = [] {
    std::array<AttrSpec, ISCSI_HANDOFF_PARAM_MAX + 1> t{};
    t[ISCSI_HANDOFF_PARAM_HEADER_DIGEST] = {"NEGOTIATED.HEADER_DIGEST", Kind::U8};
    t[ISCSI_HANDOFF_PARAM_DATA_DIGEST] = {"NEGOTIATED.DATA_DIGEST", Kind::U8};
    t[ISCSI_HANDOFF_PARAM_MAX_RECV_DSL] = {"NEGOTIATED.MAX_RECV_DSL", Kind::U32};
    t[ISCSI_HANDOFF_PARAM_MAX_XMIT_DSL] = {"NEGOTIATED.MAX_XMIT_DSL", Kind::U32};
    t[ISCSI_HANDOFF_PARAM_MAX_BURST_LENGTH] = {"NEGOTIATED.MAX_BURST_LENGTH", Kind::U32};
    t[ISCSI_HANDOFF_PARAM_FIRST_BURST_LENGTH] = {"NEGOTIATED.FIRST_BURST_LENGTH", Kind::U32};
    t[ISCSI_HANDOFF_PARAM_INITIAL_R2T] = {"NEGOTIATED.INITIAL_R2T", Kind::U8};
    t[ISCSI_HANDOFF_PARAM_IMMEDIATE_DATA] = {"NEGOTIATED.IMMEDIATE_DATA", Kind::U8};
    t[ISCSI_HANDOFF_PARAM_MAX_OUTSTANDING_R2T] = {"NEGOTIATED.MAX_OUTSTANDING_R2T", Kind::U32};
    t[ISCSI_HANDOFF_PARAM_DATA_PDU_IN_ORDER] = {"NEGOTIATED.DATA_PDU_IN_ORDER", Kind::U8};
    t[ISCSI_HANDOFF_PARAM_DATA_SEQUENCE_IN_ORDER] = {"NEGOTIATED.DATA_SEQUENCE_IN_ORDER", Kind::U8};
    t[ISCSI_HANDOFF_PARAM_ERROR_RECOVERY_LEVEL] = {"NEGOTIATED.ERROR_RECOVERY_LEVEL", Kind::U8};
    t[ISCSI_HANDOFF_PARAM_DEFAULT_TIME2WAIT] = {"NEGOTIATED.DEFAULT_TIME2WAIT", Kind::U32};
    t[ISCSI_HANDOFF_PARAM_DEFAULT_TIME2RETAIN] = {"NEGOTIATED.DEFAULT_TIME2RETAIN", Kind::U32};
    t[ISCSI_HANDOFF_PARAM_MAX_CONNECTIONS] = {"NEGOTIATED.MAX_CONNECTIONS", Kind::U32};
    return t;
}();

constexpr std::array<AttrSpec, ISCSI_HANDOFF_STATS_MAX + 1> kStats = [] {
    std::array<AttrSpec, ISCSI_HANDOFF_STATS_MAX + 1> t{};
    t[ISCSI_HANDOFF_STATS_COMMANDS] = {"STATS.COMMANDS", Kind::U64};
    t[ISCSI_HANDOFF_STATS_READ_BYTES] = {"STATS.READ_BYTES", Kind::U64};
    t[ISCSI_HANDOFF_STATS_WRITE_BYTES] = {"STATS.WRITE_BYTES", Kind::U64};
    t[ISCSI_HANDOFF_STATS_ERRORS] = {"STATS.ERRORS", Kind::U64};
    t[ISCSI_HANDOFF_STATS_IN_FLIGHT] = {"STATS.IN_FLIGHT", Kind::U32};
    t[ISCSI_HANDOFF_STATS_DIGEST_ERRORS] = {"STATS.DIGEST_ERRORS", Kind::U64};
    t[ISCSI_HANDOFF_STATS_REJECTS] = {"STATS.REJECTS", Kind::U64};
    t[ISCSI_HANDOFF_STATS_PAD] = {"STATS.PAD", Kind::Binary, 0, 0xffff};
    return t;
}();

constexpr std::array<AttrSpec, ISCSI_HANDOFF_CONN_MAX + 1> kConnection = [] {
    std::array<AttrSpec, ISCSI_HANDOFF_CONN_MAX + 1> t{};
    t[ISCSI_HANDOFF_CONN_CID] = {"CONNECTION.CID", Kind::U16};
    t[ISCSI_HANDOFF_CONN_HANDLE] = {"CONNECTION.HANDLE", Kind::U64};
    t[ISCSI_HANDOFF_CONN_PEER_ADDR] = {"CONNECTION.PEER_ADDR", Kind::Binary, kSockaddrMin, kSockaddrMax};
    t[ISCSI_HANDOFF_CONN_LOCAL_ADDR] = {"CONNECTION.LOCAL_ADDR", Kind::Binary, kSockaddrMin, kSockaddrMax};
    t[ISCSI_HANDOFF_CONN_STATE] = {"CONNECTION.STATE", Kind::U8};
    t[ISCSI_HANDOFF_CONN_HEADER_DIGEST] = {"CONNECTION.HEADER_DIGEST", Kind::U8};
    t[ISCSI_HANDOFF_CONN_DATA_DIGEST] = {"CONNECTION.DATA_DIGEST", Kind::U8};
    t[ISCSI_HANDOFF_CONN_MAX_RECV_DSL] = {"CONNECTION.MAX_RECV_DSL", Kind::U32};
    t[ISCSI_HANDOFF_CONN_MAX_XMIT_DSL] = {"CONNECTION.MAX_XMIT_DSL", Kind::U32};
    t[ISCSI_HANDOFF_CONN_STATSN] = {"CONNECTION.STATSN", Kind::U32};
    t[ISCSI_HANDOFF_CONN_STATS] = {"CONNECTION.STATS", Kind::Nested};
    t[ISCSI_HANDOFF_CONN_PAD] = {"CONNECTION.PAD", Kind::Binary, 0, 0xffff};
    return t;
}();

Error malformed(const std::string& what) {
    return Error{EBADMSG, "malformed message from iscsi_handoff: " + what};
}

// The attributes of one message or nest, each checked against its spec.
class Attributes {
public:
    template <size_t N>
    static Result<Attributes> parse(const nlattr* head, int length, const std::array<AttrSpec, N>& specs) {
        Attributes result;
        result.specs_ = specs.data();
        result.table_.assign(N, nullptr);
        const nlattr* pos = nullptr;
        int remaining = 0;
        nla_for_each_attr(pos, head, length, remaining) {
            const int type = nla_type(pos);
            if (type <= 0 || static_cast<size_t>(type) >= N || specs[type].name == nullptr) {
                continue;  // unknown: a newer module appended it (the uapi's compatibility rule)
            }
            if (auto ok = check(pos, specs[type]); !ok) {
                return tl::unexpected(ok.error());
            }
            result.table_[type] = pos;
        }
        if (remaining > 0) {
            return tl::unexpected(malformed(std::to_string(remaining) + " bytes of truncated attribute data"));
        }
        return result;
    }

    bool has(int type) const { return table_[type] != nullptr; }
    const nlattr* get(int type) const { return table_[type]; }
    const char* name(int type) const { return specs_[type].name; }

    uint8_t u8(int type) const { return nla_get_u8(table_[type]); }
    uint16_t u16(int type) const { return nla_get_u16(table_[type]); }
    uint32_t u32(int type) const { return nla_get_u32(table_[type]); }
    uint64_t u64(int type) const { return nla_get_u64(table_[type]); }
    std::string string(int type) const {
        const auto* data = static_cast<const char*>(nla_data(table_[type]));
        return std::string(data, strnlen(data, static_cast<size_t>(nla_len(table_[type]))));
    }

    Result<void> require(std::initializer_list<int> types, const char* where) const {
        for (int type : types) {
            if (!has(type)) {
                return tl::unexpected(malformed(std::string(where) + " lacks " + specs_[type].name));
            }
        }
        return {};
    }

private:
    static Result<void> check(const nlattr* attr, const AttrSpec& spec) {
        const auto length = static_cast<uint32_t>(nla_len(attr));
        auto exact = [&](uint32_t expected) -> Result<void> {
            if (length != expected) {
                return tl::unexpected(malformed(std::string(spec.name) + " has " + std::to_string(length) +
                                                " bytes, expected " + std::to_string(expected)));
            }
            return {};
        };
        switch (spec.kind) {
        case Kind::U8: return exact(1);
        case Kind::U16: return exact(2);
        case Kind::U32: return exact(4);
        case Kind::U64: return exact(8);
        case Kind::String: {
            const auto* data = static_cast<const char*>(nla_data(attr));
            if (length == 0 || data[length - 1] != '\0') {
                return tl::unexpected(malformed(std::string(spec.name) + " is not a NUL-terminated string"));
            }
            if (strnlen(data, length) > spec.max_len) {
                return tl::unexpected(malformed(std::string(spec.name) + " is longer than " +
                                                std::to_string(spec.max_len) + " bytes"));
            }
            return {};
        }
        case Kind::Binary:
            if (length < spec.min_len || length > spec.max_len) {
                return tl::unexpected(malformed(std::string(spec.name) + " has " + std::to_string(length) +
                                                " bytes, expected " + std::to_string(spec.min_len) + ".." +
                                                std::to_string(spec.max_len)));
            }
            return {};
        case Kind::Nested:
            return {};
        }
        return {};
    }

    const AttrSpec* specs_ = nullptr;
    std::vector<const nlattr*> table_;
};

template <size_t N>
Result<Attributes> parse_nested(const nlattr* nest, const std::array<AttrSpec, N>& specs) {
    return Attributes::parse(static_cast<const nlattr*>(nla_data(nest)), nla_len(nest), specs);
}

// The top-level attributes of a generic netlink message from the module.
Result<Attributes> parse_message(const nlmsghdr* message) {
    if (message->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN) {
        return tl::unexpected(malformed("generic netlink message shorter than its header"));
    }
    const auto* genl = static_cast<const genlmsghdr*>(nlmsg_data(message));
    const auto* head = reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(genl) + GENL_HDRLEN);
    const int length = static_cast<int>(message->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN);
    return Attributes::parse(head, length, kTopLevel);
}

Result<void> check_digest(uint8_t value, const char* what) {
    if (value != ISCSI_HANDOFF_DIGEST_NONE && value != ISCSI_HANDOFF_DIGEST_CRC32C) {
        return tl::unexpected(malformed(std::string(what) + " is " + std::to_string(value) +
                                        ", not a known digest"));
    }
    return {};
}

Result<bool> decode_flag(const Attributes& attrs, int type, bool fallback) {
    if (!attrs.has(type)) {
        return fallback;
    }
    const uint8_t value = attrs.u8(type);
    if (value > 1) {
        return tl::unexpected(malformed(std::string(attrs.name(type)) + " is " + std::to_string(value) +
                                        ", not a 0/1 flag"));
    }
    return value == 1;
}

Result<SocketAddress> decode_address(const nlattr* attr, const char* what) {
    SocketAddress address;
    address.length = static_cast<socklen_t>(nla_len(attr));
    std::memcpy(&address.storage, nla_data(attr), address.length);
    if (auto ok = check_socket_address(address, what); !ok) {
        return tl::unexpected(malformed(ok.error().message));
    }
    return address;
}

Result<NegotiatedParameters> decode_negotiated(const nlattr* nest) {
    auto attrs = parse_nested(nest, kParams);
    if (!attrs) {
        return tl::unexpected(attrs.error());
    }
    NegotiatedParameters p;
    for (int type : {ISCSI_HANDOFF_PARAM_HEADER_DIGEST, ISCSI_HANDOFF_PARAM_DATA_DIGEST}) {
        if (attrs->has(type)) {
            if (auto ok = check_digest(attrs->u8(type), attrs->name(type)); !ok) {
                return tl::unexpected(ok.error());
            }
        }
    }
    if (attrs->has(ISCSI_HANDOFF_PARAM_HEADER_DIGEST)) {
        p.header_digest = static_cast<Digest>(attrs->u8(ISCSI_HANDOFF_PARAM_HEADER_DIGEST));
    }
    if (attrs->has(ISCSI_HANDOFF_PARAM_DATA_DIGEST)) {
        p.data_digest = static_cast<Digest>(attrs->u8(ISCSI_HANDOFF_PARAM_DATA_DIGEST));
    }
    auto u32_or = [&](int type, uint32_t fallback) { return attrs->has(type) ? attrs->u32(type) : fallback; };
    p.max_recv_data_segment_length = u32_or(ISCSI_HANDOFF_PARAM_MAX_RECV_DSL, p.max_recv_data_segment_length);
    p.max_xmit_data_segment_length = u32_or(ISCSI_HANDOFF_PARAM_MAX_XMIT_DSL, p.max_xmit_data_segment_length);
    p.max_burst_length = u32_or(ISCSI_HANDOFF_PARAM_MAX_BURST_LENGTH, p.max_burst_length);
    p.first_burst_length = u32_or(ISCSI_HANDOFF_PARAM_FIRST_BURST_LENGTH, p.first_burst_length);
    p.max_outstanding_r2t = u32_or(ISCSI_HANDOFF_PARAM_MAX_OUTSTANDING_R2T, p.max_outstanding_r2t);
    p.default_time2wait = u32_or(ISCSI_HANDOFF_PARAM_DEFAULT_TIME2WAIT, p.default_time2wait);
    p.default_time2retain = u32_or(ISCSI_HANDOFF_PARAM_DEFAULT_TIME2RETAIN, p.default_time2retain);
    p.max_connections = u32_or(ISCSI_HANDOFF_PARAM_MAX_CONNECTIONS, p.max_connections);
    if (attrs->has(ISCSI_HANDOFF_PARAM_ERROR_RECOVERY_LEVEL)) {
        p.error_recovery_level = attrs->u8(ISCSI_HANDOFF_PARAM_ERROR_RECOVERY_LEVEL);
    }
    const std::pair<int, bool NegotiatedParameters::*> flags[] = {
        {ISCSI_HANDOFF_PARAM_INITIAL_R2T, &NegotiatedParameters::initial_r2t},
        {ISCSI_HANDOFF_PARAM_IMMEDIATE_DATA, &NegotiatedParameters::immediate_data},
        {ISCSI_HANDOFF_PARAM_DATA_PDU_IN_ORDER, &NegotiatedParameters::data_pdu_in_order},
        {ISCSI_HANDOFF_PARAM_DATA_SEQUENCE_IN_ORDER, &NegotiatedParameters::data_sequence_in_order},
    };
    for (const auto& [type, member] : flags) {
        auto value = decode_flag(*attrs, type, p.*member);
        if (!value) {
            return tl::unexpected(value.error());
        }
        p.*member = *value;
    }
    return p;
}

Result<Counters> decode_counters(const nlattr* nest) {
    auto attrs = parse_nested(nest, kStats);
    if (!attrs) {
        return tl::unexpected(attrs.error());
    }
    Counters c;
    auto u64_or_zero = [&](int type) -> uint64_t { return attrs->has(type) ? attrs->u64(type) : 0; };
    c.commands = u64_or_zero(ISCSI_HANDOFF_STATS_COMMANDS);
    c.read_bytes = u64_or_zero(ISCSI_HANDOFF_STATS_READ_BYTES);
    c.write_bytes = u64_or_zero(ISCSI_HANDOFF_STATS_WRITE_BYTES);
    c.errors = u64_or_zero(ISCSI_HANDOFF_STATS_ERRORS);
    c.digest_errors = u64_or_zero(ISCSI_HANDOFF_STATS_DIGEST_ERRORS);
    c.rejects = u64_or_zero(ISCSI_HANDOFF_STATS_REJECTS);
    c.in_flight = attrs->has(ISCSI_HANDOFF_STATS_IN_FLIGHT) ? attrs->u32(ISCSI_HANDOFF_STATS_IN_FLIGHT) : 0;
    return c;
}

Result<KernelConnection> decode_connection(const nlattr* nest) {
    auto attrs = parse_nested(nest, kConnection);
    if (!attrs) {
        return tl::unexpected(attrs.error());
    }
    if (auto ok = attrs->require({ISCSI_HANDOFF_CONN_CID, ISCSI_HANDOFF_CONN_HANDLE}, "a CONNECTION"); !ok) {
        return tl::unexpected(ok.error());
    }
    KernelConnection c;
    c.cid = attrs->u16(ISCSI_HANDOFF_CONN_CID);
    c.handle = attrs->u64(ISCSI_HANDOFF_CONN_HANDLE);
    if (attrs->has(ISCSI_HANDOFF_CONN_PEER_ADDR)) {
        auto address = decode_address(attrs->get(ISCSI_HANDOFF_CONN_PEER_ADDR), "CONNECTION.PEER_ADDR");
        if (!address) {
            return tl::unexpected(address.error());
        }
        c.peer = *address;
    }
    if (attrs->has(ISCSI_HANDOFF_CONN_LOCAL_ADDR)) {
        auto address = decode_address(attrs->get(ISCSI_HANDOFF_CONN_LOCAL_ADDR), "CONNECTION.LOCAL_ADDR");
        if (!address) {
            return tl::unexpected(address.error());
        }
        c.local = *address;
    }
    if (attrs->has(ISCSI_HANDOFF_CONN_STATE)) {
        const uint8_t state = attrs->u8(ISCSI_HANDOFF_CONN_STATE);
        if (state < ISCSI_HANDOFF_CONN_STATE_FULL_FEATURE || state > ISCSI_HANDOFF_CONN_STATE_CLOSING) {
            return tl::unexpected(malformed("CONNECTION.STATE " + std::to_string(state) + " is unknown"));
        }
        c.state = static_cast<ConnectionState>(state);
    }
    for (int type : {ISCSI_HANDOFF_CONN_HEADER_DIGEST, ISCSI_HANDOFF_CONN_DATA_DIGEST}) {
        if (attrs->has(type)) {
            if (auto ok = check_digest(attrs->u8(type), attrs->name(type)); !ok) {
                return tl::unexpected(ok.error());
            }
        }
    }
    if (attrs->has(ISCSI_HANDOFF_CONN_HEADER_DIGEST)) {
        c.header_digest = static_cast<Digest>(attrs->u8(ISCSI_HANDOFF_CONN_HEADER_DIGEST));
    }
    if (attrs->has(ISCSI_HANDOFF_CONN_DATA_DIGEST)) {
        c.data_digest = static_cast<Digest>(attrs->u8(ISCSI_HANDOFF_CONN_DATA_DIGEST));
    }
    if (attrs->has(ISCSI_HANDOFF_CONN_MAX_RECV_DSL)) {
        c.max_recv_data_segment_length = attrs->u32(ISCSI_HANDOFF_CONN_MAX_RECV_DSL);
    }
    if (attrs->has(ISCSI_HANDOFF_CONN_MAX_XMIT_DSL)) {
        c.max_xmit_data_segment_length = attrs->u32(ISCSI_HANDOFF_CONN_MAX_XMIT_DSL);
    }
    if (attrs->has(ISCSI_HANDOFF_CONN_STATSN)) {
        c.stat_sn = attrs->u32(ISCSI_HANDOFF_CONN_STATSN);
    }
    if (attrs->has(ISCSI_HANDOFF_CONN_STATS)) {
        auto counters = decode_counters(attrs->get(ISCSI_HANDOFF_CONN_STATS));
        if (!counters) {
            return tl::unexpected(counters.error());
        }
        c.counters = *counters;
    }
    return c;
}

Result<uint64_t> nonzero_handle(const Attributes& attrs, int type) {
    const uint64_t handle = attrs.u64(type);
    if (handle == 0) {
        return tl::unexpected(malformed(std::string(attrs.name(type)) + " is zero"));
    }
    return handle;
}

// ---------------------------------------------------------------------------
// Encoding.

// Collects attributes into a request, remembering the first failure so the
// encoders read as a flat list of fields.
class Builder {
public:
    Builder(uint16_t family_id, uint8_t command, int flags, size_t size = 0)
        : msg_(size != 0 ? nlmsg_alloc_size(size) : nlmsg_alloc()) {
        if (!msg_) {
            rc_ = -NLE_NOMEM;
            return;
        }
        if (genlmsg_put(msg_.get(), NL_AUTO_PORT, NL_AUTO_SEQ, family_id, 0, flags, command,
                        ISCSI_HANDOFF_GENL_VERSION) == nullptr) {
            rc_ = -NLE_NOMEM;
        }
    }
    void u8(int type, uint8_t v) { track(nla_put_u8(msg_.get(), type, v)); }
    void u16(int type, uint16_t v) { track(nla_put_u16(msg_.get(), type, v)); }
    void u32(int type, uint32_t v) { track(nla_put_u32(msg_.get(), type, v)); }
    void u64(int type, uint64_t v) { track(nla_put_u64(msg_.get(), type, v)); }
    void string(int type, const std::string& v) { track(nla_put_string(msg_.get(), type, v.c_str())); }
    void bytes(int type, const void* data, size_t length) {
        track(nla_put(msg_.get(), type, static_cast<int>(length), data));
    }
    nlattr* begin_nest(int type) {
        nlattr* nest = rc_ == 0 ? nla_nest_start(msg_.get(), type) : nullptr;
        if (nest == nullptr) {
            rc_ = -NLE_NOMEM;
        }
        return nest;
    }
    void end_nest(nlattr* nest) {
        if (nest != nullptr) {
            track(nla_nest_end(msg_.get(), nest));
        }
    }
    Result<NlMsg> finish(const char* what) {
        if (rc_ < 0) {
            return tl::unexpected(libnl_error(std::string("cannot build the ") + what + " request", rc_));
        }
        return std::move(msg_);
    }

private:
    void track(int rc) {
        if (rc_ == 0 && rc < 0) {
            rc_ = rc;
        }
    }
    NlMsg msg_;
    int rc_ = 0;
};

Error invalid(const std::string& what) {
    return Error{EINVAL, "refusing to hand off: " + what};
}

Result<void> check_name(const std::string& value, const char* what, size_t max, bool required) {
    if (required && value.empty()) {
        return tl::unexpected(invalid(std::string(what) + " is empty"));
    }
    if (value.size() > max) {
        return tl::unexpected(invalid(std::string(what) + " is longer than " + std::to_string(max) + " bytes"));
    }
    if (value.find('\0') != std::string::npos) {
        return tl::unexpected(invalid(std::string(what) + " contains a NUL byte"));
    }
    return {};
}

Result<void> check_range(uint32_t value, uint32_t low, uint32_t high, const char* what) {
    if (value < low || value > high) {
        return tl::unexpected(invalid(std::string(what) + " " + std::to_string(value) + " is outside " +
                                      std::to_string(low) + ".." + std::to_string(high)));
    }
    return {};
}

// The ranges of RFC 7143 section 13, as the uapi states them; the module
// checks them too, but refusing here names the field without a round trip.
Result<void> check_negotiated(const NegotiatedParameters& p) {
    const struct {
        uint32_t value, low, high;
        const char* what;
    } checks[] = {
        {p.max_recv_data_segment_length, ISCSI_HANDOFF_DSL_MIN, ISCSI_HANDOFF_DSL_MAX, "MaxRecvDataSegmentLength"},
        {p.max_xmit_data_segment_length, ISCSI_HANDOFF_DSL_MIN, ISCSI_HANDOFF_DSL_MAX,
         "the initiator's MaxRecvDataSegmentLength"},
        {p.max_burst_length, ISCSI_HANDOFF_BURST_MIN, ISCSI_HANDOFF_BURST_MAX, "MaxBurstLength"},
        {p.first_burst_length, ISCSI_HANDOFF_BURST_MIN, ISCSI_HANDOFF_BURST_MAX, "FirstBurstLength"},
        {p.max_outstanding_r2t, 1, ISCSI_HANDOFF_R2T_MAX, "MaxOutstandingR2T"},
        {p.error_recovery_level, 0, ISCSI_HANDOFF_ERL_MAX, "ErrorRecoveryLevel"},
        {p.default_time2wait, 0, ISCSI_HANDOFF_TIME2WAIT_MAX, "DefaultTime2Wait"},
        {p.default_time2retain, 0, ISCSI_HANDOFF_TIME2WAIT_MAX, "DefaultTime2Retain"},
        {p.max_connections, 1, ISCSI_HANDOFF_MAX_CONNECTIONS, "MaxConnections"},
    };
    for (const auto& c : checks) {
        if (auto ok = check_range(c.value, c.low, c.high, c.what); !ok) {
            return ok;
        }
    }
    // RFC 7143 s.13.14: FirstBurstLength must not exceed MaxBurstLength.
    if (p.first_burst_length > p.max_burst_length) {
        return tl::unexpected(invalid("FirstBurstLength " + std::to_string(p.first_burst_length) +
                                      " exceeds MaxBurstLength " + std::to_string(p.max_burst_length)));
    }
    for (Digest d : {p.header_digest, p.data_digest}) {
        if (d != Digest::None && d != Digest::Crc32c) {
            return tl::unexpected(invalid("unknown digest " + std::to_string(static_cast<int>(d))));
        }
    }
    return {};
}

Builder session_command(uint16_t family_id, uint8_t command, uint64_t session_handle) {
    Builder b(family_id, command, NLM_F_ACK);
    b.u64(ISCSI_HANDOFF_ATTR_SESSION_HANDLE, session_handle);
    return b;
}

}  // namespace

std::string attribute_name(int type) {
    if (type > 0 && static_cast<size_t>(type) < kTopLevel.size() && kTopLevel[type].name != nullptr) {
        return kTopLevel[type].name;
    }
    return "attribute " + std::to_string(type);
}

Result<void> check_socket_address(const SocketAddress& address, const char* what) {
    const sa_family_t family = address.storage.ss_family;
    if (family == AF_INET && address.length == sizeof(sockaddr_in)) {
        return {};
    }
    if (family == AF_INET6 && address.length == sizeof(sockaddr_in6)) {
        return {};
    }
    return tl::unexpected(Error{EINVAL, std::string(what) + " is not a complete IPv4 or IPv6 socket address (family " +
                                            std::to_string(family) + ", " + std::to_string(address.length) +
                                            " bytes)"});
}

Result<NlMsg> encode_handoff(uint16_t family_id, const HandoffRequest& r) {
    if (r.fd < 0) {
        return tl::unexpected(invalid("no socket (fd " + std::to_string(r.fd) + ")"));
    }
    for (auto ok : {check_name(r.target_name, "TargetName", ISCSI_HANDOFF_NAME_MAX, true),
                    check_name(r.initiator_name, "InitiatorName", ISCSI_HANDOFF_NAME_MAX, true),
                    check_name(r.initiator_alias, "InitiatorAlias", ISCSI_HANDOFF_ALIAS_MAX, false),
                    check_name(r.chap_user, "the CHAP user name", ISCSI_HANDOFF_CHAP_USER_MAX, false)}) {
        if (!ok) {
            return tl::unexpected(ok.error());
        }
    }
    if (r.tpgt == 0) {
        return tl::unexpected(invalid("TPGT is 0"));
    }
    if (r.tsih == 0) {
        return tl::unexpected(invalid("TSIH is 0 (the target assigns a non-zero TSIH, RFC 7143 s.11.12.6)"));
    }
    for (auto ok : {check_socket_address(r.peer, "the peer address"),
                    check_socket_address(r.local, "the local address")}) {
        if (!ok) {
            return tl::unexpected(invalid(ok.error().message));
        }
    }
    if (auto ok = check_negotiated(r.negotiated); !ok) {
        return tl::unexpected(ok.error());
    }

    Builder b(family_id, ISCSI_HANDOFF_CMD_HANDOFF, NLM_F_ACK);
    b.u32(ISCSI_HANDOFF_ATTR_FD, static_cast<uint32_t>(r.fd));
    b.string(ISCSI_HANDOFF_ATTR_TARGET_NAME, r.target_name);
    b.u16(ISCSI_HANDOFF_ATTR_TPGT, r.tpgt);
    b.string(ISCSI_HANDOFF_ATTR_INITIATOR_NAME, r.initiator_name);
    if (!r.initiator_alias.empty()) {
        b.string(ISCSI_HANDOFF_ATTR_INITIATOR_ALIAS, r.initiator_alias);
    }
    b.bytes(ISCSI_HANDOFF_ATTR_ISID, r.isid.data(), r.isid.size());
    b.u16(ISCSI_HANDOFF_ATTR_TSIH, r.tsih);
    b.u16(ISCSI_HANDOFF_ATTR_CID, r.cid);
    b.u8(ISCSI_HANDOFF_ATTR_SESSION_TYPE, ISCSI_HANDOFF_SESSION_NORMAL);
    b.bytes(ISCSI_HANDOFF_ATTR_PEER_ADDR, &r.peer.storage, r.peer.length);
    b.bytes(ISCSI_HANDOFF_ATTR_LOCAL_ADDR, &r.local.storage, r.local.length);
    b.u32(ISCSI_HANDOFF_ATTR_CMDSN, r.cmd_sn);
    b.u32(ISCSI_HANDOFF_ATTR_STATSN, r.stat_sn);
    b.u32(ISCSI_HANDOFF_ATTR_EXP_STATSN, r.exp_stat_sn);

    const NegotiatedParameters& p = r.negotiated;
    nlattr* nest = b.begin_nest(ISCSI_HANDOFF_ATTR_NEGOTIATED);
    b.u8(ISCSI_HANDOFF_PARAM_HEADER_DIGEST, static_cast<uint8_t>(p.header_digest));
    b.u8(ISCSI_HANDOFF_PARAM_DATA_DIGEST, static_cast<uint8_t>(p.data_digest));
    b.u32(ISCSI_HANDOFF_PARAM_MAX_RECV_DSL, p.max_recv_data_segment_length);
    b.u32(ISCSI_HANDOFF_PARAM_MAX_XMIT_DSL, p.max_xmit_data_segment_length);
    b.u32(ISCSI_HANDOFF_PARAM_MAX_BURST_LENGTH, p.max_burst_length);
    b.u32(ISCSI_HANDOFF_PARAM_FIRST_BURST_LENGTH, p.first_burst_length);
    b.u8(ISCSI_HANDOFF_PARAM_INITIAL_R2T, p.initial_r2t ? 1 : 0);
    b.u8(ISCSI_HANDOFF_PARAM_IMMEDIATE_DATA, p.immediate_data ? 1 : 0);
    b.u32(ISCSI_HANDOFF_PARAM_MAX_OUTSTANDING_R2T, p.max_outstanding_r2t);
    b.u8(ISCSI_HANDOFF_PARAM_DATA_PDU_IN_ORDER, p.data_pdu_in_order ? 1 : 0);
    b.u8(ISCSI_HANDOFF_PARAM_DATA_SEQUENCE_IN_ORDER, p.data_sequence_in_order ? 1 : 0);
    b.u8(ISCSI_HANDOFF_PARAM_ERROR_RECOVERY_LEVEL, p.error_recovery_level);
    b.u32(ISCSI_HANDOFF_PARAM_DEFAULT_TIME2WAIT, p.default_time2wait);
    b.u32(ISCSI_HANDOFF_PARAM_DEFAULT_TIME2RETAIN, p.default_time2retain);
    b.u32(ISCSI_HANDOFF_PARAM_MAX_CONNECTIONS, p.max_connections);
    b.end_nest(nest);

    if (!r.chap_user.empty()) {
        b.string(ISCSI_HANDOFF_ATTR_CHAP_USER, r.chap_user);
    }
    return b.finish("HANDOFF");
}

Result<NlMsg> encode_session_list(uint16_t family_id) {
    return Builder(family_id, ISCSI_HANDOFF_CMD_SESSION_LIST, NLM_F_DUMP).finish("SESSION_LIST");
}

Result<NlMsg> encode_conn_terminate(uint16_t family_id, uint64_t session_handle, uint16_t cid) {
    Builder b = session_command(family_id, ISCSI_HANDOFF_CMD_CONN_TERMINATE, session_handle);
    b.u16(ISCSI_HANDOFF_ATTR_CID, cid);
    b.u32(ISCSI_HANDOFF_ATTR_REASON, ISCSI_HANDOFF_REASON_ADMIN);
    return b.finish("CONN_TERMINATE");
}

Result<NlMsg> encode_session_terminate(uint16_t family_id, uint64_t session_handle) {
    Builder b = session_command(family_id, ISCSI_HANDOFF_CMD_SESSION_TERMINATE, session_handle);
    b.u32(ISCSI_HANDOFF_ATTR_REASON, ISCSI_HANDOFF_REASON_ADMIN);
    return b.finish("SESSION_TERMINATE");
}

Result<NlMsg> encode_session_logout(uint16_t family_id, uint64_t session_handle, uint32_t deadline_seconds) {
    if (deadline_seconds < 1 || deadline_seconds > 3600) {
        return tl::unexpected(Error{EINVAL, "logout deadline " + std::to_string(deadline_seconds) +
                                                " s is outside 1..3600"});
    }
    Builder b = session_command(family_id, ISCSI_HANDOFF_CMD_SESSION_LOGOUT, session_handle);
    b.u32(ISCSI_HANDOFF_ATTR_LOGOUT_DEADLINE, deadline_seconds);
    return b.finish("SESSION_LOGOUT");
}

Result<NlMsg> encode_get_limits(uint16_t family_id) {
    return Builder(family_id, ISCSI_HANDOFF_CMD_GET_LIMITS, NLM_F_ACK).finish("GET_LIMITS");
}

Result<NlMsg> encode_get_version(uint16_t family_id) {
    return Builder(family_id, ISCSI_HANDOFF_CMD_GET_VERSION, NLM_F_ACK).finish("GET_VERSION");
}

Result<NlMsg> encode_set_discovery_text(uint16_t family_id, const std::string& target_name, uint16_t tpgt,
                                        const std::string& text) {
    if (auto ok = check_name(target_name, "TargetName", ISCSI_HANDOFF_NAME_MAX, true); !ok) {
        return tl::unexpected(ok.error());
    }
    if (text.size() > kDiscoveryTextMax) {
        return tl::unexpected(Error{EINVAL, "SendTargets text of " + std::to_string(text.size()) +
                                                " bytes exceeds 65536"});
    }
    // The text is ~64 KiB at most: give the message room for it.
    Builder b(family_id, ISCSI_HANDOFF_CMD_SET_DISCOVERY_TEXT, NLM_F_ACK, text.size() + 1024);
    b.string(ISCSI_HANDOFF_ATTR_TARGET_NAME, target_name);
    b.u16(ISCSI_HANDOFF_ATTR_TPGT, tpgt);
    b.bytes(ISCSI_HANDOFF_ATTR_DISCOVERY_TEXT, text.data(), text.size());
    return b.finish("SET_DISCOVERY_TEXT");
}

Result<HandoffResult> decode_handoff_reply(const nlmsghdr* message) {
    auto attrs = parse_message(message);
    if (!attrs) {
        return tl::unexpected(attrs.error());
    }
    if (auto ok = attrs->require({ISCSI_HANDOFF_ATTR_SESSION_HANDLE, ISCSI_HANDOFF_ATTR_CONN_HANDLE},
                                 "the HANDOFF reply");
        !ok) {
        return tl::unexpected(ok.error());
    }
    auto session = nonzero_handle(*attrs, ISCSI_HANDOFF_ATTR_SESSION_HANDLE);
    auto connection = nonzero_handle(*attrs, ISCSI_HANDOFF_ATTR_CONN_HANDLE);
    if (!session) {
        return tl::unexpected(session.error());
    }
    if (!connection) {
        return tl::unexpected(connection.error());
    }
    return HandoffResult{*session, *connection};
}

Result<KernelSession> decode_session(const nlmsghdr* message) {
    auto attrs = parse_message(message);
    if (!attrs) {
        return tl::unexpected(attrs.error());
    }
    if (auto ok = attrs->require({ISCSI_HANDOFF_ATTR_SESSION_HANDLE, ISCSI_HANDOFF_ATTR_TARGET_NAME,
                                  ISCSI_HANDOFF_ATTR_TPGT, ISCSI_HANDOFF_ATTR_INITIATOR_NAME,
                                  ISCSI_HANDOFF_ATTR_ISID, ISCSI_HANDOFF_ATTR_TSIH},
                                 "a SESSION_LIST entry");
        !ok) {
        return tl::unexpected(ok.error());
    }
    KernelSession s;
    auto handle = nonzero_handle(*attrs, ISCSI_HANDOFF_ATTR_SESSION_HANDLE);
    if (!handle) {
        return tl::unexpected(handle.error());
    }
    s.handle = *handle;
    s.target_name = attrs->string(ISCSI_HANDOFF_ATTR_TARGET_NAME);
    s.tpgt = attrs->u16(ISCSI_HANDOFF_ATTR_TPGT);
    s.initiator_name = attrs->string(ISCSI_HANDOFF_ATTR_INITIATOR_NAME);
    if (attrs->has(ISCSI_HANDOFF_ATTR_INITIATOR_ALIAS)) {
        s.initiator_alias = attrs->string(ISCSI_HANDOFF_ATTR_INITIATOR_ALIAS);
    }
    std::memcpy(s.isid.data(), nla_data(attrs->get(ISCSI_HANDOFF_ATTR_ISID)), s.isid.size());
    s.tsih = attrs->u16(ISCSI_HANDOFF_ATTR_TSIH);
    if (attrs->has(ISCSI_HANDOFF_ATTR_CHAP_USER)) {
        s.chap_user = attrs->string(ISCSI_HANDOFF_ATTR_CHAP_USER);
    }
    if (attrs->has(ISCSI_HANDOFF_ATTR_SESSION_STATE)) {
        const uint8_t state = attrs->u8(ISCSI_HANDOFF_ATTR_SESSION_STATE);
        if (state < ISCSI_HANDOFF_SESSION_STATE_ACTIVE || state > ISCSI_HANDOFF_SESSION_STATE_CLOSING) {
            return tl::unexpected(malformed("SESSION_STATE " + std::to_string(state) + " is unknown"));
        }
        s.state = static_cast<SessionState>(state);
    }
    if (attrs->has(ISCSI_HANDOFF_ATTR_EXP_CMDSN)) {
        s.exp_cmd_sn = attrs->u32(ISCSI_HANDOFF_ATTR_EXP_CMDSN);
    }
    if (attrs->has(ISCSI_HANDOFF_ATTR_MAX_CMDSN)) {
        s.max_cmd_sn = attrs->u32(ISCSI_HANDOFF_ATTR_MAX_CMDSN);
    }
    if (attrs->has(ISCSI_HANDOFF_ATTR_START_TIME)) {
        s.start_time_ns = attrs->u64(ISCSI_HANDOFF_ATTR_START_TIME);
    }
    if (attrs->has(ISCSI_HANDOFF_ATTR_NEGOTIATED)) {
        auto negotiated = decode_negotiated(attrs->get(ISCSI_HANDOFF_ATTR_NEGOTIATED));
        if (!negotiated) {
            return tl::unexpected(negotiated.error());
        }
        s.negotiated = *negotiated;
    }
    if (attrs->has(ISCSI_HANDOFF_ATTR_STATS)) {
        auto counters = decode_counters(attrs->get(ISCSI_HANDOFF_ATTR_STATS));
        if (!counters) {
            return tl::unexpected(counters.error());
        }
        s.counters = *counters;
    }
    if (attrs->has(ISCSI_HANDOFF_ATTR_CONNECTIONS)) {
        const nlattr* list = attrs->get(ISCSI_HANDOFF_ATTR_CONNECTIONS);
        const nlattr* pos = nullptr;
        int remaining = 0;
        nla_for_each_nested(pos, list, remaining) {
            if (nla_type(pos) != ISCSI_HANDOFF_ATTR_CONNECTION) {
                return tl::unexpected(malformed("CONNECTIONS holds " + attribute_name(nla_type(pos)) +
                                                ", expected CONNECTION"));
            }
            auto connection = decode_connection(pos);
            if (!connection) {
                return tl::unexpected(connection.error());
            }
            s.connections.push_back(std::move(*connection));
        }
        if (remaining > 0) {
            return tl::unexpected(malformed("CONNECTIONS ends with a truncated attribute"));
        }
    }
    return s;
}

Result<Limits> decode_limits(const nlmsghdr* message) {
    auto attrs = parse_message(message);
    if (!attrs) {
        return tl::unexpected(attrs.error());
    }
    if (auto ok = attrs->require({ISCSI_HANDOFF_ATTR_LIMIT_MAX_SESSIONS, ISCSI_HANDOFF_ATTR_LIMIT_MAX_CONNECTIONS,
                                  ISCSI_HANDOFF_ATTR_LIMIT_MAX_DSL, ISCSI_HANDOFF_ATTR_LIMIT_MAX_BURST,
                                  ISCSI_HANDOFF_ATTR_LIMIT_QUEUE_DEPTH},
                                 "the GET_LIMITS reply");
        !ok) {
        return tl::unexpected(ok.error());
    }
    Limits l;
    l.max_sessions = attrs->u32(ISCSI_HANDOFF_ATTR_LIMIT_MAX_SESSIONS);
    l.max_connections_per_session = attrs->u32(ISCSI_HANDOFF_ATTR_LIMIT_MAX_CONNECTIONS);
    l.max_data_segment_length = attrs->u32(ISCSI_HANDOFF_ATTR_LIMIT_MAX_DSL);
    l.max_burst_length = attrs->u32(ISCSI_HANDOFF_ATTR_LIMIT_MAX_BURST);
    l.queue_depth = attrs->u32(ISCSI_HANDOFF_ATTR_LIMIT_QUEUE_DEPTH);
    return l;
}

Result<Version> decode_version(const nlmsghdr* message) {
    auto attrs = parse_message(message);
    if (!attrs) {
        return tl::unexpected(attrs.error());
    }
    if (auto ok = attrs->require({ISCSI_HANDOFF_ATTR_VERSION_MAJOR, ISCSI_HANDOFF_ATTR_VERSION_MINOR},
                                 "the GET_VERSION reply");
        !ok) {
        return tl::unexpected(ok.error());
    }
    Version v;
    v.major = attrs->u32(ISCSI_HANDOFF_ATTR_VERSION_MAJOR);
    v.minor = attrs->u32(ISCSI_HANDOFF_ATTR_VERSION_MINOR);
    if (attrs->has(ISCSI_HANDOFF_ATTR_VERSION_STRING)) {
        v.text = attrs->string(ISCSI_HANDOFF_ATTR_VERSION_STRING);
    }
    return v;
}

Result<DataPathEvent> decode_event(const nlmsghdr* message) {
    if (message->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN) {
        return tl::unexpected(malformed("event shorter than its generic netlink header"));
    }
    const auto* genl = static_cast<const genlmsghdr*>(nlmsg_data(message));
    DataPathEvent event;
    if (genl->cmd == ISCSI_HANDOFF_CMD_EVENT_CONN_DOWN) {
        event.kind = DataPathEvent::Kind::ConnectionDown;
    } else if (genl->cmd == ISCSI_HANDOFF_CMD_EVENT_SESSION_DOWN) {
        event.kind = DataPathEvent::Kind::SessionDown;
    } else {
        return tl::unexpected(malformed("command " + std::to_string(genl->cmd) + " is not an event"));
    }
    auto attrs = parse_message(message);
    if (!attrs) {
        return tl::unexpected(attrs.error());
    }
    if (auto ok = attrs->require({ISCSI_HANDOFF_ATTR_SESSION_HANDLE, ISCSI_HANDOFF_ATTR_TSIH,
                                  ISCSI_HANDOFF_ATTR_TARGET_NAME, ISCSI_HANDOFF_ATTR_TPGT,
                                  ISCSI_HANDOFF_ATTR_REASON},
                                 "a down event");
        !ok) {
        return tl::unexpected(ok.error());
    }
    if (event.kind == DataPathEvent::Kind::ConnectionDown) {
        if (auto ok = attrs->require({ISCSI_HANDOFF_ATTR_CID}, "a CONN_DOWN event"); !ok) {
            return tl::unexpected(ok.error());
        }
        event.cid = attrs->u16(ISCSI_HANDOFF_ATTR_CID);
    }
    auto handle = nonzero_handle(*attrs, ISCSI_HANDOFF_ATTR_SESSION_HANDLE);
    if (!handle) {
        return tl::unexpected(handle.error());
    }
    event.session_handle = *handle;
    event.tsih = attrs->u16(ISCSI_HANDOFF_ATTR_TSIH);
    event.target_name = attrs->string(ISCSI_HANDOFF_ATTR_TARGET_NAME);
    event.tpgt = attrs->u16(ISCSI_HANDOFF_ATTR_TPGT);
    // Reasons are appended over time; an unknown one is still a down event
    // (to_string says "unknown"), so it is passed through rather than refused.
    event.reason = static_cast<DownReason>(attrs->u32(ISCSI_HANDOFF_ATTR_REASON));
    return event;
}

}  // namespace iscsi::kmod
