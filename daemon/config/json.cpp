#include "config/json.h"

#include <limits>
#include <set>

namespace iscsi::config {
namespace {

using nlohmann::json;

// Thrown inside the parser only; parse_* turn it into an Error value.
struct ShapeError {
    std::string path;
    std::string message;
};

const char* type_name(const json& value) {
    switch (value.type()) {
        case json::value_t::null: return "null";
        case json::value_t::object: return "an object";
        case json::value_t::array: return "an array";
        case json::value_t::string: return "a string";
        case json::value_t::boolean: return "a boolean";
        case json::value_t::number_integer:
        case json::value_t::number_unsigned: return "an integer";
        case json::value_t::number_float: return "a number with a fraction";
        default: return "something else";
    }
}

// A JSON value together with its path, for error messages.
class Node {
public:
    Node(const json& value, std::string path) : value_(value), path_(std::move(path)) {}

    [[noreturn]] void fail(const std::string& message) const { throw ShapeError{path_, message}; }

    // Checks that this is an object and that it has no keys besides `allowed`
    // (a misspelt key would otherwise be silently ignored).
    void object(std::initializer_list<const char*> allowed) const {
        if (!value_.is_object()) fail(std::string("expected an object, found ") + type_name(value_));
        std::set<std::string> known(allowed.begin(), allowed.end());
        for (const auto& [key, unused] : value_.items())
            if (!known.count(key)) child_path(key).fail("unknown key '" + key + "'");
    }

    std::optional<Node> field(const char* key) const {
        auto it = value_.find(key);
        if (it == value_.end()) return std::nullopt;
        return Node(*it, path_.empty() ? key : path_ + "." + key);
    }
    Node required(const char* key) const {
        auto node = field(key);
        if (!node) fail(std::string("missing required key '") + key + "'");
        return *node;
    }

    std::string string() const {
        if (!value_.is_string()) fail(std::string("expected a string, found ") + type_name(value_));
        return value_.get<std::string>();
    }
    bool boolean() const {
        if (!value_.is_boolean()) fail(std::string("expected true or false, found ") + type_name(value_));
        return value_.get<bool>();
    }
    uint64_t unsigned_integer(uint64_t maximum) const {
        if (value_.is_number_unsigned() || (value_.is_number_integer() && value_.get<int64_t>() >= 0)) {
            uint64_t number = value_.get<uint64_t>();
            if (number <= maximum) return number;
            fail("value " + std::to_string(number) + " is larger than " + std::to_string(maximum));
        }
        if (value_.is_number_integer()) fail("expected a non-negative integer, found " + value_.dump());
        fail(std::string("expected a non-negative integer, found ") + type_name(value_));
    }
    template <typename Each>
    void array(Each each) const {
        if (!value_.is_array()) fail(std::string("expected an array, found ") + type_name(value_));
        for (std::size_t i = 0; i < value_.size(); ++i)
            each(Node(value_[i], path_ + "[" + std::to_string(i) + "]"));
    }
    const json& raw() const { return value_; }
    const std::string& path() const { return path_; }

private:
    Node child_path(const std::string& key) const { return Node(value_, path_.empty() ? key : path_ + "." + key); }

