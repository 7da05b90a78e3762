#include "iscsi/text.h"

#include <gtest/gtest.h>

using namespace iscsi;

namespace {
std::vector<uint8_t> bytes(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }
}  // namespace

TEST(Text, parses_nul_separated_pairs) {
    auto pairs = parse_text(bytes(std::string("InitiatorName=iqn.x\0SessionType=Normal\0", 39)));
    ASSERT_TRUE(pairs);
    ASSERT_EQ(pairs->size(), 2u);
    EXPECT_EQ((*pairs)[0].key, "InitiatorName");
    EXPECT_EQ((*pairs)[1].value, "Normal");
}

TEST(Text, empty_value_is_allowed) {
    auto pairs = parse_text(bytes(std::string("SendTargets=\0", 13)));
    ASSERT_TRUE(pairs);
    EXPECT_EQ((*pairs)[0].value, "");
}

TEST(Text, key_without_equals_is_an_error) {
    auto pairs = parse_text(bytes(std::string("AuthMethod\0", 11)));
    ASSERT_FALSE(pairs);
    EXPECT_EQ(pairs.error().kind, TextError::Kind::MissingEquals);
}

TEST(Text, duplicate_key_is_an_error) {
    auto pairs = parse_text(bytes(std::string("MaxBurstLength=512\0MaxBurstLength=1024\0", 39)));
    ASSERT_FALSE(pairs);
    EXPECT_EQ(pairs.error().kind, TextError::Kind::DuplicateKey);
    EXPECT_EQ(pairs.error().key, "MaxBurstLength");
}

TEST(Text, missing_terminator_is_an_error) {
    auto pairs = parse_text(bytes("AuthMethod=None"));
    ASSERT_FALSE(pairs);
    EXPECT_EQ(pairs.error().kind, TextError::Kind::NotTerminated);
}

TEST(Text, key_longer_than_63_bytes_is_an_error) {
    std::string text = std::string(64, 'K') + "=1";
    text.push_back('\0');
    auto pairs = parse_text(bytes(text));
    ASSERT_FALSE(pairs);
    EXPECT_EQ(pairs.error().kind, TextError::Kind::KeyTooLong);
    text = std::string(63, 'K') + "=1";
    text.push_back('\0');
    EXPECT_TRUE(parse_text(bytes(text)));
}

TEST(Text, invalid_key_characters_are_an_error) {
    auto pairs = parse_text(bytes(std::string("bad key=1\0", 10)));
    ASSERT_FALSE(pairs);
    EXPECT_EQ(pairs.error().kind, TextError::Kind::InvalidKey);
    EXPECT_TRUE(is_valid_key_name("X#org.example.key"));
    EXPECT_TRUE(is_valid_key_name("X-com.example.Key_1"));
    EXPECT_FALSE(is_valid_key_name("lowercase"));
}

TEST(Text, value_limit_is_255_except_long_keys_8192) {
    std::string text = "TargetAlias=" + std::string(256, 'a');
    text.push_back('\0');
    auto pairs = parse_text(bytes(text));
    ASSERT_FALSE(pairs);
    EXPECT_EQ(pairs.error().kind, TextError::Kind::ValueTooLong);
    std::string chap = "CHAP_C=0x" + std::string(2048, 'a');
    chap.push_back('\0');
    EXPECT_TRUE(parse_text(bytes(chap)));
    std::string too_long = "CHAP_R=0x" + std::string(8192, 'a');
    too_long.push_back('\0');
    EXPECT_FALSE(parse_text(bytes(too_long)));
}

TEST(Text, invalid_utf8_is_an_error) {
    std::string text = "InitiatorAlias=\xc3\x28";
    text.push_back('\0');
    auto pairs = parse_text(bytes(text));
    ASSERT_FALSE(pairs);
    EXPECT_EQ(pairs.error().kind, TextError::Kind::InvalidUtf8);
    EXPECT_TRUE(is_valid_utf8("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"));
    EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
    EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate
    EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // beyond U+10FFFF
    EXPECT_FALSE(is_valid_utf8("\xe2\x82"));          // truncated
}

