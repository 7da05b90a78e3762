# The Debian packages, installed and used the way an administrator would.
# The .debs are package.debian's (scripts/package --prebuilt: this build tree
# packaged, no second compile) in $BUILD_DIR/packages-test.
#  - dpkg -i iscsi-handoff-dkms and iscsi-target: the maintainer scripts run
#    without an error; every file is where dpkg says, the unit, the D-Bus
#    policy and the man pages say;
#  - DKMS: the guest registers the source (its postinst); the module is
#    compiled on the host (host phase dkms_build: `dkms build` of the same
#    .deb's /usr/src tree against this kernel's headers, in a private DKMS
#    tree; compiling under TCG takes minutes), then `dkms install` in the guest
#    puts it where dkms.conf says and modprobe loads it, as the unit's
#    modprobe@ dependencies do;
#  - `systemd-analyze verify` of the installed unit;
#  - the INSTALLED daemon started with the installed unit's ExecStart (no
#    systemd here: the unit is parsed, not hard-coded) under its UMask=,
#    CapabilityBoundingSet= and NoNewPrivileges= (setpriv), on the real system
#    dbus-daemon, whose only rule for org.iscsictl.target1 is the installed
#    policy file; strace records any call its SystemCallFilter= would refuse
#    (systemd would kill the daemon with SIGSYS), checked at the end;
#  - iscsictl as root works; as nobody it is refused: by the daemon for reads
#    and changes (exit 8), by the bus for what the policy does not let
#    through (Properties.Set, owning the name);
#  - a target with an ACL and a fileio LUN made with iscsictl; open-iscsi logs
#    in; 4 MiB written with O_DIRECT read back and found in the backing file;
#  - the configuration persisted to the unit's --config path and served again
#    by a restarted daemon, which keeps serving after the unit's ExecReload=;
#  - dpkg -r removes every file and the DKMS module, dpkg -P also the
#    configuration the postinst and the daemon wrote.
PKG_DIR=${PKG_DIR:-$BUILD_DIR/packages-test}
PKG_LOG=/run/pkg-install
PKG_DAEMON_PID=
PKG_BUS_PID=
PKG_DAEMON_LOG=/run/pkg-iscsi-targetd.log
# The unit says to keep fileio files in its state directory (PrivateTmp=
# would hide /var/tmp's); set from --state-dir.
PKG_BACKING=
PKG_STRACE_LOGS=()
PKG_DAEMON_MAIN=
PKG_UNIT=
PKG_ARGV=()
PKG_UMASK=

pkg_deb() {
    local f
    f=$(ls "$PKG_DIR"/"$1"_*.deb 2>/dev/null | head -n1)
    [ -n "$f" ] || vm_fail "no $1_*.deb in $PKG_DIR: run ctest -R package.debian in $BUILD_DIR first"
    echo "$f"
}

# The .debs must hold this build's binaries, not an older build's.
pkg_check_fresh() {
    local deb=$1 bin
    for bin in "$BUILD_DIR/bin/iscsi-targetd" "$BUILD_DIR/bin/iscsictl"; do
        [ ! "$bin" -nt "$deb" ] ||
            vm_fail "$deb is older than $bin: run ctest -R package.debian in $BUILD_DIR again"
    done
}

# pkg_dpkg ARGS...: runs dpkg, shows its output, and fails on a non-zero
# status or on any error or warning line (a maintainer script that fails
# quietly, a directory dpkg could not remove).
pkg_dpkg() {
    local out=$PKG_LOG/dpkg.$(date +%s%N).log rc=0
    dpkg "$@" > "$out" 2>&1 || rc=$?
    cat "$out"
    [ $rc -eq 0 ] || vm_fail "dpkg $* failed with status $rc"
    if grep -Ei 'error|warning|fail' "$out" | grep -v '^Sign'; then
        vm_fail "dpkg $* printed the errors or warnings above"
    fi
}

