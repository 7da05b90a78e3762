#include "config/validate.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "config/names.h"
#include "config/network.h"

namespace iscsi::config {
namespace {

// RFC 7143 s.12.1.3: at least 96 bits; initiators (open-iscsi, libiscsi)
// accept at most 255 bytes.
constexpr std::size_t kMinSecretBytes = 12;
constexpr std::size_t kMaxSecretBytes = 255;

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    return text;
}

std::string index(const std::string& base, const char* field, std::size_t i) {
    return base + (base.empty() ? "" : ".") + field + "[" + std::to_string(i) + "]";
}

class Checker {
public:
    Checker(const Config& config, const Secrets& secrets, const FileNames& files)
        : config_(config), secrets_(secrets), files_(files) {}

    std::vector<Error> run() {
        check_backstores();
        std::set<std::string> target_names;
        for (std::size_t i = 0; i < config_.targets.size(); ++i) {
            const Target& target = config_.targets[i];
            std::string path = index("", "targets", i);
            if (!target_names.insert(lower(target.name)).second)
                fail(path + ".name", "target '" + target.name + "' is configured twice");
            check_target(target, path);
        }
        check_portal_overlaps();
        if (config_.discovery.chap) check_chap(*config_.discovery.chap, "discovery.chap");
        check_limits();
        check_security();
        check_secrets();
        return std::move(errors_);
    }

private:
    void fail(const std::string& path, const std::string& message) {
        errors_.push_back(Error{files_.config, path, message});
    }

    void check_backstores() {
        std::set<std::string> names;
        for (std::size_t i = 0; i < config_.backstores.size(); ++i) {
            const Backstore& b = config_.backstores[i];
            std::string path = index("", "backstores", i);
            bool well_formed = !b.name.empty() && std::all_of(b.name.begin(), b.name.end(), [](unsigned char c) {
                return std::isalnum(c) || c == '_' || c == '.' || c == '-';
            });
            if (!well_formed) fail(path + ".name", "backstore names use only A-Z a-z 0-9 _ . - and are not empty");
            else if (!names.insert(b.name).second) fail(path + ".name", "backstore '" + b.name + "' is defined twice");
            if ((b.type == BackstoreType::FileIo || b.type == BackstoreType::Block) && b.path.empty())
                fail(path + ".path", std::string("a ") + (b.type == BackstoreType::Block ? "block" : "fileio") +
                                         " backstore needs a path");
            if (b.type == BackstoreType::Ramdisk && b.size_bytes == 0)
                fail(path + ".size_bytes", "a ramdisk backstore needs a size_bytes above 0");
        }
    }

    bool backstore_exists(const std::string& name) const {
        return std::any_of(config_.backstores.begin(), config_.backstores.end(),
                           [&](const Backstore& b) { return b.name == name; });
    }

    void check_target(const Target& target, const std::string& path) {
        if (auto why = check_iscsi_name(target.name)) fail(path + ".name", *why);
        if (target.alias.size() > 255) fail(path + ".alias", "an alias is at most 255 bytes");
        std::set<uint16_t> tpgts;
        for (std::size_t g = 0; g < target.portal_groups.size(); ++g) {
            const PortalGroup& group = target.portal_groups[g];
            std::string gpath = index(path, "portal_groups", g);
            if (group.tpgt == 0) fail(gpath + ".tpgt", "TPGT must be from 1 to 65535");
            else if (!tpgts.insert(group.tpgt).second)
                fail(gpath + ".tpgt", "TPGT " + std::to_string(group.tpgt) + " is used twice in this target");
            std::set<std::pair<std::string, uint16_t>> seen;
            for (std::size_t p = 0; p < group.portals.size(); ++p) {
                const Portal& portal = group.portals[p];
                std::string ppath = index(gpath, "portals", p);
                check_portal(portal, ppath);
                if (!seen.insert({portal.address, portal.port}).second)
                    fail(ppath, "portal " + portal.address + ":" + std::to_string(portal.port) +
                                    " is listed twice in this portal group");
                record_portal(portal, group.tpgt, ppath);
            }
            if (group.redirect) check_redirect(*group.redirect, gpath + ".redirect");
        }
        if (target.redirect) check_redirect(*target.redirect, path + ".redirect");

        std::set<uint32_t> luns;
        for (std::size_t l = 0; l < target.luns.size(); ++l) {
            const Lun& lun = target.luns[l];
            std::string lpath = index(path, "luns", l);
            if (lun.lun > 65535) fail(lpath + ".lun", "LUN numbers go from 0 to 65535");
            if (!luns.insert(lun.lun).second) fail(lpath + ".lun", "LUN " + std::to_string(lun.lun) + " is defined twice");
            if (!backstore_exists(lun.backstore))
                fail(lpath + ".backstore", "no backstore named '" + lun.backstore + "'");
        }

        std::set<std::string> initiators;
        for (std::size_t a = 0; a < target.acls.size(); ++a) {
            const Acl& acl = target.acls[a];
            std::string apath = index(path, "acls", a);
            if (auto why = check_iscsi_name(acl.initiator_name)) fail(apath + ".initiator_name", *why);
            else if (!initiators.insert(lower(acl.initiator_name)).second)
                fail(apath + ".initiator_name", "initiator '" + acl.initiator_name + "' has two ACLs");
            for (std::size_t n = 0; n < acl.allowed_networks.size(); ++n) {
                auto parsed = parse_network(acl.allowed_networks[n]);
                if (!parsed.network) fail(index(apath, "allowed_networks", n), parsed.error);
            }
            std::set<uint32_t> mapped;
            for (std::size_t m = 0; m < acl.mapped_luns.size(); ++m) {
                const MappedLun& map = acl.mapped_luns[m];
                std::string mpath = index(apath, "mapped_luns", m);
                if (!luns.count(map.lun)) fail(mpath + ".lun", "the target has no LUN " + std::to_string(map.lun));
                if (map.mapped_lun > 65535) fail(mpath + ".mapped_lun", "LUN numbers go from 0 to 65535");
                if (!mapped.insert(map.mapped_lun).second)
                    fail(mpath + ".mapped_lun", "mapped LUN " + std::to_string(map.mapped_lun) + " is used twice");
            }
            if (acl.chap) check_chap(*acl.chap, apath + ".chap");
        }
        if (target.chap) check_chap(*target.chap, path + ".chap");
        check_parameters(target.parameters, path + ".parameters");
    }

