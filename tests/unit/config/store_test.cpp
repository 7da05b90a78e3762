#include "config/store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "config/json.h"
#include "sample.h"

using namespace iscsi::config;
namespace fs = std::filesystem;

namespace {

struct TempDir : ::testing::Test {
    fs::path dir;
    Files files;
    void SetUp() override {
        char name[] = "/tmp/config-store-XXXXXX";
        ASSERT_NE(::mkdtemp(name), nullptr);
        dir = name;
        files = {(dir / "config.json").string(), (dir / "secrets.json").string()};
    }
    void TearDown() override { fs::remove_all(dir); }
    void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }
};

}  // namespace

TEST_F(TempDir, LoadsValidFiles) {
    write(files.config_path, kSampleConfig);
    write(files.secrets_path, kSampleSecrets);
    auto loaded = load(files);
    ASSERT_TRUE(loaded) << loaded.error().to_string();
    EXPECT_EQ(loaded->config.targets.size(), 2u);
}

TEST_F(TempDir, MissingConfigNamesTheFile) {
    auto loaded = load(files);
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().file, files.config_path);
}

TEST_F(TempDir, MissingSecretsFileMeansNoSecrets) {
    write(files.config_path, R"({"targets":[]})");
    auto loaded = load(files);
    ASSERT_TRUE(loaded) << loaded.error().to_string();
    EXPECT_TRUE(loaded->secrets.chap.empty());
}

TEST_F(TempDir, ValidationErrorFromLoadNamesFileAndPath) {
    std::string text = kSampleConfig;
    text.replace(text.find("\"port\": 3261"), 12, "\"port\": 0");
    write(files.config_path, text);
    write(files.secrets_path, kSampleSecrets);
    auto loaded = load(files);
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().to_string(),
              files.config_path + ": targets[0].portal_groups[1].portals[0].port: port must be from 1 to 65535");
}

TEST_F(TempDir, SaveWritesSecretsWithMode0600AndRoundTrips) {
    auto config = *parse_config(kSampleConfig);
    auto secrets = *parse_secrets(kSampleSecrets);
    mode_t old = ::umask(0);
    auto saved = save(files, config, secrets);
    ::umask(old);
    ASSERT_TRUE(saved) << saved.error().to_string();
    struct stat st {};
    ASSERT_EQ(::stat(files.secrets_path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat(files.config_path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0644u);
    auto loaded = load(files);
    ASSERT_TRUE(loaded);
    EXPECT_EQ(to_json(loaded->config), to_json(config));
    EXPECT_EQ(loaded->secrets.chap, secrets.chap);
    // No temporary files are left behind.
    int entries = 0;
    for (auto& e : fs::directory_iterator(dir)) (void)e, ++entries;
    EXPECT_EQ(entries, 2);
}

TEST_F(TempDir, SaveOfInvalidConfigWritesNothing) {
    write(files.config_path, "old");
    auto config = *parse_config(kSampleConfig);
    config.targets[0].name = "bad";
    auto saved = save(files, config, *parse_secrets(kSampleSecrets));
    ASSERT_FALSE(saved);
    std::ifstream in(files.config_path);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(text, "old");
}

TEST_F(TempDir, AtomicWriteReplacesExistingFile) {
    write(files.config_path, "old contents");
    ASSERT_TRUE(write_file_atomically(files.config_path, "new", 0640));
    std::ifstream in(files.config_path);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(text, "new");
}

TEST_F(TempDir, AtomicWriteReportsUnwritableDirectory) {
    auto result = write_file_atomically((dir / "missing" / "x.json").string(), "x", 0600);
    ASSERT_FALSE(result);
    EXPECT_NE(result.error().message.find("cannot create"), std::string::npos);
}
