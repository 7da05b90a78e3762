// Replacing a file so that a reader (or a crash) sees either the old or the
// new contents, never a mix: write a temporary file in the same directory,
// fsync it, rename it over the target, fsync the directory.
#pragma once

#include <string>
#include <sys/types.h>

#include "control/error.h"

namespace iscsi::control {

// A temporary file written and synced but not yet renamed into place; the
// destructor removes it unless commit() succeeded. Two of these let a caller
// replace config.json and secrets.json together: both are written first, and
// only when both writes succeeded are they renamed.
class StagedFile {
public:
    static Result<StagedFile> write(const std::string& path, const std::string& contents, mode_t mode);
    StagedFile(StagedFile&& other) noexcept;
    StagedFile& operator=(StagedFile&&) = delete;
    StagedFile(const StagedFile&) = delete;
    ~StagedFile();

    Result<void> commit();

private:
    StagedFile(std::string path, std::string temporary) : path_(std::move(path)), temporary_(std::move(temporary)) {}
    std::string path_;
    std::string temporary_;  // empty once committed or moved from
};

Result<void> write_file_atomically(const std::string& path, const std::string& contents, mode_t mode);

}  // namespace iscsi::control
