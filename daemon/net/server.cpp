#include "net/server.h"

#include <algorithm>

#include "log/log.h"
#include "net/socket_address.h"

namespace iscsi::net {

Server::Server(sd_event* event, LoginPolicy& policy, sessions::Registry& registry, kmod::DataPath* data_path) {
    context_.event = event;
    context_.policy = &policy;
    context_.registry = &registry;
    context_.data_path = data_path;
}

Server::~Server() { stop(); }

std::vector<std::string> Server::apply(const config::Config& config) {
    context_.limits = config.limits;
    context_.options.include_link_local = config.discovery.include_link_local;

    std::vector<std::string> errors;
    auto wanted = config::listening_portals(config);
    for (auto it = listeners_.begin(); it != listeners_.end();) {
        if (std::find(wanted.begin(), wanted.end(), it->first) == wanted.end()) {
            log::info("closing portal " + it->second->description());
            it = listeners_.erase(it);
        } else {
            ++it;
        }
    }
    for (const auto& key : wanted) {
        if (listeners_.count(key)) continue;
        auto listener = Listener::open(context_.event, key.address, key.port, key.tpgt,
                                       [this](UniqueFd fd, uint16_t tpgt) { on_accept(std::move(fd), tpgt); });
        if (!listener) {
            errors.push_back(listener.error());
            continue;
        }
        log::info("listening on portal " + (*listener)->description());
        listeners_[key] = std::move(*listener);
    }
    return errors;
}

void Server::stop() {
    listeners_.clear();
    for (auto& [raw, connection] : connections_) connection->abort("the daemon is stopping");
    connections_.clear();
}

std::size_t Server::connections_in_login() const {
    return static_cast<std::size_t>(std::count_if(connections_.begin(), connections_.end(),
                                                  [](const auto& entry) { return entry.second->in_login(); }));
}

std::vector<std::string> Server::listener_descriptions() const {
    std::vector<std::string> out;
    for (const auto& [key, listener] : listeners_) out.push_back(listener->description());
    return out;
}

void Server::on_accept(UniqueFd fd, uint16_t tpgt) {
    ConnectionEndpoints endpoints;
    endpoints.tpgt = tpgt;
    if (auto peer = peer_of(fd.get())) {
        Endpoint e = endpoint_of(peer->storage);
        endpoints.peer_address = e.address;
        endpoints.peer_port = e.port;
    }
    if (auto local = local_of(fd.get())) {
        Endpoint e = endpoint_of(local->storage);
        endpoints.local_address = e.address;
        endpoints.local_port = e.port;
    }
    // Connections still in login or discovery are the ones the daemon holds.
    if (connections_.size() >= context_.limits.max_connections_in_login) {
        // Logged once per 1000 so that a flood cannot flood the journal too.
        if (refused_over_limit_++ % 1000 == 0)
            log::warning("refusing connection from " + Endpoint{endpoints.peer_address, endpoints.peer_port}.to_string() +
                         ": " + std::to_string(connections_.size()) +
                         " connections are in login (limits.max_connections_in_login)");
        return;  // fd closes here
    }
    auto connection = std::make_unique<Connection>(context_, std::move(fd), endpoints,
                                                   [this](Connection* c) { release(c); });
    Connection* raw = connection.get();
    if (!connection->start()) return;
    log::Peer peer{"", Endpoint{endpoints.peer_address, endpoints.peer_port}.to_string()};
    log::debug("connection accepted on TPGT " + std::to_string(tpgt), &peer);
    connections_.emplace(raw, std::move(connection));
}

void Server::release(Connection* connection) { connections_.erase(connection); }

}  // namespace iscsi::net
