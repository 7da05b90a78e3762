#include "dbus/object_paths.h"

#include <charconv>
#include <cstdlib>
#include <vector>

#include <systemd/sd-bus.h>

#include "dbus/names.h"

namespace iscsi::dbus {
namespace {

// One path label for an arbitrary string (sd_bus_path_encode escapes every
// byte outside [A-Za-z0-9] as _xx; the empty string becomes "_").
std::string encode_label(const std::string& text) {
    char* encoded = nullptr;
    if (sd_bus_path_encode("/x", text.c_str(), &encoded) < 0 || encoded == nullptr) return "_";
    std::string label(encoded + 3);
    std::free(encoded);
    return label;
}

std::optional<std::string> decode_label(const std::string& label) {
    char* decoded = nullptr;
    std::string path = "/x/" + label;
    if (sd_bus_path_decode(path.c_str(), "/x", &decoded) <= 0 || decoded == nullptr) return std::nullopt;
    std::string text(decoded);
    std::free(decoded);
    return text;
}

template <typename T>
std::optional<T> parse_number(const std::string& text) {
    T value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return value;
}

std::vector<std::string> split(const std::string& text) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= text.size()) {
        auto slash = text.find('/', start);
        if (slash == std::string::npos) slash = text.size();
        parts.push_back(text.substr(start, slash - start));
        start = slash + 1;
    }
    return parts;
}

std::string portal_label(const std::string& address, uint16_t port) {
    return address + "|" + std::to_string(port);
}

}  // namespace

ObjectId target_id(const std::string& target) {
    return ObjectId{ObjectKind::Target, target, 0, 0, 0, {}, 0};
}
ObjectId portal_group_id(const std::string& target, uint16_t tpgt) {
    return ObjectId{ObjectKind::PortalGroup, target, tpgt, 0, 0, {}, 0};
}
ObjectId portal_id(const std::string& target, uint16_t tpgt, const std::string& address, uint16_t port) {
    return ObjectId{ObjectKind::Portal, target, tpgt, 0, 0, address, port};
}
ObjectId lun_id(const std::string& target, uint32_t lun) {
    return ObjectId{ObjectKind::Lun, target, 0, lun, 0, {}, 0};
}
ObjectId acl_id(const std::string& target, const std::string& initiator) {
    return ObjectId{ObjectKind::Acl, target, 0, 0, 0, initiator, 0};
}
ObjectId backstore_id(const std::string& name) {
    return ObjectId{ObjectKind::Backstore, {}, 0, 0, 0, name, 0};
}
ObjectId session_id(const std::string& target, uint16_t tpgt, uint16_t tsih) {
    return ObjectId{ObjectKind::Session, target, tpgt, tsih, 0, {}, 0};
}
ObjectId connection_id(const std::string& target, uint16_t tpgt, uint16_t tsih, uint16_t cid) {
    return ObjectId{ObjectKind::Connection, target, tpgt, tsih, cid, {}, 0};
}

const char* interface_of(ObjectKind kind) {
    switch (kind) {
    case ObjectKind::Target: return kTargetInterface;
    case ObjectKind::PortalGroup: return kPortalGroupInterface;
    case ObjectKind::Portal: return kPortalInterface;
    case ObjectKind::Lun: return kLunInterface;
    case ObjectKind::Acl: return kAclInterface;
    case ObjectKind::Backstore: return kBackstoreInterface;
    case ObjectKind::Session: return kSessionInterface;
    case ObjectKind::Connection: return kConnectionInterface;
    }
    return "";
}

std::string object_path(const ObjectId& id) {
    std::string root = kRootPath;
    std::string target = root + "/target/" + encode_label(id.target);
    std::string session = root + "/session/" + encode_label(id.target) + "/" + std::to_string(id.tpgt) + "/" +
                          std::to_string(id.number);
    switch (id.kind) {
    case ObjectKind::Target: return target;
    case ObjectKind::PortalGroup: return target + "/tpg/" + std::to_string(id.tpgt);
    case ObjectKind::Portal:
        return target + "/tpg/" + std::to_string(id.tpgt) + "/portal/" + encode_label(portal_label(id.name, id.port));
    case ObjectKind::Lun: return target + "/lun/" + std::to_string(id.number);
    case ObjectKind::Acl: return target + "/acl/" + encode_label(id.name);
    case ObjectKind::Backstore: return root + "/backstore/" + encode_label(id.name);
    case ObjectKind::Session: return session;
    case ObjectKind::Connection: return session + "/connection/" + std::to_string(id.cid);
    }
    return root;
}

std::optional<ObjectId> parse_object_path(const std::string& path) {
    std::string root = kRootPath;
    if (path.size() <= root.size() + 1 || path.compare(0, root.size(), root) != 0 || path[root.size()] != '/')
        return std::nullopt;
    auto parts = split(path.substr(root.size() + 1));
    if (parts.size() < 2) return std::nullopt;
    auto first = decode_label(parts[1]);
    if (!first) return std::nullopt;

    if (parts[0] == "backstore" && parts.size() == 2) return backstore_id(*first);
    if (parts[0] == "target") {
        const std::string& target = *first;
        if (parts.size() == 2) return target_id(target);
        if (parts.size() == 4 && parts[2] == "lun") {
            auto lun = parse_number<uint32_t>(parts[3]);
            if (lun) return lun_id(target, *lun);
        }
        if (parts.size() == 4 && parts[2] == "acl") {
            auto initiator = decode_label(parts[3]);
            if (initiator) return acl_id(target, *initiator);
        }
        if (parts.size() >= 4 && parts[2] == "tpg") {
            auto tpgt = parse_number<uint16_t>(parts[3]);
            if (!tpgt) return std::nullopt;
            if (parts.size() == 4) return portal_group_id(target, *tpgt);
            if (parts.size() == 6 && parts[4] == "portal") {
                auto label = decode_label(parts[5]);
                if (!label) return std::nullopt;
                auto bar = label->rfind('|');
                if (bar == std::string::npos) return std::nullopt;
                auto port = parse_number<uint16_t>(label->substr(bar + 1));
                if (port) return portal_id(target, *tpgt, label->substr(0, bar), *port);
            }
        }
        return std::nullopt;
    }
    if (parts[0] == "session" && (parts.size() == 4 || parts.size() == 6)) {
        auto tpgt = parse_number<uint16_t>(parts[2]);
        auto tsih = parse_number<uint16_t>(parts[3]);
        if (!tpgt || !tsih) return std::nullopt;
        if (parts.size() == 4) return session_id(*first, *tpgt, *tsih);
        if (parts[4] != "connection") return std::nullopt;
        auto cid = parse_number<uint16_t>(parts[5]);
        if (cid) return connection_id(*first, *tpgt, *tsih, *cid);
    }
    return std::nullopt;
}

}  // namespace iscsi::dbus
