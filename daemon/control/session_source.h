// Where the control plane learns about live sessions and ends them.
//
// Sessions of the Full Feature Phase live in the kernel; the daemon's registry
// knows those in login. The daemon gives the control plane one SessionSource;
// DataPathSessionSource is the one over the kernel data path.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "control/error.h"
#include "data_path.h"

namespace iscsi::control {

// A session is named by its target portal group and TSIH (unique within a
// portal group, RFC 7143 s.4.4).
struct SessionId {
    std::string target_name;
    uint16_t tpgt = 0;
    uint16_t tsih = 0;
    friend bool operator==(const SessionId&, const SessionId&) = default;
};

class SessionSource {
public:
    virtual ~SessionSource() = default;
    virtual Result<std::vector<kmod::KernelSession>> list() = 0;
    // Asks the initiator to log out (Async Message, RFC 7143 s.11.9.1, event 1).
    virtual Result<void> logout(const SessionId& id) = 0;
    virtual Result<void> terminate(const SessionId& id) = 0;
    virtual Result<void> terminate_connection(const SessionId& id, uint16_t cid) = 0;
};

// Live sessions as the kernel reports them. Without a data path (module not
// loaded, or none configured) there are no live sessions: list() is empty and
// ending a session is NotFound.
class DataPathSessionSource final : public SessionSource {
public:
    explicit DataPathSessionSource(kmod::DataPath* data_path, uint32_t logout_deadline_s = 10)
        : data_path_(data_path), logout_deadline_s_(logout_deadline_s) {}
    Result<std::vector<kmod::KernelSession>> list() override;
    Result<void> logout(const SessionId& id) override;
    Result<void> terminate(const SessionId& id) override;
    Result<void> terminate_connection(const SessionId& id, uint16_t cid) override;

private:
    Result<kmod::KernelSession> find(const SessionId& id);
    kmod::DataPath* data_path_;
    uint32_t logout_deadline_s_;
};

}  // namespace iscsi::control
