// Every login key of RFC 7143 s.13 (and s.12 for authentication, RFC 7144
// for iSCSIProtocolLevel, RFC 7145 for the iSER keys), as one constexpr table
// indexed by enum class Key. The negotiation engine reads it; nothing else
// spells a key name.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace iscsi {

enum class Key : uint8_t {
    HeaderDigest,
    DataDigest,
    MaxConnections,
    SendTargets,
    TargetName,
    InitiatorName,
    TargetAlias,
    InitiatorAlias,
    TargetAddress,
    TargetPortalGroupTag,
    InitialR2T,
    ImmediateData,
    MaxRecvDataSegmentLength,
    MaxBurstLength,
    FirstBurstLength,
    DefaultTime2Wait,
    DefaultTime2Retain,
    MaxOutstandingR2T,
    DataPDUInOrder,
    DataSequenceInOrder,
    ErrorRecoveryLevel,
    SessionType,
    AuthMethod,
    TaskReporting,
    ISCSIProtocolLevel,  // "iSCSIProtocolLevel", RFC 7144 s.7.1
    // Obsoleted by RFC 7143 s.13.26 (RFC 3720 markers)
    OFMarker,
    IFMarker,
    OFMarkInt,
    IFMarkInt,
    // iSER (RFC 7145 s.6): this target has no RDMA
    RDMAExtensions,
    TargetRecvDataSegmentLength,
    InitiatorRecvDataSegmentLength,
    MaxOutstandingUnexpectedPDUs,
    // CHAP (RFC 7143 s.12.1.3)
    CHAP_A,
    CHAP_I,
    CHAP_C,
    CHAP_N,
    CHAP_R,
    Count,
};
inline constexpr size_t kKeyCount = static_cast<size_t>(Key::Count);

// How a key's result is computed (RFC 7143 s.6.2.1, s.6.2.2).
enum class KeyType {
    List,         // the responder picks the first value of the offer it supports
    NumericMin,   // result: the smaller of the two
    NumericMax,   // result: the larger of the two
    BooleanAnd,   // result: Yes only if both say Yes
    BooleanOr,    // result: Yes if either says Yes
    Declarative,  // each side states its value; no answer
    Obsolete,     // answered with a fixed value (s.13.26)
    Security,     // an authentication method's exchange (handled by the login)
};
const char* to_string(KeyType type);

// In which login stage a key may appear.
enum class Phase { Security, Operational, Any };
// When it may be used (s.13: LO, IO, ALL, FFPO).
enum class Use { LeadingOnly, LoginOnly, All, FullFeatureOnly };
enum class Scope { Session, Connection };
enum class Sender { Initiator, Target, Both };

struct KeyInfo {
    Key key;
    std::string_view name;
    KeyType type;
    Phase phase;
    Use use;
    Scope scope;
    Sender sender;
    uint64_t min;             // numeric keys: valid range
    uint64_t max;
    uint64_t default_number;  // numeric and boolean (1 = Yes) defaults
    std::string_view default_value;  // list and obsolete keys: default / fixed answer
    bool irrelevant_in_discovery;
    bool rdma_only;           // meaningful only with RDMAExtensions=Yes

    constexpr KeyInfo(Key key_, std::string_view name_, KeyType type_, Phase phase_, Use use_, Scope scope_,
                      Sender sender_, uint64_t min_ = 0, uint64_t max_ = 0, uint64_t default_number_ = 0,
                      std::string_view default_value_ = {}, bool irrelevant_in_discovery_ = false,
                      bool rdma_only_ = false)
        : key(key_), name(name_), type(type_), phase(phase_), use(use_), scope(scope_), sender(sender_), min(min_),
          max(max_), default_number(default_number_), default_value(default_value_),
          irrelevant_in_discovery(irrelevant_in_discovery_), rdma_only(rdma_only_) {}
};

inline constexpr uint64_t kMaxDataLength = (1u << 24) - 1;

