#include "control/atomic_file.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace iscsi::control {
namespace {

std::string directory_of(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

tl::unexpected<Error> io_error(const std::string& what, const std::string& path, int code) {
    return fail(ErrorKind::Io, what + " " + path + ": " + std::strerror(code));
}

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() { if (fd_ >= 0) ::close(fd_); }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }
    int release() { int fd = fd_; fd_ = -1; return fd; }
private:
    int fd_;
};

}  // namespace

Result<StagedFile> StagedFile::write(const std::string& path, const std::string& contents, mode_t mode) {
    std::string temporary = path + ".tmp.XXXXXX";
    Fd fd(::mkostemp(temporary.data(), O_CLOEXEC));
    if (fd.get() < 0) return io_error("cannot create a temporary file next to", path, errno);
    StagedFile staged(path, temporary);
    // mkostemp creates 0600; widen (config.json) or keep (secrets.json) before any byte is written.
    if (::fchmod(fd.get(), mode) != 0) return io_error("cannot set the mode of", temporary, errno);
    size_t written = 0;
    while (written < contents.size()) {
        ssize_t n = ::write(fd.get(), contents.data() + written, contents.size() - written);
        if (n < 0) {
            if (errno == EINTR) continue;
            return io_error("cannot write", temporary, errno);
        }
        written += static_cast<size_t>(n);
    }
    if (::fsync(fd.get()) != 0) return io_error("cannot fsync", temporary, errno);
    if (::close(fd.release()) != 0) return io_error("cannot close", temporary, errno);
    return staged;
}

StagedFile::StagedFile(StagedFile&& other) noexcept
    : path_(std::move(other.path_)), temporary_(std::move(other.temporary_)) {
    other.temporary_.clear();
}

StagedFile::~StagedFile() {
    if (!temporary_.empty()) ::unlink(temporary_.c_str());
}

Result<void> StagedFile::commit() {
    if (::rename(temporary_.c_str(), path_.c_str()) != 0) return io_error("cannot rename a temporary file onto", path_, errno);
    temporary_.clear();
    // The rename is durable only once the directory entry is on disk.
    std::string directory = directory_of(path_);
    Fd dir(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() < 0) return io_error("cannot open directory", directory, errno);
    if (::fsync(dir.get()) != 0) return io_error("cannot fsync directory", directory, errno);
    return {};
}

Result<void> write_file_atomically(const std::string& path, const std::string& contents, mode_t mode) {
    auto staged = StagedFile::write(path, contents, mode);
    if (!staged) return tl::unexpected(staged.error());
    return staged->commit();
}

}  // namespace iscsi::control
