# Data-path benchmark (issue 4), run in the guest by bench/datapath/run.
#
# One backstore (an rd_mcp ramdisk by default, so the disk is not what is
# measured; or a fileio file on the guest's tmpfs) is exported at the same
# time through two targets in the same guest:
#   - iscsi-targetd + iscsi_handoff.ko on :3260 (iqn...:bench.handoff)
#   - LIO's own iscsi_target_mod on :3261 (iqn...:bench.lio), its LUN linked
#     to the very same target-core device the daemon created.
# The same initiator (open-iscsi in the guest) logs in to both with the same
# negotiated values; fio (libaio, direct=1) then runs each workload on each
# block device in turn, alternating which side goes first from one round to
# the next (ABBA), so that drift in the machine's load hits both alike.
#
# guest_main SECONDS ROUNDS BACKSTORE SIZE_MIB
BENCH_HANDOFF_IQN=iqn.2026-12.org.iscsi-target:bench.handoff
BENCH_LIO_IQN=iqn.2026-12.org.iscsi-target:bench.lio
BENCH_LIO_PORT=3261
BENCH_RESULTS=
# The same operational values on both sides (RFC 7143 s.13), so that the
# PDU sizes and R2T behaviour match: LIO's defaults except a 256 KiB
# MaxRecvDataSegmentLength, which both targets are told explicitly.
BENCH_MRDSL=262144
BENCH_MAXBURST=262144
BENCH_FIRSTBURST=65536

bench_say() { echo "bench: $*"; }

# The daemon's configuration: one backstore, one target, demo mode; NOP-In
# pings stay at their defaults on both sides (15 s), far apart from the runs.
bench_config() {
    local type=$1 size=$2 file=$3 backstore
    if [ "$type" = ramdisk ]; then
        backstore="{ \"name\": \"bench0\", \"type\": \"ramdisk\", \"size_bytes\": $size }"
    else
        backstore="{ \"name\": \"bench0\", \"type\": \"fileio\", \"path\": \"/var/tmp/bench0.img\", \"size_bytes\": $size }"
    fi
    cat > "$file" <<JSON
{
  "backstores": [ $backstore ],
  "targets": [
    {
      "name": "$BENCH_HANDOFF_IQN",
      "portal_groups": [
        { "tpgt": 1, "portals": [ { "address": "0.0.0.0", "port": 3260 } ], "demo_mode": true }
      ],
      "luns": [ { "lun": 0, "backstore": "bench0" } ],
      "parameters": {
        "max_recv_data_segment_length": $BENCH_MRDSL,
        "max_burst_length": $BENCH_MAXBURST,
        "first_burst_length": $BENCH_FIRSTBURST,
        "initial_r2t": true,
        "immediate_data": true
      }
    }
  ],
  "discovery": { "enabled": true }
}
JSON
}