TEST(Text, numeric_values_decimal_hex_base64) {
    EXPECT_EQ(parse_numeric("8192"), 8192u);
    EXPECT_EQ(parse_numeric("0"), 0u);
    EXPECT_EQ(parse_numeric("0x2000"), 8192u);
    EXPECT_EQ(parse_numeric("0X2000"), 8192u);
    EXPECT_EQ(parse_numeric("0bIAA="), 8192u);  // base64 of 0x20 0x00
    EXPECT_EQ(parse_numeric("18446744073709551615"), UINT64_MAX);
    EXPECT_FALSE(parse_numeric("18446744073709551616"));
    EXPECT_FALSE(parse_numeric("012"));  // no leading zeros in decimal-constant
    EXPECT_FALSE(parse_numeric(""));
    EXPECT_FALSE(parse_numeric("12a"));
    EXPECT_FALSE(parse_numeric("0x"));
    EXPECT_FALSE(parse_numeric("0x010000000000000000"));
    EXPECT_EQ(parse_numeric("0x0000000000000000ff"), 255u);
}

TEST(Text, binary_values_hex_and_base64_any_length) {
    auto hex = parse_binary("0x0102abCD");
    ASSERT_TRUE(hex);
    EXPECT_EQ(*hex, (std::vector<uint8_t>{1, 2, 0xab, 0xcd}));
    auto odd = parse_binary("0xabc");
    ASSERT_TRUE(odd);
    EXPECT_EQ(*odd, (std::vector<uint8_t>{0x0a, 0xbc}));
    auto b64 = parse_binary("0bAQID");
    ASSERT_TRUE(b64);
    EXPECT_EQ(*b64, (std::vector<uint8_t>{1, 2, 3}));
    EXPECT_FALSE(parse_binary("0bAQI"));    // not a multiple of 4
    EXPECT_FALSE(parse_binary("0bA=QI"));   // misplaced padding
    EXPECT_FALSE(parse_binary("0xzz"));
    EXPECT_FALSE(parse_binary("1234"));
    std::vector<uint8_t> data(300);
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7);
    EXPECT_EQ(*parse_binary(encode_hex(data)), data);
    EXPECT_EQ(*parse_binary(encode_base64(data)), data);
    std::vector<uint8_t> two = {0xff, 0xee};
    EXPECT_EQ(encode_base64(two), "0b/+4=");
}

TEST(Text, list_values_split_on_commas) {
    auto list = split_list("CRC32C,None");
    ASSERT_TRUE(list);
    EXPECT_EQ(*list, (std::vector<std::string>{"CRC32C", "None"}));
    EXPECT_FALSE(split_list("CRC32C,,None"));
    EXPECT_FALSE(split_list(""));
    EXPECT_FALSE(split_list("None,"));
}

TEST(Text, encode_round_trips) {
    TextPairs pairs = {{"A", "1"}, {"TargetAddress", "[::1]:3260,1"}};
    auto parsed = parse_text(encode_text(pairs));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(*parsed, pairs);
}

TEST(Text, continuation_reassembly_with_byte_cap) {
    TextAssembler assembler(20);
    EXPECT_TRUE(assembler.append(bytes("MaxBurst")));
    EXPECT_TRUE(assembler.append(bytes(std::string("Length=1\0", 9))));
    auto pairs = parse_text(assembler.take());
    ASSERT_TRUE(pairs);
    EXPECT_EQ((*pairs)[0].key, "MaxBurstLength");
    EXPECT_TRUE(assembler.empty());
    EXPECT_TRUE(assembler.append(bytes("0123456789")));
    EXPECT_TRUE(assembler.append(bytes("0123456789")));  // exactly the cap
    auto over = assembler.append(bytes("0"));
    ASSERT_FALSE(over);
    EXPECT_EQ(over.error().kind, TextError::Kind::SequenceTooLong);
}

TEST(Text, split_segments_cuts_at_the_limit) {
    std::vector<uint8_t> text(10, 'a');
    auto segments = split_segments(text, 4);
    ASSERT_EQ(segments.size(), 3u);
    EXPECT_EQ(segments[0].size(), 4u);
    EXPECT_EQ(segments[2].size(), 2u);
    EXPECT_EQ(split_segments({}, 4).size(), 1u);
}
