// iscsi-handoff-probe: asks iscsi_handoff.ko what it knows, as JSON, for the
// guest tests and for an administrator's first look.
//
//   iscsi-handoff-probe version         {"major":1,"minor":0,"text":"..."}
//   iscsi-handoff-probe limits          {"max_sessions":...}
//   iscsi-handoff-probe sessions        [ {...session...}, ... ]
//   iscsi-handoff-probe sessions --expect-empty   exit 1 unless the list is empty
//   iscsi-handoff-probe events --count N --timeout S   one JSON line per down event
//   iscsi-handoff-probe terminate-session HANDLE
//   iscsi-handoff-probe configfs-plan [--config FILE] [--root DIR]
//                      what the configfs manager would do to reach FILE's
//                      configuration (default: an empty one), as JSON lines
//   iscsi-handoff-probe configfs-apply --config FILE [--root DIR]
//                      do it (what iscsi-targetd does at start and on reload)
//
// Exit status: 0 success, 1 the answer was not the expected one or a call
// failed, 2 the module is not available (the reason goes to stderr).
#include <arpa/inet.h>
#include <systemd/sd-event.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "config/json.h"
#include "config/model.h"
#include "configfs_manager.h"
#include "kernel_data_path.h"

namespace {

using iscsi::kmod::DataPath;
using nlohmann::json;

std::string address_text(const iscsi::kmod::SocketAddress& address) {
    char text[INET6_ADDRSTRLEN] = "";
    if (address.storage.ss_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(&address.storage);
        inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
        return std::string(text) + ":" + std::to_string(ntohs(in->sin_port));
    }
    if (address.storage.ss_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&address.storage);
        inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
        return "[" + std::string(text) + "]:" + std::to_string(ntohs(in6->sin6_port));
    }
    return "";
}

const char* digest_text(iscsi::kmod::Digest digest) {
    return digest == iscsi::kmod::Digest::Crc32c ? "CRC32C" : "None";
}

json counters_json(const iscsi::kmod::Counters& c) {
    return {{"commands", c.commands},       {"read_bytes", c.read_bytes}, {"write_bytes", c.write_bytes},
            {"errors", c.errors},           {"in_flight", c.in_flight},   {"digest_errors", c.digest_errors},
            {"rejects", c.rejects}};
}

json session_json(const iscsi::kmod::KernelSession& s) {
    char isid[13];
    std::snprintf(isid, sizeof isid, "%02x%02x%02x%02x%02x%02x", s.isid[0], s.isid[1], s.isid[2], s.isid[3],
                  s.isid[4], s.isid[5]);
    const auto& n = s.negotiated;
    json connections = json::array();
    for (const auto& c : s.connections) {
        connections.push_back({{"cid", c.cid},
                               {"handle", c.handle},
                               {"peer", address_text(c.peer)},
                               {"local", address_text(c.local)},
                               {"state", static_cast<int>(c.state)},
                               {"header_digest", digest_text(c.header_digest)},
                               {"data_digest", digest_text(c.data_digest)},
                               {"max_recv_data_segment_length", c.max_recv_data_segment_length},
                               {"max_xmit_data_segment_length", c.max_xmit_data_segment_length},
                               {"stat_sn", c.stat_sn},
                               {"counters", counters_json(c.counters)}});
    }
    return {{"handle", s.handle},
            {"target", s.target_name},
            {"tpgt", s.tpgt},
            {"initiator", s.initiator_name},
            {"initiator_alias", s.initiator_alias},
            {"isid", isid},
            {"tsih", s.tsih},
            {"chap_user", s.chap_user},
            {"state", static_cast<int>(s.state)},
            {"exp_cmd_sn", s.exp_cmd_sn},
            {"max_cmd_sn", s.max_cmd_sn},
            {"start_time_ns", s.start_time_ns},
            {"negotiated",
             {{"header_digest", digest_text(n.header_digest)},
              {"data_digest", digest_text(n.data_digest)},
              {"max_recv_data_segment_length", n.max_recv_data_segment_length},
              {"max_xmit_data_segment_length", n.max_xmit_data_segment_length},
              {"max_burst_length", n.max_burst_length},
              {"first_burst_length", n.first_burst_length},
              {"initial_r2t", n.initial_r2t},
              {"immediate_data", n.immediate_data},
              {"max_outstanding_r2t", n.max_outstanding_r2t},
              {"data_pdu_in_order", n.data_pdu_in_order},
              {"data_sequence_in_order", n.data_sequence_in_order},
              {"error_recovery_level", n.error_recovery_level},
              {"default_time2wait", n.default_time2wait},
              {"default_time2retain", n.default_time2retain},
              {"max_connections", n.max_connections}}},
            {"counters", counters_json(s.counters)},
            {"connections", connections}};
}

int fail(const iscsi::kmod::Error& error) {
    std::cerr << "iscsi-handoff-probe: " << error.message << "\n";
    return 1;
}

struct EventWait {
    sd_event* loop = nullptr;
    unsigned remaining = 0;
};

