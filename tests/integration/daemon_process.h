// Starts build/bin/iscsi-targetd on a free loopback port with a temporary
// configuration, and stops it by its PID (also when a test fails: the
// destructor does it).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace iscsi::testing {

// A TCP port on 127.0.0.1 that was free a moment ago (bound, then released).
uint16_t free_port();

class DaemonProcess {
public:
    // `config_json` may contain "@PORT@", replaced by the chosen port.
    DaemonProcess(const std::string& config_json, const std::string& secrets_json = "");
    ~DaemonProcess();
    DaemonProcess(const DaemonProcess&) = delete;
    DaemonProcess& operator=(const DaemonProcess&) = delete;

    // Starts the daemon and waits until it accepts on 127.0.0.1:port (and
    // ::1 when `ipv6`), at most 10 s. False when it exited or never listened.
    bool start(bool ipv6 = false);
    // SIGTERM, then SIGKILL after 5 s. Returns the exit status (or -signal).
    int stop();
    bool running();
    void send_signal(int signal);

    uint16_t port() const { return port_; }
    pid_t pid() const { return pid_; }
    const std::string& directory() const { return directory_; }
    std::string log() const;  // the daemon's stderr so far
    std::string config_path() const { return directory_ + "/config.json"; }
    void rewrite_config(const std::string& config_json);

private:
    std::string directory_;
    uint16_t port_ = 0;
    pid_t pid_ = -1;
    int exit_status_ = -1;
};

// Runs a shell command with a timeout; returns its exit status and output
// (stdout and stderr together).
struct CommandResult {
    int status = -1;
    std::string output;
};
CommandResult run_command(const std::string& command, int timeout_seconds = 20);

// The build tree's bin directory (set by CMake).
std::string bin_dir();

}  // namespace iscsi::testing
