# Issue 4, done-when: 100 login/terminate cycles through iscsi-targetd +
# iscsi_handoff.ko, then the daemon stops, the module lists no session, and
# rmmod iscsi_handoff succeeds.
#
# One cycle: iscsiadm logs in; the target ends the session, alternately by
# iscsictl session terminate (even cycles) and iscsictl session logout (odd
# cycles: Async Message "request logout"); then iscsiadm logs out, which also
# stops open-iscsi's session recovery should it have started a new login
# (open-iscsi reconnects after a connection it did not end). A cycle checks
# that the TSIH it ended is gone from the module's list before the next one.
#
# Speed: node.session.scan = manual, so no LUN scan and no sd attach per
# login (the I/O path is what the other scenarios test); the TSIH comes from
# iscsictl (one D-Bus call) rather than a Python netlink dump.

LC_PORTAL=127.0.0.1:3260
LC_CYCLES=${VM_CYCLES:-100}

guest_main() {
    stack_start "$VM_SRC/configs/demo.json"
    oi_start
    oi_discover "$LC_PORTAL"
    iscsiadm -m node -T "$VM_TARGET_IQN" -o update -n node.session.scan -v manual
    vm_step "$LC_CYCLES login/end cycles"
    local i t0 tsih how seen=" "
    t0=$(date +%s%N)
    for ((i = 1; i <= LC_CYCLES; i++)); do
        iscsiadm -m node -T "$VM_TARGET_IQN" --login > /dev/null
        tsih=$("$VM_ISCSICTL" session list --json | jq -M -r '.[] | select(.SessionType != "Discovery") | .Tsih')
        [[ $tsih =~ ^[0-9]+$ ]] || { "$VM_ISCSICTL" session list; vm_fail "cycle $i: not exactly one session after login: '$tsih'"; }
        if ((i % 2)); then how=logout; else how=terminate; fi
        "$VM_ISCSICTL" session "$how" "$tsih"
        if [ $how = logout ]; then
            # The initiator answers the request with a Logout before the deadline.
            vm_wait_for 15 eval "! ctl_has_tsih $tsih" || vm_fail "cycle $i: TSIH $tsih still listed 15 s after the logout request"
        fi
        iscsiadm -m node -T "$VM_TARGET_IQN" --logout > /dev/null 2>&1 || true
        vm_wait_for 15 eval "! ctl_has_tsih $tsih" || vm_fail "cycle $i: TSIH $tsih ($how) is still listed"
        case $seen in *" $tsih "*) ;; *) seen+="$tsih " ;; esac
        ((i % 20)) || vm_say "cycle $i: $(( ($(date +%s%N) - t0) / 1000000 / i )) ms a cycle so far"
    done
    local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    vm_say "$LC_CYCLES cycles in $ms ms ($((ms / LC_CYCLES)) ms a cycle), $(wc -w <<<"$seen") distinct TSIHs"
    iscsiadm -m session > /dev/null 2>&1 && { iscsiadm -m session; vm_fail "open-iscsi still has a session"; }
    vm_wait_for 20 stack_no_sessions || true
    stack_expect_sessions 0
    grep -cE 'session down: .*\((logout|administrative|terminated)' "$VM_DAEMON_LOG" || true
    stack_stop
    handoff_unload
}

# ctl_has_tsih N: the daemon lists a session with TSIH N.
ctl_has_tsih() { "$VM_ISCSICTL" session list --json | jq -M -e ".[] | select(.Tsih == $1)" > /dev/null; }
