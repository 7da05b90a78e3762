# Control-plane benchmark (issue 5), run in the guest by bench/control/run.
#
# The same 1,000 targets, each with a TPG, a portal on 0.0.0.0 and one fileio
# LUN on its own 1 MiB sparse file (created beforehand on the guest's tmpfs,
# the same files for both sides), are created and listed:
#   ours (a) `iscsictl config reload` of a config.json with all of them (what an
#            administrator restoring a configuration does; the D-Bus Reload);
#        (b) one `iscsictl` invocation per object (backstore, target, tpg,
#            portal, lun: 5 per target), as a shell script adding them would;
#        listing: `iscsictl target list --json` and `iscsictl config show --json`.
#   LIO  `targetctl restore` of the saveconfig.json targetcli itself writes for
#        one such target, repeated for the 1,000 (portal port 3261, since our
#        daemon holds 0.0.0.0:3260 in the same guest); listing: `targetcli ls`.
# Both sides end with an empty configuration (reload of an empty config.json;
# `targetctl clear`), also timed. Rounds alternate which side goes first.
# Then (c): one target with nop_in_interval_s 0, bench-hold-sessions logs in
# N sessions through the daemon (handed off to iscsi_handoff.ko), and
# `iscsictl session list --json` is timed with all of them live, with the
# daemon's VmRSS/VmHWM.
#
# guest_main TARGETS CLI_TARGETS SESSIONS ROUNDS [both|ours]
BENCH_IQN_PREFIX=iqn.2026-12.org.iscsi-target:bench.t
BENCH_LUN_DIR=/var/tmp/bench-luns
BENCH_ETC=/etc/iscsi-target
BENCH_HOLD=${BENCH_HOLD:-$BUILD_DIR/bin/bench-hold-sessions}
BENCH_ELAPSED=

bench_say() { echo "bench: $*"; }

# bench_time LABEL COMMAND...: runs COMMAND (output to /run/bench-last.out),
# sets BENCH_ELAPSED in seconds and prints it under LABEL.
bench_time() {
    local label=$1 t0 t1 rc=0
    shift
    t0=$(date +%s%N)
    "$@" > /run/bench-last.out 2>&1 || rc=$?
    t1=$(date +%s%N)
    BENCH_ELAPSED=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
    if [ $rc -ne 0 ]; then
        tail -n 20 /run/bench-last.out
        vm_fail "$label failed with status $rc after ${BENCH_ELAPSED} s"
    fi
    grep -h '^bench: ' /run/bench-last.out || true
    bench_say "$(printf '%-48s %9.3f s' "$label" "$BENCH_ELAPSED")"
    echo "$label $BENCH_ELAPSED" >> "$VM_JOB_DIR/results.txt"
}

bench_name() { printf '%s%04d' "$BENCH_IQN_PREFIX" "$1"; }

# One process for all the files: a truncate(1) each costs ~0.2 s under TCG.
bench_make_files() {
    python3 - "$1" "$BENCH_LUN_DIR" <<'PY'
import os, sys
n, d = int(sys.argv[1]), sys.argv[2]
os.makedirs(d, exist_ok=True)
for i in range(n):
    with open("%s/lun%04d.img" % (d, i), "wb") as f:
        f.truncate(1 << 20)
PY
}

# Our config.json with N targets (the daemon's own format, daemon/config/model.h).
bench_our_config() {
    python3 - "$1" "$BENCH_IQN_PREFIX" "$BENCH_LUN_DIR" > "$2" <<'PY'
import json, sys
n, prefix, d = int(sys.argv[1]), sys.argv[2], sys.argv[3]
print(json.dumps({
    "backstores": [{"name": "lun%04d" % i, "type": "fileio", "path": "%s/lun%04d.img" % (d, i),
                    "size_bytes": 1048576} for i in range(n)],
    "targets": [{"name": "%s%04d" % (prefix, i),
                 "portal_groups": [{"tpgt": 1, "portals": [{"address": "0.0.0.0", "port": 3260}]}],
                 "luns": [{"lun": 0, "backstore": "lun%04d" % i}]} for i in range(n)],
    "discovery": {"enabled": True}}, indent=1))
PY
}

