# Shared by the host-side scripts of the guest harness (sourced, not run).
#
# Everything the harness downloads or builds lives under $VM_BUILD
# (build/vm by default), so a second run reuses it and `git clean` never
# has to know about it.

VM_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)     # tests/vm
REPO_ROOT=$(cd "$VM_SRC/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$REPO_ROOT/build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$REPO_ROOT/$BUILD_DIR ;; esac
VM_BUILD=${VM_BUILD:-$BUILD_DIR/vm}

vm_log() { printf 'vm: %s\n' "$*" >&2; }
vm_die() { printf 'vm: error: %s\n' "$*" >&2; exit 2; }

# The kernel release the project builds its module against: the one of the
# installed linux-headers-*-amd64 package (not `uname -r`: the build machine
# runs some other kernel that cannot load modules at all). When several are
# installed, the newest wins; VM_KVER overrides.
vm_kernel_release() {
    if [ -n "${VM_KVER:-}" ]; then
        printf '%s\n' "$VM_KVER"
        return
    fi
    local kver
    kver=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' 'linux-headers-*-amd64' 2>/dev/null |
        awk '$1 == "ii" && $2 ~ /^linux-headers-[0-9].*-amd64$/ { sub(/^linux-headers-/, "", $2); print $2 }' |
        sort -V | tail -n1)
    [ -n "$kver" ] || vm_die "no linux-headers-<release>-amd64 package is installed (scripts/bootstrap installs linux-headers-amd64)"
    printf '%s\n' "$kver"
}

# Where fetch-kernel leaves the extracted image of release $1.
vm_kernel_dir() { printf '%s/kernel/%s\n' "$VM_BUILD" "$1"; }

# A TCP port on 127.0.0.1 nobody listens on right now. QEMU binds it a moment
# later; `run` retries with another port if it lost the race.
vm_free_port() {
    local port tries=0
    while [ $tries -lt 200 ]; do
        port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
        if ! ss -Htln "sport = :$port" 2>/dev/null | grep -q .; then
            printf '%s\n' "$port"
            return 0
        fi
        tries=$((tries + 1))
    done
    vm_die "found no free TCP port on 127.0.0.1"
}
