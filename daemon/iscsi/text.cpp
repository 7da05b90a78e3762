#include "iscsi/text.h"

#include <algorithm>
#include <array>
#include <set>

namespace iscsi {

const char* to_string(TextError::Kind kind) {
    switch (kind) {
        case TextError::Kind::MissingEquals: return "key without '='";
        case TextError::Kind::EmptyKey: return "empty key";
        case TextError::Kind::KeyTooLong: return "key longer than 63 bytes";
        case TextError::Kind::InvalidKey: return "invalid key name";
        case TextError::Kind::ValueTooLong: return "value too long";
        case TextError::Kind::InvalidUtf8: return "value is not valid UTF-8";
        case TextError::Kind::DuplicateKey: return "duplicate key";
        case TextError::Kind::NotTerminated: return "key=value not NUL-terminated";
        case TextError::Kind::SequenceTooLong: return "text sequence too long";
    }
    return "unknown text error";
}

bool is_long_value_key(std::string_view key) {
    static constexpr std::array<std::string_view, 13> long_keys = {
        "CHAP_C", "CHAP_R", "SRP_s", "SRP_A", "SRP_B", "SRP_M", "SRP_HM", "KRB_AP_REQ", "KRB_AP_REP",
        "SPKM_REQ", "SPKM_ERROR", "SPKM_REP_TI", "SPKM_REP_IT"};
    return std::find(long_keys.begin(), long_keys.end(), key) != long_keys.end();
}

bool is_valid_key_name(std::string_view key) {
    if (key.empty() || key.size() > kMaxKeyLength) return false;
    if (key[0] < 'A' || key[0] > 'Z') return false;
    for (size_t i = 1; i < key.size(); ++i) {
        const char c = key[i];
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                        c == '-' || c == '+' || c == '@' || c == '_' ||
                        (c == '#' && i == 1 && key[0] == 'X');  // "X#..." (s.13.5.2)
        if (!ok) return false;
    }
    return true;
}

bool is_valid_utf8(std::string_view text) {
    size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        size_t extra;
        uint32_t code;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            extra = 1;
            code = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            extra = 2;
            code = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            extra = 3;
            code = c & 0x07;
        } else {
            return false;
        }
        if (i + extra >= text.size()) return false;  // truncated sequence
        for (size_t k = 1; k <= extra; ++k) {
            const auto cc = static_cast<unsigned char>(text[i + k]);
            if ((cc & 0xc0) != 0x80) return false;
            code = (code << 6) | (cc & 0x3f);
        }
        // Overlong forms, surrogates and values beyond U+10FFFF are invalid.
        static constexpr uint32_t min_for_length[4] = {0, 0x80, 0x800, 0x10000};
        if (code < min_for_length[extra] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return false;
        i += extra + 1;
    }
    return true;
}

tl::expected<TextPairs, TextError> parse_text(std::span<const uint8_t> data, bool allow_repeated_keys) {
    TextPairs pairs;
    std::set<std::string, std::less<>> seen;
    size_t pos = 0;
    while (pos < data.size()) {
        const auto nul = std::find(data.begin() + static_cast<std::ptrdiff_t>(pos), data.end(), uint8_t{0});
        if (nul == data.end()) {
            return tl::make_unexpected(
                TextError{TextError::Kind::NotTerminated, {}, "the last key=value pair has no terminating NUL"});
        }
        const size_t end = static_cast<size_t>(nul - data.begin());
        const std::string_view pair(reinterpret_cast<const char*>(data.data()) + pos, end - pos);
        pos = end + 1;
        if (pair.empty()) continue;  // stray NULs carry nothing
        const size_t eq = pair.find('=');
        if (eq == std::string_view::npos) {
            const std::string shown(pair.substr(0, std::min<size_t>(pair.size(), kMaxKeyLength)));
            return tl::make_unexpected(TextError{TextError::Kind::MissingEquals, shown, "\"" + shown + "\" has no '='"});
        }
        const std::string_view key = pair.substr(0, eq);
        const std::string_view value = pair.substr(eq + 1);
        if (key.empty()) return tl::make_unexpected(TextError{TextError::Kind::EmptyKey, {}, "a pair starts with '='"});
        if (key.size() > kMaxKeyLength) {
            return tl::make_unexpected(TextError{TextError::Kind::KeyTooLong, std::string(key.substr(0, kMaxKeyLength)),
                                                 "key of " + std::to_string(key.size()) + " bytes (limit 63)"});
        }
        if (!is_valid_key_name(key)) {
            return tl::make_unexpected(TextError{TextError::Kind::InvalidKey, std::string(key),
                                                 "key \"" + std::string(key) + "\" is not a valid key name"});
        }
        const size_t limit = is_long_value_key(key) ? kMaxLongValueLength : kMaxValueLength;
        if (value.size() > limit) {
            return tl::make_unexpected(TextError{TextError::Kind::ValueTooLong, std::string(key),
                                                 "value of " + std::string(key) + " is " + std::to_string(value.size()) +
                                                     " bytes (limit " + std::to_string(limit) + ")"});
        }
        if (!is_valid_utf8(value)) {
            return tl::make_unexpected(TextError{TextError::Kind::InvalidUtf8, std::string(key),
                                                 "value of " + std::string(key) + " is not valid UTF-8"});
        }
        // s.6.2: a key is declared or negotiated at most once per sequence.
        if (!seen.emplace(key).second && !allow_repeated_keys) {
            return tl::make_unexpected(TextError{TextError::Kind::DuplicateKey, std::string(key),
                                                 "key " + std::string(key) + " appears twice"});
        }
        pairs.push_back({std::string(key), std::string(value)});
    }
    return pairs;
}

