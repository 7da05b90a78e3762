// The fixed D-Bus names of the service (DESIGN.md, "Fixed names").
#pragma once

namespace iscsi::dbus {

inline constexpr const char* kBusName = "org.iscsictl.target1";
inline constexpr const char* kRootPath = "/org/iscsictl/target1";

inline constexpr const char* kManagerInterface = "org.iscsictl.target1.Manager";
inline constexpr const char* kTargetInterface = "org.iscsictl.target1.Target";
inline constexpr const char* kPortalGroupInterface = "org.iscsictl.target1.PortalGroup";
inline constexpr const char* kPortalInterface = "org.iscsictl.target1.Portal";
inline constexpr const char* kLunInterface = "org.iscsictl.target1.Lun";
inline constexpr const char* kBackstoreInterface = "org.iscsictl.target1.Backstore";
inline constexpr const char* kAclInterface = "org.iscsictl.target1.Acl";
inline constexpr const char* kSessionInterface = "org.iscsictl.target1.Session";
inline constexpr const char* kConnectionInterface = "org.iscsictl.target1.Connection";

inline constexpr const char* kErrorPrefix = "org.iscsictl.target1.Error.";
inline constexpr const char* kPolkitAction = "org.iscsictl.target1.manage";

}  // namespace iscsi::dbus
