#include "iscsi/pdu.h"

#include <gtest/gtest.h>

using namespace iscsi;

TEST(Pdu, login_request_fields_are_big_endian_at_rfc_offsets) {
    LoginRequestHeader h;
    h.set_transit(true);
    h.set_csg(Stage::LoginOperationalNegotiation);
    h.set_nsg(Stage::FullFeaturePhase);
    h.set_isid({1, 2, 3, 4, 5, 6});
    h.set_tsih(0x1234);
    h.set_initiator_task_tag(0xdeadbeef);
    h.set_cid(0x0102);
    h.set_cmd_sn(0x01020304);
    h.set_exp_stat_sn(0x0a0b0c0d);
    h.set_data_segment_length(0x123456);
    const auto& b = h.bytes();
    EXPECT_EQ(b[0], 0x43);  // I bit + opcode 0x03
    EXPECT_EQ(b[1], 0x87);  // T, CSG 1, NSG 3
    EXPECT_EQ(b[5], 0x12);
    EXPECT_EQ(b[6], 0x34);
    EXPECT_EQ(b[7], 0x56);
    EXPECT_EQ(b[8], 1);
    EXPECT_EQ(b[13], 6);
    EXPECT_EQ(b[14], 0x12);
    EXPECT_EQ(b[15], 0x34);
    EXPECT_EQ(b[16], 0xde);
    EXPECT_EQ(b[19], 0xef);
    EXPECT_EQ(b[20], 0x01);
    EXPECT_EQ(b[21], 0x02);
    EXPECT_EQ(b[24], 0x01);
    EXPECT_EQ(b[31], 0x0d);
    LoginRequestHeader back(Bhs{h});
    EXPECT_EQ(back.csg(), 1);
    EXPECT_EQ(back.nsg(), 3);
    EXPECT_TRUE(back.transit());
    EXPECT_FALSE(back.continue_bit());
    EXPECT_EQ(back.tsih(), 0x1234);
    EXPECT_EQ(back.cmd_sn(), 0x01020304u);
    EXPECT_EQ(back.data_segment_length(), 0x123456u);
}

TEST(Pdu, login_response_status_is_at_byte_36) {
    LoginResponseHeader h;
    h.set_status(LoginStatus::NotFound);
    h.set_stat_sn(7);
    h.set_max_cmd_sn(9);
    EXPECT_EQ(h.bytes()[0], 0x23);
    EXPECT_EQ(h.bytes()[36], 0x02);
    EXPECT_EQ(h.bytes()[37], 0x03);
    EXPECT_EQ(h.bytes()[27], 7);
    EXPECT_EQ(h.bytes()[35], 9);
    EXPECT_EQ(h.status(), LoginStatus::NotFound);
}

TEST(Pdu, reject_and_async_and_logout_fields) {
    RejectHeader r;
    r.set_reason(RejectReason::InvalidPduField);
    EXPECT_EQ(r.bytes()[0], 0x3f);
    EXPECT_EQ(r.bytes()[1], 0x80);
    EXPECT_EQ(r.bytes()[2], 0x09);
    EXPECT_EQ(r.initiator_task_tag(), kReservedTag);
    AsyncMessageHeader a;
    a.set_event(AsyncEvent::LogoutRequest);
    a.set_parameter3(20);
    EXPECT_EQ(a.bytes()[36], 1);
    EXPECT_EQ(a.bytes()[43], 20);
    LogoutResponseHeader l;
    l.set_response(LogoutResponseCode::CidNotFound);
    l.set_time2wait(2);
    EXPECT_EQ(l.bytes()[2], 1);
    EXPECT_EQ(l.bytes()[41], 2);
    LogoutRequestHeader lr;
    lr.set_reason(LogoutReason::CloseConnection);
    EXPECT_EQ(lr.bytes()[1], 0x81);
    EXPECT_EQ(lr.raw_reason(), 1);
}

TEST(Pdu, remaining_length_counts_ahs_data_and_padding) {
    Bhs h;
    h.set_opcode(Opcode::TextRequest);
    h.set_data_segment_length(5);
    EXPECT_EQ(remaining_length(h), 8u);
    h.set_total_ahs_length(2);
    EXPECT_EQ(remaining_length(h), 16u);
    h.set_data_segment_length(0);
    h.set_total_ahs_length(0);
    EXPECT_EQ(remaining_length(h), 0u);
}

