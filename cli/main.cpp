// iscsictl: manage iscsi-targetd over D-Bus. Each noun is set up in its own
// file; this file only assembles them and turns the outcome into an exit code.
#include <iostream>

#include "cli/common.h"

int main(int argc, char** argv) {
    iscsi::cli::Context context;
    CLI::App app{"iscsictl: manage the iSCSI target served by iscsi-targetd (over D-Bus)", "iscsictl"};
    app.set_version_flag("--version", "iscsictl " ISCSI_TARGET_VERSION);
    app.require_subcommand(1);
    app.failure_message(CLI::FailureMessage::help);
    app.footer("Exit codes: 0 ok, 1 failed, 2 usage, 3 daemon not running, 4 not found, 5 already exists,\n"
               "6 invalid argument, 7 busy, 8 permission denied, 9 data path unavailable, 10 not supported.");
    iscsi::cli::setup_target(app, context);
    iscsi::cli::setup_tpg(app, context);
    iscsi::cli::setup_portal(app, context);
    iscsi::cli::setup_lun(app, context);
    iscsi::cli::setup_backstore(app, context);
    iscsi::cli::setup_acl(app, context);
    iscsi::cli::setup_auth(app, context);
    iscsi::cli::setup_session(app, context);
    iscsi::cli::setup_connection(app, context);
    iscsi::cli::setup_config(app, context);
    iscsi::cli::setup_status(app, context);
    for (auto* noun : app.get_subcommands({})) noun->require_subcommand(noun->get_subcommands({}).empty() ? 0 : 1);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int code = app.exit(e);
        // --help and --version are successes; everything else is a usage error.
        return code == 0 ? 0 : static_cast<int>(iscsi::cli::Exit::Usage);
    }
    return context.exit_code;
}