void append_pair(std::vector<uint8_t>& out, std::string_view key, std::string_view value) {
    out.insert(out.end(), key.begin(), key.end());
    out.push_back('=');
    out.insert(out.end(), value.begin(), value.end());
    out.push_back(0);
}

std::vector<uint8_t> encode_text(const TextPairs& pairs) {
    std::vector<uint8_t> out;
    for (const auto& kv : pairs) append_pair(out, kv.key, kv.value);
    return out;
}

namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int base64_digit(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

tl::expected<std::vector<uint8_t>, std::string> decode_hex(std::string_view digits) {
    if (digits.empty()) return tl::make_unexpected(std::string("hex constant without digits"));
    std::vector<uint8_t> out;
    out.reserve(digits.size() / 2 + 1);
    size_t i = 0;
    if (digits.size() % 2 == 1) {
        const int d = hex_digit(digits[0]);
        if (d < 0) return tl::make_unexpected(std::string("invalid hex digit"));
        out.push_back(static_cast<uint8_t>(d));
        i = 1;
    }
    for (; i < digits.size(); i += 2) {
        const int hi = hex_digit(digits[i]);
        const int lo = hex_digit(digits[i + 1]);
        if (hi < 0 || lo < 0) return tl::make_unexpected(std::string("invalid hex digit"));
        out.push_back(static_cast<uint8_t>((hi << 4) | lo));
    }
    return out;
}

// RFC 4648 base64 with padding, as RFC 7143 s.5.1 requires.
tl::expected<std::vector<uint8_t>, std::string> decode_base64(std::string_view digits) {
    if (digits.empty() || digits.size() % 4 != 0) {
        return tl::make_unexpected(std::string("base64 constant length is not a multiple of 4"));
    }
    std::vector<uint8_t> out;
    out.reserve(digits.size() / 4 * 3);
    for (size_t i = 0; i < digits.size(); i += 4) {
        int v[4];
        int padding = 0;
        for (int k = 0; k < 4; ++k) {
            const char c = digits[i + static_cast<size_t>(k)];
            if (c == '=') {
                // Padding only at the very end, at most two characters.
                if (i + 4 != digits.size() || k < 2) return tl::make_unexpected(std::string("misplaced base64 padding"));
                v[k] = 0;
                ++padding;
            } else {
                if (padding) return tl::make_unexpected(std::string("misplaced base64 padding"));
                v[k] = base64_digit(c);
                if (v[k] < 0) return tl::make_unexpected(std::string("invalid base64 character"));
            }
        }
        const uint32_t group = (uint32_t(v[0]) << 18) | (uint32_t(v[1]) << 12) | (uint32_t(v[2]) << 6) | uint32_t(v[3]);
        out.push_back(static_cast<uint8_t>(group >> 16));
        if (padding < 2) out.push_back(static_cast<uint8_t>(group >> 8));
        if (padding < 1) out.push_back(static_cast<uint8_t>(group));
    }
    return out;
}

}  // namespace

