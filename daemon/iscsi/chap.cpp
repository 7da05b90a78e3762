#include "iscsi/chap.h"

#include <algorithm>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace iscsi {

const char* to_string(ChapAlgorithm algorithm) {
    switch (algorithm) {
        case ChapAlgorithm::Md5: return "MD5";
        case ChapAlgorithm::Sha1: return "SHA-1";
        case ChapAlgorithm::Sha256: return "SHA-256";
        case ChapAlgorithm::Sha3_256: return "SHA3-256";
    }
    return "unknown CHAP algorithm";
}

std::optional<ChapAlgorithm> chap_algorithm_from_code(uint64_t code) {
    switch (code) {
        case 5: return ChapAlgorithm::Md5;
        case 6: return ChapAlgorithm::Sha1;
        case 7: return ChapAlgorithm::Sha256;
        case 8: return ChapAlgorithm::Sha3_256;
        default: return std::nullopt;
    }
}

size_t digest_length(ChapAlgorithm algorithm) {
    switch (algorithm) {
        case ChapAlgorithm::Md5: return 16;
        case ChapAlgorithm::Sha1: return 20;
        case ChapAlgorithm::Sha256: return 32;
        case ChapAlgorithm::Sha3_256: return 32;
    }
    return 0;
}

namespace {
const EVP_MD* evp_of(ChapAlgorithm algorithm) {
    switch (algorithm) {
        case ChapAlgorithm::Md5: return EVP_md5();
        case ChapAlgorithm::Sha1: return EVP_sha1();
        case ChapAlgorithm::Sha256: return EVP_sha256();
        case ChapAlgorithm::Sha3_256: return EVP_sha3_256();
    }
    return nullptr;
}
}  // namespace

tl::expected<std::vector<uint8_t>, std::string> chap_digest(ChapAlgorithm algorithm, std::span<const uint8_t> data) {
    const EVP_MD* md = evp_of(algorithm);
    if (md == nullptr) return tl::make_unexpected(std::string("no digest for ") + to_string(algorithm));
    std::vector<uint8_t> out(EVP_MAX_MD_SIZE);
    unsigned int length = 0;
    // EVP_Digest fails, for example, for MD5 under a FIPS-only provider.
    if (EVP_Digest(data.data(), data.size(), out.data(), &length, md, nullptr) != 1) {
        return tl::make_unexpected(std::string("OpenSSL could not compute ") + to_string(algorithm));
    }
    out.resize(length);
    return out;
}

tl::expected<std::vector<uint8_t>, std::string> chap_response(ChapAlgorithm algorithm, uint8_t identifier,
                                                              std::string_view secret,
                                                              std::span<const uint8_t> challenge) {
    std::vector<uint8_t> input;
    input.reserve(1 + secret.size() + challenge.size());
    input.push_back(identifier);
    input.insert(input.end(), secret.begin(), secret.end());
    input.insert(input.end(), challenge.begin(), challenge.end());
    auto result = chap_digest(algorithm, input);
    OPENSSL_cleanse(input.data(), input.size());
    return result;
}

tl::expected<std::vector<uint8_t>, std::string> random_bytes(size_t count) {
    std::vector<uint8_t> out(count);
    if (count > 0 && RAND_bytes(out.data(), static_cast<int>(count)) != 1) {
        return tl::make_unexpected(std::string("the OS random number generator failed"));
    }
    return out;
}

