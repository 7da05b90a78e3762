#include "dbus/client/json_text.h"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "dbus/client/client.h"
#include "dbus/sd_bus_ptr.h"

using namespace iscsi::dbus;

namespace {

// A bus that is never connected to anything: enough to build messages and
// read them back after sealing (sd-bus refuses messages on an unset bus).
class OfflineBus : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds_), 0);
        sd_bus* raw = nullptr;
        ASSERT_GE(sd_bus_new(&raw), 0);
        bus_.reset(raw);
        ASSERT_GE(sd_bus_set_fd(bus_.get(), fds_[0], fds_[0]), 0);
        ASSERT_GE(sd_bus_start(bus_.get()), 0);
    }
    void TearDown() override { close(fds_[1]); }

    // A sealed message holding what build appended, rewound for reading.
    MessagePtr message(const std::function<int(sd_bus_message*)>& build) {
        sd_bus_message* raw = nullptr;
        EXPECT_GE(sd_bus_message_new_method_call(bus_.get(), &raw, "a.b", "/a", "a.b", "M"), 0);
        MessagePtr m(raw);
        EXPECT_GE(build(m.get()), 0);
        EXPECT_GE(sd_bus_message_seal(m.get(), 1, 0), 0);
        EXPECT_GE(sd_bus_message_rewind(m.get(), 1), 0);
        return m;
    }

    static std::string arguments(sd_bus_message* m) {
        std::string text;
        EXPECT_GE(client::append_arguments_json(m, text), 0);
        return text;
    }

    int fds_[2] = {-1, -1};
    BusPtr bus_;
};

TEST_F(OfflineBus, DictionariesBecomeObjectsInMessageOrderWithTheLayoutOfDump2) {
    auto m = message([](sd_bus_message* msg) {
        return sd_bus_message_append(msg, "a{sv}u", 3, "Tsih", "q", 7, "Name", "s", "iqn.x", "Ok", "b", 1, 42u);
    });
    EXPECT_EQ(arguments(m.get()), "[\n  {\n    \"Tsih\": 7,\n    \"Name\": \"iqn.x\",\n    \"Ok\": true\n  },\n  42\n]");
}

TEST_F(OfflineBus, EmptyContainersAreWrittenOnOneLine) {
    auto m = message([](sd_bus_message* msg) { return sd_bus_message_append(msg, "a{sv}asa(uub)", 0, 0, 0); });
    EXPECT_EQ(arguments(m.get()), "[\n  {},\n  [],\n  []\n]");
}

TEST_F(OfflineBus, StringsAreEscapedAsRfc8259SaysAndParseBack) {
    const char* nasty = "quote\" back\\ nl\n tab\t bell\x07 utf8 \xc3\xa9";
    auto m = message([&](sd_bus_message* msg) { return sd_bus_message_append(msg, "s", nasty); });
    std::string text = arguments(m.get());
    EXPECT_NE(text.find("\\u0007"), std::string::npos) << text;
    EXPECT_EQ(nlohmann::json::parse(text)[0].get<std::string>(), nasty);
}

TEST_F(OfflineBus, NumbersKeepTheirRangeAndNonStringKeysAreQuoted) {
    auto m = message([](sd_bus_message* msg) {
        return sd_bus_message_append(msg, "txa{us}(yn)", UINT64_MAX, INT64_MIN, 1, 5u, "five", 255, -2);
    });
    auto parsed = nlohmann::json::parse(arguments(m.get()));
    EXPECT_EQ(parsed[0].get<uint64_t>(), UINT64_MAX);
    EXPECT_EQ(parsed[1].get<int64_t>(), INT64_MIN);
    EXPECT_EQ(parsed[2]["5"], "five");
    EXPECT_EQ(parsed[3], nlohmann::json::array({255, -2}));
}

TEST_F(OfflineBus, VariantsInsideArraysOfDictionariesAreUnwrapped) {
    auto m = message([](sd_bus_message* msg) {
        int r = sd_bus_message_open_container(msg, 'a', "a{sv}");
        for (int i = 0; i < 2 && r >= 0; ++i) r = sd_bus_message_append(msg, "a{sv}", 1, "Cid", "q", i + 1);
        return r < 0 ? r : sd_bus_message_close_container(msg);
    });
    auto parsed = nlohmann::json::parse(arguments(m.get()));
    EXPECT_EQ(parsed[0][1]["Cid"], 2);
}

TEST_F(OfflineBus, MessageToJsonAgreesWithTheText) {
    auto m = message([](sd_bus_message* msg) { return sd_bus_message_append(msg, "sa{sv}", "x", 1, "A", "u", 9u); });
    nlohmann::json tree;
    ASSERT_EQ(client::message_to_json(m.get(), tree), 0);
    EXPECT_EQ(tree, nlohmann::json::parse(R"(["x", {"A": 9}])"));
}

TEST_F(OfflineBus, WriteArgumentJsonStreamsTheFirstArgumentWithANewline) {
    std::string big(100'000, 'x');  // more than one 64 KiB piece
    auto m = message([&](sd_bus_message* msg) { return sd_bus_message_append(msg, "ass", 2, big.c_str(), "y", "z"); });
    char* buffer = nullptr;
    size_t size = 0;
    FILE* file = open_memstream(&buffer, &size);
    ASSERT_NE(file, nullptr);
    ASSERT_EQ(client::write_argument_json(m.get(), file), 0);
    std::fclose(file);
    std::string text(buffer, size);
    free(buffer);
    ASSERT_EQ(text.back(), '\n');
    EXPECT_EQ(nlohmann::json::parse(text), nlohmann::json::array({big, "y"}));
}

}  // namespace
