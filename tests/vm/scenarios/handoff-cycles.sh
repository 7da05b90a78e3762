# Issue 4, done-when: 100 login/terminate cycles through iscsi-targetd +
# iscsi_handoff.ko, then the daemon stops, the module lists no session, and
# rmmod iscsi_handoff succeeds.
#
# One cycle: iscsiadm logs in; iscsictl session terminate ends the session
# from the target's side (the daemon asks the module, which closes the
# connection); then iscsiadm logs out. open-iscsi treats a connection it did
# not close as a failure and starts session recovery after a short delay; the
# logout right after the terminate cancels that recovery, so the cycle does
# not pay for a second login (a logout that finds the recovery's new session
# logs that one out instead: either way the next cycle starts clean). The
# next cycle's TSIH query must find exactly one session, so a session this
# cycle left behind fails the run there; every 10th cycle also waits for an
# empty list. iscsictl reads the list from the module's SESSION_LIST. Every
# 25th cycle ends with iscsictl session logout instead (Async Message
# "request logout"), the initiator's Logout awaited before iscsiadm's. The logout request is
# tested in detail by handoff-lifecycle.
#
# Speed: node.session.scan = manual, so no LUN scan and no sd attach per
# login (the I/O path is what the other scenarios test), and the loop polls
# only when a check does not already hold. The scenario prints where a
# cycle's time goes.

LC_PORTAL=127.0.0.1:3260
LC_CYCLES=${VM_CYCLES:-100}

guest_main() {
    stack_start "$VM_SRC/configs/demo.json"
    oi_start
    oi_discover "$LC_PORTAL"
    iscsiadm -m node -T "$VM_TARGET_IQN" -o update -n node.session.scan -v manual
    vm_step "$LC_CYCLES login/end cycles"
    local i tsih how seen=" " t0 t
    # Time spent in each part of the cycles, in microseconds.
    local t_login=0 t_query=0 t_end=0 t_logout=0 t_check=0
    t0=$(lc_now)
    for ((i = 1; i <= LC_CYCLES; i++)); do
        t=$(lc_now)
        iscsiadm -m node -T "$VM_TARGET_IQN" --login > /dev/null
        t_login=$((t_login + $(lc_now) - t)); t=$(lc_now)
        tsih=$("$VM_ISCSICTL" session list --json | jq -M -r '.[].Tsih')
        [[ $tsih =~ ^[0-9]+$ ]] || { "$VM_ISCSICTL" session list; vm_fail "cycle $i: not exactly one session after login: '$tsih'"; }
        t_query=$((t_query + $(lc_now) - t)); t=$(lc_now)
        if ((i % 25)); then how=terminate; else how=logout; fi
        "$VM_ISCSICTL" session "$how" "$tsih"
        if [ $how = logout ]; then
            # The initiator answers the request with a Logout before the deadline.
            vm_wait_for 15 eval "! ctl_has_tsih $tsih" || vm_fail "cycle $i: TSIH $tsih still listed 15 s after the logout request"
        fi
        t_end=$((t_end + $(lc_now) - t)); t=$(lc_now)
        iscsiadm -m node -T "$VM_TARGET_IQN" --logout > /dev/null 2>&1 || true
        t_logout=$((t_logout + $(lc_now) - t)); t=$(lc_now)
        # The next cycle's query finds exactly one session or fails, so a
        # session left over from this cycle is caught there; a full check
        # every 10 cycles (and at the end) bounds how long one could linger.
        if ! ((i % 10)) && ctl_has_any; then
            vm_wait_for 15 eval "! ctl_has_any" || { "$VM_ISCSICTL" session list; vm_fail "cycle $i: a session (TSIH $tsih ended by $how) is still listed"; }
        fi
        t_check=$((t_check + $(lc_now) - t))
        case $seen in *" $tsih "*) ;; *) seen+="$tsih " ;; esac
        if ! ((i % 20)); then
            vm_say "cycle $i: $(( ($(lc_now) - t0) / 1000 / i )) ms a cycle so far (login $((t_login / 1000 / i)), TSIH query $((t_query / 1000 / i)), end $((t_end / 1000 / i)), iscsiadm logout $((t_logout / 1000 / i)), check $((t_check / 1000 / i)) ms)"
        fi
    done
    local ms=$(( ($(lc_now) - t0) / 1000 ))
    vm_say "$LC_CYCLES cycles in $ms ms ($((ms / LC_CYCLES)) ms a cycle), $(wc -w <<<"$seen") distinct TSIHs"
    if iscsiadm -m session > /dev/null 2>&1; then iscsiadm -m session; vm_fail "open-iscsi still has a session"; fi
    vm_step "no session is left; the daemon stops; rmmod"
    vm_wait_for 20 stack_no_sessions || true
    stack_expect_sessions 0
    stack_stop
    handoff_unload
}

# lc_now: microseconds (bash's EPOCHREALTIME without the point).
lc_now() { local t=${EPOCHREALTIME/./}; echo "$((10#$t))"; }

# ctl_has_tsih N: the daemon lists a session with TSIH N.
ctl_has_tsih() { "$VM_ISCSICTL" session list --json | jq -M -e ".[] | select(.Tsih == $1)" > /dev/null; }
# ctl_has_any: the daemon lists a session.
ctl_has_any() { "$VM_ISCSICTL" session list --json | jq -M -e 'length > 0' > /dev/null; }