inline constexpr std::array<KeyInfo, kKeyCount> kKeyTable = {{
    {Key::HeaderDigest, "HeaderDigest", KeyType::List, Phase::Operational, Use::LoginOnly, Scope::Connection,
     Sender::Both, 0, 0, 0, "None"},
    {Key::DataDigest, "DataDigest", KeyType::List, Phase::Operational, Use::LoginOnly, Scope::Connection,
     Sender::Both, 0, 0, 0, "None"},
    {Key::MaxConnections, "MaxConnections", KeyType::NumericMin, Phase::Operational, Use::LeadingOnly,
     Scope::Session, Sender::Both, 1, 65535, 1, {}, true},
    {Key::SendTargets, "SendTargets", KeyType::Declarative, Phase::Operational, Use::FullFeatureOnly,
     Scope::Session, Sender::Initiator},
    {Key::TargetName, "TargetName", KeyType::Declarative, Phase::Any, Use::LoginOnly, Scope::Session,
     Sender::Initiator},
    {Key::InitiatorName, "InitiatorName", KeyType::Declarative, Phase::Any, Use::LoginOnly, Scope::Session,
     Sender::Initiator},
    {Key::TargetAlias, "TargetAlias", KeyType::Declarative, Phase::Any, Use::All, Scope::Session, Sender::Target},
    {Key::InitiatorAlias, "InitiatorAlias", KeyType::Declarative, Phase::Any, Use::All, Scope::Session,
     Sender::Initiator},
    {Key::TargetAddress, "TargetAddress", KeyType::Declarative, Phase::Any, Use::All, Scope::Session,
     Sender::Target},
    {Key::TargetPortalGroupTag, "TargetPortalGroupTag", KeyType::Declarative, Phase::Any, Use::LoginOnly,
     Scope::Session, Sender::Target, 0, 65535},
    {Key::InitialR2T, "InitialR2T", KeyType::BooleanOr, Phase::Operational, Use::LeadingOnly, Scope::Session,
     Sender::Both, 0, 1, 1, {}, true},
    {Key::ImmediateData, "ImmediateData", KeyType::BooleanAnd, Phase::Operational, Use::LeadingOnly,
     Scope::Session, Sender::Both, 0, 1, 1, {}, true},
    {Key::MaxRecvDataSegmentLength, "MaxRecvDataSegmentLength", KeyType::Declarative, Phase::Operational, Use::All,
     Scope::Connection, Sender::Both, 512, kMaxDataLength, 8192},
    {Key::MaxBurstLength, "MaxBurstLength", KeyType::NumericMin, Phase::Operational, Use::LeadingOnly,
     Scope::Session, Sender::Both, 512, kMaxDataLength, 262144, {}, true},
    {Key::FirstBurstLength, "FirstBurstLength", KeyType::NumericMin, Phase::Operational, Use::LeadingOnly,
     Scope::Session, Sender::Both, 512, kMaxDataLength, 65536, {}, true},
    {Key::DefaultTime2Wait, "DefaultTime2Wait", KeyType::NumericMax, Phase::Operational, Use::LeadingOnly,
     Scope::Session, Sender::Both, 0, 3600, 2},
    {Key::DefaultTime2Retain, "DefaultTime2Retain", KeyType::NumericMin, Phase::Operational, Use::LeadingOnly,
     Scope::Session, Sender::Both, 0, 3600, 20},
    {Key::MaxOutstandingR2T, "MaxOutstandingR2T", KeyType::NumericMin, Phase::Operational, Use::LeadingOnly,
     Scope::Session, Sender::Both, 1, 65535, 1, {}, true},
    {Key::DataPDUInOrder, "DataPDUInOrder", KeyType::BooleanOr, Phase::Operational, Use::LeadingOnly,
     Scope::Session, Sender::Both, 0, 1, 1, {}, true},
    {Key::DataSequenceInOrder, "DataSequenceInOrder", KeyType::BooleanOr, Phase::Operational, Use::LeadingOnly,
     Scope::Session, Sender::Both, 0, 1, 1, {}, true},
    {Key::ErrorRecoveryLevel, "ErrorRecoveryLevel", KeyType::NumericMin, Phase::Operational, Use::LeadingOnly,
     Scope::Session, Sender::Both, 0, 2, 0},
    {Key::SessionType, "SessionType", KeyType::Declarative, Phase::Any, Use::LeadingOnly, Scope::Session,
     Sender::Initiator, 0, 0, 0, "Normal"},
    {Key::AuthMethod, "AuthMethod", KeyType::List, Phase::Security, Use::LoginOnly, Scope::Connection,
     Sender::Both, 0, 0, 0, "None"},
    {Key::TaskReporting, "TaskReporting", KeyType::List, Phase::Operational, Use::LeadingOnly, Scope::Session,
     Sender::Both, 0, 0, 0, "RFC3720", true},
    {Key::ISCSIProtocolLevel, "iSCSIProtocolLevel", KeyType::NumericMin, Phase::Operational, Use::LeadingOnly,
     Scope::Session, Sender::Both, 0, 31, 1},
    // s.13.26: answer IFMarker/OFMarker with "No" (allowed alternative to
    // Reject that RFC 3720 initiators understand) and the intervals Reject.
    {Key::OFMarker, "OFMarker", KeyType::Obsolete, Phase::Operational, Use::LoginOnly, Scope::Connection,
     Sender::Both, 0, 0, 0, "No"},
    {Key::IFMarker, "IFMarker", KeyType::Obsolete, Phase::Operational, Use::LoginOnly, Scope::Connection,
     Sender::Both, 0, 0, 0, "No"},
    {Key::OFMarkInt, "OFMarkInt", KeyType::Obsolete, Phase::Operational, Use::LoginOnly, Scope::Connection,
     Sender::Both, 0, 0, 0, "Reject"},
    {Key::IFMarkInt, "IFMarkInt", KeyType::Obsolete, Phase::Operational, Use::LoginOnly, Scope::Connection,
     Sender::Both, 0, 0, 0, "Reject"},
    // RFC 7145 s.6.1: a target without RDMA answers RDMAExtensions=No; the
    // other iSER keys are then irrelevant.
    {Key::RDMAExtensions, "RDMAExtensions", KeyType::BooleanAnd, Phase::Operational, Use::LeadingOnly,
     Scope::Session, Sender::Both, 0, 1, 0},
    {Key::TargetRecvDataSegmentLength, "TargetRecvDataSegmentLength", KeyType::Declarative, Phase::Operational,
     Use::All, Scope::Connection, Sender::Both, 512, kMaxDataLength, 8192, {}, false, true},
    {Key::InitiatorRecvDataSegmentLength, "InitiatorRecvDataSegmentLength", KeyType::Declarative,
     Phase::Operational, Use::All, Scope::Connection, Sender::Both, 512, kMaxDataLength, 8192, {}, false, true},
    {Key::MaxOutstandingUnexpectedPDUs, "MaxOutstandingUnexpectedPDUs", KeyType::NumericMin, Phase::Operational,
     Use::LeadingOnly, Scope::Session, Sender::Both, 0, 0xffffffff, 0, {}, false, true},
    {Key::CHAP_A, "CHAP_A", KeyType::Security, Phase::Security, Use::LoginOnly, Scope::Connection, Sender::Both},
    {Key::CHAP_I, "CHAP_I", KeyType::Security, Phase::Security, Use::LoginOnly, Scope::Connection, Sender::Both},
    {Key::CHAP_C, "CHAP_C", KeyType::Security, Phase::Security, Use::LoginOnly, Scope::Connection, Sender::Both},
    {Key::CHAP_N, "CHAP_N", KeyType::Security, Phase::Security, Use::LoginOnly, Scope::Connection, Sender::Both},
    {Key::CHAP_R, "CHAP_R", KeyType::Security, Phase::Security, Use::LoginOnly, Scope::Connection, Sender::Both},
}};

constexpr const KeyInfo& key_info(Key key) { return kKeyTable[static_cast<size_t>(key)]; }
constexpr std::string_view to_string(Key key) { return key_info(key).name; }

// The table is indexed by Key: each row must sit at its own index.
constexpr bool key_table_is_indexed() {
    for (size_t i = 0; i < kKeyCount; ++i) {
        if (static_cast<size_t>(kKeyTable[i].key) != i) return false;
    }
    return true;
}
static_assert(key_table_is_indexed(), "kKeyTable rows must be in enum class Key order");

// Key names are case-sensitive (RFC 7143 s.6.1).
constexpr std::optional<Key> find_key(std::string_view name) {
    for (const auto& row : kKeyTable) {
        if (row.name == name) return row.key;
    }
    return std::nullopt;
}

// Private and public extension keys (s.13.5.2): X-vendor... and X#IANA...
constexpr bool is_extension_key(std::string_view name) {
    return name.size() > 2 && name[0] == 'X' && (name[1] == '-' || name[1] == '#');
}

}  // namespace iscsi
