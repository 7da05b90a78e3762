// Fuzzes a whole LoginConnection fed an arbitrary byte stream, framed the
// way the runtime frames a socket: header, check_header(), body, on_pdu().
// The first input byte picks the policy (CHAP or not, mutual, discovery).
#include <cstddef>
#include <cstdint>
#include <span>

#include "iscsi/login.h"

namespace {

using namespace iscsi;

class FuzzPolicy : public LoginPolicy {
public:
    explicit FuzzPolicy(uint8_t mode) : mode_(mode) {}
    TargetAccess target_access(const std::string&, const std::string&, const ConnectionEndpoints&) override {
        TargetAccess a;
        a.verdict = (mode_ & 0x10) ? TargetAccess::Verdict::Redirect : TargetAccess::Verdict::Allowed;
        if (mode_ & 0x10) a.redirect = config::Redirect{"192.0.2.1", 3260, 1, (mode_ & 0x20) != 0};
        if (mode_ & 0x01) a.chap = config::ChapCredentials{"user", (mode_ & 0x02) ? "target" : ""};
        if (mode_ & 0x04) a.parameters.max_burst_length = 1048576;
        if (mode_ & 0x08) a.parameters.immediate_data = false;
        return a;
    }
    std::optional<config::ChapCredentials> discovery_chap(const std::string&) override {
        if (mode_ & 0x40) return config::ChapCredentials{"user", ""};
        return std::nullopt;
    }
    std::optional<std::string> chap_secret(const std::string& user) override {
        if (user == "user") return std::string("user-secret-0123");
        if (user == "target") return std::string("target-secret-01");
        return std::nullopt;
    }
    config::Security security() override { return {}; }
    Admission check_admission(const LoginIdentity&) override { return {Admission::Verdict::NewSession, 0, {}}; }
    Admission admit(const LoginIdentity&, const ConnectionEndpoints&) override {
        return {Admission::Verdict::NewSession, 5, {}};
    }
    void abandon(const LoginIdentity&, const Admission&) override {}
    std::vector<SendTargetsEntry> send_targets(const std::string&, const ConnectionEndpoints&,
                                               const std::string&) override {
        return {{"iqn.2026-01.org.example:t1", {{"192.0.2.1", 3260, 1}, {"fe80::1", 3260, 1}, {"::", 3260, 2}}},
                {"iqn.2026-01.org.example:t2", {{"2001:db8::1", 3260, 1}}}};
    }

private:
    uint8_t mode_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    FuzzPolicy policy(data[0]);
    ConnectionEndpoints endpoints{1, "192.0.2.100", 40000, "192.0.2.1", 3260};
    config::Limits limits;
    limits.max_login_pdus = 16;
    limits.max_login_bytes = 32768;
    LoginConnection login(policy, endpoints, limits);
    std::span<const uint8_t> stream(data + 1, size - 1);
    for (int pdus = 0; pdus < 64 && stream.size() >= kBhsLength; ++pdus) {
        auto bhs = *Bhs::from_bytes(stream);
        stream = stream.subspan(kBhsLength);
        auto more = login.check_header(bhs);
        if (!more) break;
        if (*more > stream.size()) break;
        auto pdu = Pdu::parse(bhs, stream.first(*more));
        if (!pdu) __builtin_trap();
        stream = stream.subspan(*more);
        LoginStep step = login.on_pdu(*pdu);
        for (const auto& response : step.responses) {
            if (!Pdu::parse(response)) __builtin_trap();  // we only send well-framed PDUs
        }
        if (step.outcome == LoginStep::Outcome::Close) break;
        if (step.outcome == LoginStep::Outcome::ReadyForHandoff) {
            (void)login.handoff_info();
            if (data[0] & 0x80) (void)login.handoff_failed("fuzz");
            break;
        }
    }
    (void)login.on_timeout();
    return 0;
}
