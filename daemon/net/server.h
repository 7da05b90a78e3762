// The portals and the connections in login: listeners opened and closed to
// match the configuration, connections accepted, counted and freed.
#pragma once

#include <systemd/sd-event.h>

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/diff.h"
#include "config/model.h"
#include "net/connection.h"
#include "net/listener.h"

namespace iscsi::net {

class Server {
public:
    Server(sd_event* event, LoginPolicy& policy, sessions::Registry& registry, kmod::DataPath* data_path);
    ~Server();

    // Opens listeners for the configuration's portals and closes the others;
    // later logins use the new limits. Returns one message per portal that
    // could not be opened (the others still serve).
    std::vector<std::string> apply(const config::Config& config);

    // Closes every listener and connection (shutdown).
    void stop();

    std::size_t connection_count() const { return connections_.size(); }
    std::size_t connections_in_login() const;
    std::vector<std::string> listener_descriptions() const;

private:
    void on_accept(UniqueFd fd, uint16_t tpgt);
    void release(Connection* connection);

    ConnectionContext context_;
    std::map<config::PortalKey, std::unique_ptr<Listener>> listeners_;
    std::unordered_map<Connection*, std::unique_ptr<Connection>> connections_;
    uint64_t refused_over_limit_ = 0;
};

}  // namespace iscsi::net
