# Checks run from the host against the guest's target through QEMU's
# forwarded port (sourced by lib/host-phase). libiscsi's tools speak iSCSI
# from userspace, so they need nothing from the host's kernel.
. "$VM_SRC/lib/names.sh"

hc_portal() { echo "${VM_HOST_ADDR:-127.0.0.1}:$VM_HOST_PORT"; }
hc_url() { echo "iscsi://$(hc_portal)/$VM_TARGET_IQN/${1:-0}"; }

# iscsi-ls -s: discovery through the forwarded port, then a login to every
# portal SendTargets reports, listing its LUNs (tests/vm/run makes the
# reported 10.0.2.15:3260 reachable from the host side).
hc_ls() {
    local out
    echo "\$ iscsi-ls -s iscsi://$(hc_portal)"
    out=$(iscsi-ls -i "$VM_HOST_INITIATOR_IQN" -s "iscsi://$(hc_portal)" 2>&1) || { echo "$out"; return 1; }
    echo "$out"
    grep -q "Target:$VM_TARGET_IQN" <<<"$out" || { echo "iscsi-ls does not list $VM_TARGET_IQN"; return 1; }
}

hc_inq() {
    local out
    echo "\$ iscsi-inq $(hc_url)"
    out=$(iscsi-inq -i "$VM_HOST_INITIATOR_IQN" "$(hc_url)" 2>&1) || { echo "$out"; return 1; }
    echo "$out"
    grep -q 'Peripheral Device Type' <<<"$out" || { echo "iscsi-inq printed no standard INQUIRY data"; return 1; }
}

hc_readcapacity16() {
    local out
    echo "\$ iscsi-readcapacity16 $(hc_url)"
    out=$(iscsi-readcapacity16 -i "$VM_HOST_INITIATOR_IQN" "$(hc_url)" 2>&1) || { echo "$out"; return 1; }
    echo "$out"
    grep -q 'LOGICAL BLOCK LENGTH IN BYTES:512' <<<"$out" || { echo "iscsi-readcapacity16 reports no 512-byte blocks"; return 1; }
    local blocks
    blocks=$(sed -n 's/.*Total size:\([0-9]*\).*/\1/p' <<<"$out")
    [ -z "$blocks" ] || [ "$blocks" -eq $((VM_LUN_SIZE_MB * 1024 * 1024)) ] ||
        { echo "capacity $blocks bytes, expected $((VM_LUN_SIZE_MB * 1024 * 1024))"; return 1; }
}

# hc_perf SESSIONS SECONDS: that many concurrent iscsi-perf runs, each its own
# session (its own initiator name, so demo mode gives each an ACL of its own);
# all must run for the whole time without an error.
hc_perf() {
    local n=$1 secs=$2 i pids=() rc=0
    echo "\$ ${n}x iscsi-perf -t $secs $(hc_url)"
    for i in $(seq "$n"); do
        iscsi-perf -i "$VM_HOST_INITIATOR_IQN.perf$i" -t "$secs" -b 8 -m 8 "$(hc_url)" \
            > "$VM_JOB_DIR/perf-$i.log" 2>&1 &
        pids+=($!)
    done
    for i in "${!pids[@]}"; do
        if ! wait "${pids[$i]}"; then
            echo "iscsi-perf session $((i + 1)) failed:"; tail -n 5 "$VM_JOB_DIR/perf-$((i + 1)).log"; rc=1
        fi
    done
    for i in $(seq "$n"); do
        if grep -qiE 'error|fail' "$VM_JOB_DIR/perf-$i.log"; then
            echo "iscsi-perf session $i reported:"; grep -iE 'error|fail' "$VM_JOB_DIR/perf-$i.log" | head -n 3; rc=1
        fi
        echo "session $i: $(grep -o 'iops average [0-9]* ([0-9]* MB/s)' "$VM_JOB_DIR/perf-$i.log" | tail -n 1)"
    done
    return $rc
}
