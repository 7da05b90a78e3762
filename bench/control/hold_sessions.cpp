// Holds N Normal sessions logged in through iscsi-targetd (and so handed off
// to iscsi_handoff.ko) until stdin reaches end of file, for the control-plane
// benchmark's "session list with 1,000 live sessions" (issue 5).
//
// Each session is one TCP connection with its own ISID (RFC 7143 s.11.12.5:
// the same initiator name with a different ISID is a different session):
// security stage with AuthMethod=None, then the operational stage to Full
// Feature, after which the connection is left open and idle. The target's
// portal group should not ping (nop_in_interval_s 0): nothing here answers
// NOP-Ins.
//
//   bench-hold-sessions --target IQN [--address A] [--port P] [--count N]
//                       [--initiator IQN] [--parallel P]
// P logins are in flight at once (default 8), each on its own thread and its
// own connections, so the time is the daemon's, not this client's round trips.
// Prints "ready N SECONDS" on stdout once every session is logged in (or
// exits 1 naming the first failure), then waits for stdin to close.
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "raw_client.h"

using namespace iscsi::testing;

namespace {

// One login to Full Feature; returns an empty string or why it failed.
std::string login(RawClient& client, const std::string& initiator, const std::string& target, uint32_t index) {
    LoginFields f;
    f.isid = {0x80, 0x42, uint8_t(index >> 24), uint8_t(index >> 16), uint8_t(index >> 8), uint8_t(index)};
    f.csg = 0;
    f.nsg = 1;
    f.itt = 1;
    f.cmd_sn = 1;
    f.exp_stat_sn = 0;
    Keys keys = {{"InitiatorName", initiator},
                 {"SessionType", "Normal"},
                 {"TargetName", target},
                 {"AuthMethod", "None"}};
    if (!client.send(login_request(f, text_data(keys)))) return "send failed";
    RawPdu r;
    for (int step = 0; step < 8; ++step) {
        if (client.receive(r, 30000) != Answer::Pdu) return "no Login Response";
        if (r.opcode() != 0x23) return "unexpected opcode " + std::to_string(r.opcode());
        if (r.status() != 0) return "login status " + std::to_string(r.status());
        if (r.transit() && r.nsg() == 3) return {};
        f.tsih = r.tsih();
        f.exp_stat_sn = r.stat_sn() + 1;
        // Operational stage: offer nothing beyond what the target declares;
        // the defaults of RFC 7143 s.13 apply.
        f.csg = 1;
        f.nsg = 3;
        Keys op;
        if (step == 0) op = {{"HeaderDigest", "None"}, {"DataDigest", "None"}, {"ErrorRecoveryLevel", "0"}};
        if (!client.send(login_request(f, text_data(op)))) return "send failed";
    }
    return "the target did not reach Full Feature";
}

}  // namespace

int main(int argc, char** argv) {
    std::string address = "127.0.0.1", target, initiator = "iqn.2026-12.org.iscsi-target:bench.sessions";
    uint16_t port = 3260;
    uint32_t count = 1000;
    uint32_t parallel = 8;
    CLI::App app{"Hold N live iSCSI sessions until stdin closes"};
    app.add_option("--address", address);
    app.add_option("--port", port);
    app.add_option("--target", target)->required();
    app.add_option("--initiator", initiator);
    app.add_option("--count", count);
    app.add_option("--parallel", parallel, "logins in flight at once")->check(CLI::Range(1u, 256u));
    CLI11_PARSE(app, argc, argv);

    rlimit files{};
    ::getrlimit(RLIMIT_NOFILE, &files);
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);

    const auto start = std::chrono::steady_clock::now();
    std::vector<RawClient> clients(count);
    std::atomic<bool> failed{false};
    std::mutex report;
    auto worker = [&](uint32_t first) {
        for (uint32_t i = first; i < count && !failed; i += parallel) {
            std::string why;
            if (!clients[i].connect(address, port))
                why = "cannot connect to " + address + ":" + std::to_string(port);
            else
                why = login(clients[i], initiator, target, i);
            if (!why.empty()) {
                std::lock_guard lock(report);
                if (!failed.exchange(true)) std::fprintf(stderr, "session %u: %s\n", i, why.c_str());
            }
        }
    };
    std::vector<std::thread> workers;
    for (uint32_t w = 0; w < std::max<uint32_t>(1, std::min(parallel, count)); ++w) workers.emplace_back(worker, w);
    for (auto& t : workers) t.join();
    if (failed) return 1;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("ready %u %.2f\n", count, seconds);
    std::fflush(stdout);
    char buffer[64];
    while (::read(0, buffer, sizeof buffer) > 0) {
    }
    return 0;
}
