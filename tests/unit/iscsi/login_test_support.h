// A fixed-answer LoginPolicy and an initiator that builds Login/Text PDUs
// and reads the target's responses, for the login and discovery tests.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "iscsi/chap.h"
#include "iscsi/login.h"
#include "iscsi/login_policy.h"
#include "iscsi/pdu.h"
#include "iscsi/text.h"

namespace iscsi::testing {

inline constexpr const char* kInitiator = "iqn.2026-01.org.example:initiator";
inline constexpr const char* kTarget = "iqn.2026-01.org.example:target";

class FixedPolicy : public LoginPolicy {
public:
    TargetAccess access;
    std::optional<config::ChapCredentials> discovery_credentials;
    std::map<std::string, std::string> secrets;
    config::Security security_settings;
    Admission check = {Admission::Verdict::NewSession, 0, {}};
    Admission admitted = {Admission::Verdict::NewSession, 7, {}};
    std::vector<SendTargetsEntry> targets;
    bool discovery_enabled = true;

    int target_access_calls = 0;
    int admit_calls = 0;
    int abandon_calls = 0;
    std::string last_send_targets_name = "<none>";

    FixedPolicy() {
        access.verdict = TargetAccess::Verdict::Allowed;
        access.target_alias = "disk1";
    }

    TargetAccess target_access(const std::string&, const std::string&, const ConnectionEndpoints&) override {
        ++target_access_calls;
        return access;
    }
    std::optional<config::ChapCredentials> discovery_chap(const std::string&) override { return discovery_credentials; }
    std::optional<std::string> chap_secret(const std::string& user) override {
        auto it = secrets.find(user);
        if (it == secrets.end()) return std::nullopt;
        return it->second;
    }
    config::Security security() override { return security_settings; }
    Admission check_admission(const LoginIdentity&) override { return check; }
    Admission admit(const LoginIdentity&, const ConnectionEndpoints&) override {
        ++admit_calls;
        return admitted;
    }
    void abandon(const LoginIdentity&, const Admission&) override { ++abandon_calls; }
    std::vector<SendTargetsEntry> send_targets(const std::string&, const ConnectionEndpoints&,
                                               const std::string& target_name) override {
        last_send_targets_name = target_name;
        if (target_name.empty()) return targets;
        std::vector<SendTargetsEntry> out;
        for (const auto& t : targets) {
            if (t.target_name == target_name) out.push_back(t);
        }
        return out;
    }
    bool discovery_allowed(const std::string&, const ConnectionEndpoints&) override { return discovery_enabled; }
};

inline ConnectionEndpoints endpoints() {
    ConnectionEndpoints e;
    e.tpgt = 1;
    e.peer_address = "127.0.0.1";
    e.peer_port = 50000;
    e.local_address = "127.0.0.1";
    e.local_port = 3260;
    return e;
}

inline Isid test_isid() { return Isid{0x80, 0x12, 0x34, 0x56, 0x78, 0x9a}; }

struct LoginPdu {
    Stage csg = Stage::SecurityNegotiation;
    Stage nsg = Stage::LoginOperationalNegotiation;
    bool transit = false;
    bool cont = false;
    uint16_t tsih = 0;
    uint16_t cid = 1;
    uint32_t itt = 0x10;
    uint32_t cmd_sn = 100;
    uint32_t exp_stat_sn = 500;
    uint8_t version_max = 0;
    uint8_t version_min = 0;
    TextPairs keys;
    std::vector<uint8_t> raw_data;  // used instead of keys when not empty

    Pdu build() const {
        LoginRequestHeader h;
        h.set_csg(csg);
        h.set_nsg(nsg);
        h.set_transit(transit);
        h.set_continue_bit(cont);
        h.set_version_max(version_max);
        h.set_version_min(version_min);
        h.set_isid(test_isid());
        h.set_tsih(tsih);
        h.set_cid(cid);
        h.set_initiator_task_tag(itt);
        h.set_cmd_sn(cmd_sn);
        h.set_exp_stat_sn(exp_stat_sn);
        Pdu pdu{h, {}, raw_data.empty() ? encode_text(keys) : raw_data};
        pdu.bhs.set_data_segment_length(static_cast<uint32_t>(pdu.data.size()));
        return pdu;
    }
};

// One response PDU, decoded.
struct Response {
    Pdu pdu;
    TextPairs keys;
    LoginResponseHeader login() const { return LoginResponseHeader(pdu.bhs); }
    std::string value(const std::string& key) const {
        for (const auto& kv : keys) {
            if (kv.key == key) return kv.value;
        }
        return "<absent>";
    }
    bool has(const std::string& key) const { return value(key) != "<absent>"; }
};

inline Response decode(const std::vector<uint8_t>& wire) {
    auto pdu = Pdu::parse(wire);
    EXPECT_TRUE(pdu.has_value()) << (pdu ? "" : pdu.error());
    Response r{pdu ? *pdu : Pdu{}, {}};
    if (pdu && !pdu->data.empty() && pdu->bhs.opcode() != Opcode::Reject && pdu->bhs.opcode() != Opcode::NopIn) {
        auto keys = parse_text(pdu->data, true);
        if (keys) r.keys = *keys;
    }
    return r;
}

inline Response only_response(const LoginStep& step) {
    EXPECT_EQ(step.responses.size(), 1u) << step.log;
    if (step.responses.empty()) return Response{};
    return decode(step.responses.front());
}

inline config::Limits limits() { return config::Limits{}; }

// A login that has completed the security stage with AuthMethod=None and
// is in the operational stage; returns the session's first step result.
inline LoginStep start_normal(LoginConnection& login, TextPairs extra = {}) {
    LoginPdu first;
    first.keys = {{"InitiatorName", kInitiator}, {"TargetName", kTarget}, {"SessionType", "Normal"},
                  {"AuthMethod", "None"}};
    first.keys.insert(first.keys.end(), extra.begin(), extra.end());
    first.transit = true;
    first.nsg = Stage::LoginOperationalNegotiation;
    return login.on_pdu(first.build());
}

inline LoginStep operational(LoginConnection& login, TextPairs keys, bool transit = true, uint32_t exp_stat_sn = 501) {
    LoginPdu pdu;
    pdu.csg = Stage::LoginOperationalNegotiation;
    pdu.nsg = Stage::FullFeaturePhase;
    pdu.transit = transit;
    pdu.keys = std::move(keys);
    pdu.exp_stat_sn = exp_stat_sn;
    return login.on_pdu(pdu.build());
}

}  // namespace iscsi::testing
