#include "log/log.h"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

namespace iscsi::log {
namespace {

struct State {
    Level level = Level::Info;
    bool journal = false;
};
State state;

bool journal_socket_exists() {
    struct stat st {};
    return ::stat("/run/systemd/journal/socket", &st) == 0 && S_ISSOCK(st.st_mode);
}

void write_stderr(Level level, const std::string& line) {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    tm utc{};
    gmtime_r(&ts.tv_sec, &utc);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%H:%M:%S", &utc);
    // One fprintf per line so that concurrent writers do not interleave.
    std::fprintf(stderr, "%s.%03ld %s: %s\n", stamp, ts.tv_nsec / 1000000, to_string(level), line.c_str());
}

}  // namespace

const char* to_string(Level level) {
    switch (level) {
        case Level::Error: return "error";
        case Level::Warning: return "warning";
        case Level::Notice: return "notice";
        case Level::Info: return "info";
        case Level::Debug: return "debug";
    }
    return "unknown";
}

std::optional<Level> parse_level(std::string_view text) {
    for (Level level : {Level::Error, Level::Warning, Level::Notice, Level::Info, Level::Debug})
        if (text == to_string(level)) return level;
    return std::nullopt;
}

void init(const Options& options) {
    state.level = options.level;
    state.journal = !options.foreground && journal_socket_exists();
}

void set_level(Level level) { state.level = level; }

bool enabled(Level level) { return static_cast<int>(level) <= static_cast<int>(state.level); }

std::string Peer::description() const {
    if (initiator.empty()) return address;
    if (address.empty()) return initiator;
    return initiator + " (" + address + ")";
}

void write(Level level, std::string_view message, const Peer* peer) {
    if (!enabled(level)) return;
    std::string line;
    if (peer && !peer->in_message) line = peer->description() + ": ";
    line += message;
    if (state.journal) {
        int rc = sd_journal_send("MESSAGE=%s", line.c_str(), "PRIORITY=%d", static_cast<int>(level),
                                 "SYSLOG_IDENTIFIER=iscsi-targetd", "ISCSI_INITIATOR=%s",
                                 peer ? peer->initiator.c_str() : "", "ISCSI_PEER=%s",
                                 peer ? peer->address.c_str() : "", nullptr);
        if (rc >= 0) return;
    }
    write_stderr(level, line);
}

}  // namespace iscsi::log