tl::expected<std::vector<uint8_t>, std::string> parse_binary(std::string_view value) {
    if (value.size() >= 2 && value[0] == '0' && (value[1] == 'x' || value[1] == 'X')) return decode_hex(value.substr(2));
    if (value.size() >= 2 && value[0] == '0' && (value[1] == 'b' || value[1] == 'B')) {
        return decode_base64(value.substr(2));
    }
    return tl::make_unexpected(std::string("binary value must start with 0x (hex) or 0b (base64)"));
}

std::optional<uint64_t> parse_numeric(std::string_view value) {
    if (value.empty()) return std::nullopt;
    if (value.size() >= 2 && value[0] == '0' &&
        (value[1] == 'x' || value[1] == 'X' || value[1] == 'b' || value[1] == 'B')) {
        auto bytes = parse_binary(value);
        if (!bytes) return std::nullopt;
        // Leading zero bytes do not count against the 64-bit limit.
        auto first = std::find_if(bytes->begin(), bytes->end(), [](uint8_t b) { return b != 0; });
        if (bytes->end() - first > 8) return std::nullopt;
        uint64_t result = 0;
        for (auto it = first; it != bytes->end(); ++it) result = (result << 8) | *it;
        return result;
    }
    if (value.size() > 1 && value[0] == '0') return std::nullopt;  // decimal-constant has no leading zeros
    uint64_t result = 0;
    for (char c : value) {
        if (c < '0' || c > '9') return std::nullopt;
        const uint64_t digit = static_cast<uint64_t>(c - '0');
        if (result > (UINT64_MAX - digit) / 10) return std::nullopt;
        result = result * 10 + digit;
    }
    return result;
}

std::string encode_hex(std::span<const uint8_t> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out = "0x";
    out.reserve(2 + bytes.size() * 2);
    for (uint8_t b : bytes) {
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 0xf]);
    }
    return out;
}

std::string encode_base64(std::span<const uint8_t> bytes) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out = "0b";
    for (size_t i = 0; i < bytes.size(); i += 3) {
        const size_t n = std::min<size_t>(3, bytes.size() - i);
        uint32_t group = uint32_t{bytes[i]} << 16;
        if (n > 1) group |= uint32_t{bytes[i + 1]} << 8;
        if (n > 2) group |= bytes[i + 2];
        out.push_back(alphabet[(group >> 18) & 63]);
        out.push_back(alphabet[(group >> 12) & 63]);
        out.push_back(n > 1 ? alphabet[(group >> 6) & 63] : '=');
        out.push_back(n > 2 ? alphabet[group & 63] : '=');
    }
    return out;
}

std::optional<std::vector<std::string>> split_list(std::string_view value) {
    std::vector<std::string> items;
    size_t start = 0;
    while (true) {
        const size_t comma = value.find(',', start);
        const std::string_view item = value.substr(start, comma == std::string_view::npos ? value.npos : comma - start);
        if (item.empty()) return std::nullopt;
        items.emplace_back(item);
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return items;
}

tl::expected<void, TextError> TextAssembler::append(std::span<const uint8_t> segment) {
    if (buffer_.size() + segment.size() > max_bytes_) {
        return tl::make_unexpected(TextError{TextError::Kind::SequenceTooLong, {},
                                             "text sequence exceeds " + std::to_string(max_bytes_) + " bytes"});
    }
    buffer_.insert(buffer_.end(), segment.begin(), segment.end());
    return {};
}

std::vector<uint8_t> TextAssembler::take() {
    std::vector<uint8_t> out;
    out.swap(buffer_);
    return out;
}

std::vector<std::vector<uint8_t>> split_segments(std::span<const uint8_t> text, size_t max_segment) {
    std::vector<std::vector<uint8_t>> segments;
    if (max_segment == 0) max_segment = 1;
    size_t pos = 0;
    do {
        const size_t n = std::min(max_segment, text.size() - pos);
        segments.emplace_back(text.begin() + static_cast<std::ptrdiff_t>(pos),
                              text.begin() + static_cast<std::ptrdiff_t>(pos + n));
        pos += n;
    } while (pos < text.size());
    return segments;
}

}  // namespace iscsi