    const json& value_;
    std::string path_;
};

template <typename T>
T uint_field(const Node& node) {
    return static_cast<T>(node.unsigned_integer(std::numeric_limits<T>::max()));
}

void read(const Node& node, const char* key, std::string& out) {
    if (auto f = node.field(key)) out = f->string();
}
void read(const Node& node, const char* key, bool& out) {
    if (auto f = node.field(key)) out = f->boolean();
}
template <typename T>
    requires std::is_unsigned_v<T> && (!std::is_same_v<T, bool>)
void read(const Node& node, const char* key, T& out) {
    if (auto f = node.field(key)) out = uint_field<T>(*f);
}
template <typename T>
void read(const Node& node, const char* key, std::optional<T>& out) {
    if (auto f = node.field(key)) {
        if constexpr (std::is_same_v<T, bool>) out = f->boolean();
        else out = uint_field<T>(*f);
    }
}
void read(const Node& node, const char* key, std::vector<std::string>& out) {
    if (auto f = node.field(key)) f->array([&](const Node& item) { out.push_back(item.string()); });
}

BackstoreType backstore_type(const Node& node) {
    std::string text = node.string();
    if (text == "fileio") return BackstoreType::FileIo;
    if (text == "block") return BackstoreType::Block;
    if (text == "ramdisk") return BackstoreType::Ramdisk;
    if (text == "user") return BackstoreType::User;
    node.fail("unknown backstore type '" + text + "' (fileio, block, ramdisk or user)");
}

Backstore parse_backstore(const Node& node) {
    node.object({"name", "type", "path", "size_bytes", "wwn", "write_back", "attributes"});
    Backstore b;
    b.name = node.required("name").string();
    b.type = backstore_type(node.required("type"));
    read(node, "path", b.path);
    read(node, "size_bytes", b.size_bytes);
    read(node, "wwn", b.wwn);
    read(node, "write_back", b.write_back);
    if (auto attributes = node.field("attributes")) {
        if (!attributes->raw().is_object()) attributes->fail("expected an object of name: value strings");
        for (const auto& [key, value] : attributes->raw().items())
            b.attributes[key] = Node(value, attributes->path() + "." + key).string();
    }
    return b;
}

ChapCredentials parse_chap(const Node& node) {
    node.object({"user", "mutual_user"});
    ChapCredentials chap;
    chap.user = node.required("user").string();
    read(node, "mutual_user", chap.mutual_user);
    return chap;
}

Redirect parse_redirect(const Node& node) {
    node.object({"address", "port", "tpgt", "permanent"});
    Redirect r;
    r.address = node.required("address").string();
    read(node, "port", r.port);
    read(node, "tpgt", r.tpgt);
    read(node, "permanent", r.permanent);
    return r;
}

Portal parse_portal(const Node& node) {
    node.object({"address", "port"});
    Portal p;
    p.address = node.required("address").string();
    read(node, "port", p.port);
    return p;
}

SessionParameters parse_parameters(const Node& node) {
    node.object({"max_recv_data_segment_length", "max_burst_length", "first_burst_length", "initial_r2t",
                 "immediate_data", "max_outstanding_r2t", "max_connections", "default_time2wait",
                 "default_time2retain", "error_recovery_level", "header_digest", "data_digest"});
    SessionParameters p;
    read(node, "max_recv_data_segment_length", p.max_recv_data_segment_length);
    read(node, "max_burst_length", p.max_burst_length);
    read(node, "first_burst_length", p.first_burst_length);
    read(node, "initial_r2t", p.initial_r2t);
    read(node, "immediate_data", p.immediate_data);
    read(node, "max_outstanding_r2t", p.max_outstanding_r2t);
    read(node, "max_connections", p.max_connections);
    read(node, "default_time2wait", p.default_time2wait);
    read(node, "default_time2retain", p.default_time2retain);
    read(node, "error_recovery_level", p.error_recovery_level);
    read(node, "header_digest", p.header_digest);
    read(node, "data_digest", p.data_digest);
    return p;
}

PortalGroup parse_portal_group(const Node& node) {
    node.object({"tpgt", "portals", "redirect", "enabled", "demo_mode", "demo_mode_write_protect",
                 "nop_in_interval_s", "nop_in_timeout_s"});
    PortalGroup g;
    g.tpgt = uint_field<uint16_t>(node.required("tpgt"));
    if (auto portals = node.field("portals"))
        portals->array([&](const Node& item) { g.portals.push_back(parse_portal(item)); });
    if (auto redirect = node.field("redirect")) g.redirect = parse_redirect(*redirect);
    read(node, "enabled", g.enabled);
    read(node, "demo_mode", g.demo_mode);
    read(node, "demo_mode_write_protect", g.demo_mode_write_protect);
    read(node, "nop_in_interval_s", g.nop_in_interval_s);
    read(node, "nop_in_timeout_s", g.nop_in_timeout_s);
    return g;
}

Acl parse_acl(const Node& node) {
    node.object({"initiator_name", "allowed_networks", "mapped_luns", "chap"});
    Acl acl;
    acl.initiator_name = node.required("initiator_name").string();
    read(node, "allowed_networks", acl.allowed_networks);
    if (auto mapped = node.field("mapped_luns"))
        mapped->array([&](const Node& item) {
            item.object({"mapped_lun", "lun", "write_protect"});
            MappedLun m;
            m.mapped_lun = uint_field<uint32_t>(item.required("mapped_lun"));
            m.lun = uint_field<uint32_t>(item.required("lun"));
            read(item, "write_protect", m.write_protect);
            acl.mapped_luns.push_back(m);
        });
    if (auto chap = node.field("chap")) acl.chap = parse_chap(*chap);
    return acl;
}

Target parse_target(const Node& node) {
    node.object({"name", "alias", "portal_groups", "luns", "acls", "chap", "redirect", "max_sessions",
                 "parameters"});
    Target t;
    t.name = node.required("name").string();
    read(node, "alias", t.alias);
    if (auto groups = node.field("portal_groups"))
        groups->array([&](const Node& item) { t.portal_groups.push_back(parse_portal_group(item)); });
    if (auto luns = node.field("luns"))
        luns->array([&](const Node& item) {
            item.object({"lun", "backstore"});
            Lun lun;
            lun.lun = uint_field<uint32_t>(item.required("lun"));
            lun.backstore = item.required("backstore").string();
            t.luns.push_back(lun);
        });
    if (auto acls = node.field("acls")) acls->array([&](const Node& item) { t.acls.push_back(parse_acl(item)); });
    if (auto chap = node.field("chap")) t.chap = parse_chap(*chap);
    if (auto redirect = node.field("redirect")) t.redirect = parse_redirect(*redirect);
    read(node, "max_sessions", t.max_sessions);
    if (auto parameters = node.field("parameters")) t.parameters = parse_parameters(*parameters);
    return t;
}

Config parse_config_tree(const Node& root) {
    root.object({"backstores", "targets", "discovery", "limits", "security"});
    Config c;
    if (auto backstores = root.field("backstores"))
        backstores->array([&](const Node& item) { c.backstores.push_back(parse_backstore(item)); });
    if (auto targets = root.field("targets"))
        targets->array([&](const Node& item) { c.targets.push_back(parse_target(item)); });
    if (auto discovery = root.field("discovery")) {
        discovery->object({"enabled", "chap", "include_link_local"});
        read(*discovery, "enabled", c.discovery.enabled);
        if (auto chap = discovery->field("chap")) c.discovery.chap = parse_chap(*chap);
        read(*discovery, "include_link_local", c.discovery.include_link_local);
    }
    if (auto limits = root.field("limits")) {
        limits->object({"login_timeout_s", "max_login_pdus", "max_login_bytes", "max_connections_in_login",
                        "max_sessions"});
        read(*limits, "login_timeout_s", c.limits.login_timeout_s);
        read(*limits, "max_login_pdus", c.limits.max_login_pdus);
        read(*limits, "max_login_bytes", c.limits.max_login_bytes);
        read(*limits, "max_connections_in_login", c.limits.max_connections_in_login);
        read(*limits, "max_sessions", c.limits.max_sessions);
    }
    if (auto security = root.field("security")) {
        security->object({"chap_algorithms", "chap_challenge_length"});
        if (auto algorithms = security->field("chap_algorithms")) {
            c.security.chap_algorithms.clear();
            algorithms->array(
                [&](const Node& item) { c.security.chap_algorithms.push_back(uint_field<uint8_t>(item)); });
        }
        read(*security, "chap_challenge_length", c.security.chap_challenge_length);
    }
    return c;
}

template <typename T, typename Parse>
Result<T> parse_file(const std::string& text, const std::string& file, Parse parse) {
    json tree;
    try {
        tree = json::parse(text);
    } catch (const json::parse_error& e) {
        // e.what() names the line and column of the syntax error.
        return tl::unexpected(Error{file, "", std::string("not valid JSON: ") + e.what()});
    }
    try {
        return parse(Node(tree, ""));
    } catch (const ShapeError& e) {
        return tl::unexpected(Error{file, e.path.empty() ? "(top level)" : e.path, e.message});
    }
}

json chap_json(const ChapCredentials& chap) {
    json j = {{"user", chap.user}};
    if (!chap.mutual_user.empty()) j["mutual_user"] = chap.mutual_user;
    return j;
}

json redirect_json(const Redirect& r) {
    return {{"address", r.address}, {"port", r.port}, {"tpgt", r.tpgt}, {"permanent", r.permanent}};
}

json parameters_json(const SessionParameters& p) {
    json j = json::object();
    auto put = [&](const char* key, const auto& value) {
        if (value) j[key] = *value;
    };
    put("max_recv_data_segment_length", p.max_recv_data_segment_length);
    put("max_burst_length", p.max_burst_length);
    put("first_burst_length", p.first_burst_length);
    put("initial_r2t", p.initial_r2t);
    put("immediate_data", p.immediate_data);
    put("max_outstanding_r2t", p.max_outstanding_r2t);
    put("max_connections", p.max_connections);
    put("default_time2wait", p.default_time2wait);
    put("default_time2retain", p.default_time2retain);
    put("error_recovery_level", p.error_recovery_level);
    if (!p.header_digest.empty()) j["header_digest"] = p.header_digest;
    if (!p.data_digest.empty()) j["data_digest"] = p.data_digest;
    return j;
}

}  // namespace

const char* to_string(BackstoreType type) {
    switch (type) {
        case BackstoreType::FileIo: return "fileio";
        case BackstoreType::Block: return "block";
        case BackstoreType::Ramdisk: return "ramdisk";
        case BackstoreType::User: return "user";
    }
    return "unknown";
}

Result<Config> parse_config(const std::string& text, const std::string& file) {
    return parse_file<Config>(text, file, parse_config_tree);
}

Result<Secrets> parse_secrets(const std::string& text, const std::string& file) {
    return parse_file<Secrets>(text, file, [](const Node& root) {
        root.object({"chap"});
        Secrets secrets;
        if (auto chap = root.field("chap")) {
            if (!chap->raw().is_object()) chap->fail("expected an object of user: secret strings");
            for (const auto& [user, secret] : chap->raw().items()) {
                Node item(secret, chap->path() + "." + user);
                secrets.chap[user] = item.string();
            }
        }
        return secrets;
    });
}

json to_json(const Config& config) {
    json root = json::object();
    root["backstores"] = json::array();
    for (const auto& b : config.backstores) {
        json j = {{"name", b.name}, {"type", to_string(b.type)}};
        if (!b.path.empty()) j["path"] = b.path;
        if (b.size_bytes) j["size_bytes"] = b.size_bytes;
        if (!b.wwn.empty()) j["wwn"] = b.wwn;
        if (b.write_back) j["write_back"] = true;
        if (!b.attributes.empty()) j["attributes"] = b.attributes;
        root["backstores"].push_back(j);
    }
    root["targets"] = json::array();
    for (const auto& t : config.targets) {
        json j = {{"name", t.name}};
        if (!t.alias.empty()) j["alias"] = t.alias;
        j["portal_groups"] = json::array();
        for (const auto& g : t.portal_groups) {
            json group = {{"tpgt", g.tpgt}, {"portals", json::array()}};
            for (const auto& p : g.portals) group["portals"].push_back({{"address", p.address}, {"port", p.port}});
            if (g.redirect) group["redirect"] = redirect_json(*g.redirect);
            group["enabled"] = g.enabled;
            group["demo_mode"] = g.demo_mode;
            group["demo_mode_write_protect"] = g.demo_mode_write_protect;
            group["nop_in_interval_s"] = g.nop_in_interval_s;
            group["nop_in_timeout_s"] = g.nop_in_timeout_s;
            j["portal_groups"].push_back(group);
        }
        j["luns"] = json::array();
        for (const auto& l : t.luns) j["luns"].push_back({{"lun", l.lun}, {"backstore", l.backstore}});
        j["acls"] = json::array();
        for (const auto& a : t.acls) {
            json acl = {{"initiator_name", a.initiator_name}};
            if (!a.allowed_networks.empty()) acl["allowed_networks"] = a.allowed_networks;
            if (!a.mapped_luns.empty()) {
                acl["mapped_luns"] = json::array();
                for (const auto& m : a.mapped_luns)
                    acl["mapped_luns"].push_back(
                        {{"mapped_lun", m.mapped_lun}, {"lun", m.lun}, {"write_protect", m.write_protect}});
            }
            if (a.chap) acl["chap"] = chap_json(*a.chap);
            j["acls"].push_back(acl);
        }
        if (t.chap) j["chap"] = chap_json(*t.chap);
        if (t.redirect) j["redirect"] = redirect_json(*t.redirect);
        if (t.max_sessions) j["max_sessions"] = t.max_sessions;
        json parameters = parameters_json(t.parameters);
        if (!parameters.empty()) j["parameters"] = parameters;
        root["targets"].push_back(j);
    }
    root["discovery"] = {{"enabled", config.discovery.enabled},
                         {"include_link_local", config.discovery.include_link_local}};
    if (config.discovery.chap) root["discovery"]["chap"] = chap_json(*config.discovery.chap);
    root["limits"] = {{"login_timeout_s", config.limits.login_timeout_s},
                      {"max_login_pdus", config.limits.max_login_pdus},
                      {"max_login_bytes", config.limits.max_login_bytes},
                      {"max_connections_in_login", config.limits.max_connections_in_login},
                      {"max_sessions", config.limits.max_sessions}};
    root["security"] = {{"chap_algorithms", config.security.chap_algorithms},
                        {"chap_challenge_length", config.security.chap_challenge_length}};
    return root;
}

json to_json(const Secrets& secrets) { return {{"chap", secrets.chap}}; }

}  // namespace iscsi::config
