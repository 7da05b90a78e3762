// CHAP for iSCSI (RFC 7143 s.12.1.3, RFC 1994), target side.
//
//   I->T  AuthMethod=CHAP,...           (negotiated by the login)
//   I->T  CHAP_A=<A1,A2,...>            T->I  CHAP_A=<A> CHAP_I=<I> CHAP_C=<C>
//   I->T  CHAP_N=<N> CHAP_R=<R> [CHAP_I=<I'> CHAP_C=<C'>]
//                                       T->I  [CHAP_N=<N'> CHAP_R=<R'>]
// with R = H(I || secret || C). Algorithms: 5 MD5, 6 SHA-1, 7 SHA-256,
// 8 SHA3-256 (RFC 7143 s.12.1.3 and the IANA CHAP registry), computed with
// OpenSSL EVP. Challenges come from the OS RNG; responses are compared in
// constant time and must be exactly one digest long; a mutual challenge that
// reflects ours is refused (the reflection attack of RFC 7143 s.12.1.3).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "iscsi/status.h"
#include "iscsi/text.h"

namespace iscsi {

enum class ChapAlgorithm : uint8_t { Md5 = 5, Sha1 = 6, Sha256 = 7, Sha3_256 = 8 };
const char* to_string(ChapAlgorithm algorithm);
std::optional<ChapAlgorithm> chap_algorithm_from_code(uint64_t code);
size_t digest_length(ChapAlgorithm algorithm);

// H(data) with the algorithm's digest.
tl::expected<std::vector<uint8_t>, std::string> chap_digest(ChapAlgorithm algorithm, std::span<const uint8_t> data);
// H(identifier || secret || challenge) (RFC 1994 s.4.1).
tl::expected<std::vector<uint8_t>, std::string> chap_response(ChapAlgorithm algorithm, uint8_t identifier,
                                                              std::string_view secret,
                                                              std::span<const uint8_t> challenge);
// From the OS RNG (OpenSSL's RAND_bytes, seeded by getrandom).
tl::expected<std::vector<uint8_t>, std::string> random_bytes(size_t count);
bool constant_time_equal(std::span<const uint8_t> a, std::span<const uint8_t> b);

// Largest binary length of CHAP_C/CHAP_R (RFC 7143 s.12.1.3: 1024 bytes).
inline constexpr size_t kMaxChapBinaryLength = 1024;
inline constexpr size_t kMinChapChallengeLength = 16;

struct ChapFailure {
    LoginStatus status = LoginStatus::AuthenticationFailure;
    std::string reason;
};

// The target's side of one CHAP exchange on one connection.
class ChapAuthenticator {
public:
    // allowed: CHAP_A codes the target accepts (config::Security); unknown
    // codes are ignored. challenge_length in bytes, clamped to 16..1024.
    ChapAuthenticator(std::vector<uint8_t> allowed, size_t challenge_length);

    // I->T CHAP_A: picks the first algorithm of the initiator's list that is
    // allowed (list negotiation, RFC 7143 s.6.2.1) and returns CHAP_A,
    // CHAP_I, CHAP_C for the response.
    tl::expected<TextPairs, ChapFailure> on_algorithms(std::string_view chap_a);

    // I->T CHAP_R: verifies it against the secret of the user the login
    // expects (CHAP_N is checked by the caller).
    tl::expected<void, ChapFailure> verify(std::string_view chap_r, std::string_view secret) const;

    // Mutual CHAP: the initiator's CHAP_I and CHAP_C, answered with the
    // target's user name and CHAP_R.
    tl::expected<TextPairs, ChapFailure> answer_challenge(std::string_view chap_i, std::string_view chap_c,
                                                          std::string_view target_user,
                                                          std::string_view target_secret) const;

    bool challenged() const { return algorithm_.has_value(); }
    std::optional<ChapAlgorithm> algorithm() const { return algorithm_; }
    uint8_t identifier() const { return identifier_; }
    const std::vector<uint8_t>& challenge() const { return challenge_; }

    // For tests only: a fixed identifier and challenge instead of random ones.
    void set_fixed_challenge_for_testing(uint8_t identifier, std::vector<uint8_t> challenge);

private:
    std::vector<uint8_t> allowed_;
    size_t challenge_length_;
    std::optional<ChapAlgorithm> algorithm_;
    uint8_t identifier_ = 0;
    std::vector<uint8_t> challenge_;
    std::optional<std::pair<uint8_t, std::vector<uint8_t>>> fixed_;
};

}  // namespace iscsi
