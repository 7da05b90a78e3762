#include "iscsi/chap.h"

#include <gtest/gtest.h>

using namespace iscsi;

namespace {
std::string hex(const std::vector<uint8_t>& bytes) { return encode_hex(bytes).substr(2); }
std::vector<uint8_t> text(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }
std::vector<uint8_t> sixteen() {
    std::vector<uint8_t> c(16);
    for (size_t i = 0; i < c.size(); ++i) c[i] = static_cast<uint8_t>(i);
    return c;
}
}  // namespace

// RFC 1321 appendix A.5 test suite.
TEST(Chap, md5_matches_rfc1321_vectors) {
    EXPECT_EQ(hex(*chap_digest(ChapAlgorithm::Md5, text(""))), "d41d8cd98f00b204e9800998ecf8427e");
    EXPECT_EQ(hex(*chap_digest(ChapAlgorithm::Md5, text("abc"))), "900150983cd24fb0d6963f7d28e17f72");
    EXPECT_EQ(hex(*chap_digest(ChapAlgorithm::Md5, text("message digest"))), "f96b697d7cb7938d525a2f31aaf161d0");
}

// FIPS 180-4 examples (one-block message "abc").
TEST(Chap, sha1_matches_fips180_vector) {
    EXPECT_EQ(hex(*chap_digest(ChapAlgorithm::Sha1, text("abc"))), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(Chap, sha256_matches_fips180_vector) {
    EXPECT_EQ(hex(*chap_digest(ChapAlgorithm::Sha256, text("abc"))),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// FIPS 202 examples (SHA3-256 of "abc" and of the empty message).
TEST(Chap, sha3_256_matches_fips202_vectors) {
    EXPECT_EQ(hex(*chap_digest(ChapAlgorithm::Sha3_256, text("abc"))),
              "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532");
    EXPECT_EQ(hex(*chap_digest(ChapAlgorithm::Sha3_256, text(""))),
              "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
}

// R = H(I || secret || C) with I = 0x2a, secret "0123456789abcdef",
// C = 00 01 .. 0f; expected values computed independently (Python hashlib).
TEST(Chap, response_is_digest_of_identifier_secret_challenge) {
    const auto c = sixteen();
    EXPECT_EQ(hex(*chap_response(ChapAlgorithm::Md5, 0x2a, "0123456789abcdef", c)),
              "0fbee2a235349701655e644832d106bf");
    EXPECT_EQ(hex(*chap_response(ChapAlgorithm::Sha1, 0x2a, "0123456789abcdef", c)),
              "5617a555f0045171364ed82310b9c08c4d48faeb");
    EXPECT_EQ(hex(*chap_response(ChapAlgorithm::Sha256, 0x2a, "0123456789abcdef", c)),
              "d8c3aedd13f3e0017b09becc2da9c74a6d001ab22424256ad456063e668f5d14");
    EXPECT_EQ(hex(*chap_response(ChapAlgorithm::Sha3_256, 0x2a, "0123456789abcdef", c)),
              "972a2f638a858f5d97206e79fdf525a79b427550f3b79af445c6664fea05b508");
}

TEST(Chap, digest_lengths) {
    EXPECT_EQ(digest_length(ChapAlgorithm::Md5), 16u);
    EXPECT_EQ(digest_length(ChapAlgorithm::Sha1), 20u);
    EXPECT_EQ(digest_length(ChapAlgorithm::Sha256), 32u);
    EXPECT_EQ(digest_length(ChapAlgorithm::Sha3_256), 32u);
    EXPECT_FALSE(chap_algorithm_from_code(9));
}

TEST(Chap, challenge_has_configured_length_and_is_random) {
    ChapAuthenticator a({5}, 24), b({5}, 24);
    auto pa = a.on_algorithms("5");
    auto pb = b.on_algorithms("5");
    ASSERT_TRUE(pa && pb);
    EXPECT_EQ(a.challenge().size(), 24u);
    EXPECT_NE(a.challenge(), b.challenge());
    EXPECT_EQ((*pa)[2].key, "CHAP_C");
    EXPECT_EQ((*pa)[2].value, encode_hex(a.challenge()));
}

TEST(Chap, picks_first_allowed_algorithm_of_initiator_list) {
    ChapAuthenticator a({8, 7, 6}, 16);
    auto pairs = a.on_algorithms("5,7,8");
    ASSERT_TRUE(pairs);
    EXPECT_EQ((*pairs)[0].value, "7");
    EXPECT_EQ(a.algorithm(), ChapAlgorithm::Sha256);
}

TEST(Chap, md5_can_be_switched_off) {
    ChapAuthenticator a({8, 7, 6}, 16);
    auto pairs = a.on_algorithms("5");
    ASSERT_FALSE(pairs);
    EXPECT_EQ(pairs.error().status, LoginStatus::AuthenticationFailure);
}

TEST(Chap, verify_accepts_correct_response_and_refuses_wrong_secret) {
    ChapAuthenticator a({5, 6, 7, 8}, 16);
    a.set_fixed_challenge_for_testing(0x2a, sixteen());
    ASSERT_TRUE(a.on_algorithms("6"));
    const auto r = *chap_response(ChapAlgorithm::Sha1, 0x2a, "0123456789abcdef", sixteen());
    EXPECT_TRUE(a.verify(encode_hex(r), "0123456789abcdef"));
    EXPECT_TRUE(a.verify(encode_base64(r), "0123456789abcdef"));
    EXPECT_FALSE(a.verify(encode_hex(r), "wrong-secret-123"));
}

TEST(Chap, verify_refuses_response_of_wrong_length) {
    ChapAuthenticator a({7}, 16);
    ASSERT_TRUE(a.on_algorithms("7"));
    std::vector<uint8_t> short_response(16, 0);
    auto result = a.verify(encode_hex(short_response), "secret");
    ASSERT_FALSE(result);
    EXPECT_NE(result.error().reason.find("16 bytes"), std::string::npos);
}

TEST(Chap, mutual_answers_initiator_challenge) {
    ChapAuthenticator a({5}, 16);
    ASSERT_TRUE(a.on_algorithms("5"));
    std::vector<uint8_t> their(16, 0x55);
    auto pairs = a.answer_challenge("9", encode_hex(their), "target-user", "target-secret-1");
    ASSERT_TRUE(pairs);
    EXPECT_EQ((*pairs)[0].value, "target-user");
    EXPECT_EQ((*pairs)[1].value, encode_hex(*chap_response(ChapAlgorithm::Md5, 9, "target-secret-1", their)));
}

TEST(Chap, mutual_refuses_reflected_challenge) {
    ChapAuthenticator a({5}, 16);
    ASSERT_TRUE(a.on_algorithms("5"));
    auto pairs = a.answer_challenge(std::to_string(a.identifier()), encode_hex(a.challenge()), "t", "s");
    ASSERT_FALSE(pairs);
    EXPECT_NE(pairs.error().reason.find("reflects"), std::string::npos);
}

TEST(Chap, mutual_refuses_bad_identifier_and_oversized_challenge) {
    ChapAuthenticator a({5}, 16);
    ASSERT_TRUE(a.on_algorithms("5"));
    EXPECT_FALSE(a.answer_challenge("256", "0x01", "t", "s"));
    EXPECT_FALSE(a.answer_challenge("1", encode_hex(std::vector<uint8_t>(1025, 1)), "t", "s"));
}

TEST(Chap, constant_time_equal_compares_lengths_and_bytes) {
    std::vector<uint8_t> a = {1, 2, 3}, b = {1, 2, 3}, c = {1, 2, 4}, d = {1, 2};
    EXPECT_TRUE(constant_time_equal(a, b));
    EXPECT_FALSE(constant_time_equal(a, c));
    EXPECT_FALSE(constant_time_equal(a, d));
}
