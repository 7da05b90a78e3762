#include "config/store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "config/json.h"
#include "config/validate.h"

namespace iscsi::config {
namespace {

Error system_error(const std::string& path, const std::string& what) {
    return Error{path, "", what + ": " + std::strerror(errno)};
}

// Returns the contents, or nullopt with errno set when the file cannot be read.
Result<std::string> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return tl::unexpected(system_error(path, "cannot open"));
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) return tl::unexpected(system_error(path, "cannot read"));
    return text.str();
}

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }
    int release() { return std::exchange(fd_, -1); }

private:
    int fd_;
};

std::string directory_of(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

}  // namespace

Result<Config> load_config(const std::string& path) {
    auto text = read_file(path);
    if (!text) return tl::unexpected(text.error());
    return parse_config(*text, path);
}

Result<Secrets> load_secrets(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return Secrets{};
        return tl::unexpected(system_error(path, "cannot stat"));
    }
    auto text = read_file(path);
    if (!text) return tl::unexpected(text.error());
    return parse_secrets(*text, path);
}

Result<Loaded> load(const Files& files) {
    auto config = load_config(files.config_path);
    if (!config) return tl::unexpected(config.error());
    auto secrets = load_secrets(files.secrets_path);
    if (!secrets) return tl::unexpected(secrets.error());
    auto errors = validate(*config, *secrets, FileNames{files.config_path, files.secrets_path});
    if (!errors.empty()) return tl::unexpected(errors.front());
    return Loaded{std::move(*config), std::move(*secrets)};
}

Result<void> write_file_atomically(const std::string& path, const std::string& contents, unsigned mode) {
    std::string temporary = path + ".tmp." + std::to_string(::getpid());
    Fd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode));
    if (fd.get() < 0) return tl::unexpected(system_error(temporary, "cannot create"));
    // open() applies the umask; the mode must be exact (0600 for secrets).
    if (::fchmod(fd.get(), mode) != 0) {
        ::unlink(temporary.c_str());
        return tl::unexpected(system_error(temporary, "cannot set mode"));
    }
    std::size_t written = 0;
    while (written < contents.size()) {
        ssize_t n = ::write(fd.get(), contents.data() + written, contents.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            Error error = system_error(temporary, "cannot write");
            ::unlink(temporary.c_str());
            return tl::unexpected(error);
        }
        written += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0) {
        Error error = system_error(temporary, "cannot fsync");
        ::unlink(temporary.c_str());
        return tl::unexpected(error);
    }
    ::close(fd.release());
    if (::rename(temporary.c_str(), path.c_str()) != 0) {
        Error error = system_error(path, "cannot rename " + temporary + " over it");
        ::unlink(temporary.c_str());
        return tl::unexpected(error);
    }
    // The rename is durable only once the directory entry is on disk.
    Fd directory(::open(directory_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (directory.get() >= 0) ::fsync(directory.get());
    return {};
}

Result<void> save_config(const std::string& path, const Config& config) {
    return write_file_atomically(path, to_json(config).dump(2) + "\n", 0644);
}

Result<void> save_secrets(const std::string& path, const Secrets& secrets) {
    return write_file_atomically(path, to_json(secrets).dump(2) + "\n", 0600);
}

Result<void> save(const Files& files, const Config& config, const Secrets& secrets) {
    auto errors = validate(config, secrets, FileNames{files.config_path, files.secrets_path});
    if (!errors.empty()) return tl::unexpected(errors.front());
    // Secrets first: a config that names a user whose secret is missing
    // would not load after a crash between the two renames.
    if (auto saved = save_secrets(files.secrets_path, secrets); !saved) return saved;
    return save_config(files.config_path, config);
}

}  // namespace iscsi::config