# The daemon reads $BENCH_ETC/config.json on Reload. iscsictl gives up on
# a D-Bus call after 30 s (dbus/client/client.cpp) while the daemon carries
# on; a 1,000-target reload under TCG can take longer, so then this waits
# until the daemon answers again with the new configuration in force, and
# says so: the time measured is until the reload was done.
bench_reload() {
    local want
    want=$(jq '.targets | length' "$1")
    cp "$1" "$BENCH_ETC/config.json"
    "$VM_ISCSICTL" config reload && return 0
    echo "bench: iscsictl config reload gave up (D-Bus call timeout); waiting for the daemon to finish it" >&2
    vm_wait_for 1200 eval '[ "$("$VM_ISCSICTL" target list --json | jq length)" = "$want" ]'
}

# targetcli writes the saveconfig.json for one target; it is repeated N times.
bench_lio_saveconfig() {
    local n=$1 out=$2 one=/run/bench-lio-one.json
    vm_step "targetcli: one target to learn its saveconfig.json"
    # rtslib-fb points target_core_mod's dbroot here and refuses to start
    # when the directory is missing (the package does not create it).
    mkdir -p /etc/rtslib-fb-target
    targetcli /backstores/fileio create lun0000 "$BENCH_LUN_DIR/lun0000.img" 1M
    targetcli /iscsi create "$(bench_name 0)"
    targetcli "/iscsi/$(bench_name 0)/tpg1/luns" create /backstores/fileio/lun0000
    targetctl save "$one"
    targetctl clear
    python3 - "$one" "$n" "$BENCH_IQN_PREFIX" "$BENCH_LUN_DIR" > "$out" <<'PY'
import copy, json, sys
one, n, prefix, d = json.load(open(sys.argv[1])), int(sys.argv[2]), sys.argv[3], sys.argv[4]
so, tg = one["storage_objects"][0], one["targets"][0]
out = dict(one, storage_objects=[], targets=[])
for i in range(n):
    s = copy.deepcopy(so)
    s["name"], s["dev"] = "lun%04d" % i, "%s/lun%04d.img" % (d, i)
    s.pop("wwn", None)   # each gets its own, as targetcli would generate
    out["storage_objects"].append(s)
    t = copy.deepcopy(tg)
    t["wwn"] = "%s%04d" % (prefix, i)
    for tpg in t["tpgs"]:
        for lun in tpg["luns"]:
            lun["storage_object"] = "/backstores/fileio/lun%04d" % i
        for p in tpg["portals"]:
            p["port"] = 3261
    out["targets"].append(t)
json.dump(out, sys.stdout, indent=2)
PY
}

bench_lio_round() {
    local n=$1 file=$2 count
    bench_time "LIO: targetctl restore ($n targets)" targetctl restore "$file"
    count=$(ls -d "$VM_CONFIGFS"/iscsi/"$BENCH_IQN_PREFIX"* | wc -l)
    [ "$count" -eq "$n" ] || vm_fail "after targetctl restore configfs has $count targets, expected $n"
    bench_time "LIO: targetcli ls" targetcli ls
    count=$(grep -c "o- $BENCH_IQN_PREFIX" /run/bench-last.out || true)
    [ "$count" -eq "$n" ] || vm_fail "targetcli ls shows $count targets, expected $n"
    bench_time "LIO: targetctl clear" targetctl clear
}

bench_ours_reload_round() {
    local n=$1 file=$2 empty=$3 count
    bench_time "ours: iscsictl config reload ($n targets)" bench_reload "$file"
    count=$(ls -d "$VM_CONFIGFS"/iscsi_handoff/"$BENCH_IQN_PREFIX"* | wc -l)
    [ "$count" -eq "$n" ] || vm_fail "after the reload configfs has $count targets, expected $n"
    bench_ours_list "$n"
    bench_time "ours: iscsictl config reload (empty)" bench_reload "$empty"
}

bench_ours_list() {
    local n=$1 count
    bench_time "ours: iscsictl target list --json" "$VM_ISCSICTL" target list --json
    count=$(jq length /run/bench-last.out)
    [ "$count" -eq "$n" ] || vm_fail "iscsictl target list shows $count targets, expected $n"
    bench_time "ours: iscsictl config show --json" "$VM_ISCSICTL" config show --json
}

bench_ours_cli_script() {
    local n=$1 i name
    for ((i = 0; i < n; i++)); do
        name=$(bench_name $i)
        "$VM_ISCSICTL" backstore create "$(printf 'lun%04d' $i)" --type fileio \
            --path "$(printf '%s/lun%04d.img' "$BENCH_LUN_DIR" $i)" --size 1M >/dev/null
        "$VM_ISCSICTL" target create "$name" >/dev/null
        "$VM_ISCSICTL" tpg create "$name" 1 >/dev/null
        "$VM_ISCSICTL" portal create "$name" 0.0.0.0 --port 3260 --tpgt 1 >/dev/null
        "$VM_ISCSICTL" lun create "$name" 0 "$(printf 'lun%04d' $i)" >/dev/null
    done
}