    void check_portal(const Portal& portal, const std::string& path) {
        auto address = parse_address(portal.address);
        if (!address || (portal.address.find(':') != std::string::npos && !address->v6))
            fail(path + ".address", "'" + portal.address + "' is not a numeric IPv4 or IPv6 address (no brackets, no names)");
        if (portal.port == 0) fail(path + ".port", "port must be from 1 to 65535");
    }

    void check_redirect(const Redirect& redirect, const std::string& path) {
        if (redirect.address.empty()) fail(path + ".address", "a redirect needs an address");
        if (redirect.address.find_first_of("[], ") != std::string::npos)
            fail(path + ".address", "write the address without brackets, commas or spaces");
        if (redirect.port == 0) fail(path + ".port", "port must be from 1 to 65535");
        if (redirect.tpgt == 0) fail(path + ".tpgt", "TPGT must be from 1 to 65535");
    }

    struct PortalUse {
        uint16_t tpgt;
        std::string path;
    };

    void record_portal(const Portal& portal, uint16_t tpgt, const std::string& path) {
        auto address = parse_address(portal.address);
        if (!address || portal.port == 0) return;
        auto key = std::make_pair(*address, portal.port);
        auto found = std::find_if(portals_.begin(), portals_.end(), [&](const auto& entry) { return entry.first == key; });
        if (found == portals_.end()) {
            portals_.push_back({key, PortalUse{tpgt, path}});
        } else if (found->second.tpgt != tpgt) {
            fail(path, "portal " + portal.address + ":" + std::to_string(portal.port) + " is in TPGT " +
                           std::to_string(tpgt) + " here but in TPGT " + std::to_string(found->second.tpgt) +
                           " at " + found->second.path + "; a portal belongs to one TPGT");
        }
    }

    // Linux refuses to bind 127.0.0.1:3260 while 0.0.0.0:3260 listens.
    void check_portal_overlaps() {
        for (const auto& [key, use] : portals_) {
            if (key.first.is_wildcard()) continue;
            for (const auto& [other, other_use] : portals_)
                if (other.first.is_wildcard() && other.first.v6 == key.first.v6 && other.second == key.second)
                    fail(use.path, "this port is also taken by the wildcard portal at " + other_use.path);
        }
    }

    void check_range(const std::optional<uint32_t>& value, uint32_t low, uint32_t high, const std::string& path) {
        if (value && (*value < low || *value > high))
            fail(path, "must be from " + std::to_string(low) + " to " + std::to_string(high) + " (RFC 7143 s.13)");
    }

    void check_digests(const std::vector<std::string>& digests, const std::string& path) {
        for (std::size_t i = 0; i < digests.size(); ++i)
            if (digests[i] != "CRC32C" && digests[i] != "None")
                fail(path + "[" + std::to_string(i) + "]", "digest must be \"CRC32C\" or \"None\"");
    }