TEST(Pdu, serialize_pads_and_parse_round_trips_skipping_ahs) {
    Pdu pdu;
    pdu.bhs.set_opcode(Opcode::TextRequest);
    pdu.ahs = {1, 2, 3, 4};
    pdu.data = {'a', 'b', 'c', 'd', 'e'};
    auto wire = pdu.serialize();
    ASSERT_EQ(wire.size(), 48u + 4 + 8);
    EXPECT_EQ(wire[48 + 4 + 5], 0);
    auto back = Pdu::parse(wire);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->data, pdu.data);
    EXPECT_EQ(back->ahs, pdu.ahs);
    EXPECT_EQ(back->bhs.data_segment_length(), 5u);
}

TEST(Pdu, parse_refuses_truncated_input) {
    std::vector<uint8_t> short_header(47, 0);
    EXPECT_FALSE(Pdu::parse(short_header));
    Pdu pdu;
    pdu.data = {1, 2, 3};
    auto wire = pdu.serialize();
    wire.pop_back();
    EXPECT_FALSE(Pdu::parse(wire));
}

TEST(Pdu, check_header_rejects_reserved_opcode_with_command_not_supported) {
    Bhs h;
    h.bytes();
    Bhs reserved = *Bhs::from_bytes(std::vector<uint8_t>(48, 0x1d));  // vendor-specific opcode 0x1d
    auto result = check_header(reserved, HeaderLimits{});
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().kind, PduError::Kind::UndefinedOpcode);
    // the 0x1d1d1d data length is beyond the limit: the PDU cannot be skipped
    EXPECT_EQ(result.error().action, PduError::Action::Close);
    Bhs small;
    std::vector<uint8_t> bytes(48, 0);
    bytes[0] = 0x1c;
    small = *Bhs::from_bytes(bytes);
    auto skippable = check_header(small, HeaderLimits{});
    ASSERT_FALSE(skippable);
    EXPECT_EQ(skippable.error().action, PduError::Action::Reject);
    EXPECT_EQ(skippable.error().reject_reason, RejectReason::CommandNotSupported);
}

TEST(Pdu, check_header_closes_on_data_segment_beyond_limit) {
    Bhs h;
    h.set_opcode(Opcode::TextRequest);
    h.set_data_segment_length(8193);
    auto result = check_header(h, HeaderLimits{8192});
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().kind, PduError::Kind::DataSegmentTooLong);
    EXPECT_EQ(result.error().action, PduError::Action::Close);
    h.set_data_segment_length(8192);
    EXPECT_TRUE(check_header(h, HeaderLimits{8192}));
}

TEST(Pdu, check_header_rejects_target_opcodes_from_initiator) {
    Bhs h;
    h.set_opcode(Opcode::LoginResponse);
    auto result = check_header(h, HeaderLimits{});
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().kind, PduError::Kind::TargetOpcode);
}

TEST(Pdu, make_reject_carries_the_rejected_header) {
    Bhs h;
    h.set_opcode(Opcode::ScsiCommand);
    h.set_initiator_task_tag(42);
    Pdu reject = make_reject(h, RejectReason::ProtocolError, 1, 2, 3);
    EXPECT_EQ(reject.bhs.opcode(), Opcode::Reject);
    ASSERT_EQ(reject.data.size(), 48u);
    EXPECT_EQ(reject.data[19], 42);
    EXPECT_EQ(RejectHeader(reject.bhs).stat_sn(), 1u);
}

TEST(Pdu, opcode_names_and_classes) {
    EXPECT_STREQ(to_string(Opcode::LoginRequest), "Login Request");
    EXPECT_TRUE(is_initiator_opcode(0x10));
    EXPECT_FALSE(is_initiator_opcode(0x23));
    EXPECT_TRUE(is_defined_opcode(0x3f));
    EXPECT_FALSE(is_defined_opcode(0x3c));
    EXPECT_FALSE(is_defined_opcode(0x07));
}
