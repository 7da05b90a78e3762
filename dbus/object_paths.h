// Object paths of the service, one per entity. Names (target IQNs, initiator
// names, backstore names, addresses) become path labels through
// sd_bus_path_encode, so any name maps to a valid path and back.
//
//   /org/iscsictl/target1/target/<target>
//   /org/iscsictl/target1/target/<target>/tpg/<tpgt>
//   /org/iscsictl/target1/target/<target>/tpg/<tpgt>/portal/<address:port>
//   /org/iscsictl/target1/target/<target>/lun/<lun>
//   /org/iscsictl/target1/target/<target>/acl/<initiator>
//   /org/iscsictl/target1/backstore/<backstore>
//   /org/iscsictl/target1/session/<target>/<tpgt>/<tsih>
//   /org/iscsictl/target1/session/<target>/<tpgt>/<tsih>/connection/<cid>
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace iscsi::dbus {

enum class ObjectKind { Target, PortalGroup, Portal, Lun, Acl, Backstore, Session, Connection };

struct ObjectId {
    ObjectKind kind = ObjectKind::Target;
    std::string target;   // every kind but Backstore
    uint16_t tpgt = 0;    // PortalGroup, Portal, Session, Connection
    uint32_t number = 0;  // Lun: the LUN; Session, Connection: the TSIH
    uint16_t cid = 0;     // Connection
    std::string name;     // Acl: initiator; Backstore: its name; Portal: address
    uint16_t port = 0;    // Portal

    friend bool operator==(const ObjectId&, const ObjectId&) = default;
};

std::string object_path(const ObjectId& id);
std::optional<ObjectId> parse_object_path(const std::string& path);

// Constructors for readability at call sites.
ObjectId target_id(const std::string& target);
ObjectId portal_group_id(const std::string& target, uint16_t tpgt);
ObjectId portal_id(const std::string& target, uint16_t tpgt, const std::string& address, uint16_t port);
ObjectId lun_id(const std::string& target, uint32_t lun);
ObjectId acl_id(const std::string& target, const std::string& initiator);
ObjectId backstore_id(const std::string& name);
ObjectId session_id(const std::string& target, uint16_t tpgt, uint16_t tsih);
ObjectId connection_id(const std::string& target, uint16_t tpgt, uint16_t tsih, uint16_t cid);

// The interface an object of this kind carries.
const char* interface_of(ObjectKind kind);

}  // namespace iscsi::dbus
