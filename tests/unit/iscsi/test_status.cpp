#include "iscsi/status.h"

#include <string>

#include <gtest/gtest.h>

using namespace iscsi;

TEST(Status, login_status_splits_into_class_and_detail) {
    EXPECT_EQ(status_class(LoginStatus::AuthenticationFailure), StatusClass::InitiatorError);
    EXPECT_EQ(status_detail(LoginStatus::AuthenticationFailure), 0x01);
    EXPECT_EQ(status_class(LoginStatus::TargetMovedPermanently), StatusClass::Redirection);
    EXPECT_EQ(status_class(LoginStatus::ServiceUnavailable), StatusClass::TargetError);
    EXPECT_EQ(status_detail(LoginStatus::ServiceUnavailable), 0x01);
    EXPECT_EQ(static_cast<uint16_t>(LoginStatus::InvalidDuringLogin), 0x020b);
}

TEST(Status, every_login_status_has_a_name) {
    for (uint16_t v : {0x0000, 0x0101, 0x0102, 0x0200, 0x0201, 0x0202, 0x0203, 0x0204, 0x0205, 0x0206, 0x0207, 0x0208,
                       0x0209, 0x020a, 0x020b, 0x0300, 0x0301, 0x0302}) {
        EXPECT_NE(std::string(to_string(static_cast<LoginStatus>(v))), "Unknown login status") << v;
    }
    EXPECT_EQ(std::string(to_string(static_cast<LoginStatus>(0x0250))), "Unknown login status");
}

TEST(Status, reject_logout_and_async_codes_have_names) {
    EXPECT_EQ(std::string(to_string(RejectReason::ProtocolError)), "Protocol Error");
    EXPECT_EQ(static_cast<uint8_t>(RejectReason::WaitingForLogout), 0x0c);
    EXPECT_EQ(std::string(to_string(LogoutReason::CloseConnection)), "close the connection");
    EXPECT_EQ(std::string(to_string(LogoutResponseCode::CidNotFound)), "CID not found");
    EXPECT_EQ(std::string(to_string(AsyncEvent::LogoutRequest)), "logout request");
    EXPECT_EQ(static_cast<uint8_t>(AsyncEvent::VendorSpecific), 255);
}
