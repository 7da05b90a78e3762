#include "daemon_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace iscsi::testing {
namespace {

bool can_connect(const char* address, uint16_t port) {
    sockaddr_storage storage{};
    socklen_t length;
    int family;
    if (std::string(address).find(':') != std::string::npos) {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        inet_pton(AF_INET6, address, &in6->sin6_addr);
        length = sizeof *in6;
        family = AF_INET6;
    } else {
        auto* in = reinterpret_cast<sockaddr_in*>(&storage);
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        inet_pton(AF_INET, address, &in->sin_addr);
        length = sizeof *in;
        family = AF_INET;
    }
    int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&storage), length) == 0;
    ::close(fd);
    return ok;
}

void write_file(const std::string& path, const std::string& text, mode_t mode) {
    std::ofstream(path) << text;
    ::chmod(path.c_str(), mode);
}

std::string replace_port(std::string text, uint16_t port) {
    for (auto at = text.find("@PORT@"); at != std::string::npos; at = text.find("@PORT@"))
        text.replace(at, 6, std::to_string(port));
    return text;
}

}  // namespace

std::string bin_dir() { return ISCSI_TEST_BIN_DIR; }

uint16_t free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&in), sizeof in);
    socklen_t length = sizeof in;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&in), &length);
    ::close(fd);
    return ntohs(in.sin_port);
}

DaemonProcess::DaemonProcess(const std::string& config_json, const std::string& secrets_json) {
    char name[] = "/tmp/iscsi-targetd-test-XXXXXX";
    directory_ = ::mkdtemp(name);
    port_ = free_port();
    write_file(config_path(), replace_port(config_json, port_), 0644);
    if (!secrets_json.empty()) write_file(directory_ + "/secrets.json", secrets_json, 0600);
}

DaemonProcess::~DaemonProcess() {
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
}

void DaemonProcess::rewrite_config(const std::string& config_json) {
    write_file(config_path(), replace_port(config_json, port_), 0644);
}

bool DaemonProcess::start(bool ipv6) {
    std::string binary = bin_dir() + "/iscsi-targetd";
    std::string log_path = directory_ + "/daemon.log";
    pid_ = ::fork();
    if (pid_ == 0) {
        int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(log, 2);
        ::dup2(log, 1);
        std::string config = config_path(), secrets = directory_ + "/secrets.json", state = directory_ + "/state";
        ::execl(binary.c_str(), binary.c_str(), "--config", config.c_str(), "--secrets", secrets.c_str(),
                "--state-dir", state.c_str(), "--log-level", "debug", "--foreground", nullptr);
        std::perror("exec iscsi-targetd");
        ::_exit(127);
    }
    for (int i = 0; i < 200; ++i) {
        if (!running()) return false;
        if (can_connect("127.0.0.1", port_) && (!ipv6 || can_connect("::1", port_))) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

bool DaemonProcess::running() {
    if (pid_ <= 0) return false;
    int status;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return true;
    // Reaped here: the PID must never be signalled again.
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    pid_ = -1;
    return false;
}

void DaemonProcess::send_signal(int signal) {
    if (running()) ::kill(pid_, signal);
}

int DaemonProcess::stop() {
    if (!running()) return exit_status_;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 100 && running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (running()) {
        ::kill(pid_, SIGKILL);
        int status;
        ::waitpid(pid_, &status, 0);
        exit_status_ = -SIGKILL;
        pid_ = -1;
    }
    return exit_status_;
}

std::string DaemonProcess::log() const {
    std::ifstream in(directory_ + "/daemon.log");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

CommandResult run_command(const std::string& command, int timeout_seconds) {
    CommandResult result;
    std::string full = "timeout -k 2 " + std::to_string(timeout_seconds) + " " + command + " 2>&1";
    FILE* pipe = ::popen(full.c_str(), "r");
    if (!pipe) return result;
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
    int status = ::pclose(pipe);
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

}  // namespace iscsi::testing
