#include "control/atomic_file.h"

#include <gtest/gtest.h>

#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>

using iscsi::control::ErrorKind;
using iscsi::control::StagedFile;
using iscsi::control::write_file_atomically;

namespace {

class AtomicFileTest : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/atomic-file-test-XXXXXX";
        ASSERT_NE(mkdtemp(pattern), nullptr);
        dir_ = pattern;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::string read(const std::string& path) {
        std::ifstream in(path);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }
    size_t entries() {
        return static_cast<size_t>(std::distance(std::filesystem::directory_iterator(dir_), {}));
    }
    std::string dir_;
};

TEST_F(AtomicFileTest, ReplacesContentsWithTheGivenMode) {
    auto path = dir_ + "/secrets.json";
    ASSERT_TRUE(write_file_atomically(path, "old", 0644));
    ASSERT_TRUE(write_file_atomically(path, "new", 0600));
    EXPECT_EQ(read(path), "new");
    struct stat info {};
    ASSERT_EQ(stat(path.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0600u) << "the secrets file is never readable by others";
    EXPECT_EQ(entries(), 1u) << "no temporary file is left";
}

TEST_F(AtomicFileTest, AStagedFileThatIsNotCommittedChangesNothing) {
    auto path = dir_ + "/config.json";
    ASSERT_TRUE(write_file_atomically(path, "kept", 0644));
    {
        auto staged = StagedFile::write(path, "discarded", 0644);
        ASSERT_TRUE(staged);
    }
    EXPECT_EQ(read(path), "kept");
    EXPECT_EQ(entries(), 1u);
}

TEST_F(AtomicFileTest, AMissingDirectoryIsAnIoErrorNamingThePath) {
    auto result = write_file_atomically(dir_ + "/missing/config.json", "x", 0644);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().kind, ErrorKind::Io);
    EXPECT_NE(result.error().message.find("missing/config.json"), std::string::npos) << result.error().message;
}

}  // namespace
