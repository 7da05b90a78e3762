# scripts/demo in the guest: create a target with a LUN, log in with
# open-iscsi, do I/O, and show the session as the target sees it.
# With our stack built (iscsi-targetd + iscsi_handoff.ko) the target is ours
# and the session is the daemon's; otherwise (or with VM_DEMO_TARGET=lio) it
# is LIO's own iscsi_target_mod, and the demo says so.
guest_main() {
    local target=${VM_DEMO_TARGET:-auto}
    if [ "$target" = auto ]; then
        if [ -f "$VM_HANDOFF_KO" ] && [ -x "$VM_DAEMON" ]; then target=ours; else target=lio; fi
    fi
    if [ "$target" = ours ]; then
        echo "DEMO: target = iscsi-targetd (login in userspace) + iscsi_handoff.ko (Full Feature Phase in the kernel)"
        stack_start "$VM_SRC/configs/demo.json"
    else
        echo "DEMO: our stack is not built here ($VM_HANDOFF_KO, $VM_DAEMON);"
        echo "DEMO: showing the same flow against LIO's own iscsi_target_mod, the reference target."
        lio_configure --acl
    fi
    oi_start
    oi_discover 127.0.0.1:3260
    oi_login
    fs_roundtrip "$VM_DISK" 16

    echo "DEMO: ---- the session as the target sees it ----"
    if [ "$target" = ours ]; then
        echo "DEMO: iscsi-targetd's log of the login (initiator, address, TSIH, CID):"
        grep -E 'logged in to|login' "$VM_DAEMON_LOG" | tail -n 5 | sed 's/^/DEMO:   /'
        echo "DEMO: iscsi_handoff's session list (netlink SESSION_LIST: handle, TSIH, ISID, counters):"
        stack_sessions | sed 's/^/DEMO:   /'
    else
        sed 's/^/DEMO: /' "$VM_CONFIGFS/iscsi/$VM_TARGET_IQN/tpgt_1/acls/$VM_INITIATOR_IQN/info"
    fi
    echo "DEMO: ---- and as the initiator (open-iscsi) sees it ----"
    local s
    for s in /sys/class/iscsi_session/session*; do
        printf 'DEMO: %s target %s tpgt %s initiator %s\n' "$(basename "$s")" \
            "$(cat "$s/targetname")" "$(cat "$s/tpgt")" "$(cat "$s/initiatorname")"
    done
    for s in /sys/class/iscsi_connection/connection*; do
        printf 'DEMO: %s %s:%s -> %s:%s\n' "$(basename "$s")" \
            "$(cat "$s/address" 2>/dev/null)" "$(cat "$s/port" 2>/dev/null)" \
            "$(cat "$s/persistent_address" 2>/dev/null)" "$(cat "$s/persistent_port" 2>/dev/null)"
    done
    oi_logout
    [ "$target" != ours ] || { stack_stop; handoff_unload; }
}
