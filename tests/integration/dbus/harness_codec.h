// The configuration files of the D-Bus test harness, encoded by config/ as
// iscsi-targetd encodes them.
#pragma once

#include "control/config_store.h"

namespace iscsi::testing {

control::ConfigCodec harness_codec();

}  // namespace iscsi::testing