bool constant_time_equal(std::span<const uint8_t> a, std::span<const uint8_t> b) {
    if (a.size() != b.size()) return false;
    if (a.empty()) return true;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

ChapAuthenticator::ChapAuthenticator(std::vector<uint8_t> allowed, size_t challenge_length)
    : allowed_(std::move(allowed)),
      challenge_length_(std::clamp(challenge_length, kMinChapChallengeLength, kMaxChapBinaryLength)) {}

void ChapAuthenticator::set_fixed_challenge_for_testing(uint8_t identifier, std::vector<uint8_t> challenge) {
    fixed_ = std::make_pair(identifier, std::move(challenge));
}

tl::expected<TextPairs, ChapFailure> ChapAuthenticator::on_algorithms(std::string_view chap_a) {
    const auto items = split_list(chap_a);
    if (!items) return tl::make_unexpected(ChapFailure{LoginStatus::AuthenticationFailure, "CHAP_A is not a list"});
    for (const auto& item : *items) {
        const auto code = parse_numeric(item);
        if (!code) continue;
        const auto algorithm = chap_algorithm_from_code(*code);
        if (!algorithm) continue;
        if (std::find(allowed_.begin(), allowed_.end(), static_cast<uint8_t>(*code)) == allowed_.end()) continue;
        if (fixed_) {
            identifier_ = fixed_->first;
            challenge_ = fixed_->second;
        } else {
            auto id = random_bytes(1);
            auto challenge = random_bytes(challenge_length_);
            if (!id || !challenge) {
                return tl::make_unexpected(ChapFailure{LoginStatus::TargetError, "cannot draw a CHAP challenge: " +
                                                                                     (id ? challenge.error() : id.error())});
            }
            identifier_ = (*id)[0];
            challenge_ = std::move(*challenge);
        }
        algorithm_ = *algorithm;
        return TextPairs{{"CHAP_A", std::to_string(*code)},
                         {"CHAP_I", std::to_string(identifier_)},
                         {"CHAP_C", encode_hex(challenge_)}};
    }
    std::string allowed;
    for (uint8_t code : allowed_) allowed += (allowed.empty() ? "" : ",") + std::to_string(code);
    return tl::make_unexpected(ChapFailure{LoginStatus::AuthenticationFailure,
                                           "no CHAP algorithm of CHAP_A=" + std::string(chap_a) +
                                               " is allowed (allowed: " + allowed + ")"});
}

tl::expected<void, ChapFailure> ChapAuthenticator::verify(std::string_view chap_r, std::string_view secret) const {
    if (!algorithm_) return tl::make_unexpected(ChapFailure{LoginStatus::AuthenticationFailure, "CHAP_R before CHAP_A"});
    auto response = parse_binary(chap_r);
    if (!response) {
        return tl::make_unexpected(ChapFailure{LoginStatus::AuthenticationFailure, "CHAP_R: " + response.error()});
    }
    const size_t expected_length = digest_length(*algorithm_);
    if (response->size() != expected_length) {
        return tl::make_unexpected(ChapFailure{
            LoginStatus::AuthenticationFailure,
            "CHAP_R is " + std::to_string(response->size()) + " bytes, a " + to_string(*algorithm_) + " response is " +
                std::to_string(expected_length) + " (RFC 7143 s.12.1.3)"});
    }
    auto expected = chap_response(*algorithm_, identifier_, secret, challenge_);
    if (!expected) return tl::make_unexpected(ChapFailure{LoginStatus::TargetError, expected.error()});
    if (!constant_time_equal(*response, *expected)) {
        return tl::make_unexpected(ChapFailure{LoginStatus::AuthenticationFailure, "CHAP_R does not match the secret"});
    }
    return {};
}

tl::expected<TextPairs, ChapFailure> ChapAuthenticator::answer_challenge(std::string_view chap_i,
                                                                         std::string_view chap_c,
                                                                         std::string_view target_user,
                                                                         std::string_view target_secret) const {
    if (!algorithm_) return tl::make_unexpected(ChapFailure{LoginStatus::AuthenticationFailure, "CHAP_C before CHAP_A"});
    const auto identifier = parse_numeric(chap_i);
    if (!identifier || *identifier > 255) {
        return tl::make_unexpected(ChapFailure{LoginStatus::AuthenticationFailure,
                                               "CHAP_I=" + std::string(chap_i) + " is not 0..255"});
    }
    auto challenge = parse_binary(chap_c);
    if (!challenge) {
        return tl::make_unexpected(ChapFailure{LoginStatus::AuthenticationFailure, "CHAP_C: " + challenge.error()});
    }
    if (challenge->empty() || challenge->size() > kMaxChapBinaryLength) {
        return tl::make_unexpected(ChapFailure{LoginStatus::AuthenticationFailure,
                                               "CHAP_C of " + std::to_string(challenge->size()) +
                                                   " bytes (1..1024, RFC 7143 s.12.1.3)"});
    }
    // RFC 7143 s.12.1.3: a target receiving the challenge it sent must not
    // answer it, or it would compute the initiator's response for it.
    if (constant_time_equal(*challenge, challenge_)) {
        return tl::make_unexpected(ChapFailure{LoginStatus::AuthenticationFailure,
                                               "the initiator's CHAP_C reflects the target's challenge"});
    }
    auto response = chap_response(*algorithm_, static_cast<uint8_t>(*identifier), target_secret, *challenge);
    if (!response) return tl::make_unexpected(ChapFailure{LoginStatus::TargetError, response.error()});
    return TextPairs{{"CHAP_N", std::string(target_user)}, {"CHAP_R", encode_hex(*response)}};
}

}  // namespace iscsi
