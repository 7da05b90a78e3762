// Logging for iscsi-targetd: journald when it is there, stderr otherwise
// (and always with --foreground).
//
// Every line about a connection names the peer: the initiator name once the
// first Login Request has been read, and always the address, e.g.
//   "iqn.1994-05.com.redhat:client (192.0.2.7:51000): login refused: 0x0202 ..."
// In the journal the same facts are also structured fields (ISCSI_INITIATOR,
// ISCSI_PEER) so that `journalctl ISCSI_INITIATOR=...` finds them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace iscsi::log {

enum class Level { Error = 3, Warning = 4, Notice = 5, Info = 6, Debug = 7 };  // syslog priorities
const char* to_string(Level level);
// "error", "warning", "notice", "info", "debug"
std::optional<Level> parse_level(std::string_view text);

struct Options {
    Level level = Level::Info;
    bool foreground = false;  // stderr instead of the journal
};
void init(const Options& options);
void set_level(Level level);
bool enabled(Level level);

// Who a connection line is about; both may be empty.
struct Peer {
    std::string initiator;  // InitiatorName, once known
    std::string address;    // "192.0.2.7:51000" or "[::1]:51000"
    bool in_message = false;  // the message names the peer already: no prefix
    std::string description() const;  // "initiator (address)" or "address"
};

void write(Level level, std::string_view message, const Peer* peer = nullptr);

inline void error(std::string_view m, const Peer* p = nullptr) { write(Level::Error, m, p); }
inline void warning(std::string_view m, const Peer* p = nullptr) { write(Level::Warning, m, p); }
inline void notice(std::string_view m, const Peer* p = nullptr) { write(Level::Notice, m, p); }
inline void info(std::string_view m, const Peer* p = nullptr) { write(Level::Info, m, p); }
inline void debug(std::string_view m, const Peer* p = nullptr) {
    if (enabled(Level::Debug)) write(Level::Debug, m, p);
}

}  // namespace iscsi::log
