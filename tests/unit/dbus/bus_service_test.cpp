#include "dbus/bus_service.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "control/session_source.h"

using namespace iscsi;

namespace {

class NullStore final : public control::ConfigStore {
public:
    control::Result<void> save(const config::Config&, const config::Secrets&) override { return {}; }
    control::Result<control::StoredConfiguration> load() override { return control::StoredConfiguration{}; }
    std::string describe() const override { return "nowhere"; }
};

TEST(BusService, WithoutASystemBusStartReturnsNullAndSaysWhy) {
    const char* previous = std::getenv("DBUS_SYSTEM_BUS_ADDRESS");
    std::string saved = previous ? previous : "";
    setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/iscsi-test-bus", 1);
    NullStore store;
    control::StandaloneBackend backend({}, store, nullptr);
    control::DataPathSessionSource sessions(nullptr);
    control::ControlPlane plane(backend, sessions);
    sd_event* event = nullptr;
    ASSERT_GE(sd_event_new(&event), 0);
    std::string warning;
    dbus::BusOptions options;
    options.log = [&](int priority, const std::string& message) {
        EXPECT_EQ(priority, 4);
        warning = message;
    };
    auto service = dbus::BusService::start(event, plane, options);
    EXPECT_EQ(service, nullptr) << "the daemon must run on without D-Bus";
    EXPECT_NE(warning.find("no system bus"), std::string::npos) << warning;
    sd_event_unref(event);
    if (previous) setenv("DBUS_SYSTEM_BUS_ADDRESS", saved.c_str(), 1);
    else unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
}

}  // namespace