    void check_parameters(const SessionParameters& p, const std::string& path) {
        constexpr uint32_t kMaxLength = (1u << 24) - 1;
        check_range(p.max_recv_data_segment_length, 512, kMaxLength, path + ".max_recv_data_segment_length");
        check_range(p.max_burst_length, 512, kMaxLength, path + ".max_burst_length");
        check_range(p.first_burst_length, 512, kMaxLength, path + ".first_burst_length");
        check_range(p.max_outstanding_r2t, 1, 65535, path + ".max_outstanding_r2t");
        check_range(p.max_connections, 1, 65535, path + ".max_connections");
        check_range(p.default_time2wait, 0, 3600, path + ".default_time2wait");
        check_range(p.default_time2retain, 0, 3600, path + ".default_time2retain");
        check_range(p.error_recovery_level, 0, 2, path + ".error_recovery_level");
        uint32_t first = p.first_burst_length.value_or(65536), max = p.max_burst_length.value_or(262144);
        if (first > max)
            fail(path + ".first_burst_length", "FirstBurstLength " + std::to_string(first) +
                                                   " exceeds MaxBurstLength " + std::to_string(max));
        check_digests(p.header_digest, path + ".header_digest");
        check_digests(p.data_digest, path + ".data_digest");
    }

    void check_chap(const ChapCredentials& chap, const std::string& path) {
        if (chap.user.empty()) fail(path + ".user", "a CHAP user name is required");
        else if (!secrets_.chap.count(chap.user))
            fail(path + ".user", "CHAP user '" + chap.user + "' has no secret in " + files_.secrets);
        if (chap.mutual_user.empty()) return;
        auto mutual = secrets_.chap.find(chap.mutual_user);
        if (mutual == secrets_.chap.end()) {
            fail(path + ".mutual_user", "CHAP user '" + chap.mutual_user + "' has no secret in " + files_.secrets);
            return;
        }
        auto own = secrets_.chap.find(chap.user);
        if (own != secrets_.chap.end() && own->second == mutual->second)
            fail(path + ".mutual_user", "the mutual secret must differ from the initiator's (RFC 7143 s.12.1.3)");
    }

    void check_limits() {
        const Limits& l = config_.limits;
        if (l.login_timeout_s < 1 || l.login_timeout_s > 3600)
            fail("limits.login_timeout_s", "must be from 1 to 3600 seconds");
        if (l.max_login_pdus < 4) fail("limits.max_login_pdus", "must be at least 4 (a CHAP login takes 4 PDUs)");
        if (l.max_login_bytes < 8192) fail("limits.max_login_bytes", "must be at least 8192");
        if (l.max_connections_in_login < 1) fail("limits.max_connections_in_login", "must be at least 1");
    }

    void check_security() {
        const Security& s = config_.security;
        if (s.chap_algorithms.empty()) fail("security.chap_algorithms", "at least one CHAP algorithm is needed");
        std::set<uint8_t> seen;
        for (std::size_t i = 0; i < s.chap_algorithms.size(); ++i) {
            uint8_t a = s.chap_algorithms[i];
            std::string path = "security.chap_algorithms[" + std::to_string(i) + "]";
            if (a < 5 || a > 8) fail(path, "CHAP_A must be 5 (MD5), 6 (SHA-1), 7 (SHA-256) or 8 (SHA3-256)");
            else if (!seen.insert(a).second) fail(path, "algorithm " + std::to_string(a) + " is listed twice");
        }
        if (s.chap_challenge_length < 16 || s.chap_challenge_length > 1024)
            fail("security.chap_challenge_length", "must be from 16 to 1024 bytes");
    }

    void check_secrets() {
        for (const auto& [user, secret] : secrets_.chap) {
            std::string path = "chap." + user;
            if (user.empty() || user.size() > 255)
                errors_.push_back(Error{files_.secrets, path, "CHAP user names are 1 to 255 bytes"});
            if (secret.size() < kMinSecretBytes || secret.size() > kMaxSecretBytes)
                errors_.push_back(Error{files_.secrets, path,
                                        "a CHAP secret is 12 to 255 bytes (RFC 7143 s.12.1.3 asks for at least 96 bits)"});
        }
    }

    const Config& config_;
    const Secrets& secrets_;
    const FileNames& files_;
    std::vector<Error> errors_;
    std::vector<std::pair<std::pair<IpAddress, uint16_t>, PortalUse>> portals_;
};

}  // namespace

std::vector<Error> validate(const Config& config, const Secrets& secrets, const FileNames& files) {
    return Checker(config, secrets, files).run();
}

}  // namespace iscsi::config
