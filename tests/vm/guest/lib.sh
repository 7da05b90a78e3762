# Helpers for scenarios running inside the guest (sourced by run-scenario).
# The guest runs the host's userspace, so every tool here is the host's own
# binary; only the kernel and its modules come from the Debian image.

. "$VM_SRC/lib/names.sh"
VM_BACKING_FILE=${VM_BACKING_FILE:-/var/tmp/vm-disk0.img}
VM_CONFIGFS=/sys/kernel/config/target

vm_say() { echo "vm-guest: $*"; }
vm_fail() { echo "vm-guest: FAILED: $*"; exit 1; }
# A step with the guest's uptime, so the log shows where the time goes.
vm_step() { local up; read -r up _ < /proc/uptime; echo "== [${up}s] $*"; }

# Cleanup hooks run in reverse order when the scenario ends, pass or fail.
VM_CLEANUPS=()
vm_on_exit() { VM_CLEANUPS+=("$*"); }
vm_cleanup() {
    local rc=$? i
    set +e
    trap - ERR
    for ((i = ${#VM_CLEANUPS[@]} - 1; i >= 0; i--)); do
        (eval "${VM_CLEANUPS[$i]}") >/dev/null 2>&1
    done
    exit $rc
}

# Polls "$@" every 0.2 s until it succeeds or $1 seconds pass.
vm_wait_for() {
    local deadline=$(( $(date +%s) + $1 )); shift
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}

# Hands control to the host for phase $1 (the scenario's host_$1 function,
# run by tests/vm/run on the host against the forwarded port) and returns its
# status. The host answers by writing $VM_JOB_DIR/host-$1.rc.
#   vm_host_phase NAME [SECONDS]
# SECONDS (default: the host's 240) is the host's limit for this phase; the
# guest waits 60 s longer, so the host's own timeout is what reports it.
vm_host_phase() {
    local name=$1 limit=${2:-} rc_file=$VM_JOB_DIR/host-$1.rc wait_s=${VM_HOST_PHASE_TIMEOUT:-300}
    [ -z "$limit" ] || wait_s=$((limit + 60))
    rm -f "$rc_file"
    vm_step "host phase $name${limit:+ (limit ${limit}s)}"
    echo "VM-HOST-PHASE: $name${limit:+ $limit}"
    vm_wait_for "$wait_s" test -s "$rc_file" ||
        vm_fail "the host did not finish phase $name"
    local rc
    rc=$(cat "$rc_file")
    [ "$rc" = 0 ] || vm_fail "host phase $name failed with status $rc"
    vm_say "host phase $name passed"
}

vm_listening() { ss -Htln "sport = :$1" | grep -q .; }

# ---------------------------------------------------------------- the anchor
# LIO's own iscsi_target_mod, configured by hand through configfs the way
# targetcli would: a fileio backstore on the guest's tmpfs, one TPG with a
# portal on every address, LUN 0, and either demo mode (any initiator) or one
# ACL with CHAP.
#   lio_configure [--chap USER SECRET | --acl]
# --acl: an ACL for $VM_INITIATOR_IQN without CHAP instead of demo mode (its
# configfs "info" then shows the session's ISID, TSIH, CID and addresses).
lio_configure() {
    local chap_user= chap_secret= acl_only=0
    case ${1:-} in
        --chap) chap_user=$2; chap_secret=$3 ;;
        --acl) acl_only=1 ;;
    esac
    vm_step "configuring LIO iscsi_target_mod: $VM_TARGET_IQN, fileio ${VM_LUN_SIZE_MB} MiB"
    modprobe target_core_mod
    modprobe target_core_file
    modprobe iscsi_target_mod
    local core=$VM_CONFIGFS/core/fileio_0/disk0
    mkdir -p "$core"
    echo "fd_dev_name=$VM_BACKING_FILE,fd_dev_size=$((VM_LUN_SIZE_MB * 1024 * 1024)),fd_buffered_io=1" > "$core/control"
    echo "vm-disk0-serial" > "$core/wwn/vpd_unit_serial"
    echo 1 > "$core/enable"
    vm_on_exit lio_teardown

    local tpg=$VM_CONFIGFS/iscsi/$VM_TARGET_IQN/tpgt_1
    mkdir -p "$tpg/lun/lun_0"
    ln -s "$core" "$tpg/lun/lun_0/disk0"
    mkdir "$tpg/np/0.0.0.0:3260"
    if [ -n "$chap_user" ] || [ $acl_only -eq 1 ]; then
        echo 0 > "$tpg/attrib/generate_node_acls"
        local acl=$tpg/acls/$VM_INITIATOR_IQN
        mkdir -p "$acl/lun_0"
        ln -s "$tpg/lun/lun_0" "$acl/lun_0/disk0"
        if [ -n "$chap_user" ]; then
            echo 1 > "$tpg/attrib/authentication"
            printf %s "$chap_user" > "$acl/auth/userid"
            printf %s "$chap_secret" > "$acl/auth/password"
        else
            echo 0 > "$tpg/attrib/authentication"
        fi
    else
        echo 1 > "$tpg/attrib/generate_node_acls"
        echo 1 > "$tpg/attrib/cache_dynamic_acls"
        echo 0 > "$tpg/attrib/demo_mode_write_protect"
        echo 0 > "$tpg/attrib/authentication"
    fi
    echo 1 > "$tpg/enable"
    vm_wait_for 10 vm_listening 3260 || vm_fail "iscsi_target_mod does not listen on :3260"
}

# lio_teardown [--keep-file]: --keep-file leaves the backing file for the
# next target to serve (the conformance comparison uses the same backstore).
lio_teardown() {
    local tpg=$VM_CONFIGFS/iscsi/$VM_TARGET_IQN/tpgt_1 d keep=${1:-}
    [ -d "$tpg" ] || return 0
    echo 0 > "$tpg/enable" 2>/dev/null
    for d in "$tpg"/acls/*/lun_*; do [ -d "$d" ] && { rm -f "$d"/*; rmdir "$d"; }; done
    for d in "$tpg"/acls/*; do [ -d "$d" ] && rmdir "$d"; done
    rm -f "$tpg"/lun/lun_0/disk0
    rmdir "$tpg"/lun/lun_0 "$tpg"/np/* "$tpg" "$VM_CONFIGFS/iscsi/$VM_TARGET_IQN" 2>/dev/null
    rmdir "$VM_CONFIGFS/core/fileio_0/disk0" "$VM_CONFIGFS/core/fileio_0" 2>/dev/null
    [ "$keep" = --keep-file ] || rm -f "$VM_BACKING_FILE"
}

# ------------------------------------------------------------- open-iscsi
VM_ISCSID_PID=
oi_start() {
    vm_step "starting iscsid"
    # No udev in the guest: the SCSI disk driver is not loaded on demand.
    modprobe iscsi_tcp
    modprobe sd_mod
    mkdir -p /etc/iscsi /run/lock/iscsi
    echo "InitiatorName=$VM_INITIATOR_IQN" > /etc/iscsi/initiatorname.iscsi
    # Short timeouts: a broken target should fail the scenario, not stall it.
    sed -i -e 's/^node.session.timeo.replacement_timeout.*/node.session.timeo.replacement_timeout = 10/' \
           -e 's/^node.conn\[0\].timeo.login_timeout.*/node.conn[0].timeo.login_timeout = 10/' \
           -e 's/^node.startup.*/node.startup = manual/' /etc/iscsi/iscsid.conf
    # Its own session: iscsid signals its whole process group when it stops.
    setsid iscsid -f &
    VM_ISCSID_PID=$!
    vm_on_exit oi_stop
    # iscsiadm exits 21 (no sessions) once iscsid answers, 20 while it cannot reach it.
    vm_wait_for 10 oi_iscsid_answers || vm_fail "iscsid does not answer"
}
oi_iscsid_answers() { local rc=0; iscsiadm -m session >/dev/null 2>&1 || rc=$?; [ $rc -eq 0 ] || [ $rc -eq 21 ]; }
oi_stop() {
    iscsiadm -m node -u >/dev/null 2>&1
    [ -n "$VM_ISCSID_PID" ] && kill "$VM_ISCSID_PID" && wait "$VM_ISCSID_PID"
    VM_ISCSID_PID=
}

# oi_discover PORTAL: SendTargets must list $VM_TARGET_IQN.
oi_discover() {
    vm_step "discovery (SendTargets) at $1"
    local out
    out=$(iscsiadm -m discovery -t st -p "$1")
    echo "$out"
    grep -q " $VM_TARGET_IQN\$" <<<"$out" || vm_fail "discovery at $1 does not list $VM_TARGET_IQN"
}

# oi_chap USER SECRET: one-way CHAP for every discovered node of the target.
oi_chap() {
    iscsiadm -m node -T "$VM_TARGET_IQN" -o update -n node.session.auth.authmethod -v CHAP
    iscsiadm -m node -T "$VM_TARGET_IQN" -o update -n node.session.auth.username -v "$1"
    iscsiadm -m node -T "$VM_TARGET_IQN" -o update -n node.session.auth.password -v "$2"
}

# oi_login: logs in to $VM_TARGET_IQN and sets VM_DISK to its block device.
VM_DISK=
oi_login() {
    vm_step "login to $VM_TARGET_IQN"
    iscsiadm -m node -T "$VM_TARGET_IQN" --login
    vm_on_exit oi_logout
    vm_wait_for 30 oi_find_disk || { iscsiadm -m session -P 3; vm_fail "no disk appeared after login"; }
    oi_find_disk
    vm_say "logged in, disk /dev/$VM_DISK ($(blockdev --getsize64 "/dev/$VM_DISK") bytes)"
    iscsiadm -m session -P 1 | sed -n '1,40p'
}
oi_find_disk() {
    VM_DISK=$(iscsiadm -m session -P 3 2>/dev/null | sed -n 's/.*Attached scsi disk \([a-z]*\).*State: running.*/\1/p' | head -n1)
    [ -n "$VM_DISK" ] && [ -b "/dev/$VM_DISK" ]
}
oi_logout() {
    vm_step "logout from $VM_TARGET_IQN"
    iscsiadm -m node -T "$VM_TARGET_IQN" --logout
    if iscsiadm -m session >/dev/null 2>&1; then
        iscsiadm -m session; vm_fail "a session is still listed after logout"
    fi
}

# fs_roundtrip DEVICE MIB: mkfs.ext4, write MIB MiB of random data, unmount,
# drop caches, mount again and compare checksums.
fs_roundtrip() {
    local dev=$1 mib=$2 mnt=/mnt/vm-disk
    vm_step "mkfs.ext4 /dev/$dev"
    mkfs.ext4 -q -F "/dev/$dev"
    mkdir -p "$mnt"
    mount "/dev/$dev" "$mnt"
    vm_on_exit "umount $mnt"
    vm_step "writing $mib MiB of random data"
    head -c "$((mib * 1024 * 1024))" /dev/urandom > /tmp/vm-random.bin
    local want got
    want=$(md5sum < /tmp/vm-random.bin)
    cp /tmp/vm-random.bin "$mnt/random.bin"
    sync
    umount "$mnt"
    echo 3 > /proc/sys/vm/drop_caches
    vm_step "remounting and verifying"
    mount "/dev/$dev" "$mnt"
    got=$(md5sum < "$mnt/random.bin")
    umount "$mnt"
    rm -f /tmp/vm-random.bin
    [ "$want" = "$got" ] || vm_fail "checksum mismatch after remount: wrote $want read $got"
    vm_say "md5 ${want%% *} matches after remount"
}

# ------------------------------------------------------- our stack
# iscsi_handoff.ko from the build tree on LIO's core, and iscsi-targetd from
# the build tree doing the logins, on a private D-Bus.
VM_HANDOFF_KO=${VM_HANDOFF_KO:-$BUILD_DIR/kmod/iscsi_handoff.ko}
VM_DAEMON=${VM_DAEMON:-$BUILD_DIR/bin/iscsi-targetd}
VM_ISCSICTL=${VM_ISCSICTL:-$BUILD_DIR/bin/iscsictl}
VM_DAEMON_LOG=/run/iscsi-targetd.log
VM_DAEMON_PID=
VM_DBUS_PID=
# Files whose tail the scenario prints when it fails.
VM_FAILURE_LOGS=()

# stack_require: both pieces must be built; this is a hard failure, not a
# skip, so a broken build never passes for a missing one.
stack_require() {
    local missing=()
    [ -f "$VM_HANDOFF_KO" ] || missing+=("$VM_HANDOFF_KO (the kernel module, kmod-glue/kernel)")
    [ -x "$VM_DAEMON" ] || missing+=("$VM_DAEMON (the daemon)")
    if [ ${#missing[@]} -gt 0 ]; then
        printf 'vm-guest: this scenario needs %s\n' "${missing[@]}"
        vm_fail "our stack is not built: build it with cmake --build $BUILD_DIR"
    fi
}

handoff_load() {
    vm_step "loading iscsi_handoff.ko on LIO's target core"
    # The module is not in the image's modules.dep: load what it names as
    # its dependencies first, then the backstore drivers the configs use.
    local dep
    for dep in $(modinfo -F depends "$VM_HANDOFF_KO" | tr ',' ' '); do modprobe "$dep"; done
    modprobe target_core_mod
    modprobe target_core_file
    modprobe target_core_iblock
    insmod "$VM_HANDOFF_KO"
    grep -q '^iscsi_handoff ' /proc/modules || vm_fail "iscsi_handoff is not in /proc/modules after insmod"
    vm_on_exit "rmmod iscsi_handoff"
}

# handoff_unload: rmmod must succeed once the daemon is gone and the
# module's configfs tree is empty.
handoff_unload() {
    vm_step "rmmod iscsi_handoff"
    local fabric=$VM_CONFIGFS/iscsi_handoff
    if [ -d "$fabric" ] && [ -n "$(ls -A "$fabric" 2>/dev/null | grep -v '^discovery_auth$' | grep -iv '^version$')" ]; then
        # The daemon leaves its configfs tree in place when it stops, so that
        # a restart does not drop sessions; rmmod needs it gone.
        vm_say "removing the fabric's configfs tree ($(ls "$fabric" | tr '\n' ' ')) before rmmod"
        configfs_remove_fabric iscsi_handoff || vm_fail "cannot remove the iscsi_handoff configfs tree"
    fi
    [ ! -d "$fabric" ] || rmdir "$fabric" 2>/dev/null || true
    rmmod iscsi_handoff || { grep '^iscsi_handoff ' /proc/modules; vm_fail "rmmod iscsi_handoff failed"; }
    ! grep -q '^iscsi_handoff ' /proc/modules || vm_fail "iscsi_handoff is still loaded after rmmod"
}

# configfs_remove_fabric NAME: removes every target of a fabric. configfs
# wants links gone first, then directories deepest first; the default groups
# (attrib, param, auth, ...) refuse rmdir and go with their parent.
configfs_remove_fabric() {
    local fabric=$VM_CONFIGFS/$1 f d pass
    for f in "$fabric"/*/tpgt_*/enable; do [ -f "$f" ] && echo 0 > "$f"; done 2>/dev/null
    find "$fabric" -mindepth 2 -type l -delete 2>/dev/null
    for pass in 1 2 3; do
        find "$fabric" -mindepth 1 -depth -type d 2>/dev/null | while read -r d; do rmdir "$d" 2>/dev/null; done
    done
    # What is left at the top must be the fabric's own default groups.
    if [ -n "$(find "$fabric" -mindepth 1 -maxdepth 1 -type d ! -name discovery_auth 2>/dev/null)" ]; then
        find "$fabric" -maxdepth 3 | head -n 30
        return 1
    fi
}

dbus_start() {
    mkdir -p /run/dbus
    VM_DBUS_PID=$(dbus-daemon --config-file="$VM_SRC/guest/dbus-vm.conf" --fork --print-pid)
    export DBUS_SYSTEM_BUS_ADDRESS=unix:path=/run/iscsi-vm-bus
    vm_on_exit "kill $VM_DBUS_PID"
}

# stack_start CONFIG [SECRETS]: module, bus, daemon; waits until the daemon
# listens on :3260 and has created the target in the module's configfs tree.
stack_start() {
    local config=${1:-${VM_CONFIG:-$VM_SRC/configs/demo.json}} secrets=${2:-${VM_SECRETS:-}}
    stack_require
    handoff_load
    dbus_start
    mkdir -p /etc/iscsi-target
    cp "$config" /etc/iscsi-target/config.json
    if [ -n "$secrets" ]; then
        install -m 0600 "$secrets" /etc/iscsi-target/secrets.json
    else
        echo '{ "chap": {} }' > /etc/iscsi-target/secrets.json
        chmod 0600 /etc/iscsi-target/secrets.json
    fi
    vm_step "starting iscsi-targetd with $(basename "$config")"
    VM_FAILURE_LOGS+=("$VM_DAEMON_LOG")
    vm_on_exit stack_stop
    stack_daemon_start
}

# stack_daemon_start: starts iscsi-targetd on what stack_start installed
# (also to restart it after a kill: its log is appended to) and waits until it
# listens and has its target in the module's configfs tree.
stack_daemon_start() {
    setsid "$VM_DAEMON" --config /etc/iscsi-target/config.json --secrets /etc/iscsi-target/secrets.json \
        --state-dir /var/lib/iscsi-target --log-level debug --foreground >> "$VM_DAEMON_LOG" 2>&1 &
    VM_DAEMON_PID=$!
    local target
    target=$(sed -n 's/.*"name": *"\(iqn\.[^"]*\)".*/\1/p' /etc/iscsi-target/config.json | head -n1)
    if ! vm_wait_for 30 vm_listening 3260; then
        tail -n 30 "$VM_DAEMON_LOG"
        vm_fail "iscsi-targetd does not listen on :3260 after 30 s"
    fi
    if [ -n "$target" ] && ! vm_wait_for 30 test -d "$VM_CONFIGFS/iscsi_handoff/$target"; then
        tail -n 30 "$VM_DAEMON_LOG"
        vm_fail "iscsi-targetd did not create $target under $VM_CONFIGFS/iscsi_handoff"
    fi
    vm_say "iscsi-targetd (pid $VM_DAEMON_PID) serves $target"
}

# stack_stop: SIGTERM, then the daemon has 10 s to exit cleanly.
# vm_stop_daemon PID SIGNALLED SECONDS LIMIT_TEXT: SIGTERM to SIGNALLED (PID
# itself, or the main process under a wrapper), then waits up to SECONDS for
# PID to exit; fails (after SIGKILL) if it does not, or if it exits with
# anything but 0 or the SIGTERM. The caller forgets PID first, so that a
# cleanup hook does not stop it twice.
vm_stop_daemon() {
    local pid=$1 signalled=$2 seconds=$3 limit_text=$4 rc=0
    kill -TERM "$signalled" 2>/dev/null || true
    if ! vm_wait_for "$seconds" eval "! kill -0 $pid"; then
        kill -KILL "$signalled" "$pid" 2>/dev/null || true
        vm_fail "iscsi-targetd did not exit within $limit_text of SIGTERM"
    fi
    wait "$pid" || rc=$?
    [ $rc -eq 0 ] || [ $rc -eq 143 ] || vm_fail "iscsi-targetd exited with status $rc on SIGTERM"
}

stack_stop() {
    [ -n "$VM_DAEMON_PID" ] || return 0
    vm_step "stopping iscsi-targetd"
    local pid=$VM_DAEMON_PID
    VM_DAEMON_PID=
    vm_stop_daemon "$pid" "$pid" 10 "10 s"
}

# stack_sessions: the module's session list (SESSION_LIST over netlink, by
# tests/vm/tools/ih_tool.py), one "session handle=... tsih=..." line each,
# then "sessions=N"; and the daemon's own view through iscsictl when built.
VM_IH_TOOL=${VM_IH_TOOL:-$VM_SRC/tools/ih_tool.py}
stack_sessions() {
    python3 "$VM_IH_TOOL" list
    if [ -x "$VM_ISCSICTL" ] && [ -n "${DBUS_SYSTEM_BUS_ADDRESS:-}" ]; then
        "$VM_ISCSICTL" session list | sed 's/^/iscsictl: /' || true
    fi
}

# stack_session_count: the number of sessions the module lists.
stack_session_count() {
    python3 "$VM_IH_TOOL" list | sed -n 's/^sessions=\([0-9]*\)$/\1/p'
}

# stack_expect_sessions N: the module lists exactly N sessions.
stack_expect_sessions() {
    local want=$1 n
    stack_sessions
    n=$(stack_session_count)
    [ -n "$n" ] || vm_fail "cannot read the module's session list (ih_tool.py list)"
    [ "$n" -eq "$want" ] || vm_fail "the module lists $n sessions, expected $want"
}

# stack_no_sessions: true when the module lists no session.
stack_no_sessions() { [ "$(stack_session_count 2>/dev/null)" = 0 ]; }
