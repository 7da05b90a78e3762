// The operational negotiation engine (RFC 7143 s.6.2, s.13), driven by the
// key table of keys.h.
//
// One Negotiator per connection's login. process() takes the initiator's
// pairs of one Login Request (after continuation reassembly) and returns the
// answers for the response, the pairs the login state machine handles itself
// (names, SessionType, AuthMethod, CHAP_*), or a failure with the Login
// status the RFC requires. target_declarations() adds what the target must
// declare or offer before the operational stage may end; finish() runs the
// cross-key checks at the transit to the Full Feature Phase.
#pragma once

#include <bitset>
#include <optional>
#include <string>
#include <vector>

#include "config/model.h"
#include "data_path.h"
#include "iscsi/keys.h"
#include "iscsi/pdu.h"
#include "iscsi/status.h"
#include "iscsi/text.h"

namespace iscsi {

// What the target wants for each negotiable key (its side of the
// negotiation). Defaults are the RFC's, except the digests, where the target
// accepts both.
struct TargetOffer {
    uint32_t max_recv_data_segment_length = 8192;
    uint32_t max_burst_length = 262144;
    uint32_t first_burst_length = 65536;
    bool initial_r2t = true;
    bool immediate_data = true;
    uint32_t max_outstanding_r2t = 1;
    uint32_t max_connections = 1;
    uint32_t default_time2wait = 2;
    uint32_t default_time2retain = 20;
    uint32_t error_recovery_level = 0;
    bool data_pdu_in_order = true;
    bool data_sequence_in_order = true;
    uint32_t protocol_level = 1;  // RFC 7143
    std::vector<std::string> header_digests = {"None", "CRC32C"};  // accepted values
    std::vector<std::string> data_digests = {"None", "CRC32C"};
};
// A Normal session's offer from the target's configured parameters (values
// clamped into the RFC's ranges; unknown digest names dropped).
TargetOffer target_offer_from(const config::SessionParameters& parameters);
// Discovery sessions: no digests (the daemon serves them itself).
TargetOffer discovery_offer(uint32_t max_recv_data_segment_length);

// The result, with the RFC defaults for whatever was not negotiated.
struct NegotiatedValues {
    kmod::Digest header_digest = kmod::Digest::None;
    kmod::Digest data_digest = kmod::Digest::None;
    uint32_t target_max_recv_data_segment_length = 8192;     // what we declared
    uint32_t initiator_max_recv_data_segment_length = 8192;  // what the initiator declared
    uint32_t max_burst_length = 262144;
    uint32_t first_burst_length = 65536;
    bool initial_r2t = true;
    bool immediate_data = true;
    uint32_t max_outstanding_r2t = 1;
    bool data_pdu_in_order = true;
    bool data_sequence_in_order = true;
    uint32_t error_recovery_level = 0;
    uint32_t default_time2wait = 2;
    uint32_t default_time2retain = 20;
    uint32_t max_connections = 1;
    std::string task_reporting = "RFC3720";
    uint32_t protocol_level = 1;

    kmod::NegotiatedParameters to_kmod() const;
};

struct NegotiationFailure {
    LoginStatus status = LoginStatus::InitiatorError;
    std::string reason;
};

struct NegotiationOutcome {
    TextPairs answers;    // to put in the response, in order
    TextPairs for_login;  // identity and security keys, for the login state machine
    std::optional<NegotiationFailure> failure;
};

class Negotiator {
public:
    explicit Negotiator(TargetOffer offer);

    // Known after the first Login Request: Discovery sessions answer
    // Irrelevant to the keys s.13 marks so; non-leading connections answer
    // Irrelevant to leading-only keys.
    void set_session(bool discovery, bool leading);
    void set_offer(TargetOffer offer);  // e.g. once the target is known

    NegotiationOutcome process(const TextPairs& pairs, Stage stage);

    // Declarations and offers of the target, for an operational-stage
    // response: MaxRecvDataSegmentLength (declared once per connection,
    // s.13.12) and, with include_offers on a leading Normal login, offers for
    // the keys the initiator did not negotiate where the target wants a
    // non-default value. Marks them sent.
    TextPairs target_declarations(bool include_offers);
    // Whether the target must still send something before the Full Feature
    // Phase: a non-default MaxRecvDataSegmentLength or an offer.
    bool owes_declarations() const;
    // Offers the initiator has not answered yet: the target may not transit.
    bool awaiting_answers() const { return pending_.any(); }

    // Cross-key checks at the transit to the Full Feature Phase.
    std::optional<NegotiationFailure> finish() const;

    const NegotiatedValues& values() const { return values_; }
    bool negotiated(Key key) const { return negotiated_.test(static_cast<size_t>(key)); }

private:
    struct Answer {
        std::optional<std::string> value;  // nothing: no answer (declaration)
        std::optional<NegotiationFailure> failure;
    };
    Answer negotiate(const KeyInfo& info, const std::string& value);
    Answer answer_to_offer(const KeyInfo& info, const std::string& value);
    bool first_burst_irrelevant() const;
    std::optional<std::string> target_wants(Key key) const;  // our non-default value, if any

    TargetOffer offer_;
    NegotiatedValues values_;
    bool discovery_ = false;
    bool leading_ = true;
    bool declared_mrdsl_ = false;
    std::bitset<kKeyCount> negotiated_;  // "negotiated once" (s.6.2)
    std::bitset<kKeyCount> pending_;     // offered by the target, unanswered
    std::vector<std::string> offered_values_ = std::vector<std::string>(kKeyCount);
};

}  // namespace iscsi
