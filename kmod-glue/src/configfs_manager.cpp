#include "configfs_manager.h"

#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "configfs_reader.h"

namespace iscsi::kmod {
namespace {

std::optional<uint64_t> stat_size(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || st.st_size <= 0) {
        return std::nullopt;
    }
    return static_cast<uint64_t>(st.st_size);
}

// One configfs attribute store is one write(2): configfs hands each write
// to the attribute's store method on its own.
int write_attribute(const std::string& path, const std::string& value, bool only_if_present) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        return (errno == ENOENT && only_if_present) ? 0 : errno;
    }
    const ssize_t written = ::write(fd, value.data(), value.size());
    const int error = written < 0 ? errno : (static_cast<size_t>(written) != value.size() ? EIO : 0);
    ::close(fd);
    return error;
}

}  // namespace

Result<std::vector<Operation>> ConfigfsManager::plan(const config::Config& config) const {
    auto desired = desired_state(config, stat_size);
    if (!desired) {
        return tl::unexpected(desired.error());
    }
    auto current = read_configfs_state(root_);
    if (!current) {
        return tl::unexpected(current.error());
    }
    return plan_configfs(*current, *desired);
}

Result<void> ConfigfsManager::apply(const config::Config& config) {
    auto desired = desired_state(config, stat_size);
    if (!desired) {
        return tl::unexpected(desired.error());
    }
    if (current_ && !configfs_names_match(root_, *current_)) {
        current_.reset();
    }
    if (!current_) {
        auto read = read_configfs_state(root_);
        if (!read) {
            return tl::unexpected(read.error());
        }
        current_ = std::move(*read);
    }
    auto planned = plan_configfs(*current_, *desired);
    if (!planned) {
        return tl::unexpected(planned.error());
    }
    const std::vector<Operation>& operations = *planned;
    auto done = execute(operations);
    if (!done) {
        current_.reset();  // part of the plan ran: read it all next time
        return done;
    }
    std::vector<std::string> touched;
    touched.reserve(operations.size());
    for (const auto& op : operations) {
        touched.push_back(op.path);
    }
    if (auto ok = refresh_configfs_state(root_, touched, *current_); !ok) {
        current_.reset();
    }
    return {};
}

Result<void> ConfigfsManager::execute(const std::vector<Operation>& operations) {
    for (const auto& op : operations) {
        const std::string path = root_ + "/" + op.path;
        int error = 0;
        switch (op.kind) {
        case Operation::Kind::MakeDirectory:
            error = ::mkdir(path.c_str(), 0755) == 0 ? 0 : errno;
            break;
        case Operation::Kind::RemoveDirectory:
            error = ::rmdir(path.c_str()) == 0 ? 0 : errno;
            break;
        case Operation::Kind::Symlink:
            error = ::symlink((root_ + "/" + op.value).c_str(), path.c_str()) == 0 ? 0 : errno;
            break;
        case Operation::Kind::Unlink:
            error = ::unlink(path.c_str()) == 0 ? 0 : errno;
            break;
        case Operation::Kind::Write:
            error = write_attribute(path, op.value, op.only_if_present);
            break;
        }
        if (error != 0) {
            std::string hint;
            if (op.kind == Operation::Kind::MakeDirectory && op.path == kFabricDirectory) {
                hint = " (is iscsi_handoff.ko loaded?)";
            }
            return tl::unexpected(Error{error, "configfs " + to_string(op) + " under " + root_ + ": " +
                                                   std::strerror(error) + hint +
                                                   "; the kernel log (dmesg) has LIO's reason"});
        }
    }
    return {};
}

}  // namespace iscsi::kmod
