// The key=value text format of Login and Text PDUs (RFC 7143 s.6.1, s.5.1).
//
// A data segment is a sequence of "key=value\0" pairs. Keys are at most 63
// bytes of [A-Za-z0-9.-+@_] starting with a capital letter (plus the "X#"
// prefix of IANA-registered private keys); values are UTF-8, at most 255
// bytes, except the large-binary-values of the authentication methods
// (CHAP_C, CHAP_R, SRP_*, KRB_*, SPKM_*) which may use the whole 8192 bytes a
// negotiation must accept. A sequence may span PDUs with the C bit set
// (text continuation); TextAssembler collects it with a byte cap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

namespace iscsi {

inline constexpr size_t kMaxKeyLength = 63;
inline constexpr size_t kMaxValueLength = 255;
inline constexpr size_t kMaxLongValueLength = 8192;
// What every implementation must accept in one negotiation sequence (s.6.1).
inline constexpr size_t kMinTextSequenceCapacity = 8192;

struct KeyValue {
    std::string key;
    std::string value;
    bool operator==(const KeyValue&) const = default;
};
using TextPairs = std::vector<KeyValue>;

struct TextError {
    enum class Kind {
        MissingEquals,        // "key" without '='
        EmptyKey,             // "=value"
        KeyTooLong,           // more than 63 bytes
        InvalidKey,           // characters outside the key-name alphabet
        ValueTooLong,         // more than 255 (or 8192 for the long keys)
        InvalidUtf8,          // value is not well-formed UTF-8
        DuplicateKey,         // same key twice in one sequence
        NotTerminated,        // last pair lacks its NUL
        SequenceTooLong,      // continuation beyond the byte cap
    } kind = Kind::MissingEquals;
    std::string key;  // when known
    std::string message;
};
const char* to_string(TextError::Kind kind);

// Keys whose value may be a large-binary-value (up to 8192 bytes encoded).
bool is_long_value_key(std::string_view key);
bool is_valid_key_name(std::string_view key);
bool is_valid_utf8(std::string_view text);

// Parses one complete sequence (after continuation reassembly). Repeated
// keys are an error (s.6.2) except where a sender may legitimately repeat
// them, such as TargetName/TargetAddress in a SendTargets answer, which a
// reader of target responses allows with allow_repeated_keys.
tl::expected<TextPairs, TextError> parse_text(std::span<const uint8_t> data, bool allow_repeated_keys = false);
// Encodes pairs as "key=value\0..." (no validation: our own output).
std::vector<uint8_t> encode_text(const TextPairs& pairs);
void append_pair(std::vector<uint8_t>& out, std::string_view key, std::string_view value);

// Value forms (RFC 7143 s.5.1).
// numerical-value: decimal-constant (no leading zeros), hex-constant
// ("0x"/"0X"), or base64-constant ("0b"/"0B"); must fit in 64 bits.
std::optional<uint64_t> parse_numeric(std::string_view value);
// binary-value: hex-constant or base64-constant, returned as bytes. An odd
// number of hex digits has an implied leading zero.
tl::expected<std::vector<uint8_t>, std::string> parse_binary(std::string_view value);
std::string encode_hex(std::span<const uint8_t> bytes);     // "0x..." lower case
std::string encode_base64(std::span<const uint8_t> bytes);  // "0b..."
// A list-of-values: comma-separated, no empty elements.
std::optional<std::vector<std::string>> split_list(std::string_view value);

// Text continuation: collects the data segments of a C=1 ... C=0 sequence.
class TextAssembler {
public:
    explicit TextAssembler(size_t max_bytes) : max_bytes_(max_bytes) {}
    tl::expected<void, TextError> append(std::span<const uint8_t> segment);
    std::vector<uint8_t> take();
    bool empty() const { return buffer_.empty(); }
    size_t size() const { return buffer_.size(); }

private:
    size_t max_bytes_;
    std::vector<uint8_t> buffer_;
};

// Splits an outgoing text into data segments of at most max_segment bytes;
// every one but the last is sent with C=1. Pairs may straddle segments, as
// RFC 7143 s.6.1 allows. Always returns at least one (maybe empty) segment.
std::vector<std::vector<uint8_t>> split_segments(std::span<const uint8_t> text, size_t max_segment);

}  // namespace iscsi
