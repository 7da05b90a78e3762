// Discovery logins per second: iscsi-targetd against tgt's tgtd, same client,
// same run, alternating; then the daemon's peak RSS (VmHWM) while 1,000
// connections sit idle in login.
//
// One discovery login here is what an initiator's "discover" does: connect,
// Login (security stage, then operational stage, to Full Feature), Text
// SendTargets=All, Logout, close. Each client thread repeats that in a loop.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "raw_client.h"

using namespace iscsi::testing;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kTarget = "iqn.2024-01.org.example:bench";
const std::string kInitiator = "iqn.2024-01.org.example:bench-client";

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

// A child process stopped by its PID when this object goes away.
class Child {
public:
    Child(std::vector<std::string> argv, const std::string& log_path) {
        pid_ = ::fork();
        if (pid_ == 0) {
            int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            ::dup2(log, 1);
            ::dup2(log, 2);
            std::vector<char*> args;
            for (auto& a : argv) args.push_back(a.data());
            args.push_back(nullptr);
            ::execvp(args[0], args.data());
            std::perror("exec");
            ::_exit(127);
        }
    }
    ~Child() { stop(); }
    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        int status;
        for (int i = 0; i < 50; ++i) {
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
    }
    pid_t pid() const { return pid_; }
    bool alive() {
        int status;
        return pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == 0;
    }

private:
    pid_t pid_ = -1;
};

bool wait_for_port(uint16_t port, Child& child) {
    for (int i = 0; i < 100; ++i) {
        if (!child.alive()) return false;
        RawClient probe;
        if (probe.connect("127.0.0.1", port)) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

// One full discovery session; false on any unexpected answer.
bool discover_once(uint16_t port) {
    RawClient client;
    if (!client.connect("127.0.0.1", port)) return false;
    RawPdu response;
    LoginFields first;
    first.csg = 0;
    first.nsg = 1;
    if (!client.send(login_request(first, text_data({{"InitiatorName", kInitiator},
                                                     {"SessionType", "Discovery"},
                                                     {"AuthMethod", "None"}}))))
        return false;
    if (client.receive(response) != Answer::Pdu || response.status() != 0) return false;
    if (!(response.transit() && response.nsg() == 3)) {
        LoginFields second;
        second.csg = 1;
        second.nsg = 3;
        second.exp_stat_sn = response.stat_sn() + 1;
        if (!client.send(login_request(second, text_data({{"HeaderDigest", "None"}, {"DataDigest", "None"},
                                                          {"MaxRecvDataSegmentLength", "262144"}}))))
            return false;
        if (client.receive(response) != Answer::Pdu || response.status() != 0) return false;
    }
    if (!client.send(text_request(2, 1, response.stat_sn() + 1, text_data({{"SendTargets", "All"}})))) return false;
    RawPdu text;
    if (client.receive(text) != Answer::Pdu || text.opcode() != 0x24) return false;
    if (value_of(parse_text(text.data), "TargetName") != kTarget) return false;
    if (!client.send(logout_request(3, 2, text.stat_sn() + 1))) return false;
    RawPdu logout;
    return client.receive(logout) == Answer::Pdu && logout.opcode() == 0x26;
}

struct Rate {
    uint64_t ok = 0;
    uint64_t failed = 0;
    double seconds = 0;
    double per_second() const { return seconds > 0 ? ok / seconds : 0; }
};

Rate measure(uint16_t port, int clients, double seconds) {
    std::atomic<uint64_t> ok{0}, failed{0};
    auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
    auto start = Clock::now();
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c)
        threads.emplace_back([&] {
            while (Clock::now() < deadline) (discover_once(port) ? ok : failed)++;
        });
    for (auto& t : threads) t.join();
    Rate rate;
    rate.ok = ok;
    rate.failed = failed;
    rate.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return rate;
}

long status_kib(pid_t pid, const std::string& field) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
    return -1;
}

std::string self_dir() { return std::filesystem::read_symlink("/proc/self/exe").parent_path().string(); }