# ------------------------------------------------------------ installation
pkg_install() {
    local dkms_deb=$1 target_deb=$2
    dpkg -s iscsi-target >/dev/null 2>&1 && vm_fail "iscsi-target is already installed on the host: the test needs a clean system"
    # stage2 mounts a tmpfs on the daemon's state directory for the other
    # scenarios; the package brings its own directory (and dpkg -P removes it,
    # which a mount point would refuse).
    if mountpoint -q /var/lib/iscsi-target; then umount /var/lib/iscsi-target; fi
    rmdir /var/lib/iscsi-target 2>/dev/null || true
    # man-db's trigger re-indexes every manual page (minutes over 9p under
    # TCG); turning it off is the administrator's documented switch (debconf
    # man-db/auto-update) and changes nothing this test looks at.
    rm -f /var/lib/man-db/auto-update
    # One call: each dpkg run reads every installed package's file list over
    # 9p, which costs tens of seconds under TCG.
    vm_step "dpkg -i $(basename "$dkms_deb") $(basename "$target_deb")"
    pkg_dpkg -i "$dkms_deb" "$target_deb"
    vm_step "installed"
    dpkg -s iscsi-target iscsi-handoff-dkms | grep -E '^(Package|Status|Version):'
    [ "$(dpkg-query -W -f='${db:Status-Abbrev}' iscsi-target)" = "ii " ] || vm_fail "iscsi-target is not installed and configured"
    [ "$(dpkg-query -W -f='${db:Status-Abbrev}' iscsi-handoff-dkms)" = "ii " ] || vm_fail "iscsi-handoff-dkms is not installed and configured"
    # Every file with the checksum the package recorded.
    local verify
    verify=$(dpkg --verify iscsi-target iscsi-handoff-dkms 2>&1) || true
    [ -z "$verify" ] || { echo "$verify"; vm_fail "dpkg --verify reports the files above"; }
}

# pkg_unit_parse: the installed unit's ExecStart (argv), UMask and the
# modules its modprobe@ dependencies load.
PKG_UNIT_MODULES=()
pkg_unit_parse() {
    PKG_UNIT=$(dpkg -L iscsi-target | grep -E '/systemd/system/iscsi-targetd\.service$' | head -n1)
    [ -n "$PKG_UNIT" ] && [ -f "$PKG_UNIT" ] || vm_fail "iscsi-target installs no iscsi-targetd.service"
    vm_say "unit: $PKG_UNIT"
    [ "$(grep -c '^ExecStart=' "$PKG_UNIT")" -eq 1 ] || vm_fail "$PKG_UNIT has not exactly one ExecStart="
    local line
    line=$(sed -n 's/^ExecStart=//p' "$PKG_UNIT")
    # systemd's prefixes (-@:+!) change how it runs the line, not the line.
    line=$(sed 's/^[-@:+!]*//' <<<"$line")
    read -ra PKG_ARGV <<<"$line"
    vm_say "ExecStart: ${PKG_ARGV[*]}"
    [ -x "${PKG_ARGV[0]}" ] || vm_fail "ExecStart names ${PKG_ARGV[0]}, which is not an installed program"
    dpkg -L iscsi-target | grep -qx "${PKG_ARGV[0]}" || vm_fail "${PKG_ARGV[0]} is not iscsi-target's"
    PKG_UMASK=$(sed -n 's/^UMask=//p' "$PKG_UNIT" | tail -n1)
    # CapabilityBoundingSet= and NoNewPrivileges= as setpriv options: root's
    # capabilities after exec are then those of the bounding set.
    PKG_SETPRIV=()
    local caps cap
    caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$PKG_UNIT" | tail -n1)
    if [ -n "$caps" ]; then
        local set=-all
        for cap in $caps; do set+=",+$(tr 'A-Z' 'a-z' <<<"${cap#CAP_}")"; done
        PKG_SETPRIV+=(--bounding-set "$set")
    fi
    grep -qx 'NoNewPrivileges=yes' "$PKG_UNIT" && PKG_SETPRIV+=(--no-new-privs)
    vm_say "setpriv ${PKG_SETPRIV[*]} (CapabilityBoundingSet=, NoNewPrivileges=)"
    local wants
    for wants in $(sed -n 's/^Wants=//p' "$PKG_UNIT"); do
        case $wants in modprobe@*.service) PKG_UNIT_MODULES+=("${wants#modprobe@}") ;; esac
    done
    PKG_UNIT_MODULES=("${PKG_UNIT_MODULES[@]%.service}")
    vm_say "modules the unit loads (modprobe@): ${PKG_UNIT_MODULES[*]:-none}"
}

