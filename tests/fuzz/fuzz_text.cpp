// Fuzzes the key=value codec and the value forms.
#include <cstddef>
#include <cstdint>
#include <span>

#include "iscsi/text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace iscsi;
    const std::span<const uint8_t> input(data, size);
    auto pairs = parse_text(input);
    if (pairs) {
        // Whatever parses re-encodes to something that parses the same.
        auto again = parse_text(encode_text(*pairs));
        if (!again || *again != *pairs) __builtin_trap();
        for (const auto& kv : *pairs) {
            (void)parse_numeric(kv.value);
            auto binary = parse_binary(kv.value);
            if (binary) {
                auto hex = parse_binary(encode_hex(*binary));
                auto b64 = parse_binary(encode_base64(*binary));
                if (!hex || *hex != *binary || !b64 || *b64 != *binary) __builtin_trap();
            }
            (void)split_list(kv.value);
        }
    }
    (void)parse_text(input, true);
    TextAssembler assembler(4096);
    for (const auto& segment : split_segments(input, 7)) {
        if (!assembler.append(segment)) break;
    }
    return 0;
}
