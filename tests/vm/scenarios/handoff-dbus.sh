# Issue 5, done-when, in the guest: the session an initiator logs in with, as
# the D-Bus API and iscsictl show it, against what the initiator negotiated.
#  - a `busctl monitor` subscriber on the guest's system bus records the
#    service's signals from before the login;
#  - open-iscsi logs in through iscsi-targetd + iscsi_handoff.ko;
#  - `iscsictl session list --json`, `session show`, `connection list --json`
#    show the ISID, TSIH, CID, addresses, ports and negotiated values, each
#    compared with `iscsiadm -m session -P 3`, the initiator's sysfs, its
#    socket, and the Login PDUs on the wire for ISID, TSIH and CID, which
#    open-iscsi shows nowhere (tools/dbus_session_check.py, login_sniff.py);
#  - `iscsictl session terminate TSIH` ends it: the module's session list and
#    iscsictl's are empty afterwards;
#  - the subscriber saw InterfacesAdded for the session and its connection,
#    with the values iscsictl shows later, then InterfacesRemoved for both.
VM_DBUS_CHECK=$VM_SRC/tools/dbus_session_check.py
VM_MONITOR_PID=
VM_MONITOR_LOG=/run/iscsi-dbus-monitor.jsonl
VM_SNIFF_PID=
VM_SNIFF_LOG=/run/iscsi-logins.jsonl

monitor_start() {
    vm_step "subscribing to org.iscsictl.target1's signals (busctl monitor)"
    # Line-buffered so that every message is in the file as soon as it is seen.
    stdbuf -oL busctl --system monitor --json=short org.iscsictl.target1 > "$VM_MONITOR_LOG" 2>&1 &
    VM_MONITOR_PID=$!
    vm_on_exit monitor_stop
    VM_FAILURE_LOGS+=("$VM_MONITOR_LOG")
    # busctl prints nothing until the first message: ask the service something
    # it answers, and wait until the monitor has recorded the call.
    vm_wait_for 30 monitor_sees_traffic || vm_fail "busctl monitor records nothing from org.iscsictl.target1"
}
monitor_sees_traffic() {
    "$VM_ISCSICTL" status >/dev/null 2>&1 || true
    grep -q '"member":"ListSessions"\|"org.iscsictl.target1' "$VM_MONITOR_LOG"
}
monitor_stop() {
    [ -n "$VM_MONITOR_PID" ] || return 0
    kill "$VM_MONITOR_PID" 2>/dev/null || true
    wait "$VM_MONITOR_PID" 2>/dev/null || true
    VM_MONITOR_PID=
}

# The Login PDUs on the wire (tools/login_sniff.py): the ISID open-iscsi
# sent and the TSIH it was given, which it shows nowhere else.
sniff_start() {
    vm_step "recording Login PDUs on lo (tools/login_sniff.py)"
    : > "$VM_SNIFF_LOG"
    python3 "$VM_SRC/tools/login_sniff.py" "$VM_SNIFF_LOG" --port 3260 &
    VM_SNIFF_PID=$!
    vm_on_exit sniff_stop
    vm_wait_for 30 grep -q listening "$VM_SNIFF_LOG" || vm_fail "login_sniff.py did not start"
}
sniff_stop() {
    [ -n "$VM_SNIFF_PID" ] || return 0
    kill "$VM_SNIFF_PID" 2>/dev/null || true
    wait "$VM_SNIFF_PID" 2>/dev/null || true
    VM_SNIFF_PID=
}

# The initiator's TCP connection to the portal, "local,peer" as ss prints them.
initiator_socket() {
    ss -Htn state established '( dport = :3260 )' | awk '{ print $3 "," $4 }' | head -n1
}

guest_main() {
    [ -x "$VM_ISCSICTL" ] || vm_fail "$VM_ISCSICTL is not built"
    stack_start "$VM_SRC/configs/demo.json"
    monitor_start
    sniff_start
    oi_start
    oi_discover 127.0.0.1:3260
    oi_login
    stack_expect_sessions 1

    vm_step "iscsictl against what open-iscsi negotiated"
    local out=/run/handoff-dbus tsih path
    mkdir -p "$out"
    "$VM_ISCSICTL" session list --json > "$out/list.json"
    "$VM_ISCSICTL" connection list --json > "$out/connections.json"
    cat "$out/list.json" "$out/connections.json"
    tsih=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["Tsih"])' "$out/list.json")
    path=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["Path"])' "$out/list.json")
    "$VM_ISCSICTL" session show "$tsih" --json > "$out/show.json"
    "$VM_ISCSICTL" session show "$tsih" | tee "$out/show.txt"
    grep -q '^Isid: 0x[0-9a-f]\{12\}$' "$out/show.txt" || vm_fail "session show prints no Isid line"
    grep -q "^Tsih: $tsih\$" "$out/show.txt" || vm_fail "session show prints no Tsih: $tsih line"
    grep -q '^Connection 0: ' "$out/show.txt" || vm_fail "session show prints no line for connection 0"
    "$VM_ISCSICTL" connection list
    iscsiadm -m session -P 3 > "$out/iscsiadm.txt"
    sed -n '/Current Portal/,/Attached SCSI/p' "$out/iscsiadm.txt"
    local socket
    socket=$(initiator_socket)
    [ -n "$socket" ] || vm_fail "no established initiator connection to :3260 in ss"
    vm_say "the initiator's socket (local,peer): $socket"
    python3 "$VM_DBUS_CHECK" session --list "$out/list.json" --show "$out/show.json" \
        --connections "$out/connections.json" --iscsiadm "$out/iscsiadm.txt" --socket "$socket" \
        --logins "$VM_SNIFF_LOG" ||
        vm_fail "iscsictl and the initiator disagree (MISMATCH lines above)"
    python3 "$VM_DBUS_CHECK" signals --monitor "$VM_MONITOR_LOG" --session "$path" --phase added \
        --list "$out/list.json" ||
        vm_fail "the subscriber did not see the session and its connection come"

    # iscsid would log in again after the connection drops (a new session,
    # possibly with the same TSIH): stop it first, so the end is observable.
    vm_step "stopping iscsid so that it does not log in again after terminate"
    kill "$VM_ISCSID_PID"
    wait "$VM_ISCSID_PID" || true
    VM_ISCSID_PID=

    vm_step "iscsictl session terminate $tsih"
    "$VM_ISCSICTL" session terminate "$tsih"
    vm_wait_for 20 stack_no_sessions || { stack_sessions; vm_fail "the module still lists a session after terminate"; }
    stack_expect_sessions 0
    vm_wait_for 20 iscsictl_lists_nothing ||
        { "$VM_ISCSICTL" session list; vm_fail "iscsictl still lists a session after terminate"; }
    [ "$("$VM_ISCSICTL" connection list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 0 ] ||
        vm_fail "iscsictl still lists a connection after terminate"
    if "$VM_ISCSICTL" session show "$tsih" >/dev/null 2>&1; then vm_fail "session show $tsih still finds it"; fi
    vm_wait_for 20 python3 "$VM_DBUS_CHECK" signals --monitor "$VM_MONITOR_LOG" --session "$path" --phase removed ||
        true
    python3 "$VM_DBUS_CHECK" signals --monitor "$VM_MONITOR_LOG" --session "$path" --phase removed ||
        vm_fail "the subscriber did not see the session and its connection go"
    monitor_stop

    stack_stop
    handoff_unload
}

iscsictl_lists_nothing() {
    [ "$("$VM_ISCSICTL" session list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 0 ]
}
