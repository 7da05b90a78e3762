# kmod-glue (the daemon's C++ client of iscsi_handoff.ko) against the real
# module: iscsi-handoff-probe speaks GET_VERSION, GET_LIMITS, SESSION_LIST,
# SESSION_TERMINATE and listens to the events group; the configfs manager
# (inside iscsi-targetd) builds the tree, and reading it back plans nothing
# new; an unknown session handle is refused with the module's extended ack.
#   tests/vm/run kmod-glue
VM_PROBE=${VM_PROBE:-$BUILD_DIR/bin/iscsi-handoff-probe}

guest_main() {
    [ -x "$VM_PROBE" ] || vm_fail "$VM_PROBE is not built"

    vm_step "without the module: the probe names what is missing"
    local rc=0 out
    out=$("$VM_PROBE" version 2>&1) || rc=$?
    echo "$out"
    [ $rc -eq 2 ] || vm_fail "probe without the module exited $rc, expected 2"
    echo "$out" | grep -q "ISCSI_HANDOFF not found" || vm_fail "no reason given without the module"

    stack_start "$VM_SRC/configs/demo.json"

    vm_step "GET_VERSION and GET_LIMITS through kmod-glue"
    out=$("$VM_PROBE" version) || vm_fail "probe version failed"
    echo "$out"
    echo "$out" | grep -q '"major":1' || vm_fail "module major version is not 1"
    "$VM_PROBE" limits || vm_fail "probe limits failed"

    vm_step "configfs: the daemon's tree, read back, needs no change"
    out=$("$VM_PROBE" configfs-plan) || vm_fail "probe configfs-plan failed"
    echo "$out"
    echo "$out" | grep -q "rmdir iscsi_handoff/iqn.2026-12.org.iscsi-target:vm.disk0/tpgt_1" ||
        vm_fail "the reader does not see the TPG the daemon created"
    echo "$out" | grep -q "rmdir core/fileio_7143/disk0" ||
        vm_fail "the reader does not see the backstore the daemon created"
    ls -l "$VM_CONFIGFS/iscsi_handoff/iqn.2026-12.org.iscsi-target:vm.disk0/tpgt_1/lun/lun_0/"
    cat "$VM_CONFIGFS/core/fileio_7143/disk0/alias" "$VM_CONFIGFS/core/fileio_7143/disk0/info"

    vm_step "SESSION_LIST: empty before any login"
    "$VM_PROBE" sessions --expect-empty || vm_fail "the module lists sessions before any login"

    vm_step "an unknown session handle is refused with the module's reason"
    rc=0
    out=$("$VM_PROBE" terminate-session 12345 2>&1) || rc=$?
    echo "$out"
    [ $rc -eq 1 ] || vm_fail "terminating an unknown session exited $rc"
    echo "$out" | grep -q "no live session with this handle" || vm_fail "the extended ack did not reach the Error"

    oi_start
    oi_discover 127.0.0.1:3260
    oi_login
    vm_step "SESSION_LIST: one session with identity and connection"
    out=$("$VM_PROBE" sessions) || vm_fail "probe sessions failed"
    echo "$out"
    echo "$out" | grep -q '"target": "iqn.2026-12.org.iscsi-target:vm.disk0"' || vm_fail "session target not listed"
    echo "$out" | grep -q '"cid": 0' || vm_fail "connection not listed"

    vm_step "events: logout multicasts a down event that kmod-glue decodes"
    "$VM_PROBE" events --count 1 --timeout 60 > /tmp/glue-events.json 2>&1 &
    local listener=$!
    vm_wait_for 10 grep -q listening /tmp/glue-events.json || vm_fail "event listener did not start"
    oi_logout
    rc=0
    wait $listener || rc=$?
    cat /tmp/glue-events.json
    [ $rc -eq 0 ] || vm_fail "no down event within 60 s (probe exit $rc)"
    grep -q '"kind":"\(session_down\|conn_down\)"' /tmp/glue-events.json || vm_fail "no down event decoded"

    vm_wait_for 10 "$VM_PROBE" sessions --expect-empty >/dev/null || true
    "$VM_PROBE" sessions --expect-empty || vm_fail "a session is left after logout"
    stack_stop
    handoff_unload
}
