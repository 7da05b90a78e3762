// A test double of the kernel's session list for the host tests: the host has
// no kernel data path, so without it no Session or Connection object could be
// seen before the guest tests. Used only by iscsi-dbus-harness --test-sessions.
#pragma once

#include "control/session_source.h"

namespace iscsi::testing {

class TestSessionSource final : public control::SessionSource {
public:
    // count sessions on target, TSIH 1..count, each with connections CID 1 and 2.
    TestSessionSource(const std::string& target, uint16_t tpgt, int count);
    control::Result<std::vector<kmod::KernelSession>> list() override { return sessions_; }
    control::Result<void> logout(const control::SessionId& id) override;
    control::Result<void> terminate(const control::SessionId& id) override;
    control::Result<void> terminate_connection(const control::SessionId& id, uint16_t cid) override;

private:
    kmod::KernelSession* find(const control::SessionId& id);
    std::vector<kmod::KernelSession> sessions_;
};

}  // namespace iscsi::testing