bool run_tgtadm(int control_port, const std::string& arguments) {
    std::string command = "tgtadm -C " + std::to_string(control_port) + " --lld iscsi " + arguments + " >/dev/null 2>&1";
    return std::system(command.c_str()) == 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"bench-discovery: discovery logins/s of iscsi-targetd vs tgtd, and peak RSS with idle logins"};
    double seconds = 2.0;
    int rounds = 3, clients = 2, idle = 1000;
    app.add_option("--seconds", seconds, "length of one measurement")->capture_default_str();
    app.add_option("--rounds", rounds, "alternating rounds per target")->capture_default_str();
    app.add_option("--clients", clients, "concurrent client threads")->capture_default_str();
    app.add_option("--idle", idle, "idle connections in login for the RSS measurement")->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    ::signal(SIGPIPE, SIG_IGN);

    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);

    char dir_template[] = "/tmp/bench-discovery-XXXXXX";
    std::string dir = ::mkdtemp(dir_template);
    uint16_t daemon_port = free_port(), tgtd_port = free_port();
    while (tgtd_port == daemon_port) tgtd_port = free_port();
    std::ofstream(dir + "/config.json") << R"({"targets": [{"name": ")" << kTarget
                                        << R"(", "portal_groups": [{"tpgt": 1, "demo_mode": true, "portals": [{"address": "127.0.0.1", "port": )"
                                        << daemon_port << R"(}]}]}], "limits": {"login_timeout_s": 120, "max_connections_in_login": 8192}})";

    Child daemon({self_dir() + "/iscsi-targetd", "--config", dir + "/config.json", "--secrets", dir + "/secrets.json",
                  "--state-dir", dir + "/state", "--foreground", "--log-level", "warning"},
                 dir + "/daemon.log");
    if (!wait_for_port(daemon_port, daemon)) {
        std::fprintf(stderr, "iscsi-targetd did not start; see %s/daemon.log\n", dir.c_str());
        return 1;
    }
    int control_port = 20000 + ::getpid() % 10000;
    Child tgtd({"tgtd", "-f", "-C", std::to_string(control_port), "--iscsi",
                "portal=127.0.0.1:" + std::to_string(tgtd_port)},
               dir + "/tgtd.log");
    if (!wait_for_port(tgtd_port, tgtd)) {
        std::fprintf(stderr, "tgtd did not start; see %s/tgtd.log\n", dir.c_str());
        return 1;
    }
    if (!run_tgtadm(control_port, "--op new --mode target --tid 1 -T " + kTarget) ||
        !run_tgtadm(control_port, "--op bind --mode target --tid 1 -I ALL")) {
        std::fprintf(stderr, "tgtadm could not configure tgtd\n");
        return 1;
    }
    if (!discover_once(daemon_port) || !discover_once(tgtd_port)) {
        std::fprintf(stderr, "a discovery session failed before measuring (daemon %d, tgtd %d)\n",
                     discover_once(daemon_port), discover_once(tgtd_port));
        return 1;
    }

    std::printf("discovery logins/s (connect, login, SendTargets=All, logout), %d client thread(s), %d x %.1f s each\n",
                clients, rounds, seconds);
    Rate daemon_total, tgtd_total;
    for (int round = 0; round < rounds; ++round) {
        // Alternate which goes first so that neither always runs warm.
        for (int turn = 0; turn < 2; ++turn) {
            bool daemon_turn = (round + turn) % 2 == 0;
            Rate r = measure(daemon_turn ? daemon_port : tgtd_port, clients, seconds);
            Rate& total = daemon_turn ? daemon_total : tgtd_total;
            total.ok += r.ok;
            total.failed += r.failed;
            total.seconds += r.seconds;
            std::printf("  round %d %-14s %9.0f/s  (%llu ok, %llu failed)\n", round + 1,
                        daemon_turn ? "iscsi-targetd" : "tgtd", r.per_second(), (unsigned long long)r.ok,
                        (unsigned long long)r.failed);
        }
    }
    std::printf("iscsi-targetd %9.0f/s\ntgtd          %9.0f/s\nratio daemon/tgtd: %.2f\n", daemon_total.per_second(),
                tgtd_total.per_second(), daemon_total.per_second() / tgtd_total.per_second());
    tgtd.stop();

    // Peak RSS with `idle` connections in login: each has sent its first
    // Login Request (security stage, T=0) and had its answer.
    long before = status_kib(daemon.pid(), "VmHWM");
    std::vector<RawClient> held(static_cast<size_t>(idle));
    int in_login = 0;
    for (auto& client : held) {
        if (!client.connect("127.0.0.1", daemon_port)) break;
        LoginFields fields;
        fields.transit = false;
        fields.csg = 0;
        fields.nsg = 0;
        fields.isid[5] = static_cast<uint8_t>(in_login);
        client.send(login_request(fields, text_data({{"InitiatorName", kInitiator},
                                                     {"SessionType", "Normal"},
                                                     {"TargetName", kTarget},
                                                     {"AuthMethod", "None"}})));
        RawPdu response;
        if (client.receive(response) == Answer::Pdu && response.status() == 0) ++in_login;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    long hwm = status_kib(daemon.pid(), "VmHWM"), rss = status_kib(daemon.pid(), "VmRSS");
    std::printf("iscsi-targetd with %d idle connections in login: VmHWM %.1f MiB (VmRSS %.1f MiB; %.1f MiB before)\n",
                in_login, hwm / 1024.0, rss / 1024.0, before / 1024.0);
    held.clear();
    daemon.stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
    return 0;
}
