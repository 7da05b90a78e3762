// KernelDataPath on a host without iscsi_handoff.ko (the build host): it must
// say why it is unavailable and refuse every call with that reason.
#include "kernel_data_path.h"

#include <gtest/gtest.h>

#include "config/model.h"

namespace iscsi::kmod {
namespace {

class WithoutModule : public ::testing::Test {
protected:
    void SetUp() override {
        path_ = open_kernel_data_path(nullptr);
        ASSERT_NE(path_, nullptr);
        if (path_->available()) {
            GTEST_SKIP() << "iscsi_handoff is loaded here; the guest tests cover this case";
        }
    }
    static void expect_refused(const Error& error) {
        EXPECT_EQ(error.code, ENOENT);
        EXPECT_NE(error.message.find("ISCSI_HANDOFF"), std::string::npos) << error.message;
    }
    std::unique_ptr<DataPath> path_;
};

TEST_F(WithoutModule, SaysTheFamilyIsMissing) {
    EXPECT_EQ(path_->unavailable_reason(),
              "generic netlink family ISCSI_HANDOFF not found: is iscsi_handoff.ko loaded?");
}

TEST_F(WithoutModule, RefusesEveryCall) {
    expect_refused(path_->version().error());
    expect_refused(path_->limits().error());
    expect_refused(path_->apply(config::Config{}).error());
    HandoffRequest request;
    expect_refused(path_->handoff(request).error());
    expect_refused(path_->list_sessions().error());
    expect_refused(path_->terminate_connection(1, 0).error());
    expect_refused(path_->terminate_session(1).error());
    expect_refused(path_->request_logout(1, 5).error());
    expect_refused(path_->set_discovery_text("iqn.2003-01.org.example:t", 1, "").error());
}

TEST(DownReasonToString, NamesEveryReason) {
    for (uint32_t r = 0; r <= 10; ++r) {
        EXPECT_STRNE(to_string(static_cast<DownReason>(r)), "unknown") << r;
    }
    EXPECT_STREQ(to_string(static_cast<DownReason>(11)), "unknown");
}

}  // namespace
}  // namespace iscsi::kmod
