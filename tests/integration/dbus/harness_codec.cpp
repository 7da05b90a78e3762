#include "harness_codec.h"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "control/control_plane.h"

namespace iscsi::config {

using nlohmann::json;

template <typename T>
void get_optional(const json& j, const char* key, std::optional<T>& out) {
    if (j.contains(key) && !j.at(key).is_null()) out = j.at(key).get<T>();
}

void to_json(json& j, const ChapCredentials& c) { j = {{"user", c.user}, {"mutual_user", c.mutual_user}}; }
void from_json(const json& j, ChapCredentials& c) {
    c.user = j.value("user", "");
    c.mutual_user = j.value("mutual_user", "");
}
void to_json(json& j, const Redirect& r) {
    j = {{"address", r.address}, {"port", r.port}, {"tpgt", r.tpgt}, {"permanent", r.permanent}};
}
void from_json(const json& j, Redirect& r) {
    r.address = j.value("address", "");
    r.port = j.value("port", 3260);
    r.tpgt = j.value("tpgt", 1);
    r.permanent = j.value("permanent", false);
}
void to_json(json& j, const Portal& p) { j = {{"address", p.address}, {"port", p.port}}; }
void from_json(const json& j, Portal& p) {
    p.address = j.value("address", "");
    p.port = j.value("port", 3260);
}
void to_json(json& j, const PortalGroup& g) {
    j = {{"tpgt", g.tpgt}, {"portals", g.portals}, {"enabled", g.enabled}, {"demo_mode", g.demo_mode},
         {"demo_mode_write_protect", g.demo_mode_write_protect}};
    if (g.redirect) j["redirect"] = *g.redirect;
}
void from_json(const json& j, PortalGroup& g) {
    g.tpgt = j.value("tpgt", 1);
    g.portals = j.value("portals", std::vector<Portal>{});
    g.enabled = j.value("enabled", true);
    g.demo_mode = j.value("demo_mode", false);
    g.demo_mode_write_protect = j.value("demo_mode_write_protect", false);
    get_optional(j, "redirect", g.redirect);
}
void to_json(json& j, const Lun& l) { j = {{"lun", l.lun}, {"backstore", l.backstore}}; }
void from_json(const json& j, Lun& l) {
    l.lun = j.value("lun", 0u);
    l.backstore = j.value("backstore", "");
}
void to_json(json& j, const MappedLun& m) {
    j = {{"mapped_lun", m.mapped_lun}, {"lun", m.lun}, {"write_protect", m.write_protect}};
}
void from_json(const json& j, MappedLun& m) {
    m.mapped_lun = j.value("mapped_lun", 0u);
    m.lun = j.value("lun", 0u);
    m.write_protect = j.value("write_protect", false);
}
void to_json(json& j, const Acl& a) {
    j = {{"initiator_name", a.initiator_name}, {"allowed_networks", a.allowed_networks}, {"mapped_luns", a.mapped_luns}};
    if (a.chap) j["chap"] = *a.chap;
}
void from_json(const json& j, Acl& a) {
    a.initiator_name = j.value("initiator_name", "");
    a.allowed_networks = j.value("allowed_networks", std::vector<std::string>{});
    a.mapped_luns = j.value("mapped_luns", std::vector<MappedLun>{});
    get_optional(j, "chap", a.chap);
}
void to_json(json& j, const Target& t) {
    j = {{"name", t.name}, {"alias", t.alias}, {"portal_groups", t.portal_groups}, {"luns", t.luns},
         {"acls", t.acls}, {"max_sessions", t.max_sessions}};
    if (t.chap) j["chap"] = *t.chap;
    if (t.redirect) j["redirect"] = *t.redirect;
}
void from_json(const json& j, Target& t) {
    t.name = j.value("name", "");
    t.alias = j.value("alias", "");
    t.portal_groups = j.value("portal_groups", std::vector<PortalGroup>{});
    t.luns = j.value("luns", std::vector<Lun>{});
    t.acls = j.value("acls", std::vector<Acl>{});
    t.max_sessions = j.value("max_sessions", 0u);
    get_optional(j, "chap", t.chap);
    get_optional(j, "redirect", t.redirect);
}
void to_json(json& j, const Backstore& b) {
    j = {{"name", b.name}, {"type", control::to_string(b.type)}, {"path", b.path}, {"size_bytes", b.size_bytes},
         {"wwn", b.wwn}, {"write_back", b.write_back}, {"attributes", b.attributes}};
}
void from_json(const json& j, Backstore& b) {
    b.name = j.value("name", "");
    b.type = control::backstore_type_from_string(j.value("type", "fileio")).value_or(BackstoreType::FileIo);
    b.path = j.value("path", "");
    b.size_bytes = j.value("size_bytes", uint64_t{0});
    b.wwn = j.value("wwn", "");
    b.write_back = j.value("write_back", false);
    b.attributes = j.value("attributes", std::map<std::string, std::string>{});
}

}  // namespace iscsi::config

namespace iscsi::testing {

using nlohmann::json;

namespace {

tl::expected<json, std::string> read_json(const std::string& path) {
    std::ifstream in(path);
    if (!in) return json::object();  // an absent file is an empty configuration
    try {
        return json::parse(in);
    } catch (const std::exception& e) {
        return tl::unexpected(path + ": " + e.what());
    }
}

}  // namespace

control::ConfigCodec harness_codec() {
    control::ConfigCodec codec;
    codec.encode_config = [](const config::Config& c) {
        json j = {{"backstores", c.backstores}, {"targets", c.targets}};
        j["discovery"] = {{"enabled", c.discovery.enabled}, {"include_link_local", c.discovery.include_link_local}};
        if (c.discovery.chap) j["discovery"]["chap"] = *c.discovery.chap;
        return j.dump(2) + "\n";
    };
    codec.encode_secrets = [](const config::Secrets& s) { return json({{"chap", s.chap}}).dump(2) + "\n"; };
    codec.load = [](const std::string& config_path,
                    const std::string& secrets_path) -> tl::expected<control::StoredConfiguration, std::string> {
        auto c = read_json(config_path);
        if (!c) return tl::unexpected(c.error());
        auto s = read_json(secrets_path);
        if (!s) return tl::unexpected(s.error());
        control::StoredConfiguration stored;
        try {
            stored.config.backstores = c->value("backstores", std::vector<config::Backstore>{});
            stored.config.targets = c->value("targets", std::vector<config::Target>{});
            if (c->contains("discovery")) {
                const auto& d = c->at("discovery");
                stored.config.discovery.enabled = d.value("enabled", true);
                stored.config.discovery.include_link_local = d.value("include_link_local", false);
                config::get_optional(d, "chap", stored.config.discovery.chap);
            }
            stored.secrets.chap = s->value("chap", std::map<std::string, std::string>{});
        } catch (const std::exception& e) {
            return tl::unexpected(config_path + ": " + e.what());
        }
        return stored;
    };
    return codec;
}

}  // namespace iscsi::testing