int run_events(unsigned count, unsigned timeout_s) {
    sd_event* raw = nullptr;
    if (sd_event_new(&raw) < 0) {
        std::cerr << "iscsi-handoff-probe: cannot create an event loop\n";
        return 1;
    }
    std::unique_ptr<sd_event, decltype(&sd_event_unref)> loop(raw, sd_event_unref);
    auto path = iscsi::kmod::open_kernel_data_path(loop.get());
    if (!path->available()) {
        std::cerr << "iscsi-handoff-probe: " << path->unavailable_reason() << "\n";
        return 2;
    }
    EventWait wait{loop.get(), count};
    path->set_event_handler([&wait](const iscsi::kmod::DataPathEvent& e) {
        json line = {{"kind", e.kind == iscsi::kmod::DataPathEvent::Kind::SessionDown      ? "session_down"
                                  : e.kind == iscsi::kmod::DataPathEvent::Kind::EventsLost ? "events_lost"
                                                                                           : "conn_down"},
                     {"session_handle", e.session_handle},
                     {"target", e.target_name},
                     {"tpgt", e.tpgt},
                     {"tsih", e.tsih},
                     {"cid", e.cid},
                     {"reason", iscsi::kmod::to_string(e.reason)},
                     {"reason_code", static_cast<uint32_t>(e.reason)}};
        std::cout << line.dump() << std::endl;
        if (wait.remaining > 0 && --wait.remaining == 0) {
            sd_event_exit(wait.loop, 0);
        }
    });
    std::cout << "{\"listening\":true}" << std::endl;  // tests wait for this before acting
    uint64_t now = 0;
    sd_event_now(loop.get(), CLOCK_MONOTONIC, &now);
    sd_event_source* timer = nullptr;
    sd_event_add_time(
        loop.get(), &timer, CLOCK_MONOTONIC, now + uint64_t{timeout_s} * 1000000, 0,
        [](sd_event_source* source, uint64_t, void*) { return sd_event_exit(sd_event_source_get_event(source), 3); },
        nullptr);
    const int rc = sd_event_loop(loop.get());
    sd_event_source_unref(timer);
    if (rc == 3) {
        std::cerr << "iscsi-handoff-probe: timed out waiting for events\n";
        return 1;
    }
    return rc < 0 ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Ask iscsi_handoff.ko for its version, limits and sessions (JSON)"};
    app.require_subcommand(1);
    auto* version = app.add_subcommand("version", "GET_VERSION");
    auto* limits = app.add_subcommand("limits", "GET_LIMITS");
    auto* sessions = app.add_subcommand("sessions", "SESSION_LIST as a JSON array");
    bool expect_empty = false;
    sessions->add_flag("--expect-empty", expect_empty, "exit 1 unless the module has no session");
    auto* events = app.add_subcommand("events", "print down events as JSON lines");
    unsigned count = 1;
    unsigned timeout_s = 30;
    events->add_option("--count", count, "exit after this many events (0: never)");
    events->add_option("--timeout", timeout_s, "give up after this many seconds");
    auto* terminate = app.add_subcommand("terminate-session", "SESSION_TERMINATE");
    uint64_t handle = 0;
    terminate->add_option("handle", handle, "session handle from `sessions`")->required();
    auto* plan = app.add_subcommand("configfs-plan", "what the configfs manager would do for a configuration");
    auto* apply = app.add_subcommand("configfs-apply", "make configfs match a configuration");
    std::string root = "/sys/kernel/config/target";
    std::string config_file;
    for (auto* sub : {plan, apply}) {
        sub->add_option("--root", root, "LIO's configfs directory");
        sub->add_option("--config", config_file, "config.json (default for configfs-plan: empty)");
    }
    apply->require_option(1);
    CLI11_PARSE(app, argc, argv);

    if (plan->parsed() || apply->parsed()) {
        iscsi::config::Config config;
        if (!config_file.empty()) {
            std::ifstream in(config_file);
            std::stringstream text;
            text << in.rdbuf();
            auto parsed = iscsi::config::parse_config(text.str(), config_file);
            if (!in || !parsed) {
                std::cerr << "iscsi-handoff-probe: "
                          << (parsed ? "cannot read " + config_file : parsed.error().to_string()) << "\n";
                return 1;
            }
            config = std::move(*parsed);
        }
        iscsi::kmod::ConfigfsManager manager(root);
        auto operations = manager.plan(config);
        if (!operations) {
            return fail(operations.error());
        }
        json out = json::array();
        for (const auto& op : *operations) {
            out.push_back(iscsi::kmod::to_string(op));
        }
        std::cout << out.dump(2) << "\n";
        if (apply->parsed()) {
            if (auto ok = manager.execute(*operations); !ok) {
                return fail(ok.error());
            }
        }
        return 0;
    }
    if (events->parsed()) {
        return run_events(count, timeout_s);
    }

    auto path = iscsi::kmod::open_kernel_data_path(nullptr);
    if (!path->available()) {
        std::cerr << "iscsi-handoff-probe: " << path->unavailable_reason() << "\n";
        return 2;
    }
    if (version->parsed()) {
        auto v = path->version();
        if (!v) {
            return fail(v.error());
        }
        std::cout << json{{"major", v->major}, {"minor", v->minor}, {"text", v->text}}.dump() << "\n";
    } else if (limits->parsed()) {
        auto l = path->limits();
        if (!l) {
            return fail(l.error());
        }
        std::cout << json{{"max_sessions", l->max_sessions},
                          {"max_connections_per_session", l->max_connections_per_session},
                          {"max_data_segment_length", l->max_data_segment_length},
                          {"max_burst_length", l->max_burst_length},
                          {"queue_depth", l->queue_depth}}
                         .dump()
                  << "\n";
    } else if (sessions->parsed()) {
        auto list = path->list_sessions();
        if (!list) {
            return fail(list.error());
        }
        json out = json::array();
        for (const auto& s : *list) {
            out.push_back(session_json(s));
        }
        std::cout << out.dump(2) << "\n";
        if (expect_empty && !list->empty()) {
            std::cerr << "iscsi-handoff-probe: expected no session, the module has " << list->size() << "\n";
            return 1;
        }
    } else if (terminate->parsed()) {
        if (auto ok = path->terminate_session(handle); !ok) {
            return fail(ok.error());
        }
    }
    return 0;
}