bench_ours_cli_round() {
    local n=$1 empty=$2 count
    bench_time "ours: iscsictl per object ($n targets, $((5 * n)) calls)" bench_ours_cli_script "$n"
    count=$(ls -d "$VM_CONFIGFS"/iscsi_handoff/"$BENCH_IQN_PREFIX"* | wc -l)
    [ "$count" -eq "$n" ] || vm_fail "after the iscsictl calls configfs has $count targets, expected $n"
    bench_ours_list "$n"
    bench_time "ours: iscsictl config reload (empty)" bench_reload "$empty"
}

# stack_start without its wait for :3260 (an empty configuration has no
# portal): the daemon is up once iscsictl gets an answer over D-Bus.
bench_daemon_start() {
    stack_require
    handoff_load
    mkdir -p "$BENCH_ETC"
    cp "$1" "$BENCH_ETC/config.json"
    echo '{ "chap": {} }' > "$BENCH_ETC/secrets.json"
    chmod 0600 "$BENCH_ETC/secrets.json"
    vm_step "starting iscsi-targetd with an empty configuration"
    VM_FAILURE_LOGS+=("$VM_DAEMON_LOG")
    # Info, not debug: 1,000 sessions' worth of debug lines would be measured too.
    setsid "$VM_DAEMON" --config "$BENCH_ETC/config.json" --secrets "$BENCH_ETC/secrets.json" \
        --state-dir /var/lib/iscsi-target --log-level info --foreground > "$VM_DAEMON_LOG" 2>&1 &
    VM_DAEMON_PID=$!
    vm_on_exit stack_stop
    vm_wait_for 60 "$VM_ISCSICTL" target list || { tail -n 30 "$VM_DAEMON_LOG"; vm_fail "iscsi-targetd does not answer over D-Bus after 60 s"; }
}

bench_rss() {
    grep -E '^(VmRSS|VmHWM)' "/proc/$VM_DAEMON_PID/status" | tr -s ' \t' ' ' | tr '\n' ' '
}

