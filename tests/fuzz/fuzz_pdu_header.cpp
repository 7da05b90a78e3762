// Fuzzes the PDU framing: header checks, parsing and serialisation.
#include <cstddef>
#include <cstdint>
#include <span>

#include "iscsi/pdu.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace iscsi;
    const std::span<const uint8_t> input(data, size);
    auto bhs = Bhs::from_bytes(input);
    if (!bhs) return 0;
    (void)check_header(*bhs, HeaderLimits{});
    (void)check_header(*bhs, HeaderLimits{512});
    const uint32_t rest = remaining_length(*bhs);
    if (rest > input.size() - kBhsLength) {
        // Truncated: parse must refuse it, never read past the end.
        if (Pdu::parse(input)) __builtin_trap();
        return 0;
    }
    auto pdu = Pdu::parse(input.first(kBhsLength + rest));
    if (!pdu) __builtin_trap();  // exactly the bytes the header asks for
    auto wire = pdu->serialize();
    auto again = Pdu::parse(wire);
    if (!again || again->data != pdu->data || again->ahs != pdu->ahs) __builtin_trap();
    LoginRequestHeader login(pdu->bhs);
    (void)login.isid();
    (void)login.csg();
    (void)to_string(pdu->bhs.opcode());
    return 0;
}