# LIO's iscsi_target_mod exports the daemon's own core device ($1).
bench_lio_configure() {
    local core=$1 tpg=$VM_CONFIGFS/iscsi/$BENCH_LIO_IQN/tpgt_1
    vm_step "LIO iscsi_target_mod: $BENCH_LIO_IQN on :$BENCH_LIO_PORT, LUN 0 -> $core"
    modprobe iscsi_target_mod
    mkdir -p "$tpg/lun/lun_0"
    vm_on_exit bench_lio_teardown
    ln -s "$core" "$tpg/lun/lun_0/bench0"
    mkdir "$tpg/np/0.0.0.0:$BENCH_LIO_PORT"
    echo 1 > "$tpg/attrib/generate_node_acls"
    echo 1 > "$tpg/attrib/cache_dynamic_acls"
    echo 0 > "$tpg/attrib/demo_mode_write_protect"
    echo 0 > "$tpg/attrib/authentication"
    echo $BENCH_MRDSL > "$tpg/param/MaxRecvDataSegmentLength"
    echo $BENCH_MAXBURST > "$tpg/param/MaxBurstLength"
    echo $BENCH_FIRSTBURST > "$tpg/param/FirstBurstLength"
    echo Yes > "$tpg/param/InitialR2T"
    echo Yes > "$tpg/param/ImmediateData"
    echo 1 > "$tpg/enable"
    vm_wait_for 10 vm_listening $BENCH_LIO_PORT || vm_fail "iscsi_target_mod does not listen on :$BENCH_LIO_PORT"
}
bench_lio_teardown() {
    local tpg=$VM_CONFIGFS/iscsi/$BENCH_LIO_IQN/tpgt_1
    [ -d "$tpg" ] || return 0
    echo 0 > "$tpg/enable"
    rm -f "$tpg/lun/lun_0/bench0"
    rmdir "$tpg/lun/lun_0" "$tpg"/np/* "$tpg" "$VM_CONFIGFS/iscsi/$BENCH_LIO_IQN"
}

# bench_login IQN PORTAL: logs in and prints the new block device's name.
bench_login() {
    local iqn=$1 portal=$2 before after dev
    before=$(ls /sys/block | grep '^sd' | sort || true)
    iscsiadm -m node -o new -T "$iqn" -p "$portal" >/dev/null
    iscsiadm -m node -T "$iqn" -p "$portal" --login >&2
    local i
    for i in $(seq 150); do
        after=$(ls /sys/block | grep '^sd' | sort || true)
        dev=$(comm -13 <(echo "$before") <(echo "$after") | head -n1)
        [ -n "$dev" ] && [ -b "/dev/$dev" ] && break
        sleep 0.2
    done
    [ -n "$dev" ] || vm_fail "no disk appeared after the login to $iqn at $portal"
    # No I/O scheduler between fio and the initiator (oi_stop logs out at the end).
    echo none > "/sys/block/$dev/queue/scheduler" 2>/dev/null || true
    echo "$dev"
}

# bench_fio SIDE DEV WORKLOAD SECONDS ROUND: one fio run; appends
# "round workload side value" to $BENCH_RESULTS (IOPS or MB/s).
bench_fio() {
    local side=$1 dev=$2 workload=$3 seconds=$4 round=$5 args out value
    case $workload in
        randread-4k) args=(--rw=randread --bs=4k --iodepth=32) ;;
        seqread-128k) args=(--rw=read --bs=128k --iodepth=8) ;;
        seqwrite-128k) args=(--rw=write --bs=128k --iodepth=8) ;;
    esac
    out=$(fio --name="$workload" --filename="/dev/$dev" --ioengine=libaio --direct=1 \
        "${args[@]}" --runtime="$seconds" --time_based --ramp_time=1 \
        --output-format=json 2>/dev/null) || vm_fail "fio $workload on $side (/dev/$dev) failed"
    case $workload in
        randread-4k) value=$(jq '.jobs[0].read.iops' <<<"$out") ;;
        seqread-128k) value=$(jq '.jobs[0].read.bw_bytes / 1000000' <<<"$out") ;;
        seqwrite-128k) value=$(jq '.jobs[0].write.bw_bytes / 1000000' <<<"$out") ;;
    esac
    local errors
    errors=$(jq '.jobs[0].error' <<<"$out")
    [ "$errors" = 0 ] || vm_fail "fio $workload on $side reported error $errors"
    printf '%s %s %s %s\n' "$round" "$workload" "$side" "$value" >> "$BENCH_RESULTS"
    bench_say "$(printf 'round %s  %-14s %-8s %12.1f %s' "$round" "$workload" "$side" "$value" \
        "$([ $workload = randread-4k ] && echo IOPS || echo MB/s)")"
}

guest_main() {
    local seconds=${1:-10} rounds=${2:-3} backstore=${3:-ramdisk} size_mib=${4:-256}
    BENCH_RESULTS=$VM_JOB_DIR/results.txt
    : > "$BENCH_RESULTS"
    bench_say "backstore: $backstore ${size_mib} MiB; $rounds rounds of ${seconds} s per workload and side; guest $(nproc) vCPUs"
    local config=/run/bench-datapath.json
    bench_config "$backstore" $((size_mib * 1024 * 1024)) "$config"
    stack_start "$config"
    # The daemon created the core device; LIO's fabric links the same one.
    local core
    core=$(find "$VM_CONFIGFS/core" -mindepth 2 -maxdepth 2 -type d -path "*/$( [ "$backstore" = ramdisk ] && echo rd_mcp || echo fileio)_*/*" | head -n1)
    [ -n "$core" ] || vm_fail "cannot find the daemon's core device under $VM_CONFIGFS/core"
    bench_lio_configure "$core"

    oi_start
    local dev_handoff dev_lio
    dev_handoff=$(bench_login "$BENCH_HANDOFF_IQN" 127.0.0.1:3260)
    dev_lio=$(bench_login "$BENCH_LIO_IQN" 127.0.0.1:$BENCH_LIO_PORT)
    bench_say "handoff: /dev/$dev_handoff ($(blockdev --getsize64 /dev/$dev_handoff) bytes); iscsi_target_mod: /dev/$dev_lio ($(blockdev --getsize64 /dev/$dev_lio) bytes)"
    bench_say "negotiated (iscsiadm -m session -P 2):"
    iscsiadm -m session -P 2 | grep -E 'Target:|Portal|HeaderDigest|DataDigest|MaxRecvDataSegmentLength|MaxXmitDataSegmentLength|FirstBurstLength|MaxBurstLength|ImmediateData|InitialR2T|MaxOutstandingR2T' | sed 's/^/bench:   /'
    # Fill the device once so that reads return written data on both sides.
    vm_step "filling the device"
    dd if=/dev/zero of="/dev/$dev_handoff" bs=1M count="$size_mib" oflag=direct status=none

    local round workload side order
    for round in $(seq "$rounds"); do
        if [ $((round % 2)) -eq 1 ]; then order="handoff lio"; else order="lio handoff"; fi
        vm_step "round $round of $rounds ($order)"
        for workload in randread-4k seqread-128k seqwrite-128k; do
            for side in $order; do
                if [ "$side" = handoff ]; then
                    bench_fio handoff "$dev_handoff" "$workload" "$seconds" "$round"
                else
                    bench_fio lio "$dev_lio" "$workload" "$seconds" "$round"
                fi
            done
        done
    done
    bench_summary "$BENCH_RESULTS"
    iscsiadm -m node -T "$BENCH_LIO_IQN" -p 127.0.0.1:$BENCH_LIO_PORT --logout >/dev/null
    iscsiadm -m node -T "$BENCH_HANDOFF_IQN" -p 127.0.0.1:3260 --logout >/dev/null
    bench_lio_teardown
    stack_stop
}

# Medians per side, and the median of the per-round ratios handoff/lio.
bench_summary() {
    python3 - "$1" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
by = {}
for rnd, wl, side, v in rows:
    by.setdefault(wl, {}).setdefault(side, {})[int(rnd)] = float(v)
print("bench: summary (median of rounds; ratio = median of the per-round ratios handoff/iscsi_target_mod)")
print("bench: %-14s %14s %18s %8s %s" % ("workload", "handoff", "iscsi_target_mod", "ratio", "per-round ratios"))
for wl in ("randread-4k", "seqread-128k", "seqwrite-128k"):
    h, l = by[wl]["handoff"], by[wl]["lio"]
    ratios = [h[r] / l[r] for r in sorted(h) if r in l and l[r] > 0]
    unit = "IOPS" if wl == "randread-4k" else "MB/s"
    print("bench: %-14s %9.1f %-4s %13.1f %-4s %8.2f %s" % (
        wl, statistics.median(h.values()), unit, statistics.median(l.values()), unit,
        statistics.median(ratios), " ".join("%.2f" % r for r in ratios)))
PY
}