# (c) N live sessions held by bench-hold-sessions, then session list timed.
bench_sessions() {
    local n=$1 file=/run/bench-sessions.json i
    [ -x "$BENCH_HOLD" ] || vm_fail "$BENCH_HOLD is not built (cmake --build build --target bench-hold-sessions)"
    cat > "$file" <<JSON
{
  "backstores": [ { "name": "s0", "type": "ramdisk", "size_bytes": 16777216 } ],
  "targets": [
    {
      "name": "iqn.2026-12.org.iscsi-target:bench.sessions",
      "portal_groups": [
        { "tpgt": 1, "portals": [ { "address": "0.0.0.0", "port": 3260 } ], "demo_mode": true,
          "nop_in_interval_s": 0 }
      ],
      "luns": [ { "lun": 0, "backstore": "s0" } ]
    }
  ],
  "discovery": { "enabled": true }
}
JSON
    bench_reload "$file" >/dev/null
    bench_say "daemon before the sessions: $(bench_rss)"
    # The floor under emulation: the same command with no session to list
    # (process start, bus connection, one call).
    for i in 1 2 3; do
        bench_time "ours: iscsictl session list --json (0 sessions) #$i" "$VM_ISCSICTL" session list --json
    done
    vm_step "logging in $n sessions"
    mkfifo /run/bench-hold.in
    "$BENCH_HOLD" --target iqn.2026-12.org.iscsi-target:bench.sessions --count "$n" \
        < /run/bench-hold.in > /run/bench-hold.out 2> /run/bench-hold.err &
    local hold=$!
    exec 7> /run/bench-hold.in
    vm_on_exit "exec 7>&-; kill $hold"
    for ((i = 0; i < 3000; i++)); do
        grep -q '^ready' /run/bench-hold.out && break
        kill -0 $hold 2>/dev/null || { cat /run/bench-hold.err; vm_fail "bench-hold-sessions stopped before logging in $n sessions"; }
        sleep 0.2
    done
    grep -q '^ready' /run/bench-hold.out || vm_fail "bench-hold-sessions did not log in $n sessions in time"
    bench_say "$n sessions logged in in $(awk '{print $3}' /run/bench-hold.out) s (8 logins in flight)"
    local count
    for i in 1 2 3 4 5; do
        bench_time "ours: iscsictl session list --json ($n sessions) #$i" "$VM_ISCSICTL" session list --json
    done
    count=$(jq length /run/bench-last.out)
    [ "$count" -eq "$n" ] || vm_fail "iscsictl session list shows $count sessions, expected $n"
    # Where the time goes: the kernel's SESSION_LIST dump and its decoding
    # alone (the probe, same library as the daemon), and the daemon and the
    # bus without iscsictl (busctl, output discarded).
    for i in 1 2 3; do
        bench_time "parts: iscsi-handoff-probe sessions ($n) #$i" "$BUILD_DIR/bin/iscsi-handoff-probe" sessions
    done
    for i in 1 2 3; do
        bench_time "parts: busctl call ListSessions ($n) #$i" busctl --system call org.iscsictl.target1 \
            /org/iscsictl/target1 org.iscsictl.target1.Manager ListSessions
    done
    bench_say "daemon with $n live sessions: $(bench_rss)"
    bench_say "module: $(python3 "$VM_IH_TOOL" list | tail -n1)"
    # Teardown: the holder closes its connections; the kernel notices each
    # close and the daemon drops the session. Timed until the list is empty.
    local t0 t1
    t0=$(date +%s%N)
    exec 7>&-
    wait $hold || true
    vm_step "waiting for the sessions to end"
    if vm_wait_for 300 eval '[ "$("$VM_ISCSICTL" session list --json | jq length)" = 0 ]'; then
        t1=$(date +%s%N)
        bench_say "$(printf '%-48s %9.3f s' "ours: $n sessions closed until none listed" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')")"
    else
        bench_say "sessions still listed after 300 s: $("$VM_ISCSICTL" session list --json | jq length)"
    fi
    bench_say "module after the teardown: $(python3 "$VM_IH_TOOL" list | tail -n1)"
    bench_say "daemon: $(grep -c ' down: ' "$VM_DAEMON_LOG") down events logged; $(grep -c 'dropped events' "$VM_DAEMON_LOG") overrun(s); $(grep 'reconciled with the kernel' "$VM_DAEMON_LOG" | tail -n1)"
}

guest_main() {
    local n=${1:-1000} cli_n=${2:-1000} sessions=${3:-1000} rounds=${4:-1} sides=${5:-both} r
    ulimit -n 65536
    export HOME=/root
    : > "$VM_JOB_DIR/results.txt"
    bench_say "$n targets (iscsictl per object: $cli_n), $sessions sessions, $rounds round(s); guest $(nproc) vCPUs"
    modprobe target_core_mod
    modprobe target_core_file
    modprobe iscsi_target_mod
    # targetcli asks the system bus for tcmu-runner's handlers and gives up
    # without a bus: start the guest's bus now, and once (stack_start would
    # start another on the same socket).
    dbus_start
    dbus_start() { :; }
    vm_step "creating $n sparse 1 MiB files"
    bench_make_files "$n"
    local lio_file=/run/bench-saveconfig.json ours_file=/run/bench-config.json empty=/run/bench-empty.json
    [ "$sides" = ours ] || bench_lio_saveconfig "$n" "$lio_file"
    bench_our_config "$n" "$ours_file"
    echo '{ "backstores": [], "targets": [], "discovery": { "enabled": true } }' > "$empty"
    vm_on_exit "targetctl clear"
    bench_daemon_start "$empty"
    bench_say "daemon idle: $(bench_rss)"
    for ((r = 1; r <= rounds; r++)); do
        vm_step "round $r of $rounds"
        if [ "$sides" = ours ]; then
            bench_ours_reload_round "$n" "$ours_file" "$empty"
        elif [ $((r % 2)) -eq 1 ]; then
            # Ours first: a run cut short by the guest's time limit still has
            # our figures and a lower bound for LIO's (its start is logged).
            bench_ours_reload_round "$n" "$ours_file" "$empty"
            bench_lio_round "$n" "$lio_file"
        else
            bench_lio_round "$n" "$lio_file"
            bench_ours_reload_round "$n" "$ours_file" "$empty"
        fi
    done
    [ "$cli_n" -eq 0 ] || bench_ours_cli_round "$cli_n" "$empty"
    bench_say "daemon after the target rounds: $(bench_rss)"
    [ "$sessions" -eq 0 ] || bench_sessions "$sessions"
    bench_reload "$empty" >/dev/null
    stack_stop
}
