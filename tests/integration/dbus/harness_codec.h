// A JSON encoding of the configuration model for the D-Bus test harness only.
// The daemon uses config/'s loader and writer; this one exists so that the
// D-Bus service can be tested on a real bus before and apart from the daemon.
#pragma once

#include "control/config_store.h"

namespace iscsi::testing {

control::ConfigCodec harness_codec();

}  // namespace iscsi::testing
