#include "net/listener.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "log/log.h"
#include "net/socket_address.h"

namespace iscsi::net {
namespace {

constexpr int kBacklog = 1024;

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

tl::expected<std::unique_ptr<Listener>, std::string> Listener::open(sd_event* event, const std::string& address,
                                                                    uint16_t port, uint16_t tpgt,
                                                                    AcceptHandler on_accept) {
    std::unique_ptr<Listener> listener(new Listener());
    listener->address_ = address;
    listener->tpgt_ = tpgt;
    listener->on_accept_ = std::move(on_accept);
    std::string where = Endpoint{address, port}.to_string();

    auto sockaddr = socket_address(address, port);
    if (!sockaddr) return tl::unexpected("portal " + where + ": not a numeric address");
    int family = sockaddr->storage.ss_family;
    listener->fd_.reset(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP));
    if (!listener->fd_) return tl::unexpected("portal " + where + ": " + errno_text("socket"));
    int fd = listener->fd_.get();
    int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (family == AF_INET6 && ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) != 0)
        return tl::unexpected("portal " + where + ": " + errno_text("IPV6_V6ONLY"));
    if (::bind(fd, reinterpret_cast<const struct sockaddr*>(&sockaddr->storage), sockaddr->length) != 0)
        return tl::unexpected("portal " + where + ": " + errno_text("bind"));
    if (::listen(fd, kBacklog) != 0) return tl::unexpected("portal " + where + ": " + errno_text("listen"));
    if (auto local = local_of(fd)) listener->port_ = endpoint_of(local->storage).port;

    int rc = sd_event_add_io(event, &listener->source_, fd, EPOLLIN, &Listener::on_readable, listener.get());
    if (rc < 0) return tl::unexpected("portal " + where + ": sd_event_add_io: " + std::strerror(-rc));
    return listener;
}

Listener::~Listener() {
    if (source_) sd_event_source_disable_unref(source_);
    if (pause_timer_) sd_event_source_disable_unref(pause_timer_);
}

std::string Listener::description() const {
    return Endpoint{address_, port_}.to_string() + " (TPGT " + std::to_string(tpgt_) + ")";
}

int Listener::on_readable(sd_event_source*, int fd, uint32_t, void* userdata) {
    auto* self = static_cast<Listener*>(userdata);
    // Accept everything that is pending: under a burst of logins one wakeup
    // serves many connections.
    for (;;) {
        int client = ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (client < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                // Out of descriptors: the listener would wake up again at
                // once. Pause it briefly instead of spinning.
                log::warning("accept on " + self->description() + ": " + std::strerror(errno) +
                             "; pausing this portal for 100 ms");
                sd_event_source_set_enabled(self->source_, SD_EVENT_OFF);
                if (self->pause_timer_) sd_event_source_disable_unref(self->pause_timer_);
                self->pause_timer_ = nullptr;
                sd_event_add_time_relative(
                    sd_event_source_get_event(self->source_), &self->pause_timer_, CLOCK_MONOTONIC, 100'000, 0,
                    [](sd_event_source*, uint64_t, void* listener) {
                        sd_event_source_set_enabled(static_cast<Listener*>(listener)->source_, SD_EVENT_ON);
                        return 0;
                    },
                    self);
            } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
                log::warning("accept on " + self->description() + ": " + std::strerror(errno));
            }
            return 0;
        }
        int on = 1;
        ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
        self->on_accept_(UniqueFd(client), self->tpgt_);
    }
}

}  // namespace iscsi::net
