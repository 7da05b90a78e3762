#include "iscsi/negotiation.h"

#include <algorithm>

namespace iscsi {

const char* to_string(KeyType type) {
    switch (type) {
        case KeyType::List: return "list";
        case KeyType::NumericMin: return "numeric (minimum)";
        case KeyType::NumericMax: return "numeric (maximum)";
        case KeyType::BooleanAnd: return "boolean (and)";
        case KeyType::BooleanOr: return "boolean (or)";
        case KeyType::Declarative: return "declarative";
        case KeyType::Obsolete: return "obsolete";
        case KeyType::Security: return "security";
    }
    return "unknown key type";
}

namespace {

uint32_t clamp_to(const KeyInfo& info, uint64_t value) {
    return static_cast<uint32_t>(std::clamp<uint64_t>(value, info.min, info.max));
}

std::vector<std::string> known_digests(const std::vector<std::string>& names) {
    std::vector<std::string> out;
    for (const auto& name : names) {
        if ((name == "None" || name == "CRC32C") && std::find(out.begin(), out.end(), name) == out.end()) {
            out.push_back(name);
        }
    }
    return out;
}

kmod::Digest digest_of(const std::string& value) {
    return value == "CRC32C" ? kmod::Digest::Crc32c : kmod::Digest::None;
}

std::optional<bool> parse_boolean(const std::string& value) {
    if (value == "Yes") return true;
    if (value == "No") return false;
    return std::nullopt;
}

const char* yes_no(bool value) { return value ? "Yes" : "No"; }

bool is_special_answer(const std::string& value) {
    return value == "Reject" || value == "Irrelevant" || value == "NotUnderstood";
}

// Whether the login state machine, not the engine, interprets this key.
bool handled_by_login(Key key) {
    switch (key) {
        case Key::TargetName:
        case Key::InitiatorName:
        case Key::InitiatorAlias:
        case Key::SessionType:
        case Key::AuthMethod:
        case Key::CHAP_A:
        case Key::CHAP_I:
        case Key::CHAP_C:
        case Key::CHAP_N:
        case Key::CHAP_R: return true;
        default: return false;
    }
}

}  // namespace

TargetOffer target_offer_from(const config::SessionParameters& p) {
    TargetOffer offer;
    auto number = [](Key key, const std::optional<uint32_t>& configured, uint32_t fallback) {
        return configured ? clamp_to(key_info(key), *configured) : fallback;
    };
    offer.max_recv_data_segment_length =
        number(Key::MaxRecvDataSegmentLength, p.max_recv_data_segment_length, offer.max_recv_data_segment_length);
    offer.max_burst_length = number(Key::MaxBurstLength, p.max_burst_length, offer.max_burst_length);
    offer.first_burst_length = number(Key::FirstBurstLength, p.first_burst_length, offer.first_burst_length);
    offer.first_burst_length = std::min(offer.first_burst_length, offer.max_burst_length);
    offer.max_outstanding_r2t = number(Key::MaxOutstandingR2T, p.max_outstanding_r2t, offer.max_outstanding_r2t);
    offer.max_connections = number(Key::MaxConnections, p.max_connections, offer.max_connections);
    offer.default_time2wait = number(Key::DefaultTime2Wait, p.default_time2wait, offer.default_time2wait);
    offer.default_time2retain = number(Key::DefaultTime2Retain, p.default_time2retain, offer.default_time2retain);
    offer.error_recovery_level =
        number(Key::ErrorRecoveryLevel, p.error_recovery_level, offer.error_recovery_level);
    if (p.initial_r2t) offer.initial_r2t = *p.initial_r2t;
    if (p.immediate_data) offer.immediate_data = *p.immediate_data;
    if (!p.header_digest.empty()) {
        auto digests = known_digests(p.header_digest);
        if (!digests.empty()) offer.header_digests = digests;
    }
    if (!p.data_digest.empty()) {
        auto digests = known_digests(p.data_digest);
        if (!digests.empty()) offer.data_digests = digests;
    }
    return offer;
}

TargetOffer discovery_offer(uint32_t max_recv_data_segment_length) {
    TargetOffer offer;
    offer.max_recv_data_segment_length = clamp_to(key_info(Key::MaxRecvDataSegmentLength), max_recv_data_segment_length);
    offer.header_digests = {"None"};
    offer.data_digests = {"None"};
    return offer;
}

kmod::NegotiatedParameters NegotiatedValues::to_kmod() const {
    kmod::NegotiatedParameters p;
    p.header_digest = header_digest;
    p.data_digest = data_digest;
    p.max_recv_data_segment_length = target_max_recv_data_segment_length;
    p.max_xmit_data_segment_length = initiator_max_recv_data_segment_length;
    p.max_burst_length = max_burst_length;
    p.first_burst_length = first_burst_length;
    p.initial_r2t = initial_r2t;
    p.immediate_data = immediate_data;
    p.max_outstanding_r2t = max_outstanding_r2t;
    p.data_pdu_in_order = data_pdu_in_order;
    p.data_sequence_in_order = data_sequence_in_order;
    p.error_recovery_level = static_cast<uint8_t>(error_recovery_level);
    p.default_time2wait = default_time2wait;
    p.default_time2retain = default_time2retain;
    p.max_connections = max_connections;
    return p;
}

Negotiator::Negotiator(TargetOffer offer) : offer_(std::move(offer)) {
    values_.target_max_recv_data_segment_length = offer_.max_recv_data_segment_length;
}

void Negotiator::set_session(bool discovery, bool leading) {
    discovery_ = discovery;
    leading_ = leading;
}

void Negotiator::set_offer(TargetOffer offer) {
    offer_ = std::move(offer);
    values_.target_max_recv_data_segment_length = offer_.max_recv_data_segment_length;
}

bool Negotiator::first_burst_irrelevant() const {
    // s.13.14: FirstBurstLength is irrelevant when InitialR2T=Yes and
    // ImmediateData=No (no unsolicited data at all).
    return values_.initial_r2t && !values_.immediate_data;
}

namespace {

struct OurSide {
    uint64_t number = 0;
    bool boolean = false;
    std::vector<std::string> list;
};

OurSide our_side(const TargetOffer& o, Key key) {
    OurSide s;
    switch (key) {
        case Key::HeaderDigest: s.list = o.header_digests; break;
        case Key::DataDigest: s.list = o.data_digests; break;
        case Key::MaxConnections: s.number = o.max_connections; break;
        case Key::InitialR2T: s.boolean = o.initial_r2t; break;
        case Key::ImmediateData: s.boolean = o.immediate_data; break;
        case Key::MaxBurstLength: s.number = o.max_burst_length; break;
        case Key::FirstBurstLength: s.number = o.first_burst_length; break;
        case Key::DefaultTime2Wait: s.number = o.default_time2wait; break;
        case Key::DefaultTime2Retain: s.number = o.default_time2retain; break;
        case Key::MaxOutstandingR2T: s.number = o.max_outstanding_r2t; break;
        case Key::DataPDUInOrder: s.boolean = o.data_pdu_in_order; break;
        case Key::DataSequenceInOrder: s.boolean = o.data_sequence_in_order; break;
        case Key::ErrorRecoveryLevel: s.number = o.error_recovery_level; break;
        case Key::TaskReporting: s.list = {"RFC3720"}; break;
        case Key::ISCSIProtocolLevel: s.number = o.protocol_level; break;
        case Key::RDMAExtensions: s.boolean = false; break;
        case Key::AuthMethod: s.list = {"None"}; break;
        default: break;
    }
    return s;
}

void store(NegotiatedValues& v, Key key, const std::string& text, uint64_t number, bool boolean) {
    switch (key) {
        case Key::HeaderDigest: v.header_digest = digest_of(text); break;
        case Key::DataDigest: v.data_digest = digest_of(text); break;
        case Key::MaxConnections: v.max_connections = static_cast<uint32_t>(number); break;
        case Key::InitialR2T: v.initial_r2t = boolean; break;
        case Key::ImmediateData: v.immediate_data = boolean; break;
        case Key::MaxBurstLength: v.max_burst_length = static_cast<uint32_t>(number); break;
        case Key::FirstBurstLength: v.first_burst_length = static_cast<uint32_t>(number); break;
        case Key::DefaultTime2Wait: v.default_time2wait = static_cast<uint32_t>(number); break;
        case Key::DefaultTime2Retain: v.default_time2retain = static_cast<uint32_t>(number); break;
        case Key::MaxOutstandingR2T: v.max_outstanding_r2t = static_cast<uint32_t>(number); break;
        case Key::DataPDUInOrder: v.data_pdu_in_order = boolean; break;
        case Key::DataSequenceInOrder: v.data_sequence_in_order = boolean; break;
        case Key::ErrorRecoveryLevel: v.error_recovery_level = static_cast<uint32_t>(number); break;
        case Key::TaskReporting: v.task_reporting = text; break;
        case Key::ISCSIProtocolLevel: v.protocol_level = static_cast<uint32_t>(number); break;
        case Key::MaxRecvDataSegmentLength: v.initiator_max_recv_data_segment_length = static_cast<uint32_t>(number); break;
        default: break;
    }
}

}  // namespace

Negotiator::Answer Negotiator::negotiate(const KeyInfo& info, const std::string& value) {
    const OurSide ours = our_side(offer_, info.key);
    switch (info.type) {
        case KeyType::Obsolete: return {std::string(info.default_value), {}};
        case KeyType::Security: return {};  // not reached: handled by the login
        case KeyType::Declarative: {
            if (info.rdma_only) return {"Irrelevant", {}};
            if (info.key == Key::MaxRecvDataSegmentLength) {
                const auto n = parse_numeric(value);
                if (!n || *n < info.min || *n > info.max) {
                    // A declaration has no answer to carry "Reject": the
                    // login cannot go on with an unusable value.
                    return {{}, NegotiationFailure{LoginStatus::InitiatorError,
                                                   "MaxRecvDataSegmentLength=" + value +
                                                       " is outside 512..16777215 (RFC 7143 s.13.12)"}};
                }
                store(values_, info.key, value, *n, false);
            }
            return {};
        }
        case KeyType::NumericMin:
        case KeyType::NumericMax: {
            if (info.rdma_only) return {"Irrelevant", {}};
            const auto n = parse_numeric(value);
            if (!n || *n < info.min || *n > info.max) return {"Reject", {}};
            uint64_t result = info.type == KeyType::NumericMin ? std::min(*n, ours.number) : std::max(*n, ours.number);
            store(values_, info.key, value, result, false);
            return {std::to_string(result), {}};
        }
        case KeyType::BooleanAnd:
        case KeyType::BooleanOr: {
            const auto b = parse_boolean(value);
            if (!b) return {"Reject", {}};
            const bool result = info.type == KeyType::BooleanAnd ? (*b && ours.boolean) : (*b || ours.boolean);
            store(values_, info.key, value, 0, result);
            return {yes_no(result), {}};
        }
        case KeyType::List: {
            const auto items = split_list(value);
            if (!items) return {"Reject", {}};
            // s.6.2.1: the first value of the offerer's list the responder supports.
            for (const auto& item : *items) {
                if (std::find(ours.list.begin(), ours.list.end(), item) != ours.list.end()) {
                    store(values_, info.key, item, 0, false);
                    return {item, {}};
                }
            }
            return {"Reject", {}};
        }
    }
    return {"Reject", {}};
}

Negotiator::Answer Negotiator::answer_to_offer(const KeyInfo& info, const std::string& value) {
    pending_.reset(static_cast<size_t>(info.key));
    const std::string& offered = offered_values_[static_cast<size_t>(info.key)];
    auto refuse = [&](const std::string& why) {
        return Answer{{}, NegotiationFailure{LoginStatus::InitiatorError,
                                             std::string(info.name) + "=" + value + " answering our " + offered +
                                                 ": " + why + " (RFC 7143 s.6.2)"}};
    };
    // The initiator may refuse our offer; the RFC default then stands.
    if (is_special_answer(value)) return {};
    switch (info.type) {
        case KeyType::NumericMin:
        case KeyType::NumericMax: {
            const auto n = parse_numeric(value);
            const auto ours = parse_numeric(offered);
            if (!n || !ours || *n < info.min || *n > info.max) return refuse("not a valid value");
            if (info.type == KeyType::NumericMin ? *n > *ours : *n < *ours) return refuse("not an acceptable result");
            store(values_, info.key, value, *n, false);
            return {};
        }
        case KeyType::BooleanAnd:
        case KeyType::BooleanOr: {
            const auto b = parse_boolean(value);
            const bool ours = offered == "Yes";
            if (!b) return refuse("not Yes or No");
            const bool expected = info.type == KeyType::BooleanAnd ? (*b && ours) : (*b || ours);
            if (*b != expected) return refuse("not the function's result");
            store(values_, info.key, value, 0, *b);
            return {};
        }
        case KeyType::List: {
            const auto items = split_list(offered);
            if (!items || std::find(items->begin(), items->end(), value) == items->end()) {
                return refuse("not one of the values offered");
            }
            store(values_, info.key, value, 0, false);
            return {};
        }
        default: return {};
    }
}

NegotiationOutcome Negotiator::process(const TextPairs& pairs, Stage stage) {
    NegotiationOutcome out;
    auto fail = [&](LoginStatus status, std::string reason) {
        out.failure = NegotiationFailure{status, std::move(reason)};
        return out;
    };
    std::optional<size_t> first_burst_answer;
    for (const auto& kv : pairs) {
        const auto key = find_key(kv.key);
        if (!key) {
            // s.6.2 / s.13.5.2: unknown keys, including X- and X# extension
            // keys this target does not implement, are answered NotUnderstood.
            out.answers.push_back({kv.key, "NotUnderstood"});
            continue;
        }
        const KeyInfo& info = key_info(*key);
        const auto index = static_cast<size_t>(*key);
        if (pending_.test(index)) {
            auto answer = answer_to_offer(info, kv.value);
            if (answer.failure) return fail(answer.failure->status, answer.failure->reason);
            continue;
        }
        // s.6.2: a parameter is negotiated or declared at most once per login;
        // the target answers a second attempt with a Login reject.
        if (negotiated_.test(index)) {
            return fail(LoginStatus::InitiatorError,
                        "renegotiation of " + std::string(info.name) + " (RFC 7143 s.6.2: negotiated once)");
        }
        negotiated_.set(index);
        if (info.sender == Sender::Target) {
            return fail(LoginStatus::InitiatorError,
                        std::string(info.name) + " may only be sent by a target (RFC 7143 s.13)");
        }
        if (info.use == Use::FullFeatureOnly) {
            out.answers.push_back({kv.key, "Reject"});
            continue;
        }
        if (info.phase == Phase::Security && stage != Stage::SecurityNegotiation) {
            return fail(LoginStatus::InitiatorError,
                        std::string(info.name) + " is a security key sent in the operational stage (RFC 7143 s.6.3)");
        }
        if (handled_by_login(*key)) {
            out.for_login.push_back(kv);
            continue;
        }
        if (!leading_ && info.use == Use::LeadingOnly) {
            out.answers.push_back({kv.key, "Irrelevant"});
            continue;
        }
        if (discovery_ && info.irrelevant_in_discovery) {
            out.answers.push_back({kv.key, "Irrelevant"});
            continue;
        }
        auto answer = negotiate(info, kv.value);
        if (answer.failure) return fail(answer.failure->status, answer.failure->reason);
        if (answer.value) {
            if (*key == Key::FirstBurstLength) first_burst_answer = out.answers.size();
            out.answers.push_back({kv.key, *answer.value});
        }
    }
    // Cross-key rules, after the whole request: its keys come in any order.
    if (first_burst_answer) {
        auto& answer = out.answers[*first_burst_answer];
        if (first_burst_irrelevant()) {
            answer.value = "Irrelevant";
            values_.first_burst_length = 65536;
        } else if (answer.value != "Reject" && values_.first_burst_length > values_.max_burst_length) {
            // s.13.14: FirstBurstLength <= MaxBurstLength. Any value at or
            // below the offer is an acceptable numeric-min answer.
            values_.first_burst_length = values_.max_burst_length;
            answer.value = std::to_string(values_.first_burst_length);
        }
    }
    return out;
}

std::optional<std::string> Negotiator::target_wants(Key key) const {
    const KeyInfo& info = key_info(key);
    const OurSide ours = our_side(offer_, key);
    switch (info.type) {
        case KeyType::NumericMin:
        case KeyType::NumericMax:
            if (info.rdma_only || key == Key::ISCSIProtocolLevel) return std::nullopt;
            if (ours.number != info.default_number) return std::to_string(ours.number);
            return std::nullopt;
        case KeyType::BooleanAnd:
        case KeyType::BooleanOr:
            if (key == Key::RDMAExtensions) return std::nullopt;
            if (ours.boolean != (info.default_number != 0)) return std::string(yes_no(ours.boolean));
            return std::nullopt;
        case KeyType::List:
            if (key == Key::AuthMethod || key == Key::TaskReporting) return std::nullopt;
            // Only when the default is not acceptable to us.
            if (std::find(ours.list.begin(), ours.list.end(), info.default_value) == ours.list.end() &&
                !ours.list.empty()) {
                std::string joined;
                for (const auto& item : ours.list) joined += (joined.empty() ? "" : ",") + item;
                return joined;
            }
            return std::nullopt;
        default: return std::nullopt;
    }
}

bool Negotiator::owes_declarations() const {
    if (!declared_mrdsl_ && offer_.max_recv_data_segment_length != key_info(Key::MaxRecvDataSegmentLength).default_number) {
        return true;
    }
    if (discovery_ || !leading_) return false;
    for (const auto& row : kKeyTable) {
        if (row.use != Use::LeadingOnly && row.key != Key::HeaderDigest && row.key != Key::DataDigest) continue;
        if (negotiated_.test(static_cast<size_t>(row.key))) continue;
        if (row.key == Key::FirstBurstLength && first_burst_irrelevant()) continue;
        if (target_wants(row.key)) return true;
    }
    return false;
}

TextPairs Negotiator::target_declarations(bool include_offers) {
    TextPairs out;
    if (!declared_mrdsl_) {
        // s.13.12: each side declares the data segment length it receives.
        out.push_back({"MaxRecvDataSegmentLength", std::to_string(offer_.max_recv_data_segment_length)});
        declared_mrdsl_ = true;
    }
    if (discovery_ || !leading_ || !include_offers) return out;
    for (const auto& row : kKeyTable) {
        if (row.use != Use::LeadingOnly && row.key != Key::HeaderDigest && row.key != Key::DataDigest) continue;
        const auto index = static_cast<size_t>(row.key);
        if (negotiated_.test(index)) continue;
        if (row.key == Key::FirstBurstLength && first_burst_irrelevant()) continue;
        auto wanted = target_wants(row.key);
        if (!wanted) continue;
        negotiated_.set(index);
        pending_.set(index);
        offered_values_[index] = *wanted;
        out.push_back({std::string(row.name), *wanted});
    }
    return out;
}

std::optional<NegotiationFailure> Negotiator::finish() const {
    if (!first_burst_irrelevant() && values_.first_burst_length > values_.max_burst_length) {
        return NegotiationFailure{LoginStatus::InitiatorError,
                                  "FirstBurstLength " + std::to_string(values_.first_burst_length) +
                                      " exceeds MaxBurstLength " + std::to_string(values_.max_burst_length) +
                                      " (RFC 7143 s.13.14)"};
    }
    return std::nullopt;
}

}  // namespace iscsi