# pkg_arg OPTION: the value of OPTION on the ExecStart line.
pkg_arg() {
    local i
    for ((i = 1; i < ${#PKG_ARGV[@]}; i++)); do
        if [ "${PKG_ARGV[$i]}" = "$1" ]; then echo "${PKG_ARGV[$((i + 1))]}"; return 0; fi
        case ${PKG_ARGV[$i]} in "$1="*) echo "${PKG_ARGV[$i]#*=}"; return 0 ;; esac
    done
    return 1
}

# The paths the unit, the man pages and the D-Bus/polkit files name exist.
pkg_check_files() {
    vm_step "checking the installed files against the unit, the man pages and the D-Bus policy"
    local config state f page path
    config=$(pkg_arg --config) || vm_fail "ExecStart has no --config"
    state=$(pkg_arg --state-dir) || vm_fail "ExecStart has no --state-dir"
    [ -f "$config" ] || vm_fail "the unit's --config $config does not exist after install (postinst)"
    [ "$(stat -c %a "$config")" = 644 ] || vm_fail "$config has mode $(stat -c %a "$config"), expected 644"
    [ "$(tr -d ' \n' < "$config" | head -c1)" = "{" ] || vm_fail "$config is not a JSON object"
    [ -d "$state" ] || vm_fail "the unit's --state-dir $state does not exist after install"
    [ -d "$(dirname "$config")" ] && [ "$(stat -c %a "$(dirname "$config")")" = 755 ] ||
        vm_fail "$(dirname "$config") is not a 0755 directory"
    # WantedBy=multi-user.target: the postinst enables the unit.
    [ -L /etc/systemd/system/multi-user.target.wants/iscsi-targetd.service ] ||
        vm_fail "the postinst did not enable iscsi-targetd.service (multi-user.target.wants)"
    # Documentation=man:NAME(SECTION): every page the unit names is where man
    # looks for it (the path, not man -w: each man run costs seconds under TCG).
    local name section
    for page in $(sed -n 's/^Documentation=//p' "$PKG_UNIT") man:iscsictl\(8\); do
        case $page in
            man:*)
                page=${page#man:}
                name=${page%%(*}; section=${page#*(}; section=${section%)}
                f=/usr/share/man/man$section/$name.$section.gz
                [ -f "$f" ] || vm_fail "man:$page (the unit's Documentation= or iscsictl's) is not installed as $f"
                vm_say "man:$page -> $f" ;;
        esac
    done
    # The FILES sections name real paths (secrets.json appears with the first
    # CHAP secret; when it exists it is root's alone).
    for page in iscsi-targetd iscsictl; do
        for path in $(zcat "/usr/share/man/man8/$page.8.gz" | sed -n '/^\.SH FILES/,/^\.SH /p' | sed -n 's/^\.I \(\/[^ ]*\).*/\1/p'); do
            case $path in
                */secrets.json) [ ! -e "$path" ] || [ "$(stat -c %a "$path")" = 600 ] ||
                                    vm_fail "$path has mode $(stat -c %a "$path"), $page(8) says 0600" ;;
                *) [ -e "$path" ] || vm_fail "$page(8) FILES names $path, which is not installed" ;;
            esac
            vm_say "$page(8) FILES: $path"
        done
    done
    # The D-Bus policy where dbus-daemon reads system policies, and the polkit
    # action where polkitd reads actions; both parse as XML.
    local policy=/usr/share/dbus-1/system.d/org.iscsictl.target1.conf
    local action=/usr/share/polkit-1/actions/org.iscsictl.target1.policy
    # One interpreter for both (each python3 start costs seconds under TCG).
    vm_step "systemd-analyze verify $PKG_UNIT"
    # systemd's own check of the unit (directives, the ExecStart program).
    systemd-analyze verify --man=no "$PKG_UNIT" || vm_fail "systemd-analyze verify $PKG_UNIT fails"
    python3 -c 'import sys, xml.dom.minidom as m; [m.parse(p) for p in sys.argv[1:]]' "$policy" "$action" ||
        vm_fail "the D-Bus policy $policy or the polkit action $action is missing or not valid XML"
    grep -q '<includedir>system.d</includedir>' /usr/share/dbus-1/system.conf ||
        vm_fail "dbus-daemon's system.conf does not include /usr/share/dbus-1/system.d"
    grep -q 'id="org.iscsictl.target1.manage"' "$action" || vm_fail "$action does not define org.iscsictl.target1.manage"
    bash -n /usr/share/bash-completion/completions/iscsictl || vm_fail "the bash completion does not parse"
    [ "$(command -v iscsictl)" = /usr/bin/iscsictl ] || vm_fail "iscsictl on PATH is $(command -v iscsictl), not /usr/bin/iscsictl"
}

# ------------------------------------------------------------------- DKMS
pkg_dkms() {
    local kver conf name version dest
    kver=$(uname -r)
    conf=$(dpkg -L iscsi-handoff-dkms | grep '/dkms.conf$' | head -n1)
    [ -f "$conf" ] || vm_fail "iscsi-handoff-dkms installs no dkms.conf"
    name=$(sed -n 's/^PACKAGE_NAME="\(.*\)"$/\1/p' "$conf")
    version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$conf")
    dest=$(sed -n 's/^DEST_MODULE_LOCATION\[0\]="\(.*\)"$/\1/p' "$conf")
    vm_step "DKMS: $name/$version from $(dirname "$conf")"
    # The postinst added the source; it could not build here (no headers in
    # the guest: /lib/modules/$kver is the image's).
    dkms status -m "$name" -v "$version" | tee "$PKG_LOG/dkms-status"
    grep -q "^$name/$version" "$PKG_LOG/dkms-status" || vm_fail "the postinst did not register $name/$version with dkms"
    echo "$kver" > "$VM_JOB_DIR/guest-kernel-release"
    cut -d' ' -f1 /proc/modules > "$VM_JOB_DIR/guest-modules"
    pkg_deb iscsi-handoff-dkms > "$VM_JOB_DIR/dkms-deb"
    vm_host_phase dkms_build 400
    # dkms runs a full depmod on install and again on remove (the prerm);
    # over the 9p root under TCG that reads 4,000 modules and took 215 s. The
    # host phase made a module tree with only what this guest loads (what is
    # loaded now, LIO's core and backstores, open-iscsi's initiator, the disk
    # driver): the same depmod then takes seconds. Any other module is missing.
    [ -f "$VM_JOB_DIR/modroot/lib/modules/$kver/modules.dep" ] || vm_fail "the host phase made no module tree"
    mount --bind "$VM_JOB_DIR/modroot/lib/modules/$kver" "/lib/modules/$kver"
    vm_say "/lib/modules/$kver: $(find "/lib/modules/$kver" -name '*.ko' | wc -l) modules (the host's trimmed tree)"
    local built=$VM_JOB_DIR/dkms/tree/$name/$version/$kver
    [ -f "$built/$(uname -m)/module/iscsi_handoff.ko" ] || vm_fail "the host's dkms build left no $built/$(uname -m)/module/iscsi_handoff.ko"
    cp -a "$built" "/var/lib/dkms/$name/$version/"
    vm_step "dkms install -m $name -v $version -k $kver (the host's build)"
    dkms install -m "$name" -v "$version" -k "$kver" 2>&1 | tee "$PKG_LOG/dkms-install"
    [ "${PIPESTATUS[0]}" -eq 0 ] || vm_fail "dkms install failed"
    dkms status -m "$name" -v "$version" -k "$kver" | grep -q ': installed' || vm_fail "dkms does not list $name/$version as installed"
    PKG_MODULE=/lib/modules/$kver$dest/iscsi_handoff.ko
    [ -f "$PKG_MODULE" ] || vm_fail "the module is not at $PKG_MODULE (dkms.conf DEST_MODULE_LOCATION)"
    [ "$(modinfo -F vermagic "$PKG_MODULE" | cut -d' ' -f1)" = "$kver" ] || vm_fail "$PKG_MODULE is not built for $kver"
    # What systemd's modprobe@.service runs for each modprobe@ dependency.
    local m
    for m in "${PKG_UNIT_MODULES[@]}"; do
        vm_say "modprobe -ab $m (Wants=modprobe@$m.service)"
        modprobe -ab "$m"
    done
    grep -q '^iscsi_handoff ' /proc/modules || vm_fail "the unit's modprobe@ dependencies do not load iscsi_handoff"
    [ "$(modinfo -n iscsi_handoff)" = "$PKG_MODULE" ] || vm_fail "modprobe resolves iscsi_handoff to $(modinfo -n iscsi_handoff)"
    vm_on_exit "rmmod iscsi_handoff"
}

# ---------------------------------------------------------- bus and daemon
# The real system bus (/usr/share/dbus-1/system.conf: its own deny-all
# default plus every file in system.d), not the harness's allow-all one.
pkg_bus_start() {
    vm_step "starting the system dbus-daemon (system.conf + system.d)"
    unset DBUS_SYSTEM_BUS_ADDRESS
    mkdir -p /run/dbus
    rm -f /run/dbus/pid /run/dbus/system_bus_socket
    PKG_BUS_PID=$(dbus-daemon --system --fork --print-pid)
    vm_on_exit "kill $PKG_BUS_PID"
    vm_wait_for 20 test -S /run/dbus/system_bus_socket || vm_fail "the system bus does not come up"
}

pkg_daemon_start() {
    vm_step "starting the installed daemon: ${PKG_ARGV[*]}${PKG_UMASK:+ (umask $PKG_UMASK)}"
    # No NOTIFY_SOCKET (Type=notify without systemd); no journal socket, so
    # the daemon logs to stderr.
    # strace records every system call the unit's SystemCallFilter= would
    # refuse (tools/unit_syscalls.py; checked at the end); PKG_DAEMON_PID is
    # strace's, which exits with the daemon's status, PKG_DAEMON_MAIN the daemon's.
    local trace=$PKG_LOG/strace.${#PKG_STRACE_LOGS[@]} expr
    PKG_STRACE_LOGS+=("$trace")
    expr=$(python3 "$VM_SRC/tools/unit_syscalls.py" expr "$PKG_UNIT")
    ( [ -z "$PKG_UMASK" ] || umask "$PKG_UMASK"
      exec setsid setpriv "${PKG_SETPRIV[@]}" -- strace -f -q --seccomp-bpf -e "$expr" -o "$trace" -- "${PKG_ARGV[@]}"
    ) >> "$PKG_DAEMON_LOG" 2>&1 &
    PKG_DAEMON_PID=$!
    vm_wait_for 10 pkg_find_main || vm_fail "strace started no iscsi-targetd"
    vm_on_exit pkg_daemon_stop
    VM_FAILURE_LOGS+=("$PKG_DAEMON_LOG")
    # The name is ours only if the installed policy lets root own it: the
    # system bus's own default denies every name.
    if ! vm_wait_for 30 pkg_name_owned; then
        tail -n 20 "$PKG_DAEMON_LOG"
        pkg_name_owned || true
        vm_fail "iscsi-targetd does not own org.iscsictl.target1 on the system bus after 30 s"
    fi
    vm_say "iscsi-targetd (pid $PKG_DAEMON_PID) owns org.iscsictl.target1"
}

pkg_find_main() {
    PKG_DAEMON_MAIN=$(pgrep -P "$PKG_DAEMON_PID" | head -n1)
    [ -n "$PKG_DAEMON_MAIN" ]
}

pkg_name_owned() {
    busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
        GetNameOwner s org.iscsictl.target1
}

# SIGTERM, as systemctl stop sends (KillMode=mixed: to the main process).
pkg_daemon_stop() {
    [ -n "$PKG_DAEMON_PID" ] || return 0
    vm_step "stopping iscsi-targetd (SIGTERM)"
    local limit pid=$PKG_DAEMON_PID
    limit=$(sed -n 's/^TimeoutStopSec=//p' "$PKG_UNIT" | tail -n1)
    PKG_DAEMON_PID=
    vm_stop_daemon "$pid" "${PKG_DAEMON_MAIN:-$pid}" "${limit:-15}" "TimeoutStopSec=${limit:-15}"
}

# as_nobody CMD...: runs CMD as an unprivileged user; prints its output and
# leaves its status in PKG_RC.
PKG_RC=0
as_nobody() {
    PKG_RC=0
    setpriv --reuid=nobody --regid=nogroup --clear-groups --reset-env -- "$@" > "$PKG_LOG/nobody.out" 2>&1 || PKG_RC=$?
    sed 's/^/  nobody: /' "$PKG_LOG/nobody.out"
}

pkg_check_access() {
    vm_step "iscsictl status as root"
    iscsictl status | tee "$PKG_LOG/status"
    grep -q "^Config: *$(pkg_arg --config) " "$PKG_LOG/status" || vm_fail "iscsictl status does not name the unit's --config"
    if grep -q '^DataPath: *unavailable' "$PKG_LOG/status"; then vm_fail "the daemon does not see the DKMS module"; fi

    vm_step "as nobody: refused as the policy and iscsi-targetd(8) say"
    as_nobody iscsictl status
    [ $PKG_RC -eq 8 ] || vm_fail "iscsictl status as nobody: status $PKG_RC, expected 8 (PermissionDenied)"
    as_nobody iscsictl target create iqn.2026-12.org.iscsi-target:vm.nobody
    [ $PKG_RC -eq 8 ] || vm_fail "iscsictl target create as nobody: status $PKG_RC, expected 8 (PermissionDenied)"
    # The bus itself, before the daemon sees anything: Properties.Set is not
    # in the policy's default context, and only root may own the name.
    as_nobody busctl --system call org.iscsictl.target1 /org/iscsictl/target1 \
        org.freedesktop.DBus.Properties Set ssv org.iscsictl.target1.Manager Nothing s x
    [ $PKG_RC -ne 0 ] && grep -qi 'access denied\|AccessDenied' "$PKG_LOG/nobody.out" ||
        vm_fail "the bus let nobody's Properties.Set through to the daemon"
    as_nobody busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
        RequestName su org.iscsictl.target1 4
    [ $PKG_RC -ne 0 ] && grep -qi 'access denied\|AccessDenied\|not allowed to own' "$PKG_LOG/nobody.out" ||
        vm_fail "the bus did not refuse org.iscsictl.target1 to nobody"
    iscsictl target list --json | python3 -c 'import json,sys; sys.exit(len(json.load(sys.stdin)) != 0)' ||
        vm_fail "nobody's refused target create left a target behind"
}

# ------------------------------------------------------------------ a LUN
pkg_configure_target() {
    PKG_BACKING=$(pkg_arg --state-dir)/pkg-disk0.img
    vm_step "a target, an ACL and a fileio LUN with iscsictl"
    rm -f "$PKG_BACKING"
    iscsictl backstore create disk0 --type fileio --path "$PKG_BACKING" --size 64M
    iscsictl target create "$VM_TARGET_IQN"
    iscsictl tpg create "$VM_TARGET_IQN" 1
    iscsictl portal create "$VM_TARGET_IQN" 127.0.0.1
    iscsictl lun create "$VM_TARGET_IQN" 0 disk0
    iscsictl acl create "$VM_TARGET_IQN" "$VM_INITIATOR_IQN"
    iscsictl lun list "$VM_TARGET_IQN"
    vm_wait_for 30 vm_listening 3260 || vm_fail "iscsi-targetd does not listen on :3260 after portal create"
}

pkg_io() {
    oi_start
    oi_discover 127.0.0.1:3260
    oi_login
    [ "$(iscsictl session list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] ||
        vm_fail "iscsictl does not list the one session"
    vm_step "4 MiB written to /dev/$VM_DISK (O_DIRECT), read back"
    head -c $((4 * 1024 * 1024)) /dev/urandom > /tmp/pkg-pattern
    dd if=/tmp/pkg-pattern of="/dev/$VM_DISK" bs=1M count=4 oflag=direct status=none
    dd if="/dev/$VM_DISK" of=/tmp/pkg-back bs=1M count=4 iflag=direct status=none
    cmp /tmp/pkg-pattern /tmp/pkg-back || vm_fail "the data read back differs from what was written"
    # The write reached the backstore iscsictl made, not some other LUN.
    sync
    cmp -n $((4 * 1024 * 1024)) /tmp/pkg-pattern "$PKG_BACKING" || vm_fail "$PKG_BACKING does not hold the data written"
    vm_say "4 MiB verified through the initiator and in $PKG_BACKING"
    rm -f /tmp/pkg-pattern /tmp/pkg-back
    oi_logout
}

# The configuration is in the unit's --config file and comes back after a
# restart (systemctl restart: SIGTERM, ExecStart again).
pkg_check_persisted() {
    local config
    config=$(pkg_arg --config)
    vm_step "the configuration in $config"
    python3 - "$config" "$VM_TARGET_IQN" "$VM_INITIATOR_IQN" "$PKG_BACKING" <<'EOF' || vm_fail "$config does not hold what iscsictl created"
import json, sys
path, target, initiator, backing = sys.argv[1:]
text = open(path).read()
json.loads(text)
missing = [s for s in (target, initiator, backing, '"disk0"') if s not in text]
if missing:
    print(text)
    sys.exit(f"missing from {path}: {missing}")
print(f"{path}: {len(text)} bytes, names {target}, {initiator}, {backing}")
EOF
    [ "$(stat -c %a "$config")" = 644 ] || vm_fail "$config has mode $(stat -c %a "$config") after the daemon rewrote it"
    pkg_daemon_stop
    pkg_daemon_start
    vm_wait_for 30 vm_listening 3260 || vm_fail "the restarted daemon does not listen on :3260"
    iscsictl lun list "$VM_TARGET_IQN" --json | tee "$PKG_LOG/luns.json"
    python3 -c 'import json,sys; sys.exit(len(json.load(open(sys.argv[1]))) != 1)' "$PKG_LOG/luns.json" ||
        vm_fail "the restarted daemon does not serve LUN 0 of $VM_TARGET_IQN"
    iscsictl acl list "$VM_TARGET_IQN" | grep -q "$VM_INITIATOR_IQN" || vm_fail "the restarted daemon lost the ACL"
    pkg_reload
}

# systemctl reload: the unit's ExecReload= with $MAINPID; the daemon stays,
# re-reads its files and still serves the LUN.
pkg_reload() {
    local line argv=() word
    line=$(sed -n 's/^ExecReload=//p' "$PKG_UNIT" | tail -n1)
    [ -n "$line" ] || return 0
    line=$(sed 's/^[-@:+!]*//' <<<"$line")
    for word in $line; do
        case $word in
            '$MAINPID'|'${MAINPID}') argv+=("$PKG_DAEMON_MAIN") ;;
            *) argv+=("$word") ;;
        esac
    done
    vm_step "reload: ExecReload=${line} -> ${argv[*]}"
    "${argv[@]}" || vm_fail "ExecReload= failed: ${argv[*]}"
    sleep 1
    kill -0 "$PKG_DAEMON_MAIN" 2>/dev/null || vm_fail "iscsi-targetd exited on ExecReload="
    vm_wait_for 20 pkg_name_owned || vm_fail "iscsi-targetd left the bus on ExecReload="
    iscsictl lun list "$VM_TARGET_IQN" | grep -q disk0 || vm_fail "after ExecReload= the daemon does not serve LUN 0"
}

# ----------------------------------------------------------------- removal
pkg_remove() {
    local config files f left=()
    config=$(pkg_arg --config)
    dpkg -L iscsi-target iscsi-handoff-dkms | sort -u > "$PKG_LOG/files"
    # What systemctl stop and the module's removal would do first.
    pkg_daemon_stop
    vm_step "the unit's SystemCallFilter= against every system call the daemon made"
    cat "${PKG_STRACE_LOGS[@]}" > "$PKG_LOG/strace.all"
    python3 "$VM_SRC/tools/unit_syscalls.py" "$PKG_UNIT" "$PKG_LOG/strace.all" ||
        vm_fail "under systemd the daemon would be killed (SIGSYS) by the unit's SystemCallFilter="
    handoff_unload
    vm_step "dpkg -r iscsi-target iscsi-handoff-dkms"
    pkg_dpkg -r iscsi-target iscsi-handoff-dkms
    while read -r f; do
        # Directories (and /lib, a symlink to one with merged /usr) are shared.
        [ -d "$f" ] && continue
        [ -e "$f" ] || [ -L "$f" ] || continue
        left+=("$f")
    done < "$PKG_LOG/files"
    [ ${#left[@]} -eq 0 ] || { printf '  left: %s\n' "${left[@]}"; vm_fail "dpkg -r left files behind"; }
    [ ! -e "$PKG_MODULE" ] || vm_fail "dkms remove (the prerm) left $PKG_MODULE"
    [ -z "$(dkms status -m iscsi-handoff 2>/dev/null)" ] || { dkms status; vm_fail "dkms still knows iscsi-handoff after dpkg -r"; }
    modprobe -n iscsi_handoff 2>/dev/null && vm_fail "modprobe still finds iscsi_handoff after dpkg -r"
    [ -f "$config" ] || vm_fail "dpkg -r removed $config (only purge may)"
    [ -f "$PKG_BACKING" ] || vm_fail "dpkg -r removed the LUN's backing file $PKG_BACKING"
    vm_say "removed; $config and the backing file kept"
    # The administrator's data goes by hand; what is left is the package's.
    rm -f "$PKG_BACKING"

    # iscsi-handoff-dkms has no configuration: dpkg -r left nothing to purge.
    [ "$(dpkg-query -W -f='${db:Status-Status}' iscsi-handoff-dkms 2>/dev/null || true)" != installed ] ||
        vm_fail "iscsi-handoff-dkms is still installed after dpkg -r"
    vm_step "dpkg -P iscsi-target"
    pkg_dpkg -P iscsi-target
    for f in "$(dirname "$config")" /var/lib/iscsi-target /etc/systemd/system/multi-user.target.wants/iscsi-targetd.service; do
        [ ! -e "$f" ] && [ ! -L "$f" ] || { ls -la "$f"; vm_fail "dpkg -P left $f"; }
    done
    dpkg -s iscsi-target >/dev/null 2>&1 && vm_fail "dpkg still knows iscsi-target after purge"
    vm_say "purged: no file of either package is left"
}

guest_main() {
    local dkms_deb target_deb
    mkdir -p "$PKG_LOG"
    dkms_deb=$(pkg_deb iscsi-handoff-dkms)
    target_deb=$(pkg_deb iscsi-target)
    pkg_check_fresh "$target_deb"
    pkg_install "$dkms_deb" "$target_deb"
    pkg_unit_parse
    pkg_check_files
    pkg_dkms
    pkg_bus_start
    pkg_daemon_start
    pkg_check_access
    pkg_configure_target
    pkg_io
    pkg_check_persisted
    pkg_remove
}

# ------------------------------------------------------------- host phase
# Compiles the DKMS source of the .deb the guest installed against the
# guest's kernel headers, in a private DKMS tree in the job directory. The one
# thing it leaves on the host: dkms signs with /var/lib/dkms/mok.key and
# creates that key (and its certificate) when the host has none, as any DKMS
# package install would; the guest's kernel does not check the signature.
host_dkms_build() {
    local kver deb root tree conf name version
    kver=$(cat "$VM_JOB_DIR/guest-kernel-release")
    deb=$(cat "$VM_JOB_DIR/dkms-deb")
    [ -d "/lib/modules/$kver/build" ] || { echo "no kernel headers for $kver on the host (linux-headers-$kver)"; return 1; }
    root=$VM_JOB_DIR/dkms/root
    tree=$VM_JOB_DIR/dkms/tree
    rm -rf "$VM_JOB_DIR/dkms"
    mkdir -p "$root" "$tree"
    dpkg-deb -x "$deb" "$root"
    conf=$(ls "$root"/usr/src/*/dkms.conf)
    name=$(sed -n 's/^PACKAGE_NAME="\(.*\)"$/\1/p' "$conf")
    version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$conf")
    echo "dkms build -m $name -v $version -k $kver (source $(dirname "$conf"))"
    local start=$SECONDS
    nice dkms build -m "$name" -v "$version" -k "$kver" --dkmstree "$tree" --sourcetree "$root/usr/src"
    echo "dkms build took $((SECONDS - start)) s"

    # The guest's module tree: the modules it has loaded and the ones the
    # scenario loads, with their dependencies, from the image's tree.
    local image modroot m f
    image=$(vm_kernel_dir "$kver")
    modroot=$VM_JOB_DIR/modroot/lib/modules/$kver
    mkdir -p "$modroot"
    cp "$image/lib/modules/$kver"/modules.order "$image/lib/modules/$kver"/modules.builtin \
       "$image/lib/modules/$kver"/modules.builtin.modinfo "$modroot"/
    # What the built module depends on, and the crc32c implementations that
    # libcrc32c asks the crypto API for at run time.
    local depends
    depends=$(modinfo -F depends "$(find "$tree" -name iscsi_handoff.ko | head -n1)" | tr ',' ' ')
    for m in $(cat "$VM_JOB_DIR/guest-modules") $depends crc32c_generic crc32c_intel \
             target_core_mod target_core_file target_core_iblock target_core_pscsi target_core_user \
             iscsi_tcp sd_mod; do
        modprobe -d "$image" -S "$kver" --show-depends "$m" | sed -n 's/^insmod \([^ ]*\).*/\1/p'
    done | sort -u | while read -r f; do
        f=${f#"$image/lib/modules/$kver/"}
        mkdir -p "$modroot/$(dirname "$f")"
        cp "$image/lib/modules/$kver/$f" "$modroot/$f"
    done
    depmod -b "$VM_JOB_DIR/modroot" "$kver"
    echo "module tree for the guest: $(find "$modroot" -name '*.ko' | wc -l) modules in $modroot"
}
